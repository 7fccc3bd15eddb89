//! A local index of `.dir` manifests verified complete on a remote: the manifest and every
//! member were seen there (uploaded by this machine, or found by a check that looked up
//! every member). A push or `status -c` that trusts manifests, as DVC does, then needs
//! only the `.dir` itself to be on the remote, and does not read the manifest again: an
//! unchanged history is not re-expanded.
//!
//! It never makes a check weaker: `check`, `pre-receive` and `--check-members` look up
//! every member and never read it (a member deleted from storage is found there). It is
//! kept in `$GIT_DIR/dvc/verified-dirs/`, one file per remote location (its URL), holding
//! sorted 17-byte ids (layout, md5); a file that does not decode is ignored.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use crate::dvc::hash::{DvcHash, HashKind};

const MAGIC: &[u8] = b"git-dvc verified dirs 1\n";
/// Ids kept per remote (17 MB); past it nothing more is added.
const MAX_ENTRIES: usize = 1 << 20;

type Key = [u8; 17];

pub struct VerifiedDirs {
    path: PathBuf,
    url: String,
    entries: BTreeSet<Key>,
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
            entries: BTreeSet::new(),
            changed: false,
        };
        if let Ok(bytes) = std::fs::read(&index.path) {
            if let Some(entries) = decode(&bytes, url) {
                index.entries = entries;
            }
        }
        index
    }

    pub fn contains(&self, hash: &DvcHash) -> bool {
        key(hash).is_some_and(|k| self.entries.contains(&k))
    }

    pub fn add(&mut self, hash: &DvcHash) {
        if self.entries.len() >= MAX_ENTRIES {
            return;
        }
        if let Some(k) = key(hash) {
            self.changed |= self.entries.insert(k);
        }
    }

    /// Writes the index back if anything was added; failures are ignored (it is a cache).
    pub fn save(&self) {
        if !self.changed {
            return;
        }
        let mut bytes =
            Vec::with_capacity(MAGIC.len() + self.url.len() + 1 + 17 * self.entries.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(self.url.as_bytes());
        bytes.push(b'\n');
        for k in &self.entries {
            bytes.extend_from_slice(k);
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

fn decode(bytes: &[u8], url: &str) -> Option<BTreeSet<Key>> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let rest = rest.strip_prefix(url.as_bytes())?.strip_prefix(b"\n")?;
    if rest.len() % 17 != 0 || rest.len() / 17 > MAX_ENTRIES {
        return None;
    }
    Some(
        rest.chunks_exact(17)
            .map(|c| c.try_into().expect("17-byte chunk"))
            .collect(),
    )
}
