//! `git dvc pre-receive`: run by the server's pre-receive hook, inside git's quarantine.
//! Rejects a push whose new commits reference DVC data that is not in the server's storage.
//!
//! Storage comes only from the server's `$GIT_DIR/dvc/config` (or
//! `$GIT_DIR/dvc/projects/<dir>/config` for the project at `<dir>`), never from the pushed
//! `.dvc/config`: a pusher must not be able to point the server elsewhere or read its
//! credentials ([`crate::receive`]). Settings (git config of the server repository):
//! `dvc.preReceive.timeout` (seconds, default 120), `dvc.preReceive.maxObjects` (default
//! 1000000; over it the push is rejected, failOpen or not: the pushed content decides it),
//! `dvc.preReceive.failOpen` (accept when storage is unreachable or the time budget runs
//! out; never for anything the pushed content decides; default false),
//! `dvc.preReceive.refs` (repeatable glob; only matching refs are checked; default all; an
//! invalid pattern rejects every push until it is fixed), `dvc.preReceive.log` (the
//! administrators' unredacted copy of the messages, see [`super::pusher`]).
//!
//! A repository without storage configured accepts pushes that reference no DVC data, so
//! the hook can be installed for every repository of a server.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;

use super::check::STORAGE_CONFIG_ENV;
use super::pusher::Pusher;
use super::report;
use crate::check::{self, Validation};
use crate::error::Error;
use crate::git::{quarantine, GitRepo};
use crate::receive;

/// git config naming the server-wide storage config.
pub const STORAGE_CONFIG_KEY: &str = "dvc.preReceive.storageConfig";
const DEFAULT_TIMEOUT_SECS: u64 = 120;
const DEFAULT_MAX_OBJECTS: usize = 1_000_000;
/// Missing objects listed in a rejection; the rest are counted.
const SHOWN: usize = 20;

struct Settings {
    timeout: Duration,
    fail_open: bool,
    /// The administrators' unredacted copy of what the pusher is told.
    log: Option<PathBuf>,
    check: receive::Settings,
}

#[derive(Debug, Clone, Args)]
pub struct PreReceiveArgs {
    /// A server-wide DVC config file (and FILE.local beside it) with the storage pushes must
    /// reach; the repository's `$GIT_DIR/dvc/config` overrides it key by key where present.
    /// Also $GIT_DVC_STORAGE_CONFIG, or git config dvc.preReceive.storageConfig (system or
    /// global, for every repository of the server).
    #[arg(long = "storage-config", value_name = "FILE")]
    pub storage_config: Option<PathBuf>,
}

/// Where a server-wide storage config is named, first match wins: the flag, the
/// environment, git config (any level the server reads: system, global, the repository's).
/// Returns the file and where it was named.
pub fn server_wide_config(
    flag: Option<&Path>,
    repo: &gix::Repository,
) -> Option<(PathBuf, &'static str)> {
    if let Some(file) = flag {
        return Some((file.to_path_buf(), "--storage-config"));
    }
    if let Some(file) = std::env::var_os(STORAGE_CONFIG_ENV).filter(|v| !v.is_empty()) {
        return Some((file.into(), STORAGE_CONFIG_ENV));
    }
    repo.config_snapshot()
        .trusted_path(STORAGE_CONFIG_KEY)
        .ok()
        .flatten()
        .map(|file| (file, "git config dvc.preReceive.storageConfig"))
}

pub fn run(args: PreReceiveArgs) -> i32 {
    let mut pusher = Pusher::from_env();
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        pusher.say(&format!("git-dvc: cannot read the pushed ref list: {e}"));
        return 1;
    }
    if input.trim().is_empty() {
        // git always passes at least one line; none means something else read it first.
        pusher.say("git-dvc: push rejected: the DVC data check got no ref updates on stdin; an earlier hook in the chain probably consumed stdin");
        pusher.say("hint: git passes the ref list once: a chain must give each hook its own copy (input=$(cat), then printf '%s\\n' \"$input\" | each hook), as `git dvc install --server --chain` does");
        return 1;
    }
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            pusher.say(&format!(
                "git-dvc: cannot read the current directory (was it deleted?): {e}"
            ));
            return 1;
        }
    };
    let git = match GitRepo::discover(&cwd) {
        Ok(g) => g,
        Err(e) => {
            pusher.say(&format!("git-dvc: push rejected: {e}"));
            return 1;
        }
    };
    let settings = match read_settings(&git.local(), args.storage_config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            // The server's own setup: failOpen does not cover it (the refs it would
            // have checked would go unchecked).
            pusher.say(&format!("git-dvc: push rejected: {e}"));
            return 1;
        }
    };
    pusher.log_to(settings.log.clone());
    pusher.hide_also(server_paths(&git, settings.check.server_wide.as_deref()));
    // Warnings from storage (an SSH host key) reach the pusher the same way as the rest.
    let warnings = pusher.clone();
    crate::storage::route_warnings(Box::new(move |text| warnings.say(text)));
    let fail_open = settings.fail_open;
    let timeout = settings.timeout;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(receive::validate_push(&git, &input, &settings.check));
    });
    let outcome = match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => {
            // The worker still holds the pushed objects' scratch store; the process exits
            // without waiting for it, so its directory is removed here.
            quarantine::remove_scratch();
            Err(Error::LimitReached(format!(
                "the DVC data check did not finish within {} s (dvc.preReceive.timeout)",
                timeout.as_secs()
            )))
        }
    };
    match outcome {
        Ok(None) => 0,
        Ok(Some(validation)) if validation.missing.is_empty() => {
            // Shown to the pusher as `remote: …`: the push was checked, not just let through.
            if validation.checked > 0 {
                pusher.note(&format!(
                    "git-dvc: the DVC data of the pushed commits is in storage ({} checked)",
                    report::files(validation.checked).replace("file", "object")
                ));
            }
            0
        }
        Ok(Some(validation)) => {
            reject(&pusher, &validation);
            1
        }
        Err(e @ Error::OverObjectCap { .. }) => {
            pusher.say(&format!("git-dvc: push rejected: {e}"));
            pusher.say("hint: push fewer commits (or commits with fewer DVC outputs) at a time, or ask the server's administrators to raise dvc.preReceive.maxObjects");
            1
        }
        Err(Error::ServerSetup { message, detail }) => {
            // Not the pusher's to fix, and failOpen does not cover it: the server would
            // accept data it has nowhere to keep.
            pusher.say(&format!("git-dvc: push rejected: {message}"));
            pusher.admin(&format!("git-dvc: for the administrators: {detail}"));
            pusher.say("hint: this is the server's setup, not your push: contact the server's administrators (pushes whose commits reference no DVC data are accepted meanwhile)");
            1
        }
        Err(e) if fail_open && e.is_unavailability() => {
            pusher.say(&format!("git-dvc: warning: could not check the DVC data of this push ({e}); accepting it because dvc.preReceive.failOpen is set"));
            0
        }
        Err(e) if e.is_unavailability() => {
            pusher.say(&format!(
                "git-dvc: push rejected: could not check the DVC data of this push: {e}"
            ));
            pusher.say("git-dvc: the server refuses pushes it cannot verify; try again later or contact the server's administrators");
            1
        }
        Err(e) => {
            // The pushed content (or the server's own setup) is wrong: no retry or
            // failOpen helps.
            pusher.say(&format!(
                "git-dvc: push rejected: the DVC data of this push cannot be checked: {e}"
            ));
            pusher.say("hint: fix what is named above in the pushed commits (or ask the server's administrators, if it names the server's DVC config) and push again");
            1
        }
    }
}

/// The server's own paths, hidden whole from the pusher: the repository, its DVC
/// configs, the server-wide one, and the local storage they name (`url = /…`, or relative
/// to the config file).
fn server_paths(git: &GitRepo, server_wide: Option<&Path>) -> Vec<String> {
    let dvc_dir = git.git_dir().join("dvc");
    let mut paths = vec![git.git_dir().to_path_buf(), dvc_dir.clone()];
    if let Ok(cwd) = std::env::current_dir() {
        paths.push(cwd);
    }
    let mut configs = Vec::new();
    for dir in std::iter::once(dvc_dir.clone()).chain(
        std::fs::read_dir(dvc_dir.join("projects"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path()),
    ) {
        configs.push(dir.join("config"));
        configs.push(dir.join("config.local"));
    }
    if let Some(file) = server_wide {
        paths.push(file.to_path_buf());
        configs.push(file.to_path_buf());
        let mut local = file.as_os_str().to_owned();
        local.push(".local");
        configs.push(PathBuf::from(local));
    }
    for config in configs {
        let Ok(text) = std::fs::read_to_string(&config) else {
            continue;
        };
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            if !key.trim().eq_ignore_ascii_case("url") {
                continue;
            }
            let value = value.trim().trim_matches(['"', '\'']);
            let value = value.strip_prefix("file://").unwrap_or(value);
            if value.is_empty() || value.contains("://") {
                continue;
            }
            let path = Path::new(value);
            match config.parent() {
                Some(dir) if path.is_relative() => paths.push(dir.join(path)),
                _ => paths.push(path.to_path_buf()),
            }
        }
    }
    paths
        .iter()
        .flat_map(|p| {
            // The spelled path and the real one (what an error may name).
            let real = std::fs::canonicalize(p).ok();
            std::iter::once(p.display().to_string()).chain(real.map(|r| r.display().to_string()))
        })
        .map(|p| p.trim_end_matches('/').to_string())
        .collect()
}

/// The server's settings; an error names a setting that cannot be used.
fn read_settings(repo: &gix::Repository, flag: Option<&Path>) -> Result<Settings, String> {
    let config = repo.config_snapshot();
    let timeout = config
        .integer("dvc.preReceive.timeout")
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT_SECS, |t| t as u64);
    let max_objects = config
        .integer("dvc.preReceive.maxObjects")
        .filter(|m| *m > 0)
        .map_or(DEFAULT_MAX_OBJECTS, |m| m as usize);
    let mut refs = Vec::new();
    for pattern in config
        .plumbing()
        .strings("dvc.preReceive.refs")
        .unwrap_or_default()
    {
        let pattern = pattern.to_string();
        // Dropping a bad pattern would leave the refs it names unchecked.
        let glob = globset::Glob::new(&pattern).map_err(|e| {
            format!(
                "the server's git config dvc.preReceive.refs has an invalid pattern '{pattern}' ({}); every push is refused until the server's administrators fix it in the server repository's git config",
                e.kind()
            )
        })?;
        refs.push(glob.compile_matcher());
    }
    Ok(Settings {
        timeout: Duration::from_secs(timeout),
        fail_open: config.boolean("dvc.preReceive.failOpen").unwrap_or(false),
        log: config.trusted_path("dvc.preReceive.log").ok().flatten(),
        check: receive::Settings {
            max_objects,
            refs,
            server_wide: server_wide_config(flag, repo).map(|(file, _)| file),
        },
    })
}

fn reject(pusher: &Pusher, validation: &Validation) {
    pusher.say(&format!(
        "git-dvc: push rejected: {} referenced by the pushed commits {} not in DVC storage:",
        report::files(validation.missing.len()).replace("file", "object"),
        if validation.missing.len() == 1 {
            "is"
        } else {
            "are"
        }
    ));
    for line in check::missing_lines(&validation.missing, SHOWN) {
        pusher.say(&line);
    }
    pusher.say("hint: upload the data first, e.g. `git dvc push --rev <old>..<new>` (or `git dvc push -a -T`),");
    pusher.say("hint: or install the client hook (`git dvc install`) so every `git push` does it; then push again.");
    pusher.say("hint: a directory member missing while its .dir is stored needs `git dvc push --check-members`.");
}
