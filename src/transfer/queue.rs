//! The transfer queue: `jobs` workers pull uploads from a shared list. Files go first; a
//! `.dir` goes only after all its pending members succeeded. A failed object never stops the
//! others.

use std::collections::HashSet;
use std::io::BufReader;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::plan::{FileUpload, TransferPlan};
use super::progress::Progress;
use super::verify::VerifyingReader;
use crate::dvc::cache::open_object;
use crate::dvc::hash::{DvcHash, HashKind};
use crate::storage::{self, ErrorKind, Storage, StorageError};

/// Attempts per object for transient failures.
const MAX_ATTEMPTS: u32 = 4;

#[derive(Debug, Default)]
pub struct TransferOutcome {
    pub uploaded: Vec<DvcHash>,
    pub failed: Vec<(DvcHash, StorageError)>,
    /// Manifests held back because a member is missing or failed.
    pub dirs_held_back: Vec<DvcHash>,
}

pub fn run(
    storage: &dyn Storage,
    plan: &TransferPlan,
    jobs: usize,
    progress: &Progress,
) -> TransferOutcome {
    let outcome = Mutex::new(TransferOutcome::default());
    let files: Vec<&FileUpload> = plan.files.iter().collect();
    upload_all(storage, &files, jobs, progress, &outcome);

    let done: HashSet<DvcHash> = outcome
        .lock()
        .expect("outcome lock")
        .uploaded
        .iter()
        .cloned()
        .collect();
    let mut ready = Vec::new();
    for dir in &plan.dirs {
        if !dir.incomplete && dir.pending_members.iter().all(|m| done.contains(m)) {
            ready.push(&dir.manifest);
        } else {
            progress.inc();
            outcome
                .lock()
                .expect("outcome lock")
                .dirs_held_back
                .push(dir.manifest.hash.clone());
        }
    }
    upload_all(storage, &ready, jobs, progress, &outcome);
    outcome.into_inner().expect("outcome lock")
}

fn upload_all(
    storage: &dyn Storage,
    items: &[&FileUpload],
    jobs: usize,
    progress: &Progress,
    outcome: &Mutex<TransferOutcome>,
) {
    in_parallel(items, jobs, |item| {
        let result = with_retries(|| upload_once(storage, item));
        progress.inc();
        let mut out = outcome.lock().expect("outcome lock");
        match result {
            Ok(()) => out.uploaded.push(item.hash.clone()),
            Err(e) => out.failed.push((item.hash.clone(), e)),
        }
    });
}

/// Runs `work` on every item, `jobs` at a time.
pub fn in_parallel<T: Sync>(items: &[T], jobs: usize, work: impl Fn(&T) + Sync) {
    let next = AtomicUsize::new(0);
    let workers = jobs.clamp(1, items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                work(item);
            });
        }
    });
}

/// Runs one upload, again after a backoff on transient failures, up to [`MAX_ATTEMPTS`].
pub fn with_retries(
    mut upload: impl FnMut() -> Result<(), StorageError>,
) -> Result<(), StorageError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match upload() {
            Err(e) if e.kind == ErrorKind::Transient && attempt < MAX_ATTEMPTS => {
                std::thread::sleep(storage::backoff(attempt));
            }
            other => return other,
        }
    }
}

fn upload_once(storage: &dyn Storage, item: &FileUpload) -> Result<(), StorageError> {
    // Never through a symbolic link: only the cache's own bytes leave under an object's name.
    let file = open_object(&item.source)
        .map_err(|e| StorageError::from_io(&format!("cannot open {}", item.source.display()), e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    // Sized to the object: a small one needs no megabyte buffer allocated for it.
    let buffer = (size.saturating_add(1) as usize).clamp(8 << 10, 1 << 20);
    let mut reader =
        VerifyingReader::new(BufReader::with_capacity(buffer, file), item.hash.clone());
    // The expected md5 goes to the storage only for DVC 3 keys: a 2.x-era key's hash is not
    // the md5 of the bytes (dos2unix), so a server-side check would reject good objects;
    // neither is an etag/checksum id's.
    let md5 = item
        .hash
        .oid
        .digest()
        .copied()
        .filter(|_| item.hash.kind == HashKind::Md5);
    storage.put(&item.hash.relative_key(), &mut reader, size, md5.as_ref())
}
