//! Remote storage: bytes under keys. Nothing here knows git or DVC formats; keys are
//! `/`-separated paths relative to the remote's root, already validated by the caller.
//!
//! Every backend guarantees that a failed or interrupted upload never leaves a partial
//! object under its final key. Reads ([`Storage::get`]) stream into a caller's sink, which
//! decides what the bytes are worth (the download queue hashes them before anything takes
//! an object's name).

mod ask_password;
mod aws_config;
mod aws_credentials;
pub mod azure;
mod content_type;
pub mod gcs;
pub mod http;
pub mod local;
#[cfg(test)]
mod loopback;
#[cfg(test)]
pub mod memory;
mod object_store;
pub mod prompt;
mod retrying;
pub mod s3;
pub mod ssh;
pub mod tls;
mod upload_memory;
pub mod webdav;

use std::io::{Read, Write};
use std::path::PathBuf;

use crate::dvc::config::RemoteConfig;
use crate::limits::Limits;

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

/// A failed storage operation: what kind of failure (which decides retrying and the
/// server check's fail-open rule), where (remote, key), the HTTP status when the server
/// answered, and the underlying error. `message` is the one line shown to the user.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    pub kind: ErrorKind,
    pub message: String,
    /// The remote's name, when the operation was on one.
    pub remote: Option<String>,
    /// The object key (or listing prefix) the operation was about.
    pub key: Option<String>,
    /// The HTTP status the server answered with, for HTTP-based remotes.
    pub status: Option<u16>,
    /// A remote configuration DVC refuses too (its `ConfigError`): commands stop with
    /// DVC's "configuration error" and exit code 251.
    pub config: bool,
    /// `config` in DVC's own words (a remote library's `ConfigError`): DVC prints the
    /// message twice, the second time with "Learn more about configuration settings".
    pub learn_more: bool,
    /// What DVC reports as an "unexpected error" (exit 255), in its words.
    pub unexpected: bool,
    /// git-dvc's line after DVC's (`hint: …`); boxed, as it is rare and errors stay small.
    pub hint: Option<Box<String>>,
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StorageError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> StorageError {
        StorageError {
            kind,
            message: message.into(),
            remote: None,
            key: None,
            status: None,
            config: false,
            learn_more: false,
            unexpected: false,
            hint: None,
            source: None,
        }
    }

    /// A remote option DVC refuses too (`config file error: remote 'NAME': …`).
    pub fn config(remote: &str, message: impl std::fmt::Display) -> StorageError {
        let mut e = StorageError::new(
            ErrorKind::Other,
            format!("config file error: remote '{remote}': {message}"),
        );
        e.config = true;
        e
    }

    /// A remote option combination DVC's remote library refuses, `message` in its words
    /// (printed as DVC prints its `ConfigError`).
    pub fn dvc_config(remote: &str, message: impl Into<String>) -> StorageError {
        let mut e = StorageError::new(ErrorKind::Other, message);
        e.config = true;
        e.learn_more = true;
        e.remote = Some(remote.to_string());
        e
    }

    /// A failure DVC reports as an "unexpected error" (exit 255), `message` in its words.
    pub fn unexpected(message: impl Into<String>) -> StorageError {
        let mut e = StorageError::new(ErrorKind::Other, message);
        e.unexpected = true;
        e
    }

    /// git-dvc's hint, printed after DVC's lines.
    pub fn with_hint(mut self, hint: impl Into<String>) -> StorageError {
        self.hint = Some(Box::new(hint.into()));
        self
    }

    /// Records which remote and key the failure was about.
    pub fn at(mut self, remote: &str, key: &str) -> StorageError {
        self.remote = Some(remote.to_string());
        self.key = Some(key.to_string());
        self
    }

    pub fn with_status(mut self, status: Option<u16>) -> StorageError {
        self.status = status;
        self
    }

    pub fn with_source(
        mut self,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> StorageError {
        self.source = Some(source.into());
        self
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
        StorageError::new(kind, message).with_source(err)
    }
}

/// One remote's storage.
pub trait Storage: Send + Sync {
    /// Where this storage is, for messages (a path or URL, never credentials).
    fn describe(&self) -> String;

    /// Whether an object exists under `key`.
    fn exists(&self, key: &str) -> Result<bool, StorageError>;

    /// Reads a (small) object, `None` if absent, but never more than `limit + 1` bytes: a
    /// result longer than `limit` means the object is bigger, and the caller refuses it
    /// without having held it whole. Used for `.dir` manifests, which anyone who can
    /// write storage chooses.
    fn read(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError>;

    /// Stores `source` under `key` atomically: readers see the old state or the complete new
    /// object. If `source` fails (including a verification failure at its end), nothing is
    /// left behind.
    ///
    /// `md5` is the expected MD5 of the bytes when the caller knows it: the key's own hash
    /// for DVC 3 `md5` objects, `None` for DVC 2-era keys, whose hash is not a plain md5 of
    /// the bytes. The source already fails at its end when the bytes do not match (not
    /// every S3-compatible server checks `Content-MD5`: moto does not). S3 single-request
    /// uploads also send it as `Content-MD5` (else one computed over the bytes read), so
    /// the server rejects bytes damaged in transit.
    fn put(
        &self,
        key: &str,
        source: &mut dyn Read,
        size: u64,
        md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError>;

    /// Streams the object under `key` into `sink`; `Ok(false)` when there is no such object
    /// (then nothing was written). Never retried here: part of the object may already be in
    /// `sink` when a failure comes, so the caller starts again with a fresh sink (the
    /// download queue does). A failure of `sink` itself also ends the call with an error;
    /// the caller, who owns the sink, knows which side failed.
    fn get(&self, key: &str, sink: &mut dyn Write) -> Result<bool, StorageError>;

    /// The object's file when this storage is a directory on this machine, so that the
    /// kernel can copy it (reflink, `copy_file_range`) instead of streaming it through
    /// [`Self::get`]; `None` for every network backend.
    fn local_file(&self, key: &str) -> Option<PathBuf> {
        let _ = key;
        None
    }

    /// Every key under `prefix` (a directory, ending with `/`) at any depth, temporary
    /// files left out: for trees outside the object layout (`runs/`). `None` when the
    /// storage cannot list (HTTP).
    fn list_tree(&self, prefix: &str) -> Result<Option<Vec<String>>, StorageError> {
        let _ = prefix;
        Ok(None)
    }

    /// How this storage can enumerate keys: `None` when it cannot (HTTP), else DVC's
    /// `TRAVERSE_PREFIX_LEN` (2 for file systems and SSH, 3 for object stores), which
    /// shapes the cost model in [`crate::remote_status`].
    fn traverse_prefix_len(&self) -> Option<usize> {
        None
    }

    /// Lists the object keys that start with `prefix`, which either ends with `/` (a layout
    /// root: empty or `files/md5/`) or in the middle of a name (`files/md5/00/0`). Only the
    /// object layout is promised (`<xx>/<rest>` under the root): file-system backends do
    /// not descend further, so other trees (`runs/`) are not listed. Stops after `limit`
    /// keys when given. Only called when [`Self::traverse_prefix_len`] is `Some`.
    fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
        let _ = (prefix, limit);
        Err(StorageError::new(
            ErrorKind::Other,
            format!("{} cannot list its contents", self.describe()),
        ))
    }

    /// How many requests this storage has sent so far (HTTP requests, SFTP operations).
    /// Shown with `-v` and read by the benchmark.
    fn requests(&self) -> u64 {
        0
    }

    /// Deletes temporary files that interrupted uploads left behind (where a backend has
    /// them); returns how many. Never touches an upload still in flight.
    fn remove_stale_temporaries(&self) -> usize {
        0
    }
}

/// Where storage warnings go (a changed host key accepted, a host key recorded): stderr,
/// unless the command routes them, as the server check does through what it tells the
/// pusher (redacted, with GitLab's prefix).
type WarningSink = Box<dyn Fn(&str) + Send + Sync>;
static WARNINGS: std::sync::OnceLock<WarningSink> = std::sync::OnceLock::new();

/// Routes storage warnings (once per process; later calls are ignored).
pub fn route_warnings(sink: WarningSink) {
    let _ = WARNINGS.set(sink);
}

/// A warning from a storage backend, to wherever the command routed them.
pub fn warn(text: &str) {
    match WARNINGS.get() {
        Some(sink) => sink(text),
        None => eprintln!("{text}"),
    }
}

/// Opens the storage a remote's URL names, shaped by the repository's `limits` (the
/// multipart threshold); its read-only calls are retried on transient failures.
pub fn open(remote: &RemoteConfig, limits: &Limits) -> Result<Box<dyn Storage>, StorageError> {
    Ok(Box::new(retrying::Retrying(open_backend(remote, limits)?)))
}

/// The exponential backoff with jitter used between attempts (also by the upload queue).
pub use retrying::backoff;

fn open_backend(remote: &RemoteConfig, limits: &Limits) -> Result<Box<dyn Storage>, StorageError> {
    refuse_cloud_versioned(remote)?;
    let url = remote.url.as_str();
    let shared = remote
        .options
        .get("shared")
        .is_some_and(|v| crate::dvc::dir_modes::is_group(v));
    let parts = |store: object_store::ObjectStore| {
        store.with_multipart_threshold(limits.multipart_threshold)
    };
    match url_scheme(url) {
        None => Ok(Box::new(
            local::LocalStorage::new(url.into()).with_shared_group(shared),
        )),
        Some("file") => Ok(Box::new(
            local::LocalStorage::new(url.trim_start_matches("file://").into())
                .with_shared_group(shared),
        )),
        Some("s3") => Ok(Box::new(parts(s3::open(remote)?))),
        Some("azure") => Ok(Box::new(parts(azure::open(remote)?))),
        Some("gs") => Ok(Box::new(parts(gcs::open(remote)?))),
        Some("ssh") => Ok(Box::new(ssh::open(remote)?)),
        Some("http" | "https") => Ok(Box::new(http::open(remote)?)),
        Some("webdav" | "webdavs") => Ok(Box::new(parts(webdav::open(remote)?))),
        Some(scheme) => Err(StorageError::new(
            ErrorKind::Other,
            format!(
                "remote '{}' uses '{scheme}://', which git-dvc cannot write to \
                 (supported: local paths, s3://, azure://, gs://, ssh://, http(s)://, \
                 webdav(s)://); use `dvc push -r {}` for it",
                remote.name, remote.name
            ),
        )),
    }
}

/// A `version_aware` or `worktree` remote keeps files under their workspace paths, with
/// object versions recorded in the `.dvc` files, not under their hashes; DVC pushes only
/// the workspace to it and refuses several revisions. Hash-named objects written there
/// would be useless to `dvc pull`, so git-dvc refuses it rather than write them.
fn refuse_cloud_versioned(remote: &RemoteConfig) -> Result<(), StorageError> {
    for key in ["version_aware", "worktree"] {
        if option_bool(remote, key)? == Some(true) {
            return Err(StorageError::new(
                ErrorKind::Other,
                format!(
                    "remote '{name}' is cloud-versioned (`{key} = true`): its data lives under \
                     workspace paths, not hashes, and git-dvc cannot push to it; use \
                     `dvc push -r {name}` from a checkout, or point git-dvc at another remote \
                     (`-r NAME`, or git config remote.<git remote>.dvcRemote NAME)",
                    name = remote.name
                ),
            ));
        }
    }
    Ok(())
}

/// How an HTTP status answers a request: success, or the kind of failure.
pub fn classify_status(status: u16) -> ErrorKind {
    match status {
        401 | 403 => ErrorKind::Denied,
        408 | 429 => ErrorKind::Transient,
        500..=599 => ErrorKind::Transient,
        _ => ErrorKind::Other,
    }
}

/// The message for a refused request: self-contained, since it is reported once for the
/// whole remote. `check` says what the user should look at; no secret is ever included.
pub fn denied_message(remote: &str, url: &str, detail: &str, check: &str) -> String {
    format!("remote '{remote}' ({url}) refused access: {detail}; check {check}")
}

/// Parses DVC's boolean option spelling (`true`/`false`, case-insensitive; also 1/0,
/// yes/no as configobj accepts).
pub fn option_bool(remote: &RemoteConfig, key: &str) -> Result<Option<bool>, StorageError> {
    let Some(value) = remote.options.get(key) else {
        return Ok(None);
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(Some(true)),
        "false" | "no" | "off" | "0" => Ok(Some(false)),
        _ => Err(StorageError::config(
            &remote.name,
            format!("option '{key}' must be true or false, not '{value}'"),
        )),
    }
}

/// Timeouts longer than this (about 31 years) are refused as a mistake.
const MAX_TIMEOUT_SECS: f64 = 1e9;

/// A timeout option in seconds, as DVC's schema types it: an integer (`Coerce(int)`:
/// `timeout`, `read_timeout`, `connect_timeout`, `connection_timeout` of most remotes) or,
/// with `fraction`, a number (HTTP's `connect_timeout`/`read_timeout`). Zero, negative,
/// non-finite (`inf`, `nan`) and absurd values are a config error, never a panic.
pub fn option_seconds(
    remote: &RemoteConfig,
    key: &str,
    fraction: bool,
) -> Result<Option<std::time::Duration>, StorageError> {
    let Some(value) = option_str(remote, key) else {
        return Ok(None);
    };
    let v = value.trim();
    // Less than a millisecond would be no time at all.
    let min = if fraction { 0.001 } else { 1.0 };
    let seconds = if fraction {
        v.parse::<f64>().ok()
    } else {
        // As DVC's schema reads an int (`٤` is 4).
        crate::dvc::config_schema::py_int(v).map(|s| s as f64)
    };
    match seconds {
        Some(s) if s.is_finite() && s >= min && s <= MAX_TIMEOUT_SECS => {
            Ok(Some(std::time::Duration::from_secs_f64(s)))
        }
        _ => Err(StorageError::config(
            &remote.name,
            format!(
                "option '{key}' must be {} of seconds from {min} to 1000000000, not \
                 '{value}'; fix it with `dvc remote modify {} {key} SECONDS`",
                if fraction {
                    "a number"
                } else {
                    "a whole number"
                },
                remote.name
            ),
        )),
    }
}

/// A non-empty string option.
pub fn option_str<'a>(remote: &'a RemoteConfig, key: &str) -> Option<&'a str> {
    remote
        .options
        .get(key)
        .map(|s| s.as_str())
        .filter(|s| !s.is_empty())
}

/// The remote URL for messages, secrets removed: a password (`user:***@`), a user name
/// that may be a token (over HTTP(S)/WebDAV, `***@`; SSH user names stay), and the query
/// string (signed URLs and SAS tokens live there: `?***`). Userinfo runs to the last `@`,
/// so a password holding `/`, `?` or `@` is still hidden (an `@` later in the URL only
/// hides more).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (userinfo, after) = match rest.rfind('@') {
        Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
        None => (None, rest),
    };
    let (after, query) = match after.find(['?', '#']) {
        Some(i) => (&after[..i], Some(&after[i..i + 1])),
        None => (after, None),
    };
    let keeps_user = matches!(scheme, "ssh" | "sftp");
    let userinfo = match userinfo {
        None => String::new(),
        Some(info) => match info.split_once(':') {
            Some((user, _)) if keeps_user => format!("{user}:***@"),
            Some(_) => "***:***@".to_string(),
            None if keeps_user => format!("{info}@"),
            None => "***@".to_string(),
        },
    };
    let query = query.map(|q| format!("{q}***")).unwrap_or_default();
    format!("{scheme}://{userinfo}{after}{query}")
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(classify_status(401), ErrorKind::Denied);
        assert_eq!(classify_status(403), ErrorKind::Denied);
        assert_eq!(classify_status(429), ErrorKind::Transient);
        assert_eq!(classify_status(503), ErrorKind::Transient);
        assert_eq!(classify_status(404), ErrorKind::Other);
    }

    #[test]
    fn urls_lose_passwords() {
        assert_eq!(redact_url("https://u:pw@h/x"), "https://***:***@h/x");
        assert_eq!(redact_url("webdav://tok@h/x"), "webdav://***@h/x");
        assert_eq!(redact_url("ssh://git@h/x"), "ssh://git@h/x");
        assert_eq!(redact_url("ssh://git:pw@h/x"), "ssh://git:***@h/x");
        assert_eq!(redact_url("https://u:pa/ss@h/x"), "https://***:***@h/x");
        assert_eq!(
            redact_url("https://ghp_SECRET@127.0.0.1:1/dvc?sig=SECRETSIG"),
            "https://***@127.0.0.1:1/dvc?***"
        );
        assert_eq!(redact_url("azure://c/p?sv=1&sig=x"), "azure://c/p?***");
        assert_eq!(redact_url("https://u:p?w@h/x"), "https://***:***@h/x");
        assert_eq!(redact_url("s3://bucket/prefix"), "s3://bucket/prefix");
        assert_eq!(redact_url("/local/path"), "/local/path");
    }

    #[test]
    fn unknown_schemes_are_named() {
        let remote = RemoteConfig {
            name: "g".into(),
            url: "gdrive://folder".into(),
            options: Default::default(),
        };
        let err = open(&remote, &Limits::default()).err().expect("refused");
        assert!(err.message.contains("'gdrive://'"), "{}", err.message);
        assert!(err.message.contains("dvc push -r g"), "{}", err.message);
    }

    #[test]
    fn cloud_versioned_remotes_are_refused() {
        let remote = |key: &str, value: &str| RemoteConfig {
            name: "cv".into(),
            url: "s3://bucket/p".into(),
            options: [(key.to_string(), value.to_string())].into_iter().collect(),
        };
        for key in ["version_aware", "worktree"] {
            let err = open(&remote(key, "true"), &Limits::default())
                .err()
                .expect("refused");
            assert!(err.message.contains(key), "{}", err.message);
            assert!(err.message.contains("dvc push -r cv"), "{}", err.message);
        }
        assert!(open(&remote("version_aware", "false"), &Limits::default()).is_ok());
    }
}
