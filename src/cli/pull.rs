//! `git dvc pull`: `git dvc fetch` and then `git dvc checkout`, as `dvc pull` does: one
//! collection, one lock, the fetch of the selected revisions, and if every download
//! worked, the checkout of the work tree's outputs; DVC's summary and exit codes.

use std::collections::BTreeSet;
use std::path::Path;

use clap::Args;

use super::args::{OutputArgs, SelectionArgs};
use super::checkout::{checkout_error, join_summary, summary_parts, Printer};
use super::failures::{self, UploadFailure, Way};
use super::push::{missing_message, used_by};
use super::report;
use crate::engine::fetch::{fetch_collected, lock_cache, tell_collected};
use crate::engine::{self, SyncRequest};
use crate::error::Error;
use crate::objects::snapshot::RepoContext;
use crate::workspace::checkout::{self, CheckoutOutcome, CheckoutRequest, Cleanup, FailReason};

const WHAT: &str = "failed to pull data from the cloud";

#[derive(Debug, Clone, Args)]
pub struct PullArgs {
    #[command(flatten)]
    pub selection: SelectionArgs,
    /// Delete or replace files whose content is not in the cache (modified or unsaved
    /// files), instead of stopping with the list of them.
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Do not fail for outputs whose data is neither in the cache nor on the remote:
    /// they are left out.
    #[arg(long = "allow-missing")]
    pub allow_missing: bool,
    /// Also fetch the run cache (`runs/`: past stage runs, which `dvc repro` reuses).
    #[arg(long = "run-cache", overrides_with = "no_run_cache")]
    pub run_cache: bool,
    /// Do not fetch the run cache (the default).
    #[arg(long = "no-run-cache", overrides_with = "run_cache")]
    pub no_run_cache: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What a pull asks for, resolved from its flags (or a hook's input).
#[derive(Debug, Clone)]
pub struct PullRequest {
    /// Revisions to fetch (the work tree always), targets, remote, jobs, `run_cache`.
    pub sync: SyncRequest,
    pub checkout: CheckoutRequest,
    /// Check out what the cache holds even when a download failed (the hooks: the
    /// outputs that could be fetched are better in place than left stale). `dvc pull`
    /// checks out nothing then.
    pub keep_going: bool,
}

/// What a pull did: objects fetched, and the checkout.
pub struct PullOutcome {
    pub fetched: usize,
    /// A download failed (said already); only with `keep_going` is there a checkout.
    pub fetch_failed: bool,
    pub checkout: CheckoutOutcome,
}

pub fn run(args: PullArgs) -> i32 {
    let quiet = args.output.quiet;
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return fail(quiet, &e),
    };
    let mut sync = args.selection.request(&args.output).checking_out(true);
    sync.run_cache = args.run_cache;
    let request = PullRequest {
        checkout: CheckoutRequest {
            force: args.force,
            relink: false,
            cleanup: if sync.targets.is_none() {
                Cleanup::AllFormer
            } else {
                Cleanup::None
            },
        },
        sync,
        keep_going: false,
    };
    match pull(&cwd, &request, args.allow_missing) {
        Ok(code) => code,
        Err(e) => fail(quiet, &e),
    }
}

fn fail(quiet: bool, err: &Error) -> i32 {
    if quiet {
        return match err {
            Error::NotDvcRepo(_) => 253,
            _ if report::is_config_failure(err) => report::CONFIG_ERROR_EXIT,
            _ => 1,
        };
    }
    report::fail(WHAT, err)
}

fn pull(cwd: &Path, request: &PullRequest, allow_missing: bool) -> Result<i32, Error> {
    let ctx = RepoContext::open(cwd)?;
    if ctx.git.work_dir().is_none() {
        return Err(Error::NeedsWorkTree { command: "pull" });
    }
    // You fetch through this config yourself: the checkout hooks may from now on too.
    crate::cli::checkout_hooks::trust_head_config(&ctx);
    let quiet = request.sync.quiet;
    let (outcome, imports) = match pull_in(&ctx, request)? {
        Pulled::Done(outcome, imports) => (outcome, imports),
        Pulled::FetchFailed => return Ok(1),
    };
    let printer = Printer::new(&ctx, quiet);
    let mut checkout = outcome.checkout;
    // Data of `dvc import`s is not git-dvc's to fetch (fetch has said so): not a failure.
    checkout
        .failed
        .retain(|f| !(imports.contains(&f.path) && matches!(f.reason, FailReason::Missing(_))));
    printer.warnings(&checkout, &[]);
    printer.changes(&checkout);
    let parts = summary_parts(outcome.fetched, &checkout);
    if parts.is_empty() {
        printer.line("Everything is up to date.");
    } else {
        printer.line(&join_summary(&parts));
    }
    match printer.failures(&checkout, allow_missing) {
        Some(message) => {
            if !quiet {
                report::error(&format!("{WHAT} - {message}"));
            }
            Ok(1)
        }
        None => Ok(0),
    }
}

/// What [`pull_in`] came to.
pub enum Pulled {
    /// The outcome, and the paths of `dvc import` outputs.
    Done(PullOutcome, BTreeSet<String>),
    /// A download failed (said already): nothing was checked out, as in DVC.
    FetchFailed,
}

/// Fetch, then checkout, under one lock, in an open repository: the entry point for the
/// hooks too (a [`PullRequest`] whose `checkout.cleanup` is `Cleanup::FromFiles(changed
/// DVC files)` and whose targets are those files). Warnings and fetch failures are
/// printed here, as `git dvc pull` prints them; the checkout's outcome is returned.
pub fn pull_in(ctx: &RepoContext, request: &PullRequest) -> Result<Pulled, Error> {
    let sync = &request.sync;
    let collected = engine::collect_in(ctx, sync)?;
    let mut printer = super::fetch::Printer {
        quiet: sync.quiet,
        verbose: sync.verbose,
    };
    tell_collected(&collected, &mut printer);
    let _lock = lock_cache(ctx)?;
    let outputs = collected.workspace_outputs.clone();
    let fetched = fetch_collected(ctx, collected, sync, &mut printer)?;
    if !fetched.missing.is_empty() && !sync.quiet {
        report::warn(&missing_message(fetched.missing.iter()));
    }
    let fetch_failed = !fetched.failed.is_empty();
    if fetch_failed {
        if !sync.quiet {
            let failed: Vec<UploadFailure> = fetched.failed.into_iter().map(used_by).collect();
            for line in failures::lines_for(&failed, Way::Download) {
                report::error(&line);
            }
            report::error(&format!(
                "{WHAT} - {} failed to download",
                report::files(failed.len())
            ));
        }
        // As DVC: a failed download checks nothing out (the hooks keep going).
        if !request.keep_going {
            return Ok(Pulled::FetchFailed);
        }
    }
    let imports = outputs
        .iter()
        .filter(|o| o.repo_import)
        .map(|o| o.path.clone())
        .collect();
    let checkout = checkout::run(ctx, &outputs, &request.checkout).map_err(checkout_error)?;
    Ok(Pulled::Done(
        PullOutcome {
            fetched: fetched.fetched,
            fetch_failed,
            checkout,
        },
        imports,
    ))
}
