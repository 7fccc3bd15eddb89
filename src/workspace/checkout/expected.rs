//! What an output should hold: one file, or a directory's members as its `.dir` manifest
//! in the cache lists them. The manifest is read without following a link, checked
//! against its name and for paths that would leave the directory, before any member is
//! trusted.

use std::collections::{BTreeMap, BTreeSet};

use super::FailReason;
use crate::dvc::cache::LocalCache;
use crate::dvc::dir_manifest;
use crate::dvc::hash::{DvcHash, ObjectId};

#[derive(Debug)]
pub enum Expected {
    File {
        oid: ObjectId,
        isexec: bool,
    },
    Dir {
        /// By `/`-separated path relative to the directory.
        members: BTreeMap<String, ObjectId>,
        /// Every directory the members imply (`a`, `a/b` for `a/b/c`).
        dirs: BTreeSet<String>,
    },
}

impl Expected {
    pub fn is_dir(&self) -> bool {
        matches!(self, Expected::Dir { .. })
    }

    /// `manifest_limit`: the largest `.dir` read (git config `dvc.maxManifestSize`).
    pub fn load(
        cache: &LocalCache,
        hash: &DvcHash,
        isexec: bool,
        manifest_limit: usize,
    ) -> Result<Expected, FailReason> {
        if !hash.oid.is_dir() {
            return Ok(Expected::File {
                oid: hash.oid.clone(),
                isexec,
            });
        }
        if !cache.has_object(hash) {
            return Err(FailReason::Missing(vec![hash.clone()]));
        }
        let path = cache.object_path(hash);
        let invalid = |why: String| {
            FailReason::Other(format!(
                "the directory manifest {} cannot be used: {why}",
                path.display()
            ))
        };
        let size = std::fs::symlink_metadata(&path)
            .map_err(|e| invalid(e.to_string()))?
            .len();
        let limit = manifest_limit;
        if size > limit as u64 {
            return Err(invalid(format!(
                "it is {size} bytes, over the {limit}-byte limit (git config dvc.maxManifestSize)"
            )));
        }
        let bytes = cache
            .read_object(hash)
            .map_err(|e| invalid(e.to_string()))?;
        crate::transfer::verify::bytes_match(&bytes, hash).map_err(|actual| {
            invalid(format!(
                "its bytes hash to {actual}, not to its name: delete it and fetch it again"
            ))
        })?;
        let entries = dir_manifest::parse(&bytes).map_err(|e| invalid(e.to_string()))?;
        let mut members = BTreeMap::new();
        let mut dirs = BTreeSet::new();
        for e in entries {
            let mut at = 0;
            while let Some(i) = e.relpath[at..].find('/') {
                dirs.insert(e.relpath[..at + i].to_string());
                at += i + 1;
            }
            members.insert(e.relpath, e.md5);
        }
        if let Some(both) = dirs.iter().find(|d| members.contains_key(*d)) {
            return Err(invalid(format!(
                "it lists '{both}' both as a file and as a directory"
            )));
        }
        Ok(Expected::Dir { members, dirs })
    }
}
