//! Where a checkout hook runs and what git says about the move: the repository and its
//! DVC project, HEAD, where HEAD was before (git's argument, ORIG_HEAD, the recorded
//! synced commit), and whether the move brought a new `.dvc/config`.

use std::path::Path;

use crate::error::Error;
use crate::git::{GitOid, GitRepo};
use crate::objects::snapshot::{self, RepoContext};
use crate::workspace::trusted_config;

/// How git moved HEAD, as far as the data is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Move {
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
    pub(super) fn git_command(self) -> &'static str {
        match self {
            Move::Checkout { .. } => "checkout",
            Move::Merge | Move::Squash => "merge",
            Move::Rebase => "rebase",
        }
    }
}

/// The repository the hook runs in, when it is a DVC project with a work tree: git,
/// the project's `.dvc` directory, HEAD. `None`: nothing for a hook to do.
pub(super) struct Site {
    pub(super) git: GitRepo,
    pub(super) project: String,
    pub(super) dvc_dir: std::path::PathBuf,
    pub(super) head: GitOid,
}

impl Site {
    pub(super) fn find(cwd: &Path) -> Result<Option<Site>, Error> {
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
    pub(super) fn known(&self, commit: GitOid) -> Option<GitOid> {
        let repo = self.git.local();
        let found = repo.find_commit(commit).is_ok();
        found.then_some(commit)
    }

    /// ORIG_HEAD: where `git merge` and `git rebase` found HEAD.
    pub(super) fn orig_head(&self) -> Option<GitOid> {
        let repo = self.git.local();
        let reference = repo.find_reference("ORIG_HEAD").ok()?;
        let id = reference.into_fully_peeled_id().ok()?.detach();
        self.known(id)
    }

    /// Where git says HEAD was before the move (`None`: nowhere known).
    pub(super) fn before(&self, kind: Move) -> Option<GitOid> {
        match kind {
            Move::Checkout { old } => old.and_then(|o| self.known(o)),
            Move::Merge | Move::Rebase => self.orig_head(),
            Move::Squash => None,
        }
    }

    /// Whether the hook may fetch through the work tree's `.dvc/config`: the new HEAD
    /// commits the config the data was last fetched through with the user's consent
    /// (`workspace::trusted_config`, started by [`Self::seed_trusted_config`], moved on by
    /// `git dvc pull`). Without that record: a commit the work tree came from commits the same `.dvc/config` as the new
    /// HEAD (edits of your own in the work tree are yours), or there is no such commit (a
    /// clone, `git worktree add`: what `git dvc pull` would use). git config
    /// `dvc.trustCommittedRemotes` true trusts every config. After `merge --squash` the
    /// work tree's file must be HEAD's. A move onto a branch whose config points a remote
    /// elsewhere, and every later move while HEAD keeps that config, must not send
    /// requests, and credentials from `config.local`, there by itself.
    pub(super) fn config_trusted(
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
        let trusted = trusted_config::read(self.git.git_dir());
        if kind == Move::Squash {
            // The work tree's config must be HEAD's (a squash does not commit), and HEAD's
            // the one consented to.
            let now = std::fs::read(ctx.dvc_dir.join("config"))
                .ok()
                .map(|bytes| crate::git::blob_oid(&bytes));
            return now == head_config && trusted.is_none_or(|t| t == head_config);
        }
        if let Some(trusted) = trusted {
            return trusted == head_config;
        }
        // No record could be kept: the commits the work tree came from.
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

    /// Starts the record of the config the hooks may fetch through, if there is none yet
    /// (the first hook run, or a work tree from before the record existed): the config in
    /// force before this move, that of the commit git moved from or the data followed,
    /// else (a clone) HEAD's. Called before anything else, so that a move that changes
    /// only `.dvc/config` cannot make its config the starting point of the next one.
    pub(super) fn seed_trusted_config(&self, kind: Move, recorded: Option<Option<GitOid>>) {
        if trusted_config::read(self.git.git_dir()).is_some() {
            return;
        }
        let repo = self.git.local();
        let from = match (self.before(kind), recorded) {
            (Some(before), _) => before,
            (None, Some(Some(commit))) => self.known(commit).unwrap_or(self.head),
            (None, _) => {
                // A new linked work tree (`git worktree add ../x their-branch`): the
                // main work tree's trust, not the branch's own config.
                let common = repo.common_dir();
                if common != self.git.git_dir() {
                    if let Some(config) = trusted_config::read(common) {
                        let _ = trusted_config::write(self.git.git_dir(), config);
                        return;
                    }
                }
                self.head
            }
        };
        if let Ok(config) = committed_config(&repo, from, &self.project) {
            let _ = trusted_config::write(self.git.git_dir(), config);
        }
    }
}

/// Records HEAD's committed `.dvc/config` as the one the checkout hooks may fetch
/// through: the user just fetched through the work tree's config themselves
/// (`git dvc pull`). Best effort.
pub fn trust_head_config(ctx: &RepoContext) {
    let repo = ctx.git.local();
    let Ok(head) = repo.head_id() else {
        return;
    };
    if let Ok(config) = committed_config(&repo, head.detach(), &ctx.project) {
        let _ = trusted_config::write(ctx.git.git_dir(), config);
    }
}

/// The blob id of `commit`'s `.dvc/config` in the project at `project`.
/// The `.dvc/config` blob `commit` holds for `project` (`None`: no config). An error also
/// when the commit's `.dvc` could make the work tree's configuration anything but that
/// blob, so that it is never trusted: a tracked `config.local` (DVC reads it over
/// `config`, and nobody commits it but to redirect), or a `.dvc` or `.dvc/config` that
/// is not a plain directory and file (a link reads another file of the commit).
fn committed_config(
    repo: &gix::Repository,
    commit: GitOid,
    project: &str,
) -> Result<Option<GitOid>, crate::git::GitError> {
    use crate::git::tree_scan::read_tree;
    let root = crate::git::revisions::root_tree(repo, commit)?;
    let Some(tree) = crate::git::tree_scan::subtree(repo, root, project)? else {
        return Ok(None);
    };
    let untrusted = |what: &str| {
        Err(crate::git::GitError::msg(
            format!("commit {commit}"),
            format!("tracks {what}: its configuration is not the one its .dvc/config says"),
        ))
    };
    let Some(dvc_dir) = read_tree(repo, tree)?
        .into_iter()
        .find(|e| e.name == ".dvc")
    else {
        return Ok(None);
    };
    if !dvc_dir.is_tree {
        return untrusted(".dvc as something other than a directory");
    }
    let mut config = None;
    for entry in read_tree(repo, dvc_dir.oid)? {
        match entry.name.as_str() {
            "config.local" => return untrusted(".dvc/config.local"),
            "config" if !entry.is_blob => return untrusted(".dvc/config as a link or directory"),
            "config" => config = Some(entry.oid),
            _ => {}
        }
    }
    Ok(config)
}
