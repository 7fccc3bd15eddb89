//! Run-cache entries to one remote (`git dvc push --run-cache`). An entry goes only once
//! every output it names is on the remote, so `dvc repro` after `dvc pull --run-cache`
//! never finds a run it cannot check out (DVC 3.67.1 sends entries without the outputs of
//! older runs). Entries already there are skipped: their names are hashes of their
//! content, where DVC uploads every entry on every push.

use std::io::BufReader;
use std::sync::Mutex;

use super::progress::Progress;
use super::queue::{in_parallel, with_retries};
use crate::dvc::hash::DvcHash;
use crate::dvc::run_cache::RunCacheEntry;
use crate::storage::{Storage, StorageError};

#[derive(Debug, Default)]
pub struct EntriesOutcome {
    pub uploaded: usize,
    pub failed: Vec<(String, StorageError)>,
    /// Entries not sent because one of their outputs is not on the remote.
    pub held_back: usize,
}

/// The entries the remote lacks, in upload order: one existence check each (file-system
/// remotes list only the object layout, and entries are few next to objects).
pub fn missing_entries<'a>(
    storage: &dyn Storage,
    entries: &'a [RunCacheEntry],
    jobs: usize,
) -> Result<Vec<&'a RunCacheEntry>, StorageError> {
    let answers = Mutex::new(Vec::with_capacity(entries.len()));
    let all: Vec<&'a RunCacheEntry> = entries.iter().collect();
    in_parallel(&all, jobs, |&entry| {
        let answer = storage.exists(&entry.key);
        answers.lock().expect("answers lock").push((entry, answer));
    });
    let mut missing = Vec::new();
    for (entry, answer) in answers.into_inner().expect("answers lock") {
        if !answer? {
            missing.push(entry);
        }
    }
    missing.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(missing)
}

/// Uploads `entries` whose outputs all satisfy `on_remote`.
pub fn upload_entries(
    storage: &dyn Storage,
    entries: &[&RunCacheEntry],
    on_remote: impl Fn(&DvcHash) -> bool,
    jobs: usize,
    progress: &Progress,
) -> EntriesOutcome {
    let (ready, held): (Vec<&RunCacheEntry>, Vec<_>) = entries
        .iter()
        .partition(|e| e.outputs.iter().all(|(_, h)| on_remote(h)));
    let outcome = Mutex::new(EntriesOutcome {
        held_back: held.len(),
        ..EntriesOutcome::default()
    });
    in_parallel(&ready, jobs, |entry| {
        let result = with_retries(|| upload_one(storage, entry));
        progress.inc();
        let mut out = outcome.lock().expect("outcome lock");
        match result {
            Ok(()) => out.uploaded += 1,
            Err(e) => out.failed.push((entry.key.clone(), e)),
        }
    });
    outcome.into_inner().expect("outcome lock")
}

fn upload_one(storage: &dyn Storage, entry: &RunCacheEntry) -> Result<(), StorageError> {
    let open = |e| StorageError::from_io(&format!("cannot open {}", entry.path.display()), e);
    let file = crate::dvc::cache::open_object(&entry.path).map_err(open)?;
    let size = file.metadata().map_err(open)?.len();
    storage.put(&entry.key, &mut BufReader::new(file), size, None)
}
