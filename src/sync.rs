//! One destination from object set to outcome: expand manifests, ask the remote what it
//! has, classify every object, and plan the upload. Commands print the results.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use crate::dvc::cache::LocalCache;
use crate::dvc::config::RemoteConfig;
use crate::dvc::dir_manifest::RelpathRules;
use crate::dvc::hash::{DvcHash, HashKind};
use crate::error::Error;
use crate::limits::Limits;
use crate::objects::collect::Direction;
use crate::objects::expand::{self, ManifestRules, ObjectSet};
use crate::objects::verified_dirs::VerifiedDirs;
use crate::objects::{DestinationObjects, Provenance};
use crate::remote_status;
use crate::storage::{self, Storage, StorageError};
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
    /// Whether every member's presence was looked up (not vouched for by its `.dir`).
    members_checked: bool,
    pub storage: Arc<dyn Storage>,
    pub set: ObjectSet,
    pub present: HashSet<DvcHash>,
    pub cached: HashSet<DvcHash>,
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

/// A storage error's message without its own mention of the remote (`named`), for a
/// caller that names the remote first: say it once.
fn without_remote_name(message: &str, named: &str) -> String {
    let message = message
        .replace(&format!(" on {named}"), "")
        .replace(&format!(" to {named}"), "");
    match message.strip_prefix(named) {
        Some(rest) => rest.trim_start_matches(':').trim_start().to_string(),
        None => message,
    }
}

/// How one destination is assessed.
#[derive(Debug, Clone, Copy)]
pub struct AssessOptions {
    /// Parallel storage requests.
    pub jobs: usize,
    /// Whether objects already on the remote are also looked up in the cache (status
    /// reports `deleted` for those; push does not need to know).
    pub full_local_check: bool,
    pub members: MemberCheck,
    /// Whose path rules manifests' relpaths must meet (the server check vouches for every
    /// platform's clients).
    pub relpaths: RelpathRules,
    /// The repository's size limits (manifests, multipart uploads).
    pub limits: Limits,
}

/// Expands and checks one destination.
///
/// A `.dir` whose copy exists but cannot be trusted (over the size cap, bytes that do not
/// match its name, not a manifest) makes this an [`Error::InvalidManifests`]
/// ([`expand::untrusted_manifests`], the one rule), so no command (push, status, check,
/// pre-push, pre-receive) gets an assessment, a plan or a validation to act on.
///
/// `verified`: the local index of manifests verified complete on this remote. With
/// [`MemberCheck::TrustManifests`] a listed `.dir` the remote still has is not read (its
/// members need no question then anyway), and manifests found complete are added to it.
/// With [`MemberCheck::EveryMember`] the index is never consulted.
pub fn assess(
    dest: DestinationObjects,
    cache: &LocalCache,
    options: &AssessOptions,
    verified: Option<&mut VerifiedDirs>,
) -> Result<Assessment, Error> {
    let AssessOptions {
        jobs,
        full_local_check,
        members,
        relpaths,
        limits,
    } = *options;
    let rules = ManifestRules {
        relpaths,
        max_bytes: limits.manifest,
    };
    let storage: Arc<dyn Storage> = Arc::from(storage::open(&dest.remote, &limits)?);
    let named = format!("remote '{}' ({})", dest.remote.name, storage.describe());
    // Keeps the error's kind: unreachable storage is not bad input (pre-receive's failOpen).
    let cannot_check = |e: StorageError| {
        Error::Storage(StorageError::new(
            e.kind,
            format!(
                "cannot check {named}: {}",
                without_remote_name(&e.to_string(), &named)
            ),
        ))
    };
    let mut query = remote_status::Query::new(storage.as_ref(), jobs);
    let mut skip = HashSet::new();
    if let (MemberCheck::TrustManifests, Some(index)) = (members, verified.as_deref()) {
        let known: Vec<&DvcHash> = dest
            .objects
            .keys()
            .filter(|h| index.holds(h, cache))
            .collect();
        if !known.is_empty() {
            skip = query.present(&known).map_err(cannot_check)?;
        }
    }
    let set = expand::expand(&dest, cache, storage.as_ref(), rules, &skip).map_err(cannot_check)?;
    expand::untrusted_manifests(&set, Direction::Up)?;
    let (mut present, members_checked) =
        remote_presence(&mut query, &set, members).map_err(cannot_check)?;
    present.extend(skip);
    let all: Vec<&DvcHash> = set.files.keys().chain(set.dirs.keys()).collect();
    let cached: HashSet<DvcHash> = all
        .iter()
        .filter(|h| full_local_check || !present.contains(**h) || h.oid.is_dir())
        .filter(|h| cache.has_object(h))
        .map(|h| (*h).clone())
        .collect();
    if let (true, Some(index)) = (members_checked, verified) {
        for (hash, dir) in &set.dirs {
            if dir.members.is_some()
                && present.contains(hash)
                && set.members(dir).all(|m| present.contains(m))
            {
                index.add(hash, cache);
            }
        }
    }
    Ok(Assessment {
        remote: dest.remote,
        members_checked,
        storage,
        set,
        present,
        cached,
        full_local_check,
    })
}

/// Which objects of `set` the storage holds, and whether every member was looked up. With
/// [`MemberCheck::TrustManifests`] this asks in DVC's two rounds, the `.dir`s first, then
/// the files no present `.dir` vouches for; unless one full listing costs no more requests
/// than the two rounds would at best: then the listing answers for every member too, which
/// is stricter and no dearer. `.dir`s known complete (not read) were asked about already.
fn remote_presence(
    query: &mut remote_status::Query<'_>,
    set: &ObjectSet,
    members: MemberCheck,
) -> Result<(HashSet<DvcHash>, bool), crate::storage::StorageError> {
    let all: Vec<&DvcHash> = set
        .files
        .keys()
        .chain(
            set.dirs
                .iter()
                .filter(|(_, d)| !d.known_complete)
                .map(|(h, _)| h),
        )
        .collect();
    if members == MemberCheck::EveryMember || listing_is_no_dearer(query, set)? {
        return Ok((query.present(&all)?, true));
    }
    let dirs: Vec<&DvcHash> = set
        .dirs
        .iter()
        .filter(|(_, d)| !d.known_complete)
        .map(|(h, _)| h)
        .collect();
    let mut present = query.present(&dirs)?;
    let vouched: HashSet<&DvcHash> = set
        .dirs
        .iter()
        .filter(|(hash, dir)| present.contains(*hash) && dir.invalid.is_none())
        .flat_map(|(_, dir)| set.members(dir))
        .collect();
    let rest: Vec<&DvcHash> = set.files.keys().filter(|h| !vouched.contains(h)).collect();
    let found = query.present(&rest)?;
    present.extend(found);
    present.extend(vouched.into_iter().cloned());
    Ok((present, false))
}

/// Whether asking about everything at once costs no more requests than the two rounds at
/// their cheapest (every `.dir` present, so only the files outside directories remain).
fn listing_is_no_dearer(
    query: &mut remote_status::Query<'_>,
    set: &ObjectSet,
) -> Result<bool, crate::storage::StorageError> {
    if set.dirs.is_empty() {
        return Ok(true);
    }
    let members: HashSet<&DvcHash> = set.dirs.values().flat_map(|d| set.members(d)).collect();
    let (mut at_once, mut two_rounds) = (0.0, 0.0);
    for kind in [HashKind::Md5, HashKind::Md5Dos2Unix] {
        let dirs = set.dirs.keys().filter(|h| h.kind == kind).count();
        let files = set.files.keys().filter(|h| h.kind == kind);
        let (mut all_files, mut outside) = (0, 0);
        for h in files {
            all_files += 1;
            if !members.contains(h) {
                outside += 1;
            }
        }
        if dirs + all_files == 0 {
            continue;
        }
        if !query.can_list() {
            // Every object is one request, so trusting manifests is cheaper.
            return Ok(false);
        }
        if dirs <= 1 && outside <= 1 {
            // The two rounds ask directly (no size estimate); at once is an estimate plus at
            // least one page.
            at_once += 2.0;
            two_rounds += (dirs + outside) as f64;
            continue;
        }
        let (Some(one), Some(first), Some(second)) = (
            query.cost(kind, dirs + all_files)?,
            query.cost(kind, dirs)?,
            query.cost(kind, outside)?,
        ) else {
            return Ok(false);
        };
        at_once += one;
        two_rounds += first + second;
    }
    Ok(at_once <= two_rounds)
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

    /// Every object that is not in sync, with where it came from, sorted by path. (Invalid
    /// manifests never get this far: [`assess`] refuses them.)
    pub fn out_of_sync(&self) -> Vec<(ObjectState, &DvcHash, &Provenance)> {
        let mut out: Vec<(ObjectState, &DvcHash, &Provenance)> = Vec::new();
        for (hash, prov) in self.set.files.iter() {
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

    /// Records in `index` the manifests `outcome` uploaded whose members are all known to
    /// be on the remote now: uploaded in this run, or looked up (not vouched for).
    pub fn record_uploads(
        &self,
        plan: &TransferPlan,
        outcome: &crate::transfer::TransferOutcome,
        index: &mut VerifiedDirs,
        cache: &LocalCache,
    ) {
        let uploaded: HashSet<&DvcHash> = outcome.uploaded.iter().collect();
        for dir in plan.dirs.iter().filter(|d| !d.incomplete) {
            let hash = &dir.manifest.hash;
            let Some(object) = self.set.dirs.get(hash) else {
                continue;
            };
            let all_seen = self.members_checked
                || self.set.members(object).count() == dir.pending_members.len();
            if all_seen && uploaded.contains(hash) {
                index.add(hash, cache);
            }
        }
    }

    /// Objects that cannot be uploaded because no copy exists anywhere.
    pub fn missing_everywhere(&self) -> BTreeMap<&DvcHash, &Provenance> {
        let mut out = BTreeMap::new();
        for (hash, prov) in self.set.files.iter() {
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
            let pending: Vec<DvcHash> = self
                .set
                .members(dir)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::ObjectId;
    use crate::objects::expand::DirObject;
    use crate::storage::memory::MemoryStorage;

    #[test]
    fn the_remote_is_named_once() {
        let named = "remote 'r' (s3://b/p)";
        assert_eq!(
            without_remote_name(
                "cannot list files/md5/00/ on remote 'r' (s3://b/p): boom",
                named
            ),
            "cannot list files/md5/00/: boom"
        );
        assert_eq!(
            without_remote_name("remote 'r' (s3://b/p) refused access: 403", named),
            "refused access: 403"
        );
        assert_eq!(
            without_remote_name("remote 'r' (s3://b/p): no credentials found", named),
            "no credentials found"
        );
        assert_eq!(without_remote_name("other", named), "other");
    }

    fn hash(i: u32, is_dir: bool) -> DvcHash {
        let mut digest = [0u8; 16];
        digest[0] = 1 + (i % 250) as u8;
        digest[1..5].copy_from_slice(&i.to_be_bytes());
        DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::from_digest(digest, is_dir),
        }
    }

    fn prov() -> Provenance {
        Provenance {
            path: "d".into(),
            revision: "workspace".into(),
        }
    }

    /// Two directories of 50 members each and 3 loose files.
    fn set() -> ObjectSet {
        let mut set = ObjectSet::default();
        for d in 0..2u32 {
            let members: Vec<u32> = (0..50)
                .map(|i| set.files.insert_with(hash(1000 * (d + 1) + i, false), prov))
                .collect();
            set.dirs.insert(
                hash(d, true),
                DirObject {
                    provenance: prov(),
                    members: Some(members.into_boxed_slice()),
                    invalid: None,
                    known_complete: false,
                },
            );
        }
        for i in 0..3 {
            set.files.insert_with(hash(10 + i, false), prov);
        }
        set
    }

    fn storage(set: &ObjectSet, prefix_len: Option<usize>, lost: &DvcHash) -> MemoryStorage {
        let keys = set
            .files
            .keys()
            .chain(set.dirs.keys())
            .filter(|h| *h != lost);
        MemoryStorage::new(keys.map(|h| h.relative_key()), prefix_len)
    }

    fn presence(s: &MemoryStorage, set: &ObjectSet, members: MemberCheck) -> HashSet<DvcHash> {
        let mut query = remote_status::Query::new(s, 4);
        remote_presence(&mut query, set, members).unwrap().0
    }

    #[test]
    fn without_listing_a_stored_dir_vouches_for_its_members() {
        let set = set();
        let lost = set
            .members(&set.dirs[&hash(0, true)])
            .nth(7)
            .unwrap()
            .clone();
        let s = storage(&set, None, &lost);
        let present = presence(&s, &set, MemberCheck::TrustManifests);
        // The two .dirs, then the three loose files: DVC's five requests.
        assert_eq!(s.requests(), 5);
        assert!(present.contains(&lost), "trusted, as DVC trusts it");

        let s = storage(&set, None, &lost);
        let present = presence(&s, &set, MemberCheck::EveryMember);
        assert_eq!(s.requests(), 105);
        assert!(!present.contains(&lost));
    }

    #[test]
    fn where_one_listing_is_no_dearer_every_member_is_checked() {
        let set = set();
        let lost = set
            .members(&set.dirs[&hash(1, true)])
            .nth(3)
            .unwrap()
            .clone();
        let s = storage(&set, Some(3), &lost);
        let present = presence(&s, &set, MemberCheck::TrustManifests);
        // The size estimate and one listing.
        assert_eq!(s.requests(), 2);
        assert!(!present.contains(&lost));
        assert_eq!(present.len(), set.len() - 1);
    }
}
