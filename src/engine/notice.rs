//! What the pipeline says while it runs, and what it comes to.
//!
//! A pipeline entry takes an [`Observer`]: it hears each [`Notice`] the moment it happens
//! (so a warning printed before a later error still comes first) and hands out the
//! progress bars. The command owns every word: it decides whether a notice is shown
//! (`-q`, `-v`) and how it is worded. What the run came to is the entry's return value.
//!
//! ```ignore
//! struct Printer { quiet: bool }
//! impl Observer for Printer {
//!     fn notice(&mut self, notice: Notice<'_>) {
//!         if let Notice::Collect(warnings) = notice {
//!             warnings.iter().for_each(|w| eprintln!("WARNING: {w}"));
//!         }
//!     }
//!     fn progress(&mut self, _: Transfer<'_>, total: usize) -> Progress {
//!         Progress::new(total, "Pushing", self.quiet)
//!     }
//! }
//! ```

use crate::dvc::hash::DvcHash;
use crate::objects::Provenance;
use crate::storage::StorageError;
use crate::transfer::progress::Progress;

/// One thing worth telling while the pipeline runs, in the order it happens.
#[derive(Debug)]
pub enum Notice<'a> {
    /// DVC's warnings from collecting the revisions (a revision skipped, and why).
    Collect(&'a [String]),
    /// Every output named its own remote and none is the default: DVC says so.
    NoDefaultRemote,
    /// Outputs of `dvc import` (another repository's data) left out of a fetch.
    RepoImportsSkipped(usize),
    /// How many revisions were read and how many remotes the data goes to or comes from.
    Scanned { revisions: usize, remotes: usize },
    /// Temporary files of interrupted uploads removed from a remote.
    RemoteTemporariesRemoved(usize),
    /// Temporary files of an interrupted run removed from the cache.
    CacheTemporariesRemoved(usize),
    /// Objects some output needs that are in neither the cache nor the remote.
    MissingEverywhere {
        objects: &'a [MissingObject],
        /// Whether this stops the operation (the client hook without
        /// `dvc.allowIncompletePush`); otherwise it goes on without them.
        stops: bool,
    },
    /// One remote assessed, before its transfer.
    Planned(&'a Plan<'a>),
    /// A transfer to one remote ended with `count` objects uploaded.
    Uploaded {
        remote: &'a str,
        location: &'a str,
        count: usize,
    },
    /// How many requests a remote's storage sent (HTTP requests, SFTP operations).
    Requests {
        remote: &'a str,
        location: &'a str,
        count: u64,
    },
    /// Warnings from reading the local run cache (entries that cannot be pushed).
    RunCacheUnreadable(&'a [String]),
    /// The run cache is not pushed to this remote: DVC could never read it back (HTTP).
    RunCacheNotOnHttp { remote: &'a str },
    /// Run-cache entries held back because outputs of theirs are not on the remote.
    RunCacheHeldBack { entries: usize, remote: &'a str },
    /// No `-r` and no default remote: the run cache is not fetched.
    RunCacheNoRemote,
    /// The remote cannot be listed: the run cache is not fetched.
    RunCacheUnlistable { remote: &'a str },
    /// Run-cache entries fetched from a remote.
    RunCacheFetched { entries: usize, remote: &'a str },
}

/// One remote's objects and what the pipeline is about to move.
#[derive(Debug)]
pub struct Plan<'a> {
    pub remote: &'a str,
    pub location: &'a str,
    /// Distinct objects the selection references there (files, `.dir`s, members).
    pub referenced: usize,
    /// Up: how many the remote has. Down: how many the cache has.
    pub present: usize,
    /// Objects to upload or download.
    pub transfers: usize,
}

/// An object in neither the cache nor the remote, with the output and revision needing it.
#[derive(Debug, Clone)]
pub struct MissingObject {
    pub hash: DvcHash,
    pub used_by: Provenance,
    pub remote: String,
}

/// Which transfer a progress bar follows.
#[derive(Debug, Clone, Copy)]
pub enum Transfer<'a> {
    Upload { remote: &'a str },
    Download { remote: &'a str },
    RunCacheDownload,
}

/// An object (or run-cache entry) that did not make it to or from its remote.
#[derive(Debug)]
pub struct TransferFailure {
    pub remote: String,
    /// The object id or run-cache key, as messages name it.
    pub id: String,
    /// The storage key (`files/md5/ab/cdef…`).
    pub key: String,
    /// The output and revision that need the object (none for run-cache entries).
    pub used_by: Option<Provenance>,
    pub error: StorageError,
}

impl TransferFailure {
    /// A failure of something other than one object: a run-cache entry, or the listing of
    /// `runs/` itself.
    pub fn entry(remote: &str, key: String, error: StorageError) -> TransferFailure {
        TransferFailure {
            remote: remote.to_string(),
            id: key.clone(),
            key,
            used_by: None,
            error,
        }
    }

    /// A failed object of one of the pipeline's object sets.
    pub fn object(
        remote: &str,
        hash: &DvcHash,
        used_by: Option<&Provenance>,
        error: StorageError,
    ) -> TransferFailure {
        TransferFailure {
            remote: remote.to_string(),
            id: hash.oid.to_string(),
            key: hash.relative_key(),
            used_by: used_by.cloned(),
            error,
        }
    }
}

/// Hears what the pipeline says and draws its progress; implemented by each command.
pub trait Observer {
    fn notice(&mut self, notice: Notice<'_>);
    /// A bar for a transfer of `total` items (a silent one when the command shows none).
    fn progress(&mut self, transfer: Transfer<'_>, total: usize) -> Progress;
}

/// Hears nothing and shows no progress: for callers that only want the outcome.
pub struct Silent;

impl Observer for Silent {
    fn notice(&mut self, _: Notice<'_>) {}
    fn progress(&mut self, _: Transfer<'_>, total: usize) -> Progress {
        Progress::new(total, "", true)
    }
}
