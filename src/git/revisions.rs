//! Revision selection: turns `-a/-T/-A/--rev` (and, for hooks, explicit tips and
//! exclusions) into a list of unique commits with their root trees.
//!
//! Annotated tags are peeled; tags that point at something other than a commit are skipped,
//! as DVC does. A commit reached through several names is listed once, under its first name.

use std::collections::{HashMap, HashSet};

use super::{GitError, GitOid, GitRepo};

/// Which revisions to take, as `dvc push` flags express it.
#[derive(Debug, Clone, Default)]
pub struct RevisionSelection {
    /// `-a`: tips of `refs/heads/*`.
    pub all_branches: bool,
    /// `-T`: `refs/tags/*`, peeled.
    pub all_tags: bool,
    /// `-A`: every commit reachable from HEAD, branches, remote-tracking branches and tags.
    pub all_commits: bool,
    /// `--rev`: single revisions (that commit only) or ranges (`a..b`, `a...b`).
    pub revs: Vec<String>,
}

impl RevisionSelection {
    pub fn is_empty(&self) -> bool {
        !self.all_branches && !self.all_tags && !self.all_commits && self.revs.is_empty()
    }
}

/// One commit to scan.
#[derive(Debug, Clone)]
pub struct Revision {
    pub commit: GitOid,
    pub tree: GitOid,
    /// A name for messages: a branch or tag name, the spec given, or a short id.
    pub label: String,
}

/// Collects the commits `selection` names, in a stable order (first seen first).
pub fn select(repo: &GitRepo, selection: &RevisionSelection) -> Result<Vec<Revision>, GitError> {
    let local = repo.local();
    let mut found = RevisionCollector::default();

    // DVC's order (`iter_revs`): the revisions named, then all commits (named by their
    // full id; `-A` makes DVC skip `-a`/`-T`, whose commits it holds anyway), else the
    // branches and the tags. A commit met again adds its name (`main,v1`).
    for spec in &selection.revs {
        for (oid, label) in resolve_spec(&local, spec)? {
            found.add(&local, oid, label)?;
        }
    }
    if selection.all_commits {
        let mut tips = Vec::new();
        if let Ok(head) = local.head_id() {
            tips.push(head.detach());
        }
        for prefix in ["refs/heads/", "refs/remotes/", "refs/tags/"] {
            for (_, oid) in refs_with_prefix(&local, prefix)? {
                if let Some(commit) = peel_to_commit(&local, oid)? {
                    tips.push(commit);
                }
            }
        }
        for commit in walk(&local, tips, Vec::new())? {
            found.add(&local, commit, commit.to_string())?;
        }
    } else {
        if selection.all_branches {
            for (name, oid) in refs_with_prefix(&local, "refs/heads/")? {
                found.add(&local, oid, name)?;
            }
        }
        if selection.all_tags {
            for (name, oid) in refs_with_prefix(&local, "refs/tags/")? {
                found.add(&local, oid, name)?;
            }
        }
    }
    Ok(found.revisions)
}

/// Every commit reachable from `tips` but not from `hidden`, each once. Hidden ids that are
/// not in the repository are ignored (a force-pushed remote tip may be unknown locally).
pub fn walk(
    repo: &gix::Repository,
    tips: Vec<GitOid>,
    hidden: Vec<GitOid>,
) -> Result<Vec<GitOid>, GitError> {
    if tips.is_empty() {
        return Ok(Vec::new());
    }
    let hidden: Vec<GitOid> = hidden.into_iter().filter(|h| repo.has_object(h)).collect();
    let walk = repo
        .rev_walk(tips)
        .with_hidden(hidden)
        .all()
        .map_err(|e| GitError::new("cannot walk the commit history", e))?;
    let mut out = Vec::new();
    for info in walk {
        let info = info.map_err(|e| GitError::new("cannot walk the commit history", e))?;
        out.push(info.id);
    }
    Ok(out)
}

/// Resolves a tag or commit id to the commit it names; `None` for trees and blobs.
pub fn peel_to_commit(repo: &gix::Repository, oid: GitOid) -> Result<Option<GitOid>, GitError> {
    let object = repo
        .find_object(oid)
        .map_err(|e| GitError::new(format!("cannot read object {oid}"), e))?;
    let peeled = object
        .peel_tags_to_end()
        .map_err(|e| GitError::new(format!("cannot peel tag {oid}"), e))?;
    Ok((peeled.kind == gix::object::Kind::Commit).then_some(peeled.id))
}

/// The root tree of a commit.
pub fn root_tree(repo: &gix::Repository, commit: GitOid) -> Result<GitOid, GitError> {
    let commit_obj = repo
        .find_commit(commit)
        .map_err(|e| GitError::new(format!("cannot read commit {commit}"), e))?;
    commit_obj
        .tree_id()
        .map(|id| id.detach())
        .map_err(|e| GitError::new(format!("cannot read the tree of commit {commit}"), e))
}

/// `(full ref name, target id)` for every ref under `prefix`, sorted by name. The id is the
/// object the ref names (an annotated tag's own object: callers peel it); only symbolic refs
/// are followed, so thousands of refs do not each re-check the packed-refs file.
pub fn refs_with_prefix(
    repo: &gix::Repository,
    prefix: &str,
) -> Result<Vec<(String, GitOid)>, GitError> {
    let platform = repo
        .references()
        .map_err(|e| GitError::new("cannot list references", e))?;
    let iter = platform
        .prefixed(prefix)
        .map_err(|e| GitError::new(format!("cannot list {prefix}*"), e))?;
    let mut out = Vec::new();
    for reference in iter {
        let Ok(mut reference) = reference else {
            continue;
        };
        let name = reference.name().as_bstr().to_string();
        if let Some(id) = reference.target().try_id() {
            out.push((name, id.to_owned()));
            continue;
        }
        match reference.peel_to_id() {
            Ok(id) => out.push((name, id.detach())),
            // A broken or dangling ref is git's business, not a reason to stop a push.
            Err(_) => continue,
        }
    }
    out.sort();
    Ok(out)
}

pub fn short(oid: &GitOid) -> String {
    oid.to_hex_with_len(7).to_string()
}

/// Why a revision did not resolve, in words that say what to do.
fn unresolved(repo: &gix::Repository, spec: &str, e: impl std::fmt::Display) -> GitError {
    let context = format!("cannot resolve revision '{spec}'");
    if spec.contains("HEAD") && repo.head().is_ok_and(|h| h.is_unborn()) {
        return GitError::msg(
            context,
            "the repository has no commits yet (HEAD is unborn); commit first",
        );
    }
    let simple = !spec.contains(['.', '~', '^', '@', ':']);
    if simple {
        GitError::msg(
            context,
            format!("no commit, branch or tag has that name; check it with `git rev-parse --verify {spec}`"),
        )
    } else {
        GitError::msg(
            context,
            format!("{e}; check it with `git rev-parse '{spec}'`"),
        )
    }
}

fn resolve_spec(repo: &gix::Repository, spec: &str) -> Result<Vec<(GitOid, String)>, GitError> {
    use gix::revision::plumbing::Spec;
    // CI systems pass `<before>..<after>` with an all-zero `before` for new branches: that
    // means "everything reachable from <after>".
    if let Some((from, to)) = spec.split_once("..") {
        if from.len() >= 40 && from.bytes().all(|b| b == b'0') && !to.starts_with('.') {
            let tip = repo
                .rev_parse_single(to)
                .map_err(|e| unresolved(repo, to, e))?;
            let tip = peel_to_commit(repo, tip.detach())?.ok_or_else(|| {
                GitError::msg(format!("cannot resolve revision '{spec}'"), "not a commit")
            })?;
            let commits = walk(repo, vec![tip], Vec::new())?;
            return Ok(commits.into_iter().map(|c| (c, short(&c))).collect());
        }
    }
    let context = || format!("cannot resolve revision '{spec}'");
    let parsed = repo
        .rev_parse(spec)
        .map_err(|e| unresolved(repo, spec, e))?
        .detach();
    let commit = |oid: GitOid| -> Result<GitOid, GitError> {
        peel_to_commit(repo, oid)?
            .ok_or_else(|| GitError::msg(context(), format!("{oid} is not a commit")))
    };
    let labelled = |ids: Vec<GitOid>| ids.into_iter().map(|c| (c, short(&c))).collect();
    Ok(match parsed {
        Spec::Include(oid) | Spec::ExcludeParents(oid) => vec![(commit(oid)?, spec.to_string())],
        Spec::Range { from, to } => labelled(walk(repo, vec![commit(to)?], vec![commit(from)?])?),
        Spec::Merge { theirs, ours } => {
            let (theirs, ours) = (commit(theirs)?, commit(ours)?);
            let base = repo
                .merge_base(theirs, ours)
                .map_err(|e| GitError::new(context(), e))?
                .map(|b| vec![b.detach()])
                .unwrap_or_default();
            labelled(walk(repo, vec![theirs, ours], base)?)
        }
        Spec::IncludeOnlyParents(oid) => {
            let commit_obj = repo
                .find_commit(commit(oid)?)
                .map_err(|e| GitError::new(context(), e))?;
            let parents: Vec<GitOid> = commit_obj.parent_ids().map(|p| p.detach()).collect();
            labelled(walk(repo, parents, Vec::new())?)
        }
        Spec::Exclude(_) => {
            return Err(GitError::msg(
                context(),
                "a lone exclusion selects no commits; use a range such as 'main~5..main'",
            ))
        }
    })
}

#[derive(Default)]
struct RevisionCollector {
    seen: HashSet<GitOid>,
    revisions: Vec<Revision>,
    trees: HashMap<GitOid, GitOid>,
}

impl RevisionCollector {
    fn add(&mut self, repo: &gix::Repository, oid: GitOid, label: String) -> Result<(), GitError> {
        let Some(commit) = peel_to_commit(repo, oid)? else {
            return Ok(());
        };
        let label = label
            .strip_prefix("refs/heads/")
            .or_else(|| label.strip_prefix("refs/tags/"))
            .map(str::to_string)
            .unwrap_or(label);
        if !self.seen.insert(commit) {
            // DVC groups the names of one commit: `','.join(names)`, each once.
            if let Some(known) = self.revisions.iter_mut().find(|r| r.commit == commit) {
                if !known.label.split(',').any(|name| name == label) {
                    known.label = format!("{},{label}", known.label);
                }
            }
            return Ok(());
        }
        let tree = match self.trees.get(&commit) {
            Some(t) => *t,
            None => root_tree(repo, commit)?,
        };
        self.trees.insert(commit, tree);
        self.revisions.push(Revision {
            commit,
            tree,
            label,
        });
        Ok(())
    }
}
