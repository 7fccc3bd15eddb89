//! A local index of `.dir` manifests verified complete on a remote: the manifest and every
//! member were seen there (uploaded by this machine, or found by a check that looked up
//! every member). A push or `status -c` that trusts manifests, as DVC does, then needs
//! only the `.dir` itself to be on the remote, and does not read the manifest again: an
//! unchanged history is not re-expanded.
//!
//! An entry holds only while the local cache's copy of the manifest is the one that was
//! verified (same size, modification time and inode): push reads that copy first, so a
//! copy changed since (or gone) is read and checked again, and an invalid manifest still
//! stops the push. It never makes a check weaker: `check`, `pre-receive` and
//! `--check-members` look up every member and never read it (a member deleted from storage
//! is found there). It is kept in `$GIT_DIR/dvc/verified-dirs/`, one file per remote
//! location (its URL), holding sorted entries of a 17-byte id (layout, md5) and the cache
//! copy's 24-byte stamp; a file that does not decode is ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::dvc::cache::LocalCache;
use crate::dvc::hash::{DvcHash, HashKind};

const MAGIC: &[u8] = b"git-dvc verified dirs 2\n";
const ENTRY: usize = 17 + 24;
/// Ids kept per remote (17 MB); past it nothing more is added.
const MAX_ENTRIES: usize = 1 << 20;

type Key = [u8; 17];
/// Size, modification time (ns) and inode of the cache copy, little-endian.
type Stamp = [u8; 24];

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let mut s = [0u8; 24];
    s[..8].copy_from_slice(&meta.len().to_le_bytes());
    let mtime = (meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128) as u64;
    s[8..16].copy_from_slice(&mtime.to_le_bytes());
    s[16..].copy_from_slice(&meta.ino().to_le_bytes());
    Some(s)
}

pub struct VerifiedDirs {
    path: PathBuf,
    url: String,
    entries: BTreeMap<Key, Stamp>,
    changed: bool,
}

fn key(hash: &DvcHash) -> Option<Key> {
    if !hash.oid.is_dir() {
        return None;
    }
    let digest = hash.oid.digest()?;
    let mut k = [0u8; 17];
    k[0] = match hash.kind {
        HashKind::Md5 => 0,
        HashKind::Md5Dos2Unix => 1,
    };
    k[1..].copy_from_slice(digest);
    Some(k)
}

impl VerifiedDirs {
    /// The index for the remote at `url`, in the repository whose git directory is
    /// `git_dir` (empty if there is none or it cannot be used).
    pub fn load(git_dir: &Path, url: &str) -> VerifiedDirs {
        let name = hex::encode(Md5::digest(url.as_bytes()));
        let path = git_dir.join("dvc").join("verified-dirs").join(name);
        let mut index = VerifiedDirs {
            path,
            url: url.to_string(),
            entries: BTreeMap::new(),
            changed: false,
        };
        if let Ok(bytes) = std::fs::read(&index.path) {
            if let Some(entries) = decode(&bytes, url) {
                index.entries = entries;
            }
        }
        index
    }

    /// Whether `hash` was verified complete and `cache` still holds that same copy.
    pub fn holds(&self, hash: &DvcHash, cache: &LocalCache) -> bool {
        let Some(recorded) = key(hash).and_then(|k| self.entries.get(&k)) else {
            return false;
        };
        stamp(&cache.object_path(hash)).as_ref() == Some(recorded)
    }

    /// Records `hash` as complete on the remote, with its copy in `cache` (none: nothing
    /// is recorded, since nothing would vouch for the manifest's bytes later).
    pub fn add(&mut self, hash: &DvcHash, cache: &LocalCache) {
        if self.entries.len() >= MAX_ENTRIES {
            return;
        }
        let (Some(k), Some(s)) = (key(hash), stamp(&cache.object_path(hash))) else {
            return;
        };
        if self.entries.insert(k, s) != Some(s) {
            self.changed = true;
        }
    }

    /// Writes the index back if anything was added; failures are ignored (it is a cache).
    pub fn save(&self) {
        if !self.changed {
            return;
        }
        let mut bytes =
            Vec::with_capacity(MAGIC.len() + self.url.len() + 1 + ENTRY * self.entries.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(self.url.as_bytes());
        bytes.push(b'\n');
        for (k, s) in &self.entries {
            bytes.extend_from_slice(k);
            bytes.extend_from_slice(s);
        }
        let Some(dir) = self.path.parent() else {
            return;
        };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = dir.join(format!(".tmp.{}", std::process::id()));
        if std::fs::write(&tmp, &bytes).is_ok() && std::fs::rename(&tmp, &self.path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

fn decode(bytes: &[u8], url: &str) -> Option<BTreeMap<Key, Stamp>> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let rest = rest.strip_prefix(url.as_bytes())?.strip_prefix(b"\n")?;
    if rest.len() % ENTRY != 0 || rest.len() / ENTRY > MAX_ENTRIES {
        return None;
    }
    Some(
        rest.chunks_exact(ENTRY)
            .map(|c| {
                let k: Key = c[..17].try_into().expect("17 bytes");
                let s: Stamp = c[17..].try_into().expect("24 bytes");
                (k, s)
            })
            .collect(),
    )
}
