//! What to upload to one destination, decided before any byte moves: the upload order
//! policy lives here so the queue stays small.

use std::path::PathBuf;

use crate::dvc::hash::DvcHash;

/// One object to copy from the local cache.
#[derive(Debug, Clone)]
pub struct FileUpload {
    pub hash: DvcHash,
    pub source: PathBuf,
}

/// A `.dir` manifest, uploaded only once every member is on the remote.
#[derive(Debug, Clone)]
pub struct DirUpload {
    pub manifest: FileUpload,
    /// Members that were not on the remote when the plan was made; each must be uploaded
    /// successfully in this run before the manifest may go.
    pub pending_members: Vec<DvcHash>,
    /// Set when a member exists neither locally nor remotely: the manifest must not go.
    pub incomplete: bool,
}

/// Everything one destination needs, in the order that keeps the remote consistent:
/// all files first, then the manifests whose members made it.
#[derive(Debug, Default)]
pub struct TransferPlan {
    pub files: Vec<FileUpload>,
    pub dirs: Vec<DirUpload>,
}

impl TransferPlan {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.files.len() + self.dirs.len()
    }
}
