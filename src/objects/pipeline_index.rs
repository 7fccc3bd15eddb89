//! A small local index that lets a hook decide "this pipeline is unchanged" from tree
//! lookups alone, without reading any DVC file:
//!
//! - **reads**: per `dvc.yaml` blob, the vars reads its templating made somewhere (path →
//!   blob id / missing / refused). Templating is a function of the `dvc.yaml` bytes and of
//!   what its reads find, so a recorded list whose every read finds the same thing in a
//!   tree *is* that pipeline's list there (see `pipeline_inputs`).
//! - **pipelines**: per project tree (and whether `.dvcignore` applied), where its
//!   pipelines are, so a subtree identical to a parent's need not be read to find them.
//!
//! Entries are facts about content-addressed objects; a missing, unreadable or foreign
//! index only costs the reads it would have saved. It lives in `$GIT_DIR/dvc/`, is bounded
//! (the newest [`MAX_TREES`] trees and [`MAX_READS`] read lists are kept) and is replaced
//! atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::pipeline_inputs::ReadState;
use crate::git::tree_scan::PipelineFiles;
use crate::git::GitOid;
use crate::limits::Limits;

pub const MAX_TREES: usize = 64;
pub const MAX_READS: usize = 512;
/// An index file bigger than this is ignored (and replaced).
const MAX_FILE_BYTES: u64 = 8 << 20;

/// Pipelines of one project tree: (directory in the project, files).
pub type PipelineList = Vec<(String, PipelineFiles)>;
/// One templating's reads, in order.
pub type Reads = Vec<(String, ReadState)>;

#[derive(Default)]
pub struct PipelineIndex {
    path: Option<PathBuf>,
    trees: Vec<((bool, GitOid), PipelineList)>,
    reads: Vec<(GitOid, Reads)>,
    by_tree: HashMap<(bool, GitOid), usize>,
    changed: bool,
    /// [`format`] under the limits in force.
    format: String,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    format: String,
    trees: Vec<DiskTree>,
    reads: Vec<DiskReads>,
}

#[derive(Serialize, Deserialize)]
struct DiskTree {
    dvcignore: bool,
    tree: String,
    pipelines: Vec<(String, String, Option<String>)>,
}

#[derive(Serialize, Deserialize)]
struct DiskReads {
    dvc_yaml: String,
    /// (path, "blob" | "missing" | "refused", blob id or reason)
    reads: Vec<(String, String, String)>,
}

/// What an index must have been written under to be used: the templating code and the
/// size limits that decide where templating stops.
fn format(limits: Limits) -> String {
    format!(
        "git-dvc pipeline index 1; {}; dvc_file {}",
        env!("CARGO_PKG_VERSION"),
        limits.dvc_file
    )
}

impl PipelineIndex {
    /// The index of the repository whose git directory is `git_dir` (empty when there is
    /// none yet or it cannot be used, such as one written under other `limits`).
    pub fn load(git_dir: &Path, limits: Limits) -> PipelineIndex {
        let path = git_dir.join("dvc").join("pipeline-index.json");
        let mut index = PipelineIndex {
            path: Some(path.clone()),
            format: format(limits),
            ..PipelineIndex::default()
        };
        let Ok(meta) = std::fs::metadata(&path) else {
            return index;
        };
        if meta.len() > MAX_FILE_BYTES {
            return index;
        }
        let Ok(bytes) = std::fs::read(&path) else {
            return index;
        };
        let Ok(disk) = serde_json::from_slice::<OnDisk>(&bytes) else {
            return index;
        };
        if disk.format != index.format {
            return index;
        }
        // Any entry that does not decode voids the whole file: it is not ours.
        let oid = |s: &str| GitOid::from_hex(s.as_bytes()).ok();
        let mut trees = Vec::new();
        for t in disk.trees {
            let Some(tree) = oid(&t.tree) else {
                return index;
            };
            let mut list = Vec::new();
            for (dir, yaml, lock) in t.pipelines {
                let Some(dvc_yaml) = oid(&yaml) else {
                    return index;
                };
                let dvc_lock = match lock {
                    Some(l) => match oid(&l) {
                        Some(l) => Some(l),
                        None => return index,
                    },
                    None => None,
                };
                list.push((dir, PipelineFiles { dvc_yaml, dvc_lock }));
            }
            trees.push(((t.dvcignore, tree), list));
        }
        let mut reads = Vec::new();
        for r in disk.reads {
            let Some(yaml) = oid(&r.dvc_yaml) else {
                return index;
            };
            let mut list = Vec::new();
            for (path, kind, value) in r.reads {
                let state = match kind.as_str() {
                    "blob" => match oid(&value) {
                        Some(o) => ReadState::Blob(o),
                        None => return index,
                    },
                    "missing" => ReadState::Missing,
                    "refused" => ReadState::Refused(value),
                    _ => return index,
                };
                list.push((path, state));
            }
            reads.push((yaml, list));
        }
        index.by_tree = trees
            .iter()
            .enumerate()
            .map(|(i, (key, _))| (*key, i))
            .collect();
        index.trees = trees;
        index.reads = reads;
        index
    }

    pub fn pipelines(&self, dvcignore: bool, tree: GitOid) -> Option<&PipelineList> {
        self.by_tree
            .get(&(dvcignore, tree))
            .map(|i| &self.trees[*i].1)
    }

    pub fn set_pipelines(&mut self, dvcignore: bool, tree: GitOid, list: PipelineList) {
        if self.by_tree.contains_key(&(dvcignore, tree)) {
            return;
        }
        self.trees.push(((dvcignore, tree), list));
        if self.trees.len() > MAX_TREES {
            let drop = self.trees.len() - MAX_TREES;
            self.trees.drain(..drop);
        }
        self.by_tree = self
            .trees
            .iter()
            .enumerate()
            .map(|(i, (key, _))| (*key, i))
            .collect();
        self.changed = true;
    }

    /// The recorded read lists of a `dvc.yaml` blob.
    pub fn reads(&self, dvc_yaml: GitOid) -> impl Iterator<Item = &Reads> {
        self.reads
            .iter()
            .filter(move |(y, _)| *y == dvc_yaml)
            .map(|(_, r)| r)
    }

    pub fn add_reads(&mut self, dvc_yaml: GitOid, reads: Reads) {
        if self
            .reads
            .iter()
            .any(|(y, r)| *y == dvc_yaml && *r == reads)
        {
            return;
        }
        self.reads.push((dvc_yaml, reads));
        if self.reads.len() > MAX_READS {
            let drop = self.reads.len() - MAX_READS;
            self.reads.drain(..drop);
        }
        self.changed = true;
    }

    /// Writes the index back if anything was added; failures are ignored (it is a cache).
    pub fn save(&self) {
        let Some(path) = &self.path else { return };
        if !self.changed {
            return;
        }
        let disk = OnDisk {
            format: self.format.clone(),
            trees: self
                .trees
                .iter()
                .map(|((dvcignore, tree), list)| DiskTree {
                    dvcignore: *dvcignore,
                    tree: tree.to_string(),
                    pipelines: list
                        .iter()
                        .map(|(dir, f)| {
                            (
                                dir.clone(),
                                f.dvc_yaml.to_string(),
                                f.dvc_lock.map(|l| l.to_string()),
                            )
                        })
                        .collect(),
                })
                .collect(),
            reads: self
                .reads
                .iter()
                .map(|(yaml, reads)| DiskReads {
                    dvc_yaml: yaml.to_string(),
                    reads: reads
                        .iter()
                        .map(|(p, s)| match s {
                            ReadState::Blob(o) => (p.clone(), "blob".into(), o.to_string()),
                            ReadState::Missing => (p.clone(), "missing".into(), String::new()),
                            ReadState::Refused(why) => (p.clone(), "refused".into(), why.clone()),
                        })
                        .collect(),
                })
                .collect(),
        };
        let Ok(bytes) = serde_json::to_vec(&disk) else {
            return;
        };
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return;
        }
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = dir.join(format!(".pipeline-index.{}.tmp", std::process::id()));
        if std::fs::write(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
