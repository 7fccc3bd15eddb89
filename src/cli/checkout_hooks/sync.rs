//! The work of a checkout hook once git has moved: the scope of the move, the outputs of
//! the old commit that `dvc add` wrote (adopted, so that they can be cleaned up), the
//! fetch and checkout (`git dvc pull`'s, for the changed outputs only), what is said, and
//! the record of the commit the data now follows.

use std::path::Path;

use super::site::{Move, Site};
use super::{hint, FETCH_KEY};
use crate::cli::checkout::{
    checkout_error, join_summary, summary_parts, workspace_request, Printer,
};
use crate::cli::pull::{pull_in, PullRequest, Pulled};
use crate::dvc::repo_lock::RepoLock;
use crate::error::Error;
use crate::git::GitOid;
use crate::objects::checkout_scope::{self, Scope};
use crate::objects::snapshot::RepoContext;
use crate::workspace::checkout::{self, CheckoutOutcome, CheckoutRequest, Cleanup, FailReason};
use crate::workspace::synced_commit;

/// Brings the data of the outputs whose DVC files changed and records the commit the
/// data now follows. False when some output could not be checked out (said already):
/// the record moves on all the same, since the warning gave the way out and a hook that
/// retried an object lost for good would warn on every checkout.
pub(super) fn sync(cwd: &Path, site: &Site, kind: Move, strict: bool) -> Result<bool, Error> {
    let recorded = synced_commit::read(&site.dvc_dir);
    site.seed_trusted_config(kind, recorded);
    let mut olds: Vec<Option<GitOid>> = vec![site.before(kind)];
    match recorded {
        Some(Some(commit)) => olds.push(site.known(commit)),
        // No record: no hook has brought this work tree's data yet (hooks installed in a
        // clone never pulled, say), so whatever HEAD was, the data may follow no commit:
        // everything, as after a clone. Outputs already in place cost an lstat each.
        Some(None) | None => olds.push(None),
    }
    olds.dedup();
    // `.dvcignore` files hide DVC files, as in every DVC command.
    let scope = checkout_scope::between(&site.git, &site.project, true, site.head, &olds)?;
    let record = |clean: bool| {
        let _ = if kind == Move::Squash {
            synced_commit::clear(&site.dvc_dir)
        } else {
            synced_commit::write(&site.dvc_dir, Some(site.head))
        };
        Ok(clean)
    };
    if scope == Scope::Unchanged {
        if recorded != Some(Some(site.head)) {
            return record(true);
        }
        return Ok(true);
    }
    let ctx = RepoContext::open(cwd)?;
    let fetch_on = ctx
        .git
        .local()
        .config_snapshot()
        .boolean(FETCH_KEY)
        .unwrap_or(true);
    let config_is_new = fetch_on && !site.config_trusted(&ctx, kind, recorded);
    let fetch = fetch_on && !config_is_new;
    let (targets, cleanup) = match &scope {
        Scope::Files {
            present, changed, ..
        } => (
            present
                .iter()
                // A DVC file deleted from the work tree since (or never written) has no
                // outputs to check out; its former ones are still cleaned up.
                .filter(|f| ctx.root.join(f).is_file())
                .cloned()
                .collect::<Vec<_>>(),
            Cleanup::FromFiles(changed.clone()),
        ),
        _ => (Vec::new(), Cleanup::AllFormer),
    };
    let checkout_request = CheckoutRequest {
        force: false,
        relink: false,
        cleanup,
    };
    let output = crate::cli::args::OutputArgs {
        quiet: false,
        verbose: 0,
    };
    let printer = Printer::new(&ctx, false);
    if let Scope::Files { former, .. } = &scope {
        adopt_former(&ctx, former);
    }
    let (fetched, fetch_failed, outcome) = if matches!(scope, Scope::Files { .. })
        && targets.is_empty()
    {
        // Only DVC files that are gone: nothing to fetch, former outputs to remove.
        let _lock = RepoLock::acquire(&ctx.dvc_dir)?;
        let outcome = checkout::run(&ctx, &[], &checkout_request).map_err(checkout_error)?;
        (0, false, outcome)
    } else {
        let sync = workspace_request(&targets, false, false, false, &output).checking_out(fetch);
        let request = PullRequest {
            sync,
            checkout: checkout_request,
            keep_going: true,
        };
        match pull_in(&ctx, &request)? {
            Pulled::Done(outcome, imports) => {
                let mut checkout = outcome.checkout;
                // `dvc import` data is not git-dvc's to fetch (fetch has said so).
                checkout.failed.retain(|f| {
                    !(imports.contains(&f.path) && matches!(f.reason, FailReason::Missing(_)))
                });
                (outcome.fetched, outcome.fetch_failed, checkout)
            }
            Pulled::FetchFailed => unreachable!("keep_going checks out after a failed fetch"),
        }
    };
    report(&printer, fetched, &outcome);
    let failure = printer.failures(&outcome, false);
    if let Some(message) = &failure {
        let lead = if strict { "ERROR" } else { "WARNING" };
        eprintln!(
            "{lead}: git-dvc: some DVC data of the new HEAD is not in the work tree after git {}:\n{message}",
            kind.git_command()
        );
    }
    if failure.is_some() && config_is_new {
        eprintln!(
            "note: git-dvc did not ask the remote: .dvc/config changed with this move, and the \
             hooks fetch only through a configuration the work tree had before (a branch could \
             point a remote, and your credentials, elsewhere); `git config {}` true lets them",
            crate::objects::collect::TRUST_COMMITTED_REMOTES_KEY
        );
    }
    if failure.is_some() || fetch_failed {
        hint();
    }
    record(failure.is_none() && !fetch_failed)
}

/// Outputs the old commits declared that the work tree holds exactly as declared, though
/// git-dvc did not write them (`dvc add` did): recorded, so that the cleanup removes those
/// no longer declared, as DVC's own checkout would. Best effort: what cannot be read stays
/// unrecorded, and so in place.
fn adopt_former(ctx: &RepoContext, former: &[(GitOid, std::collections::BTreeSet<String>)]) {
    let Ok(_lock) = RepoLock::acquire(&ctx.dvc_dir) else {
        return;
    };
    for (commit, files) in former {
        let files: Vec<String> = files.iter().cloned().collect();
        if let Ok(outputs) = crate::engine::committed_outputs(ctx, *commit, &files) {
            let _ = checkout::adopt(ctx, &outputs);
        }
    }
}

/// What changed, as `git dvc pull` says it; nothing when nothing changed.
fn report(printer: &Printer<'_>, fetched: usize, outcome: &CheckoutOutcome) {
    printer.warnings(outcome, &[]);
    printer.changes(outcome);
    let parts = summary_parts(fetched, outcome);
    if !parts.is_empty() {
        printer.line(&format!("git-dvc: {}", join_summary(&parts)));
    }
}
