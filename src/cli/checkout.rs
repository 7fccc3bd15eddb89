//! `git dvc checkout`: put the data the work tree's DVC files name in place, from the
//! cache, as `dvc checkout` does (its output lines, summaries, messages and exit codes).

use clap::Args;

use super::args::OutputArgs;
use super::report;
use crate::dvc::repo_lock::RepoLock;
use crate::engine::{self, SyncRequest, TargetSpec};
use crate::error::Error;
use crate::git::revisions::RevisionSelection;
use crate::objects::collect::{Direction, FailedRevisions, WorkspaceOutput};
use crate::objects::snapshot::RepoContext;
use crate::objects::targets::{StageLookup, TargetError};
use crate::sync::MemberCheck;
use crate::workspace::checkout::{
    self, CheckoutError, CheckoutOutcome, CheckoutRequest, Cleanup, FailReason, Failure,
};

#[derive(Debug, Clone, Args)]
pub struct CheckoutArgs {
    /// Limit to these `.dvc` files, `dvc.yaml[:stage]` files, stage names or output paths
    /// (a path inside a tracked directory checks out only that file or subdirectory: the
    /// rest of the directory is not touched, even with `-f`).
    #[arg(value_name = "TARGETS")]
    pub targets: Vec<String>,
    /// Also check out the outputs of the stages the targets depend on.
    #[arg(short = 'd', long = "with-deps")]
    pub with_deps: bool,
    /// Treat directory targets as "every DVC file under it".
    #[arg(short = 'R', long = "recursive")]
    pub recursive: bool,
    /// Delete or replace files whose content is not in the cache (modified or unsaved
    /// files), instead of stopping with the list of them.
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Make every file again from the cache, unchanged ones too (after changing
    /// `cache.type`, say).
    #[arg(long = "relink")]
    pub relink: bool,
    /// Do not fail for outputs whose data is not in the cache (nor for stages never run):
    /// they are left out.
    #[arg(long = "allow-missing")]
    pub allow_missing: bool,
    /// Print only the count of changed files (`No changes.` when nothing changed).
    #[arg(long = "summary")]
    pub summary: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// DVC's exit code for a failed checkout (its "unexpected error" code).
const CHECKOUT_FAILED: i32 = 255;

pub fn run(args: CheckoutArgs) -> i32 {
    let quiet = args.output.quiet;
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return fail(quiet, &e),
    };
    match checkout(&cwd, &args) {
        Ok(code) => code,
        Err(e) => fail(quiet, &e),
    }
}

fn fail(quiet: bool, err: &Error) -> i32 {
    if report::is_config_failure(err) {
        // DVC's configuration error: its line, and 251 (silent under -q).
        return match quiet {
            true => report::CONFIG_ERROR_EXIT,
            false => report::fail("", err),
        };
    }
    if quiet {
        // DVC's -q silences errors too; only the exit code remains.
        return match err {
            Error::NotDvcRepo(_) => 253,
            _ => CHECKOUT_FAILED,
        };
    }
    match err {
        Error::NotDvcRepo(_) => report::fail("", err),
        Error::Target(t) => {
            report::error(&match suggest_git(t) {
                Some(target) => format!("Did you mean `git checkout {target}`?: {err}"),
                None => err.to_string(),
            });
            CHECKOUT_FAILED
        }
        _ => {
            report::fail("", err);
            CHECKOUT_FAILED
        }
    }
}

/// The target DVC suggests `git checkout` of (as typed): DVC's checkout adds the hint to
/// "not an output or a stage" and to a DVC file that does not exist, not to a stage
/// missing from an existing file, nor to `dvc.lock` given for `dvc.yaml`.
fn suggest_git(err: &TargetError) -> Option<&str> {
    match err {
        TargetError::NotAnOutputOrStage { target, .. } => Some(target),
        TargetError::Lookup {
            target,
            cause: StageLookup::FileMissing(_),
        } => Some(target),
        _ => None,
    }
}

fn checkout(cwd: &std::path::Path, args: &CheckoutArgs) -> Result<i32, Error> {
    let ctx = RepoContext::open(cwd)?;
    if ctx.git.work_dir().is_none() {
        return Err(Error::NeedsWorkTree {
            command: "checkout",
        });
    }
    let request = workspace_request(
        &args.targets,
        args.recursive,
        args.with_deps,
        false,
        &args.output,
    );
    let _lock = RepoLock::acquire(&ctx.dvc_dir)?;
    // DVC's checkout reads the one work tree: its error, without push's skip warning.
    let collected = engine::collect_in(&ctx, &request).map_err(Error::without_skip_warnings)?;
    let quiet = args.output.quiet;
    if !quiet {
        for w in &collected.warnings {
            report::warn(w);
        }
    }
    let checkout_request = CheckoutRequest {
        force: args.force,
        relink: args.relink,
        cleanup: if args.targets.is_empty() {
            Cleanup::AllFormer
        } else {
            Cleanup::None
        },
    };
    let outputs = &collected.workspace_outputs;
    let outcome = match checkout::run(&ctx, outputs, &checkout_request) {
        Ok(o) => o,
        Err(e) => return Err(checkout_error(e)),
    };
    let printer = Printer::new(&ctx, quiet);
    printer.warnings(&outcome, outputs);
    if args.relink {
        printer.line("Relinked successfully");
    } else if args.summary {
        let parts = summary_parts(0, &outcome);
        printer.line(&if parts.is_empty() {
            "No changes.".to_string()
        } else {
            join_summary(&parts)
        });
    } else {
        printer.changes(&outcome);
    }
    match printer.failures(&outcome, args.allow_missing) {
        Some(message) => {
            if !quiet {
                report::error(&message);
            }
            Ok(CHECKOUT_FAILED)
        }
        None => Ok(0),
    }
}

/// The request for the work tree's outputs (and, for pull, `selection`'s revisions).
pub(crate) fn workspace_request(
    targets: &[String],
    recursive: bool,
    with_deps: bool,
    glob: bool,
    out: &OutputArgs,
) -> SyncRequest {
    SyncRequest {
        revisions: RevisionSelection::default(),
        targets: (!targets.is_empty()).then(|| TargetSpec {
            patterns: targets.to_vec(),
            recursive,
            with_deps,
            glob,
        }),
        remote: None,
        jobs: None,
        quiet: out.quiet,
        verbose: out.verbose,
        members: MemberCheck::TrustManifests,
        failed_revisions: FailedRevisions::Skip,
        direction: Direction::Workspace,
        workspace_outputs: true,
        run_cache: false,
    }
}

pub(crate) fn checkout_error(e: CheckoutError) -> Error {
    Error::Checkout(e)
}

/// Prints a checkout's outcome as DVC does, paths relative to the current directory.
pub(crate) struct Printer<'a> {
    ctx: &'a RepoContext,
    quiet: bool,
}

impl<'a> Printer<'a> {
    pub fn new(ctx: &'a RepoContext, quiet: bool) -> Printer<'a> {
        Printer { ctx, quiet }
    }

    pub fn line(&self, text: &str) {
        if !self.quiet {
            println!("{text}");
        }
    }

    /// An output path as DVC shows it: relative to the current directory.
    fn shown(&self, path: &str) -> String {
        crate::objects::targets::relative_path(path, &self.ctx.cwd_prefix)
    }

    /// `A\td/`, `M\ta.txt`, `D\trun.sh`, in the outcome's (DVC's) order.
    pub fn changes(&self, outcome: &CheckoutOutcome) {
        for c in &outcome.changes {
            let slash = if c.is_dir { "/" } else { "" };
            self.line(&format!(
                "{}       {}{slash}",
                c.kind.letter(),
                self.shown(&c.path)
            ));
        }
    }

    /// DVC's warning for outputs without a hash.
    pub fn warnings(&self, outcome: &CheckoutOutcome, outputs: &[WorkspaceOutput]) {
        if self.quiet {
            return;
        }
        for f in &outcome.failed {
            if f.reason == FailReason::NoHash {
                report::warn(&format!(
                    "No file hash info found for '{}'. It won't be created.",
                    self.ctx.root.join(&f.path).display()
                ));
            }
        }
        let _ = outputs;
    }

    /// DVC's "Checkout failed" message when outputs failed (`allow_missing`: only those
    /// that failed for another reason than missing data count). An output that failed for
    /// another reason (a link the file system refused, a path through a symbolic link)
    /// says why after its path; DVC's "Is your cache up to date?" hint follows only when
    /// some output lacks data.
    pub fn failures(&self, outcome: &CheckoutOutcome, allow_missing: bool) -> Option<String> {
        let failed: Vec<&Failure> = outcome
            .failed
            .iter()
            .filter(|f| !allow_missing || matches!(f.reason, FailReason::Other(_)))
            .collect();
        if failed.is_empty() {
            return None;
        }
        let mut message = "Checkout failed for following targets:".to_string();
        for f in &failed {
            message.push('\n');
            message.push_str(&self.shown(&f.path));
            if let FailReason::Other(cause) = &f.reason {
                message.push_str(": ");
                message.push_str(cause);
            }
        }
        if failed
            .iter()
            .any(|f| !matches!(f.reason, FailReason::Other(_)))
        {
            message.push_str("\nIs your cache up to date?\n<https://error.dvc.org/missing-files>");
        }
        Some(message)
    }
}

/// DVC's summary parts (`get_summary`): fetched, modified, added, deleted; zeros left out.
pub(crate) fn summary_parts(fetched: usize, outcome: &CheckoutOutcome) -> Vec<String> {
    [
        (fetched, "fetched"),
        (outcome.modified, "modified"),
        (outcome.added, "added"),
        (outcome.deleted, "deleted"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, verb)| format!("{} {verb}", report::files(n)))
    .collect()
}

/// `a, b and c`.
pub(crate) fn join_summary(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_reads_like_dvc() {
        let outcome = CheckoutOutcome {
            modified: 1,
            added: 1,
            deleted: 1,
            ..Default::default()
        };
        assert_eq!(
            join_summary(&summary_parts(0, &outcome)),
            "1 file modified, 1 file added and 1 file deleted"
        );
        let outcome = CheckoutOutcome {
            added: 5,
            ..Default::default()
        };
        assert_eq!(
            join_summary(&summary_parts(6, &outcome)),
            "6 files fetched and 5 files added"
        );
    }
}
