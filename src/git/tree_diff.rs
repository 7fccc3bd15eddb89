//! Tree diff: the DVC files a commit brings that none of its parents already had, as
//! `git diff-tree` finds them: subtrees whose id equals a parent's are never read, and no
//! blob is read at all (`.dvcignore` files only when a changed DVC file needs them).
//!
//! A hook covers exactly the commits a push sends; the other side holds their parents (or
//! gets them in the same push, where each is diffed against its own parents). So a DVC file
//! a parent holds at the same path, in the same context, needs no second look. The context
//! is what gives a file's outputs their meaning besides its own bytes:
//!
//! - the project's `.dvc/config` (where data goes): a parent with another config, or
//!   without the project, vouches for nothing in it (the project is *fresh*);
//! - which project the file belongs to: a directory that is a nested project (`.dvc`
//!   tree) in the parent but not in the commit, or the other way round;
//! - for client hooks, the `.dvcignore` files on the way: a parent whose `.dvcignore` in a
//!   directory differs vouches for nothing below it;
//! - for pipelines, the vars files their templating reads, which may sit anywhere in the
//!   project: a pipeline whose `dvc.yaml`/`dvc.lock` a parent has at the same place is a
//!   [`PipelineCandidate`], and so is every pipeline inside a subtree identical to a
//!   parent's ([`ProjectDiff::regions`]); the caller compares their reads
//!   (`objects::changes`).
//!
//! Over a merge, a file counts as known when any parent has it (`git diff-tree --cc`):
//! each parent is either on the other side already or a new commit checked on its own.
//!
//! ```
//! # fn demo(repo: &gix::Repository, commit_tree: git_dvc::git::GitOid, parent_tree: git_dvc::git::GitOid) -> Result<(), git_dvc::git::GitError> {
//! use git_dvc::git::tree_diff::{DiffOptions, TreeDiff};
//! let options = DiffOptions {
//!     dvcignore: true,
//!     all_projects: false,
//!     roots: vec![String::new()],
//!     max_ignore_file: git_dvc::limits::DEFAULT_MAX_IGNORE_FILE_SIZE,
//! };
//! for project in TreeDiff::new(repo, &options).diff(commit_tree, &[Some(parent_tree)])? {
//!     println!("project '{}': fresh {}, new DVC files: {}", project.dir, project.fresh, project.changed.is_some());
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use ignore::gitignore::Gitignore;

use super::tree_scan::{
    is_dvc_file_name, is_ignored, join, load_dvcignore, read_tree, DvcTree, IgnoreFrame,
    IgnoreStack, PipelineFiles, TreeEntry, MAX_TREE_DEPTH,
};
use super::{GitError, GitOid};

/// What the diff looks at.
pub struct DiffOptions {
    /// Apply `.dvcignore` files, as DVC's commands (and so the client hook) do. The server
    /// check reads none.
    pub dvcignore: bool,
    /// Every DVC project in the tree (the server check): each directory holding a `.dvc`
    /// tree starts one. Otherwise nested projects are skipped, as DVC skips them.
    pub all_projects: bool,
    /// Directories (from the top of the tree diffed) that are projects with or without a
    /// `.dvc` tree: the client's project (`""` for the tree given), the server's
    /// `dvc.projectDir`.
    pub roots: Vec<String>,
    /// The cap on each `.dvcignore` read (`dvc.maxIgnoreFileSize`).
    pub max_ignore_file: usize,
}

/// A pipeline whose files some parents hold at the same place: it is new only if its vars
/// reads differ from each such parent's.
#[derive(Debug, Clone)]
pub struct PipelineCandidate {
    /// Directory relative to the project.
    pub dir: String,
    pub files: PipelineFiles,
    /// The project trees of the parents with the same files there.
    pub covers: Vec<GitOid>,
}

/// What one project of the commit holds that its parents did not.
#[derive(Debug, Clone)]
pub struct ProjectDiff {
    /// The project's directory (`""` at the top of the tree diffed).
    pub dir: String,
    /// Its tree in the commit.
    pub tree: GitOid,
    /// Its committed `.dvc/config`, if any.
    pub config: Option<GitOid>,
    /// No parent vouches for anything in it: a root commit, a new project, a changed
    /// `.dvc/config`. Everything in `changed` is then all the project holds.
    pub fresh: bool,
    /// The DVC files (and pipelines) no parent vouches for, as a tree scan would give them.
    pub changed: Option<Arc<DvcTree>>,
    pub candidates: Vec<PipelineCandidate>,
    /// Subtrees identical to a parent's (directory relative to the project, that parent's
    /// project tree): their DVC files are known, their pipelines are candidates.
    pub regions: Vec<(String, GitOid)>,
}

/// One diff run; keep it for several commits so compiled `.dvcignore` files are shared.
pub struct TreeDiff<'r> {
    repo: &'r gix::Repository,
    options: &'r DiffOptions,
    matchers: HashMap<GitOid, Arc<Gitignore>>,
    out: Vec<ProjectDiff>,
}

/// A directory on the way down: its path in the project and its `.dvcignore`, if any.
type Chain = Vec<(String, Option<GitOid>)>;

impl<'r> TreeDiff<'r> {
    pub fn new(repo: &'r gix::Repository, options: &'r DiffOptions) -> TreeDiff<'r> {
        TreeDiff {
            repo,
            options,
            matchers: HashMap::new(),
            out: Vec::new(),
        }
    }

    /// The projects of `tree` and what each holds that none of `parents` (their trees at
    /// the same place; `None` where a parent has nothing there) did.
    pub fn diff(
        &mut self,
        tree: GitOid,
        parents: &[Option<GitOid>],
    ) -> Result<Vec<ProjectDiff>, GitError> {
        self.out.clear();
        self.outside("", tree, parents, 0)?;
        Ok(std::mem::take(&mut self.out))
    }

    /// Outside any project: look for where projects start.
    fn outside(
        &mut self,
        path: &str,
        tree: GitOid,
        parents: &[Option<GitOid>],
        depth: usize,
    ) -> Result<(), GitError> {
        check_depth(depth, tree, path)?;
        if parents.contains(&Some(tree)) {
            return Ok(()); // identical below: the same projects, the same files
        }
        let entries = read_tree(self.repo, tree)?;
        if self.is_root(path) || (self.options.all_projects && has_dvc_dir(&entries)) {
            return self.project(path, tree, &entries, parents);
        }
        if !self.options.all_projects {
            return Ok(());
        }
        let parent_entries = self.read_all(parents)?;
        for entry in entries.iter().filter(|e| e.is_tree) {
            let child_parents = child_trees(&parent_entries, &entry.name);
            self.outside(
                &join(path, &entry.name),
                entry.oid,
                &child_parents,
                depth + 1,
            )?;
        }
        Ok(())
    }

    fn is_root(&self, path: &str) -> bool {
        self.options.roots.iter().any(|r| r == path)
    }

    fn read_all(&self, trees: &[Option<GitOid>]) -> Result<Vec<Option<Vec<TreeEntry>>>, GitError> {
        trees
            .iter()
            .map(|t| t.map(|t| read_tree(self.repo, t)).transpose())
            .collect()
    }

    /// A project starting at `dir`.
    fn project(
        &mut self,
        dir: &str,
        tree: GitOid,
        entries: &[TreeEntry],
        parents: &[Option<GitOid>],
    ) -> Result<(), GitError> {
        if parents.contains(&Some(tree)) {
            return Ok(());
        }
        let config = self.config_of(entries)?;
        let has_dvc = has_dvc_dir(entries);
        // A parent vouches only for a project with the same standing and config.
        let mut covers = vec![None; parents.len()];
        for (i, parent) in parents.iter().enumerate() {
            if let Some(p) = parent {
                let p_entries = read_tree(self.repo, *p)?;
                if has_dvc_dir(&p_entries) == has_dvc && self.config_of(&p_entries)? == config {
                    covers[i] = Some(*p);
                }
            }
        }
        let fresh = covers.iter().all(Option::is_none);
        let mut state = ProjectState {
            dir: dir.to_string(),
            covers: covers.clone(),
            candidates: Vec::new(),
            regions: Vec::new(),
        };
        let mut chain = Chain::new();
        let changed = self.visit(&mut state, "", tree, parents, &covers, &mut chain, 0)?;
        self.out.push(ProjectDiff {
            dir: dir.to_string(),
            tree,
            config,
            fresh,
            changed: changed.map(Arc::new),
            candidates: state.candidates,
            regions: state.regions,
        });
        Ok(())
    }

    /// The `.dvc/config` blob of a project directory's entries.
    fn config_of(&self, entries: &[TreeEntry]) -> Result<Option<GitOid>, GitError> {
        let Some(dvc) = entries.iter().find(|e| e.name == ".dvc" && e.is_tree) else {
            return Ok(None);
        };
        Ok(read_tree(self.repo, dvc.oid)?
            .into_iter()
            .find(|e| e.name == "config" && e.is_blob)
            .map(|e| e.oid))
    }

    /// One directory of a project. `parents` are every parent's tree here (for nested
    /// projects, which have their own covers); `covers` the ones still vouching for this
    /// project here.
    #[allow(clippy::too_many_arguments)]
    fn visit(
        &mut self,
        state: &mut ProjectState,
        rel: &str,
        tree: GitOid,
        parents: &[Option<GitOid>],
        covers: &[Option<GitOid>],
        chain: &mut Chain,
        depth: usize,
    ) -> Result<Option<DvcTree>, GitError> {
        check_depth(depth, tree, rel)?;
        let entries = read_tree(self.repo, tree)?;
        let path = join(&state.dir, rel);
        if depth > 0 {
            if has_dvc_dir(&entries) {
                // A nested project: DVC's project at `state.dir` stops here.
                if self.options.all_projects {
                    self.project(&path, tree, &entries, parents)?;
                }
                return Ok(None);
            }
            if self.is_root(&path) {
                // A configured project without `.dvc`: checked on its own, and still part
                // of the enclosing one (which DVC sees it as).
                self.project(&path, tree, &entries, parents)?;
            }
        }
        // Only parents needed here are read: all of them when nested projects count.
        let wanted: Vec<Option<GitOid>> = if self.options.all_projects {
            parents.to_vec()
        } else {
            covers.to_vec()
        };
        let parent_entries = self.read_all(&wanted)?;
        let own_ignore = ignore_file(&entries, self.options.dvcignore);
        let mut covers: Vec<Option<GitOid>> = covers.to_vec();
        for (i, cover) in covers.iter_mut().enumerate() {
            let Some(p_entries) = cover.and(parent_entries[i].as_ref()) else {
                *cover = None;
                continue;
            };
            let nested_there = depth > 0 && has_dvc_dir(p_entries);
            if nested_there || ignore_file(p_entries, self.options.dvcignore) != own_ignore {
                *cover = None;
            }
        }
        chain.push((rel.to_string(), own_ignore));
        let mut node = DvcTree::default();
        let mut yaml = None;
        let mut lock = None;
        for entry in &entries {
            let child_rel = join(rel, &entry.name);
            if entry.is_tree {
                if depth == 0 && entry.name == ".dvc" {
                    continue;
                }
                let child_parents = child_trees(&parent_entries, &entry.name);
                let child_covers: Vec<Option<GitOid>> = covers
                    .iter()
                    .zip(&child_parents)
                    .map(|(c, p)| c.and(*p))
                    .collect();
                if let Some(i) = child_covers.iter().position(|c| *c == Some(entry.oid)) {
                    let project_tree = state.covers[i].expect("a cover here is a project cover");
                    state.regions.push((child_rel, project_tree));
                    continue;
                }
                let parents_here = if self.options.all_projects {
                    child_parents
                } else {
                    child_covers.clone()
                };
                if let Some(child) = self.visit(
                    state,
                    &child_rel,
                    entry.oid,
                    &parents_here,
                    &child_covers,
                    chain,
                    depth + 1,
                )? {
                    node.children.push((entry.name.clone(), Arc::new(child)));
                }
                continue;
            }
            if entry.is_blob && entry.name == "dvc.yaml" {
                yaml = Some(entry.oid);
                continue;
            }
            if entry.is_blob && entry.name == "dvc.lock" {
                lock = Some(entry.oid);
                continue;
            }
            let is_dvc_file = entry.is_blob && entry.name.ends_with(".dvc") && entry.name != ".dvc";
            let is_link = entry.is_link && is_dvc_file_name(&entry.name);
            if !is_dvc_file && !is_link {
                continue;
            }
            let known = covers.iter().zip(&parent_entries).any(|(c, p)| {
                c.is_some()
                    && p.as_ref().is_some_and(|p| {
                        p.iter().any(|e| {
                            e.name == entry.name
                                && e.oid == entry.oid
                                && e.is_blob == entry.is_blob
                                && e.is_link == entry.is_link
                        })
                    })
            });
            if known || !self.visible(&state.dir, chain, &child_rel, false)? {
                continue;
            }
            if is_link {
                node.links.push((entry.name.clone(), entry.oid));
            } else {
                node.dvc_files.push((entry.name.clone(), entry.oid));
            }
        }
        if let Some(dvc_yaml) = yaml {
            let files = PipelineFiles {
                dvc_yaml,
                dvc_lock: lock,
            };
            let same: Vec<GitOid> = covers
                .iter()
                .zip(&parent_entries)
                .enumerate()
                .filter(|(_, (c, p))| {
                    c.is_some() && p.as_ref().is_some_and(|p| pipeline_of(p) == Some(files))
                })
                .filter_map(|(i, _)| state.covers[i])
                .collect();
            if !same.is_empty() {
                state.candidates.push(PipelineCandidate {
                    dir: rel.to_string(),
                    files,
                    covers: same,
                });
            } else if self.visible(&state.dir, chain, &join(rel, "dvc.yaml"), false)? {
                node.pipeline = Some(files);
            }
        }
        chain.pop();
        node.pipelines_below =
            node.pipeline.is_some() || node.children.iter().any(|(_, c)| c.pipelines_below);
        let empty = node.dvc_files.is_empty()
            && node.pipeline.is_none()
            && node.links.is_empty()
            && node.children.is_empty();
        Ok((!empty).then_some(node))
    }

    /// Whether `path` (relative to the project at `project`) is seen by DVC through the
    /// `.dvcignore` files of `chain`, as [`super::tree_scan`] decides it: each directory on
    /// the way must not be ignored, and a `.dvcignore` that its parents ignore is not read.
    fn visible(
        &mut self,
        project: &str,
        chain: &Chain,
        path: &str,
        is_dir: bool,
    ) -> Result<bool, GitError> {
        if !self.options.dvcignore || chain.iter().all(|(_, i)| i.is_none()) {
            return Ok(true);
        }
        let mut frames: IgnoreStack = Vec::new();
        for (k, (dir, ignore)) in chain.iter().enumerate() {
            if k > 0 && is_ignored(&frames, dir, true) {
                return Ok(false);
            }
            if let Some(blob) = ignore {
                if !is_ignored(&frames, &join(dir, ".dvcignore"), false) {
                    let matcher = match self.matchers.get(blob) {
                        Some(m) => m.clone(),
                        None => {
                            let m = Arc::new(load_dvcignore(
                                self.repo,
                                *blob,
                                &join(project, dir),
                                self.options.max_ignore_file,
                            )?);
                            self.matchers.insert(*blob, m.clone());
                            m
                        }
                    };
                    frames.push(Arc::new(IgnoreFrame {
                        blob: *blob,
                        dir: dir.clone(),
                        matcher,
                    }));
                }
            }
        }
        Ok(!is_ignored(&frames, path, is_dir))
    }
}

struct ProjectState {
    dir: String,
    /// Per parent, its project tree if it vouches for the project at all.
    covers: Vec<Option<GitOid>>,
    candidates: Vec<PipelineCandidate>,
    regions: Vec<(String, GitOid)>,
}

fn check_depth(depth: usize, tree: GitOid, path: &str) -> Result<(), GitError> {
    if depth > MAX_TREE_DEPTH {
        return Err(GitError::msg(
            format!("tree {tree} at '{path}'"),
            format!("directory nesting deeper than {MAX_TREE_DEPTH} levels"),
        ));
    }
    Ok(())
}

fn has_dvc_dir(entries: &[TreeEntry]) -> bool {
    entries.iter().any(|e| e.name == ".dvc" && e.is_tree)
}

/// The `.dvcignore` blob of a directory, when ignore files count.
fn ignore_file(entries: &[TreeEntry], dvcignore: bool) -> Option<GitOid> {
    if !dvcignore {
        return None;
    }
    entries
        .iter()
        .find(|e| e.name == ".dvcignore" && e.is_blob)
        .map(|e| e.oid)
}

fn pipeline_of(entries: &[TreeEntry]) -> Option<PipelineFiles> {
    let blob = |name: &str| {
        entries
            .iter()
            .find(|e| e.name == name && e.is_blob)
            .map(|e| e.oid)
    };
    Some(PipelineFiles {
        dvc_yaml: blob("dvc.yaml")?,
        dvc_lock: blob("dvc.lock"),
    })
}

/// Each parent's subtree named `name`, where it has one.
fn child_trees(parents: &[Option<Vec<TreeEntry>>], name: &str) -> Vec<Option<GitOid>> {
    parents
        .iter()
        .map(|p| {
            p.as_ref()
                .and_then(|entries| entries.iter().find(|e| e.name == name && e.is_tree))
                .map(|e| e.oid)
        })
        .collect()
}
