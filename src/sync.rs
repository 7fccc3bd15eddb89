//! One destination from object set to outcome: expand manifests, ask the remote what it
//! has, classify every object, and plan the upload. Commands print the results.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::dvc::cache::LocalCache;
use crate::dvc::config::RemoteConfig;
use crate::dvc::hash::DvcHash;
use crate::error::Error;
use crate::objects::expand::{self, ObjectSet};
use crate::objects::{DestinationObjects, Provenance};
use crate::remote_status;
use crate::storage::{self, Storage};
use crate::transfer::{DirUpload, FileUpload, TransferPlan};

/// Where each object stands, DVC's `status -c` vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ObjectState {
    /// On the remote (and maybe in the cache).
    InSync,
    /// In the cache, not on the remote.
    New,
    /// On the remote, not in the cache.
    Deleted,
    /// Neither in the cache nor on the remote.
    Missing,
}

impl ObjectState {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectState::InSync => "in sync",
            ObjectState::New => "new",
            ObjectState::Deleted => "deleted",
            ObjectState::Missing => "missing",
        }
    }
}

pub struct Assessment {
    pub remote: RemoteConfig,
    pub storage: Arc<dyn Storage>,
    pub set: ObjectSet,
    pub present: HashSet<DvcHash>,
    pub cached: HashSet<DvcHash>,
    /// Manifests that could not be parsed: never uploaded, reported as errors.
    pub invalid_manifests: Vec<(DvcHash, String)>,
    /// Whether objects already on the remote were also looked up in the cache (status
    /// reports `deleted` for those; push does not need to know).
    full_local_check: bool,
}

/// How the members of a `.dir` found on the remote are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberCheck {
    /// DVC's rule (`dvc_data/hashfile/status.py`): a `.dir` on the remote vouches for its
    /// members, which are not asked about. Both DVC and git-dvc upload members before their
    /// `.dir`, so this is safe, and it costs the same requests as DVC (`push`, `status -c`).
    TrustManifests,
    /// Every member is looked up (`check`, `pre-receive`): what the server enforces must
    /// not rest on a manifest's word.
    EveryMember,
}

/// Expands and checks one destination.
pub fn assess(
    dest: DestinationObjects,
    cache: &LocalCache,
    jobs: usize,
    full_local_check: bool,
    members: MemberCheck,
) -> Result<Assessment, Error> {
    let storage: Arc<dyn Storage> = Arc::from(storage::open(&dest.remote)?);
    let set = expand::expand(&dest, cache, storage.as_ref());
    let present = remote_presence(storage.as_ref(), &set, jobs, members).map_err(|e| {
        Error::Message(format!(
            "cannot check remote '{}' ({}): {e}",
            dest.remote.name,
            storage.describe()
        ))
    })?;
    let all: Vec<&DvcHash> = set.files.keys().chain(set.dirs.keys()).collect();
    let cached: HashSet<DvcHash> = all
        .iter()
        .filter(|h| full_local_check || !present.contains(**h) || h.oid.is_dir())
        .filter(|h| cache.object_path(h).is_file())
        .map(|h| (*h).clone())
        .collect();
    let invalid_manifests = set
        .dirs
        .iter()
        .filter_map(|(h, d)| d.invalid.clone().map(|m| (h.clone(), m)))
        .collect();
    Ok(Assessment {
        remote: dest.remote,
        storage,
        set,
        present,
        cached,
        invalid_manifests,
        full_local_check,
    })
}

/// Which objects of `set` the storage holds. With [`MemberCheck::TrustManifests`] this asks
/// in DVC's two rounds: the `.dir`s first, then the files no present `.dir` vouches for.
fn remote_presence(
    storage: &dyn Storage,
    set: &ObjectSet,
    jobs: usize,
    members: MemberCheck,
) -> Result<HashSet<DvcHash>, crate::storage::StorageError> {
    if members == MemberCheck::EveryMember {
        let all: Vec<&DvcHash> = set.files.keys().chain(set.dirs.keys()).collect();
        return remote_status::present(storage, &all, jobs);
    }
    let dirs: Vec<&DvcHash> = set.dirs.keys().collect();
    let mut present = remote_status::present(storage, &dirs, jobs)?;
    let vouched: HashSet<&DvcHash> = set
        .dirs
        .iter()
        .filter(|(hash, dir)| present.contains(*hash) && dir.invalid.is_none())
        .flat_map(|(_, dir)| dir.members.iter().flatten())
        .collect();
    let rest: Vec<&DvcHash> = set.files.keys().filter(|h| !vouched.contains(h)).collect();
    let found = remote_status::present(storage, &rest, jobs)?;
    present.extend(found);
    present.extend(vouched.into_iter().cloned());
    Ok(present)
}

impl Assessment {
    pub fn state(&self, hash: &DvcHash) -> ObjectState {
        let assume_cached = !self.full_local_check && !hash.oid.is_dir();
        match (self.present.contains(hash), self.cached.contains(hash)) {
            (true, _) if assume_cached => ObjectState::InSync,
            (true, true) => ObjectState::InSync,
            (true, false) => ObjectState::Deleted,
            (false, true) => ObjectState::New,
            (false, false) => ObjectState::Missing,
        }
    }

    /// Every object that is not in sync, with where it came from, sorted by path. Invalid
    /// manifests are not states but errors: see [`Assessment::invalid_manifests`].
    pub fn out_of_sync(&self) -> Vec<(ObjectState, &DvcHash, &Provenance)> {
        let mut out: Vec<(ObjectState, &DvcHash, &Provenance)> = Vec::new();
        for (hash, prov) in &self.set.files {
            let state = self.state(hash);
            if state != ObjectState::InSync {
                out.push((state, hash, prov));
            }
        }
        for (hash, dir) in &self.set.dirs {
            let state = self.state(hash);
            if state != ObjectState::InSync && dir.invalid.is_none() {
                out.push((state, hash, &dir.provenance));
            }
        }
        out.sort_by(|a, b| a.2.path.cmp(&b.2.path).then(a.1.cmp(b.1)));
        out
    }

    /// Objects that cannot be uploaded because no copy exists anywhere.
    pub fn missing_everywhere(&self) -> BTreeMap<&DvcHash, &Provenance> {
        let mut out = BTreeMap::new();
        for (hash, prov) in &self.set.files {
            if !self.present.contains(hash) && !self.cached.contains(hash) {
                out.insert(hash, prov);
            }
        }
        for (hash, dir) in &self.set.dirs {
            if !self.present.contains(hash) && !self.cached.contains(hash) {
                out.insert(hash, &dir.provenance);
            }
        }
        out
    }

    /// Uploads needed: every object missing remotely but cached; each `.dir` after its
    /// members, and held back if any member has no copy anywhere.
    pub fn plan(&self, cache: &LocalCache) -> TransferPlan {
        let mut plan = TransferPlan::default();
        for hash in self.set.files.keys() {
            if !self.present.contains(hash) && self.cached.contains(hash) {
                plan.files.push(FileUpload {
                    hash: hash.clone(),
                    source: cache.object_path(hash),
                });
            }
        }
        for (hash, dir) in &self.set.dirs {
            if self.present.contains(hash) || !self.cached.contains(hash) || dir.invalid.is_some() {
                continue;
            }
            let members = dir.members.as_deref().unwrap_or_default();
            let pending: Vec<DvcHash> = members
                .iter()
                .filter(|m| !self.present.contains(*m))
                .cloned()
                .collect();
            let incomplete =
                dir.members.is_none() || pending.iter().any(|m| !self.cached.contains(m));
            plan.dirs.push(DirUpload {
                manifest: FileUpload {
                    hash: hash.clone(),
                    source: cache.object_path(hash),
                },
                pending_members: pending,
                incomplete,
            });
        }
        plan
    }
}
