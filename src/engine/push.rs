//! `push`: upload what the selected revisions reference, and with `--run-cache` the run
//! cache after the outputs it names, one remote after the other.

use std::path::Path;

use super::notice::{Notice, Observer, TransferFailure};
use super::run_cache::{RunCachePush, RUN_CACHE_REVISION};
use super::upload::UploadTarget;
use super::SyncRequest;
use crate::error::Error;
use crate::storage::StorageError;

/// What a push came to, over every remote.
#[derive(Debug, Default)]
pub struct PushOutcome {
    /// Objects and run-cache entries uploaded.
    pub pushed: usize,
    pub failed: Vec<TransferFailure>,
}

/// Runs `request` (with `--run-cache` when `request.run_cache`) from the repository around
/// `cwd`.
pub fn push(
    cwd: &Path,
    request: &SyncRequest,
    observer: &mut dyn Observer,
) -> Result<PushOutcome, Error> {
    let (ctx, mut collected) = super::collect(cwd, request)?;
    if !collected.warnings.is_empty() {
        observer.notice(Notice::Collect(&collected.warnings));
    }
    let runs = match request.run_cache {
        true => RunCachePush::prepare(
            &ctx,
            request.remote.as_deref(),
            &mut collected.destinations,
            observer,
        )?,
        false => None,
    };
    if collected.used_no_default {
        observer.notice(Notice::NoDefaultRemote);
    }
    observer.notice(Notice::Scanned {
        revisions: collected.snapshots_used,
        remotes: collected.destinations.len(),
    });
    let mut outcome = PushOutcome::default();
    for dest in collected.destinations {
        let jobs = super::jobs_for(&dest.remote, request.jobs);
        let runs = runs.as_ref().filter(|r| r.is_for(&dest));
        let mut target = UploadTarget::assess(dest, &ctx, jobs, request.members)?;
        // Old runs' outputs are often gone (`dvc gc`): their entries are held back instead.
        let missing = target.missing_everywhere(|p| p.revision != RUN_CACHE_REVISION);
        if !missing.is_empty() {
            observer.notice(Notice::MissingEverywhere {
                objects: &missing,
                stops: false,
            });
        }
        let plan = target.plan(&ctx.cache, observer);
        target.announce(&plan, observer);
        // (run-cache key, or `runs/` for the listing, error)
        let mut entry_failures: Vec<(String, StorageError)> = Vec::new();
        let storage = target.assessment.storage.clone();
        let runs_missing = match runs.map(|r| r.missing_on(storage.as_ref(), jobs, observer)) {
            Some(Ok(Some(entries))) => entries,
            Some(Err(e)) => {
                entry_failures.push(("runs/".to_string(), e));
                Vec::new()
            }
            _ => Vec::new(),
        };
        let remote = target.remote().to_string();
        let entry_failure =
            |(key, error): (String, StorageError)| TransferFailure::entry(&remote, key, error);
        if plan.is_empty() && runs_missing.is_empty() {
            target.save_index();
            outcome
                .failed
                .extend(entry_failures.into_iter().map(entry_failure));
            target.requests(observer);
            continue;
        }
        let progress = target.progress(plan.len() + runs_missing.len(), observer);
        let uploads = target.upload(&plan, &ctx.cache, &progress);
        if let Some(runs) = runs.filter(|_| !runs_missing.is_empty()) {
            let on_remote = target
                .assessment
                .present
                .iter()
                .chain(&uploads.uploaded)
                .collect();
            let entries = runs.upload(
                storage.as_ref(),
                &runs_missing,
                &on_remote,
                jobs,
                &progress,
                observer,
            );
            outcome.pushed += entries.uploaded;
            entry_failures.extend(entries.failed);
        }
        progress.finish();
        target.requests(observer);
        outcome.pushed += uploads.uploaded.len();
        outcome.failed.extend(target.failures(uploads.failed));
        outcome
            .failed
            .extend(entry_failures.into_iter().map(entry_failure));
    }
    Ok(outcome)
}
