//! Everything git-dvc knows about git: opening the repository (also inside a pre-receive
//! quarantine), choosing revisions, and scanning their trees for DVC metadata files.
//!
//! Nothing here knows DVC formats; it hands out blob ids and bytes.

mod config_parameters;
pub mod porcelain;
pub mod projects;
pub mod push_range;
pub mod quarantine;
pub mod rebase_state;
pub mod revisions;
pub mod tree_diff;
pub mod tree_scan;
pub mod workspace;

use std::path::{Path, PathBuf};

pub use gix::ObjectId as GitOid;

use crate::limits::Limits;

/// A git failure, with what git-dvc was doing when it happened.
#[derive(Debug, thiserror::Error)]
#[error("{context}: {source}")]
pub struct GitError {
    pub context: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl GitError {
    pub fn new(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> GitError {
        GitError {
            context: context.into(),
            source: source.into(),
        }
    }

    pub fn msg(context: impl Into<String>, message: impl Into<String>) -> GitError {
        let message: String = message.into();
        GitError::new(context, message)
    }
}

/// Delta bases kept per thread-local handle.
const PACK_CACHE_BYTES: usize = 32 << 20;

/// An opened repository, shareable across threads (each worker takes a thread-local handle).
#[derive(Clone)]
pub struct GitRepo {
    repo: gix::ThreadSafeRepository,
    /// The size limits this repository's git config sets.
    limits: Limits,
    git_dir: PathBuf,
    work_dir: Option<PathBuf>,
    /// Set inside a pre-receive quarantine: the store that also sees the pushed objects.
    env_objects: Option<std::sync::Arc<quarantine::EnvObjectStore>>,
}

impl GitRepo {
    /// Finds the repository containing `dir`, as git does (`GIT_DIR` honoured).
    pub fn discover(dir: &Path) -> Result<GitRepo, GitError> {
        // `git -c key=value` settings reach commands and hooks only in the environment.
        let overrides = config_parameters::from_env();
        let repo = if let Some(git_dir) = std::env::var_os("GIT_DIR") {
            gix::open_opts(
                PathBuf::from(git_dir),
                gix::open::Options::default().cli_overrides(overrides),
            )
        } else {
            let mut options = gix::sec::trust::Mapping::<gix::open::Options>::default();
            if !overrides.is_empty() {
                options.full = options.full.cli_overrides(overrides.clone());
                options.reduced = options.reduced.cli_overrides(overrides);
            }
            gix::ThreadSafeRepository::discover_opts(dir, Default::default(), options)
                .map(gix::Repository::from)
        }
        .map_err(|e| {
            let context = format!("{} is not inside a git repository", dir.display());
            // The usual case (no repository up to the root) needs no library detail, only
            // the way out; anything else keeps its detail.
            if e.is_not_found() {
                GitError::msg(
                    context,
                    "run git dvc inside a git repository (cd into it, or create one with `git init`)",
                )
            } else {
                GitError::new(context, e)
            }
        })?;
        let limits = Limits::from_config(&repo.config_snapshot());
        let git_dir = repo.git_dir().to_path_buf();
        let work_dir = repo.workdir().map(Path::to_path_buf);
        let env_objects = quarantine::from_env()?.map(std::sync::Arc::new);
        Ok(GitRepo {
            repo: repo.into_sync(),
            limits,
            git_dir,
            work_dir,
            env_objects,
        })
    }

    /// A handle for the current thread. Cheap; the object store is shared.
    pub fn local(&self) -> gix::Repository {
        let mut repo = self.repo.to_thread_local();
        if let Some(env) = &self.env_objects {
            let handle: gix::odb::Handle = env.store.to_handle().into();
            repo.objects = handle.into();
        }
        // Every tree and blob is read once, so an object cache only costs; but the versions
        // of DVC files are deltas of each other in long chains, and the 64-entry default
        // cache of delta bases (none at all on the quarantine's handle) rebuilds each
        // chain for every version read.
        repo.object_cache_size(None);
        repo.objects.set_pack_cache(|| {
            Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(
                PACK_CACHE_BYTES,
            ))
        });
        repo
    }

    /// The size limits of the repository's git config (`dvc.maxFileSize`, …).
    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn git_dir(&self) -> &Path {
        &self.git_dir
    }

    /// The work tree root, `None` for a bare repository.
    pub fn work_dir(&self) -> Option<&Path> {
        self.work_dir.as_deref()
    }

    /// Where the repository's `.dvc` directory is, or would be: relative URLs in committed
    /// configs resolve against it. For a bare repository that is `<git dir>/.dvc`, as if the
    /// bare directory were the work tree.
    pub fn dvc_dir(&self) -> PathBuf {
        match &self.work_dir {
            Some(w) => w.join(".dvc"),
            None => self.git_dir.join(".dvc"),
        }
    }

    /// Reads a blob's bytes.
    pub fn read_blob(repo: &gix::Repository, oid: &GitOid) -> Result<Vec<u8>, GitError> {
        use gix::prelude::FindExt;
        crate::trace::object("blob", oid);
        let mut buf = Vec::new();
        repo.objects
            .find_blob(oid, &mut buf)
            .map_err(|e| GitError::new(format!("cannot read blob {oid}"), e))?;
        Ok(buf)
    }
}

/// git's id of a blob with these bytes, so work-tree files share parse results with
/// committed blobs of the same content.
pub fn blob_oid(bytes: &[u8]) -> GitOid {
    gix::objs::compute_hash(gix::hash::Kind::Sha1, gix::objs::Kind::Blob, bytes)
        .expect("sha1 hashing of in-memory bytes cannot fail")
}
