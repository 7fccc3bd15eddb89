//! Expands `.dir` objects into their members. A manifest is read from the local cache, or
//! from the remote when the cache lacks it (DVC does the same), checked against its name
//! and parsed once.
//!
//! A manifest whose bytes do not hash to its name, or that cannot be parsed, is an
//! [`InvalidManifest`]: nothing it lists can be trusted; [`untrusted_manifests`] is the one
//! rule for what a command does about it. A manifest that cannot be *read* (the remote is unreachable)
//! is a [`StorageError`] instead: the object may be fine, the check could not be done.

use std::collections::{BTreeMap, HashMap, HashSet};

use rayon::prelude::*;

use super::collect::Direction;
use super::{DestinationObjects, Provenance};
use crate::dvc::cache::LocalCache;
use crate::dvc::dir_manifest::{self, RelpathRules};
use crate::dvc::hash::DvcHash;
use crate::dvc::output::ManifestEntry;
use crate::error::Error;
use crate::storage::{Storage, StorageError};

/// A directory output's manifest and what it lists.
#[derive(Debug)]
pub struct DirObject {
    pub provenance: Provenance,
    /// Its members, as indices into [`ObjectSet::files`]; `None` when the manifest is in
    /// neither the cache nor the remote, or was not read (`known_complete`).
    pub members: Option<Box<[u32]>>,
    /// A manifest that exists but cannot be trusted: reported, never uploaded.
    pub invalid: Option<ManifestProblem>,
    /// Not read: the local index of manifests verified complete on this remote lists it
    /// (see [`super::verified_dirs`]), and the remote still has it.
    pub known_complete: bool,
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

/// Plain file objects (loose outputs and directory members), each distinct one once, with
/// where it was first seen. Directories refer to their members by index, so a history of
/// thousands of manifests of thousands of members holds four bytes per member and manifest.
#[derive(Debug, Default)]
pub struct FileSet {
    hashes: Vec<DvcHash>,
    provenance: Vec<Provenance>,
    index: HashMap<DvcHash, u32>,
}

impl FileSet {
    /// The index of `hash`, added with `provenance()` if new.
    pub fn insert_with(&mut self, hash: DvcHash, provenance: impl FnOnce() -> Provenance) -> u32 {
        if let Some(i) = self.index.get(&hash) {
            return *i;
        }
        let i = u32::try_from(self.hashes.len()).expect("fewer than 4 billion distinct objects");
        self.index.insert(hash.clone(), i);
        self.hashes.push(hash);
        self.provenance.push(provenance());
        i
    }

    /// Names the object at `index` after another place that uses it.
    fn rename(&mut self, index: u32, provenance: Provenance) {
        self.provenance[index as usize] = provenance;
    }

    pub fn get(&self, hash: &DvcHash) -> Option<&Provenance> {
        self.index.get(hash).map(|i| &self.provenance[*i as usize])
    }

    pub fn contains(&self, hash: &DvcHash) -> bool {
        self.index.contains_key(hash)
    }

    pub fn hash(&self, index: u32) -> &DvcHash {
        &self.hashes[index as usize]
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &DvcHash> {
        self.hashes.iter()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&DvcHash, &Provenance)> {
        self.hashes.iter().zip(&self.provenance)
    }
}

/// Every object one destination must hold.
#[derive(Debug, Default)]
pub struct ObjectSet {
    pub files: FileSet,
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

    /// The manifests some output needs that exist but cannot be trusted, in hash order.
    pub fn invalid_manifests(&self) -> Vec<InvalidManifest> {
        self.dirs
            .iter()
            .filter_map(|(hash, d)| {
                d.invalid.clone().map(|problem| InvalidManifest {
                    hash: hash.clone(),
                    used_by: d.provenance.clone(),
                    problem,
                })
            })
            .collect()
    }

    /// The members of a directory of this set (none when its manifest was not read).
    pub fn members<'s>(&'s self, dir: &'s DirObject) -> impl Iterator<Item = &'s DvcHash> + 's {
        dir.members
            .iter()
            .flat_map(|m| m.iter())
            .map(|i| self.files.hash(*i))
    }
}

/// The one rule for manifests that exist but cannot be trusted (over the size cap, bytes
/// that do not match their name, not a manifest), so no command can skip it:
/// - up (push, status, check, both hooks) the operation stops on them
///   ([`Error::InvalidManifests`]): no plan, status or verdict rests on a forged list;
/// - down (fetch) they are returned, to be refused and named as failed downloads: their
///   directories are not fetched, everything else still lands and the command fails.
pub fn untrusted_manifests(
    set: &ObjectSet,
    direction: Direction,
) -> Result<Vec<InvalidManifest>, Error> {
    let invalid = set.invalid_manifests();
    match direction {
        Direction::Up if !invalid.is_empty() => Err(Error::InvalidManifests(invalid)),
        _ => Ok(invalid),
    }
}

/// What a manifest must meet to be trusted: its relpaths, the path rules of the clients it
/// serves; its size, `dvc.maxManifestSize` ([`crate::limits::Limits::manifest`]).
#[derive(Debug, Clone, Copy)]
pub struct ManifestRules {
    pub relpaths: RelpathRules,
    pub max_bytes: usize,
}

/// Manifests read and parsed at a time: bounds the memory parsed manifests hold before
/// their members are interned.
const MANIFEST_BATCH: usize = 64;

/// Reads and parses every `.dir` of `dest` but those in `skip` (present on the remote and
/// known complete there), each checked under `rules`; an error only when a manifest cannot
/// be read from the remote at all. Each distinct manifest is read once and
/// each distinct member stored once.
pub fn expand(
    dest: &DestinationObjects,
    cache: &LocalCache,
    storage: &dyn Storage,
    rules: ManifestRules,
    skip: &HashSet<DvcHash>,
) -> Result<ObjectSet, StorageError> {
    expand_with(dest, cache, storage, rules, skip, false).map(|(set, _)| set)
}

/// Valid manifests the cache lacks, read from the remote: their exact bytes, by id.
pub type FetchedManifests = HashMap<DvcHash, Vec<u8>>;

/// [`expand`], also keeping the bytes of every valid manifest read from the remote (not
/// from the cache): a fetch stores them once their members are in, without asking again.
pub fn expand_keeping_manifests(
    dest: &DestinationObjects,
    cache: &LocalCache,
    storage: &dyn Storage,
    rules: ManifestRules,
) -> Result<(ObjectSet, FetchedManifests), StorageError> {
    expand_with(dest, cache, storage, rules, &HashSet::new(), true)
}

fn expand_with(
    dest: &DestinationObjects,
    cache: &LocalCache,
    storage: &dyn Storage,
    rules: ManifestRules,
    skip: &HashSet<DvcHash>,
    keep_fetched: bool,
) -> Result<(ObjectSet, FetchedManifests), StorageError> {
    let mut set = ObjectSet::default();
    let mut fetched = FetchedManifests::new();
    // Per file of `set.files`: (rank of the output, place in its directory) of the place
    // it is named after. DVC names an object after the first output using it, a
    // directory's members right after the directory (`Output._named_obj_ids` into a set
    // that keeps the first).
    let rank = |h: &DvcHash| dest.order.get(h).copied().unwrap_or(u32::MAX);
    let mut named_at: Vec<(u32, u32)> = Vec::new();
    for (hash, prov) in &dest.objects {
        if !hash.oid.is_dir() {
            set.files.insert_with(hash.clone(), || prov.clone());
            named_at.push((rank(hash), 0));
        } else if skip.contains(hash) {
            set.dirs.insert(
                hash.clone(),
                DirObject {
                    provenance: prov.clone(),
                    members: None,
                    invalid: None,
                    known_complete: true,
                },
            );
        }
    }
    let dirs: Vec<(&DvcHash, &Provenance)> = dest
        .objects
        .iter()
        .filter(|(h, _)| h.oid.is_dir() && !skip.contains(*h))
        .collect();
    for batch in dirs.chunks(MANIFEST_BATCH) {
        let loaded: Vec<Loaded> = batch
            .par_iter()
            .map(|(hash, _)| load_manifest(hash, cache, storage, rules, keep_fetched))
            .collect::<Result<_, StorageError>>()?;
        for ((hash, prov), loaded) in batch.iter().zip(loaded) {
            if let (Some(bytes), Ok(Some(_))) = (loaded.remote_bytes, &loaded.manifest) {
                fetched.insert((*hash).clone(), bytes);
            }
            let (members, invalid) = match loaded.manifest {
                Ok(Some(entries)) => {
                    let mut members = Vec::with_capacity(entries.len());
                    let dir_rank = rank(hash);
                    for (place, entry) in entries.into_iter().enumerate() {
                        let member = DvcHash {
                            kind: hash.kind,
                            oid: entry.md5,
                        };
                        let name = || Provenance {
                            path: format!("{}/{}", prov.path, entry.relpath),
                            revision: prov.revision.clone(),
                        };
                        let i = set.files.insert_with(member, name);
                        let at = (dir_rank, u32::try_from(place).unwrap_or(u32::MAX));
                        if i as usize == named_at.len() {
                            named_at.push(at);
                        } else if at < named_at[i as usize] {
                            set.files.rename(i, name());
                            named_at[i as usize] = at;
                        }
                        members.push(i);
                    }
                    (Some(members.into_boxed_slice()), None)
                }
                Ok(None) => (None, None),
                Err(problem) => (None, Some(problem)),
            };
            set.dirs.insert(
                (*hash).clone(),
                DirObject {
                    provenance: (*prov).clone(),
                    members,
                    invalid,
                    known_complete: false,
                },
            );
        }
    }
    Ok((set, fetched))
}

/// The members of the `.dir` `hash` as the local cache holds it (at most `max_bytes`),
/// checked as [`expand`] checks it; `None` when the cache lacks it or its copy cannot be
/// trusted (the command's own expansion reports why).
pub fn cached_members(
    hash: &DvcHash,
    cache: &LocalCache,
    max_bytes: usize,
) -> Option<Vec<ManifestEntry>> {
    let bytes = cache.read_object(hash).ok()?;
    let rules = ManifestRules {
        relpaths: RelpathRules::ThisPlatform,
        max_bytes,
    };
    check_manifest(hash, &bytes, "in the local cache", rules).ok()
}

/// A manifest's members; `None` when no copy exists; `Err` when a copy exists but cannot be
/// trusted.
type ManifestLoad = Result<Option<Vec<ManifestEntry>>, ManifestProblem>;

/// A manifest as loaded, with its bytes when they came from the remote and were asked for.
struct Loaded {
    manifest: ManifestLoad,
    remote_bytes: Option<Vec<u8>>,
}

/// `keep`: return the bytes read from the remote (otherwise dropped once parsed).
fn load_manifest(
    hash: &DvcHash,
    cache: &LocalCache,
    storage: &dyn Storage,
    rules: ManifestRules,
    keep: bool,
) -> Result<Loaded, StorageError> {
    crate::trace::object("manifest", hash);
    let (bytes, from_remote) = match cache.read_object(hash) {
        Ok(b) => (Some(b), false),
        Err(_) => (
            storage.read(&hash.relative_key(), rules.max_bytes as u64)?,
            true,
        ),
    };
    let Some(bytes) = bytes else {
        return Ok(Loaded {
            manifest: Ok(None),
            remote_bytes: None,
        });
    };
    let place = match from_remote {
        true => "in remote storage",
        false => "in the local cache",
    };
    let manifest = check_manifest(hash, &bytes, place, rules).map(Some);
    Ok(Loaded {
        manifest,
        remote_bytes: (keep && from_remote).then_some(bytes),
    })
}

/// Size cap, then the name (a `.dir` id is the md5 of its bytes, with DVC 2's dos2unix
/// variants for legacy ids), then the format.
fn check_manifest(
    hash: &DvcHash,
    bytes: &[u8],
    place: &'static str,
    rules: ManifestRules,
) -> Result<Vec<ManifestEntry>, ManifestProblem> {
    let limit = rules.max_bytes;
    if bytes.len() > limit {
        return Err(ManifestProblem::TooLarge {
            size: bytes.len(),
            limit,
        });
    }
    if let Err(actual) = crate::transfer::verify::bytes_match(bytes, hash) {
        return Err(ManifestProblem::HashMismatch { actual, place });
    }
    Ok(dir_manifest::parse_with(bytes, rules.relpaths)?)
}
