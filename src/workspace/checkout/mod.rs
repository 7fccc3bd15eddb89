//! Checkout: make the work tree hold the data the current DVC files name, from the cache,
//! as DVC 3.67.1's `dvc checkout` does (`dvc/repo/checkout.py`, `dvc_data/index/checkout.py`),
//! and better where DVC is wrong.
//!
//! For each output: what it should hold ([`expected`]: a file, or a directory's `.dir`
//! manifest from the cache), what the work tree holds ([`scan`]), and the difference,
//! compared on content, file-or-directory and the exec bit only. Then, before anything is
//! touched, every file about to be deleted or replaced must have its content in the cache,
//! or the whole checkout stops ([`CheckoutError::Unsaved`], unless `force`). Then files
//! are deleted, emptied directories removed, and new files made from the cache by the
//! `cache.type` link types ([`link`]), each under a temporary name and renamed.
//!
//! Unchanged files are never rewritten (`relink` rewrites them all). What each output holds
//! afterwards goes into the work-tree state ([`state`]), so the next checkout of an
//! unchanged work tree reads no file.
//!
//! The caller holds DVC's lock (`.dvc/tmp/lock`).
//!
//! ```ignore
//! let collected = engine::collect_in(&ctx, &request.checking_out(false))?;
//! let outcome = checkout::run(&ctx, &collected.workspace_outputs, &CheckoutRequest {
//!     force: false, relink: false, cleanup: Cleanup::AllFormer,
//! })?;
//! ```
//!
//! Where DVC is wrong, this is not: an object missing from the cache fails its output
//! but leaves the rest of a directory in place (DVC deletes the whole directory); an
//! executable's missing object is a failure like any other (DVC crashes); a stale exec bit
//! is cleared (DVC reports `M` forever); an executable is never hardlinked or symlinked
//! (DVC changes the cache object's mode).

pub mod expected;
pub mod link;
pub mod scan;
pub mod state;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::dvc::cache::LocalCache;
use crate::dvc::cache_presence;
use crate::dvc::dir_manifest;
use crate::dvc::hash::{DvcHash, HashKind, ObjectId};
use crate::objects::collect::WorkspaceOutput;
use crate::objects::snapshot::RepoContext;
use expected::Expected;
use link::Linker;
use scan::{Entry, Found};
use state::{FileState, OutputState, Stamp, WorkTreeState};

/// How a checkout runs, beyond which outputs it covers.
#[derive(Debug, Clone, Default)]
pub struct CheckoutRequest {
    /// Delete or replace files whose content is not in the cache.
    pub force: bool,
    /// Make every file again, even unchanged ones.
    pub relink: bool,
    /// Which former outputs (put in place by git-dvc, no longer declared) are removed.
    pub cleanup: Cleanup,
}

/// Former outputs to remove: those git-dvc checked out whose DVC file no longer declares
/// them, when every file of them is still as git-dvc left it (DVC's unused-link removal).
#[derive(Debug, Clone, Default)]
pub enum Cleanup {
    /// None (a checkout with targets, as DVC's).
    #[default]
    None,
    /// Every former output (a checkout of all outputs).
    AllFormer,
    /// Former outputs declared by these DVC files (project-relative): the hooks pass the
    /// DVC files that changed between two commits.
    FromFiles(BTreeSet<String>),
}

/// A line of DVC's output: `A`, `M` or `D` and the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChangeKind {
    Modified,
    Added,
    Deleted,
}

impl ChangeKind {
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'M',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Project-relative output path.
    pub path: String,
    pub is_dir: bool,
}

/// Why an output could not be checked out (all of it, or some of its files).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason {
    /// No hash recorded (a stage never run): DVC's "No file hash info found".
    NoHash,
    /// These objects are not in the cache.
    Missing(Vec<DvcHash>),
    /// Anything else (an unreadable manifest, a path through a symbolic link, an I/O
    /// error): the message says what and where.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// Project-relative output path.
    pub path: String,
    pub reason: FailReason,
}

/// What a checkout did.
#[derive(Debug, Default)]
pub struct CheckoutOutcome {
    /// Outputs that changed, in DVC's order (modified, added, deleted; directories first,
    /// then by path).
    pub changes: Vec<Change>,
    /// Files made where none was (DVC's "added").
    pub added: usize,
    /// Files replaced or whose exec bit changed (DVC's "modified").
    pub modified: usize,
    /// Files removed from directories, and former outputs removed (DVC's "deleted").
    pub deleted: usize,
    pub failed: Vec<Failure>,
    /// Files rewritten by `relink`.
    pub relinked: usize,
}

impl CheckoutOutcome {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.added + self.modified + self.deleted == 0
    }
}

/// Why a checkout stopped before touching anything.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    /// Files whose content is not in the cache would be deleted or replaced (DVC's words;
    /// absolute paths follow, one per line).
    #[error("Can't remove the following unsaved files without confirmation. Use `--force` to force.\n{}", .0.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join("\n"))]
    Unsaved(Vec<PathBuf>),
    #[error("{0}")]
    Config(String),
    #[error("cannot write the work-tree state {}: {source}", path.display())]
    State {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Makes the work tree match `outputs` (each the work tree's DVC files declare).
pub fn run(
    ctx: &RepoContext,
    outputs: &[WorkspaceOutput],
    request: &CheckoutRequest,
) -> Result<CheckoutOutcome, CheckoutError> {
    let types = link::parse_cache_type(ctx.workspace_config.get("cache", "type"))
        .map_err(CheckoutError::Config)?;
    let linker = Linker::new(types);
    let mut state = WorkTreeState::load(&ctx.dvc_dir);
    let project = ctx.root.as_path();
    let cache = &ctx.cache;
    let mut outcome = CheckoutOutcome::default();

    // One plan per output path (a path declared twice is DVC's error, not ours to fix:
    // the first declaration wins).
    let mut seen = BTreeSet::new();
    let mut plans: Vec<Plan> = Vec::new();
    for out in outputs {
        if !seen.insert(out.path.clone()) {
            continue;
        }
        match plan_output(project, cache, &state, out, ctx.git.limits().manifest) {
            Ok(plan) => plans.push(plan),
            Err(reason) => outcome.failed.push(Failure {
                path: out.path.clone(),
                reason,
            }),
        }
    }
    hash_unknown(project, cache, &mut plans);
    for plan in &mut plans {
        plan.diff(cache, request.relink);
    }

    // Former outputs to remove, decided before anything changes.
    let current: BTreeSet<&str> = outputs.iter().map(|o| o.path.as_str()).collect();
    let former = former_outputs(project, cache, &state, &current, &request.cleanup);

    // Nothing is touched before this check.
    if !request.force {
        let mut unsaved: Vec<PathBuf> = plans.iter().flat_map(|p| p.unsaved(cache)).collect();
        // DVC walks the work tree breadth first, each directory in no fixed order: by
        // depth, then by path, is always one of its orders.
        unsaved.sort_by(|a, b| (a.components().count(), a).cmp(&(b.components().count(), b)));
        unsaved.dedup();
        if !unsaved.is_empty() {
            return Err(CheckoutError::Unsaved(unsaved));
        }
    }

    let mut dirty = false;
    for (path, removable) in &former {
        let rec = state.outputs.remove(path).expect("a recorded output");
        dirty = true;
        if *removable && remove_former(project, path, &rec) {
            outcome.deleted += 1;
            outcome.changes.push(Change {
                kind: ChangeKind::Deleted,
                path: path.clone(),
                is_dir: !rec.files.contains_key(""),
            });
        }
    }

    // A killed run's temporary files beside the single-file outputs it was writing: those
    // outputs are not up to date, so they are written again now, and the directories
    // they are written in are swept (a directory output's own are swept by its scan).
    let beside_outputs: BTreeSet<&Path> = plans
        .iter()
        .filter(|p| p.writes_own_path())
        .filter_map(|p| p.abs.parent())
        .collect();
    for dir in beside_outputs {
        scan::sweep_stale_temps(dir);
    }

    let jobs = workers();
    for plan in &mut plans {
        plan.delete_old();
    }
    let creates: Vec<(usize, usize)> = plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| (0..p.creates.len()).map(move |j| (i, j)))
        .collect();
    for plan in &mut plans {
        plan.make_dirs();
    }
    let made: Mutex<Vec<Made>> = Mutex::new(Vec::new());
    crate::transfer::queue::in_parallel(&creates, jobs, |&(i, j)| {
        let plan = &plans[i];
        let c = &plan.creates[j];
        let object = cache.object_path(&DvcHash {
            kind: plan.kind,
            oid: c.oid.clone(),
        });
        let dest = plan.dest(&c.rel);
        let result = linker
            .make(&object, &dest, c.isexec)
            .map(|_| ())
            .map_err(|e| e.to_string());
        made.lock().expect("made lock").push((i, j, result));
    });
    for (i, j, result) in made.into_inner().expect("made lock") {
        if let Err(e) = result {
            plans[i].errors.push(e);
            plans[i].creates[j].failed = true;
        }
    }
    for plan in &mut plans {
        plan.settle();
        plan.apply_chmods(&linker, cache);
    }

    for plan in plans {
        if plan.unavailable.is_some() {
            // Nothing read or touched: what the state knows of it still holds.
            outcome.failed.extend(plan.failure().map(|reason| Failure {
                path: plan.path.clone(),
                reason,
            }));
            continue;
        }
        if plan.changed() {
            dirty = true;
        }
        let mut record = plan.record();
        if let (Some(parts), Some(old)) = (&plan.within, state.outputs.get(&plan.path)) {
            // A part checked out: what the state knew of the rest still holds (of a
            // directory: a single file that stood there before is gone).
            for (rel, f) in &old.files {
                if !rel.is_empty() && !is_within(parts, rel) {
                    record.files.entry(rel.clone()).or_insert_with(|| f.clone());
                }
            }
        }
        if let Some(reason) = plan.failure() {
            // As DVC: a failed output has no line and no count (what of it could be made
            // is in place all the same, and recorded below).
            outcome.failed.push(Failure {
                path: plan.path.clone(),
                reason,
            });
        } else {
            outcome.added += plan.added;
            outcome.modified += plan.modified;
            outcome.deleted += plan.deleted;
            if request.relink {
                outcome.relinked += plan.creates.len();
            }
            if let Some(kind) = plan.status() {
                outcome.changes.push(Change {
                    kind,
                    path: plan.path.clone(),
                    is_dir: plan.expected.is_dir(),
                });
            }
        }
        let old = state.outputs.get(&plan.path);
        if old != Some(&record) {
            state.outputs.insert(plan.path.clone(), record);
            dirty = true;
        }
    }
    if dirty {
        state
            .save(&ctx.dvc_dir)
            .map_err(|source| CheckoutError::State {
                path: WorkTreeState::path(&ctx.dvc_dir),
                source,
            })?;
    }
    outcome
        .changes
        .sort_by(|a, b| (a.kind, !a.is_dir, &a.path).cmp(&(b.kind, !b.is_dir, &b.path)));
    outcome.failed.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(outcome)
}

/// Records in the work-tree state the outputs of `outputs` (what a commit the work tree
/// has moved away from declared: the hooks pass them) that git-dvc did not put in place
/// but that the work tree holds exactly as declared, with every file's content in the
/// cache: what `dvc add`, `git dvc add` or `dvc checkout` wrote. A cleanup then treats
/// them as git-dvc's, as DVC's links database treats what `dvc add` wrote, so a branch
/// switch removes them once their DVC file is gone. Anything else (a file edited since, a
/// file not in the cache) is left unrecorded, and so never removed. Returns how many
/// outputs were recorded. The caller holds DVC's lock.
pub fn adopt(ctx: &RepoContext, outputs: &[WorkspaceOutput]) -> Result<usize, CheckoutError> {
    let mut state = WorkTreeState::load(&ctx.dvc_dir);
    let project = ctx.root.as_path();
    let cache = &ctx.cache;
    let mut seen = BTreeSet::new();
    let mut plans: Vec<Plan> = outputs
        .iter()
        .filter(|o| !state.outputs.contains_key(&o.path) && seen.insert(o.path.clone()))
        .filter_map(|o| plan_output(project, cache, &state, o, ctx.git.limits().manifest).ok())
        .filter(|p| !matches!(p.found, Found::Absent))
        .collect();
    hash_unknown(project, cache, &mut plans);
    let mut adopted = 0;
    for plan in &mut plans {
        plan.diff(cache, false);
        let exact = !plan.changed() && plan.chmods.is_empty() && plan.missing.is_empty();
        let saved = plan.kept.iter().all(|(_, oid, _)| {
            cache.has_object(&DvcHash {
                kind: plan.kind,
                oid: oid.clone(),
            })
        });
        if exact && saved && !plan.kept.is_empty() {
            state.outputs.insert(plan.path.clone(), plan.record());
            adopted += 1;
        }
    }
    if adopted > 0 {
        state
            .save(&ctx.dvc_dir)
            .map_err(|source| CheckoutError::State {
                path: WorkTreeState::path(&ctx.dvc_dir),
                source,
            })?;
    }
    Ok(adopted)
}

/// (plan, create, result) of one file made.
type Made = (usize, usize, Result<(), String>);

/// Workers making files: the work is system calls on small files, so more than cores, but
/// not many more: creating files in the same directories contends in the kernel (on the
/// 2-core test machine, 8 workers cost more system time than 2 under load).
fn workers() -> usize {
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    (cpus * 2).clamp(2, 16)
}

/// One file to make.
#[derive(Debug)]
struct Create {
    rel: String,
    oid: ObjectId,
    isexec: bool,
    failed: bool,
}

/// What was at a path to be deleted or replaced.
#[derive(Debug)]
struct Old {
    rel: String,
    /// A new file takes its place by rename: never deleted first, so that a file whose
    /// making fails leaves the old one where it was.
    replaced: bool,
}

/// One output's work: what is there, what should be, and the steps between.
struct Plan {
    path: String,
    /// Only these paths inside the (directory) output are checked out: everything else
    /// in it is neither read nor touched.
    within: Option<BTreeSet<String>>,
    abs: PathBuf,
    file: String,
    kind: HashKind,
    expected: Expected,
    found: Found,
    /// Content ids of work-tree entries, from the state or hashed (`None`: unknown, as a
    /// link out of the project or a special file).
    contents: HashMap<String, Option<ObjectId>>,
    deletes: Vec<Old>,
    /// A directory where a file goes: the file is made at `staging` (beside the output)
    /// first, and only once it is there is the directory emptied, removed and replaced.
    remove_root_dir: bool,
    staging: Option<PathBuf>,
    /// A file where a directory goes: moved here (beside the output) while the directory
    /// is made, and put back if not one of its files could be made.
    aside: Option<PathBuf>,
    creates: Vec<Create>,
    /// Files whose exec bit is set or cleared (content unchanged).
    chmods: Vec<(String, bool)>,
    /// Objects the cache lacks.
    missing: Vec<DvcHash>,
    /// Work-tree files DVC would delete to make what the cache lacks (the file replacing
    /// them, a directory's manifest): kept here, but refused without `force` all the same
    /// when unsaved, as DVC refuses them, before anything is touched.
    at_risk: Vec<String>,
    /// The directory's manifest is not in the cache: nothing of the output is touched.
    unavailable: Option<Vec<DvcHash>>,
    errors: Vec<String>,
    /// Kept files, for the state: (rel, content id, metadata as scanned).
    kept: Vec<(String, ObjectId, Option<Stamp>)>,
    /// Work-tree directories no member needs, removed (deepest first) when empty.
    prune: Vec<String>,
    added: usize,
    modified: usize,
    deleted: usize,
}

/// DVC ignores `.git`, `.hg/` and `.dvc/` wherever they appear (its default ignore
/// patterns), so it never writes there; a committed DVC file naming such a path must not
/// make git-dvc write git's hooks or config, or DVC's config or cache.
fn refuse_internal_path(path: &str) -> Result<(), FailReason> {
    match path
        .split('/')
        .find(|part| matches!(*part, ".git" | ".hg" | ".dvc"))
    {
        Some(internal) => Err(FailReason::Other(format!(
            "'{path}' is inside {internal}, which DVC ignores and never writes: a DVC file may \
             not put data there; fix the output's path in its DVC file"
        ))),
        None => Ok(()),
    }
}

fn plan_output(
    project: &Path,
    cache: &LocalCache,
    state: &WorkTreeState,
    out: &WorkspaceOutput,
    manifest_limit: usize,
) -> Result<Plan, FailReason> {
    refuse_internal_path(&out.path)?;
    let hash = out.hash.clone().ok_or(FailReason::NoHash)?;
    let abs = scan::join(project, &out.path);
    check_ancestors(project, &out.path)?;
    let mut unavailable = None;
    let expected = match Expected::load(cache, &hash, out.isexec, manifest_limit) {
        Ok(e) => e,
        // The work tree is still read: what DVC would delete is refused when unsaved.
        Err(FailReason::Missing(m)) => {
            unavailable = Some(m);
            Expected::Dir {
                members: BTreeMap::new(),
                dirs: BTreeSet::new(),
            }
        }
        Err(e) => return Err(e),
    };
    let found = scan::scan(&abs, project)
        .map_err(|e| FailReason::Other(format!("cannot read {}: {e}", abs.display())))?;
    let (expected, found) = match &out.within {
        Some(parts) => narrow(expected, found, parts, &abs, &out.path)?,
        None => (expected, found),
    };
    let mut contents = HashMap::new();
    // What the state already knows.
    let recorded = state.outputs.get(&out.path);
    let mut note = |rel: &str, entry: &Entry| {
        let known = entry.metadata().and_then(|m| {
            let f = recorded?.files.get(rel)?;
            (f.stamp == Stamp::of(m)).then(|| ObjectId::parse(&f.oid).ok())?
        });
        if let Some(oid) = known {
            contents.insert(rel.to_string(), Some(oid));
        }
    };
    match &found {
        Found::Absent => {}
        Found::Leaf(entry) => note("", entry),
        Found::Dir { entries, .. } => {
            for (rel, entry) in entries {
                note(rel, entry);
            }
        }
    }
    Ok(Plan {
        path: out.path.clone(),
        within: out.within.clone(),
        abs,
        file: out.file.clone(),
        kind: hash.kind,
        expected,
        found,
        contents,
        deletes: Vec::new(),
        remove_root_dir: false,
        staging: None,
        aside: None,
        creates: Vec::new(),
        chmods: Vec::new(),
        missing: Vec::new(),
        at_risk: Vec::new(),
        unavailable,
        errors: Vec::new(),
        kept: Vec::new(),
        prune: Vec::new(),
        added: 0,
        modified: 0,
        deleted: 0,
    })
}

/// Whether `rel` (relative to a directory output) is one of `parts` or inside one.
fn is_within(parts: &BTreeSet<String>, rel: &str) -> bool {
    parts.iter().any(|p| {
        rel.strip_prefix(p.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// A directory output checked out in part (DVC's granular checkout of `data/a` or
/// `data/sub`): what should be and what is there, both cut down to `parts`, so that
/// nothing else of the directory is compared, deleted or replaced, even with `--force`.
fn narrow(
    expected: Expected,
    found: Found,
    parts: &BTreeSet<String>,
    abs: &Path,
    path: &str,
) -> Result<(Expected, Found), FailReason> {
    let expected = match expected {
        Expected::Dir {
            mut members,
            mut dirs,
        } => {
            members.retain(|rel, _| is_within(parts, rel));
            dirs.retain(|rel| is_within(parts, rel));
            Expected::Dir { members, dirs }
        }
        file => file,
    };
    let found = match found {
        Found::Absent => Found::Absent,
        // Replacing the file would touch more than the target (DVC crashes here).
        Found::Leaf(_) => {
            return Err(FailReason::Other(format!(
                "{} is a file where the directory output goes: check out '{path}' whole to \
                 replace it",
                abs.display()
            )))
        }
        Found::Dir {
            mut entries,
            mut dirs,
        } => {
            entries.retain(|rel, _| is_within(parts, rel));
            dirs.retain(|rel| is_within(parts, rel));
            Found::Dir { entries, dirs }
        }
    };
    Ok((expected, found))
}

/// Refuses an output below a symbolic link (or a file) inside the project: writing there
/// would land outside the output, perhaps outside the repository.
fn check_ancestors(project: &Path, rel: &str) -> Result<(), FailReason> {
    if dir_manifest::check_relpath(rel).is_err() {
        return Err(FailReason::Other(format!(
            "'{rel}' is not a path inside the project; git-dvc does not check it out"
        )));
    }
    let mut cur = project.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len() - 1] {
        cur.push(part);
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(FailReason::Other(format!(
                    "{} is a symbolic link: git-dvc never writes through one; replace it with a directory",
                    cur.display()
                )))
            }
            Ok(m) if !m.is_dir() => {
                return Err(FailReason::Other(format!(
                    "{} is a file where the output needs a directory: move it away",
                    cur.display()
                )))
            }
            Ok(_) => {}
            Err(_) => break, // made when needed
        }
    }
    Ok(())
}

/// Hashes, in parallel, every work-tree entry the state could not vouch for.
fn hash_unknown(project: &Path, cache: &LocalCache, plans: &mut [Plan]) {
    let mut todo: Vec<(usize, String, PathBuf)> = Vec::new();
    for (i, plan) in plans.iter().enumerate() {
        let mut want = |rel: &str| {
            if !plan.contents.contains_key(rel) {
                todo.push((i, rel.to_string(), scan::join(&plan.abs, rel)));
            }
        };
        match &plan.found {
            Found::Absent => {}
            Found::Leaf(_) => want(""),
            Found::Dir { entries, .. } => entries.keys().for_each(|rel| want(rel)),
        }
    }
    let results: Vec<(usize, String, Option<ObjectId>)> = todo
        .into_par_iter()
        .map(|(i, rel, path)| {
            let plan = &plans[i];
            let entry = match &plan.found {
                Found::Leaf(e) => e,
                Found::Dir { entries, .. } => &entries[&rel],
                Found::Absent => unreachable!("nothing to hash"),
            };
            // Unreadable content is unknown content: never deleted without --force.
            let oid = scan::content_of(&path, entry, plan.kind, cache, project)
                .ok()
                .flatten();
            (i, rel, oid)
        })
        .collect();
    for (i, rel, oid) in results {
        plans[i].contents.insert(rel, oid);
    }
}

/// The exec bit as DVC reads it from a work-tree file.
fn is_exec(meta: &fs::Metadata) -> bool {
    meta.permissions().mode() & 0o111 != 0
}

/// How a made file counts in DVC's summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Count {
    Added,
    Modified,
    /// `relink`: rewritten, not counted.
    Not,
}

impl Plan {
    fn content(&self, rel: &str) -> Option<ObjectId> {
        self.contents.get(rel).cloned().flatten()
    }

    /// Decides deletes, creates and chmods.
    fn diff(&mut self, cache: &LocalCache, relink: bool) {
        let found = std::mem::replace(&mut self.found, Found::Absent);
        let placeholder = Expected::Dir {
            members: BTreeMap::new(),
            dirs: BTreeSet::new(),
        };
        let expected = std::mem::replace(&mut self.expected, placeholder);
        if let Some(missing) = &self.unavailable {
            self.missing = missing.clone();
            self.at_risk = match &found {
                Found::Absent => Vec::new(),
                Found::Leaf(_) => vec![String::new()],
                Found::Dir { entries, .. } => entries.keys().cloned().collect(),
            };
            self.found = found;
            self.expected = expected;
            return;
        }
        match &found {
            Found::Absent => match &expected {
                Expected::File { oid, isexec } => {
                    let (oid, isexec) = (oid.clone(), *isexec);
                    self.create("", oid, isexec, Count::Added, cache);
                }
                Expected::Dir { members, .. } => {
                    for (rel, oid) in members
                        .iter()
                        .map(|(r, o)| (r.clone(), o.clone()))
                        .collect::<Vec<_>>()
                    {
                        self.create(&rel, oid, false, Count::Added, cache);
                    }
                }
            },
            Found::Leaf(entry) => match &expected {
                Expected::File { oid, isexec } => {
                    let (oid, isexec) = (oid.clone(), *isexec);
                    self.compare("", entry, &oid, isexec, relink, cache);
                }
                Expected::Dir { members, .. } => {
                    // A file where a directory goes: moved aside while the directory is
                    // made (and only if some member can be).
                    for (rel, oid) in members
                        .iter()
                        .map(|(r, o)| (r.clone(), o.clone()))
                        .collect::<Vec<_>>()
                    {
                        self.create(&rel, oid, false, Count::Added, cache);
                    }
                    if !self.creates.is_empty() {
                        self.delete("");
                    } else if !self.missing.is_empty() {
                        self.at_risk.push(String::new());
                    }
                }
            },
            Found::Dir { entries, dirs } => match &expected {
                Expected::File { oid, isexec } => {
                    // A directory where a file goes: the file is made beside it first;
                    // then the directory is emptied, removed and replaced.
                    let (oid, isexec) = (oid.clone(), *isexec);
                    if self.create("", oid, isexec, Count::Modified, cache) {
                        for rel in entries.keys() {
                            self.delete(rel);
                        }
                        self.prune = dirs.clone();
                        self.remove_root_dir = true;
                        self.staging = Some(beside(&self.abs));
                    } else {
                        self.at_risk.extend(entries.keys().cloned());
                    }
                }
                Expected::Dir {
                    members,
                    dirs: wanted,
                } => {
                    for (rel, entry) in entries {
                        match members.get(rel) {
                            Some(oid) => self.compare(rel, entry, oid, false, relink, cache),
                            None => {
                                self.delete(rel);
                                self.deleted += 1;
                            }
                        }
                    }
                    for (rel, oid) in members {
                        if !entries.contains_key(rel) {
                            self.create(rel, oid.clone(), false, Count::Added, cache);
                        }
                    }
                    // Directories no member needs: each counts as a deleted file in
                    // DVC's summary (its diff has an entry for each).
                    for d in dirs {
                        if !wanted.contains(d) {
                            self.deleted += 1;
                            self.prune.push(d.clone());
                        }
                    }
                }
            },
        }
        self.found = found;
        self.expected = expected;
    }

    /// The work tree has `entry` where `oid` should be.
    fn compare(
        &mut self,
        rel: &str,
        entry: &Entry,
        oid: &ObjectId,
        isexec: bool,
        relink: bool,
        cache: &LocalCache,
    ) {
        let have = self.content(rel);
        if have.as_ref() != Some(oid) {
            // Replaced by rename once the new file is made; left as it is when its object
            // is missing.
            if self.create(rel, oid.clone(), isexec, Count::Modified, cache) {
                self.replace(rel);
            } else {
                self.at_risk.push(rel.to_string());
            }
            return;
        }
        // `relink` makes the file again, only from an object the cache holds: an unchanged
        // file is never deleted for want of one.
        let cached = || {
            cache_presence::is_cached(
                cache,
                &DvcHash {
                    kind: self.kind,
                    oid: oid.clone(),
                },
            )
        };
        if relink && cached() && self.create(rel, oid.clone(), isexec, Count::Not, cache) {
            self.replace(rel);
            return;
        }
        let meta = entry.metadata().expect("a file or link with content");
        let exec_now = match entry {
            // A link's mode is its target's (the cache object's).
            Entry::Link(_) => fs::metadata(scan::join(&self.abs, rel)).is_ok_and(|m| is_exec(&m)),
            _ => is_exec(meta),
        };
        if exec_now != isexec {
            self.modified += 1;
            self.chmods.push((rel.to_string(), isexec));
            return;
        }
        self.kept
            .push((rel.to_string(), oid.clone(), Some(Stamp::of(meta))));
    }

    fn delete(&mut self, rel: &str) {
        self.deletes.push(Old {
            rel: rel.to_string(),
            replaced: false,
        });
    }

    /// `rel` is overwritten by the file made for it (the old content must be saved all
    /// the same, as for a delete).
    fn replace(&mut self, rel: &str) {
        self.deletes.push(Old {
            rel: rel.to_string(),
            replaced: true,
        });
    }

    /// Queues a file to make; false (and the object noted missing) when the cache lacks it.
    fn create(
        &mut self,
        rel: &str,
        oid: ObjectId,
        isexec: bool,
        count: Count,
        cache: &LocalCache,
    ) -> bool {
        let hash = DvcHash {
            kind: self.kind,
            oid: oid.clone(),
        };
        if !cache_presence::is_cached(cache, &hash) {
            self.missing.push(hash);
            return false;
        }
        match count {
            Count::Added => self.added += 1,
            Count::Modified => self.modified += 1,
            Count::Not => {}
        }
        self.creates.push(Create {
            rel: rel.to_string(),
            oid,
            isexec,
            failed: false,
        });
        true
    }

    /// Files that would be deleted or replaced although their content is not in the cache
    /// (and those DVC would delete for a missing object: see `at_risk`).
    fn unsaved(&self, cache: &LocalCache) -> Vec<PathBuf> {
        let deleted = self.deletes.iter().map(|old| old.rel.as_str());
        deleted
            .chain(self.at_risk.iter().map(String::as_str))
            .filter(|rel| match self.content(rel) {
                None => true,
                Some(oid) => !cache.has_object(&DvcHash {
                    kind: self.kind,
                    oid,
                }),
            })
            .map(|rel| scan::join(&self.abs, rel))
            .collect()
    }

    /// Removes what the new revision no longer has, before files are made. Files a new
    /// one replaces stay until the rename; a directory where a file goes stays until the
    /// file is made ([`Plan::settle`]); a file where a directory goes is moved aside.
    fn delete_old(&mut self) {
        if self.remove_root_dir {
            return;
        }
        if matches!(self.found, Found::Leaf(_)) && self.expected.is_dir() {
            if self.deletes.iter().any(|old| old.rel.is_empty()) {
                let aside = beside(&self.abs);
                match fs::rename(&self.abs, &aside) {
                    Ok(()) => self.aside = Some(aside),
                    Err(e) => {
                        self.errors.push(format!(
                            "cannot replace the file {} with a directory: {e}",
                            self.abs.display()
                        ));
                        for c in &mut self.creates {
                            c.failed = true;
                        }
                    }
                }
            }
            return;
        }
        for old in self.deletes.iter().filter(|old| !old.replaced) {
            let path = scan::join(&self.abs, &old.rel);
            if let Err(e) = remove_file(&path) {
                self.errors.push(e);
            }
        }
        // Deepest first; a directory still holding something (an ignored file) stays.
        let mut prune = self.prune.clone();
        prune.sort_by(|a, b| b.cmp(a));
        for d in prune {
            let _ = fs::remove_dir(scan::join(&self.abs, &d));
        }
    }

    /// Whether this output's own path gets a new file, and so a temporary one beside it.
    fn writes_own_path(&self) -> bool {
        self.remove_root_dir
            || (matches!(self.found, Found::Leaf(_)) && self.expected.is_dir())
            || self.creates.iter().any(|c| c.rel.is_empty())
            || self.chmods.iter().any(|(rel, _)| rel.is_empty())
    }

    /// Where the file at `rel` is made: its own path, or beside a directory it replaces.
    fn dest(&self, rel: &str) -> PathBuf {
        match (&self.staging, rel.is_empty()) {
            (Some(staging), true) => staging.clone(),
            _ => scan::join(&self.abs, rel),
        }
    }

    /// After the files are made: a directory where a file goes is replaced by the file now
    /// that it is made (left whole if not); a file moved aside for a directory is dropped
    /// if any file of the directory was made, and put back if none was.
    fn settle(&mut self) {
        if let Some(staging) = self.staging.take() {
            let made = self.creates.iter().any(|c| !c.failed);
            if !made {
                let _ = fs::remove_file(&staging);
                return;
            }
            let mut result = Ok(());
            for old in &self.deletes {
                if let Err(e) = remove_file(&scan::join(&self.abs, &old.rel)) {
                    result = Err(e);
                    break;
                }
            }
            if result.is_ok() {
                let mut prune = self.prune.clone();
                prune.sort_by(|a, b| b.cmp(a));
                for d in prune {
                    let _ = fs::remove_dir(scan::join(&self.abs, &d));
                }
                result = fs::remove_dir(&self.abs).map_err(|e| {
                    format!(
                        "cannot replace the directory {} with a file: {e} (it holds files .dvcignore hides?)",
                        self.abs.display()
                    )
                });
            }
            if result.is_ok() {
                result = fs::rename(&staging, &self.abs)
                    .map_err(|e| format!("cannot write {}: {e}", self.abs.display()));
            }
            if let Err(e) = result {
                let _ = fs::remove_file(&staging);
                self.errors.push(e);
                for c in &mut self.creates {
                    c.failed = true;
                }
            }
        }
        if let Some(aside) = self.aside.take() {
            if self.creates.iter().any(|c| !c.failed) {
                let _ = fs::remove_file(&aside);
                return;
            }
            // Not one member made: the directories made for them go, the file comes back.
            let mut dirs: Vec<&String> = match &self.expected {
                Expected::Dir { dirs, .. } => dirs.iter().collect(),
                Expected::File { .. } => Vec::new(),
            };
            dirs.sort_by(|a, b| b.cmp(a));
            for d in dirs {
                let _ = fs::remove_dir(scan::join(&self.abs, d));
            }
            let _ = fs::remove_dir(&self.abs);
            if let Err(e) = fs::rename(&aside, &self.abs) {
                self.errors.push(format!(
                    "cannot put {} back (it is at {}): {e}",
                    self.abs.display(),
                    aside.display()
                ));
            }
        }
    }

    /// Directories for the files to make (`0777 & ~umask`, as DVC's `makedirs`).
    fn make_dirs(&mut self) {
        let mut parents: BTreeSet<PathBuf> = BTreeSet::new();
        for c in &self.creates {
            if c.failed {
                continue;
            }
            if let Some(p) = scan::join(&self.abs, &c.rel).parent() {
                parents.insert(p.to_path_buf());
            }
        }
        for p in parents {
            if let Err(e) = fs::create_dir_all(&p) {
                self.errors
                    .push(format!("cannot create the directory {}: {e}", p.display()));
                for c in &mut self.creates {
                    if scan::join(&self.abs, &c.rel).starts_with(&p) {
                        c.failed = true;
                    }
                }
            }
        }
    }

    /// Sets or clears exec bits. A file that shares its inode with the cache (a hardlink)
    /// or is a link to it gets a private copy instead: the cache object keeps 0444.
    fn apply_chmods(&mut self, linker: &Linker, cache: &LocalCache) {
        for (rel, isexec) in std::mem::take(&mut self.chmods) {
            let path = scan::join(&self.abs, &rel);
            let shared = fs::symlink_metadata(&path)
                .map(|m| m.file_type().is_symlink() || m.nlink() > 1)
                .unwrap_or(false);
            let result = if shared {
                let oid = self.content(&rel).expect("compared equal");
                let object = cache.object_path(&DvcHash {
                    kind: self.kind,
                    oid,
                });
                linker
                    .make_copy(&object, &path, isexec)
                    .map_err(|e| e.to_string())
            } else {
                fs::set_permissions(&path, fs::Permissions::from_mode(linker.copy_mode(isexec)))
                    .map_err(|e| format!("cannot change the mode of {}: {e}", path.display()))
            };
            match result {
                Ok(()) => {
                    let oid = self.content(&rel).expect("compared equal");
                    self.kept.push((rel, oid, None));
                }
                Err(e) => self.errors.push(e),
            }
        }
    }

    fn changed(&self) -> bool {
        self.added + self.modified + self.deleted > 0
            || !self.deletes.is_empty()
            || self.creates.iter().any(|c| !c.failed)
    }

    fn status(&self) -> Option<ChangeKind> {
        if !self.changed() {
            return None;
        }
        Some(match self.found {
            Found::Absent => ChangeKind::Added,
            _ => ChangeKind::Modified,
        })
    }

    /// What the output holds now, for the state.
    fn record(&self) -> OutputState {
        let mut files = BTreeMap::new();
        let stamp_now = |rel: &str| {
            fs::symlink_metadata(scan::join(&self.abs, rel))
                .ok()
                .map(|m| Stamp::of(&m))
        };
        for (rel, oid, stamp) in &self.kept {
            if let Some(stamp) = stamp.or_else(|| stamp_now(rel)) {
                files.insert(
                    rel.clone(),
                    FileState {
                        stamp,
                        oid: oid.to_string(),
                    },
                );
            }
        }
        for c in self.creates.iter().filter(|c| !c.failed) {
            if let Some(stamp) = stamp_now(&c.rel) {
                files.insert(
                    c.rel.clone(),
                    FileState {
                        stamp,
                        oid: c.oid.to_string(),
                    },
                );
            }
        }
        OutputState {
            file: self.file.clone(),
            legacy: self.kind == HashKind::Md5Dos2Unix,
            files,
        }
    }

    fn failure(&self) -> Option<FailReason> {
        if !self.missing.is_empty() {
            return Some(FailReason::Missing(self.missing.clone()));
        }
        if let Some(first) = self.errors.first() {
            // One cause is enough to act on; a directory may repeat it for every file.
            let more = match self.errors.len() - 1 {
                0 => String::new(),
                1 => " (and 1 more file)".to_string(),
                n => format!(" (and {n} more files)"),
            };
            return Some(FailReason::Other(format!("{first}{more}")));
        }
        None
    }
}

/// A temporary name in the directory of `path` (git-dvc's pattern, so that a killed run's
/// leftover is recognised and removed by the next).
fn beside(path: &Path) -> PathBuf {
    path.with_file_name(crate::temp_files::temp_name())
}

fn remove_file(path: &Path) -> Result<(), String> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove {}: {e}", path.display())),
    }
}

/// Recorded outputs no longer declared, that `cleanup` covers: `(path, removable)`, where
/// removable means every file is still exactly as git-dvc left it, its content is in the
/// cache, and a directory holds nothing else.
fn former_outputs(
    project: &Path,
    cache: &LocalCache,
    state: &WorkTreeState,
    current: &BTreeSet<&str>,
    cleanup: &Cleanup,
) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (path, rec) in &state.outputs {
        if current.contains(path.as_str()) {
            continue;
        }
        let covered = match cleanup {
            Cleanup::None => false,
            Cleanup::AllFormer => true,
            Cleanup::FromFiles(files) => files.contains(&rec.file),
        };
        if covered {
            out.push((path.clone(), removable(project, cache, path, rec)));
        }
    }
    out
}

fn removable(project: &Path, cache: &LocalCache, path: &str, rec: &OutputState) -> bool {
    if rec.files.is_empty()
        || refuse_internal_path(path).is_err()
        || check_ancestors(project, path).is_err()
    {
        return false;
    }
    let abs = scan::join(project, path);
    let kind = if rec.legacy {
        HashKind::Md5Dos2Unix
    } else {
        HashKind::Md5
    };
    let is_dir = !rec.files.contains_key("");
    for (rel, f) in &rec.files {
        if !rel.is_empty() && dir_manifest::check_relpath(rel).is_err() {
            return false;
        }
        let same = fs::symlink_metadata(scan::join(&abs, rel))
            .is_ok_and(|m| !m.is_dir() && Stamp::of(&m) == f.stamp);
        let saved =
            ObjectId::parse(&f.oid).is_ok_and(|oid| cache.has_object(&DvcHash { kind, oid }));
        if !same || !saved {
            return false;
        }
    }
    if is_dir {
        // Anything else in it (a file added since) keeps it.
        match scan::scan(&abs, project) {
            Ok(Found::Dir { entries, .. }) => entries.keys().all(|k| rec.files.contains_key(k)),
            _ => false,
        }
    } else {
        true
    }
}

/// Removes a former output's files and the directories they leave empty.
fn remove_former(project: &Path, path: &str, rec: &OutputState) -> bool {
    let abs = scan::join(project, path);
    for rel in rec.files.keys() {
        if fs::remove_file(scan::join(&abs, rel)).is_err() {
            return false;
        }
    }
    if !rec.files.contains_key("") {
        if let Ok(Found::Dir { mut dirs, .. }) = scan::scan(&abs, project) {
            dirs.sort_by(|a, b| b.cmp(a));
            for d in dirs {
                let _ = fs::remove_dir(scan::join(&abs, &d));
            }
        }
        let _ = fs::remove_dir(&abs);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::is_within;
    use std::collections::BTreeSet;

    #[test]
    fn a_part_holds_itself_and_what_is_below_it_only() {
        let parts: BTreeSet<String> = ["a".to_string(), "sub/x".to_string()].into();
        for inside in ["a", "a/b", "sub/x", "sub/x/y/z"] {
            assert!(is_within(&parts, inside), "{inside}");
        }
        for outside in ["", "ab", "a.txt", "sub", "sub/xy", "sub/x.bin", "b/a"] {
            assert!(!is_within(&parts, outside), "{outside}");
        }
    }
}
