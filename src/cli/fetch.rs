//! `git dvc fetch`: bring what the selected revisions reference from storage into the
//! cache, through the same selection and collection as push, the other way.

use std::collections::BTreeMap;
use std::path::Path;

use super::args::FetchArgs;
use super::failures::{self, UploadFailure, Way};
use super::push::missing_message;
use super::report;
use crate::dvc::cache_leftovers::WritingMarker;
use crate::dvc::cache_writer::CacheWriter;
use crate::dvc::hash::DvcHash;
use crate::dvc::repo_lock::RepoLock;
use crate::engine::{self, SyncRequest};
use crate::error::Error;
use crate::fetch;
use crate::objects::snapshot::RepoContext;
use crate::objects::Provenance;
use crate::storage::{self, ErrorKind, Storage, StorageError};
use crate::transfer::progress::Progress;
use crate::transfer::{download, run_cache_fetch};

const WHAT: &str = "failed to fetch data from the cloud";

pub fn run(args: FetchArgs) -> i32 {
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let request = args.selection.request(&args.output).downloading();
    match fetch_all(&cwd, &request, args.run_cache) {
        Ok(code) => code,
        Err(e) => report::fail(WHAT, &e),
    }
}

/// What one command came to, over every remote.
#[derive(Default)]
struct Tally {
    fetched: usize,
    failed: Vec<UploadFailure>,
    missing: BTreeMap<DvcHash, Provenance>,
}

fn fetch_all(cwd: &Path, request: &SyncRequest, run_cache: bool) -> Result<i32, Error> {
    let (ctx, collected) = engine::collect(cwd, request)?;
    if ctx.git.work_dir().is_none() {
        return Err(Error::NeedsWorkTree { command: "fetch" });
    }
    // `-q`: nothing but errors, as DVC (its warnings go through the same logger).
    if !request.quiet {
        for w in &collected.warnings {
            report::warn(w);
        }
    }
    if collected.used_no_default && !request.quiet {
        // DVC says it bare, not as a warning.
        eprintln!("No remote provided and no default remote set.");
    }
    if collected.repo_imports > 0 && !request.quiet {
        report::warn(&format!(
            "{} from `dvc import` (data of another repository) not fetched: git-dvc fetches from DVC remotes only; run `dvc fetch` for them",
            outputs(collected.repo_imports)
        ));
    }
    refuse_hardlink_lock(&ctx)?;
    // As DVC: one writer of the cache and work tree at a time.
    let _lock = RepoLock::acquire(&ctx.dvc_dir)?;
    let (_marker, swept) =
        WritingMarker::begin(&ctx.dvc_dir, &ctx.cache).map_err(|source| Error::CannotWrite {
            path: ctx.dvc_dir.join("tmp"),
            source,
        })?;
    if swept > 0 && request.verbose > 0 {
        eprintln!(
            "git-dvc: removed {swept} temporary files left in the cache by an interrupted run"
        );
    }
    let writer = CacheWriter::new(&ctx.cache, ctx.cache.shared_group());
    if request.verbose > 0 {
        eprintln!(
            "git-dvc: {} revision(s) scanned, {} remote(s) to fetch from",
            collected.snapshots_used,
            collected.destinations.len()
        );
    }

    let mut tally = Tally::default();
    for dest in collected.destinations {
        fetch_destination(dest, &ctx, &writer, request, &mut tally)?;
    }
    if run_cache {
        fetch_run_cache(&ctx, &writer, request, &mut tally)?;
    }

    if !tally.missing.is_empty() && !request.quiet {
        let missing: BTreeMap<&DvcHash, &Provenance> = tally.missing.iter().collect();
        report::warn(&missing_message(&missing));
    }
    if !tally.failed.is_empty() {
        for line in failures::lines_for(&tally.failed, Way::Download) {
            report::error(&line);
        }
        report::error(&format!(
            "{WHAT} - {} failed to download",
            report::files(tally.failed.len())
        ));
        return Ok(1);
    }
    if !request.quiet {
        match tally.fetched {
            0 => println!("Everything is up to date."),
            n => println!("{} fetched", report::files(n)),
        }
    }
    Ok(0)
}

fn fetch_destination(
    dest: crate::objects::DestinationObjects,
    ctx: &RepoContext,
    writer: &CacheWriter,
    request: &SyncRequest,
    tally: &mut Tally,
) -> Result<(), Error> {
    let jobs = engine::jobs_for(&dest.remote, request.jobs);
    let assessment = fetch::assess(dest, &ctx.cache)?;
    let remote = assessment.remote.name.clone();
    for invalid in &assessment.invalid {
        tally.failed.push(UploadFailure {
            remote: remote.clone(),
            id: invalid.hash.oid.to_string(),
            key: invalid.hash.relative_key(),
            note: String::new(),
            error: StorageError::new(ErrorKind::Corrupt, invalid.to_string()),
        });
    }
    for (hash, prov) in assessment.missing_manifests() {
        tally
            .missing
            .entry(hash.clone())
            .or_insert_with(|| prov.clone());
    }
    let plan = assessment.plan();
    if request.verbose > 0 {
        eprintln!(
            "git-dvc: remote '{remote}' ({}): {} objects referenced, {} in the cache, {} to download",
            assessment.storage.describe(),
            assessment.set.len(),
            assessment.cached.len(),
            plan.len()
        );
    }
    if !plan.is_empty() {
        let progress = Progress::new(
            plan.len(),
            &format!("Fetching from '{remote}'"),
            request.quiet,
        );
        let outcome = download::run(assessment.storage.as_ref(), writer, &plan, jobs, &progress);
        progress.finish();
        tally.fetched += outcome.fetched.len();
        for hash in outcome.absent {
            if let Some(prov) = assessment.set.provenance(&hash) {
                tally.missing.entry(hash).or_insert_with(|| prov.clone());
            }
        }
        for (hash, error) in outcome.failed {
            let note = assessment
                .set
                .provenance(&hash)
                .map(|p| format!(" (used by {p})"))
                .unwrap_or_default();
            tally.failed.push(UploadFailure {
                remote: remote.clone(),
                id: hash.oid.to_string(),
                key: hash.relative_key(),
                note,
                error,
            });
        }
    }
    report::requests(request.verbose, &remote, assessment.storage.as_ref());
    Ok(())
}

/// The run cache comes from `-r` or the workspace's default remote, as DVC takes it; with
/// neither, or from an HTTP remote, DVC skips it without a word, and so does this.
fn fetch_run_cache(
    ctx: &RepoContext,
    writer: &CacheWriter,
    request: &SyncRequest,
    tally: &mut Tally,
) -> Result<(), Error> {
    let config = &ctx.workspace_config;
    let Some(name) = request.remote.clone().or_else(|| config.core_remote()) else {
        if request.verbose > 0 {
            eprintln!("git-dvc: no remote for the run cache: not fetched");
        }
        return Ok(());
    };
    let remote = config.remote(&name)?;
    let storage: Box<dyn Storage> = storage::open(&remote)?;
    let jobs = engine::jobs_for(&remote, request.jobs);
    let entry_failure = |key: String, error: StorageError| UploadFailure {
        remote: remote.name.clone(),
        id: key.clone(),
        key,
        note: String::new(),
        error,
    };
    let keys = match run_cache_fetch::missing_entries(storage.as_ref(), writer) {
        Ok(Some(keys)) => keys,
        Ok(None) => {
            if request.verbose > 0 {
                eprintln!(
                    "git-dvc: remote '{}' cannot be listed: run cache not fetched",
                    remote.name
                );
            }
            return Ok(());
        }
        Err(e) => {
            tally.failed.push(entry_failure("runs/".to_string(), e));
            return Ok(());
        }
    };
    let progress = Progress::new(keys.len(), "Fetching the run cache", request.quiet);
    let outcome = run_cache_fetch::fetch_entries(storage.as_ref(), writer, &keys, jobs, &progress);
    progress.finish();
    if request.verbose > 0 {
        eprintln!(
            "git-dvc: {} run-cache entries fetched from remote '{}'",
            outcome.fetched, remote.name
        );
    }
    tally.failed.extend(
        outcome
            .failed
            .into_iter()
            .map(|(key, error)| entry_failure(key, error)),
    );
    Ok(())
}

/// `core.hardlink_lock` makes DVC lock with link files instead of `flock`; git-dvc's lock
/// would not keep DVC out, so it does not write the cache there.
fn refuse_hardlink_lock(ctx: &RepoContext) -> Result<(), Error> {
    let on = ctx
        .workspace_config
        .get("core", "hardlink_lock")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "on" | "1"));
    if on {
        return Err(Error::UnsupportedSetting {
            message: "core.hardlink_lock is set: DVC then locks the repository with link files, which git-dvc does not take, so the two could write the cache at once; use `dvc fetch`, or unset it",
        });
    }
    Ok(())
}

fn outputs(n: usize) -> String {
    match n {
        1 => "1 output".to_string(),
        n => format!("{n} outputs"),
    }
}
