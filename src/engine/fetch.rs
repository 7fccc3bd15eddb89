//! `fetch`: bring what the selected revisions reference from storage into the cache,
//! through the same selection and collection as push, the other way; with `--run-cache`
//! also the run cache of `-r` or the default remote.
//!
//! [`fetch`] is the whole command. A command that goes on to the work tree (pull) runs its
//! steps itself in a repository it has open: [`tell_collected`], [`lock_cache`] (held
//! until the work tree is done too), [`fetch_collected`].

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::notice::{Notice, Observer, Plan, Transfer, TransferFailure};
use super::SyncRequest;
use crate::dvc::cache_leftovers::WritingMarker;
use crate::dvc::cache_writer::CacheWriter;
use crate::dvc::hash::DvcHash;
use crate::dvc::repo_lock::RepoLock;
use crate::error::Error;
use crate::fetch;
use crate::objects::collect::Collected;
use crate::objects::snapshot::RepoContext;
use crate::objects::{DestinationObjects, Provenance};
use crate::storage::{self, ErrorKind, Storage, StorageError};
use crate::transfer::{download, run_cache_fetch};

/// What a fetch came to, over every remote.
#[derive(Debug, Default)]
pub struct FetchOutcome {
    /// Objects now in the cache that were not before.
    pub fetched: usize,
    /// Objects that failed to download or were refused (bytes that do not match their
    /// name, manifests that cannot be trusted), and run-cache entries that failed.
    pub failed: Vec<TransferFailure>,
    /// Objects in neither the cache nor the remote, with the output that needs each.
    pub missing: BTreeMap<DvcHash, Provenance>,
}

/// Opens the repository around `cwd`, collects what `request` covers and fetches it.
pub fn fetch(
    cwd: &Path,
    request: &SyncRequest,
    observer: &mut dyn Observer,
) -> Result<FetchOutcome, Error> {
    let request = request.clone().downloading();
    let (ctx, collected) = super::collect(cwd, &request)?;
    if ctx.git.work_dir().is_none() {
        return Err(Error::NeedsWorkTree { command: "fetch" });
    }
    tell_collected(&collected, observer);
    let _lock = lock_cache(&ctx)?;
    fetch_collected(&ctx, collected, &request, observer)
}

/// What collecting for a download has to say: DVC's warnings, outputs without a remote,
/// `dvc import`s left out.
pub fn tell_collected(collected: &Collected, observer: &mut dyn Observer) {
    if !collected.warnings.is_empty() {
        observer.notice(Notice::Collect(&collected.warnings));
    }
    if collected.used_no_default {
        observer.notice(Notice::NoDefaultRemote);
    }
    if collected.repo_imports > 0 {
        observer.notice(Notice::RepoImportsSkipped(collected.repo_imports));
    }
}

/// DVC's repository lock, for writing the cache (and the work tree): one writer at a time,
/// as DVC. Refused where DVC would lock another way (`core.hardlink_lock`).
pub fn lock_cache(ctx: &RepoContext) -> Result<RepoLock, Error> {
    refuse_hardlink_lock(ctx)?;
    Ok(RepoLock::acquire(&ctx.dvc_dir)?)
}

/// Fetches what `collected` (collected with [`SyncRequest::downloading`]) references into
/// `ctx`'s cache, and with `request.run_cache` the run cache. The caller holds
/// [`lock_cache`]'s lock.
pub fn fetch_collected(
    ctx: &RepoContext,
    collected: Collected,
    request: &SyncRequest,
    observer: &mut dyn Observer,
) -> Result<FetchOutcome, Error> {
    let (_marker, swept) =
        WritingMarker::begin(&ctx.dvc_dir, &ctx.cache).map_err(|source| Error::CannotWrite {
            path: ctx.dvc_dir.join("tmp"),
            source,
        })?;
    if swept > 0 {
        observer.notice(Notice::CacheTemporariesRemoved(swept));
    }
    let writer = CacheWriter::new(&ctx.cache, ctx.cache.shared_group());
    observer.notice(Notice::Scanned {
        revisions: collected.snapshots_used,
        remotes: collected.destinations.len(),
    });

    let mut outcome = FetchOutcome::default();
    for dest in collected.destinations {
        fetch_destination(dest, ctx, &writer, request, observer, &mut outcome)?;
    }
    if request.run_cache {
        fetch_run_cache(ctx, &writer, request, observer, &mut outcome)?;
    }
    Ok(outcome)
}

fn fetch_destination(
    dest: DestinationObjects,
    ctx: &RepoContext,
    writer: &CacheWriter,
    request: &SyncRequest,
    observer: &mut dyn Observer,
    outcome: &mut FetchOutcome,
) -> Result<(), Error> {
    let jobs = super::jobs_for(&dest.remote, request.jobs);
    let limits = ctx.git.limits();
    let storage = match storage::open(&dest.remote, &limits) {
        Ok(storage) => storage,
        Err(e) if e.unexpected => {
            // DVC cannot connect (its file system raised as it was made): every object
            // of the remote fails to download, and the command goes on.
            for (hash, prov) in &dest.objects {
                let error = StorageError::new(e.kind, e.message.clone());
                outcome.failed.push(TransferFailure::object(
                    &dest.remote.name,
                    hash,
                    Some(prov),
                    error,
                ));
            }
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    };
    let assessment = fetch::assess(dest, Arc::from(storage), &ctx.cache, &limits)?;
    let remote = assessment.remote.name.clone();
    // The manifests that cannot be trusted fail (their directories' files with them);
    // everything else still lands.
    for invalid in &assessment.invalid {
        outcome.failed.push(TransferFailure {
            remote: remote.clone(),
            id: invalid.hash.oid.to_string(),
            key: invalid.hash.relative_key(),
            used_by: None,
            error: StorageError::new(ErrorKind::Corrupt, invalid.to_string()),
        });
    }
    for (hash, prov) in assessment.missing_manifests() {
        outcome
            .missing
            .entry(hash.clone())
            .or_insert_with(|| prov.clone());
    }
    let plan = assessment.plan();
    let location = assessment.storage.describe();
    observer.notice(Notice::Planned(&Plan {
        remote: &remote,
        location: &location,
        referenced: assessment.set.len(),
        present: assessment.cached.len(),
        transfers: plan.len(),
    }));
    if !plan.is_empty() {
        let progress = observer.progress(Transfer::Download { remote: &remote }, plan.len());
        let downloads = download::run(assessment.storage.as_ref(), writer, &plan, jobs, &progress);
        progress.finish();
        outcome.fetched += downloads.fetched.len();
        for hash in downloads.absent {
            if let Some(prov) = assessment.set.provenance(&hash) {
                outcome.missing.entry(hash).or_insert_with(|| prov.clone());
            }
        }
        for (hash, error) in downloads.failed {
            let used_by = assessment.set.provenance(&hash);
            outcome
                .failed
                .push(TransferFailure::object(&remote, &hash, used_by, error));
        }
    }
    observer.notice(Notice::Requests {
        remote: &remote,
        location: &location,
        count: assessment.storage.requests(),
    });
    Ok(())
}

/// The run cache comes from `-r` or the workspace's default remote, as DVC takes it; with
/// neither, or from an HTTP remote, DVC skips it without a word, and so does this.
fn fetch_run_cache(
    ctx: &RepoContext,
    writer: &CacheWriter,
    request: &SyncRequest,
    observer: &mut dyn Observer,
    outcome: &mut FetchOutcome,
) -> Result<(), Error> {
    let config = &ctx.workspace_config;
    let Some(name) = request.remote.clone().or_else(|| config.core_remote()) else {
        observer.notice(Notice::RunCacheNoRemote);
        return Ok(());
    };
    let remote = config.remote(&name)?;
    let limits = ctx.git.limits();
    let storage: Box<dyn Storage> = storage::open(&remote, &limits)?;
    let jobs = super::jobs_for(&remote, request.jobs);
    let keys = match run_cache_fetch::missing_entries(storage.as_ref(), writer) {
        Ok(Some(keys)) => keys,
        Ok(None) => {
            observer.notice(Notice::RunCacheUnlistable {
                remote: &remote.name,
            });
            return Ok(());
        }
        Err(e) => {
            let failure = TransferFailure::entry(&remote.name, "runs/".to_string(), e);
            outcome.failed.push(failure);
            return Ok(());
        }
    };
    let progress = observer.progress(Transfer::RunCacheDownload, keys.len());
    let entries = run_cache_fetch::fetch_entries(
        storage.as_ref(),
        writer,
        &keys,
        jobs,
        limits.dvc_file,
        &progress,
    );
    progress.finish();
    observer.notice(Notice::RunCacheFetched {
        entries: entries.fetched,
        remote: &remote.name,
    });
    outcome.failed.extend(
        entries
            .failed
            .into_iter()
            .map(|(key, error)| TransferFailure::entry(&remote.name, key, error)),
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
