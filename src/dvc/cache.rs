//! The local DVC cache: where `dvc add`/`dvc repro` put objects, in both layouts.

use std::path::{Path, PathBuf};

use super::hash::DvcHash;

#[derive(Debug, Clone)]
pub struct LocalCache {
    root: PathBuf,
}

impl LocalCache {
    pub fn new(root: PathBuf) -> LocalCache {
        LocalCache { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<cache>/files/md5/ab/cdef…` for DVC 3 objects, `<cache>/ab/cdef…` for legacy ones.
    pub fn object_path(&self, hash: &DvcHash) -> PathBuf {
        self.root.join(hash.relative_key())
    }
}
