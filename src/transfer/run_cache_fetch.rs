//! Run-cache entries from one remote into the cache (`git dvc fetch --run-cache`), as
//! `dvc fetch --run-cache` brings them: every entry under the remote's `runs/`, to the
//! same path under the cache, not counted among fetched files. Unlike DVC, entries the
//! cache already holds are not downloaded again (an entry's name is a hash of what it
//! records), and a listed name that is not DVC's, or bytes that are not a stage entry,
//! never reach the cache: `dvc repro` would trust them.

use std::sync::Mutex;

use super::progress::Progress;
use super::queue::in_parallel;
use crate::dvc::cache_writer::CacheWriter;
use crate::dvc::run_cache::{is_entry_key, parse_entry};
use crate::storage::{ErrorKind, Storage, StorageError};

#[derive(Debug, Default)]
pub struct EntriesFetched {
    pub fetched: usize,
    /// (entry key, error).
    pub failed: Vec<(String, StorageError)>,
}

/// The entries on the remote the cache lacks, in name order; `None` when the storage
/// cannot list (HTTP, where DVC has no run cache either).
pub fn missing_entries(
    storage: &dyn Storage,
    writer: &CacheWriter,
) -> Result<Option<Vec<String>>, StorageError> {
    let Some(keys) = storage.list_tree("runs/")? else {
        return Ok(None);
    };
    let root = writer.cache().root();
    Ok(Some(
        keys.into_iter()
            .filter(|k| is_entry_key(k) && !root.join(k).is_file())
            .collect(),
    ))
}

pub fn fetch_entries(
    storage: &dyn Storage,
    writer: &CacheWriter,
    keys: &[String],
    jobs: usize,
    max_entry: usize,
    progress: &Progress,
) -> EntriesFetched {
    let outcome = Mutex::new(EntriesFetched::default());
    in_parallel(keys, jobs, |key| {
        let result = fetch_one(storage, writer, key, max_entry);
        progress.inc();
        let mut out = outcome.lock().expect("outcome lock");
        match result {
            Ok(true) => out.fetched += 1,
            Ok(false) => {}
            Err(e) => out.failed.push((key.clone(), e)),
        }
    });
    outcome.into_inner().expect("outcome lock")
}

/// `Ok(false)` when the entry went from the remote after it was listed.
/// `limit`: the cap on an entry (`dvc.maxFileSize`).
fn fetch_one(
    storage: &dyn Storage,
    writer: &CacheWriter,
    key: &str,
    limit: usize,
) -> Result<bool, StorageError> {
    use std::io::Write;
    let Some(bytes) = storage.read(key, limit as u64)? else {
        return Ok(false);
    };
    if bytes.len() > limit {
        return Err(StorageError::new(
            ErrorKind::Corrupt,
            format!("run-cache entry {key} on {} is over the {limit}-byte limit for DVC files (git config dvc.maxFileSize): not fetched", storage.describe()),
        ));
    }
    if let Err(reason) = parse_entry(&bytes, limit) {
        return Err(StorageError::new(
            ErrorKind::Corrupt,
            format!(
                "run-cache entry {key} on {} is no stage entry ({reason}): not fetched",
                storage.describe()
            ),
        ));
    }
    let cache_error = |e: crate::dvc::cache_writer::WriteError| {
        StorageError::new(ErrorKind::Other, e.to_string())
    };
    let mut pending = writer.begin_entry(key);
    pending
        .write_all(&bytes)
        .map_err(|e| StorageError::from_io("cannot write to the cache", e))?;
    pending.commit().map_err(cache_error)?;
    Ok(true)
}
