//! What the hooks check: per new commit and DVC project, only the DVC files none of the
//! commit's parents held ([`crate::git::tree_diff`]), plus the pipelines whose vars reads
//! differ from every parent's. A push that touches no DVC file yields nothing and reads no
//! blob: pipelines are compared by tree lookups of their recorded reads
//! ([`super::pipeline_index`]); only a `dvc.yaml` never templated before is read.

use std::sync::Arc;

use super::pipeline_index::{PipelineIndex, PipelineList, Reads};
use super::pipeline_inputs::{read_state, PipelineResolver, Place};
use super::snapshot::{BlobSource, CommittedConfigs, ConfigKey, RepoContext, Snapshot};
use crate::error::Error;
use crate::git::revisions::{root_tree, Revision};
use crate::git::tree_diff::{DiffOptions, ProjectDiff, TreeDiff};
use crate::git::tree_scan::{self, DvcTree, PipelineFiles, TreeScan};
use crate::git::{GitError, GitOid, GitRepo};

/// Diffs commits against their parents; keep one for all the commits of a push.
pub struct Changes {
    git: GitRepo,
    repo: gix::Repository,
    options: DiffOptions,
    index: PipelineIndex,
    scanner: TreeScan,
    blobs: BlobSource,
}

impl Changes {
    /// `dvcignore`: whether `.dvcignore` files hide DVC files (client hooks) or not (server);
    /// `all_projects`: every project in the tree (server) or only the one diffed (client);
    /// `roots`: directories that are projects whether or not they hold `.dvc`.
    pub fn new(git: &GitRepo, dvcignore: bool, all_projects: bool, roots: Vec<String>) -> Changes {
        Changes {
            git: git.clone(),
            repo: git.local(),
            options: DiffOptions {
                dvcignore,
                all_projects,
                roots,
                max_ignore_file: git.limits().ignore_file,
            },
            index: PipelineIndex::load(git.git_dir(), git.limits()),
            scanner: TreeScan::with_dvcignore(git.clone(), dvcignore),
            blobs: BlobSource::git_only(git.clone()),
        }
    }

    /// The projects of `commit` below `base` (a directory of the repository, `""` for the
    /// top) with what is new in each. Directories in the result are relative to `base`.
    pub fn commit(&mut self, commit: GitOid, base: &str) -> Result<Vec<ProjectDiff>, Error> {
        let parents = self.parents(commit)?;
        self.against(commit, &parents, base)
    }

    /// Like [`Changes::commit`], against `others` instead of the commit's parents: what
    /// `commit` holds that none of them did (`None`: a commit that vouches for nothing).
    /// The checkout hooks diff the new HEAD against the commit whose data the work tree
    /// holds, and that commit against the new HEAD for the DVC files it loses.
    pub fn against(
        &mut self,
        commit: GitOid,
        others: &[Option<GitOid>],
        base: &str,
    ) -> Result<Vec<ProjectDiff>, Error> {
        let tree = root_tree(&self.repo, commit)?;
        let Some(tree) = tree_scan::subtree(&self.repo, tree, base)? else {
            return Ok(Vec::new());
        };
        let mut parents = Vec::new();
        for other in others {
            parents.push(match other {
                Some(p) => tree_scan::subtree(&self.repo, root_tree(&self.repo, *p)?, base)?,
                None => None,
            });
        }
        let mut diffs = TreeDiff::new(&self.repo, &self.options).diff(tree, &parents)?;
        for diff in &mut diffs {
            self.settle_pipelines(diff)?;
        }
        Ok(diffs)
    }

    /// Keeps what was learnt for the next push.
    pub fn finish(self) {
        self.index.save();
    }

    /// The commit's parents; `None` for one this repository lacks (a shallow clone's
    /// boundary), which then vouches for nothing.
    fn parents(&self, commit: GitOid) -> Result<Vec<Option<GitOid>>, GitError> {
        let object = self
            .repo
            .find_commit(commit)
            .map_err(|e| GitError::new(format!("cannot read commit {commit}"), e))?;
        Ok(object
            .parent_ids()
            .map(|p| p.detach())
            .map(|p| self.repo.has_object(p).then_some(p))
            .collect())
    }

    /// Decides each pipeline a parent may vouch for, adds the ones it does not to
    /// `diff.changed`, and records where the project's pipelines are.
    fn settle_pipelines(&mut self, diff: &mut ProjectDiff) -> Result<(), Error> {
        let dvcignore = self.options.dvcignore;
        let mut all: PipelineList = Vec::new();
        if let Some(changed) = &diff.changed {
            pipelines_in(changed, "", &mut all);
        }
        // Their reads, recorded now, spare the next push (whose parent this commit is)
        // reading their `dvc.yaml` again.
        for (dir, files) in all.clone() {
            self.reads_in(diff.tree, &dir, files);
        }
        // (dir, files, parents' project trees that may vouch)
        let mut candidates: Vec<(String, PipelineFiles, Vec<GitOid>)> = Vec::new();
        for c in &diff.candidates {
            // Same `.dvcignore` context as the parents: seen there means seen here.
            let first = c.covers[0];
            let listed = self.pipelines_of(first)?;
            if listed.iter().any(|(d, f)| *d == c.dir && *f == c.files) {
                candidates.push((c.dir.clone(), c.files, c.covers.clone()));
            }
        }
        for (region, parent) in &diff.regions {
            for (dir, files) in self.pipelines_of(*parent)?.iter() {
                if within(dir, region) {
                    candidates.push((dir.clone(), *files, vec![*parent]));
                }
            }
        }
        for (dir, files, covers) in candidates {
            all.push((dir.clone(), files));
            let mut vouched = false;
            for parent in covers {
                let reads = self.reads_in(parent, &dir, files);
                if self.holds(diff.tree, &dir, &reads) {
                    vouched = true;
                    break;
                }
            }
            if !vouched {
                diff.changed = Some(with_pipeline(diff.changed.take(), &dir, files));
            }
        }
        self.index.set_pipelines(dvcignore, diff.tree, all);
        Ok(())
    }

    /// Where the pipelines of a project tree are: from the index, else from a tree scan.
    fn pipelines_of(&mut self, tree: GitOid) -> Result<Arc<PipelineList>, Error> {
        let dvcignore = self.options.dvcignore;
        if let Some(list) = self.index.pipelines(dvcignore, tree) {
            return Ok(Arc::new(list.clone()));
        }
        let scanned = self.scanner.scan_roots(&[tree])?;
        let mut list = Vec::new();
        if let Some(root) = scanned.get(&tree).and_then(|r| r.tree.as_ref()) {
            pipelines_in(root, "", &mut list);
        }
        self.index.set_pipelines(dvcignore, tree, list.clone());
        Ok(Arc::new(list))
    }

    /// The reads of the pipeline `files` at `dir` of the project tree `tree`: a recorded
    /// list that holds there, else templated now (the one time its `dvc.yaml` is read).
    fn reads_in(&mut self, tree: GitOid, dir: &str, files: PipelineFiles) -> Reads {
        let recorded: Vec<Reads> = self.index.reads(files.dvc_yaml).cloned().collect();
        for reads in recorded {
            if self.holds(tree, dir, &reads) {
                return reads;
            }
        }
        let unit = PipelineResolver::new(&self.blobs).unit(Place::Commit(tree), dir, files);
        let reads: Reads = unit.reads.to_vec();
        self.index.add_reads(files.dvc_yaml, reads.clone());
        reads
    }

    /// Whether every read finds the same thing in the project tree `tree`.
    fn holds(&self, tree: GitOid, dir: &str, reads: &Reads) -> bool {
        reads
            .iter()
            .all(|(path, state)| read_state(&self.repo, tree, dir, path) == *state)
    }

    pub fn git(&self) -> &GitRepo {
        &self.git
    }
}

/// The snapshots the client hook checks for the commits a push sends: in each, the DVC
/// files of the command's project that none of the commit's parents held.
pub fn push_snapshots(
    ctx: &RepoContext,
    revisions: &[Revision],
) -> Result<(Vec<Snapshot>, BlobSource), Error> {
    let mut changes = Changes::new(&ctx.git, ctx.apply_dvcignore, false, vec![String::new()]);
    let mut configs = CommittedConfigs::default();
    let mut snapshots = Vec::new();
    for rev in revisions {
        for diff in changes.commit(rev.commit, &ctx.project)? {
            let Some(root) = diff.changed else { continue };
            snapshots.push(Snapshot {
                label: rev.label.clone(),
                commit: Some(rev.commit),
                prefix: String::new(),
                tree: Some(diff.tree),
                root: Some(root),
                config_key: ConfigKey::Committed(diff.config),
                config: configs.get(ctx, diff.config, &rev.label)?,
            });
        }
    }
    changes.finish();
    Ok((snapshots, BlobSource::git_only(ctx.git.clone())))
}

/// Whether `dir` is `region` or inside it.
fn within(dir: &str, region: &str) -> bool {
    region.is_empty()
        || dir == region
        || dir
            .strip_prefix(region)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Every pipeline in a scanned tree: (directory, files).
fn pipelines_in(node: &DvcTree, dir: &str, out: &mut PipelineList) {
    if let Some(p) = node.pipeline {
        out.push((dir.to_string(), p));
    }
    for (name, child) in &node.children {
        if child.pipelines_below {
            pipelines_in(child, &tree_scan::join(dir, name), out);
        }
    }
}

/// `root` with the pipeline `files` at `dir` added.
fn with_pipeline(root: Option<Arc<DvcTree>>, dir: &str, files: PipelineFiles) -> Arc<DvcTree> {
    let mut node = root.map(|r| (*r).clone()).unwrap_or_default();
    match dir.split_once('/') {
        _ if dir.is_empty() => node.pipeline = Some(files),
        split => {
            let (name, rest) = split.unwrap_or((dir, ""));
            let at = node.children.iter().position(|(n, _)| n == name);
            let child = at.map(|i| node.children[i].1.clone());
            let child = with_pipeline(child, rest, files);
            match at {
                Some(i) => node.children[i].1 = child,
                None => node.children.push((name.to_string(), child)),
            }
        }
    }
    node.pipelines_below = true;
    Arc::new(node)
}
