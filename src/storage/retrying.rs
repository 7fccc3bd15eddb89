//! Retries for the read-only calls (`exists`, `read`, `list`, `list_tree`) of any
//! backend: a remote status is hundreds of such calls, and one timeout, reset, 5xx or 429
//! among them must not fail the whole push. Uploads and downloads are retried by the
//! transfer queues, which know when a source must be reopened or a sink started afresh.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use super::{ErrorKind, Storage, StorageError};

/// Attempts per read-only call.
const ATTEMPTS: u32 = 4;

pub struct Retrying(pub Box<dyn Storage>);

/// Exponential backoff with jitter: 0.2 s, 0.4 s, 0.8 s … plus up to 50%.
pub fn backoff(attempt: u32) -> Duration {
    let base = 200u64 << (attempt.max(1) - 1).min(6);
    let jitter = rand::random_range(0..=base / 2);
    Duration::from_millis(base + jitter)
}

/// Runs `call` until it succeeds, fails for good, or `ATTEMPTS` transient failures.
fn retry<T>(mut call: impl FnMut() -> Result<T, StorageError>) -> Result<T, StorageError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match call() {
            Err(e) if e.kind == ErrorKind::Transient && attempt < ATTEMPTS => {
                std::thread::sleep(backoff(attempt));
            }
            other => return other,
        }
    }
}

impl Storage for Retrying {
    fn describe(&self) -> String {
        self.0.describe()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        retry(|| self.0.exists(key))
    }

    fn read(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        retry(|| self.0.read(key, limit))
    }

    fn put(
        &self,
        key: &str,
        source: &mut dyn Read,
        size: u64,
        md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        self.0.put(key, source, size, md5)
    }

    fn get(&self, key: &str, sink: &mut dyn Write) -> Result<bool, StorageError> {
        self.0.get(key, sink)
    }

    fn local_file(&self, key: &str) -> Option<PathBuf> {
        self.0.local_file(key)
    }

    fn list_tree(&self, prefix: &str) -> Result<Option<Vec<String>>, StorageError> {
        retry(|| self.0.list_tree(prefix))
    }

    fn traverse_prefix_len(&self) -> Option<usize> {
        self.0.traverse_prefix_len()
    }

    fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
        retry(|| self.0.list(prefix, limit))
    }

    fn requests(&self) -> u64 {
        self.0.requests()
    }

    fn remove_stale_temporaries(&self) -> usize {
        self.0.remove_stale_temporaries()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    /// Fails `exists` with `kind` the first `failures` times.
    struct Flaky {
        failures: u32,
        kind: ErrorKind,
        calls: Arc<AtomicU32>,
    }

    impl Storage for Flaky {
        fn describe(&self) -> String {
            "flaky".into()
        }
        fn exists(&self, _key: &str) -> Result<bool, StorageError> {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.failures {
                Err(StorageError::new(self.kind, "boom"))
            } else {
                Ok(true)
            }
        }
        fn read(&self, _key: &str, _limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(None)
        }
        fn put(
            &self,
            _key: &str,
            _source: &mut dyn Read,
            _size: u64,
            _md5: Option<&[u8; 16]>,
        ) -> Result<(), StorageError> {
            Ok(())
        }
        fn get(&self, _key: &str, _sink: &mut dyn Write) -> Result<bool, StorageError> {
            Ok(false)
        }
    }

    fn flaky(failures: u32, kind: ErrorKind) -> (Retrying, Arc<AtomicU32>) {
        let calls = Arc::new(AtomicU32::new(0));
        let storage = Retrying(Box::new(Flaky {
            failures,
            kind,
            calls: calls.clone(),
        }));
        (storage, calls)
    }

    #[test]
    fn transient_failures_are_retried_up_to_the_limit() {
        let (s, calls) = flaky(ATTEMPTS - 1, ErrorKind::Transient);
        assert!(s.exists("k").unwrap());
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
        let (s, calls) = flaky(ATTEMPTS, ErrorKind::Transient);
        assert_eq!(s.exists("k").unwrap_err().kind, ErrorKind::Transient);
        assert_eq!(calls.load(Ordering::SeqCst), ATTEMPTS);
    }

    #[test]
    fn refusals_are_not_retried() {
        let (s, calls) = flaky(1, ErrorKind::Denied);
        assert_eq!(s.exists("k").unwrap_err().kind, ErrorKind::Denied);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
