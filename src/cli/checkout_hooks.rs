//! `git dvc post-checkout`, `git dvc post-merge`, `git dvc post-rewrite`: run by the hooks
//! `git dvc install` writes, after git has moved HEAD. Each brings the work tree's DVC data
//! to the new HEAD, as `git dvc pull` would, but only for the outputs whose DVC files
//! changed ([`crate::objects::checkout_scope`]): a move that changes no DVC file reads no
//! DVC file, takes no lock and prints nothing.
//!
//! Skipped: file checkouts (post-checkout flag 0), a checkout in the middle of a rebase
//! (post-rewrite covers the end), `commit --amend` (the data is already the work tree's),
//! and everything under `GIT_DVC_SKIP_CHECKOUT=1`. A failure is a warning with the way out
//! (`git dvc pull`): git has done its work, and only `dvc.checkout.strict` turns it into
//! an error (post-checkout's status becomes the checkout's; git ignores the other two).

use std::io::{IsTerminal, Read};
use std::path::Path;

use clap::Args;

use super::checkout::{checkout_error, join_summary, summary_parts, workspace_request, Printer};
use super::pull::{pull_in, PullRequest, Pulled};
use super::report;
use crate::dvc::repo_lock::RepoLock;
use crate::error::Error;
use crate::git::{rebase_state, GitOid, GitRepo};
use crate::objects::checkout_scope::{self, Scope};
use crate::objects::snapshot::{self, RepoContext};
use crate::workspace::checkout::{self, CheckoutOutcome, CheckoutRequest, Cleanup, FailReason};
use crate::workspace::synced_commit;

/// Set to 1/true/yes to leave the work tree's data alone (e.g. `GIT_DVC_SKIP_CHECKOUT=1
/// git checkout other`); the next hook that runs catches up.
pub const SKIP_ENV: &str = "GIT_DVC_SKIP_CHECKOUT";
/// git config: false to check out from the cache only, never downloading.
pub const FETCH_KEY: &str = "dvc.checkout.fetch";
/// git config: true to make a failed checkout fail the git command (post-checkout only:
/// git ignores the status of post-merge and post-rewrite).
pub const STRICT_KEY: &str = "dvc.checkout.strict";

#[derive(Debug, Clone, Args)]
pub struct PostCheckoutArgs {
    /// The commit HEAD was at (the null id after a clone or `git worktree add`).
    #[arg(value_name = "OLD")]
    pub old: Option<String>,
    /// The commit HEAD is at now.
    #[arg(value_name = "NEW")]
    pub new: Option<String>,
    /// 1 for a branch checkout, 0 for a file checkout (skipped).
    #[arg(value_name = "FLAG")]
    pub flag: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PostMergeArgs {
    /// 1 for `git merge --squash` (the work tree holds the merge, HEAD does not), else 0.
    #[arg(value_name = "SQUASH")]
    pub squash: Option<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PostRewriteArgs {
    /// What rewrote the commits: `rebase` (handled) or `amend` (nothing to do).
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// How git moved HEAD, as far as the data is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// post-checkout of a branch: HEAD was at `old` (`None`: nothing, after a clone).
    Checkout { old: Option<GitOid> },
    /// post-merge: HEAD was at ORIG_HEAD.
    Merge,
    /// post-merge of `--squash`: the work tree's DVC files follow no commit.
    Squash,
    /// post-rewrite after a rebase: HEAD was at ORIG_HEAD, or the data at where the
    /// rebase's first checkout took it.
    Rebase,
}

impl Move {
    fn git_command(self) -> &'static str {
        match self {
            Move::Checkout { .. } => "checkout",
            Move::Merge | Move::Squash => "merge",
            Move::Rebase => "rebase",
        }
    }
}

pub fn post_checkout(args: PostCheckoutArgs) -> i32 {
    let (old, flag) = match (&args.old, &args.flag) {
        (Some(old), Some(flag)) => (old.clone(), flag.clone()),
        // Under pre-commit: its post-checkout stage passes git's arguments in variables.
        _ => match (
            std::env::var("PRE_COMMIT_FROM_REF"),
            std::env::var("PRE_COMMIT_CHECKOUT_TYPE"),
        ) {
            (Ok(old), Ok(flag)) => (old, flag),
            _ => {
                report::error(
                    "git-dvc post-checkout: expected git's three arguments (previous HEAD, new \
                     HEAD, 1 for a branch checkout), as git's post-checkout hook passes them \
                     (`git dvc install` writes that hook), or pre-commit's \
                     PRE_COMMIT_FROM_REF and PRE_COMMIT_CHECKOUT_TYPE",
                );
                return 1;
            }
        },
    };
    if flag.trim() != "1" {
        return 0; // a file checkout (`git checkout -- f`, `git restore`)
    }
    let old = match GitOid::from_hex(old.trim().as_bytes()) {
        Ok(oid) if oid.is_null() => None,
        Ok(oid) => Some(oid),
        Err(_) => {
            report::error(&format!(
                "git-dvc post-checkout: '{old}' is not a commit id (git passes the previous HEAD's)"
            ));
            return 1;
        }
    };
    start(Move::Checkout { old })
}

pub fn post_merge(args: PostMergeArgs) -> i32 {
    let squash = args
        .squash
        .or_else(|| std::env::var("PRE_COMMIT_IS_SQUASH_MERGE").ok())
        .is_some_and(|s| s.trim() == "1");
    start(if squash { Move::Squash } else { Move::Merge })
}

pub fn post_rewrite(args: PostRewriteArgs) -> i32 {
    // git writes the rewritten commits on stdin: read them so that git never writes into
    // a closed pipe (git-dvc does not need them; pre-commit passes none).
    if !std::io::stdin().is_terminal() {
        let _ = std::io::copy(&mut std::io::stdin().take(64 << 20), &mut std::io::sink());
    }
    let command = args
        .command
        .or_else(|| std::env::var("PRE_COMMIT_REWRITE_COMMAND").ok())
        .unwrap_or_default();
    if command.trim() != "rebase" {
        return 0; // `commit --amend` changes no file in the work tree
    }
    start(Move::Rebase)
}

/// Runs the hook for `kind`, or under `GIT_DVC_SKIP_CHECKOUT` notes that the data stays
/// behind.
fn start(kind: Move) -> i32 {
    let skipped = std::env::var(SKIP_ENV).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    });
    if skipped {
        after_skip(kind);
        return 0;
    }
    run(kind)
}

/// The repository the hook runs in, when it is a DVC project with a work tree: git,
/// the project's `.dvc` directory, HEAD. `None`: nothing for a hook to do.
struct Site {
    git: GitRepo,
    project: String,
    dvc_dir: std::path::PathBuf,
    head: GitOid,
}

impl Site {
    fn find(cwd: &Path) -> Result<Option<Site>, Error> {
        let git = GitRepo::discover(cwd)?;
        let Some(work_dir) = git.work_dir() else {
            return Ok(None);
        };
        let project = snapshot::project_of(&git, cwd)?;
        let dvc_dir = work_dir.join(&project).join(".dvc");
        // Not a DVC project (a branch from before `dvc init`): silent, as DVC's hooks are.
        if !dvc_dir.is_dir() {
            return Ok(None);
        }
        let repo = git.local();
        let Ok(head) = repo.head_id().map(|h| h.detach()) else {
            return Ok(None); // unborn
        };
        Ok(Some(Site {
            git,
            project,
            dvc_dir,
            head,
        }))
    }

    /// `commit` when this repository has it; `None` (vouching for nothing) otherwise.
    fn known(&self, commit: GitOid) -> Option<GitOid> {
        let repo = self.git.local();
        let found = repo.find_commit(commit).is_ok();
        found.then_some(commit)
    }

    /// ORIG_HEAD: where `git merge` and `git rebase` found HEAD.
    fn orig_head(&self) -> Option<GitOid> {
        let repo = self.git.local();
        let reference = repo.find_reference("ORIG_HEAD").ok()?;
        let id = reference.into_fully_peeled_id().ok()?.detach();
        self.known(id)
    }

    /// Where git says HEAD was before the move (`None`: nowhere known).
    fn before(&self, kind: Move) -> Option<GitOid> {
        match kind {
            Move::Checkout { old } => old.and_then(|o| self.known(o)),
            Move::Merge | Move::Rebase => self.orig_head(),
            Move::Squash => None,
        }
    }

    /// Whether the hook may fetch through the work tree's `.dvc/config`: this move did not
    /// bring it. That is, a commit the work tree came from commits the same `.dvc/config`
    /// as the new HEAD (edits of your own in the work tree are yours), or there is no such
    /// commit (a clone, `git worktree add`: what `git dvc pull` would use), or git config
    /// `dvc.trustCommittedRemotes` is true. After `merge --squash` the work tree's file
    /// must be HEAD's. A checkout of a branch whose config points a remote elsewhere must
    /// not send requests, and credentials from `config.local`, there by itself.
    fn config_trusted(
        &self,
        ctx: &RepoContext,
        kind: Move,
        recorded: Option<Option<GitOid>>,
    ) -> bool {
        let repo = self.git.local();
        if crate::objects::collect::committed_remotes_policy(&repo)
            == crate::objects::collect::CommittedRemotes::AsCommitted
        {
            return true;
        }
        let Ok(head_config) = committed_config(&repo, self.head, &self.project) else {
            return false;
        };
        if kind == Move::Squash {
            let now = std::fs::read(ctx.dvc_dir.join("config"))
                .ok()
                .map(|bytes| crate::git::blob_oid(&bytes));
            return now == head_config;
        }
        let mut before: Vec<GitOid> = self.before(kind).into_iter().collect();
        if let Some(Some(commit)) = recorded {
            before.extend(self.known(commit));
        }
        before.is_empty()
            || before.iter().any(|commit| {
                committed_config(&repo, *commit, &self.project)
                    .is_ok_and(|then| then == head_config)
            })
    }

    /// The data stays where it was: unless a record says so already, record the commit
    /// before the move, so that the next hook starts from there ("unknown" when git does
    /// not say, which makes it check out everything).
    fn stay(&self, kind: Move) {
        if synced_commit::read(&self.dvc_dir).is_none() {
            let _ = synced_commit::write(&self.dvc_dir, self.before(kind));
        }
    }
}

/// The blob id of `commit`'s `.dvc/config` in the project at `project`.
fn committed_config(
    repo: &gix::Repository,
    commit: GitOid,
    project: &str,
) -> Result<Option<GitOid>, crate::git::GitError> {
    let root = crate::git::revisions::root_tree(repo, commit)?;
    match crate::git::tree_scan::subtree(repo, root, project)? {
        Some(tree) => crate::git::tree_scan::find_dvc_config(repo, tree),
        None => Ok(None),
    }
}

/// Under `GIT_DVC_SKIP_CHECKOUT`: nothing changes, but the next hook must know that the
/// data is older than the HEAD it will start from.
fn after_skip(kind: Move) {
    let Ok(cwd) = std::env::current_dir() else {
        return;
    };
    if let Ok(Some(site)) = Site::find(&cwd) {
        site.stay(kind);
    }
}

fn strict(git: &GitRepo) -> bool {
    git.local()
        .config_snapshot()
        .boolean(STRICT_KEY)
        .unwrap_or(false)
}

fn run(kind: Move) -> i32 {
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(e) => {
            report::warn(&format!("git-dvc: {}", Error::CurrentDir(e)));
            return 0;
        }
    };
    let site = match Site::find(&cwd) {
        Ok(Some(site)) => site,
        Ok(None) => return 0,
        Err(e) => {
            report::warn(&format!(
                "git-dvc: the DVC data in the work tree was not updated: {e}"
            ));
            hint();
            return 0;
        }
    };
    let strict = strict(&site.git);
    if let Move::Checkout { .. } = kind {
        if rebase_state::in_the_middle(site.git.git_dir()) {
            return 0; // post-rewrite brings the data once the rebase is done
        }
    }
    match sync(&cwd, &site, kind, strict) {
        Ok(true) => 0,
        Ok(false) => i32::from(strict),
        Err(e) => {
            // Nothing in the work tree changed: the next hook starts from where it is.
            site.stay(kind);
            let lead = if strict { "ERROR" } else { "WARNING" };
            eprintln!(
                "{lead}: git-dvc: the DVC data in the work tree was not updated after git {}: {e}",
                kind.git_command()
            );
            hint();
            i32::from(strict)
        }
    }
}

fn hint() {
    eprintln!(
        "hint: run `git dvc pull` to bring the data of the current DVC files ({SKIP_ENV}=1 skips these hooks)"
    );
}

/// Brings the data of the outputs whose DVC files changed and records the commit the
/// data now follows. False when some output could not be checked out (said already):
/// the record moves on all the same, since the warning gave the way out and a hook that
/// retried an object lost for good would warn on every checkout.
fn sync(cwd: &Path, site: &Site, kind: Move, strict: bool) -> Result<bool, Error> {
    let recorded = synced_commit::read(&site.dvc_dir);
    let mut olds: Vec<Option<GitOid>> = vec![site.before(kind)];
    match recorded {
        Some(Some(commit)) => olds.push(site.known(commit)),
        Some(None) => olds.push(None),
        None => {}
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
    let output = super::args::OutputArgs {
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
