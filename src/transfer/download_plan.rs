//! What to download for one destination, decided before any byte moves: which objects the
//! cache lacks, and which `.dir` manifests may be stored once their members are in. The
//! order policy lives here so the queue stays small.

use crate::dvc::hash::DvcHash;

/// One object to bring into the cache.
#[derive(Debug, Clone)]
pub struct FileDownload {
    pub hash: DvcHash,
    /// Listed by a manifest read from the remote: the remote vouches for it (DVC's rule),
    /// so its absence there is a failed download, not a missing object.
    pub vouched: bool,
}

/// A manifest read from the remote, stored (its exact bytes) only once every member is in
/// the cache: a `.dir` in the cache keeps meaning "this directory is complete".
#[derive(Debug, Clone)]
pub struct DirDownload {
    pub hash: DvcHash,
    pub bytes: Vec<u8>,
    /// Members the cache lacked when the plan was made: each must land in this run.
    pub pending_members: Vec<DvcHash>,
}

/// Files first (in key order: shard by shard), then the manifests.
#[derive(Debug, Default)]
pub struct DownloadPlan {
    pub files: Vec<FileDownload>,
    pub dirs: Vec<DirDownload>,
}

impl DownloadPlan {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }

    pub fn len(&self) -> usize {
        self.files.len() + self.dirs.len()
    }
}
