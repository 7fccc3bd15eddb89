//! `git dvc push`: upload what the selected revisions reference.

use super::args::PushArgs;
use super::failures::{self, UploadFailure};
use super::report;
use crate::dvc::hash::DvcHash;
use crate::engine::notice::{Notice, Observer, Transfer, TransferFailure};
use crate::engine::{self, push};
use crate::objects::Provenance;
use crate::transfer::progress::Progress;

const WHAT: &str = "failed to push data to the cloud";

pub fn run(args: PushArgs) -> i32 {
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let mut request = args
        .selection
        .request(&args.output)
        .checking_members(args.check_members);
    request.run_cache = args.run_cache;
    let mut printer = Printer {
        quiet: request.quiet,
        verbose: request.verbose,
    };
    let outcome = match push::push(&cwd, &request, &mut printer) {
        Ok(outcome) => outcome,
        Err(e) => return report::fail(WHAT, &e),
    };
    if !outcome.failed.is_empty() {
        let failed: Vec<UploadFailure> = outcome.failed.into_iter().map(used_by).collect();
        for line in failures::lines(&failed) {
            report::error(&line);
        }
        report::error(&format!(
            "{WHAT} - {} failed to upload",
            report::files(failed.len())
        ));
        return 1;
    }
    if !request.quiet {
        if outcome.pushed == 0 {
            println!("Everything is up to date.");
        } else {
            println!("{} pushed", report::files(outcome.pushed));
        }
    }
    0
}

/// A failure as push and fetch name it: `(used by data@HEAD)` after the error.
pub fn used_by(failure: TransferFailure) -> UploadFailure {
    let note = failure
        .used_by
        .as_ref()
        .map(|p| format!(" (used by {p})"))
        .unwrap_or_default();
    UploadFailure::new(failure, note)
}

/// `-q`: nothing but errors, as DVC (its warnings go through the same logger).
struct Printer {
    quiet: bool,
    verbose: u8,
}

impl Observer for Printer {
    fn notice(&mut self, notice: Notice<'_>) {
        let (quiet, verbose) = (self.quiet, self.verbose > 0);
        match notice {
            Notice::Collect(warnings) if !quiet => warnings.iter().for_each(|w| report::warn(w)),
            Notice::NoDefaultRemote if !quiet => {
                report::warn("No remote provided and no default remote set.")
            }
            Notice::Scanned { revisions, remotes } if verbose => {
                eprintln!("git-dvc: {revisions} revision(s) scanned, {remotes} remote(s) to update")
            }
            Notice::MissingEverywhere { objects, .. } if !quiet => report::warn(&missing_message(
                objects.iter().map(|m| (&m.hash, &m.used_by)),
            )),
            Notice::RemoteTemporariesRemoved(n) if verbose => {
                eprintln!("git-dvc: removed {n} temporary files left by interrupted uploads")
            }
            Notice::Planned(plan) if verbose => eprintln!(
                "git-dvc: remote '{}' ({}): {} objects referenced, {} present, {} to upload",
                plan.remote, plan.location, plan.referenced, plan.present, plan.transfers
            ),
            Notice::Requests {
                remote,
                location,
                count,
            } if verbose => report::requests(remote, location, count),
            // The run cache's warnings are shown even with -q.
            Notice::RunCacheUnreadable(warnings) => warnings.iter().for_each(|w| report::warn(w)),
            Notice::RunCacheNotOnHttp { remote } => report::warn(&format!(
                "the run cache is not pushed to remote '{remote}': DVC cannot pull a run cache \
                 from an HTTP remote"
            )),
            Notice::RunCacheHeldBack { entries, remote } => report::warn(&format!(
                "{} of the run cache not pushed: outputs of those runs are not on remote \
                 '{remote}' (in neither the cache nor the remote, or failed to upload)",
                match entries {
                    1 => "1 entry".to_string(),
                    n => format!("{n} entries"),
                }
            )),
            _ => {}
        }
    }

    fn progress(&mut self, transfer: Transfer<'_>, total: usize) -> Progress {
        let label = match transfer {
            Transfer::Upload { remote } => format!("Pushing to '{remote}'"),
            _ => String::new(),
        };
        Progress::new(total, &label, self.quiet)
    }
}

/// DVC's warning for objects that exist neither in the cache nor on the remote, then the
/// output and revision that need each.
///
/// DVC's lines come first and unchanged (the header, then one `md5: <hash>` line per
/// object), so a script that reads the `md5: ` lines under the header reads what it reads
/// from DVC. git-dvc's addition follows on indented lines that start with the hash, never
/// with `md5: `.
pub fn missing_message<'a>(
    missing: impl Iterator<Item = (&'a DvcHash, &'a Provenance)> + Clone,
) -> String {
    let mut lines = vec![
        "Some of the cache files do not exist neither locally nor on remote. Missing cache files:"
            .to_string(),
    ];
    for (hash, _) in missing.clone() {
        lines.push(format!("{}: {}", hash.kind.name(), hash.oid));
    }
    for (hash, prov) in missing {
        lines.push(format!("  {} is used by {prov}", hash.oid));
    }
    lines.join("\n")
}
