//! An in-memory storage for unit tests: a set of keys, listing or not, recording every
//! `list` and counting every `exists`, so tests can assert the requests a decision costs;
//! objects given bytes can be read back with `get`.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{Storage, StorageError};

pub struct MemoryStorage {
    pub keys: BTreeSet<String>,
    /// `None`: cannot list (like HTTP); else the traverse prefix length.
    pub prefix_len: Option<usize>,
    /// Every `list` call: prefix and limit.
    pub lists: Mutex<Vec<(String, Option<usize>)>>,
    pub exists: AtomicU64,
    /// Bytes that `get` returns, by key (keys without bytes read as absent).
    pub contents: Mutex<std::collections::HashMap<String, Vec<u8>>>,
}

impl MemoryStorage {
    pub fn new(keys: impl IntoIterator<Item = String>, prefix_len: Option<usize>) -> Self {
        MemoryStorage {
            keys: keys.into_iter().collect(),
            prefix_len,
            lists: Mutex::new(Vec::new()),
            exists: AtomicU64::new(0),
            contents: Mutex::new(Default::default()),
        }
    }

    pub fn exists_calls(&self) -> u64 {
        self.exists.load(Ordering::Relaxed)
    }

    pub fn list_calls(&self) -> Vec<(String, Option<usize>)> {
        self.lists.lock().unwrap().clone()
    }
}

impl Storage for MemoryStorage {
    fn describe(&self) -> String {
        "memory".into()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        self.exists.fetch_add(1, Ordering::Relaxed);
        Ok(self.keys.contains(key))
    }

    fn read(&self, _key: &str, _limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(None)
    }

    fn put(
        &self,
        _: &str,
        _: &mut dyn std::io::Read,
        _: u64,
        _: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        Ok(())
    }

    fn get(&self, key: &str, sink: &mut dyn std::io::Write) -> Result<bool, StorageError> {
        match self.contents.lock().unwrap().get(key) {
            Some(bytes) => {
                sink.write_all(bytes)
                    .map_err(|e| StorageError::from_io("cannot write", e))?;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn traverse_prefix_len(&self) -> Option<usize> {
        self.prefix_len
    }

    fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
        self.lists.lock().unwrap().push((prefix.to_string(), limit));
        let found = self.keys.iter().filter(|k| k.starts_with(prefix)).cloned();
        Ok(found.take(limit.unwrap_or(usize::MAX)).collect())
    }

    fn requests(&self) -> u64 {
        self.exists_calls() + self.lists.lock().unwrap().len() as u64
    }
}
