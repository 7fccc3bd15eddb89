//! Expands `.dir` objects into their members. A manifest is read from the local cache, or
//! from the remote when the cache lacks it (DVC does the same), and parsed once.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use super::{DestinationObjects, Provenance};
use crate::dvc::cache::LocalCache;
use crate::dvc::dir_manifest;
use crate::dvc::hash::DvcHash;
use crate::dvc::output::ManifestEntry;
use crate::storage::Storage;

/// A directory output's manifest and what it lists.
#[derive(Debug)]
pub struct DirObject {
    pub provenance: Provenance,
    /// `None` when the manifest is in neither the cache nor the remote.
    pub members: Option<Vec<DvcHash>>,
    /// A manifest that exists but cannot be parsed: reported, never uploaded.
    pub invalid: Option<String>,
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

pub fn expand(dest: &DestinationObjects, cache: &LocalCache, storage: &dyn Storage) -> ObjectSet {
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
            (
                (*hash).clone(),
                (*prov).clone(),
                load_manifest(hash, cache, storage),
            )
        })
        .collect();
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
            Err(message) => (None, Some(message)),
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
    set
}

/// A manifest's members; `None` when no copy exists; `Err` when it cannot be read or parsed.
type ManifestLoad = Result<Option<Vec<ManifestEntry>>, String>;

fn load_manifest(hash: &DvcHash, cache: &LocalCache, storage: &dyn Storage) -> ManifestLoad {
    let bytes = match cache.read_object(hash) {
        Ok(b) => Some(b),
        Err(_) => storage
            .read(&hash.relative_key())
            .map_err(|e| format!("cannot read {} from the remote: {e}", hash.oid))?,
    };
    let Some(bytes) = bytes else { return Ok(None) };
    let limit = crate::limits::get().manifest;
    if bytes.len() > limit {
        return Err(format!(
            "directory manifest {} is {} bytes, over the {limit}-byte limit (git config dvc.maxManifestSize)",
            hash.oid,
            bytes.len()
        ));
    }
    dir_manifest::parse(&bytes)
        .map(Some)
        .map_err(|e| format!("directory manifest {} is invalid: {e}", hash.oid))
}
