//! `git dvc fetch`: bring what the selected revisions reference from storage into the
//! cache, through the same selection and collection as push, the other way. The work is
//! [`crate::engine::fetch`]'s.

use super::args::FetchArgs;
use super::failures::{self, UploadFailure, Way};
use super::push::{missing_message, used_by};
use super::report;
use crate::engine::notice::{Notice, Observer, Transfer};
use crate::engine::{self, fetch};
use crate::transfer::progress::Progress;

const WHAT: &str = "failed to fetch data from the cloud";

pub fn run(args: FetchArgs) -> i32 {
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let mut request = args.selection.request(&args.output);
    request.run_cache = args.run_cache;
    let mut printer = Printer {
        quiet: request.quiet,
        verbose: request.verbose,
    };
    let outcome = match fetch::fetch(&cwd, &request, &mut printer) {
        Ok(outcome) => outcome,
        Err(e) => return report::fail(WHAT, &e),
    };
    if !outcome.missing.is_empty() && !request.quiet {
        report::warn(&missing_message(outcome.missing.iter()));
    }
    if !outcome.failed.is_empty() {
        let failed: Vec<UploadFailure> = outcome.failed.into_iter().map(used_by).collect();
        for line in failures::lines_for(&failed, Way::Download) {
            report::error(&line);
        }
        report::error(&format!(
            "{WHAT} - {} failed to download",
            report::files(failed.len())
        ));
        return 1;
    }
    if !request.quiet {
        match outcome.fetched {
            0 => println!("Everything is up to date."),
            n => println!("{} fetched", report::files(n)),
        }
    }
    0
}

/// `-q`: nothing but errors, as DVC (its warnings go through the same logger).
pub struct Printer {
    pub quiet: bool,
    pub verbose: u8,
}

impl Observer for Printer {
    fn notice(&mut self, notice: Notice<'_>) {
        let (quiet, verbose) = (self.quiet, self.verbose > 0);
        match notice {
            Notice::Collect(warnings) if !quiet => warnings.iter().for_each(|w| report::warn(w)),
            // DVC says it bare, not as a warning.
            Notice::NoDefaultRemote if !quiet => {
                eprintln!("No remote provided and no default remote set.")
            }
            Notice::RepoImportsSkipped(n) if !quiet => report::warn(&format!(
                "{} from `dvc import` (data of another repository) not fetched: git-dvc fetches from DVC remotes only; run `dvc fetch` for them",
                match n {
                    1 => "1 output".to_string(),
                    n => format!("{n} outputs"),
                }
            )),
            Notice::CacheTemporariesRemoved(n) if verbose => eprintln!(
                "git-dvc: removed {n} temporary files left in the cache by an interrupted run"
            ),
            Notice::Scanned { revisions, remotes } if verbose => eprintln!(
                "git-dvc: {revisions} revision(s) scanned, {remotes} remote(s) to fetch from"
            ),
            Notice::Planned(plan) if verbose => eprintln!(
                "git-dvc: remote '{}' ({}): {} objects referenced, {} in the cache, {} to download",
                plan.remote, plan.location, plan.referenced, plan.present, plan.transfers
            ),
            Notice::Requests {
                remote,
                location,
                count,
            } if verbose => report::requests(remote, location, count),
            Notice::RunCacheNoRemote if verbose => {
                eprintln!("git-dvc: no remote for the run cache: not fetched")
            }
            Notice::RunCacheUnlistable { remote } if verbose => eprintln!(
                "git-dvc: remote '{remote}' cannot be listed: run cache not fetched"
            ),
            Notice::RunCacheFetched { entries, remote } if verbose => eprintln!(
                "git-dvc: {entries} run-cache entries fetched from remote '{remote}'"
            ),
            _ => {}
        }
    }

    fn progress(&mut self, transfer: Transfer<'_>, total: usize) -> Progress {
        let label = match transfer {
            Transfer::Download { remote } => format!("Fetching from '{remote}'"),
            Transfer::RunCacheDownload => "Fetching the run cache".to_string(),
            Transfer::Upload { .. } => String::new(),
        };
        Progress::new(total, &label, self.quiet)
    }
}
