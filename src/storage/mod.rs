//! Remote storage: bytes under keys. Nothing here knows git or DVC formats; keys are
//! `/`-separated paths relative to the remote's root, already validated by the caller.
//!
//! Every backend guarantees that a failed or interrupted upload never leaves a partial
//! object under its final key.

pub mod local;

use std::io::Read;

use crate::dvc::config::RemoteConfig;

/// How a storage failure should be treated by the transfer queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Worth retrying: timeouts, resets, 5xx, 429.
    Transient,
    /// Credentials or permissions: retrying will not help; report once.
    Denied,
    /// The bytes being uploaded did not match their name: never retried, never stored.
    Corrupt,
    /// Anything else.
    Other,
}

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    pub kind: ErrorKind,
    pub message: String,
}

impl StorageError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> StorageError {
        StorageError {
            kind,
            message: message.into(),
        }
    }

    /// Classifies an I/O error; a verification failure surfaces as `InvalidData`.
    pub fn from_io(context: &str, err: std::io::Error) -> StorageError {
        use std::io::ErrorKind as K;
        let kind = match err.kind() {
            K::InvalidData => ErrorKind::Corrupt,
            K::PermissionDenied => ErrorKind::Denied,
            K::TimedOut | K::ConnectionReset | K::ConnectionAborted | K::Interrupted => {
                ErrorKind::Transient
            }
            _ => ErrorKind::Other,
        };
        let message = if kind == ErrorKind::Corrupt {
            err.to_string()
        } else {
            format!("{context}: {err}")
        };
        StorageError { kind, message }
    }
}

/// One remote's storage.
pub trait Storage: Send + Sync {
    /// Where this storage is, for messages (a path or URL, never credentials).
    fn describe(&self) -> String;

    /// Whether an object exists under `key`.
    fn exists(&self, key: &str) -> Result<bool, StorageError>;

    /// Reads a whole (small) object, `None` if absent. Used for `.dir` manifests.
    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError>;

    /// Stores `source` under `key` atomically: readers see the old state or the complete new
    /// object. If `source` fails (including a verification failure at its end), nothing is
    /// left behind.
    fn put(&self, key: &str, source: &mut dyn Read, size: u64) -> Result<(), StorageError>;

    /// Lists every key under `prefix` (which ends with `/`), if this storage can list.
    /// Backends that cannot list return `None` and are asked object by object.
    fn list(&self, prefix: &str) -> Option<Result<Vec<String>, StorageError>> {
        let _ = prefix;
        None
    }

    /// Deletes temporary files that interrupted uploads left behind (where a backend has
    /// them); returns how many. Never touches an upload still in flight.
    fn remove_stale_temporaries(&self) -> usize {
        0
    }
}

/// Opens the storage a remote's URL names.
pub fn open(remote: &RemoteConfig) -> Result<Box<dyn Storage>, StorageError> {
    let url = remote.url.as_str();
    match url_scheme(url) {
        None => Ok(Box::new(local::LocalStorage::new(url.into()))),
        Some("file") => Ok(Box::new(local::LocalStorage::new(
            url.trim_start_matches("file://").into(),
        ))),
        Some(scheme) => Err(StorageError::new(
            ErrorKind::Other,
            format!(
                "remote '{}' uses '{scheme}://', which this version of git-dvc cannot write to yet; \
                 use `dvc push -r {}` for it",
                remote.name, remote.name
            ),
        )),
    }
}

/// `s3` for `s3://bucket/x`; `None` for plain paths (including Windows drive letters).
fn url_scheme(url: &str) -> Option<&str> {
    let (scheme, _) = url.split_once("://")?;
    (scheme.len() > 1
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
    .then_some(scheme)
}
