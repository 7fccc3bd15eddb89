//! One destination, storage to cache: expand manifests (the remote's copy when the cache
//! lacks one, kept to be stored later), ask the cache what it holds, and plan the
//! download. The down-direction counterpart of [`crate::sync`]; commands print the results.
//!
//! No remote request is made to learn what the remote has: each object the cache lacks is
//! simply asked for, and "not found" answers the question at the price DVC pays for its
//! existence check alone. A fetch with every object in the cache sends no request.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::dvc::cache::LocalCache;
use crate::dvc::cache_presence;
use crate::dvc::config::RemoteConfig;
use crate::dvc::dir_manifest::RelpathRules;
use crate::dvc::hash::DvcHash;
use crate::error::Error;
use crate::limits::Limits;
use crate::objects::collect::Direction;
use crate::objects::expand::{self, FetchedManifests, InvalidManifest, ManifestRules, ObjectSet};
use crate::objects::{DestinationObjects, Provenance};
use crate::storage::{Storage, StorageError};
use crate::transfer::download_plan::{DirDownload, DownloadPlan, FileDownload};

pub struct CacheAssessment {
    pub remote: RemoteConfig,
    pub storage: Arc<dyn Storage>,
    pub set: ObjectSet,
    /// Objects of `set` the cache holds (trusted or checked, as DVC decides).
    pub cached: HashSet<DvcHash>,
    /// Manifests that exist but cannot be trusted: they fail, their directories' files are
    /// not fetched, everything else is.
    pub invalid: Vec<InvalidManifest>,
    manifests: FetchedManifests,
}

/// Expands `dest` and checks the cache for each object, under the repository's `limits`;
/// `storage` is `dest`'s remote, opened.
pub fn assess(
    dest: DestinationObjects,
    storage: Arc<dyn Storage>,
    cache: &LocalCache,
    limits: &Limits,
) -> Result<CacheAssessment, Error> {
    let named = format!("remote '{}' ({})", dest.remote.name, storage.describe());
    let (set, manifests) = expand::expand_keeping_manifests(
        &dest,
        cache,
        storage.as_ref(),
        ManifestRules {
            relpaths: RelpathRules::ThisPlatform,
            max_bytes: limits.manifest,
        },
    )
    .map_err(|e: StorageError| {
        Error::Storage(StorageError::new(
            e.kind,
            format!("cannot read from {named}: {e}"),
        ))
    })?;
    let invalid = expand::untrusted_manifests(&set, Direction::Down)?;
    let cached = cache_presence::cached_among(cache, set.files.keys().chain(set.dirs.keys()));
    Ok(CacheAssessment {
        remote: dest.remote,
        storage,
        set,
        cached,
        invalid,
        manifests,
    })
}

impl CacheAssessment {
    /// Manifests in neither the cache nor the remote: their directories cannot be fetched
    /// (DVC warns and goes on).
    pub fn missing_manifests(&self) -> BTreeMap<&DvcHash, &Provenance> {
        self.set
            .dirs
            .iter()
            .filter(|(hash, dir)| {
                dir.members.is_none() && dir.invalid.is_none() && !self.cached.contains(*hash)
            })
            .map(|(hash, dir)| (hash, &dir.provenance))
            .collect()
    }

    /// Every object the cache lacks and a remote copy may exist of: files first, then the
    /// manifests read from the remote, each waiting for its members.
    pub fn plan(&self) -> DownloadPlan {
        let mut plan = DownloadPlan::default();
        let mut vouched: HashSet<&DvcHash> = HashSet::new();
        for (hash, bytes) in &self.manifests {
            let Some(dir) = self.set.dirs.get(hash) else {
                continue;
            };
            if self.cached.contains(hash) {
                continue;
            }
            let pending: Vec<DvcHash> = self
                .set
                .members(dir)
                .filter(|m| !self.cached.contains(*m))
                .cloned()
                .collect();
            vouched.extend(self.set.members(dir));
            plan.dirs.push(DirDownload {
                hash: hash.clone(),
                bytes: bytes.clone(),
                pending_members: pending,
            });
        }
        for hash in self.set.files.keys() {
            if !self.cached.contains(hash) {
                plan.files.push(FileDownload {
                    hash: hash.clone(),
                    vouched: vouched.contains(hash),
                });
            }
        }
        plan.files.sort_by(|a, b| a.hash.cmp(&b.hash));
        plan.dirs.sort_by(|a, b| a.hash.cmp(&b.hash));
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::{HashKind, ObjectId};
    use crate::objects::expand::DirObject;

    fn hash(i: u8, is_dir: bool) -> DvcHash {
        DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::from_digest([i; 16], is_dir),
        }
    }

    fn prov(path: &str) -> Provenance {
        Provenance {
            path: path.into(),
            revision: "workspace".into(),
        }
    }

    #[test]
    fn plan_waits_manifests_on_their_members_and_skips_what_is_cached() {
        let (from_remote, in_cache, nowhere) = (hash(1, true), hash(2, true), hash(3, true));
        let (m1, m2, m3, loose) = (
            hash(10, false),
            hash(11, false),
            hash(12, false),
            hash(13, false),
        );
        let mut set = ObjectSet::default();
        let mut index = |h: &DvcHash| set.files.insert_with(h.clone(), || prov("f"));
        let (i1, i2, i3) = (index(&m1), index(&m2), index(&m3));
        index(&loose);
        let dir = |members: Option<Vec<u32>>| DirObject {
            provenance: prov("d"),
            members: members.map(Vec::into_boxed_slice),
            invalid: None,
            known_complete: false,
        };
        set.dirs
            .insert(from_remote.clone(), dir(Some(vec![i1, i2])));
        set.dirs.insert(in_cache.clone(), dir(Some(vec![i3])));
        set.dirs.insert(nowhere.clone(), dir(None));
        let assessment = CacheAssessment {
            remote: RemoteConfig {
                name: "r".into(),
                url: "/nowhere".into(),
                options: Default::default(),
            },
            storage: Arc::new(crate::storage::memory::MemoryStorage::new([], None)),
            set,
            cached: [in_cache.clone(), m2.clone()].into_iter().collect(),
            invalid: Vec::new(),
            manifests: [(from_remote.clone(), b"bytes".to_vec())]
                .into_iter()
                .collect(),
        };
        let plan = assessment.plan();
        let files: Vec<(&DvcHash, bool)> =
            plan.files.iter().map(|f| (&f.hash, f.vouched)).collect();
        // m2 is cached; m3's manifest came from the cache, so the remote vouches for nothing.
        assert_eq!(files, vec![(&m1, true), (&m3, false), (&loose, false)]);
        assert_eq!(plan.dirs.len(), 1);
        assert_eq!(plan.dirs[0].hash, from_remote);
        assert_eq!(plan.dirs[0].pending_members, vec![m1.clone()]);
        let missing: Vec<&DvcHash> = assessment.missing_manifests().into_keys().collect();
        assert_eq!(missing, vec![&nowhere]);
    }
}
