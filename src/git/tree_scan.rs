//! Tree scan: finds every `*.dvc`, `dvc.yaml`, `dvc.lock` and `.dvc/config` in a set of root
//! trees, straight from git objects.
//!
//! Results are memoised per tree id, so a tree shared by a thousand commits is read once, and
//! subtrees without DVC files collapse to nothing. The result for one root is a small DAG of
//! [`DvcTree`] nodes shared between revisions: later stages walk each distinct node once.
//!
//! A `.dvcignore` makes a subtree's result depend on where it sits, so below one the memo key
//! also carries the path and the active ignore files. Each distinct `.dvcignore` blob is
//! compiled once per scanner, and only when a memo miss needs it.
//!
//! The server check and `git dvc check` scan with [`TreeScan::without_dvcignore`]: there a
//! `.dvcignore` hides nothing (every DVC file in the tree is checked, fail closed), since
//! its semantics differ from DVC's in corner cases and anyone who pushes chooses it.
//!
//! A DVC file name (`*.dvc`, `dvc.yaml`, `dvc.lock`) committed as a symbolic link is recorded
//! in [`DvcTree::links`], never skipped: DVC follows such a link in a checkout, so skipping it
//! would leave its outputs unchecked. git-dvc does not follow it (a relative link's meaning
//! depends on where its tree sits, while nodes here are shared by tree id); the collection
//! refuses it as an unreadable DVC file instead.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gix::prelude::FindExt;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;

use super::{GitError, GitOid, GitRepo};

/// Root trees scanned with one object handle.
const SCAN_BATCH: usize = 64;

/// Git trees deeper than this are refused rather than risking the stack.
pub(crate) const MAX_TREE_DEPTH: usize = 512;

/// The DVC metadata files of one directory and, recursively, of its subdirectories.
/// Only directories that (transitively) hold DVC files appear.
#[derive(Debug, Default, Clone)]
pub struct DvcTree {
    /// `*.dvc` files directly in this directory: (file name, blob id).
    pub dvc_files: Vec<(String, GitOid)>,
    /// `dvc.yaml` in this directory, with its sibling `dvc.lock` if there is one.
    pub pipeline: Option<PipelineFiles>,
    /// DVC file names in this directory that are symbolic links: (file name, id of the blob
    /// holding the link target). Each makes its revision fail to collect.
    pub links: Vec<(String, GitOid)>,
    pub children: Vec<(String, Arc<DvcTree>)>,
    /// This directory or one below holds a `dvc.yaml`. Its outputs may depend on vars files
    /// outside the node (`../params.yaml`), so a walk looks at it in every snapshot even where
    /// the node itself is shared (see `objects::pipeline_inputs`).
    pub pipelines_below: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PipelineFiles {
    pub dvc_yaml: GitOid,
    pub dvc_lock: Option<GitOid>,
}

/// What one root tree holds.
#[derive(Debug, Clone, Default)]
pub struct ScannedRoot {
    pub tree: Option<Arc<DvcTree>>,
    /// The committed `.dvc/config` blob, if any.
    pub config: Option<GitOid>,
}

#[derive(Clone, PartialEq, Eq, Hash)]
enum MemoKey {
    Plain(GitOid),
    /// Below a `.dvcignore`, or holding one: the result depends on the path and the ignore
    /// files in force above it, each with its directory, (the tree's own `.dvcignore` is
    /// decided by the tree and these), so the key is known before the tree is read.
    Ignored(GitOid, String, Vec<(GitOid, String)>),
    /// A tree scanned as a root: its `.dvc` directory does not make it a nested project
    /// (which yields nothing), so the same tree met below another root is not the same
    /// result. Without `.dvcignore` files both used to share `Plain`, and whichever
    /// parallel scan came first decided the other's result.
    Root(Box<MemoKey>),
}

pub(crate) struct IgnoreFrame {
    pub(crate) blob: GitOid,
    /// The directory holding the `.dvcignore` (`""` at the top); its patterns are matched
    /// against paths relative to it.
    pub(crate) dir: String,
    pub(crate) matcher: Arc<Gitignore>,
}

pub(crate) type IgnoreStack = Vec<Arc<IgnoreFrame>>;

/// A reusable scanner; keep one for all the revisions of a command so trees are shared.
pub struct TreeScan {
    repo: GitRepo,
    /// Whether `.dvcignore` files hide anything (client commands, as DVC does).
    dvcignore: bool,
    memo: Mutex<HashMap<MemoKey, Option<Arc<DvcTree>>>>,
    /// Compiled `.dvcignore` blobs: the same blob under many paths is compiled once.
    matchers: Mutex<HashMap<GitOid, Arc<Gitignore>>>,
}

impl TreeScan {
    /// A scanner that applies `.dvcignore` files, as DVC's commands do.
    pub fn new(repo: GitRepo) -> TreeScan {
        TreeScan::with_dvcignore(repo, true)
    }

    /// A scanner for checks (server, `git dvc check`): every DVC file counts, whatever a
    /// `.dvcignore` says, and no `.dvcignore` is read.
    pub fn without_dvcignore(repo: GitRepo) -> TreeScan {
        TreeScan::with_dvcignore(repo, false)
    }

    pub fn with_dvcignore(repo: GitRepo, dvcignore: bool) -> TreeScan {
        TreeScan {
            repo,
            dvcignore,
            memo: Mutex::new(HashMap::new()),
            matchers: Mutex::new(HashMap::new()),
        }
    }

    /// The compiled `.dvcignore` blob, from the cache when this scanner saw it before.
    fn matcher(
        &self,
        repo: &gix::Repository,
        blob: GitOid,
        dir: &str,
    ) -> Result<Arc<Gitignore>, GitError> {
        if let Some(hit) = self.matchers.lock().expect("matcher lock").get(&blob) {
            return Ok(hit.clone());
        }
        let limit = self.repo.limits().ignore_file;
        let matcher = Arc::new(load_dvcignore(repo, blob, dir, limit)?);
        self.matchers
            .lock()
            .expect("matcher lock")
            .insert(blob, matcher.clone());
        Ok(matcher)
    }

    /// Scans the given root trees in parallel.
    pub fn scan_roots(&self, roots: &[GitOid]) -> Result<HashMap<GitOid, ScannedRoot>, GitError> {
        let mut unique: Vec<GitOid> = roots.to_vec();
        unique.sort();
        unique.dedup();
        // One handle per batch: its cache of delta bases serves many roots (rayon's
        // `map_init` may make a handle, and an empty cache, per item).
        let results: Result<Vec<Vec<(GitOid, ScannedRoot)>>, GitError> = unique
            .par_chunks(SCAN_BATCH)
            .map(|batch| {
                let repo = self.repo.local();
                batch
                    .iter()
                    .map(|root| {
                        // The root's entries serve the walk and the `.dvc/config` lookup.
                        let entries = read_scanned_tree(&repo, *root)?;
                        let config = match entries.iter().find(|e| e.name == ".dvc" && e.is_tree) {
                            Some(dvc_dir) => read_tree(&repo, dvc_dir.oid)?
                                .into_iter()
                                .find(|e| e.name == "config" && e.is_blob)
                                .map(|e| e.oid),
                            None => None,
                        };
                        let tree = self.walk_entries(&repo, *root, entries, "", &Vec::new(), 0)?;
                        Ok((*root, ScannedRoot { tree, config }))
                    })
                    .collect()
            })
            .collect();
        Ok(results?.into_iter().flatten().collect())
    }

    fn walk(
        &self,
        repo: &gix::Repository,
        tree: GitOid,
        path: &str,
        ignores: &IgnoreStack,
        depth: usize,
    ) -> Result<Option<Arc<DvcTree>>, GitError> {
        if depth > MAX_TREE_DEPTH {
            return Err(GitError::msg(
                format!("tree {tree} at '{path}'"),
                format!("directory nesting deeper than {MAX_TREE_DEPTH} levels"),
            ));
        }
        // A subtree met before in the same place is not read again. With no `.dvcignore`
        // in force, one seen anywhere without one of its own has its result under its id
        // alone (a tree with its own `.dvcignore` is never memoised under its id alone, so
        // this cannot mistake one); otherwise under its id, path and the ignore files above.
        if depth > 0 {
            let memo = self.memo.lock().expect("memo lock");
            let hit = match ignores.is_empty() {
                true => memo.get(&MemoKey::Plain(tree)),
                false => None,
            }
            .or_else(|| memo.get(&placed_key(tree, path, ignores)));
            if let Some(hit) = hit {
                return Ok(hit.clone());
            }
        }
        let entries = read_scanned_tree(repo, tree)?;
        self.walk_entries(repo, tree, entries, path, ignores, depth)
    }

    /// [`Self::walk`] of `tree`, whose entries are `entries`.
    fn walk_entries(
        &self,
        repo: &gix::Repository,
        tree: GitOid,
        entries: Vec<TreeEntry>,
        path: &str,
        ignores: &IgnoreStack,
        depth: usize,
    ) -> Result<Option<Arc<DvcTree>>, GitError> {
        let mut ignores = ignores.clone();
        // DVC does not load a `.dvcignore` that its parents' patterns ignore.
        let own_ignore = entries
            .iter()
            .find(|e| self.dvcignore && e.name == ".dvcignore" && e.is_blob)
            .map(|e| e.oid)
            .filter(|_| !is_ignored(&ignores, &join(path, ".dvcignore"), false));
        // A `.dvcignore` without a pattern (as `dvc init` writes it: comments only) hides
        // nothing: it is not put in force, so the trees below it stay shared by id.
        let own_ignore = match own_ignore {
            Some(blob) => Some((blob, self.matcher(repo, blob, path)?))
                .filter(|(_, matcher)| !matcher.is_empty()),
            None => None,
        };
        let key = if ignores.is_empty() && own_ignore.is_none() {
            MemoKey::Plain(tree)
        } else {
            placed_key(tree, path, &ignores)
        };
        let key = if depth == 0 {
            MemoKey::Root(Box::new(key))
        } else {
            key
        };
        if let Some(hit) = self.memo.lock().expect("memo lock").get(&key) {
            return Ok(hit.clone());
        }
        if let Some((blob, matcher)) = own_ignore {
            ignores.push(Arc::new(IgnoreFrame {
                blob,
                dir: path.to_string(),
                matcher,
            }));
        }

        // A directory with its own `.dvc` directory is a nested DVC repository: DVC skips it.
        let nested_repo = depth > 0 && entries.iter().any(|e| e.name == ".dvc" && e.is_tree);
        let mut node = DvcTree::default();
        let mut dvc_yaml = None;
        let mut dvc_lock = None;
        if !nested_repo {
            for entry in &entries {
                let child_path = join(path, &entry.name);
                if is_ignored(&ignores, &child_path, entry.is_tree) {
                    continue;
                }
                if entry.is_tree {
                    if depth == 0 && entry.name == ".dvc" {
                        continue;
                    }
                    if let Some(child) =
                        self.walk(repo, entry.oid, &child_path, &ignores, depth + 1)?
                    {
                        node.children.push((entry.name.clone(), child));
                    }
                } else if entry.is_link {
                    if is_dvc_file_name(&entry.name) {
                        node.links.push((entry.name.clone(), entry.oid));
                    }
                } else if entry.is_blob {
                    match entry.name.as_str() {
                        "dvc.yaml" => dvc_yaml = Some(entry.oid),
                        "dvc.lock" => dvc_lock = Some(entry.oid),
                        name if name.ends_with(".dvc") && name != ".dvc" => {
                            node.dvc_files.push((entry.name.clone(), entry.oid))
                        }
                        _ => {}
                    }
                }
            }
        }
        node.pipeline = dvc_yaml.map(|dvc_yaml| PipelineFiles { dvc_yaml, dvc_lock });
        node.pipelines_below =
            node.pipeline.is_some() || node.children.iter().any(|(_, c)| c.pipelines_below);
        let result = (!node.dvc_files.is_empty()
            || node.pipeline.is_some()
            || !node.links.is_empty()
            || !node.children.is_empty())
        .then(|| Arc::new(node));
        self.memo
            .lock()
            .expect("memo lock")
            .insert(key, result.clone());
        Ok(result)
    }
}

/// The memo key of `tree` at `path` below the ignore files `ignores`.
fn placed_key(tree: GitOid, path: &str, ignores: &IgnoreStack) -> MemoKey {
    MemoKey::Ignored(
        tree,
        path.to_string(),
        ignores.iter().map(|f| (f.blob, f.dir.clone())).collect(),
    )
}

/// `*.dvc` (but not the `.dvc` directory's name), `dvc.yaml` or `dvc.lock`.
pub fn is_dvc_file_name(name: &str) -> bool {
    name == "dvc.yaml" || name == "dvc.lock" || (name.ends_with(".dvc") && name != ".dvc")
}

pub(crate) struct TreeEntry {
    pub(crate) name: String,
    pub(crate) oid: GitOid,
    pub(crate) is_tree: bool,
    /// A regular or executable file; symlinks and submodules are neither tree nor blob here.
    pub(crate) is_blob: bool,
    pub(crate) is_link: bool,
}

/// The entries of `tree` a scan looks at: subtrees, and files (or links) named like DVC
/// files or `.dvcignore`. The others are skipped before their names are copied.
fn read_scanned_tree(repo: &gix::Repository, tree: GitOid) -> Result<Vec<TreeEntry>, GitError> {
    let mut buf = Vec::new();
    let decoded = repo
        .objects
        .find_tree(&tree, &mut buf)
        .map_err(|e| GitError::new(format!("cannot read tree {tree}"), e))?;
    let wanted = |name: &[u8]| {
        name == b".dvcignore"
            || name == b"dvc.yaml"
            || name == b"dvc.lock"
            || (name.ends_with(b".dvc") && name != b".dvc")
    };
    Ok(decoded
        .entries
        .iter()
        .filter(|e| e.mode.is_tree() || wanted(e.filename))
        .map(|e| TreeEntry {
            name: String::from_utf8_lossy(e.filename).into_owned(),
            oid: e.oid.to_owned(),
            is_tree: e.mode.is_tree(),
            is_blob: e.mode.is_blob(),
            is_link: e.mode.is_link(),
        })
        .collect())
}

pub(crate) fn read_tree(repo: &gix::Repository, tree: GitOid) -> Result<Vec<TreeEntry>, GitError> {
    let mut buf = Vec::new();
    let decoded = repo
        .objects
        .find_tree(&tree, &mut buf)
        .map_err(|e| GitError::new(format!("cannot read tree {tree}"), e))?;
    Ok(decoded
        .entries
        .iter()
        .map(|e| TreeEntry {
            // Non-UTF-8 names cannot be DVC files we understand; lossy is enough to skip them.
            name: String::from_utf8_lossy(e.filename).into_owned(),
            oid: e.oid.to_owned(),
            is_tree: e.mode.is_tree(),
            is_blob: e.mode.is_blob(),
            is_link: e.mode.is_link(),
        })
        .collect())
}

/// What a tree entry is, for readers of single files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Blob,
    Tree,
    /// A symbolic link or a submodule.
    Other,
}

/// The entry at `path` (`a/b/file`) inside `root`; `None` if there is none (or a part of the
/// way is not a directory).
pub fn entry_at(
    repo: &gix::Repository,
    root: GitOid,
    path: &str,
) -> Result<Option<(GitOid, EntryKind)>, GitError> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let mut tree = root;
    for (i, part) in parts.iter().enumerate() {
        let Some(entry) = read_tree(repo, tree)?.into_iter().find(|e| e.name == *part) else {
            return Ok(None);
        };
        if i + 1 == parts.len() {
            let kind = if entry.is_tree {
                EntryKind::Tree
            } else if entry.is_blob {
                EntryKind::Blob
            } else {
                EntryKind::Other
            };
            return Ok(Some((entry.oid, kind)));
        }
        if !entry.is_tree {
            return Ok(None);
        }
        tree = entry.oid;
    }
    Ok(None)
}

/// The tree at `path` (`a/b`, or `""` for `root` itself) inside `root`, if there is one.
pub fn subtree(
    repo: &gix::Repository,
    root: GitOid,
    path: &str,
) -> Result<Option<GitOid>, GitError> {
    let mut tree = root;
    for part in path.split('/').filter(|p| !p.is_empty()) {
        match read_tree(repo, tree)?
            .into_iter()
            .find(|e| e.name == part && e.is_tree)
        {
            Some(entry) => tree = entry.oid,
            None => return Ok(None),
        }
    }
    Ok(Some(tree))
}

/// The `.dvc/config` blob in a root tree, if any.
pub fn find_dvc_config(repo: &gix::Repository, root: GitOid) -> Result<Option<GitOid>, GitError> {
    let entries = read_tree(repo, root)?;
    let Some(dvc_dir) = entries.iter().find(|e| e.name == ".dvc" && e.is_tree) else {
        return Ok(None);
    };
    Ok(read_tree(repo, dvc_dir.oid)?
        .into_iter()
        .find(|e| e.name == "config" && e.is_blob)
        .map(|e| e.oid))
}

/// `dir/name`, or `name` at the top.
pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// Reads and compiles a `.dvcignore` blob of at most `limit` bytes
/// (`dvc.maxIgnoreFileSize`); `dir` (where it was first seen) names it in errors.
pub(crate) fn load_dvcignore(
    repo: &gix::Repository,
    blob: GitOid,
    dir: &str,
    limit: usize,
) -> Result<Gitignore, GitError> {
    // Checked before reading: the matcher costs far more than the bytes (an 8 MB file took
    // 2 GB and 11 s to compile), and on the server anyone who can push chooses them.
    let size = repo
        .find_header(blob)
        .map_err(|e| GitError::new(format!("cannot read blob {blob}"), e))?
        .size();
    if size > limit as u64 {
        let path = if dir.is_empty() {
            ".dvcignore".to_string()
        } else {
            format!("{dir}/.dvcignore")
        };
        return Err(GitError::msg(
            format!("{path} (blob {blob})"),
            format!("file is {size} bytes, over the {limit}-byte limit for .dvcignore files (git config dvc.maxIgnoreFileSize)"),
        ));
    }
    let bytes = GitRepo::read_blob(repo, &blob)?;
    Ok(build_ignore(&String::from_utf8_lossy(&bytes)))
}

/// Builds a gitignore matcher for a `.dvcignore`, matched against paths relative to its
/// directory under a virtual root `/` (`/a/b`); bad patterns are skipped, as git skips them.
/// Braces are literal, as in DVC (pathspec): the `ignore` crate would expand `{a,b}`.
pub fn build_ignore(text: &str) -> Gitignore {
    let mut builder = GitignoreBuilder::new("/");
    for line in text.lines() {
        let _ = builder.add_line(None, &literal_braces(line));
    }
    builder.build().unwrap_or_else(|_| Gitignore::empty())
}

/// `line` with every `{` and `}` outside a `[…]` class backslash-escaped (already escaped
/// ones are kept), so globset matches them literally.
fn literal_braces(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '{' | '}' if !in_class => {
                out.push('\\');
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    out
}

/// Deepest `.dvcignore` with an opinion wins, as in git.
pub(crate) fn is_ignored(stack: &IgnoreStack, path: &str, is_dir: bool) -> bool {
    for frame in stack.iter().rev() {
        let relative = if frame.dir.is_empty() {
            Some(path)
        } else {
            path.strip_prefix(frame.dir.as_str())
                .and_then(|p| p.strip_prefix('/'))
        };
        let Some(relative) = relative else {
            continue;
        };
        let m = frame.matcher.matched(format!("/{relative}"), is_dir);
        if m.is_ignore() {
            return true;
        }
        if m.is_whitelist() {
            return false;
        }
    }
    false
}
