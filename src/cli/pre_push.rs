//! `git dvc pre-push <remote> <url>`: run by git's pre-push hook. Uploads the DVC data of
//! exactly the commits this push sends, before git sends them, and stops the push when data
//! is missing everywhere (fail closed).

use std::collections::BTreeMap;
use std::io::Read;

use clap::Args;

use super::{failures, report};
use crate::dvc::dir_manifest::RelpathRules;
use crate::dvc::hash::DvcHash;
use crate::engine;
use crate::error::Error;
use crate::git::push_range;
use crate::objects::changes;
use crate::objects::collect::{self, CollectOptions};
use crate::objects::snapshot::RepoContext;
use crate::objects::verified_dirs::VerifiedDirs;
use crate::sync::{self, MemberCheck};
use crate::transfer::{self, progress::Progress};

#[derive(Debug, Clone, Args)]
pub struct PrePushArgs {
    /// The git remote's name (or the URL, when pushing to a URL), as git passes it
    /// (under pre-commit: none, PRE_COMMIT_REMOTE_NAME is read).
    pub remote: Option<String>,
    /// The URL being pushed to, as git passes it.
    pub url: Option<String>,
}

/// Set to 1/true/yes to skip uploading (for example with `git push --dry-run`).
pub const SKIP_ENV: &str = "GIT_DVC_SKIP_PUSH";
/// git config: let a push through even when some data exists nowhere.
pub const ALLOW_INCOMPLETE_KEY: &str = "dvc.allowIncompletePush";

pub fn run(args: PrePushArgs) -> i32 {
    if std::env::var(SKIP_ENV).is_ok_and(|v| is_truthy(&v)) {
        return 0;
    }
    let (remote, url, input) = match (&args.remote, pre_commit_remote()) {
        (Some(remote), _) => {
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                report::error(&format!(
                    "git-dvc pre-push: cannot read git's ref list: {e}"
                ));
                return 1;
            }
            (remote.clone(), args.url.clone(), Some(input))
        }
        // pre-commit read git's lines itself: see `pre_commit_input`.
        (None, Some((remote, url))) => (remote, url, None),
        (None, None) => {
            report::error(
                "git-dvc pre-push: expected the git remote's name and URL, as git's pre-push \
                 hook passes them (`git dvc install` writes that hook), or pre-commit's \
                 PRE_COMMIT_REMOTE_NAME (hook id git-dvc-pre-push in .pre-commit-hooks.yaml)",
            );
            return 1;
        }
    };
    let args = PrePushArgs {
        remote: Some(remote),
        url,
    };
    match pre_push(&args, input.as_deref()) {
        Ok(code) => code,
        Err(e) if matches!(&e, Error::Config(c) if c.stops_loading()) => {
            // DVC's words for a configuration it refuses, and its exit code.
            let code = report::config_failure(&e).unwrap_or(1);
            eprintln!("hint: the push was stopped: fix the DVC configuration and push again, or skip the upload once with {SKIP_ENV}=1 git push ...");
            code
        }
        Err(e) => {
            eprintln!("git-dvc: cannot upload the DVC data of this push: {e}");
            eprintln!(
                "hint: fix the problem and push again, or skip the upload once with {SKIP_ENV}=1 git push ..."
            );
            1
        }
    }
}

fn is_truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

/// The remote pre-commit's pre-push stage names (its hooks get no arguments and no stdin).
fn pre_commit_remote() -> Option<(String, Option<String>)> {
    let name = std::env::var("PRE_COMMIT_REMOTE_NAME")
        .ok()
        .filter(|n| !n.is_empty())?;
    let url = std::env::var("PRE_COMMIT_REMOTE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    Some((name, url))
}

/// git's pre-push lines, rebuilt under pre-commit. pre-commit consumes them and passes on
/// only the first ref with new commits (PRE_COMMIT_TO_REF), so `git push origin a b` or
/// `--tags` would go unchecked past it: fail closed instead, with every local branch and
/// tag (and pre-commit's ref) against the remote's tracking refs, a superset of the push.
fn pre_commit_input(repo: &gix::Repository) -> Result<String, Error> {
    let zero = "0".repeat(40);
    let mut lines = String::new();
    for prefix in ["refs/heads/", "refs/tags/"] {
        for (name, oid) in crate::git::revisions::refs_with_prefix(repo, prefix)? {
            lines.push_str(&format!("{name} {oid} {name} {zero}\n"));
        }
    }
    if let Ok(to) = std::env::var("PRE_COMMIT_TO_REF") {
        if to.len() == 40 && to.bytes().all(|b| b.is_ascii_hexdigit()) {
            lines.push_str(&format!("HEAD {to} HEAD {zero}\n"));
        }
    }
    Ok(lines)
}

fn pre_push(args: &PrePushArgs, input: Option<&str>) -> Result<i32, Error> {
    let cwd = std::env::current_dir().map_err(|e| {
        Error::Message(format!(
            "cannot read the current directory (was it deleted?): {e}"
        ))
    })?;
    let updates = match input {
        Some(input) => push_range::parse_pre_push(input)?,
        None => {
            let repo = gix::discover(&cwd).map_err(|e| {
                Error::Message(format!(
                    "pre-commit ran git-dvc outside a git repository: {e}"
                ))
            })?;
            push_range::parse_pre_push(&pre_commit_input(&repo)?)?
        }
    };
    if updates.iter().all(|u| u.is_delete()) {
        return Ok(0);
    }
    let ctx = RepoContext::open(&cwd)?;
    let repo = ctx.git.local();
    let remote = args.remote.as_deref().unwrap_or_default();
    let url = args.url.as_deref().unwrap_or(remote);
    let remote_name = push_range::resolve_remote_name(&repo, remote, url);
    let range = push_range::commits_to_send(&repo, &updates, remote_name.as_deref())?;
    if range.new_commits.is_empty() {
        return Ok(0);
    }
    let config = repo.config_snapshot();
    let allow_incomplete = config.boolean(ALLOW_INCOMPLETE_KEY).unwrap_or(false);
    let default_remote = remote_name.as_ref().and_then(|n| {
        config
            .string(format!("remote.{n}.dvcRemote").as_str())
            .map(|s| s.to_string())
    });

    // Only what the pushed commits bring that their parents did not have.
    let (snapshots, blobs) = changes::push_snapshots(&ctx, &range.new_commits)?;
    if snapshots.is_empty() {
        return Ok(0);
    }
    let options = CollectOptions {
        default_remote,
        fallback_config: Some(ctx.workspace_config.clone()),
        committed_remotes: collect::committed_remotes_policy(&ctx.git.local()),
        ..CollectOptions::default()
    };
    let collected = collect::collect(&snapshots, &blobs, &options, &ctx.root)?;
    if !collected.warnings.is_empty() && !allow_incomplete {
        for w in &collected.warnings {
            eprintln!("git-dvc: {w}");
        }
        return Err(Error::Message(format!(
            "some pushed commits have DVC files git-dvc cannot read; fix them, or run `git config {ALLOW_INCOMPLETE_KEY} true` to push anyway"
        )));
    }

    let mut assessments = Vec::new();
    for dest in collected.destinations {
        let jobs = engine::jobs_for(&dest.remote, None);
        let mut verified = VerifiedDirs::load(ctx.git.git_dir(), &dest.remote.url);
        let assessment = sync::assess_with(
            dest,
            &ctx.cache,
            jobs,
            false,
            MemberCheck::TrustManifests,
            RelpathRules::ThisPlatform,
            Some(&mut verified),
        )?;
        assessments.push((jobs, assessment, verified));
    }
    let mut missing: BTreeMap<String, (String, DvcHash)> = BTreeMap::new();
    for (_, a, _) in &assessments {
        for (hash, prov) in a.missing_everywhere() {
            missing
                .entry(format!("{prov}"))
                .or_insert((a.remote.name.clone(), hash.clone()));
        }
    }
    if !missing.is_empty() {
        report_missing(&missing, allow_incomplete);
        if !allow_incomplete {
            return Ok(1);
        }
    }

    let mut failed: Vec<failures::UploadFailure> = Vec::new();
    for (jobs, a, verified) in &mut assessments {
        let plan = a.plan(&ctx.cache);
        a.storage.remove_stale_temporaries();
        if plan.is_empty() {
            verified.save();
            continue;
        }
        let progress = Progress::new(
            plan.len(),
            &format!("Uploading DVC data to '{}'", a.remote.name),
            false,
        );
        let outcome = transfer::run(a.storage.as_ref(), &plan, *jobs, &progress);
        progress.finish();
        a.record_uploads(&plan, &outcome, verified, &ctx.cache);
        verified.save();
        failed.extend(outcome.failed.into_iter().map(|(hash, error)| {
            let note = a
                .set
                .provenance(&hash)
                .map(|p| format!(" ({p}; remote '{}')", a.remote.name))
                .unwrap_or_default();
            failures::UploadFailure {
                remote: a.remote.name.clone(),
                id: hash.oid.to_string(),
                key: hash.relative_key(),
                note,
                error,
            }
        }));
        if !outcome.uploaded.is_empty() {
            // The location too: the same name may mean another place in another checkout.
            eprintln!(
                "git-dvc: {} pushed to DVC remote '{}' ({})",
                report::files(outcome.uploaded.len()),
                a.remote.name,
                a.storage.describe()
            );
        }
    }
    if !failed.is_empty() {
        for line in failures::lines(&failed) {
            eprintln!("git-dvc: {line}");
        }
        eprintln!(
            "git-dvc: {} failed to upload; the push was stopped so no commit reaches the server without its data. Retry the push.",
            report::files(failed.len())
        );
        return Ok(1);
    }
    Ok(0)
}

fn report_missing(missing: &BTreeMap<String, (String, DvcHash)>, allowed: bool) {
    if allowed {
        eprintln!("git-dvc: pushing although this DVC data is in neither the local cache nor its remote ({ALLOW_INCOMPLETE_KEY} is set):");
    } else {
        eprintln!(
            "git-dvc: push refused: this DVC data is in neither the local cache nor its remote:"
        );
    }
    const SHOWN: usize = 50;
    for (place, (remote, hash)) in missing.iter().take(SHOWN) {
        eprintln!(
            "  (missing) {place} ({}: {}) [remote '{remote}']",
            hash.kind.name(),
            hash.oid
        );
    }
    if missing.len() > SHOWN {
        eprintln!("  … and {} more", missing.len() - SHOWN);
    }
    if !allowed {
        eprintln!("hint: get the data into the cache (`dvc fetch`, or re-create it with `dvc add`/`dvc repro`) and push again;");
        eprintln!(
            "hint: or allow pushes with missing data: git config {ALLOW_INCOMPLETE_KEY} true"
        );
    }
}
