//! `dvc add` for files and directories, as DVC 3.67.1 does it with its default cache type
//! (`reflink,copy`):
//!
//! 1. each target's bytes are hashed with md5 (all files of all targets in parallel);
//! 2. every file becomes a cache object `files/md5/ab/cdef…` (read-only, written beside its
//!    final name and renamed into place, never rewritten when present), and a directory also
//!    gets its `.dir` manifest;
//! 3. `<name>.dvc` is written beside the target ([`AddedOutput::to_dvc_file`]);
//! 4. `/<name>` goes into the `.gitignore` beside the target, unless git ignores it already;
//! 5. the work-tree copy stays a plain file. DVC replaces a single file with a fresh copy of
//!    the cache object, so its mode becomes `0666 & ~umask` (plus `u+x` when executable);
//!    git-dvc sets the same mode in place. Symbolic and hard links (also inside a directory)
//!    become copies of their own, as DVC makes them; other files inside a directory are left
//!    as they are.
//!
//! Adding a path again whose data has not changed changes nothing. Everything is checked
//! before anything is written: a target outside the repository, inside `.git` or `.dvc`,
//! tracked by git, or overlapping another output stops the whole command.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use rayon::prelude::*;

use super::gitignore;
use super::tree::{self, TreeError};
use crate::dvc::cache::{CacheError, LocalCache};
use crate::dvc::dir_manifest;
use crate::dvc::dvcfile_writer::AddedOutput;
use crate::dvc::hash::ObjectId;
use crate::dvc::output::ManifestEntry;
use crate::dvc::{dvcfile, pipeline};
use crate::git::{porcelain, workspace, GitError};
use crate::objects::collect::{self, Unit};
use crate::objects::pipeline_inputs::{PipelineResolver, Place};
use crate::objects::snapshot::RepoContext;

/// Why nothing (or not everything) was added.
#[derive(Debug, thiserror::Error)]
pub enum AddError {
    /// A target git-dvc will not add, and why, with what to do instead.
    #[error("{0}")]
    Refused(String),
    /// Not inside a DVC project (DVC's `NotDvcRepoError`).
    #[error("{0}")]
    NotDvcRepo(String),
    #[error(transparent)]
    Repo(#[from] crate::error::Error),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("cannot add to the DVC cache: {0}")]
    Cache(#[from] CacheError),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl AddError {
    /// `dvc add`'s exit code for the same failure: 253 outside a DVC project, 255 for a
    /// `.dvcignore` inside a directory (DVC lets that error escape the command), else 1.
    pub fn exit_code(&self) -> i32 {
        match self {
            AddError::NotDvcRepo(_) => 253,
            AddError::Tree(TreeError::DvcIgnoreInside { .. }) => 255,
            _ => 1,
        }
    }
}

fn refused(message: impl Into<String>) -> AddError {
    AddError::Refused(message.into())
}

/// What `git dvc add` did.
#[derive(Debug, Default)]
pub struct AddReport {
    /// One line per target, in the order given.
    pub targets: Vec<TargetOutcome>,
    /// Files to commit (`.dvc` files and changed `.gitignore`s), relative to the work tree.
    pub to_track: BTreeSet<String>,
    /// Things worth saying that did not stop the command.
    pub warnings: Vec<String>,
    /// `core.autostage` was set and the files were staged with `git add`.
    pub staged: bool,
    /// The work tree root, to show paths relative to the current directory.
    pub root: PathBuf,
}

#[derive(Debug)]
pub struct TargetOutcome {
    /// Relative to the work tree, `/`-separated.
    pub path: String,
    pub dvc_file: String,
    /// False when the path was tracked with this data already.
    pub changed: bool,
    /// New objects written to the cache.
    pub objects_written: usize,
}

/// One path to add, resolved and checked.
struct Target {
    /// Relative to the work tree, `/`-separated.
    rel: String,
    abs: PathBuf,
    is_dir: bool,
    dvc_file_rel: String,
    /// The `.dvc` file's current bytes, when it exists and tracks this path.
    existing: Option<Vec<u8>>,
    /// The hash the existing `.dvc` file records.
    existing_oid: Option<ObjectId>,
}

/// Tracks `paths` (relative to `cwd`, or absolute) with DVC.
pub fn add(cwd: &Path, paths: &[PathBuf]) -> Result<AddReport, AddError> {
    // Read before any thread starts: setting the umask to read it is process-wide.
    let umask = current_umask();
    // DVC looks for `.dvc/` up from the current directory before anything else.
    let absolute = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    if !absolute.ancestors().any(|d| d.join(".dvc").is_dir()) {
        return Err(AddError::NotDvcRepo(format!(
            "you are not inside of a DVC repository: no directory from {} up has a .dvc \
             directory; run `dvc init` at the top of the project first",
            absolute.display()
        )));
    }
    let ctx = RepoContext::open(cwd)?;
    if ctx.git.work_dir().is_none() {
        return Err(refused(format!(
            "{} is a bare repository: `git dvc add` needs a work tree",
            ctx.git.git_dir().display()
        )));
    }
    // The DVC project's directory: the top of the work tree, or a `--subdir` project.
    let root = fs::canonicalize(&ctx.root).map_err(|e| AddError::Write {
        path: ctx.root.clone(),
        source: e,
    })?;
    if !root.join(".dvc").is_dir() {
        return Err(AddError::NotDvcRepo(format!(
            "you are not inside of a DVC repository: {} has no .dvc directory; run `dvc init` \
             there first",
            root.display()
        )));
    }
    let cwd = fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut report = AddReport {
        root: root.clone(),
        ..AddReport::default()
    };

    let mut targets = Vec::new();
    for path in paths {
        let target = resolve(&root, &cwd, path)?;
        if !targets.iter().any(|t: &Target| t.rel == target.rel) {
            targets.push(target);
        }
    }
    check_overlaps_between(&targets)?;
    let outputs = existing_outputs(&root, ctx.git.limits().dvc_file, &mut report.warnings)?;
    let rels: Vec<String> = targets.iter().map(|t| t.rel.clone()).collect();
    let in_git = porcelain::tracked(&root, &rels)?;
    for target in &mut targets {
        check_against_outputs(&root, target, &outputs, &in_git)?;
    }
    // Asked before any entry is written; entries for other names do not change the answer.
    let ignored = porcelain::ignored(&root, &rels)?;
    if let Some(kind) = ctx.workspace_config.get("cache", "type") {
        let first = kind.split(',').next().unwrap_or("").trim();
        if !first.is_empty() && first != "reflink" && first != "copy" {
            report.warnings.push(format!(
                "cache.type is '{kind}': git-dvc always leaves a copy of the data in the work \
                 tree; run `dvc checkout --relink` to link it from the cache as configured"
            ));
        }
    }

    // Hash every file of every target in one parallel pass.
    let mut members: Vec<Vec<tree::DirMember>> = Vec::with_capacity(targets.len());
    for target in &targets {
        members.push(if target.is_dir {
            tree::list_files(&target.abs)?
        } else {
            Vec::new()
        });
    }
    let mut jobs: Vec<&Path> = Vec::new();
    for (target, files) in targets.iter().zip(&members) {
        if target.is_dir {
            jobs.extend(files.iter().map(|m| m.path.as_path()));
        } else {
            jobs.push(&target.abs);
        }
    }
    let hashes = tree::md5_files(&jobs)?;

    // Build each target's output and check it against its `.dvc` file.
    let mut planned = Vec::new();
    let mut next = hashes.iter();
    for (target, files) in targets.iter().zip(&members) {
        let name = target
            .rel
            .rsplit('/')
            .next()
            .unwrap_or(&target.rel)
            .to_string();
        let mut objects: Vec<(ObjectId, &Path)> = Vec::new();
        let (output, manifest) = if target.is_dir {
            let mut entries = Vec::with_capacity(files.len());
            let mut size = 0;
            for member in files {
                let (oid, len) = next.next().expect("one hash per job").clone();
                size += len;
                objects.push((oid.clone(), member.path.as_path()));
                entries.push(ManifestEntry {
                    relpath: member.relpath.clone(),
                    md5: oid,
                });
            }
            let bytes = dir_manifest::serialize(&entries);
            let output = AddedOutput {
                oid: dir_manifest::digest(&entries),
                size,
                nfiles: Some(entries.len() as u64),
                isexec: false,
                path: name,
            };
            (output, Some(bytes))
        } else {
            let (oid, size) = next.next().expect("one hash per job").clone();
            let mode = fs::metadata(&target.abs)
                .map_err(|e| TreeError::Io {
                    path: target.abs.clone(),
                    source: e,
                })?
                .permissions()
                .mode();
            objects.push((oid.clone(), target.abs.as_path()));
            let output = AddedOutput {
                oid,
                size,
                nfiles: None,
                isexec: mode & 0o111 != 0,
                path: name,
            };
            (output, None)
        };
        let same_data = target.existing_oid.as_ref() == Some(&output.oid);
        let (text, write_dvc_file) = match &target.existing {
            None => (output.to_dvc_file(), true),
            Some(old) => match output.update(old) {
                Some(text) if text.as_bytes() == old.as_slice() => (text, false),
                // A DVC 3 file `dvc add` wrote: update it as DVC would.
                Some(text) if AddedOutput::from_canonical(old).is_some() => (text, true),
                // A DVC 2 file (its md5 is the CRLF-blind legacy hash): unchanged as long as
                // the hash still agrees; converting it is DVC's call.
                Some(_) if same_data => (String::new(), false),
                Some(_) => {
                    return Err(refused(format!(
                        "'{}' is tracked by {}, a DVC 2 file, and its data changed; git-dvc \
                         does not convert DVC 2 files, so update it with `dvc add {}`",
                        target.rel, target.dvc_file_rel, target.rel
                    )))
                }
                // More than `dvc add` writes (desc, remote, comments, …): fine while the
                // data is the same; DVC's job when it changed.
                None if same_data => (String::new(), false),
                None => {
                    return Err(refused(format!(
                        "'{}' changed, and {} holds more than `dvc add` writes (other fields \
                         or comments), which git-dvc does not rewrite; update it with `dvc add {}`",
                        target.rel, target.dvc_file_rel, target.rel
                    )))
                }
            },
        };
        planned.push((target, output, manifest, objects, text, write_dvc_file));
    }

    // Cache objects first, then the `.dvc` files that name them, then `.gitignore`s (each
    // written once, with its entries in the order the paths were given).
    let cache: &LocalCache = &ctx.cache;
    let mut gitignore_entries: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for (target, output, manifest, objects, text, write_dvc_file) in planned {
        let mut unique: BTreeMap<&ObjectId, &Path> = BTreeMap::new();
        for (oid, path) in &objects {
            unique.entry(oid).or_insert(path);
        }
        let written: Vec<bool> = unique
            .par_iter()
            .map(|(oid, path)| cache.insert_file(path, oid))
            .collect::<Result<_, _>>()?;
        let mut objects_written = written.iter().filter(|w| **w).count();
        if let Some(bytes) = &manifest {
            objects_written += usize::from(cache.insert_bytes(bytes, &output.oid)?);
        }

        let dvc_path = root.join(&target.dvc_file_rel);
        if write_dvc_file {
            write_atomically(&dvc_path, text.as_bytes())?;
            if target.is_dir {
                for (oid, path) in &objects {
                    settle_workspace_file(path, oid, None, cache, umask)?;
                }
            } else {
                let mode = (0o666 & !umask) | if output.isexec { 0o100 } else { 0 };
                settle_workspace_file(&target.abs, &output.oid, Some(mode), cache, umask)?;
            }
        }
        report.to_track.insert(target.dvc_file_rel.clone());

        if !ignored.contains(&target.rel) {
            let dir = target.abs.parent().expect("a target is never the root");
            match gitignore_entries.iter_mut().find(|(d, _)| d == dir) {
                Some((_, names)) => names.push(output.path.clone()),
                None => gitignore_entries.push((dir.to_path_buf(), vec![output.path.clone()])),
            }
            report.to_track.insert(match target.rel.rsplit_once('/') {
                Some((parent, _)) => format!("{parent}/.gitignore"),
                None => ".gitignore".to_string(),
            });
        }
        report.targets.push(TargetOutcome {
            path: target.rel.clone(),
            dvc_file: target.dvc_file_rel.clone(),
            changed: write_dvc_file,
            objects_written,
        });
    }

    for (dir, names) in &gitignore_entries {
        gitignore::add_entries(dir, names).map_err(|e| AddError::Write {
            path: dir.join(".gitignore"),
            source: e,
        })?;
    }

    let autostage = ctx
        .workspace_config
        .get("core", "autostage")
        .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"));
    if autostage && !report.to_track.is_empty() {
        let paths: Vec<String> = report.to_track.iter().cloned().collect();
        porcelain::stage(&root, &paths)?;
        report.staged = true;
    }
    Ok(report)
}

// `mode_t` is `u32` on Linux, `u16` on macOS.
#[allow(clippy::useless_conversion)]
fn current_umask() -> u32 {
    // SAFETY: umask only swaps the process's mask; it is restored at once.
    unsafe {
        let mask = libc::umask(0o022);
        libc::umask(mask);
        u32::from(mask)
    }
}

/// Resolves one command-line path against the work tree and checks it is something DVC can
/// track.
fn resolve(root: &Path, cwd: &Path, given: &Path) -> Result<Target, AddError> {
    let shown = given.display().to_string();
    let mut abs = PathBuf::new();
    for component in cwd.join(given).components() {
        match component {
            Component::ParentDir => {
                abs.pop();
            }
            Component::CurDir => {}
            other => abs.push(other),
        }
    }
    let Ok(rel_path) = abs.strip_prefix(root) else {
        return Err(refused(format!(
            "Cached output(s) outside of DVC project: {} ('{shown}'); only paths inside the \
             repository {} can be tracked",
            abs.display(),
            root.display()
        )));
    };
    let parts: Vec<&str> = rel_path
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect::<Option<_>>()
        .ok_or_else(|| TreeError::NotUtf8 { path: abs.clone() })?;
    if parts.is_empty() {
        return Err(refused(
            "cannot track the repository root itself; add the files or directories inside it",
        ));
    }
    let rel = parts.join("/");
    if let Some(internal) = parts.iter().find(|p| **p == ".git" || **p == ".dvc") {
        return Err(refused(format!(
            "Path '{}' is ignored by DVC: '{rel}' is inside {internal}/, which holds git's or \
             DVC's own data and is never tracked",
            abs.display()
        )));
    }
    let name = *parts.last().expect("not empty");
    // `.gitignore` is read line by line and has no escape for these: DVC's entry for
    // `a\nb` is `/a` and a bare `b` that ignores every `b` in the tree, and the data file
    // itself is not ignored (nor is `x\r`), so it could be committed to git.
    if name.contains(['\n', '\r']) {
        return Err(refused(format!(
            "cannot add {rel:?}: its name holds a line break (or carriage return), which no \
             .gitignore entry can name, so git would not ignore the data; rename it (DVC would \
             write a broken entry)"
        )));
    }
    if name.ends_with(".dvc") || name == "dvc.yaml" || name == "dvc.lock" {
        return Err(refused(format!(
            "DVC file '{rel}' cannot be an output. It is DVC's own metadata, committed to git as it is"
        )));
    }
    // DVC refuses paths inside a symlinked directory: its link would not survive a checkout.
    let mut dir = root.to_path_buf();
    for part in &parts[..parts.len() - 1] {
        dir.push(part);
        if fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refused(format!(
                "Cannot add files inside symlinked directories to DVC: {} is a symbolic link \
                 (adding '{rel}'); add the directory it points to instead",
                dir.strip_prefix(root).unwrap_or(&dir).display()
            )));
        }
    }
    let meta = match fs::symlink_metadata(&abs) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refused(format!(
                "output '{rel}' does not exist; check the path (it is resolved from the current directory)"
            )))
        }
        Err(e) => {
            return Err(TreeError::Io {
                path: abs.clone(),
                source: e,
            }
            .into())
        }
    };
    let is_link = meta.file_type().is_symlink();
    let target_meta = if is_link {
        fs::metadata(&abs).map_err(|_| TreeError::BrokenLink { path: abs.clone() })?
    } else {
        meta
    };
    if is_link && target_meta.is_dir() {
        return Err(refused(format!(
            "Cannot add files inside symlinked directories to DVC: '{rel}' is a symbolic link to \
             a directory; add the directory it points to instead"
        )));
    }
    if !target_meta.is_dir() && !target_meta.is_file() {
        return Err(refused(format!(
            "cannot add '{rel}': it is neither a regular file nor a directory"
        )));
    }
    let dvc_file_rel = format!("{rel}.dvc");
    Ok(Target {
        rel,
        abs,
        is_dir: target_meta.is_dir(),
        dvc_file_rel,
        existing: None,
        existing_oid: None,
    })
}

fn check_overlaps_between(targets: &[Target]) -> Result<(), AddError> {
    for a in targets {
        for b in targets {
            if b.rel.starts_with(&format!("{}/", a.rel)) {
                return Err(refused(format!(
                    "Cannot add '{}', because it is overlapping with other DVC tracked output: \
                     '{}' (both are being added); a path can be tracked only once, so add one \
                     or the other",
                    a.rel, b.rel
                )));
            }
        }
    }
    Ok(())
}

/// An output some DVC file in the work tree declares.
struct KnownOutput {
    /// Relative to the work tree.
    path: String,
    /// The declaring file, relative to the work tree.
    file: String,
    stage: Option<String>,
    oid: Option<ObjectId>,
}

/// Every output the work tree's `.dvc` files and `dvc.yaml`s declare (found as DVC finds
/// them). Files that fail to parse are reported as warnings and otherwise ignored.
/// `max_file` caps each DVC file (`dvc.maxFileSize`).
fn existing_outputs(
    root: &Path,
    max_file: usize,
    warnings: &mut Vec<String>,
) -> Result<Vec<KnownOutput>, AddError> {
    let scan = workspace::scan(root)?;
    let Some(tree) = &scan.root.tree else {
        return Ok(Vec::new());
    };
    let mut units = Vec::new();
    let mut resolver = PipelineResolver::for_workspace(&scan.blobs, max_file);
    let place = Place::Workspace(root);
    collect::visit_units(
        tree,
        place,
        &mut resolver,
        &mut Default::default(),
        &mut |dir, file, unit| {
            units.push((dir.to_string(), file.to_string(), unit));
        },
    );
    let read = |oid| {
        scan.blobs
            .get(&oid)
            .map(|b| b.as_slice())
            .unwrap_or_default()
    };
    let mut outputs = Vec::new();
    for (dir, file, unit) in units {
        let parsed = match unit {
            Unit::DvcFile(oid) => dvcfile::parse_dvc_file(read(oid), max_file)
                .map(|f| f.outputs)
                .map_err(|e| e.to_string()),
            Unit::Pipeline(p) => match p.resolved.as_ref() {
                Ok(stages) => {
                    pipeline::pair_with_lock(stages, p.files.dvc_lock.map(read), max_file)
                        .map_err(|e| e.to_string())
                }
                Err(e) => Err(e.clone()),
            },
            Unit::Link(oid) => Err(collect::link_error(read(oid))),
        };
        match parsed {
            Ok(outs) => {
                for out in outs {
                    let Some(path) = collect::repo_path(&dir, &out.path) else {
                        continue;
                    };
                    outputs.push(KnownOutput {
                        path,
                        file: file.clone(),
                        stage: out.stage.clone(),
                        oid: out.hash.map(|h| h.oid),
                    });
                }
            }
            Err(e) => warnings.push(format!(
                "{file} cannot be read ({e}); outputs it declares were not checked for overlaps"
            )),
        }
    }
    Ok(outputs)
}

fn check_against_outputs(
    root: &Path,
    target: &mut Target,
    outputs: &[KnownOutput],
    in_git: &std::collections::HashSet<String>,
) -> Result<(), AddError> {
    let rel = &target.rel;
    for out in outputs {
        let declared_by = match &out.stage {
            Some(stage) => format!("stage '{stage}' in {}", out.file),
            None => out.file.clone(),
        };
        if &out.path == rel {
            if out.file == target.dvc_file_rel && out.stage.is_none() {
                target.existing_oid = out.oid.clone();
                continue;
            }
            return Err(refused(match &out.stage {
                Some(_) => format!(
                    "cannot update '{rel}': overlaps with an output of {declared_by}. Run the \
                     pipeline (`dvc repro`) or use `dvc commit` to force update it"
                ),
                None => format!(
                    "'{rel}' is already tracked by {declared_by}; update it with `dvc add` there, \
                     or remove that file first"
                ),
            }));
        }
        if rel.starts_with(&format!("{}/", out.path)) {
            return Err(refused(format!(
                "'{rel}' is inside '{}', which {declared_by} tracks; add the whole directory \
                 again instead: git dvc add {}",
                out.path, out.path
            )));
        }
        if out.path.starts_with(&format!("{rel}/")) {
            return Err(refused(format!(
                "Cannot add '{rel}', because it is overlapping with other DVC tracked output: \
                 '{}' ({declared_by}); a path can be tracked only once, so stop tracking that \
                 first (`dvc remove {}`), then add '{rel}'",
                out.path, out.file
            )));
        }
    }
    if in_git.contains(rel) {
        return Err(refused(format!(
            "output '{rel}' is already tracked by SCM (e.g. Git). To track it with DVC \
             instead, stop tracking it with git first:\n    git rm -r --cached '{rel}'\n    git commit -m \"stop tracking {rel}\""
        )));
    }
    let dvc_path = root.join(&target.dvc_file_rel);
    match fs::read(&dvc_path) {
        Ok(bytes) => {
            let ours = outputs
                .iter()
                .any(|o| o.file == target.dvc_file_rel && &o.path == rel);
            let canonical = AddedOutput::from_canonical(&bytes)
                .is_some_and(|o| Some(o.path.as_str()) == rel.rsplit('/').next());
            if !ours && !canonical {
                return Err(refused(format!(
                    "{} exists but does not track '{rel}'; move it away or remove it, then add \
                     '{rel}' again",
                    target.dvc_file_rel
                )));
            }
            if target.existing_oid.is_none() {
                target.existing_oid = AddedOutput::from_canonical(&bytes).map(|o| o.oid);
            }
            target.existing = Some(bytes);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) if dvc_path.is_dir() => {
            let _ = e;
            return Err(refused(format!(
                "cannot write {}: a directory has that name",
                target.dvc_file_rel
            )));
        }
        Err(e) => {
            return Err(TreeError::Io {
                path: dvc_path,
                source: e,
            }
            .into())
        }
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), AddError> {
    let err = |source| AddError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().expect("a file has a directory");
    let temp = dir.join(crate::temp_files::temp_name());
    fs::write(&temp, bytes).map_err(err)?;
    if let Ok(old) = fs::metadata(path) {
        let _ = fs::set_permissions(&temp, old.permissions());
    }
    fs::rename(&temp, path).map_err(|e| {
        let _ = fs::remove_file(&temp);
        err(e)
    })
}

/// Leaves a work-tree file as DVC's checkout of it would be: a plain file of its own, not a
/// symbolic or hard link (DVC removes those and copies the object in), with mode
/// `0666 & ~umask`, plus `u+x` when executable. `mode` is `None` for a member of a
/// directory, whose mode DVC leaves alone unless it copies the file in.
fn settle_workspace_file(
    path: &Path,
    oid: &ObjectId,
    mode: Option<u32>,
    cache: &LocalCache,
    umask: u32,
) -> Result<(), AddError> {
    let err = |source| AddError::Write {
        path: path.to_path_buf(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(err)?;
    if meta.file_type().is_symlink() || meta.nlink() > 1 {
        let dir = path.parent().expect("a target has a directory");
        let temp = dir.join(crate::temp_files::temp_name());
        let mode = mode.unwrap_or(0o666 & !umask);
        fs::copy(cache.md5_object_path(oid), &temp).map_err(err)?;
        fs::set_permissions(&temp, fs::Permissions::from_mode(mode)).map_err(err)?;
        fs::rename(&temp, path).map_err(|e| {
            let _ = fs::remove_file(&temp);
            err(e)
        })
    } else if let Some(mode) = mode {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(err)
    } else {
        Ok(())
    }
}
