//! `git dvc install --server`: the pre-receive hook, where this server runs hooks.
//!
//! Plain git runs `hooks/pre-receive` (or `core.hooksPath`); forges run their own:
//! - Gitea / Forgejo: `hooks/pre-receive` is a driver the forge rewrites, which runs every
//!   `hooks/pre-receive.d/*` with its own copy of stdin; git-dvc goes in as
//!   `pre-receive.d/git-dvc` and the driver stays.
//! - GitLab (Gitaly): git runs Gitaly's hooks (Gitaly sets `core.hooksPath` for each push),
//!   which run `custom_hooks/pre-receive.d/*`; `hooks/pre-receive` is never run. git-dvc
//!   goes in `custom_hooks/pre-receive.d/git-dvc`, and the message says how to apply it
//!   with `gitaly hooks set` and for every repository.
//! - gitolite: it owns the hooks (a common hook or `option hook.pre-receive` replaces a
//!   hand-installed one), so nothing is written: the message gives gitolite's steps.
//!
//! Never "installed" where pushes would go unchecked, never a forge's own hook replaced.

use std::fs;
use std::path::{Path, PathBuf};

use super::install::{git_dir, hooks_dir, present, write_file, ExistingHook};

/// The server hook, as shipped in `hooks/pre-receive` (a template, see
/// [`FALLBACK_PLACEHOLDER`]).
pub const PRE_RECEIVE_HOOK: &str = include_str!("../../hooks/pre-receive");
/// Every pre-receive hook git-dvc has shipped.
const SHIPPED_PRE_RECEIVE: &[&str] = &[
    PRE_RECEIVE_HOOK,
    include_str!("../../hooks/previous/pre-receive.1"),
    include_str!("../../hooks/previous/pre-receive.2"),
];
/// In the server hook, replaced by the absolute path of the installing binary: hooks run
/// with the server's PATH, which often lacks git-dvc.
const FALLBACK_PLACEHOLDER: &str = "@GIT_DVC@";
/// A hook kept by `--chain`, run first by git-dvc's (the name the shipped hook looks for).
const CHAINED_NAME: &str = "pre-receive.before-git-dvc";
/// git-dvc's file in a `pre-receive.d` directory.
const DROP_IN_NAME: &str = "git-dvc";

/// Where this repository's server runs pre-receive hooks.
enum Layout {
    /// Plain git: `hooks/pre-receive` in the directory git uses.
    Plain { hooks: PathBuf },
    /// Gitea / Forgejo: its driver runs `hooks/pre-receive.d/*`.
    Gitea { drop_ins: PathBuf },
    /// GitLab's Gitaly: `custom_hooks/pre-receive.d/*`; `hooks/` is ignored.
    GitLab { drop_ins: PathBuf },
    /// gitolite manages the hooks.
    Gitolite,
}

pub fn install(force: bool, chain: bool) -> Result<String, String> {
    let git_dir = git_dir()?;
    let hooks = hooks_dir()?;
    let layout = detect(&git_dir, &hooks)?;
    let message = match layout {
        Layout::Gitolite => return Err(gitolite_steps(&git_dir)),
        Layout::Plain { hooks } => install_plain(&hooks, force, chain)?,
        Layout::Gitea { drop_ins } => {
            let hook = install_drop_in(&drop_ins, force)?;
            format!(
                "git-dvc pre-receive hook installed in {} (Gitea/Forgejo: its hooks/pre-receive runs every pre-receive.d/* hook; that driver is the forge's and stays as it is)",
                hook.display()
            )
        }
        Layout::GitLab { drop_ins } => {
            let hook = install_drop_in(&drop_ins, force)?;
            format!(
                "git-dvc pre-receive hook installed in {} (GitLab: Gitaly runs custom_hooks/pre-receive.d/*, never hooks/pre-receive){}",
                hook.display(),
                gitlab_steps(&git_dir)
            )
        }
    };
    Ok(format!(
        "{message}{}",
        storage_note(&git_dir.join("dvc").join("config"))?
    ))
}

/// `git dvc uninstall --server`: removes git-dvc's pre-receive hook where `install
/// --server` put it (only a hook that is exactly one git-dvc shipped, as for the client
/// hooks) and puts a hook kept by `--chain` back. Returns what was removed and the hooks
/// left in place because they are not git-dvc's.
pub fn uninstall() -> Result<(Vec<String>, Vec<String>), String> {
    let git_dir = git_dir()?;
    let hooks = hooks_dir()?;
    let mut removed = Vec::new();
    let mut refused = Vec::new();
    match detect(&git_dir, &hooks)? {
        Layout::Gitolite => return Err(gitolite_removal(&git_dir)),
        Layout::Plain { hooks } => {
            let hook = hooks.join("pre-receive");
            let chained = hooks.join(CHAINED_NAME);
            match ExistingHook::read(&hook, &is_shipped) {
                Ok(ExistingHook::Ours(_)) => {
                    fs::remove_file(&hook)
                        .map_err(|e| format!("cannot remove {}: {e}", hook.display()))?;
                    if present(&chained) {
                        fs::rename(&chained, &hook).map_err(|e| {
                            format!(
                                "cannot put the previous hook {} back: {e}",
                                chained.display()
                            )
                        })?;
                        removed.push(format!(
                            "git-dvc pre-receive hook removed; the previous hook is back in {}",
                            hook.display()
                        ));
                    } else {
                        removed.push(format!(
                            "git-dvc pre-receive hook removed from {}",
                            hook.display()
                        ));
                    }
                }
                Ok(ExistingHook::None) => {}
                Ok(_) | Err(_) => refused.push(format!(
                    "{} is not git-dvc's pre-receive hook; left it in place",
                    hook.display()
                )),
            }
        }
        Layout::Gitea { drop_ins } => {
            remove_drop_in(&drop_ins, "", &mut removed, &mut refused)?;
        }
        Layout::GitLab { drop_ins } => {
            let note = format!(
                " (GitLab: where custom hooks are applied with `gitaly hooks set`, apply {} again the same way)",
                git_dir.join("custom_hooks").display()
            );
            remove_drop_in(&drop_ins, &note, &mut removed, &mut refused)?;
        }
    }
    if removed.is_empty() && refused.is_empty() {
        removed.push(format!(
            "no git-dvc pre-receive hook installed in {}",
            git_dir.display()
        ));
    }
    Ok((removed, refused))
}

/// Removes `drop_ins/git-dvc` when it is git-dvc's.
fn remove_drop_in(
    drop_ins: &Path,
    note: &str,
    removed: &mut Vec<String>,
    refused: &mut Vec<String>,
) -> Result<(), String> {
    let hook = drop_ins.join(DROP_IN_NAME);
    match ExistingHook::read(&hook, &is_shipped) {
        Ok(ExistingHook::Ours(_)) => {
            fs::remove_file(&hook).map_err(|e| format!("cannot remove {}: {e}", hook.display()))?;
            removed.push(format!(
                "git-dvc pre-receive hook removed from {}{note}",
                hook.display()
            ));
        }
        Ok(ExistingHook::None) => {}
        Ok(_) | Err(_) => refused.push(format!(
            "{} is not git-dvc's pre-receive hook; left it in place",
            hook.display()
        )),
    }
    Ok(())
}

/// Where git-dvc's server hook is in this repository, if anywhere (for a plain `git dvc
/// uninstall`, which removes client hooks only, to point at `--server`).
pub fn installed_hook() -> Option<PathBuf> {
    let git_dir = git_dir().ok()?;
    let hooks = hooks_dir().ok()?;
    let hook = match detect(&git_dir, &hooks).ok()? {
        Layout::Gitolite => return None,
        Layout::Plain { hooks } => hooks.join("pre-receive"),
        Layout::Gitea { drop_ins } | Layout::GitLab { drop_ins } => drop_ins.join(DROP_IN_NAME),
    };
    matches!(
        ExistingHook::read(&hook, &is_shipped),
        Ok(ExistingHook::Ours(_))
    )
    .then_some(hook)
}

fn gitolite_removal(git_dir: &Path) -> String {
    format!(
        "nothing removed: gitolite manages the hooks of {} (`git dvc install --server` wrote none there). As the gitolite user, remove git-dvc where you added it: ~/local/hooks/common/pre-receive, or `option hook.pre-receive = git-dvc` in gitolite-admin's conf/gitolite.conf and ~/local/hooks/repo-specific/git-dvc; then run `gitolite setup --hooks-only`.",
        git_dir.display()
    )
}

/// The hook `--print` and `--output` write.
pub fn hook_text() -> Result<String, String> {
    server_hook_text()
}

/// Whether `text` is a pre-receive hook git-dvc wrote (any version, any fallback path).
pub fn is_shipped(text: &str) -> bool {
    SHIPPED_PRE_RECEIVE
        .iter()
        .any(|template| matches_template(text, template))
}

fn detect(git_dir: &Path, hooks: &Path) -> Result<Layout, String> {
    if is_gitolite(git_dir) {
        return Ok(Layout::Gitolite);
    }
    if is_gitlab(git_dir) {
        return Ok(Layout::GitLab {
            drop_ins: git_dir.join("custom_hooks").join("pre-receive.d"),
        });
    }
    let hook = hooks.join("pre-receive");
    let drop_ins = hooks.join("pre-receive.d");
    // The forge's own hook, known by what it runs: never somebody's hook to replace.
    let text = fs::read_to_string(&hook).ok();
    if runs_gitaly(&hook, text.as_deref()) {
        return Ok(Layout::GitLab {
            drop_ins: git_dir.join("custom_hooks").join("pre-receive.d"),
        });
    }
    if let Some(text) = &text {
        if text.contains(GITEA_MARK) || (drop_ins.is_dir() && runs_drop_ins(text)) {
            return Ok(Layout::Gitea { drop_ins });
        }
    }
    Ok(Layout::Plain {
        hooks: hooks.to_path_buf(),
    })
}

/// The first lines of Gitea's (and Forgejo's) generated hooks.
const GITEA_MARK: &str = "AUTO GENERATED BY GITEA";

/// Gitaly's hook: `gitaly-hooks` itself (a symlink to it, as Gitaly lays its hooks out) or
/// a script that runs it.
fn runs_gitaly(hook: &Path, text: Option<&str>) -> bool {
    let linked = fs::read_link(hook).is_ok_and(|t| t.to_string_lossy().contains("gitaly-hooks"));
    linked || text.is_some_and(|t| t.contains("gitaly-hooks"))
}

/// Gitea's (and Forgejo's) generated driver, or any hook that runs `pre-receive.d/*` the
/// same way (each with its own copy of stdin is the driver's job, not ours).
fn runs_drop_ins(text: &str) -> bool {
    text.contains(GITEA_MARK)
        || (text.contains(".d/*") && (text.contains("hookname") || text.contains("pre-receive.d")))
}

/// gitolite marks every repository it manages: `gl-conf`, and its `update` hook.
fn is_gitolite(git_dir: &Path) -> bool {
    if git_dir.join("gl-conf").exists() {
        return true;
    }
    let update = git_dir.join("hooks").join("update");
    let target = fs::read_link(&update).map(|t| t.display().to_string());
    target.is_ok_and(|t| t.contains("gitolite"))
        || fs::read_to_string(&update).is_ok_and(|t| t.contains("gitolite"))
}

/// Gitaly records the project in the repository's config (`gitlab.fullpath`) and keeps
/// repositories under `@hashed/` (or Praefect's `@cluster/`).
fn is_gitlab(git_dir: &Path) -> bool {
    let path = git_dir.display().to_string();
    path.contains("/@hashed/")
        || path.contains("/@cluster/")
        || fs::read_to_string(git_dir.join("config")).is_ok_and(|c| {
            c.lines().any(|l| {
                l.trim()
                    .trim_matches(['[', ']'])
                    .eq_ignore_ascii_case("gitlab")
            })
        })
}

fn install_plain(hooks: &Path, force: bool, chain: bool) -> Result<String, String> {
    fs::create_dir_all(hooks).map_err(|e| format!("cannot create {}: {e}", hooks.display()))?;
    let hook = hooks.join("pre-receive");
    let chained = hooks.join(CHAINED_NAME);
    let mut note = String::new();
    match ExistingHook::read_for(&hook, &is_shipped, "git dvc install --server")? {
        ExistingHook::None | ExistingHook::Empty | ExistingHook::Ours(_) => {}
        _ if force => {}
        _ if chain => {
            if present(&chained) {
                return Err(format!(
                    "{} already exists; remove it or use --force to replace the current hook",
                    chained.display()
                ));
            }
            fs::rename(&hook, &chained)
                .map_err(|e| format!("cannot move the existing hook aside: {e}"))?;
            note = format!(
                " (the previous hook now runs first, from {}, with its own copy of git's ref list)",
                chained.display()
            );
        }
        existing => {
            return Err(format!(
                "hook already exists: {}\n\n{}\nTo resolve this, either:\n  1: run `git dvc install --server --chain` to keep it and run git-dvc after it, or\n  2: run `git dvc install --server --force` to replace it.",
                hook.display(),
                existing.shown()
            ));
        }
    }
    write_file(&hook, &server_hook_text()?)?;
    Ok(format!(
        "git-dvc pre-receive hook installed in {}{note}{}",
        hook.display(),
        shared_warning(hooks)
    ))
}

/// `drop_ins/git-dvc`: our own name, so only a file git-dvc did not write there needs
/// `--force`.
fn install_drop_in(drop_ins: &Path, force: bool) -> Result<PathBuf, String> {
    fs::create_dir_all(drop_ins)
        .map_err(|e| format!("cannot create {}: {e}", drop_ins.display()))?;
    let hook = drop_ins.join(DROP_IN_NAME);
    match ExistingHook::read_for(&hook, &is_shipped, "git dvc install --server")? {
        ExistingHook::None | ExistingHook::Empty | ExistingHook::Ours(_) => {}
        _ if force => {}
        existing => {
            return Err(format!(
                "{} already exists and is not git-dvc's hook:\n\n{}\nMove it aside, or run `git dvc install --server --force` to replace it.",
                hook.display(),
                existing.shown()
            ));
        }
    }
    write_file(&hook, &server_hook_text()?)?;
    Ok(hook)
}

/// A hooks directory outside the repository (`core.hooksPath`) serves every repository
/// pointing at it.
fn shared_warning(hooks: &Path) -> String {
    let Ok(git_dir) = git_dir() else {
        return String::new();
    };
    let real = |p: &Path| fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if real(hooks).starts_with(real(&git_dir)) {
        return String::new();
    }
    format!(
        "\nwarning: {} is outside this repository (core.hooksPath), so the hook now runs for every repository that uses that directory; each needs its storage configured (or a server-wide one, git config dvc.preReceive.storageConfig): until then it accepts pushes without DVC data and refuses the others",
        hooks.display()
    )
}

fn gitlab_steps(git_dir: &Path) -> String {
    let path = git_dir.display().to_string();
    let relative = path
        .find("@hashed/")
        .or_else(|| path.find("@cluster/"))
        .map_or("<relative path>".to_string(), |i| path[i..].to_string());
    format!(
        "\nOn GitLab 15.11 and later the supported way to apply it (and the only one on a Gitaly Cluster, once per node) is `gitaly hooks set`, as the git user:\n  tar -C {dir} -cf /tmp/custom_hooks.tar custom_hooks\n  sudo -u git -- /opt/gitlab/embedded/bin/gitaly hooks set --storage <storage> --repository {relative} --config /var/opt/gitlab/gitaly/config.toml < /tmp/custom_hooks.tar\nFor every repository instead: git dvc install --server --output <custom_hooks_dir>/pre-receive.d/git-dvc (custom_hooks_dir: gitaly['configuration'][:hooks][:custom_hooks_dir] in gitlab.rb, e.g. /var/opt/gitlab/gitaly/custom_hooks).\nRejections carry GitLab's GL-HOOK-ERR: prefix, so web-UI pushes show the reason.",
        dir = git_dir.display()
    )
}

fn gitolite_steps(git_dir: &Path) -> String {
    let repo = git_dir
        .file_name()
        .map(|n| n.to_string_lossy().trim_end_matches(".git").to_string())
        .unwrap_or_else(|| "<repo>".to_string());
    format!(
        "not installed: gitolite manages the hooks of {dir} (a hand-written hooks/pre-receive is silently replaced once a gitolite hook is set up). As the gitolite user, do one of:\n\
         \n\
         For every repository (a common hook; repositories without DVC storage still accept pushes without DVC data, gitolite-admin included):\n\
         \x20 1. In ~/.gitolite.rc, enable the line:  LOCAL_CODE => \"$ENV{{HOME}}/local\",\n\
         \x20 2. git dvc install --server --output ~/local/hooks/common/pre-receive\n\
         \x20 3. gitolite setup --hooks-only\n\
         \n\
         For this repository only (gitolite's repo-specific hooks):\n\
         \x20 1. In ~/.gitolite.rc, enable LOCAL_CODE as above and add 'repo-specific-hooks' to the ENABLE list\n\
         \x20 2. git dvc install --server --output ~/local/hooks/repo-specific/git-dvc\n\
         \x20 3. In gitolite-admin's conf/gitolite.conf, under `repo {repo}`:  option hook.pre-receive = git-dvc\n\
         \x20    (list git-dvc last: some gitolite versions' hook driver reports only the last hook's exit status), then push gitolite-admin\n\
         \n\
         Then describe the storage in {config}, or server-wide (git config --global dvc.preReceive.storageConfig FILE).",
        dir = git_dir.display(),
        config = git_dir.join("dvc").join("config").display(),
    )
}

/// Where the installed check will find storage, or what to write.
fn storage_note(config: &Path) -> Result<String, String> {
    if config.exists() {
        return Ok(String::new());
    }
    let env = super::check::STORAGE_CONFIG_ENV;
    let key = super::pre_receive::STORAGE_CONFIG_KEY;
    let named = match std::env::var_os(env).filter(|v| !v.is_empty()) {
        Some(file) => Some((PathBuf::from(file), env.to_string())),
        None => {
            let output = std::process::Command::new("git")
                .args(["config", "--path", "--get", key])
                .output()
                .map_err(|e| format!("cannot run git config: {e}"))?;
            let value = String::from_utf8_lossy(&output.stdout).trim().to_string();
            (output.status.success() && !value.is_empty())
                .then(|| (PathBuf::from(value), format!("git config {key}")))
        }
    };
    Ok(match named {
        Some((file, source)) => format!(
            "\nstorage: the server-wide config {} ({source}){}",
            file.display(),
            if file.is_file() {
                ""
            } else {
                ", which does not exist yet: pushes with DVC data are refused until it does"
            }
        ),
        None => format!(
            "\nnext: describe the storage pushes must reach in {} (DVC config format), e.g.\n  [core]\n      remote = storage\n  ['remote \"storage\"']\n      url = /srv/dvc-storage\nor, for every repository of this server, in one file: git config --system {key} FILE\n(until then, pushes whose commits reference DVC data are refused; the others pass)",
            config.display(),
        ),
    })
}

/// `text` is `template` with its placeholder (if any) replaced by one line.
fn matches_template(text: &str, template: &str) -> bool {
    match template.split_once(FALLBACK_PLACEHOLDER) {
        None => text == template,
        Some((before, after)) => {
            text.len() >= before.len() + after.len()
                && text.starts_with(before)
                && text.ends_with(after)
                && !text[before.len()..text.len() - after.len()].contains('\n')
        }
    }
}

/// The server hook as installed: the shipped script, falling back to this binary.
fn server_hook_text() -> Result<String, String> {
    let binary = installing_binary()?;
    let Some(path) = binary.to_str().filter(|p| !p.contains('\n')) else {
        return Err(format!(
            "git-dvc runs from {}, a path a hook script cannot name (not UTF-8, or a line break): install it at a plain path and run this again",
            binary.display()
        ));
    };
    // Single-quoted in the script.
    Ok(PRE_RECEIVE_HOOK.replace(FALLBACK_PLACEHOLDER, &path.replace('\'', "'\\''")))
}

/// The absolute path of the running binary, as PATH names it when PATH leads to this same
/// file (a symlink such as /usr/local/bin/git-dvc keeps working when an upgrade re-points
/// it), else the file itself.
fn installing_binary() -> Result<PathBuf, String> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the path of the running git-dvc: {e}"))?;
    let real = fs::canonicalize(&exe).unwrap_or_else(|_| exe.clone());
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("git-dvc"))
            .filter(|candidate| candidate.is_absolute())
            .find(|candidate| fs::canonicalize(candidate).is_ok_and(|c| c == real))
    });
    Ok(on_path.unwrap_or(exe))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gitea_driver_is_recognised() {
        let gitea = "#!/usr/bin/env bash\n# AUTO GENERATED BY GITEA, DO NOT MODIFY\ndata=$(cat)\nexitcodes=\"\"\nhookname=$(basename $0)\nGIT_DIR=${GIT_DIR:-$(dirname $0)/..}\n\nfor hook in ${GIT_DIR}/hooks/${hookname}.d/*; do\n  test -x \"${hook}\" && test -f \"${hook}\" || continue\n  echo \"${data}\" | \"${hook}\"\n  exitcodes=\"${exitcodes} $?\"\ndone\n";
        assert!(runs_drop_ins(gitea));
        assert!(runs_drop_ins(
            "#!/bin/sh\nfor h in \"$GIT_DIR\"/hooks/pre-receive.d/*; do \"$h\"; done\n"
        ));
        assert!(!runs_drop_ins("#!/bin/sh\nexec /opt/policy/check\n"));
    }

    #[test]
    fn shipped_templates_match_any_fallback_path() {
        let installed = PRE_RECEIVE_HOOK.replace(FALLBACK_PLACEHOLDER, "/usr/local/bin/git-dvc");
        assert!(is_shipped(&installed));
        assert!(is_shipped(include_str!(
            "../../hooks/previous/pre-receive.1"
        )));
        let tampered = installed.replace("exec \"$git_dvc\"", "exit 0 #");
        assert!(!is_shipped(&tampered));
        let two_lines = PRE_RECEIVE_HOOK.replace(FALLBACK_PLACEHOLDER, "/x'\nexit 0\n'");
        assert!(!is_shipped(&two_lines));
    }
}
