//! Remote status: which of a set of objects a storage already holds, asked the cheapest way.
//! Few objects are checked one by one (in parallel); many are answered by listing the
//! layout's prefix once, when the storage can list.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::dvc::hash::{DvcHash, HashKind};
use crate::storage::{Storage, StorageError};

/// Above this many objects per layout, one listing beats per-object checks.
const LIST_THRESHOLD: usize = 1024;

/// Returns the subset of `hashes` present in `storage`.
pub fn present(
    storage: &dyn Storage,
    hashes: &[&DvcHash],
    jobs: usize,
) -> Result<HashSet<DvcHash>, StorageError> {
    let mut found = HashSet::new();
    let mut by_kind: Vec<(HashKind, Vec<&DvcHash>)> = Vec::new();
    for kind in [HashKind::Md5, HashKind::Md5Dos2Unix] {
        let of_kind: Vec<&DvcHash> = hashes.iter().copied().filter(|h| h.kind == kind).collect();
        if !of_kind.is_empty() {
            by_kind.push((kind, of_kind));
        }
    }
    for (kind, of_kind) in by_kind {
        if of_kind.len() > LIST_THRESHOLD {
            if let Some(listing) = storage.list(kind.layout_prefix()) {
                let keys: HashSet<String> = listing?.into_iter().collect();
                found.extend(
                    of_kind
                        .into_iter()
                        .filter(|h| keys.contains(&h.relative_key()))
                        .cloned(),
                );
                continue;
            }
        }
        found.extend(exists_each(storage, &of_kind, jobs)?);
    }
    Ok(found)
}

fn exists_each(
    storage: &dyn Storage,
    hashes: &[&DvcHash],
    jobs: usize,
) -> Result<Vec<DvcHash>, StorageError> {
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    let error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, hashes.len().max(1)) {
            scope.spawn(|| loop {
                if error.lock().expect("lock").is_some() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(hash) = hashes.get(i) else { break };
                match storage.exists(&hash.relative_key()) {
                    Ok(true) => found.lock().expect("lock").push((*hash).clone()),
                    Ok(false) => {}
                    Err(e) => {
                        *error.lock().expect("lock") = Some(e);
                        break;
                    }
                }
            });
        }
    });
    match error.into_inner().expect("lock") {
        Some(e) => Err(e),
        None => Ok(found.into_inner().expect("lock")),
    }
}
