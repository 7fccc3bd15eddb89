//! The work tree as a revision: DVC's default `push` covers the checked-out state including
//! uncommitted `.dvc`/`dvc.yaml`/`dvc.lock` edits. Files are found the way DVC's workspace
//! walk finds them (git-ignored paths and `.dvcignore` skipped, nested DVC repositories
//! skipped) and given git blob ids, so they share parse results with committed blobs.
//!
//! A DVC file that is a symbolic link is recorded as a link (its target text as the blob),
//! as the tree scan records a committed one, so the workspace fails to collect the same way.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use super::tree_scan::{is_dvc_file_name, DvcTree, PipelineFiles, ScannedRoot};
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

    let mut files: Vec<(String, Entry)> = Vec::new();
    let mut blobs = HashMap::new();
    for entry in builder.build() {
        let entry = entry.map_err(|e| GitError::new("cannot walk the work tree", e))?;
        let is_link = entry.file_type().is_some_and(|t| t.is_symlink());
        if !is_link && !entry.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        if !is_dvc_file_name(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let Ok(rel) = entry.path().strip_prefix(work_dir) else {
            continue;
        };
        let Some(rel) = rel.to_str() else { continue };
        if is_link {
            let target = std::fs::read_link(entry.path())
                .map_err(|e| GitError::new(format!("cannot read link {rel}"), e))?;
            let bytes = target.as_os_str().as_encoded_bytes().to_vec();
            let oid = blob_oid(&bytes);
            blobs.insert(oid, Arc::new(bytes));
            files.push((
                rel.replace(std::path::MAIN_SEPARATOR, "/"),
                Entry::Link(oid),
            ));
            continue;
        }
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
        files.push((
            rel.replace(std::path::MAIN_SEPARATOR, "/"),
            Entry::File(oid),
        ));
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Entry {
    File(GitOid),
    /// A symbolic link; the blob holds its target.
    Link(GitOid),
}

/// Turns a sorted list of repository-relative files into the same DAG a tree scan produces.
fn build_tree(files: &[(String, Entry)]) -> Option<Arc<DvcTree>> {
    #[derive(Default)]
    struct Builder {
        dvc_files: Vec<(String, GitOid)>,
        links: Vec<(String, GitOid)>,
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
        (!b.dvc_files.is_empty()
            || pipeline.is_some()
            || !b.links.is_empty()
            || !children.is_empty())
        .then(|| {
            let pipelines_below =
                pipeline.is_some() || children.iter().any(|(_, c)| c.pipelines_below);
            Arc::new(DvcTree {
                dvc_files: b.dvc_files,
                pipeline,
                links: b.links,
                children,
                pipelines_below,
            })
        })
    }
    let mut root = Builder::default();
    for (path, entry) in files {
        let mut node = &mut root;
        let mut parts: Vec<&str> = path.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        for part in parts {
            node = node.children.entry(part.to_string()).or_default();
        }
        match (name, *entry) {
            (_, Entry::Link(oid)) => node.links.push((name.to_string(), oid)),
            ("dvc.yaml", Entry::File(oid)) => node.dvc_yaml = Some(oid),
            ("dvc.lock", Entry::File(oid)) => node.dvc_lock = Some(oid),
            (_, Entry::File(oid)) => node.dvc_files.push((name.to_string(), oid)),
        }
    }
    finish(root)
}
