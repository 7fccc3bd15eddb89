//! `git dvc pre-receive`: run by the server's pre-receive hook, inside git's quarantine.
//! Rejects a push whose new commits reference DVC data that is not in the server's storage.
//!
//! Storage comes only from `$GIT_DIR/dvc/config` (DVC's config format), never from the
//! pushed `.dvc/config`: a pusher must not be able to point the server elsewhere or read its
//! credentials. Settings (git config of the server repository):
//! `dvc.preReceive.timeout` (seconds, default 120), `dvc.preReceive.maxObjects` (default
//! 1000000), `dvc.preReceive.failOpen` (accept when the check cannot finish; default false),
//! `dvc.preReceive.refs` (repeatable glob; only matching refs are checked; default all).

use std::io::Read;
use std::sync::mpsc;
use std::time::Duration;

use super::report;
use crate::check::{self, Validation};
use crate::dvc::cache::LocalCache;
use crate::dvc::config::{ConfigLevel, DvcConfig};
use crate::engine;
use crate::error::Error;
use crate::git::revisions::{peel_to_commit, refs_with_prefix, root_tree, short, walk, Revision};
use crate::git::{GitOid, GitRepo};
use crate::objects::collect::{self, CollectOptions};
use crate::objects::snapshot::{self, ConfigKey, RepoContext};

const DEFAULT_TIMEOUT_SECS: u64 = 120;
const DEFAULT_MAX_OBJECTS: usize = 1_000_000;
/// Missing objects listed in a rejection; the rest are counted.
const SHOWN: usize = 20;

struct Settings {
    timeout: Duration,
    max_objects: usize,
    fail_open: bool,
    refs: Vec<globset::GlobMatcher>,
}

pub fn run() -> i32 {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("git-dvc: cannot read the pushed ref list: {e}");
        return 1;
    }
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("git-dvc: cannot read the current directory (was it deleted?): {e}");
            return 1;
        }
    };
    let git = match GitRepo::discover(&cwd) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("git-dvc: {e}");
            return 1;
        }
    };
    let settings = read_settings(&git.local());
    let fail_open = settings.fail_open;
    let timeout = settings.timeout;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(validate_push(&cwd, &input, &settings));
    });
    let outcome = match rx.recv_timeout(timeout) {
        Ok(result) => result,
        Err(_) => Err(Error::Message(format!(
            "the DVC data check did not finish within {} s (dvc.preReceive.timeout)",
            timeout.as_secs()
        ))),
    };
    match outcome {
        Ok(None) => 0,
        Ok(Some(validation)) if validation.missing.is_empty() => {
            // Shown to the pusher as `remote: …`: the push was checked, not just let through.
            if validation.checked > 0 {
                eprintln!(
                    "git-dvc: the DVC data of the pushed commits is in storage ({} checked)",
                    report::files(validation.checked).replace("file", "object")
                );
            }
            0
        }
        Ok(Some(validation)) => {
            reject(&validation);
            1
        }
        Err(e) if fail_open => {
            eprintln!("git-dvc: warning: could not check the DVC data of this push ({e}); accepting it because dvc.preReceive.failOpen is set");
            0
        }
        Err(e) => {
            eprintln!("git-dvc: push rejected: could not check the DVC data of this push: {e}");
            eprintln!("git-dvc: the server refuses pushes it cannot verify; try again later or contact the server's administrators");
            1
        }
    }
}

fn read_settings(repo: &gix::Repository) -> Settings {
    let config = repo.config_snapshot();
    let timeout = config
        .integer("dvc.preReceive.timeout")
        .filter(|t| *t > 0)
        .map_or(DEFAULT_TIMEOUT_SECS, |t| t as u64);
    let max_objects = config
        .integer("dvc.preReceive.maxObjects")
        .filter(|m| *m > 0)
        .map_or(DEFAULT_MAX_OBJECTS, |m| m as usize);
    let refs = config
        .plumbing()
        .strings("dvc.preReceive.refs")
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| globset::Glob::new(&p.to_string()).ok())
        .map(|g| g.compile_matcher())
        .collect();
    Settings {
        timeout: Duration::from_secs(timeout),
        max_objects,
        fail_open: config.boolean("dvc.preReceive.failOpen").unwrap_or(false),
        refs,
    }
}

/// `Ok(None)` when nothing needs checking.
fn validate_push(
    cwd: &std::path::Path,
    input: &str,
    settings: &Settings,
) -> Result<Option<Validation>, Error> {
    let ctx = RepoContext::open(cwd)?;
    let repo = ctx.git.local();
    let mut tips = Vec::new();
    for (n, line) in input.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split(' ').collect();
        let [_, new, refname] = fields[..] else {
            return Err(Error::Message(format!(
                "malformed pre-receive input line {}: '{line}'",
                n + 1
            )));
        };
        let new = GitOid::from_hex(new.as_bytes())
            .map_err(|_| Error::Message(format!("malformed object id on input line {}", n + 1)))?;
        if new.is_null() {
            continue; // a delete
        }
        if !settings.refs.is_empty() && !settings.refs.iter().any(|m| m.is_match(refname)) {
            continue;
        }
        if let Some(commit) = peel_to_commit(&repo, new)? {
            tips.push(commit);
        }
    }
    if tips.is_empty() {
        return Ok(None);
    }
    // Commits new to the repository: not reachable from any ref it already has. With a ref
    // filter, only refs the filter covers count: a commit reachable only from an unchecked
    // ref (say `refs/wip/x`) was never validated.
    let mut existing = Vec::new();
    for (name, oid) in refs_with_prefix(&repo, "refs/")? {
        if !settings.refs.is_empty() && !settings.refs.iter().any(|m| m.is_match(&name)) {
            continue;
        }
        if let Some(c) = peel_to_commit(&repo, oid).ok().flatten() {
            existing.push(c);
        }
    }
    let commits = walk(&repo, tips, existing)?;
    if commits.is_empty() {
        return Ok(None);
    }
    let mut revisions = Vec::with_capacity(commits.len());
    for commit in commits {
        revisions.push(Revision {
            commit,
            tree: root_tree(&repo, commit)?,
            label: short(&commit),
        });
    }

    let server_config = std::sync::Arc::new(server_config(ctx.git.git_dir())?);
    let (mut snapshots, blobs, _) = snapshot::build_for_revisions(&ctx, revisions, false, &[])?;
    for snap in &mut snapshots {
        snap.config = server_config.clone();
        snap.config_key = ConfigKey::Files;
    }
    let collected = collect::collect(&snapshots, &blobs, &CollectOptions::default(), &ctx.root)
        .map_err(server_error)?;
    if let Some(w) = collected.warnings.first() {
        return Err(Error::Message(format!(
            "pushed DVC files cannot be read: {w}"
        )));
    }
    // The server has no DVC cache: manifests come from storage.
    let no_cache = LocalCache::new(ctx.git.git_dir().join("dvc").join("no-cache"));
    let validation = check::validate(
        collected.destinations,
        &no_cache,
        |d| engine::jobs_for(&d.remote, None),
        Some(settings.max_objects),
    )?;
    Ok(Some(validation))
}

/// The server's DVC config: `$GIT_DIR/dvc/config` (and `config.local` beside it) only.
fn server_config(git_dir: &std::path::Path) -> Result<DvcConfig, Error> {
    let dir = git_dir.join("dvc");
    let mut levels = Vec::new();
    for name in ["config", "config.local"] {
        if let Some(level) = ConfigLevel::load_file(&dir.join(name))? {
            levels.push(level);
        }
    }
    if levels.is_empty() {
        return Err(Error::Message(format!(
            "the server has no DVC storage configured: create {} with the remote(s) pushes must use (DVC config format, `[core] remote = …`)",
            dir.join("config").display()
        )));
    }
    Ok(DvcConfig::from_levels(levels))
}

/// Remote names resolve against the server's config: say so when one is unknown.
fn server_error(e: Error) -> Error {
    match e {
        Error::Config(c) => Error::Message(format!(
            "{c} in the server's DVC config; outputs may only name remotes the server defines"
        )),
        Error::NoRemote { .. } => Error::Message(
            "the server's DVC config has no default remote (`[core] remote = …`)".to_string(),
        ),
        other => other,
    }
}

fn reject(validation: &Validation) {
    eprintln!(
        "git-dvc: push rejected: {} referenced by the pushed commits {} not in DVC storage:",
        report::files(validation.missing.len()).replace("file", "object"),
        if validation.missing.len() == 1 {
            "is"
        } else {
            "are"
        }
    );
    for line in check::missing_lines(&validation.missing, SHOWN) {
        eprintln!("{line}");
    }
    eprintln!("hint: upload the data first, e.g. `git dvc push --rev <old>..<new>` (or `git dvc push -a -T`),");
    eprintln!("hint: or install the client hook (`git dvc install`) so every `git push` does it; then push again.");
    eprintln!("hint: a directory member missing while its .dir is stored needs `git dvc push --check-members`.");
}
