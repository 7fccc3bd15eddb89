//! Expands `.dir` objects into their members. A manifest is read from the local cache, or
//! from the remote when the cache lacks it (DVC does the same), checked against its name
//! and parsed once.
//!
//! A manifest whose bytes do not hash to its name, or that cannot be parsed, is an
//! [`InvalidManifest`]: nothing it lists can be trusted, so every command stops on it (see
//! [`crate::sync::assess`]). A manifest that cannot be *read* (the remote is unreachable)
//! is a [`StorageError`] instead: the object may be fine, the check could not be done.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{DestinationObjects, Provenance};
use crate::dvc::cache::LocalCache;
use crate::dvc::dir_manifest;
use crate::dvc::hash::DvcHash;
use crate::dvc::output::ManifestEntry;
use crate::storage::{Storage, StorageError};

/// A directory output's manifest and what it lists.
#[derive(Debug)]
pub struct DirObject {
    pub provenance: Provenance,
    /// `None` when the manifest is in neither the cache nor the remote.
    pub members: Option<Vec<DvcHash>>,
    /// A manifest that exists but cannot be trusted: reported, never uploaded.
    pub invalid: Option<ManifestProblem>,
}

/// Why a manifest that exists cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ManifestProblem {
    /// Reads from storage stop one byte past the limit, so `size` is a lower bound.
    #[error(
        "it is over the {limit}-byte limit (at least {size} bytes; git config dvc.maxManifestSize)"
    )]
    TooLarge { size: usize, limit: usize },
    /// The bytes stored under the name are not the manifest the name stands for.
    #[error("its bytes do not match its name (they hash to {actual}): the copy {place} is corrupt or forged")]
    HashMismatch { actual: String, place: &'static str },
    #[error("{0}")]
    Malformed(#[from] dir_manifest::ManifestError),
}

/// A manifest some output needs that cannot be trusted, with the output that needs it.
#[derive(Debug, Clone)]
pub struct InvalidManifest {
    pub hash: DvcHash,
    pub used_by: Provenance,
    pub problem: ManifestProblem,
}

impl std::fmt::Display for InvalidManifest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "directory manifest {} (used by {}) is invalid: {}",
            self.hash.oid, self.used_by, self.problem
        )
    }
}

/// Every object one destination must hold.
#[derive(Debug, Default)]
pub struct ObjectSet {
    /// Plain file objects: loose outputs and directory members. A hash map: a history of
    /// large directories puts millions of member lookups here.
    pub files: HashMap<DvcHash, Provenance>,
    pub dirs: BTreeMap<DvcHash, DirObject>,
}

impl ObjectSet {
    pub fn len(&self) -> usize {
        self.files.len() + self.dirs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where an object (file or `.dir`) was first seen, for messages.
    pub fn provenance(&self, hash: &DvcHash) -> Option<&Provenance> {
        self.files
            .get(hash)
            .or_else(|| self.dirs.get(hash).map(|d| &d.provenance))
    }
}

/// Reads and parses every `.dir` of `dest`; an error only when a manifest cannot be read
/// from the remote at all.
pub fn expand(
    dest: &DestinationObjects,
    cache: &LocalCache,
    storage: &dyn Storage,
) -> Result<ObjectSet, StorageError> {
    let mut set = ObjectSet::default();
    let dirs: Vec<(&DvcHash, &Provenance)> = dest
        .objects
        .iter()
        .filter(|(h, _)| h.oid.is_dir())
        .collect();
    for (hash, prov) in &dest.objects {
        if !hash.oid.is_dir() {
            set.files
                .entry(hash.clone())
                .or_insert_with(|| prov.clone());
        }
    }
    let loaded: Vec<(DvcHash, Provenance, ManifestLoad)> = dirs
        .par_iter()
        .map(|(hash, prov)| {
            load_manifest(hash, cache, storage).map(|m| ((*hash).clone(), (*prov).clone(), m))
        })
        .collect::<Result<_, StorageError>>()?;
    for (hash, prov, manifest) in loaded {
        let (members, invalid) = match manifest {
            Ok(Some(entries)) => {
                let mut members = Vec::with_capacity(entries.len());
                for entry in entries {
                    let member = DvcHash {
                        kind: hash.kind,
                        oid: entry.md5,
                    };
                    set.files
                        .entry(member.clone())
                        .or_insert_with(|| Provenance {
                            path: format!("{}/{}", prov.path, entry.relpath),
                            revision: prov.revision.clone(),
                        });
                    members.push(member);
                }
                (Some(members), None)
            }
            Ok(None) => (None, None),
            Err(problem) => (None, Some(problem)),
        };
        set.dirs.insert(
            hash,
            DirObject {
                provenance: prov,
                members,
                invalid,
            },
        );
    }
    Ok(set)
}

/// A manifest's members; `None` when no copy exists; `Err` when a copy exists but cannot be
/// trusted.
type ManifestLoad = Result<Option<Vec<ManifestEntry>>, ManifestProblem>;

fn load_manifest(
    hash: &DvcHash,
    cache: &LocalCache,
    storage: &dyn Storage,
) -> Result<ManifestLoad, StorageError> {
    crate::trace::object("manifest", hash);
    let (bytes, place) = match cache.read_object(hash) {
        Ok(b) => (Some(b), "in the local cache"),
        Err(_) => (
            storage.read(&hash.relative_key(), crate::limits::get().manifest as u64)?,
            "in remote storage",
        ),
    };
    let Some(bytes) = bytes else {
        return Ok(Ok(None));
    };
    Ok(check_manifest(hash, &bytes, place).map(Some))
}

/// Size cap, then the name (a `.dir` id is the md5 of its bytes, with DVC 2's dos2unix
/// variants for legacy ids), then the format.
fn check_manifest(
    hash: &DvcHash,
    bytes: &[u8],
    place: &'static str,
) -> Result<Vec<ManifestEntry>, ManifestProblem> {
    let limit = crate::limits::get().manifest;
    if bytes.len() > limit {
        return Err(ManifestProblem::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    if let Err(actual) = crate::transfer::verify::bytes_match(bytes, hash) {
        return Err(ManifestProblem::HashMismatch { actual, place });
    }
    Ok(dir_manifest::parse(bytes)?)
}
