//! The client hook (`git dvc pre-push`): upload the DVC data of exactly the commits a
//! `git push` sends, before git sends them. Data missing everywhere stops the push (fail
//! closed) unless git config `dvc.allowIncompletePush` says otherwise; then nothing is
//! uploaded before every remote has been assessed.

use std::collections::BTreeMap;
use std::path::Path;

use super::notice::{MissingObject, Notice, Observer, TransferFailure};
use super::upload::UploadTarget;
use crate::error::Error;
use crate::git::push_range;
use crate::objects::changes;
use crate::objects::collect::{self, CollectOptions};
use crate::objects::snapshot::RepoContext;
use crate::sync::MemberCheck;

/// git config: let a push through even when some data exists nowhere.
pub const ALLOW_INCOMPLETE_KEY: &str = "dvc.allowIncompletePush";

/// What git passes the hook: its arguments and the ref list on stdin.
#[derive(Debug, Clone)]
pub struct PrePushRequest {
    /// The git remote's name (or the URL, when pushing to a URL).
    pub remote: String,
    /// The URL being pushed to.
    pub url: Option<String>,
    pub ref_updates: RefUpdates,
}

/// Which refs the push updates.
#[derive(Debug, Clone)]
pub enum RefUpdates {
    /// git's `<local ref> <local oid> <remote ref> <remote oid>` lines.
    Lines(String),
    /// Under the pre-commit framework, which consumed git's lines and passes on only the
    /// first ref with new commits (`PRE_COMMIT_TO_REF`): `git push origin a b` or `--tags`
    /// would go unchecked past it, so this fails closed instead, with every local branch and
    /// tag (and pre-commit's ref) against the remote's tracking refs, a superset of the push.
    PreCommit { to_ref: Option<String> },
}

/// What the hook came to.
#[derive(Debug, Default)]
pub struct PrePushOutcome {
    /// Data is missing everywhere and incomplete pushes are not allowed: nothing was
    /// uploaded, and the push must stop.
    pub refused: bool,
    pub failed: Vec<TransferFailure>,
}

impl PrePushOutcome {
    /// Whether git may go on with the push.
    pub fn may_push(&self) -> bool {
        !self.refused && self.failed.is_empty()
    }
}

pub fn pre_push(
    cwd: &Path,
    request: &PrePushRequest,
    observer: &mut dyn Observer,
) -> Result<PrePushOutcome, Error> {
    let nothing = Ok(PrePushOutcome::default());
    let (updates, ctx) = match &request.ref_updates {
        RefUpdates::Lines(lines) => {
            let updates = push_range::parse_pre_push(lines)?;
            if updates.iter().all(|u| u.is_delete()) {
                return nothing;
            }
            (updates, RepoContext::open(cwd)?)
        }
        RefUpdates::PreCommit { to_ref } => {
            let ctx = RepoContext::open(cwd)?;
            let lines = pre_commit_lines(&ctx.git.local(), to_ref.as_deref())?;
            (push_range::parse_pre_push(&lines)?, ctx)
        }
    };
    if updates.iter().all(|u| u.is_delete()) {
        return nothing;
    }
    let repo = ctx.git.local();
    let url = request.url.as_deref().unwrap_or(&request.remote);
    let remote_name = push_range::resolve_remote_name(&repo, &request.remote, url);
    let range = push_range::commits_to_send(&repo, &updates, remote_name.as_deref())?;
    if range.new_commits.is_empty() {
        return nothing;
    }
    let config = repo.config_snapshot();
    let allow_incomplete = config.boolean(ALLOW_INCOMPLETE_KEY).unwrap_or(false);
    let default_remote = remote_name.as_ref().and_then(|n| {
        config
            .string(format!("remote.{n}.dvcRemote").as_str())
            .map(|s| s.to_string())
    });

    // Only what the pushed commits bring that their parents did not have.
    let (snapshots, blobs) = changes::push_snapshots(&ctx, &range.new_commits)?;
    if snapshots.is_empty() {
        return nothing;
    }
    let options = CollectOptions {
        default_remote,
        fallback_config: Some(ctx.workspace_config.clone()),
        committed_remotes: collect::committed_remotes_policy(&repo),
        ..CollectOptions::default()
    };
    let collected = collect::collect(&snapshots, &blobs, &options, &ctx.root)?;
    if !collected.warnings.is_empty() && !allow_incomplete {
        observer.notice(Notice::Collect(&collected.warnings));
        return Err(Error::UnreadablePushedFiles);
    }

    let mut targets = Vec::new();
    for dest in collected.destinations {
        let jobs = super::jobs_for(&dest.remote, None);
        targets.push(UploadTarget::assess(
            dest,
            &ctx,
            jobs,
            MemberCheck::TrustManifests,
        )?);
    }
    // Each output once, with the first remote that lacks it.
    let mut missing: BTreeMap<String, MissingObject> = BTreeMap::new();
    for target in &targets {
        for object in target.missing_everywhere(|_| true) {
            missing.entry(object.used_by.to_string()).or_insert(object);
        }
    }
    if !missing.is_empty() {
        let objects: Vec<MissingObject> = missing.into_values().collect();
        observer.notice(Notice::MissingEverywhere {
            objects: &objects,
            stops: !allow_incomplete,
        });
        if !allow_incomplete {
            return Ok(PrePushOutcome {
                refused: true,
                failed: Vec::new(),
            });
        }
    }

    let mut outcome = PrePushOutcome::default();
    for target in &mut targets {
        let plan = target.plan(&ctx.cache, observer);
        if plan.is_empty() {
            target.save_index();
            continue;
        }
        let progress = target.progress(plan.len(), observer);
        let uploads = target.upload(&plan, &ctx.cache, &progress);
        progress.finish();
        let uploaded = uploads.uploaded.len();
        outcome.failed.extend(target.failures(uploads.failed));
        if uploaded > 0 {
            let location = target.location();
            observer.notice(Notice::Uploaded {
                remote: target.remote(),
                location: &location,
                count: uploaded,
            });
        }
    }
    Ok(outcome)
}

/// git's pre-push lines rebuilt for [`RefUpdates::PreCommit`]: every local branch and tag,
/// HEAD (a detached HEAD is what `git push origin HEAD:refs/heads/x` sends, and on no
/// branch), and pre-commit's ref, as new to the remote (its tracking refs then say what it
/// has).
fn pre_commit_lines(repo: &gix::Repository, to_ref: Option<&str>) -> Result<String, Error> {
    let zero = "0".repeat(40);
    let mut lines = String::new();
    for prefix in ["refs/heads/", "refs/tags/"] {
        for (name, oid) in crate::git::revisions::refs_with_prefix(repo, prefix)? {
            lines.push_str(&format!("{name} {oid} {name} {zero}\n"));
        }
    }
    // An unborn HEAD has no commit to send.
    if let Ok(head) = repo.head_id() {
        lines.push_str(&format!("HEAD {head} HEAD {zero}\n"));
    }
    if let Some(to) = to_ref {
        if to.len() == 40 && to.bytes().all(|b| b.is_ascii_hexdigit()) {
            lines.push_str(&format!("HEAD {to} HEAD {zero}\n"));
        }
    }
    Ok(lines)
}
