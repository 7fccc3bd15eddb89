//! `git dvc install` / `git dvc uninstall`: the client hooks (pre-push, which uploads, and
//! post-checkout, post-merge and post-rewrite, which bring the data after git moves HEAD),
//! written where git looks for hooks (`git rev-parse --git-path hooks`, so `core.hooksPath`
//! and linked worktrees work); `--print` / `--output FILE` write one hook script for other
//! hook managers; `--server` is in [`super::install_server`].
//!
//! Every hook is decided before any is written: an existing hook git-dvc does not
//! recognise stops the whole install (unless `--force` or `--chain`), so a refusal leaves
//! the hooks directory as it was.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::install_server;
use crate::objects::snapshot::{RepoContext, PROJECT_DIR_KEY};

use clap::Args;

/// The pre-push hook script, as shipped in `hooks/pre-push`.
pub const PRE_PUSH_HOOK: &str = include_str!("../../hooks/pre-push");

/// One client hook git-dvc installs.
pub struct ClientHook {
    /// git's name for it (the file name in the hooks directory).
    pub name: &'static str,
    /// The script, as shipped in `hooks/`.
    pub script: &'static str,
    /// Every version git-dvc has shipped, byte for byte: a hook is git-dvc's (replaced on
    /// install, removed on uninstall) only when it is one of these. A hand-written hook
    /// that merely mentions git-dvc (a chain that runs `git-dvc pre-push` after a policy
    /// check) is somebody's work and is refused like any other.
    shipped: &'static [&'static str],
    /// What it does once a hook manager runs it (for `--output`).
    job: &'static str,
}

/// The client hooks, in the order they are installed and reported.
pub const CLIENT_HOOKS: &[ClientHook] = &[
    ClientHook {
        name: "pre-push",
        script: PRE_PUSH_HOOK,
        shipped: &[
            PRE_PUSH_HOOK,
            include_str!("../../hooks/previous/pre-push.1"),
            include_str!("../../hooks/previous/pre-push.2"),
        ],
        job: "it checks pushes once your hook manager runs it as git's pre-push hook, with git's arguments and ref list",
    },
    ClientHook {
        name: "post-checkout",
        script: include_str!("../../hooks/post-checkout"),
        shipped: &[include_str!("../../hooks/post-checkout")],
        job: "it brings the DVC data of the new HEAD once your hook manager runs it as git's post-checkout hook, with git's arguments",
    },
    ClientHook {
        name: "post-merge",
        script: include_str!("../../hooks/post-merge"),
        shipped: &[include_str!("../../hooks/post-merge")],
        job: "it brings the DVC data of a merge once your hook manager runs it as git's post-merge hook, with git's argument",
    },
    ClientHook {
        name: "post-rewrite",
        script: include_str!("../../hooks/post-rewrite"),
        shipped: &[include_str!("../../hooks/post-rewrite")],
        job: "it brings the DVC data of a rebase once your hook manager runs it as git's post-rewrite hook, with git's argument and stdin",
    },
];

impl ClientHook {
    fn named(name: &str) -> Option<&'static ClientHook> {
        CLIENT_HOOKS.iter().find(|h| h.name == name)
    }

    fn is_shipped(&self, text: &str) -> bool {
        self.shipped.contains(&text)
    }

    /// An existing hook kept by `--chain` (or a git-lfs hook, kept automatically) is
    /// renamed to this and run first by git-dvc's hook, with the same arguments and stdin.
    pub fn chained_name(&self) -> String {
        format!("{}.before-git-dvc", self.name)
    }
}

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// Overwrite existing hooks that git-dvc does not recognise (never a forge's own:
    /// under Gitea/Forgejo and GitLab git-dvc's hook goes beside it).
    #[arg(long, conflicts_with = "chain")]
    pub force: bool,
    /// Keep existing hooks and run each before git-dvc's (with git's arguments and stdin).
    #[arg(long)]
    pub chain: bool,
    /// Install only this client hook (repeatable; default: pre-push, post-checkout,
    /// post-merge and post-rewrite); with --print or --output, the one hook to write
    /// (default: pre-push).
    #[arg(
        long = "hook",
        value_name = "HOOK",
        value_parser = ["pre-push", "post-checkout", "post-merge", "post-rewrite"],
        conflicts_with = "server"
    )]
    pub hooks: Vec<String>,
    /// Install the server-side pre-receive hook (in a bare repository) instead, where the
    /// server runs hooks: Gitea/Forgejo's hooks/pre-receive.d, GitLab's custom_hooks; for
    /// gitolite, print its steps.
    #[arg(long)]
    pub server: bool,
    /// Write one hook script (pre-push, the one --hook names, or pre-receive with
    /// --server) to stdout instead of installing it, for another hook manager.
    #[arg(long, conflicts_with_all = ["output", "chain", "force"])]
    pub print: bool,
    /// Write one hook script to FILE (mode 0755) instead of installing it, for another
    /// hook manager (a global hooks directory, a template directory, gitolite's
    /// LOCAL_CODE, ...).
    #[arg(long, value_name = "FILE", conflicts_with = "chain")]
    pub output: Option<PathBuf>,
}

pub fn install(args: InstallArgs) -> i32 {
    if args.print {
        return match hook_text(&args) {
            Ok(text) => {
                print!("{text}");
                0
            }
            Err(message) => {
                super::report::error(&message);
                1
            }
        };
    }
    match try_install(&args) {
        Ok(message) => {
            println!("{message}");
            0
        }
        Err(message) => {
            super::report::error(&message);
            1
        }
    }
}

/// The one client hook `--print` and `--output` write: pre-push unless `--hook` names
/// another.
fn single_hook(args: &InstallArgs) -> Result<&'static ClientHook, String> {
    match args.hooks.as_slice() {
        [] => Ok(&CLIENT_HOOKS[0]),
        [one] => ClientHook::named(one).ok_or_else(|| format!("unknown hook '{one}'")),
        _ => Err(
            "--print and --output write one hook: give --hook once (run the command once per hook)"
                .to_string(),
        ),
    }
}

/// The script `--print` and `--output` write.
fn hook_text(args: &InstallArgs) -> Result<String, String> {
    if args.server {
        install_server::hook_text()
    } else {
        Ok(single_hook(args)?.script.to_string())
    }
}

/// `--output FILE`: the hook for another hook manager. A file there that git-dvc did not
/// write needs `--force`.
fn write_output(file: &Path, args: &InstallArgs) -> Result<String, String> {
    let client = match args.server {
        true => None,
        false => Some(single_hook(args)?),
    };
    let shipped: &dyn Fn(&str) -> bool = match client {
        None => &install_server::is_shipped,
        Some(hook) => &|text: &str| hook.is_shipped(text),
    };
    let again = match args.server {
        true => "git dvc install --server --output FILE",
        false => "git dvc install --output FILE",
    };
    match ExistingHook::read_for(file, shipped, again)? {
        ExistingHook::None | ExistingHook::Empty | ExistingHook::Ours(_) => {}
        _ if args.force => {}
        existing => {
            return Err(format!(
                "{} already exists and is not git-dvc's hook:\n\n{}\nMove it aside, or add --force to replace it.",
                file.display(),
                existing.shown()
            ))
        }
    }
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    write_file(file, &hook_text(args)?)?;
    Ok(match client {
        None => format!(
            "git-dvc pre-receive hook written to {}: it checks pushes once your hook manager runs it as git's pre-receive hook, with git's ref list on its stdin (its own copy when other hooks run too)",
            file.display()
        ),
        Some(hook) => format!(
            "git-dvc {} hook written to {}: {}",
            hook.name,
            file.display(),
            hook.job
        ),
    })
}

#[derive(Debug, Clone, Args)]
pub struct UninstallArgs {
    /// Remove the server-side pre-receive hook instead (in a bare repository), from where
    /// `install --server` put it: hooks/pre-receive (putting a hook kept by `--chain` back),
    /// Gitea/Forgejo's hooks/pre-receive.d/git-dvc, GitLab's
    /// custom_hooks/pre-receive.d/git-dvc.
    #[arg(long)]
    pub server: bool,
}

pub fn uninstall(args: UninstallArgs) -> i32 {
    let done = if args.server {
        install_server::uninstall()
    } else {
        try_uninstall()
    };
    let (removed, refused) = match done {
        Ok(done) => done,
        Err(message) => {
            super::report::error(&message);
            return 1;
        }
    };
    for line in &removed {
        println!("{line}");
    }
    for line in &refused {
        super::report::error(line);
    }
    i32::from(!refused.is_empty())
}

/// What `install` does with one hook.
enum Step {
    /// Write git-dvc's script (where there is none, an empty file, an older git-dvc hook,
    /// or with `--force`).
    Write,
    /// The shipped script is there already.
    Current,
    /// Keep the existing hook under the chained name, then write git-dvc's.
    Chain,
}

fn try_install(args: &InstallArgs) -> Result<String, String> {
    if let Some(file) = &args.output {
        return write_output(file, args);
    }
    if args.server {
        return install_server::install(args.force, args.chain);
    }
    let dir = hooks_dir()?;
    let selected: Vec<&ClientHook> = CLIENT_HOOKS
        .iter()
        .filter(|h| args.hooks.is_empty() || args.hooks.iter().any(|n| n == h.name))
        .collect();
    // Every hook is decided first: a refusal writes nothing.
    let mut steps = Vec::new();
    let mut refused = String::new();
    for hook in &selected {
        let path = dir.join(hook.name);
        let chained = dir.join(hook.chained_name());
        let step = match ExistingHook::read(&path, &|t: &str| hook.is_shipped(t))? {
            ExistingHook::None | ExistingHook::Empty => Step::Write,
            ExistingHook::Ours(text) if text == hook.script => Step::Current,
            ExistingHook::Ours(_) => Step::Write,
            _ if args.force => Step::Write,
            existing if args.chain || existing.is_git_lfs_hook(hook.name) => {
                if present(&chained) {
                    return Err(format!(
                        "{} already exists; remove it or use --force to replace the current hook",
                        chained.display()
                    ));
                }
                Step::Chain
            }
            existing => {
                refused.push_str(&format!(
                    "hook already exists: {}\n\n{}{}\n",
                    path.display(),
                    existing.shown(),
                    existing.dvc_note()
                ));
                continue;
            }
        };
        steps.push((*hook, path, chained, step));
    }
    if !refused.is_empty() {
        return Err(format!(
            "{refused}Nothing was installed. To resolve this, either:\n  1: run `git dvc install --chain` to keep existing hooks and run git-dvc after each, or\n  2: run `git dvc install --force` to replace them."
        ));
    }
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let project = remember_project()?;
    let mut lines = Vec::new();
    for (hook, path, chained, step) in steps {
        match step {
            Step::Current => {
                lines.push(format!(
                    "git-dvc {} hook already installed in {}",
                    hook.name,
                    path.display()
                ));
                continue;
            }
            Step::Write => {}
            Step::Chain => {
                // A rename keeps the hook as it was, byte for byte and with its mode,
                // whatever it is (script or binary): `uninstall` renames it back.
                fs::rename(&path, &chained).map_err(|e| {
                    format!(
                        "cannot move the existing hook {} aside: {e}",
                        path.display()
                    )
                })?;
            }
        }
        write_file(&path, hook.script)?;
        let note = match step {
            Step::Chain => format!(
                " (the previous hook now runs first, from {})",
                chained.display()
            ),
            _ => String::new(),
        };
        lines.push(format!(
            "git-dvc {} hook installed in {}{note}",
            hook.name,
            path.display()
        ));
    }
    Ok(format!("{}{project}", lines.join("\n")))
}

/// Git runs hooks at the top of the work tree; a `dvc init --subdir` project found from
/// here is recorded in git config `dvc.projectDir` so the hook reads the same project.
/// Returns a note for the install message (empty for a project at the top).
fn remember_project() -> Result<String, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    // A repository git-dvc cannot read yet still gets its hook; the hook will say why.
    let Ok(ctx) = RepoContext::open_unchecked(&cwd) else {
        return Ok(String::new());
    };
    if ctx.project.is_empty() {
        return Ok(String::new());
    }
    let output = std::process::Command::new("git")
        .args(["config", "--local", PROJECT_DIR_KEY, &ctx.project])
        .current_dir(&cwd)
        .output()
        .map_err(|e| format!("cannot run git config: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cannot set git config {PROJECT_DIR_KEY}: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(format!(
        "\nDVC project in {}/ (git config {PROJECT_DIR_KEY}): the hook pushes its data",
        ctx.project
    ))
}

/// Removes git-dvc's client hooks (restoring chained ones). Returns what was removed and
/// the hooks left in place because they are not git-dvc's.
fn try_uninstall() -> Result<(Vec<String>, Vec<String>), String> {
    let dir = hooks_dir()?;
    let mut removed = Vec::new();
    let mut refused = Vec::new();
    for hook in CLIENT_HOOKS {
        let path = dir.join(hook.name);
        let chained = dir.join(hook.chained_name());
        match ExistingHook::read(&path, &|t: &str| hook.is_shipped(t)) {
            Ok(ExistingHook::Ours(_)) => {
                fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
                if present(&chained) {
                    fs::rename(&chained, &path)
                        .map_err(|e| format!("cannot restore the previous hook: {e}"))?;
                    removed.push(format!(
                        "git-dvc {} hook removed; the previous hook is back in {}",
                        hook.name,
                        path.display()
                    ));
                } else {
                    removed.push(format!(
                        "git-dvc {} hook removed from {}",
                        hook.name,
                        path.display()
                    ));
                }
            }
            Ok(ExistingHook::None) => {}
            Ok(_) | Err(_) => refused.push(format!(
                "{} is not git-dvc's hook; left it in place",
                path.display()
            )),
        }
    }
    if removed.is_empty() && refused.is_empty() {
        removed.push(nothing_to_remove());
    }
    forget_synced_commit();
    Ok((removed, refused))
}

/// No client hook of git-dvc's here: say what there is instead (the server hook, which
/// only `--server` removes).
fn nothing_to_remove() -> String {
    let server = install_server::installed_hook();
    match (server, is_bare_repository()) {
        (Some(hook), _) => format!(
            "no git-dvc client hooks installed; git-dvc's server (pre-receive) hook is in {}: `git dvc uninstall --server` removes it",
            hook.display()
        ),
        (None, true) => "no git-dvc client hooks installed (a bare repository has none; `git dvc uninstall --server` removes the server hook)".to_string(),
        (None, false) => "no git-dvc hooks installed".to_string(),
    }
}

fn is_bare_repository() -> bool {
    std::process::Command::new("git")
        .args(["rev-parse", "--is-bare-repository"])
        .output()
        .is_ok_and(|o| o.status.success() && o.stdout.starts_with(b"true"))
}

/// Without the hooks nobody keeps the checkout hooks' record of the data current
/// (`workspace::synced_commit`); after a later install, the first hook checks out
/// everything, as after a clone.
fn forget_synced_commit() {
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    if let Ok(ctx) = RepoContext::open(&cwd) {
        let _ = crate::workspace::synced_commit::clear(&ctx.dvc_dir);
    }
}

pub(super) fn write_file(path: &Path, content: &str) -> Result<(), String> {
    let temp = path.with_extension("git-dvc-tmp");
    fs::write(&temp, content).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {}: {e}", temp.display()))?;
    fs::rename(&temp, path).map_err(|e| format!("cannot install {}: {e}", path.display()))
}

/// What is at a hook's path before `install` writes there.
pub(super) enum ExistingHook {
    None,
    /// Whitespace only: not a hook worth keeping.
    Empty,
    /// One of git-dvc's own: exactly a version git-dvc shipped.
    Ours(String),
    /// A script git-dvc does not recognise.
    Text(String),
    /// Anything else git can run (a compiled hook, a script in another encoding): it is
    /// kept, refused or chained exactly like a script, never overwritten unasked.
    Binary(usize),
}

impl ExistingHook {
    pub(super) fn read(
        path: &Path,
        shipped: &dyn Fn(&str) -> bool,
    ) -> Result<ExistingHook, String> {
        Self::read_for(path, shipped, "git dvc install")
    }

    /// [`Self::read`]; `again` is the command the refusal says to run again.
    pub(super) fn read_for(
        path: &Path,
        shipped: &dyn Fn(&str) -> bool,
        again: &str,
    ) -> Result<ExistingHook, String> {
        // `symlink_metadata`: a dangling symlink is still somebody's hook.
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ExistingHook::None),
            _ => {}
        }
        let bytes = fs::read(path).map_err(|e| {
            format!(
                "cannot read the existing hook {}: {e}\nMove it aside (or make it readable) and run `{again}` again.",
                path.display()
            )
        })?;
        Ok(match String::from_utf8(bytes) {
            Ok(text) if shipped(&text) => ExistingHook::Ours(text),
            Ok(text) if text.trim().is_empty() => ExistingHook::Empty,
            Ok(text) => ExistingHook::Text(text),
            Err(e) => ExistingHook::Binary(e.into_bytes().len()),
        })
    }

    /// git-lfs's own hook for `name`, as `git lfs install` writes it: kept and run first
    /// without asking.
    fn is_git_lfs_hook(&self, name: &str) -> bool {
        let ExistingHook::Text(text) = self else {
            return false;
        };
        text.contains(&format!("git lfs {name}"))
            && text.lines().filter(|l| !l.trim().is_empty()).count() <= 4
    }

    /// A word on DVC's own hooks (`dvc install`), which git-dvc's replace.
    fn dvc_note(&self) -> &'static str {
        match self {
            ExistingHook::Text(text) if text.contains("dvc git-hook") => {
                "    (DVC's own hook, from `dvc install`: git-dvc's hook does its job without \
                 running DVC, so --force is the usual choice; --chain would run both)\n"
            }
            _ => "",
        }
    }

    /// The hook as shown in the refusal: a script's text, a binary's size.
    pub(super) fn shown(&self) -> String {
        match self {
            ExistingHook::Text(text) | ExistingHook::Ours(text) => indent(text),
            ExistingHook::Binary(len) => {
                format!("    (not a text file: {len} bytes, not shown)\n")
            }
            ExistingHook::None | ExistingHook::Empty => String::new(),
        }
    }
}

/// Whether anything, even a dangling symlink, is at `path`.
pub(super) fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

pub(super) fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Where git runs hooks from, as git itself resolves it.
pub(super) fn hooks_dir() -> Result<PathBuf, String> {
    git_path(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
}

pub(super) fn git_dir() -> Result<PathBuf, String> {
    git_path(&["rev-parse", "--path-format=absolute", "--git-dir"])
}

fn git_path(args: &[&str]) -> Result<PathBuf, String> {
    let output = std::process::Command::new("git")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git (is it installed and on PATH?): {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(if stderr.contains("not a git repository") {
            "not inside a git repository: run this inside the repository whose pushes should \
             carry DVC data (for the server hook, inside the bare repository)"
                .to_string()
        } else {
            format!("git rev-parse failed: {}", stderr.trim())
        });
    }
    let raw = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let path = PathBuf::from(raw);
    let path = if path.is_absolute() {
        path
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(path)
    };
    // `.` components read badly in messages; the path may not exist yet (hooks dir).
    Ok(path.components().collect())
}
