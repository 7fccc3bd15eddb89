//! `git dvc push --run-cache`: which remote gets the run cache, the outputs its entries
//! name (added to that remote's object set), and the entries themselves once the outputs
//! are there. The run cache is the local cache's, whatever the targets and revisions, as
//! with `dvc push --run-cache`.

use std::collections::{BTreeMap, HashSet};

use super::notice::{Notice, Observer};
use crate::dvc::hash::DvcHash;
use crate::dvc::run_cache::{self, RunCacheEntry};
use crate::error::Error;
use crate::objects::snapshot::RepoContext;
use crate::objects::{DestinationObjects, Provenance};
use crate::storage::{Storage, StorageError};
use crate::transfer::progress::Progress;
use crate::transfer::run_cache::{missing_entries, upload_entries};

/// The revision label of outputs known only from the run cache.
pub const RUN_CACHE_REVISION: &str = "run cache";

pub struct RunCachePush {
    remote_name: String,
    remote_url: String,
    entries: Vec<RunCacheEntry>,
}

/// What pushing the entries to one remote came to.
#[derive(Default)]
pub struct RunCacheOutcome {
    pub uploaded: usize,
    /// (entry key, error).
    pub failed: Vec<(String, StorageError)>,
}

impl RunCachePush {
    /// Scans the run cache and adds the outputs its entries name, those in the local cache
    /// or already on the remote, to the destination of `-r` or the default remote. `None`
    /// when the run cache is empty.
    pub fn prepare(
        ctx: &RepoContext,
        remote_override: Option<&str>,
        destinations: &mut Vec<DestinationObjects>,
        observer: &mut dyn Observer,
    ) -> Result<Option<RunCachePush>, Error> {
        let (entries, warnings) = run_cache::scan(ctx.cache.root(), ctx.git.limits().dvc_file);
        if !warnings.is_empty() {
            observer.notice(Notice::RunCacheUnreadable(&warnings));
        }
        if entries.is_empty() {
            return Ok(None);
        }
        let config = &ctx.workspace_config;
        let name = match remote_override
            .map(str::to_string)
            .or_else(|| config.core_remote())
        {
            Some(name) => name,
            None => {
                return Err(Error::NoRemote {
                    root: ctx.root.clone(),
                    remotes_exist: !config.remote_names().is_empty(),
                    command: "<command>",
                })
            }
        };
        let remote = config.remote(&name)?;
        let push = RunCachePush {
            remote_name: remote.name.clone(),
            remote_url: remote.url.clone(),
            entries,
        };
        let index = match destinations.iter().position(|d| push.is_for(d)) {
            Some(i) => i,
            None => {
                destinations.push(DestinationObjects {
                    remote,
                    objects: BTreeMap::new(),
                    order: Default::default(),
                });
                destinations.len() - 1
            }
        };
        let objects = &mut destinations[index].objects;
        for entry in &push.entries {
            for (path, hash) in &entry.outputs {
                objects.entry(hash.clone()).or_insert_with(|| Provenance {
                    path: path.clone(),
                    revision: RUN_CACHE_REVISION.to_string(),
                });
            }
        }
        Ok(Some(push))
    }

    pub fn is_for(&self, dest: &DestinationObjects) -> bool {
        dest.remote.name == self.remote_name && dest.remote.url == self.remote_url
    }

    /// The entries `storage` lacks; `None` (with a notice) where DVC could never read
    /// them back (HTTP remotes cannot be listed).
    pub fn missing_on(
        &self,
        storage: &dyn Storage,
        jobs: usize,
        observer: &mut dyn Observer,
    ) -> Result<Option<Vec<&RunCacheEntry>>, StorageError> {
        if storage.traverse_prefix_len().is_none() {
            observer.notice(Notice::RunCacheNotOnHttp {
                remote: &self.remote_name,
            });
            return Ok(None);
        }
        missing_entries(storage, &self.entries, jobs).map(Some)
    }

    /// Uploads `missing` whose outputs are all on the remote now.
    pub fn upload(
        &self,
        storage: &dyn Storage,
        missing: &[&RunCacheEntry],
        on_remote: &HashSet<&DvcHash>,
        jobs: usize,
        progress: &Progress,
        observer: &mut dyn Observer,
    ) -> RunCacheOutcome {
        let outcome = upload_entries(storage, missing, |h| on_remote.contains(h), jobs, progress);
        if outcome.held_back > 0 {
            observer.notice(Notice::RunCacheHeldBack {
                entries: outcome.held_back,
                remote: &self.remote_name,
            });
        }
        RunCacheOutcome {
            uploaded: outcome.uploaded,
            failed: outcome.failed,
        }
    }
}
