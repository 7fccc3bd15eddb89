//! What the checkout hooks look at after git moves HEAD: the DVC files that differ between
//! the commits whose data the work tree may hold and the new HEAD, found by the tree diff
//! the push hook uses ([`super::changes`]): subtrees equal on both sides are never read,
//! and a move that touches no DVC file reads no blob.
//!
//! Both directions count. The new HEAD's DVC files that none of the old commits held are
//! checked out; the old commits' DVC files the new HEAD lacks (deleted, or changed) name
//! the outputs the checkout may remove. A project with no old commit to compare with (after
//! a clone), or whose `.dvc/config` changed, is checked out whole.
//!
//! ```no_run
//! # fn demo(git: &git_dvc::git::GitRepo, head: git_dvc::git::GitOid, old: git_dvc::git::GitOid) -> Result<(), git_dvc::error::Error> {
//! use git_dvc::objects::checkout_scope::{self, Scope};
//! match checkout_scope::between(git, "", true, head, &[Some(old)])? {
//!     Scope::Unchanged => println!("nothing to do"),
//!     Scope::Everything => println!("check out every output"),
//!     Scope::Files { present, changed, .. } => println!("{present:?}, clean up {changed:?}"),
//! }
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;

use super::changes::Changes;
use crate::error::Error;
use crate::git::tree_diff::ProjectDiff;
use crate::git::tree_scan::{join, DvcTree};
use crate::git::{GitOid, GitRepo};

/// Which outputs a hook checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// No DVC file differs: nothing to do.
    Unchanged,
    /// Every output (no old commit to compare with, or the project's config changed).
    Everything,
    /// Only the outputs of these DVC files (project-relative paths; `dvc.yaml` for a
    /// pipeline).
    Files {
        /// The new HEAD's DVC files that differ: their outputs are checked out.
        present: BTreeSet<String>,
        /// Every DVC file that differs, on either side: outputs git-dvc put in place for
        /// one of them and no longer declared are removed.
        changed: BTreeSet<String>,
        /// Per old commit, its DVC files that the new HEAD does not hold as they are: what
        /// the work tree may still hold outputs of.
        former: Vec<(GitOid, BTreeSet<String>)>,
    },
}

/// The scope of a move to `head` from whichever of `olds` the work tree's data matches
/// (`None`: unknown, which makes everything count). `project` is the DVC project's
/// directory in the repository; `dvcignore` whether `.dvcignore` files hide DVC files.
pub fn between(
    git: &GitRepo,
    project: &str,
    dvcignore: bool,
    head: GitOid,
    olds: &[Option<GitOid>],
) -> Result<Scope, Error> {
    if olds.is_empty() || olds.iter().any(Option::is_none) {
        return Ok(Scope::Everything);
    }
    let mut changes = Changes::new(git, dvcignore, false, vec![String::new()]);
    let mut present = BTreeSet::new();
    let mut changed = BTreeSet::new();
    let mut former = Vec::new();
    for old in olds.iter().flatten() {
        if *old == head {
            continue;
        }
        // Forward: what the new HEAD holds that the old commit did not.
        for diff in changes.against(head, &[Some(*old)], project)? {
            if diff.fresh {
                return Ok(Scope::Everything);
            }
            files_of(&diff, &mut present);
        }
        // Backward: what the old commit held that the new HEAD does not.
        let mut lost = BTreeSet::new();
        for diff in changes.against(*old, &[Some(head)], project)? {
            if diff.fresh {
                return Ok(Scope::Everything);
            }
            files_of(&diff, &mut lost);
        }
        changed.extend(lost.iter().cloned());
        if !lost.is_empty() {
            former.push((*old, lost));
        }
    }
    changes.finish();
    changed.extend(present.iter().cloned());
    Ok(if changed.is_empty() {
        Scope::Unchanged
    } else {
        Scope::Files {
            present,
            changed,
            former,
        }
    })
}

/// The DVC files of one project's diff (the project at the top of the diffed tree only:
/// nested projects are DVC's separate repositories).
fn files_of(diff: &ProjectDiff, out: &mut BTreeSet<String>) {
    if !diff.dir.is_empty() {
        return;
    }
    if let Some(tree) = &diff.changed {
        walk(tree, "", out);
    }
}

fn walk(node: &DvcTree, dir: &str, out: &mut BTreeSet<String>) {
    for (name, _) in node.dvc_files.iter().chain(&node.links) {
        out.insert(join(dir, name));
    }
    if node.pipeline.is_some() {
        out.insert(join(dir, "dvc.yaml"));
    }
    for (name, child) in &node.children {
        walk(child, &join(dir, name), out);
    }
}
