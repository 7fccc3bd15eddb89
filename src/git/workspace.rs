//! The work tree as a revision: DVC's default `push` covers the checked-out state including
//! uncommitted `.dvc`/`dvc.yaml`/`dvc.lock` edits. Files are found the way DVC's workspace
//! walk finds them (git-ignored paths and `.dvcignore` skipped, nested DVC repositories
//! skipped) and given git blob ids, so they share parse results with committed blobs.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::tree_scan::{DvcTree, PipelineFiles, ScannedRoot};
use super::{blob_oid, GitError, GitOid};

/// The work tree's DVC files, shaped like a scanned commit, with their bytes.
pub struct WorkspaceScan {
    pub root: ScannedRoot,
    pub blobs: HashMap<GitOid, Arc<Vec<u8>>>,
}

/// Largest DVC metadata file read from the work tree; bigger ones are not DVC files anyone
/// wrote by hand or by `dvc`, and reading them whole could exhaust memory.
pub const MAX_METADATA_FILE: u64 = 64 * 1024 * 1024;

pub fn scan(work_dir: &Path) -> Result<WorkspaceScan, GitError> {
    let mut builder = ignore::WalkBuilder::new(work_dir);
    builder
        .hidden(false)
        .parents(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .require_git(false)
        .add_custom_ignore_filename(".dvcignore")
        .follow_links(false);
    let root = work_dir.to_path_buf();
    builder.filter_entry(move |entry| {
        let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
        if !is_dir {
            return true;
        }
        let name = entry.file_name();
        if name == ".git" || (name == ".dvc" && entry.path().parent() == Some(root.as_path())) {
            return false;
        }
        // Nested DVC repositories are separate projects.
        entry.depth() == 0 || !entry.path().join(".dvc").is_dir()
    });

    let mut files: Vec<(String, GitOid)> = Vec::new();
    let mut blobs = HashMap::new();
    for entry in builder.build() {
        let entry = entry.map_err(|e| GitError::new("cannot walk the work tree", e))?;
        if !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        let wanted =
            name == "dvc.yaml" || name == "dvc.lock" || (name.ends_with(".dvc") && name != ".dvc");
        if !wanted {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(work_dir) else {
            continue;
        };
        let Some(rel) = rel.to_str() else { continue };
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_METADATA_FILE {
            return Err(GitError::msg(
                format!("{rel} (workspace)"),
                format!("file is {size} bytes, larger than any DVC metadata file should be ({MAX_METADATA_FILE} bytes)"),
            ));
        }
        let bytes = std::fs::read(entry.path())
            .map_err(|e| GitError::new(format!("cannot read {rel}"), e))?;
        let oid = blob_oid(&bytes);
        blobs.insert(oid, Arc::new(bytes));
        files.push((rel.replace(std::path::MAIN_SEPARATOR, "/"), oid));
    }
    files.sort();
    Ok(WorkspaceScan {
        root: ScannedRoot {
            tree: build_tree(&files),
            config: None,
        },
        blobs,
    })
}

/// Turns a sorted list of repository-relative files into the same DAG a tree scan produces.
fn build_tree(files: &[(String, GitOid)]) -> Option<Arc<DvcTree>> {
    #[derive(Default)]
    struct Builder {
        dvc_files: Vec<(String, GitOid)>,
        dvc_yaml: Option<GitOid>,
        dvc_lock: Option<GitOid>,
        children: std::collections::BTreeMap<String, Builder>,
    }
    fn finish(b: Builder) -> Option<Arc<DvcTree>> {
        let children: Vec<(String, Arc<DvcTree>)> = b
            .children
            .into_iter()
            .filter_map(|(name, child)| finish(child).map(|c| (name, c)))
            .collect();
        let pipeline = b.dvc_yaml.map(|dvc_yaml| PipelineFiles {
            dvc_yaml,
            dvc_lock: b.dvc_lock,
        });
        (!b.dvc_files.is_empty() || pipeline.is_some() || !children.is_empty()).then(|| {
            Arc::new(DvcTree {
                dvc_files: b.dvc_files,
                pipeline,
                children,
            })
        })
    }
    let mut root = Builder::default();
    for (path, oid) in files {
        let mut node = &mut root;
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        for part in parts {
            node = node.children.entry(part.to_string()).or_default();
        }
        match name {
            "dvc.yaml" => node.dvc_yaml = Some(*oid),
            "dvc.lock" => node.dvc_lock = Some(*oid),
            _ => node.dvc_files.push((name.to_string(), *oid)),
        }
    }
    finish(root)
}
