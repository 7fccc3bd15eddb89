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

mod site;
pub(crate) use site::trust_head_config;
mod sync;

use std::io::{IsTerminal, Read};

use clap::Args;

use super::report;
use crate::error::Error;
use crate::git::{rebase_state, GitOid, GitRepo};
use site::{Move, Site};

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

/// Runs the hook for `kind`, unless `GIT_DVC_SKIP_CHECKOUT` says not to. A skipped move
/// needs no note: the synced-commit record still names the commit the data follows (or
/// there is none, and the next hook checks out everything).
fn start(kind: Move) -> i32 {
    let skipped = std::env::var(SKIP_ENV).is_ok_and(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "1" | "true" | "yes" | "on"
        )
    });
    if skipped {
        return 0;
    }
    run(kind)
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
    match sync::sync(&cwd, &site, kind, strict) {
        Ok(true) => 0,
        Ok(false) => i32::from(strict),
        Err(e) => {
            // The record is left as it is: the next hook starts from where the data is.
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
