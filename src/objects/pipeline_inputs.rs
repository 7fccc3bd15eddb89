//! What a templated `dvc.yaml` depends on, per snapshot.
//!
//! A pipeline's outputs depend on its `dvc.yaml` and `dvc.lock` blobs and on every vars file
//! its templating reads (`params.yaml` beside it, `vars` files, stage `vars` relative to a
//! maybe templated `wdir`), read from the same snapshot: git objects for a commit, files for
//! the work tree, never the file system for a commit. Which files are read is only known by
//! templating, so a [`PipelineResolver`] templates a pipeline once and records each read
//! (path → blob id, missing, or refused). Where the same `dvc.yaml`/`dvc.lock` pair turns up
//! again (another revision, another directory), the recorded reads are looked up there: if all
//! agree, the result is reused, else it is templated again. A [`PipelineUnit`]'s identity is
//! the pair plus those reads, so each distinct one is parsed once and a hook's "already known"
//! check sees a change of `params.yaml` alone.
//!
//! Vars paths are relative to the `dvc.yaml`'s directory; one that leaves the repository, a
//! directory, a symbolic link or a submodule is refused (DVC would follow a link in a
//! checkout; git-dvc reads commits, where a link's target depends on where it sits).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::snapshot::BlobSource;
use crate::dvc::pipeline::{self, ResolvedStage, VarsFiles};
use crate::dvc::yaml::Yaml;
use crate::git::tree_scan::{self, EntryKind, PipelineFiles};
use crate::git::{blob_oid, GitOid};

/// Where a snapshot's files are: a commit's project tree, or the project in the work tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place<'a> {
    Commit(GitOid),
    Workspace(&'a Path),
}

/// What reading one vars path found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ReadState {
    Blob(GitOid),
    Missing,
    /// Cannot be used (a directory, a link, outside the repository, too big): why.
    Refused(String),
}

/// A `dvc.yaml` (with its `dvc.lock`) as templated in some snapshot: its identity is the files
/// and the vars reads; `resolved` is what templating gave for them.
#[derive(Debug, Clone)]
pub struct PipelineUnit {
    pub files: PipelineFiles,
    pub reads: Arc<[(String, ReadState)]>,
    pub resolved: Arc<Result<Vec<ResolvedStage>, String>>,
}

impl PartialEq for PipelineUnit {
    fn eq(&self, other: &Self) -> bool {
        self.files == other.files && self.reads == other.reads
    }
}

impl Eq for PipelineUnit {}

impl Hash for PipelineUnit {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.files.hash(state);
        self.reads.hash(state);
    }
}

/// Templates pipelines, once per distinct set of inputs; keep one per command.
pub struct PipelineResolver<'a> {
    /// Commits' objects; `None` when only the work tree is read (`git dvc add`).
    repo: Option<gix::Repository>,
    /// The work tree's DVC files, by blob id.
    blobs: &'a HashMap<GitOid, Arc<Vec<u8>>>,
    /// Units templated so far, by files: their reads are tried first on a new sighting.
    units: HashMap<PipelineFiles, Vec<PipelineUnit>>,
    /// Parsed `dvc.yaml`s, by blob.
    docs: HashMap<GitOid, Result<Arc<Yaml>, String>>,
    /// Work-tree vars files read, by blob id.
    workspace_files: HashMap<GitOid, Arc<Vec<u8>>>,
    /// Sightings already resolved: (place, directory, files).
    memo: HashMap<(PlaceKey, String, PipelineFiles), PipelineUnit>,
    /// The cap on each DVC file and vars file (`dvc.maxFileSize`).
    max_file: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PlaceKey {
    Commit(GitOid),
    Workspace(PathBuf),
}

impl<'a> PipelineResolver<'a> {
    pub fn new(blobs: &'a BlobSource) -> PipelineResolver<'a> {
        let max_file = blobs.git().limits().dvc_file;
        Self::with(Some(blobs.git().local()), blobs.workspace_blobs(), max_file)
    }

    /// For the work tree alone: `blobs` are its DVC files, as `git::workspace::scan` read
    /// them; `max_file` caps each file read (`dvc.maxFileSize`).
    pub fn for_workspace(
        blobs: &'a HashMap<GitOid, Arc<Vec<u8>>>,
        max_file: usize,
    ) -> PipelineResolver<'a> {
        Self::with(None, blobs, max_file)
    }

    fn with(
        repo: Option<gix::Repository>,
        blobs: &'a HashMap<GitOid, Arc<Vec<u8>>>,
        max_file: usize,
    ) -> PipelineResolver<'a> {
        PipelineResolver {
            repo,
            max_file,
            blobs,
            units: HashMap::new(),
            docs: HashMap::new(),
            workspace_files: HashMap::new(),
            memo: HashMap::new(),
        }
    }

    /// The unit for the pipeline `files` in directory `dir` (repository-relative) of `place`.
    pub fn unit(&mut self, place: Place<'_>, dir: &str, files: PipelineFiles) -> PipelineUnit {
        let key = (
            match place {
                Place::Commit(tree) => PlaceKey::Commit(tree),
                Place::Workspace(path) => PlaceKey::Workspace(path.to_path_buf()),
            },
            dir.to_owned(),
            files,
        );
        if let Some(unit) = self.memo.get(&key) {
            return unit.clone();
        }
        let unit = self.find_or_template(place, dir, files);
        self.memo.insert(key, unit.clone());
        unit
    }

    fn find_or_template(
        &mut self,
        place: Place<'_>,
        dir: &str,
        files: PipelineFiles,
    ) -> PipelineUnit {
        let candidates = self.units.get(&files).cloned().unwrap_or_default();
        for candidate in candidates {
            if candidate
                .reads
                .iter()
                .all(|(path, state)| self.lookup(place, dir, path).0 == *state)
            {
                return candidate;
            }
        }
        let reads = RefCell::new(Vec::new());
        let resolved = match self.doc(files.dvc_yaml) {
            Err(e) => Err(e),
            Ok(doc) => {
                let max_file = self.max_file;
                let recorder = Recorder {
                    resolver: RefCell::new(&mut *self),
                    place,
                    dir,
                    reads: &reads,
                };
                pipeline::resolve_stages(&doc, &recorder, max_file).map_err(|e| e.to_string())
            }
        };
        let unit = PipelineUnit {
            files,
            reads: reads.into_inner().into(),
            resolved: Arc::new(resolved),
        };
        self.units.entry(files).or_default().push(unit.clone());
        unit
    }

    fn doc(&mut self, blob: GitOid) -> Result<Arc<Yaml>, String> {
        if let Some(doc) = self.docs.get(&blob) {
            return doc.clone();
        }
        let parsed = self
            .read_capped(&blob)
            .and_then(|bytes| {
                pipeline::load_pipeline(&bytes, self.max_file).map_err(|e| e.to_string())
            })
            .map(Arc::new);
        self.docs.insert(blob, parsed.clone());
        parsed
    }

    /// A DVC file or committed vars file, refused over git config `dvc.maxFileSize`.
    fn read_capped(&self, oid: &GitOid) -> Result<Arc<Vec<u8>>, String> {
        let bytes = match (self.blobs.get(oid), &self.repo) {
            (Some(bytes), _) => bytes.clone(),
            (None, Some(repo)) => {
                Arc::new(crate::git::GitRepo::read_blob(repo, oid).map_err(|e| e.to_string())?)
            }
            (None, None) => return Err(format!("blob {oid} is not in the work tree")),
        };
        let limit = self.max_file;
        if bytes.len() > limit {
            return Err(format!(
                "file is {} bytes, over the {limit}-byte limit for DVC files (git config dvc.maxFileSize)",
                bytes.len()
            ));
        }
        Ok(bytes)
    }

    /// What is at `path` (relative to `dir`) in `place`, with the bytes of a work-tree file.
    fn lookup(
        &mut self,
        place: Place<'_>,
        dir: &str,
        path: &str,
    ) -> (ReadState, Option<Arc<Vec<u8>>>) {
        match place {
            Place::Commit(root) => {
                let Some(repo) = &self.repo else {
                    return (ReadState::Refused("no git repository".into()), None);
                };
                (read_state(repo, root, dir, path), None)
            }
            Place::Workspace(root) => {
                let Some(repo_path) = inside_repository(dir, path) else {
                    return (
                        ReadState::Refused(format!("'{path}' is outside the repository")),
                        None,
                    );
                };
                let full = root.join(&repo_path);
                let meta = match std::fs::symlink_metadata(&full) {
                    Ok(meta) => meta,
                    Err(_) => return (ReadState::Missing, None),
                };
                let limit = self.max_file;
                if meta.is_dir() {
                    return (ReadState::Refused(format!("'{path}' is a directory")), None);
                }
                if !meta.is_file() {
                    return (
                        ReadState::Refused(format!(
                            "'{path}' is a symbolic link; git-dvc reads vars files only from \
                             regular files"
                        )),
                        None,
                    );
                }
                if meta.len() > limit as u64 {
                    return (ReadState::Refused(too_big(path, meta.len(), limit)), None);
                }
                match std::fs::read(&full) {
                    Ok(bytes) => {
                        let oid = blob_oid(&bytes);
                        let bytes = Arc::new(bytes);
                        self.workspace_files.insert(oid, bytes.clone());
                        (ReadState::Blob(oid), Some(bytes))
                    }
                    Err(e) => (
                        ReadState::Refused(format!("cannot read '{path}': {e}")),
                        None,
                    ),
                }
            }
        }
    }
}

/// What a pipeline in `dir` of the commit tree `root` finds when its templating reads
/// `path`: tree lookups only, no blob is read.
pub fn read_state(repo: &gix::Repository, root: GitOid, dir: &str, path: &str) -> ReadState {
    let Some(repo_path) = inside_repository(dir, path) else {
        return ReadState::Refused(format!("'{path}' is outside the repository"));
    };
    match tree_scan::entry_at(repo, root, &repo_path) {
        Ok(None) => ReadState::Missing,
        Ok(Some((oid, EntryKind::Blob))) => ReadState::Blob(oid),
        Ok(Some((_, EntryKind::Tree))) => ReadState::Refused(format!("'{path}' is a directory")),
        Ok(Some((_, EntryKind::Other))) => ReadState::Refused(format!(
            "'{path}' is a symbolic link or submodule; git-dvc reads vars files \
             only from regular files"
        )),
        Err(e) => ReadState::Refused(e.to_string()),
    }
}

/// Hands templating the snapshot's files and records what it read.
struct Recorder<'r, 'a, 'p> {
    resolver: RefCell<&'r mut PipelineResolver<'a>>,
    place: Place<'p>,
    dir: &'p str,
    reads: &'p RefCell<Vec<(String, ReadState)>>,
}

impl VarsFiles for Recorder<'_, '_, '_> {
    fn read(&self, path: &str) -> Result<Option<Arc<Vec<u8>>>, String> {
        let mut resolver = self.resolver.borrow_mut();
        let (state, bytes) = resolver.lookup(self.place, self.dir, path);
        self.reads
            .borrow_mut()
            .push((path.to_owned(), state.clone()));
        match state {
            ReadState::Missing => Ok(None),
            ReadState::Refused(why) => Err(why),
            ReadState::Blob(oid) => match bytes {
                Some(bytes) => Ok(Some(bytes)),
                None => resolver
                    .read_capped(&oid)
                    .map(Some)
                    .map_err(|e| format!("'{path}': {e}")),
            },
        }
    }
}

fn too_big(path: &str, size: u64, limit: usize) -> String {
    format!(
        "'{path}' is {size} bytes, over the {limit}-byte limit for DVC files (git config dvc.maxFileSize)"
    )
}

/// `path` (relative to `dir`) as a repository path; `None` when it leaves the repository.
fn inside_repository(dir: &str, path: &str) -> Option<String> {
    if path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::inside_repository;

    #[test]
    fn vars_paths_stay_inside() {
        assert_eq!(
            inside_repository("", "params.yaml").as_deref(),
            Some("params.yaml")
        );
        assert_eq!(
            inside_repository("a/b", "../p.yaml").as_deref(),
            Some("a/p.yaml")
        );
        assert_eq!(inside_repository("a", "../../p.yaml"), None);
        assert_eq!(inside_repository("", "/etc/passwd"), None);
    }
}
