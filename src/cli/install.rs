//! `git dvc install` / `git dvc uninstall`: the pre-push hook, written where git looks for
//! hooks (`git rev-parse --git-path hooks`, so `core.hooksPath` and linked worktrees work);
//! `--print` / `--output FILE` write a hook script for other hook managers; `--server` is
//! in [`super::install_server`].

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::install_server;
use crate::objects::snapshot::{RepoContext, PROJECT_DIR_KEY};

use clap::Args;

/// The hook script, as shipped in `hooks/pre-push`.
pub const PRE_PUSH_HOOK: &str = include_str!("../../hooks/pre-push");
/// Every pre-push hook git-dvc has shipped, byte for byte: a hook is git-dvc's (replaced on
/// install, removed on uninstall) only when it is one of these. A hand-written hook that
/// merely mentions git-dvc (a chain that runs `git-dvc pre-push` after a policy check) is
/// somebody's work and is refused like any other.
const SHIPPED_PRE_PUSH: &[&str] = &[
    PRE_PUSH_HOOK,
    include_str!("../../hooks/previous/pre-push.1"),
    include_str!("../../hooks/previous/pre-push.2"),
];
/// An existing hook kept by `--chain` (or a git-lfs hook, kept automatically) is renamed to
/// this and run first by git-dvc's hook, with the same stdin.
pub const CHAINED_NAME: &str = "pre-push.before-git-dvc";

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// Overwrite an existing hook that git-dvc does not recognise (never a forge's own:
    /// under Gitea/Forgejo and GitLab git-dvc's hook goes beside it).
    #[arg(long, conflicts_with = "chain")]
    pub force: bool,
    /// Keep an existing hook and run it before git-dvc's (each gets git's ref list).
    #[arg(long)]
    pub chain: bool,
    /// Install the server-side pre-receive hook (in a bare repository) instead, where the
    /// server runs hooks: Gitea/Forgejo's hooks/pre-receive.d, GitLab's custom_hooks; for
    /// gitolite, print its steps.
    #[arg(long)]
    pub server: bool,
    /// Write the hook script (pre-push, or pre-receive with --server) to stdout instead of
    /// installing it, for another hook manager.
    #[arg(long, conflicts_with_all = ["output", "chain", "force"])]
    pub print: bool,
    /// Write the hook script to FILE (mode 0755) instead of installing it, for another hook
    /// manager (a global hooks directory, gitolite's LOCAL_CODE, ...).
    #[arg(long, value_name = "FILE", conflicts_with = "chain")]
    pub output: Option<PathBuf>,
}

pub fn install(args: InstallArgs) -> i32 {
    if args.print {
        return match hook_text(args.server) {
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

/// The script `--print` and `--output` write.
fn hook_text(server: bool) -> Result<String, String> {
    if server {
        install_server::hook_text()
    } else {
        Ok(PRE_PUSH_HOOK.to_string())
    }
}

/// `--output FILE`: the hook for another hook manager. A file there that git-dvc did not
/// write needs `--force`.
fn write_output(file: &Path, server: bool, force: bool) -> Result<String, String> {
    let shipped: &dyn Fn(&str) -> bool = if server {
        &install_server::is_shipped
    } else {
        &is_shipped_pre_push
    };
    match ExistingHook::read(file, shipped)? {
        ExistingHook::None | ExistingHook::Empty | ExistingHook::Ours(_) => {}
        _ if force => {}
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
    write_file(file, &hook_text(server)?)?;
    Ok(format!(
        "git-dvc {} hook written to {}: it checks pushes once your hook manager runs it as git's {} hook{}",
        if server { "pre-receive" } else { "pre-push" },
        file.display(),
        if server { "pre-receive" } else { "pre-push" },
        if server {
            ", with git's ref list on its stdin (its own copy when other hooks run too)"
        } else {
            ", with git's arguments and ref list"
        }
    ))
}

pub fn uninstall() -> i32 {
    match try_uninstall() {
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

fn try_install(args: &InstallArgs) -> Result<String, String> {
    if let Some(file) = &args.output {
        return write_output(file, args.server, args.force);
    }
    if args.server {
        return install_server::install(args.force, args.chain);
    }
    let dir = hooks_dir()?;
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let project = remember_project()?;
    let hook = dir.join("pre-push");
    let chained = dir.join(CHAINED_NAME);
    let mut note = String::new();
    match ExistingHook::read(&hook, &is_shipped_pre_push)? {
        ExistingHook::None | ExistingHook::Empty => {}
        ExistingHook::Ours(text) if text == PRE_PUSH_HOOK => {
            return Ok(format!(
                "git-dvc pre-push hook already installed in {}{project}",
                hook.display()
            ));
        }
        ExistingHook::Ours(_) => {}
        _ if args.force => {}
        existing if args.chain || existing.is_git_lfs_hook() => {
            if present(&chained) {
                return Err(format!(
                    "{} already exists; remove it or use --force to replace the current hook",
                    chained.display()
                ));
            }
            // A rename keeps the hook as it was, byte for byte and with its mode, whatever
            // it is (script or binary): `uninstall` renames it back.
            fs::rename(&hook, &chained)
                .map_err(|e| format!("cannot move the existing hook aside: {e}"))?;
            note = format!(
                " (the previous hook now runs first, from {})",
                chained.display()
            );
        }
        existing => {
            return Err(format!(
                "hook already exists: {}\n\n{}\nTo resolve this, either:\n  1: run `git dvc install --chain` to keep it and run git-dvc after it, or\n  2: run `git dvc install --force` to replace it.",
                hook.display(),
                existing.shown()
            ));
        }
    }
    write_hook(&hook)?;
    Ok(format!(
        "git-dvc pre-push hook installed in {}{note}{project}",
        hook.display()
    ))
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

fn try_uninstall() -> Result<String, String> {
    let dir = hooks_dir()?;
    let hook = dir.join("pre-push");
    let chained = dir.join(CHAINED_NAME);
    match ExistingHook::read(&hook, &is_shipped_pre_push) {
        Ok(ExistingHook::Ours(_)) => {
            fs::remove_file(&hook).map_err(|e| format!("cannot remove {}: {e}", hook.display()))?;
            if present(&chained) {
                fs::rename(&chained, &hook)
                    .map_err(|e| format!("cannot restore the previous hook: {e}"))?;
                return Ok(format!(
                    "git-dvc pre-push hook removed; the previous hook is back in {}",
                    hook.display()
                ));
            }
            Ok(format!(
                "git-dvc pre-push hook removed from {}",
                hook.display()
            ))
        }
        Ok(ExistingHook::None) => Ok("no git-dvc pre-push hook installed".to_string()),
        Ok(_) | Err(_) => Err(format!(
            "{} is not git-dvc's hook; left it in place",
            hook.display()
        )),
    }
}

fn is_shipped_pre_push(text: &str) -> bool {
    SHIPPED_PRE_PUSH.contains(&text)
}

fn write_hook(path: &Path) -> Result<(), String> {
    write_file(path, PRE_PUSH_HOOK)
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
        // `symlink_metadata`: a dangling symlink is still somebody's hook.
        match fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ExistingHook::None),
            _ => {}
        }
        let bytes = fs::read(path).map_err(|e| {
            format!(
                "cannot read the existing hook {}: {e}\nMove it aside (or make it readable) and run `git dvc install` again.",
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

    fn is_git_lfs_hook(&self) -> bool {
        let ExistingHook::Text(text) = self else {
            return false;
        };
        text.contains("git lfs pre-push")
            && text.lines().filter(|l| !l.trim().is_empty()).count() <= 4
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
