//! From snapshots to per-destination object sets.
//!
//! 1. Every distinct DVC file (a `.dvc` blob, or a `dvc.yaml` + `dvc.lock` pair) reachable
//!    from any snapshot is parsed once, in parallel.
//! 2. A snapshot holding a file DVC rejects, or an output pinned (`remote:`) to a remote
//!    defined nowhere, is skipped with a warning, as DVC skips it; if it is the only
//!    snapshot, that is an error.
//! 3. Snapshots sharing a config are walked together, each distinct tree node once, and each
//!    pushable output's hash lands in the set of the remote it goes to.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use rayon::prelude::*;

use super::glob_targets::GlobBase;
use super::parsed_cache::{self, ParsedCache};
use super::pipeline_inputs::{PipelineResolver, PipelineUnit, Place};
use super::snapshot::{BlobSource, ConfigKey, Snapshot};
use super::targets::{TargetError, Targets};
use super::{DestinationObjects, Provenance};
use crate::dvc::cache::LocalCache;
use crate::dvc::config::{ConfigError, DvcConfig, RemoteConfig};
use crate::dvc::output::DvcOutput;
use crate::dvc::{dvcfile, pipeline, stage_deps};
use crate::error::Error;
use crate::git::tree_scan::{DvcTree, PipelineFiles};
use crate::git::GitOid;

/// A DVC file as a tree holds it: blob ids only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Declared {
    DvcFile(GitOid),
    Pipeline(PipelineFiles),
    Link(GitOid),
}

/// One DVC file as the parser sees it, independent of where it sits: a pipeline with the
/// vars files its templating read in its snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unit {
    DvcFile(GitOid),
    Pipeline(PipelineUnit),
    /// A DVC file name that is a symbolic link (the blob holds its target): never followed,
    /// so it always fails to parse and its revision to collect.
    Link(GitOid),
}

#[derive(Debug)]
pub struct ParsedUnit {
    pub outputs: Vec<DvcOutput>,
    /// `dvc import` from a git repository: never pushed.
    pub is_repo_import: bool,
    /// `(stage, dependency path)` for pipelines, for `-d/--with-deps`.
    pub deps: Vec<(String, String)>,
}

/// A unit as found in a walk: where it is and what it parsed to.
pub struct FoundUnit<'a> {
    /// Repository-relative directory of the declaring file (`""` at the root).
    pub dir: String,
    /// Repository-relative path of the declaring file (`x.dvc`, `sub/dvc.yaml`).
    pub file: String,
    pub unit: Unit,
    pub parsed: &'a ParsedUnit,
}

/// Which way the data goes: it decides which outputs count. `push: false` outputs stay
/// off remotes but are fetched; repo imports (`dvc import`) come from their source
/// repository, never a DVC remote, so neither direction takes them here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Direction {
    /// Cache to storage: push, status, check, the hooks.
    #[default]
    Up,
    /// Storage to cache: fetch. An output with no remote to come from is skipped (DVC
    /// says `No remote provided and no default remote set.`), not an error.
    Down,
    /// Cache to work tree only (checkout): no output is routed to a remote, so remote
    /// settings are never read; the work tree's outputs are kept
    /// ([`Collected::workspace_outputs`]).
    Workspace,
}

#[derive(Default)]
pub struct CollectOptions<'a> {
    pub direction: Direction,
    /// `-r`: the remote for outputs without `remote:`, and a filter on those with one.
    pub remote_override: Option<String>,
    /// Replaces `core.remote` only (outputs' own `remote:` still honoured): the hook's
    /// per-git-remote setting.
    pub default_remote: Option<String>,
    /// The user's own configuration (the work tree's `.dvc/config` with `config.local`,
    /// global and system levels). It serves revisions whose committed config lacks the
    /// remote an output needs (no default, or not the named one); DVC skips such revisions'
    /// data instead. Unless `committed_remotes` says otherwise, it is also the only source
    /// of remote locations: see [`CommittedRemotes`].
    pub fallback_config: Option<Arc<DvcConfig>>,
    /// What a revision's committed `.dvc/config` may say about where a remote is.
    pub committed_remotes: CommittedRemotes,
    /// For nested projects (`ConfigKey::Nested`), the user's own configuration of each
    /// (by directory): what `fallback_config` is for the outer project.
    pub nested_configured: HashMap<String, Arc<DvcConfig>>,
    pub targets: Option<&'a Targets>,
    /// The local cache: `--glob` patterns look into committed directory outputs through
    /// their `.dir` manifests there.
    pub cache: Option<&'a LocalCache>,
    /// What a revision that cannot be collected does to the command.
    pub failed_revisions: FailedRevisions,
    /// Keep the selected outputs of the work-tree snapshot ([`Collected::workspace_outputs`]):
    /// checkout and pull put their data in place.
    pub keep_workspace_outputs: bool,
    /// Keep the selected outputs of committed snapshots in the same list, as the work tree
    /// would hold them (a collection of committed revisions only): the checkout hooks ask
    /// what the commit they moved from declared.
    pub keep_committed_outputs: bool,
    /// The git directory whose kept `.dvc` parses ([`super::parsed_cache`]) this run may
    /// use and add to: the client commands that cover many revisions, never a check.
    pub parsed_cache_in: Option<std::path::PathBuf>,
}

/// What a revision that cannot be collected (a DVC file DVC rejects, an output pinned to a
/// remote defined nowhere, or a target it lacks) does to the command, as in DVC: its push
/// skips the revision, its status stops.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FailedRevisions {
    /// Skipped with DVC's `failed to collect '<rev>', skipping` warning (and a line saying
    /// why); when every revision fails, the last failure is the error, after the warnings.
    #[default]
    Skip,
    /// The first one stops the command: `Failed to collect '<rev>': <why>`.
    Abort,
}

/// Whose word counts for a remote's location when a commit's `.dvc/config` defines it.
///
/// A commit can come from anyone (a merged branch, a fetched pull request), and DVC's
/// push sends each revision's data, with the credentials of `config.local` and the
/// environment, wherever that revision's committed config points. git-dvc does not: data
/// and credentials go only to locations the user's own configuration names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CommittedRemotes {
    /// A committed definition must agree with the user's configuration on everything but
    /// tuning options (`jobs`, timeouts); the user's definition is then used. A remote the
    /// user's configuration lacks, or defines elsewhere, stops the command.
    #[default]
    MustMatchConfigured,
    /// git config `dvc.trustCommittedRemotes`: each revision's committed config is used as
    /// DVC uses it.
    AsCommitted,
}

/// git config: let each commit's `.dvc/config` choose where its data goes, as DVC does.
pub const TRUST_COMMITTED_REMOTES_KEY: &str = "dvc.trustCommittedRemotes";

/// The policy git config `dvc.trustCommittedRemotes` selects (default: must match).
pub fn committed_remotes_policy(repo: &gix::Repository) -> CommittedRemotes {
    match repo
        .config_snapshot()
        .boolean(TRUST_COMMITTED_REMOTES_KEY)
        .unwrap_or(false)
    {
        true => CommittedRemotes::AsCommitted,
        false => CommittedRemotes::MustMatchConfigured,
    }
}

/// Remote options that tune a transfer without changing where data goes or who signs it:
/// a commit may differ from the user's configuration in these.
const TUNING_OPTIONS: &[&str] = &[
    "jobs",
    "timeout",
    "read_timeout",
    "connect_timeout",
    "connection_timeout",
    "max_sessions",
    "verify",
];

/// Whether two definitions of a remote point at the same place with the same identity.
fn same_location(a: &RemoteConfig, b: &RemoteConfig) -> bool {
    let significant = |r: &RemoteConfig| {
        r.options
            .iter()
            .filter(|(k, _)| !TUNING_OPTIONS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect::<Vec<_>>()
    };
    a.url == b.url && significant(a) == significant(b)
}

pub struct Collected {
    pub destinations: Vec<DestinationObjects>,
    pub warnings: Vec<String>,
    /// Every output had its own `remote:` and there is no default: DVC warns about that.
    pub used_no_default: bool,
    /// Labels of the snapshots that were used.
    pub snapshots_used: usize,
    /// Outputs of `dvc import` stages left out (their data lives in another repository).
    pub repo_imports: usize,
    /// With [`CollectOptions::keep_workspace_outputs`]: the work tree's selected cached
    /// outputs (`cache: false` ones are git's), in DVC file order.
    pub workspace_outputs: Vec<WorkspaceOutput>,
}

/// One output of the work tree's DVC files, as checkout needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceOutput {
    /// Path relative to the project directory, `/`-separated, inside the project.
    pub path: String,
    /// `None`: a stage never run (DVC: "No file hash info found").
    pub hash: Option<crate::dvc::hash::DvcHash>,
    pub isexec: bool,
    /// The declaring DVC file (`data.dvc`, `sub/dvc.yaml`), relative to the project.
    pub file: String,
    /// A `dvc import` from another repository: git-dvc never fetches its data.
    pub repo_import: bool,
    /// A directory output that targets named only paths inside of (`data/a`,
    /// `data/sub`): those paths, relative to the output; checkout touches nothing else of
    /// it, as DVC's granular checkout. `None`: the whole output.
    pub within: Option<std::collections::BTreeSet<String>>,
}

pub fn collect(
    snapshots: &[Snapshot],
    blobs: &BlobSource,
    options: &CollectOptions<'_>,
    repo_root: &std::path::Path,
) -> Result<Collected, Error> {
    // 1. Distinct units, with where each was first seen (for messages).
    let mut first_seen: HashMap<Unit, (String, String)> = HashMap::new();
    let mut seen_nodes: HashSet<*const DvcTree> = HashSet::new();
    let mut resolver = PipelineResolver::new(blobs);
    for snap in snapshots {
        if let Some(root) = &snap.root {
            let place = place_of(snap, blobs);
            visit_units(
                root,
                place,
                &mut resolver,
                &mut seen_nodes,
                &mut |_, file, unit| {
                    first_seen
                        .entry(unit)
                        .or_insert_with(|| (file.to_string(), snap.label.clone()));
                },
            );
        }
    }
    // By path: the versions of one file are deltas of each other in git's pack, so read
    // together they share the delta bases the object store keeps.
    let mut units: Vec<(&String, &Unit)> = first_seen.iter().map(|(u, (p, _))| (p, u)).collect();
    units.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let units: Vec<Unit> = units.into_iter().map(|(_, u)| u.clone()).collect();
    let dvc_files = units
        .iter()
        .filter(|u| matches!(u, Unit::DvcFile(_)))
        .count();
    let mut kept = options
        .parsed_cache_in
        .as_deref()
        .filter(|_| dvc_files >= parsed_cache::WORTH_IT)
        .map(|git_dir| ParsedCache::load(git_dir, blobs.git().limits().dvc_file));
    let from_kept = |unit: &Unit| match (unit, &kept) {
        (Unit::DvcFile(oid), Some(kept)) => kept.get(oid).map(|k| ParsedUnit {
            outputs: k.outputs.clone(),
            is_repo_import: k.is_repo_import,
            deps: Vec::new(),
        }),
        _ => None,
    };
    // One handle per batch, so its cache of delta bases serves the batch.
    let parsed: Vec<(Unit, Result<ParsedUnit, String>, bool)> = units
        .par_chunks(PARSE_BATCH)
        .flat_map_iter(|batch| {
            let repo = blobs.git().local();
            batch
                .iter()
                .map(|unit| match from_kept(unit) {
                    Some(p) => (unit.clone(), Ok(p), true),
                    None => (unit.clone(), parse_unit(&repo, blobs, unit), false),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    if let Some(mut cache) = kept.take() {
        for (unit, result, was_kept) in &parsed {
            if let (Unit::DvcFile(oid), Ok(p), false) = (unit, result, was_kept) {
                cache.insert(
                    *oid,
                    parsed_cache::Kept {
                        outputs: p.outputs.clone(),
                        is_repo_import: p.is_repo_import,
                    },
                );
            }
        }
        cache.save();
    }
    let parsed: HashMap<Unit, Result<ParsedUnit, String>> =
        parsed.into_iter().map(|(u, r, _)| (u, r)).collect();

    // 2. Snapshots DVC cannot collect are skipped, as DVC's push skips them, or stop the
    //    command, as DVC's status does.
    let mut warnings = Vec::new();
    let mut usable: Vec<&Snapshot> = Vec::new();
    let mut last_error = None;
    // Whether every failure so far is a `--glob` that matched nothing.
    let mut only_unmatched_globs = true;
    let sound = SoundUnits::of(&parsed);
    for snap in snapshots {
        // Without targets, a snapshot can only fail on a unit that does not parse or pins
        // a remote its config lacks: when no unit anywhere can, its walk is skipped.
        let cannot_fail = options.targets.is_none() && sound.hold_for(snap, options);
        let failure = match cannot_fail {
            true => None,
            false => snapshot_failure(snap, blobs, &mut resolver, &parsed, options),
        };
        let Some((line, error)) = failure else {
            usable.push(snap);
            continue;
        };
        if options.failed_revisions == FailedRevisions::Abort {
            return Err(Error::RevisionNotCollected {
                revision: snap.label.clone(),
                reason: line,
            });
        }
        warnings.push(format!(
            "failed to collect '{}', skipping\n  {line}",
            snap.label
        ));
        only_unmatched_globs &= matches!(error, Error::Target(TargetError::NoGlobMatches(_)));
        last_error = Some(error);
    }
    if usable.is_empty() {
        if let Some(last) = last_error {
            // DVC expands `--glob` patterns once, before it visits any revision: when they
            // match nothing, its error comes alone, without `failed to collect` warnings.
            if only_unmatched_globs {
                return Err(last);
            }
            // The last revision's reason is the error: said once.
            if let Some(w) = warnings.last_mut() {
                w.truncate(w.find('\n').unwrap_or(w.len()));
            }
            return Err(Error::NoRevisionCollected {
                warnings,
                last: Box::new(last),
            });
        }
    }

    // 3. Group by config, walk, route outputs to remotes.
    let mut groups: Vec<(ConfigKey, Arc<DvcConfig>, Vec<&Snapshot>)> = Vec::new();
    for snap in &usable {
        match groups.iter_mut().find(|g| g.0 == snap.config_key) {
            Some(g) => g.2.push(snap),
            None => groups.push((snap.config_key.clone(), snap.config.clone(), vec![snap])),
        }
    }
    let mut target_error = None;
    let mut groups_selected = 0usize;
    let mut router = Router::new(
        options.remote_override.clone(),
        options.default_remote.clone(),
        options.fallback_config.clone(),
        options.committed_remotes,
        repo_root,
    );
    router.skip_unrouted = options.direction == Direction::Down;
    let mut repo_imports = 0usize;
    let mut workspace_outputs = Vec::new();
    for (key, config, snaps) in &groups {
        // A committed config: a revision that holds it (for messages), and the user's own
        // configuration its remote definitions must agree with.
        let empty = DvcConfig::default();
        let committed = match key {
            ConfigKey::Committed(_) => snaps
                .first()
                .zip(options.fallback_config.as_deref())
                .map(|(s, configured)| (s.label.as_str(), configured)),
            ConfigKey::Nested(dir, _) => snaps.first().map(|s| {
                let configured = options
                    .nested_configured
                    .get(dir)
                    .map_or(&empty, |c| c.as_ref());
                (s.label.as_str(), configured)
            }),
            _ => None,
        };
        // Snapshots share a key only within one project, so one prefix per group.
        let prefix = snaps.first().map(|s| s.prefix.as_str()).unwrap_or_default();
        let mut found: Vec<FoundUnit> = Vec::new();
        let mut seen: HashSet<*const DvcTree> = HashSet::new();
        // A `.dvc` file met again in the same directory (an unchanged file beside a changed
        // one in a new version of its tree) routes exactly as the first time: without
        // targets, which select by position, it is routed once.
        let mut routed: HashMap<GitOid, Vec<String>> = HashMap::new();
        for snap in snaps {
            if let Some(root) = &snap.root {
                let place = place_of(snap, blobs);
                visit_units(
                    root,
                    place,
                    &mut resolver,
                    &mut seen,
                    &mut |dir, file, unit| {
                        if let (Unit::DvcFile(oid), None) = (&unit, options.targets) {
                            let dirs = routed.entry(*oid).or_default();
                            if dirs.iter().any(|d| d == dir) {
                                return;
                            }
                            dirs.push(dir.to_string());
                        }
                        if let Some(Ok(p)) = parsed.get(&unit) {
                            let p: &ParsedUnit = p;
                            found.push(FoundUnit {
                                dir: dir.to_string(),
                                file: file.to_string(),
                                unit,
                                parsed: p,
                            });
                        }
                    },
                );
            }
        }
        // Every usable snapshot has each target (see `snapshot_failure`); their union may
        // still fail to select (`-d`), which is an error when no group selects (below).
        // DVC globs the work tree; a committed revision, what it tracks.
        let glob_base = match blobs.work_dir() {
            Some(dir) if snaps.iter().all(|s| s.commit.is_none()) => GlobBase::WorkTree(dir),
            _ => GlobBase::Tracked {
                cache: options.cache,
                max_manifest: blobs.git().limits().manifest,
            },
        };
        let selection = match options.targets {
            Some(t) => match t.select(&found, glob_base) {
                Ok(sel) => Some(sel),
                Err(e) => {
                    target_error = Some(e);
                    continue;
                }
            },
            None => None,
        };
        groups_selected += 1;
        // The work tree's own group (its config is the files on disk, no other snapshot's).
        let keep = (options.keep_workspace_outputs
            && matches!(key, ConfigKey::Files)
            && snaps.iter().all(|s| s.commit.is_none()))
            || (options.keep_committed_outputs && snaps.iter().all(|s| s.commit.is_some()));
        for (i, unit) in found.iter().enumerate() {
            if keep {
                for (j, out) in unit.parsed.outputs.iter().enumerate() {
                    let selected = selection
                        .as_ref()
                        .is_none_or(|sel| sel.outputs.contains(&(i, j)));
                    let path = repo_path(&unit.dir, &out.path);
                    if let (true, true, Some(path)) = (selected, out.cache, path) {
                        workspace_outputs.push(WorkspaceOutput {
                            path: join(prefix, &path),
                            hash: out.hash.clone(),
                            isexec: out.isexec,
                            file: join(prefix, &unit.file),
                            repo_import: unit.parsed.is_repo_import,
                            within: selection
                                .as_ref()
                                .and_then(|sel| sel.within.get(&(i, j)).cloned()),
                        });
                    }
                }
            }
            if unit.parsed.is_repo_import {
                if options.direction == Direction::Down {
                    repo_imports += unit.parsed.outputs.len();
                }
                continue;
            }
            for (j, out) in unit.parsed.outputs.iter().enumerate() {
                if let Some(sel) = &selection {
                    if !sel.outputs.contains(&(i, j)) {
                        continue;
                    }
                }
                let wanted = match options.direction {
                    Direction::Up => out.is_pushable(),
                    Direction::Down => out.is_fetchable(),
                    Direction::Workspace => false,
                };
                if !wanted {
                    continue;
                }
                let Some(path) = repo_path(&unit.dir, &out.path) else {
                    continue; // outside the repository: DVC never pushes external outputs
                };
                let path = join(prefix, &path);
                let revision = first_seen
                    .get(&unit.unit)
                    .map(|(_, label)| label.clone())
                    .unwrap_or_default();
                router.route(config, committed, out, Provenance { path, revision })?;
            }
        }
    }
    if groups_selected == 0 {
        if let Some(e) = target_error {
            return Err(e);
        }
    }
    let used_no_default = router.used_no_default;
    Ok(Collected {
        destinations: router.finish(),
        warnings,
        used_no_default,
        snapshots_used: usable.len(),
        repo_imports,
        workspace_outputs,
    })
}

/// DVC files parsed with one object handle.
const PARSE_BATCH: usize = 256;

/// Visits each node of a DAG once, depth first, reporting its DVC files with their paths.
/// A node holding a `dvc.yaml` (or one below) is visited again when seen already: its
/// pipeline's meaning may depend on files outside the node (`../params.yaml`).
pub fn visit(
    node: &Arc<DvcTree>,
    dir: &str,
    seen: &mut HashSet<*const DvcTree>,
    f: &mut dyn FnMut(&str, &str, Declared),
) {
    let first = seen.insert(Arc::as_ptr(node));
    if !first && !node.pipelines_below {
        return;
    }
    let join = |name: &str| {
        if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        }
    };
    if first {
        for (name, blob) in &node.dvc_files {
            f(dir, &join(name), Declared::DvcFile(*blob));
        }
        for (name, blob) in &node.links {
            f(dir, &join(name), Declared::Link(*blob));
        }
    }
    if let Some(p) = node.pipeline {
        f(dir, &join("dvc.yaml"), Declared::Pipeline(p));
    }
    for (name, child) in &node.children {
        visit(child, &join(name), seen, f);
    }
}

/// [`visit`] from a snapshot's root, with each pipeline resolved against the vars files of
/// `place` (the snapshot's tree or work tree).
pub fn visit_units(
    root: &Arc<DvcTree>,
    place: Place<'_>,
    resolver: &mut PipelineResolver<'_>,
    seen: &mut HashSet<*const DvcTree>,
    f: &mut dyn FnMut(&str, &str, Unit),
) {
    visit(root, "", seen, &mut |dir, file, declared| {
        let unit = match declared {
            Declared::DvcFile(oid) => Unit::DvcFile(oid),
            Declared::Link(oid) => Unit::Link(oid),
            Declared::Pipeline(p) => Unit::Pipeline(resolver.unit(place, dir, p)),
        };
        f(dir, file, unit)
    });
}

/// Where a snapshot's vars files are read.
fn place_of<'b>(snap: &Snapshot, blobs: &'b BlobSource) -> Place<'b> {
    match (snap.tree, blobs.work_dir()) {
        (Some(tree), _) => Place::Commit(tree),
        (None, Some(dir)) => Place::Workspace(dir),
        // A workspace snapshot always has a work tree; an empty tree reads nothing.
        (None, None) => Place::Commit(GitOid::empty_tree(gix::hash::Kind::Sha1)),
    }
}

/// A DVC file's bytes, refused over git config `dvc.maxFileSize`.
pub fn read_capped(
    repo: &gix::Repository,
    blobs: &BlobSource,
    oid: &GitOid,
) -> Result<Arc<Vec<u8>>, String> {
    let bytes = blobs.read(repo, oid).map_err(|e| e.to_string())?;
    let limit = blobs.git().limits().dvc_file;
    if bytes.len() > limit {
        return Err(format!(
            "file is {} bytes, over the {limit}-byte limit for DVC files (git config dvc.maxFileSize)",
            bytes.len()
        ));
    }
    Ok(bytes)
}

fn parse_unit(
    repo: &gix::Repository,
    blobs: &BlobSource,
    unit: &Unit,
) -> Result<ParsedUnit, String> {
    let read = |oid: &GitOid| read_capped(repo, blobs, oid);
    match unit {
        Unit::DvcFile(oid) => {
            let bytes = read(oid)?;
            let limit = blobs.git().limits().dvc_file;
            let file = dvcfile::parse_dvc_file(&bytes, limit).map_err(|e| e.to_string())?;
            Ok(ParsedUnit {
                outputs: file.outputs,
                is_repo_import: file.is_repo_import || file.is_versioned_import,
                deps: Vec::new(),
            })
        }
        Unit::Pipeline(p) => {
            let stages = p.resolved.as_ref().as_ref().map_err(Clone::clone)?;
            let yaml = read(&p.files.dvc_yaml)?;
            let lock = match &p.files.dvc_lock {
                Some(l) => Some(read(l)?),
                None => None,
            };
            let lock = lock.as_deref().map(|v| v.as_slice());
            let limit = blobs.git().limits().dvc_file;
            let outputs =
                pipeline::pair_with_lock(stages, lock, limit).map_err(|e| e.to_string())?;
            Ok(ParsedUnit {
                outputs,
                is_repo_import: false,
                deps: stage_deps::stage_deps(&yaml, lock),
            })
        }
        Unit::Link(oid) => Err(link_error(&read(oid)?)),
    }
}

/// Why a DVC file committed as a symbolic link is refused. DVC would follow the link in a
/// checkout; git-dvc does not (see `git::tree_scan`), so the revision cannot be checked.
pub fn link_error(target: &[u8]) -> String {
    let target: String = String::from_utf8_lossy(target).chars().take(200).collect();
    format!(
        "is a symbolic link (to '{target}'); git-dvc does not follow links to DVC files, so it \
         cannot check this revision: commit the file itself instead of a link"
    )
}

/// Why DVC cannot collect a revision.
#[derive(Debug, Clone)]
enum CollectFailure {
    /// A DVC file that does not parse, and why.
    Unreadable(String),
    /// An output pinned to a remote no configuration defines: DVC resolves every cached
    /// output's remote while it builds a revision's index (`_load_storage_from_out`), so
    /// this fails the revision whatever the targets, `-r` or the output's `push:` say.
    RemoteNotFound(String),
}

impl std::fmt::Display for CollectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CollectFailure::Unreadable(message) => f.write_str(message),
            CollectFailure::RemoteNotFound(name) => {
                write!(f, "{}", ConfigError::RemoteNotFound(name.clone()))
            }
        }
    }
}

/// Whether the remote `name` is defined for `snap`: by its own config, or by the user's
/// configuration the router falls back on (see [`Router::route`]).
fn remote_defined(name: &str, snap: &Snapshot, options: &CollectOptions<'_>) -> bool {
    let defines = |c: &DvcConfig| c.remote_names().contains(&name);
    let nested = match &snap.config_key {
        ConfigKey::Nested(dir, _) => options.nested_configured.get(dir),
        _ => None,
    };
    defines(&snap.config)
        || nested.is_some_and(|c| defines(c))
        || options.fallback_config.as_deref().is_some_and(defines)
}

/// What every parsed unit together may make a snapshot fail on (see [`snapshot_failure`]).
struct SoundUnits {
    /// Some unit does not parse.
    unreadable: bool,
    /// The remotes cached outputs are pinned to (`remote:`), each once.
    pinned: HashSet<String>,
}

impl SoundUnits {
    fn of(parsed: &HashMap<Unit, Result<ParsedUnit, String>>) -> SoundUnits {
        let mut sound = SoundUnits {
            unreadable: false,
            pinned: HashSet::new(),
        };
        for unit in parsed.values() {
            match unit {
                Err(_) => sound.unreadable = true,
                Ok(p) => {
                    for out in p.outputs.iter().filter(|o| o.cache) {
                        if let Some(remote) = &out.remote {
                            if !sound.pinned.contains(remote) {
                                sound.pinned.insert(remote.clone());
                            }
                        }
                    }
                }
            }
        }
        sound
    }

    /// Whether nothing can fail `snap`: its config passes DVC's schema, every unit parses
    /// and every pinned remote is defined for it. (A superset of the snapshot's own pins is checked, so a `false`
    /// only means its walk must tell.)
    fn hold_for(&self, snap: &Snapshot, options: &CollectOptions<'_>) -> bool {
        // A config DVC's schema refuses fails the snapshot whatever its units.
        !self.unreadable
            && snap.config.check_schema().is_ok()
            && self
                .pinned
                .iter()
                .all(|name| remote_defined(name, snap, options))
    }
}

/// Why DVC cannot collect a snapshot: the line saying so, and the error when it is the
/// last revision. Its first file that does not parse or pins an output to a remote defined
/// nowhere (`path@revision: reason`, and for the remote DVC's own words as the error), else
/// the first target it lacks.
fn snapshot_failure(
    snap: &Snapshot,
    blobs: &BlobSource,
    resolver: &mut PipelineResolver<'_>,
    parsed: &HashMap<Unit, Result<ParsedUnit, String>>,
    options: &CollectOptions<'_>,
) -> Option<(String, Error)> {
    // DVC reads a revision's config before its DVC files: one its schema rejects fails
    // the revision, in DVC's words (`config file error: …`).
    if let Err(e) = snap.config.check_schema() {
        return Some((e.to_string(), e.into()));
    }
    let mut failure: Option<(String, CollectFailure)> = None;
    // Only a command with targets needs the snapshot's own units.
    let mut found: Vec<FoundUnit> = Vec::new();
    if let Some(root) = &snap.root {
        let mut seen = HashSet::new();
        let place = place_of(snap, blobs);
        visit_units(root, place, resolver, &mut seen, &mut |dir, file, unit| {
            if failure.is_some() {
                return;
            }
            let why = match parsed.get(&unit) {
                Some(Err(message)) => Some(CollectFailure::Unreadable(message.clone())),
                Some(Ok(p)) => {
                    let undefined = p
                        .outputs
                        .iter()
                        .filter(|out| out.cache && repo_path(dir, &out.path).is_some())
                        .find_map(|out| {
                            out.remote
                                .clone()
                                .filter(|r| !remote_defined(r, snap, options))
                        });
                    if undefined.is_none() && options.targets.is_some() {
                        found.push(FoundUnit {
                            dir: dir.to_string(),
                            file: file.to_string(),
                            unit,
                            parsed: p,
                        });
                    }
                    undefined.map(CollectFailure::RemoteNotFound)
                }
                None => None,
            };
            failure = why.map(|f| (file.to_string(), f));
        });
    }
    if let Some((file, failure)) = failure {
        let line = format!("{}@{}: {failure}", join(&snap.prefix, &file), snap.label);
        let error = match failure {
            // DVC's own words, as when the one revision it collects fails.
            CollectFailure::RemoteNotFound(name) => ConfigError::RemoteNotFound(name).into(),
            CollectFailure::Unreadable(_) => Error::BadInput(line.clone()),
        };
        return Some((line, error));
    }
    // DVC globs the work tree; a committed revision, what it tracks.
    let glob_base = match (snap.commit, blobs.work_dir()) {
        (None, Some(dir)) => GlobBase::WorkTree(dir),
        _ => GlobBase::Tracked {
            cache: options.cache,
            max_manifest: blobs.git().limits().manifest,
        },
    };
    let error = options.targets?.select(&found, glob_base).err()?;
    Some((error.to_string(), error))
}

/// `prefix/path`, or `path` when there is no prefix.
fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

/// Joins an output path (relative to its DVC file's directory) onto that directory;
/// `None` when the result leaves the repository.
pub fn repo_path(dir: &str, out_path: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in out_path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join("/"))
}

/// Decides each output's remote and accumulates per-remote object sets.
struct Router<'a> {
    remote_override: Option<String>,
    default_remote: Option<String>,
    used_no_default: bool,
    /// An output with no remote at all is skipped (and `used_no_default` set) instead of
    /// stopping the command: fetch, as DVC's.
    skip_unrouted: bool,
    fallback_config: Option<Arc<DvcConfig>>,
    committed_remotes: CommittedRemotes,
    /// Remotes already resolved (and checked against the user's configuration), per
    /// config and name: a history of thousands of outputs resolves each once.
    resolved: HashMap<(*const DvcConfig, String), RemoteConfig>,
    repo_root: &'a std::path::Path,
    /// Keyed by (remote name, resolved URL): the same name may point elsewhere in an old
    /// revision's config.
    destinations: BTreeMap<(String, String), DestinationObjects>,
}

impl<'a> Router<'a> {
    fn new(
        remote_override: Option<String>,
        default_remote: Option<String>,
        fallback_config: Option<Arc<DvcConfig>>,
        committed_remotes: CommittedRemotes,
        repo_root: &'a std::path::Path,
    ) -> Router<'a> {
        Router {
            remote_override: remote_override.map(|r| r.to_lowercase()),
            default_remote: default_remote.map(|r| r.to_lowercase()),
            used_no_default: false,
            skip_unrouted: false,
            fallback_config,
            committed_remotes,
            resolved: HashMap::new(),
            repo_root,
            destinations: BTreeMap::new(),
        }
    }

    /// `committed`: `config` is the committed config of this revision (not the user's files),
    /// with the user's own configuration of the same project.
    fn route(
        &mut self,
        config: &DvcConfig,
        committed: Option<(&str, &DvcConfig)>,
        out: &DvcOutput,
        provenance: Provenance,
    ) -> Result<(), Error> {
        let Some(hash) = &out.hash else {
            return Ok(());
        };
        // The user's own configuration: first this project's (a nested project's own),
        // then the outer project's. It fills in what a committed config lacks; and a
        // committed definition must agree with the project's own.
        let outer = self.fallback_config.clone();
        let own = committed.map(|(_, c)| c);
        let users: Vec<&DvcConfig> = own.into_iter().chain(outer.as_deref()).collect();
        let name = match (&self.remote_override, &out.remote) {
            // Not for this remote (one defined nowhere has failed its revision already).
            (Some(chosen), Some(own)) if own != chosen => return Ok(()),
            (Some(chosen), _) => chosen.clone(),
            (None, Some(own)) => {
                if self.default_remote.is_none() && config.core_remote().is_none() {
                    self.used_no_default = true;
                }
                own.clone()
            }
            (None, None) => match self
                .default_remote
                .clone()
                .or_else(|| config.core_remote())
                .or_else(|| users.iter().find_map(|c| c.core_remote()))
            {
                Some(default) => default,
                None if self.skip_unrouted => {
                    self.used_no_default = true;
                    return Ok(());
                }
                None => {
                    return Err(Error::NoRemote {
                        root: self.repo_root.to_path_buf(),
                        remotes_exist: !config.remote_names().is_empty(),
                        command: "<command>",
                    })
                }
            },
        };
        let defines = |c: &DvcConfig| c.remote_names().contains(&name.as_str());
        let (config, from_commit) = match users.iter().find(|c| defines(c)) {
            Some(user) if !defines(config) => (*user, false),
            _ => (config, true),
        };
        let cache_key = (config as *const DvcConfig, name.clone());
        let remote = match self.resolved.get(&cache_key) {
            Some(remote) => remote.clone(),
            None => {
                let mut remote = config.remote(&name)?;
                if let Some((revision, configured)) = committed.filter(|_| from_commit) {
                    if self.committed_remotes == CommittedRemotes::MustMatchConfigured {
                        remote = trusted_remote(configured, remote, revision, &provenance.path)?;
                    }
                }
                self.resolved.insert(cache_key, remote.clone());
                remote
            }
        };
        let key = (remote.name.clone(), remote.url.clone());
        let dest = self
            .destinations
            .entry(key)
            .or_insert_with(|| DestinationObjects {
                remote,
                objects: BTreeMap::new(),
                order: HashMap::new(),
            });
        if let std::collections::btree_map::Entry::Vacant(slot) = dest.objects.entry(hash.clone()) {
            slot.insert(provenance);
            let next = u32::try_from(dest.order.len()).unwrap_or(u32::MAX);
            dest.order.insert(hash.clone(), next);
        }
        Ok(())
    }

    fn finish(self) -> Vec<DestinationObjects> {
        self.destinations.into_values().collect()
    }
}

/// The user's definition of a remote a commit's config defined as `committed`, when both
/// point at the same place; otherwise the error that stops the command.
fn trusted_remote(
    configured: &DvcConfig,
    committed: RemoteConfig,
    revision: &str,
    path: &str,
) -> Result<RemoteConfig, Error> {
    let untrusted = |configured_url: Option<String>| Error::UntrustedRemote {
        revision: revision.to_string(),
        path: path.to_string(),
        name: committed.name.clone(),
        committed_url: committed.url.clone(),
        configured_url,
    };
    if !configured.remote_names().contains(&committed.name.as_str()) {
        return Err(untrusted(None));
    }
    let ours = configured.remote(&committed.name)?;
    if same_location(&ours, &committed) {
        Ok(ours)
    } else {
        Err(untrusted(Some(ours.url)))
    }
}

#[cfg(test)]
mod tests {
    use super::repo_path;

    #[test]
    fn joins_and_refuses_escapes() {
        assert_eq!(repo_path("", "data"), Some("data".into()));
        assert_eq!(repo_path("sub", "../x"), Some("x".into()));
        assert_eq!(repo_path("a/b", "./c/d"), Some("a/b/c/d".into()));
        assert_eq!(repo_path("", "../outside"), None);
        assert_eq!(repo_path("sub", ".."), None);
    }
}
