//! `git dvc push`: upload what the selected revisions reference.

use std::collections::BTreeMap;

use super::args::PushArgs;
use super::failures::{self, UploadFailure};
use super::push_run_cache::{RunCachePush, RUN_CACHE_REVISION};
use super::report;
use crate::dvc::dir_manifest::RelpathRules;
use crate::dvc::hash::DvcHash;
use crate::engine;
use crate::error::Error;
use crate::objects::verified_dirs::VerifiedDirs;
use crate::objects::Provenance;
use crate::storage::StorageError;
use crate::sync;
use crate::transfer::{self, progress::Progress};

const WHAT: &str = "failed to push data to the cloud";

pub fn run(args: PushArgs) -> i32 {
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let request = args
        .selection
        .request(&args.output)
        .checking_members(args.check_members);
    match push(&cwd, &request, args.run_cache) {
        Ok(code) => code,
        Err(e) => report::fail(WHAT, &e),
    }
}

fn push(
    cwd: &std::path::Path,
    request: &engine::SyncRequest,
    run_cache: bool,
) -> Result<i32, Error> {
    let (ctx, mut collected) = engine::collect(cwd, request)?;
    // `-q`: nothing but errors, as DVC (its warnings go through the same logger).
    if !request.quiet {
        for w in &collected.warnings {
            report::warn(w);
        }
    }
    let runs = match run_cache {
        true => {
            RunCachePush::prepare(&ctx, request.remote.as_deref(), &mut collected.destinations)?
        }
        false => None,
    };
    if collected.used_no_default && !request.quiet {
        report::warn("No remote provided and no default remote set.");
    }
    if request.verbose > 0 {
        eprintln!(
            "git-dvc: {} revision(s) scanned, {} remote(s) to update",
            collected.snapshots_used,
            collected.destinations.len()
        );
    }
    let mut pushed = 0usize;
    let mut failed: Vec<UploadFailure> = Vec::new();
    for dest in collected.destinations {
        let jobs = engine::jobs_for(&dest.remote, request.jobs);
        let runs = runs.as_ref().filter(|r| r.is_for(&dest));
        // Manifests verified complete on this remote before are not read again.
        let mut verified = VerifiedDirs::load(ctx.git.git_dir(), &dest.remote.url);
        let assessment = sync::assess_with(
            dest,
            &ctx.cache,
            jobs,
            false,
            request.members,
            RelpathRules::ThisPlatform,
            Some(&mut verified),
        )?;
        let mut missing = assessment.missing_everywhere();
        // Old runs' outputs are often gone (`dvc gc`): their entries are held back instead.
        missing.retain(|_, p| p.revision != RUN_CACHE_REVISION);
        if !missing.is_empty() && !request.quiet {
            report::warn(&missing_message(&missing));
        }
        let plan = assessment.plan(&ctx.cache);
        let cleaned = assessment.storage.remove_stale_temporaries();
        if request.verbose > 0 && cleaned > 0 {
            eprintln!("git-dvc: removed {cleaned} temporary files left by interrupted uploads");
        }
        if request.verbose > 0 {
            eprintln!(
                "git-dvc: remote '{}' ({}): {} objects referenced, {} present, {} to upload",
                assessment.remote.name,
                assessment.storage.describe(),
                assessment.set.len(),
                assessment.present.len(),
                plan.len()
            );
        }
        // (run-cache key, or `runs/` for the listing, error)
        let mut storage_failures: Vec<(String, StorageError)> = Vec::new();
        let runs_missing = match runs.map(|r| r.missing_on(assessment.storage.as_ref(), jobs)) {
            Some(Ok(Some(entries))) => entries,
            Some(Err(e)) => {
                storage_failures.push(("runs/".to_string(), e));
                Vec::new()
            }
            _ => Vec::new(),
        };
        let remote = &assessment.remote.name;
        let entry_failure = |(key, error): (String, StorageError)| UploadFailure {
            remote: remote.clone(),
            id: key.clone(),
            key,
            note: String::new(),
            error,
        };
        if plan.is_empty() && runs_missing.is_empty() {
            verified.save();
            failed.extend(storage_failures.into_iter().map(entry_failure));
            report::requests(
                request.verbose,
                &assessment.remote.name,
                assessment.storage.as_ref(),
            );
            continue;
        }
        let progress = Progress::new(
            plan.len() + runs_missing.len(),
            &format!("Pushing to '{}'", assessment.remote.name),
            request.quiet,
        );
        let outcome = transfer::run(assessment.storage.as_ref(), &plan, jobs, &progress);
        assessment.record_uploads(&plan, &outcome, &mut verified, &ctx.cache);
        verified.save();
        if let Some(runs) = runs.filter(|_| !runs_missing.is_empty()) {
            let on_remote = assessment.present.iter().chain(&outcome.uploaded).collect();
            let entries = runs.upload(
                assessment.storage.as_ref(),
                &runs_missing,
                &on_remote,
                jobs,
                &progress,
            );
            pushed += entries.uploaded;
            storage_failures.extend(entries.failed);
        }
        progress.finish();
        report::requests(
            request.verbose,
            &assessment.remote.name,
            assessment.storage.as_ref(),
        );
        pushed += outcome.uploaded.len();
        failed.extend(outcome.failed.into_iter().map(|(hash, error)| {
            let note = assessment
                .set
                .provenance(&hash)
                .map(|p| format!(" (used by {p})"))
                .unwrap_or_default();
            UploadFailure {
                remote: remote.clone(),
                id: hash.oid.to_string(),
                key: hash.relative_key(),
                note,
                error,
            }
        }));
        failed.extend(storage_failures.into_iter().map(entry_failure));
    }
    if !failed.is_empty() {
        for line in failures::lines(&failed) {
            report::error(&line);
        }
        report::error(&format!(
            "{WHAT} - {} failed to upload",
            report::files(failed.len())
        ));
        return Ok(1);
    }
    if !request.quiet {
        if pushed == 0 {
            println!("Everything is up to date.");
        } else {
            println!("{} pushed", report::files(pushed));
        }
    }
    Ok(0)
}

/// DVC's warning for objects that exist neither in the cache nor on the remote, with the
/// output and revision that need each.
pub fn missing_message(missing: &BTreeMap<&DvcHash, &Provenance>) -> String {
    let mut lines = vec![
        "Some of the cache files do not exist neither locally nor on remote. Missing cache files:"
            .to_string(),
    ];
    for (hash, prov) in missing {
        lines.push(format!("{}: {} ({prov})", hash.kind.name(), hash.oid));
    }
    lines.join("\n")
}
