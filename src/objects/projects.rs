//! Snapshots of every DVC project in a set of revisions, not only the one a command works
//! on: each directory holding a `.dvc` tree is a project of its own, whose DVC files DVC's
//! enclosing project never sees ([`crate::git::projects`]). The server check and `check`
//! cover them all; each project's files are routed with the config the caller picks for it.

use std::collections::HashMap;
use std::sync::Arc;

use super::snapshot::{ConfigKey, Snapshot};
use crate::dvc::config::DvcConfig;
use crate::error::Error;
use crate::git::projects::ProjectFinder;
use crate::git::revisions::Revision;
use crate::git::tree_scan::{self, TreeScan};
use crate::git::{GitError, GitOid, GitRepo};

/// One project in one revision, as the config callback sees it.
pub struct ProjectSite<'a> {
    /// The project's directory in the repository (`""` at the top).
    pub dir: &'a str,
    /// Its committed `.dvc/config`, if any.
    pub config_blob: Option<GitOid>,
    pub revision: &'a Revision,
}

/// The config a project's files resolve remotes with, and the key that groups snapshots
/// resolving alike.
pub type ProjectConfig = (ConfigKey, Arc<DvcConfig>);

/// Snapshots of the projects inside `base` (a directory of the repository, `""` for the
/// top) in each revision, in the revisions' order: `base` itself when `include_base`, and
/// every project nested in it. Each snapshot's `prefix` is its project's directory.
/// For checks (the server, `git dvc check`): `.dvcignore` files are not applied.
pub fn project_snapshots(
    git: &GitRepo,
    revisions: &[Revision],
    base: &str,
    include_base: bool,
    configure: &mut dyn FnMut(&ProjectSite<'_>) -> Result<ProjectConfig, Error>,
) -> Result<Vec<Snapshot>, Error> {
    let repo = git.local();
    let mut finder = ProjectFinder::default();
    // (revision index, project dir, project tree)
    let mut sites: Vec<(usize, String, GitOid)> = Vec::new();
    for (i, rev) in revisions.iter().enumerate() {
        let Some(base_tree) = tree_scan::subtree(&repo, rev.tree, base)? else {
            continue;
        };
        if include_base {
            sites.push((i, base.to_string(), base_tree));
        }
        for nested in finder.find(&repo, base_tree)?.iter() {
            sites.push((i, join(base, &nested.dir), nested.tree));
        }
    }
    let trees: Vec<GitOid> = sites.iter().map(|s| s.2).collect();
    // Checks only: a `.dvcignore` hides nothing from them.
    let scanned = TreeScan::without_dvcignore(git.clone()).scan_roots(&trees)?;
    let mut snapshots = Vec::with_capacity(sites.len());
    let mut configs: HashMap<(String, Option<GitOid>), ProjectConfig> = HashMap::new();
    for (i, dir, tree) in sites {
        let root = scanned.get(&tree).cloned().unwrap_or_default();
        let revision = &revisions[i];
        // Configs are shared by every revision with the same project dir and config blob.
        let (config_key, config) = match configs.get(&(dir.clone(), root.config)) {
            Some(found) => found.clone(),
            None => {
                let site = ProjectSite {
                    dir: &dir,
                    config_blob: root.config,
                    revision,
                };
                let made = configure(&site)?;
                configs.insert((dir.clone(), root.config), made.clone());
                made
            }
        };
        snapshots.push(Snapshot {
            label: revision.label.clone(),
            commit: Some(revision.commit),
            prefix: dir,
            tree: Some(tree),
            root: root.tree,
            config_key,
            config,
        });
    }
    Ok(snapshots)
}

/// A pushed text file (a `.dvc/config`) read through the DVC-file size cap `limit`
/// (`dvc.maxFileSize`): `what` names it in the error.
pub fn read_capped(
    repo: &gix::Repository,
    blob: &GitOid,
    what: &str,
    limit: usize,
) -> Result<String, Error> {
    let header = repo
        .find_header(*blob)
        .map_err(|e| GitError::new(format!("{what}: cannot read blob {blob}"), e))?;
    if header.size() > limit as u64 {
        return Err(Error::BadInput(format!(
            "{what}: file is {} bytes, over the {limit}-byte limit for DVC files (git config dvc.maxFileSize)",
            header.size()
        )));
    }
    let bytes = GitRepo::read_blob(repo, blob)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn join(base: &str, dir: &str) -> String {
    match (base.is_empty(), dir.is_empty()) {
        (true, _) => dir.to_string(),
        (_, true) => base.to_string(),
        _ => format!("{base}/{dir}"),
    }
}
