//! The download queue: `jobs` workers bring the files of a [`DownloadPlan`] into the cache
//! (hashed on the way, through [`CacheWriter`]), then the manifests whose members all
//! landed. A failed object never stops the others; a transient failure is tried again
//! from the start with a fresh temporary file.
//!
//! A local remote's objects are copied by the kernel ([`PendingObject::copy_file`]:
//! reflink or `copy_file_range`), in parallel, where DVC copies one file at a time.

use std::collections::HashSet;
use std::sync::Mutex;

use super::download_plan::{DownloadPlan, FileDownload};
use super::progress::Progress;
use super::queue::in_parallel;
use crate::dvc::cache_writer::{CacheWriter, PendingObject, WriteError};
use crate::dvc::hash::DvcHash;
use crate::storage::{self, ErrorKind, Storage, StorageError};

/// Attempts per object for transient failures (as uploads).
const MAX_ATTEMPTS: u32 = 4;

#[derive(Debug, Default)]
pub struct DownloadOutcome {
    /// Objects now in the cache (files, then manifests).
    pub fetched: Vec<DvcHash>,
    pub failed: Vec<(DvcHash, StorageError)>,
    /// Objects the remote does not have and nothing vouched for: missing, not failed.
    pub absent: Vec<DvcHash>,
}

pub fn run(
    storage: &dyn Storage,
    writer: &CacheWriter,
    plan: &DownloadPlan,
    jobs: usize,
    progress: &Progress,
) -> DownloadOutcome {
    let outcome = Mutex::new(DownloadOutcome::default());
    in_parallel(&plan.files, jobs, |item| {
        let result = with_retries(|| download_once(storage, writer, &item.hash));
        progress.inc();
        let mut out = outcome.lock().expect("outcome lock");
        match result {
            Ok(true) => out.fetched.push(item.hash.clone()),
            Ok(false) if item.vouched => out
                .failed
                .push((item.hash.clone(), not_on_remote(storage, item))),
            Ok(false) => out.absent.push(item.hash.clone()),
            Err(e) => out.failed.push((item.hash.clone(), e)),
        }
    });

    let landed: HashSet<DvcHash> = outcome
        .lock()
        .expect("outcome lock")
        .fetched
        .iter()
        .cloned()
        .collect();
    in_parallel(&plan.dirs, jobs, |dir| {
        let missing = dir
            .pending_members
            .iter()
            .filter(|m| !landed.contains(*m))
            .count();
        let result = match missing {
            0 => store_manifest(writer, &dir.hash, &dir.bytes),
            n => Err(StorageError::new(
                ErrorKind::Other,
                format!(
                    "directory manifest not stored: {} of its files could not be downloaded",
                    n
                ),
            )),
        };
        progress.inc();
        let mut out = outcome.lock().expect("outcome lock");
        match result {
            Ok(()) => out.fetched.push(dir.hash.clone()),
            Err(e) => out.failed.push((dir.hash.clone(), e)),
        }
    });
    outcome.into_inner().expect("outcome lock")
}

/// Runs one download, again after a backoff on transient failures.
fn with_retries(
    mut download: impl FnMut() -> Result<bool, StorageError>,
) -> Result<bool, StorageError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match download() {
            Err(e) if e.kind == ErrorKind::Transient && attempt < MAX_ATTEMPTS => {
                std::thread::sleep(storage::backoff(attempt));
            }
            other => return other,
        }
    }
}

/// One attempt: `Ok(false)` when the remote has no such object.
fn download_once(
    storage: &dyn Storage,
    writer: &CacheWriter,
    hash: &DvcHash,
) -> Result<bool, StorageError> {
    let key = hash.relative_key();
    let mut pending = writer.begin(hash);
    let found = match storage.local_file(&key) {
        Some(path) => pending.copy_file(&path).map_err(cache_error)?,
        None => match storage.get(&key, &mut pending) {
            Ok(found) => found,
            // The cache's side failed (a full disk): say so, not the remote's.
            Err(e) => return Err(write_failure(&mut pending).unwrap_or(e)),
        },
    };
    if !found {
        return Ok(false);
    }
    pending.commit().map_err(|e| match e {
        WriteError::Mismatch { .. } => StorageError::new(
            ErrorKind::Corrupt,
            format!("{key} on {}: {e}", storage.describe()),
        ),
        e => cache_error(e),
    })?;
    Ok(true)
}

fn write_failure(pending: &mut PendingObject<'_>) -> Option<StorageError> {
    pending
        .take_write_error()
        .map(|e| StorageError::from_io("cannot write to the cache", e))
}

/// A failure on the cache's side, in the queue's terms (never retried: a full disk or a
/// read-only cache stays so).
fn cache_error(e: WriteError) -> StorageError {
    let kind = match &e {
        WriteError::Mismatch { .. } => ErrorKind::Corrupt,
        WriteError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied => {
            ErrorKind::Denied
        }
        WriteError::Io { .. } => ErrorKind::Other,
    };
    StorageError::new(kind, e.to_string())
}

/// Stores a manifest's exact bytes (checked once more against its name on the way).
fn store_manifest(writer: &CacheWriter, hash: &DvcHash, bytes: &[u8]) -> Result<(), StorageError> {
    use std::io::Write;
    let mut pending = writer.begin(hash);
    pending
        .write_all(bytes)
        .map_err(|e| StorageError::from_io("cannot write to the cache", e))?;
    pending.commit().map_err(cache_error)
}

fn not_on_remote(storage: &dyn Storage, item: &FileDownload) -> StorageError {
    StorageError::new(
        ErrorKind::Other,
        format!(
            "no such object on {}: {} (a directory manifest stored there lists it)",
            storage.describe(),
            item.hash.relative_key()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::cache::LocalCache;
    use crate::dvc::hash::{HashKind, ObjectId};
    use crate::storage::memory::MemoryStorage;
    use crate::transfer::download_plan::DirDownload;

    fn md5_of(bytes: &[u8]) -> DvcHash {
        use md5::{Digest, Md5};
        DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::from_digest(Md5::digest(bytes).into(), false),
        }
    }

    #[test]
    fn members_land_then_their_manifest_and_bad_bytes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let writer = CacheWriter::new(&cache, false);
        let (a, b, loose, gone) = (
            md5_of(b"a"),
            md5_of(b"b"),
            md5_of(b"loose"),
            md5_of(b"gone"),
        );
        let manifest = b"[manifest bytes]".to_vec();
        let dir_hash = DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::from_digest(*md5_of(&manifest).oid.digest().unwrap(), true),
        };
        let storage = MemoryStorage::new([], None);
        {
            let mut contents = storage.contents.lock().unwrap();
            contents.insert(a.relative_key(), b"a".to_vec());
            contents.insert(b.relative_key(), b"tampered".to_vec());
            contents.insert(loose.relative_key(), b"loose".to_vec());
        }
        let file = |hash: &DvcHash, vouched| FileDownload {
            hash: hash.clone(),
            vouched,
        };
        let plan = DownloadPlan {
            files: vec![
                file(&a, true),
                file(&b, true),
                file(&loose, false),
                file(&gone, false),
            ],
            dirs: vec![DirDownload {
                hash: dir_hash.clone(),
                bytes: manifest.clone(),
                pending_members: vec![a.clone(), b.clone()],
            }],
        };
        let out = run(&storage, &writer, &plan, 4, &Progress::new(0, "", true));
        let mut fetched = out.fetched.clone();
        fetched.sort();
        let mut want = vec![a.clone(), loose.clone()];
        want.sort();
        assert_eq!(fetched, want);
        assert_eq!(out.absent, vec![gone]);
        let failed: Vec<(&DvcHash, ErrorKind)> =
            out.failed.iter().map(|(h, e)| (h, e.kind)).collect();
        assert!(
            failed.contains(&(&b, ErrorKind::Corrupt)),
            "{:?}",
            out.failed
        );
        assert!(
            failed.contains(&(&dir_hash, ErrorKind::Other)),
            "{:?}",
            out.failed
        );
        assert!(!cache.object_path(&b).exists());
        assert!(!cache.object_path(&dir_hash).exists());

        // With good bytes for b, the manifest follows its members, byte for byte.
        storage
            .contents
            .lock()
            .unwrap()
            .insert(b.relative_key(), b"b".to_vec());
        let plan = DownloadPlan {
            files: vec![file(&b, true)],
            dirs: vec![DirDownload {
                hash: dir_hash.clone(),
                bytes: manifest.clone(),
                pending_members: vec![b.clone()],
            }],
        };
        let out = run(&storage, &writer, &plan, 4, &Progress::new(0, "", true));
        assert!(out.failed.is_empty(), "{:?}", out.failed);
        assert_eq!(
            std::fs::read(cache.object_path(&dir_hash)).unwrap(),
            manifest
        );
    }
}
