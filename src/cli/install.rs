//! `git dvc install` / `git dvc uninstall`: the pre-push hook, written where git looks for
//! hooks (`git rev-parse --git-path hooks`, so `core.hooksPath` and linked worktrees work).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::objects::snapshot::{RepoContext, PROJECT_DIR_KEY};

use clap::Args;

/// The hook script, as shipped in `hooks/pre-push`.
pub const PRE_PUSH_HOOK: &str = include_str!("../../hooks/pre-push");
/// The server hook, as shipped in `hooks/pre-receive`.
pub const PRE_RECEIVE_HOOK: &str = include_str!("../../hooks/pre-receive");
/// Every pre-push hook git-dvc has shipped, byte for byte: a hook is git-dvc's (replaced on
/// install, removed on uninstall) only when it is one of these. A hand-written hook that
/// merely mentions git-dvc (a chain that runs `git-dvc pre-push` after a policy check) is
/// somebody's work and is refused like any other.
const SHIPPED_PRE_PUSH: &[&str] = &[
    PRE_PUSH_HOOK,
    include_str!("../../hooks/previous/pre-push.1"),
    include_str!("../../hooks/previous/pre-push.2"),
];
/// Every pre-receive hook git-dvc has shipped (templates: see [`FALLBACK_PLACEHOLDER`]).
const SHIPPED_PRE_RECEIVE: &[&str] = &[
    PRE_RECEIVE_HOOK,
    include_str!("../../hooks/previous/pre-receive.1"),
    include_str!("../../hooks/previous/pre-receive.2"),
];
/// In the server hook, replaced by the absolute path of the installing binary: hooks run
/// with the server's PATH, which often lacks git-dvc.
const FALLBACK_PLACEHOLDER: &str = "@GIT_DVC@";
/// An existing hook kept by `--chain` (or a git-lfs hook, kept automatically) is renamed to
/// this and run first by git-dvc's hook, with the same stdin.
pub const CHAINED_NAME: &str = "pre-push.before-git-dvc";

#[derive(Debug, Clone, Args)]
pub struct InstallArgs {
    /// Overwrite an existing pre-push hook that git-dvc does not recognise.
    #[arg(long, conflicts_with = "chain")]
    pub force: bool,
    /// Keep an existing pre-push hook and run it before git-dvc's (both get git's ref list).
    #[arg(long)]
    pub chain: bool,
    /// Install the server-side pre-receive hook (in a bare repository) instead.
    #[arg(long, conflicts_with = "chain")]
    pub server: bool,
}

pub fn install(args: InstallArgs) -> i32 {
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
    if args.server {
        return install_server(args.force);
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
    let Ok(ctx) = RepoContext::open(&cwd) else {
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

fn install_server(force: bool) -> Result<String, String> {
    let dir = hooks_dir()?;
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let hook = dir.join("pre-receive");
    match ExistingHook::read(&hook, &is_shipped_pre_receive)? {
        ExistingHook::None | ExistingHook::Empty | ExistingHook::Ours(_) => {}
        _ if force => {}
        existing => {
            return Err(format!(
                "hook already exists: {}\n\n{}\nRun `git dvc install --server --force` to replace it.",
                hook.display(),
                existing.shown()
            ));
        }
    }
    write_file(&hook, &server_hook_text()?)?;
    let config = git_dir()?.join("dvc").join("config");
    let mut message = format!("git-dvc pre-receive hook installed in {}", hook.display());
    message.push_str(&storage_note(&config)?);
    Ok(message)
}

/// Where the installed check will find storage, or what to write.
fn storage_note(config: &Path) -> Result<String, String> {
    if config.exists() {
        return Ok(String::new());
    }
    let named = match std::env::var_os(super::check::STORAGE_CONFIG_ENV).filter(|v| !v.is_empty()) {
        Some(file) => Some((
            PathBuf::from(file),
            super::check::STORAGE_CONFIG_ENV.to_string(),
        )),
        None => {
            let key = super::pre_receive::STORAGE_CONFIG_KEY;
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
            if file.is_file() { "" } else { ", which does not exist yet: pushes with DVC data are refused until it does" }
        ),
        None => format!(
            "\nnext: describe the storage pushes must reach in {} (DVC config format), e.g.\n  [core]\n      remote = storage\n  ['remote \"storage\"']\n      url = /srv/dvc-storage\nor, for every repository of this server, in one file: git config --system {} FILE\n(until then, pushes whose commits reference DVC data are refused; the others pass)",
            config.display(),
            super::pre_receive::STORAGE_CONFIG_KEY
        ),
    })
}

fn is_shipped_pre_push(text: &str) -> bool {
    SHIPPED_PRE_PUSH.contains(&text)
}

fn is_shipped_pre_receive(text: &str) -> bool {
    SHIPPED_PRE_RECEIVE
        .iter()
        .any(|template| matches_template(text, template))
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
pub fn server_hook_text() -> Result<String, String> {
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

fn write_hook(path: &Path) -> Result<(), String> {
    write_file(path, PRE_PUSH_HOOK)
}

fn write_file(path: &Path, content: &str) -> Result<(), String> {
    let temp = path.with_extension("git-dvc-tmp");
    fs::write(&temp, content).map_err(|e| format!("cannot write {}: {e}", temp.display()))?;
    fs::set_permissions(&temp, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {}: {e}", temp.display()))?;
    fs::rename(&temp, path).map_err(|e| format!("cannot install {}: {e}", path.display()))
}

/// What is at a hook's path before `install` writes there.
enum ExistingHook {
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
    fn read(path: &Path, shipped: &dyn Fn(&str) -> bool) -> Result<ExistingHook, String> {
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
    fn shown(&self) -> String {
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
fn present(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// Where git runs hooks from, as git itself resolves it.
fn hooks_dir() -> Result<PathBuf, String> {
    git_path(&["rev-parse", "--path-format=absolute", "--git-path", "hooks"])
}

fn git_dir() -> Result<PathBuf, String> {
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
