//! Finds the DVC projects inside a git tree: every directory that holds a `.dvc` tree (a
//! nested project, or one made with `dvc init --subdir`).
//!
//! DVC's project at a directory does not descend into a subdirectory that is a project of
//! its own ([`super::tree_scan`] stops there), so whoever checks every DVC file of a commit
//! must find those projects and check each one. `.dvcignore` is not consulted: a parent
//! project's ignore file does not apply inside a nested project, so it must not be able to
//! hide one from the server.
//!
//! Directory names that are not UTF-8 are read lossily (U+FFFD for bad bytes), as the tree
//! scan reads them: the scan stops its parent project at such a directory, so skipping it
//! here would leave its DVC files unchecked. The name only labels the project; its tree is
//! found by id.
//!
//! ```
//! # fn demo(repo: &gix::Repository, root: git_dvc::git::GitOid) -> Result<(), git_dvc::git::GitError> {
//! let mut finder = git_dvc::git::projects::ProjectFinder::default();
//! for project in finder.find(repo, root)?.iter() {
//!     println!("{} is a DVC project (tree {})", project.dir, project.tree);
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use gix::prelude::FindExt;

use super::{GitError, GitOid};

/// Trees deeper than this are refused, as the tree scan refuses them.
const MAX_DEPTH: usize = 512;

/// A DVC project below a root tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectTree {
    /// `/`-separated path from the root (never empty: the root itself is not reported).
    pub dir: String,
    /// The project directory's tree.
    pub tree: GitOid,
}

/// Memoised per tree id: a subtree shared by many commits is read once.
#[derive(Default)]
pub struct ProjectFinder {
    /// Tree → whether it holds a `.dvc` tree, and the projects strictly below it (paths
    /// relative to it).
    memo: HashMap<GitOid, (bool, Arc<Vec<ProjectTree>>)>,
}

impl ProjectFinder {
    /// Every directory strictly below `root` that holds a `.dvc` tree, nested ones included.
    pub fn find(
        &mut self,
        repo: &gix::Repository,
        root: GitOid,
    ) -> Result<Arc<Vec<ProjectTree>>, GitError> {
        Ok(self.below(repo, root, 0)?.1)
    }

    fn below(
        &mut self,
        repo: &gix::Repository,
        tree: GitOid,
        depth: usize,
    ) -> Result<(bool, Arc<Vec<ProjectTree>>), GitError> {
        if let Some(hit) = self.memo.get(&tree) {
            return Ok(hit.clone());
        }
        if depth > MAX_DEPTH {
            return Err(GitError::msg(
                format!("tree {tree}"),
                format!("directory nesting deeper than {MAX_DEPTH} levels"),
            ));
        }
        let mut subtrees = Vec::new();
        let mut is_project = false;
        {
            let mut buf = Vec::new();
            let decoded = repo
                .objects
                .find_tree(&tree, &mut buf)
                .map_err(|e| GitError::new(format!("cannot read tree {tree}"), e))?;
            for entry in decoded.entries.iter().filter(|e| e.mode.is_tree()) {
                // Lossy, never skipped: see the module docs.
                let name = String::from_utf8_lossy(entry.filename);
                if name == ".dvc" {
                    is_project = true;
                } else {
                    subtrees.push((name.into_owned(), entry.oid.to_owned()));
                }
            }
        }
        let mut found = Vec::new();
        for (name, oid) in subtrees {
            let (child_is_project, inner) = self.below(repo, oid, depth + 1)?;
            if child_is_project {
                found.push(ProjectTree {
                    dir: name.clone(),
                    tree: oid,
                });
            }
            for inner in inner.iter() {
                found.push(ProjectTree {
                    dir: format!("{name}/{}", inner.dir),
                    tree: inner.tree,
                });
            }
        }
        let result = (is_project, Arc::new(found));
        self.memo.insert(tree, result.clone());
        Ok(result)
    }
}
