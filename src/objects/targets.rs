//! Push targets, as `dvc push TARGET…` takes them: a `.dvc` file, `dvc.yaml`,
//! `dvc.yaml:stage`, a stage name (or `name@key`), an output path or a path inside a tracked
//! directory, a directory with `-R`, glob patterns with `--glob` (expanded first, see
//! [`super::glob_targets`]); `-d` adds upstream stages. Targets that overlap select their
//! union.
//!
//! A path inside a tracked directory selects the whole directory output: uploading one
//! member and the `.dir` (as DVC does) would leave a manifest without its other members.
//! Checkout takes such a target as DVC does, granularly: [`Selected::within`] says which
//! part of the directory it names, and only that part of the work tree is touched.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::collect::{repo_path, FoundUnit, Unit};
use super::glob_targets::{self, GlobBase};
use crate::error::Error;

#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Targets as given: relative to the current directory (glob patterns with `--glob`).
    given: Vec<String>,
    /// The current directory relative to the project's directory (`""` at its top).
    prefix: String,
    /// The project's directory (DVC names a missing DVC file by its absolute path).
    root: PathBuf,
    pub recursive: bool,
    pub with_deps: bool,
    pub glob: bool,
}

/// (unit index, output index) pairs selected in a walk's unit list.
pub type Selection = HashSet<(usize, usize)>;

/// What targets select: outputs, and for directory outputs that only paths inside them
/// selected (`data/a`, `data/sub`), those paths relative to the output.
#[derive(Debug, Default)]
pub struct Selected {
    /// Every selected output (a directory named only through a path inside it too: push
    /// and fetch take the whole directory).
    pub outputs: Selection,
    /// Directory outputs that no target selected whole: the paths inside them the targets
    /// named (what checkout restores, as DVC's granular checkout).
    pub within: HashMap<(usize, usize), BTreeSet<String>>,
}

impl Targets {
    /// `prefix` is the current directory relative to the repository root (`""` at the root),
    /// so targets given relative to a subdirectory work as in DVC.
    pub fn new(
        raw: &[String],
        root: &Path,
        prefix: &str,
        recursive: bool,
        with_deps: bool,
        glob: bool,
    ) -> Targets {
        Targets {
            given: raw.to_vec(),
            prefix: prefix.to_string(),
            root: root.to_path_buf(),
            recursive,
            with_deps,
            glob,
        }
    }

    /// What the targets select among `found` (one group of snapshots); `glob_base` is where
    /// `--glob` patterns are expanded for that group.
    pub fn select(
        &self,
        found: &[FoundUnit<'_>],
        glob_base: GlobBase<'_>,
    ) -> Result<Selected, Error> {
        let expansion = match self.glob {
            true => Some(glob_targets::expand(
                &self.given,
                &self.prefix,
                glob_base,
                found,
            )?),
            false => None,
        };
        let given = expansion.as_ref().map_or(&self.given, |e| &e.matches);
        let mut selection = Selection::new();
        let mut whole = Selection::new();
        let mut within: HashMap<(usize, usize), BTreeSet<String>> = HashMap::new();
        for typed in given {
            // Each target on its own, then the union: targets that overlap (`a.txt
            // a.txt.dvc`, a stage and its output, `d d/1`) each still select something.
            let mut mine = Selection::new();
            let target = project_target(&self.prefix, typed);
            let target = target.as_str();
            let path = target.rsplit_once(':').map_or(target, |(p, _)| p);
            if path == "dvc.lock" || path.ends_with("/dvc.lock") {
                return Err(did_you_mean_yaml(typed));
            }
            // What DVC's file system shows: the work tree for the work tree; a revision's
            // tree never holds a tracked directory (git ignores it).
            let on_disk = match glob_base {
                GlobBase::WorkTree(dir) => dir.join(target).is_dir(),
                GlobBase::Tracked { .. } => false,
            };
            if self.recursive
                && on_disk
                && (is_directory_output(found, target) || inside_directory_output(found, target))
            {
                // DVC: with -R, a directory is searched for DVC files only; a tracked
                // directory (or one inside it) holds none, so it selects nothing (and is
                // no error). One not checked out (a fresh clone, a revision) is no
                // directory to DVC: it names the output (or the part of it).
                select_where(found, &mut mine, |unit, _| {
                    unit.file.starts_with(&format!("{target}/"))
                });
                whole.extend(mine.iter().copied());
                selection.extend(mine);
                continue;
            }
            select_target(found, target, self.recursive, &mut mine);
            if let Some(expansion) = &expansion {
                mine.retain(|&(i, j)| {
                    expansion.holds(&found[i], &found[i].parsed.outputs[j], target)
                });
            }
            // DVC: with -R, a directory holding no DVC file selects nothing, and that is
            // no error.
            let empty_dir = self.recursive && on_disk;
            if mine.is_empty() && !empty_dir && !matched_empty(found, target) {
                return Err(self.not_found(found, typed, target).into());
            }
            for &(i, j) in &mine {
                match part_inside(&found[i], j, target) {
                    Some(part) => {
                        within.entry((i, j)).or_default().insert(part);
                    }
                    None => {
                        whole.insert((i, j));
                    }
                }
            }
            selection.extend(mine);
        }
        if self.with_deps {
            add_upstream(found, &mut selection);
        }
        // An output some target selected whole is checked out whole (what `-d` adds is a
        // stage's output, never a path inside one).
        within.retain(|key, _| !whole.contains(key));
        Ok(Selected {
            outputs: selection,
            within,
        })
    }
}

impl Targets {
    /// Why `typed` (`target` in the project) selects nothing, as DVC's stage lookup says it
    /// (`dvc/repo/stage.py: collect_granular`): a DVC file named that does not exist, by
    /// its absolute path; `file:stage` naming a file without that stage; anything else is
    /// "not an output or a stage name", with why the current directory's `dvc.yaml` did
    /// not name it either.
    fn not_found(&self, found: &[FoundUnit<'_>], typed: &str, target: &str) -> TargetError {
        let has_file = |file: &str| found.iter().any(|u| u.file == file);
        let missing =
            |file: &str| StageLookup::FileMissing(self.root.join(file).display().to_string());
        let lookup = |cause| TargetError::Lookup {
            target: typed.to_string(),
            cause,
        };
        let split = |t: &'_ str| match t.rsplit_once(':') {
            Some((p, s)) if !s.contains('/') => Some((p.to_string(), s.to_string())),
            _ => None,
        };
        match (split(typed), split(target)) {
            (Some(_), Some((file, name))) => {
                // The file `select_target` looked in (`sub:x` is `sub/dvc.yaml:x`).
                let file = if file.is_empty() || !file.ends_with("dvc.yaml") {
                    join(&file, "dvc.yaml")
                } else {
                    file
                };
                if !has_file(&file) {
                    return lookup(missing(&file));
                }
                let cause = StageLookup::StageNotFound {
                    name,
                    file: relative_path(&file, &self.prefix),
                };
                // With `-d`, DVC looks the target up again as an output first.
                match self.with_deps {
                    true => TargetError::NotAnOutputOrStage {
                        target: typed.to_string(),
                        cause,
                    },
                    false => lookup(cause),
                }
            }
            (None, _) if is_dvc_file_name(target) => lookup(missing(target)),
            _ => {
                // A plain name is looked up in the current directory's `dvc.yaml`.
                let pipeline = join(&self.prefix, "dvc.yaml");
                let cause = match has_file(&pipeline) {
                    true => StageLookup::StageNotFound {
                        name: typed.to_string(),
                        file: "dvc.yaml".to_string(),
                    },
                    false => StageLookup::FileMissing("dvc.yaml".to_string()),
                };
                TargetError::NotAnOutputOrStage {
                    target: typed.to_string(),
                    cause,
                }
            }
        }
    }
}

/// DVC's `is_valid_filename`: `dvc.yaml` or a `.dvc` file.
fn is_dvc_file_name(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "dvc.yaml" || name.ends_with(".dvc")
}

/// `os.path.relpath(path, base)` for `/`-separated project paths (`""` is the top): a
/// project path as DVC shows it from the current directory (`../dvc.yaml`).
pub(crate) fn relative_path(path: &str, base: &str) -> String {
    let path: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let base: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; base.len() - common];
    parts.extend_from_slice(&path[common..]);
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// A target given relative to the current directory (`prefix`), relative to the project:
/// a path, or `path:stage`.
fn project_target(prefix: &str, target: &str) -> String {
    let (path, stage) = match target.rsplit_once(':') {
        Some((p, s)) if !s.contains('/') => (p, Some(s)),
        _ => (target, None),
    };
    let path = path.trim_end_matches('/');
    let joined = if path.is_empty() || path == "." {
        prefix.to_string()
    } else {
        repo_path(prefix, path).unwrap_or_else(|| path.to_string())
    };
    match stage {
        Some(s) => format!("{joined}:{s}"),
        None => joined,
    }
}

/// DVC refuses `dvc.lock` as a target (`dvc/utils/__init__.py: parse_target`), also when a
/// glob expands to it; the message shows the target as typed (or matched).
fn did_you_mean_yaml(target: &str) -> Error {
    TargetError::DidYouMean(target.replacen(".lock", ".yaml", 1)).into()
}

/// Targets that select nothing, or that DVC refuses, in DVC's words.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// DVC's `NoOutputOrStageError` (the target as typed), with its cause.
    #[error("'{target}' does not exist as an output or a stage name in '{}': {cause}", cause.file())]
    NotAnOutputOrStage { target: String, cause: StageLookup },
    /// DVC's stage lookup failed on its own: a DVC file named that does not exist, or a
    /// `file:stage` whose file lacks the stage.
    #[error("{cause}")]
    Lookup { target: String, cause: StageLookup },
    /// `dvc.lock` given (or matched) where `dvc.yaml` is meant.
    #[error("Did you mean: `{0}`?")]
    DidYouMean(String),
    /// `--glob` patterns (as Python shows them) that match nothing.
    #[error("Glob [{}] has no matches.", .0.join(", "))]
    NoGlobMatches(Vec<String>),
}

/// Why DVC's stage lookup found nothing.
#[derive(Debug)]
pub enum StageLookup {
    /// `StageNotFound`: `file` as DVC shows it (relative to the current directory).
    StageNotFound { name: String, file: String },
    /// `StageFileDoesNotExistError`: `dvc.yaml` (the default file) or an absolute path.
    FileMissing(String),
}

impl StageLookup {
    fn file(&self) -> &str {
        match self {
            StageLookup::StageNotFound { file, .. } | StageLookup::FileMissing(file) => file,
        }
    }
}

impl std::fmt::Display for StageLookup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StageLookup::StageNotFound { name, file } => {
                write!(f, "Stage '{name}' not found inside '{file}' file")
            }
            StageLookup::FileMissing(file) => write!(f, "'{file}' does not exist"),
        }
    }
}

/// Whether `target` is the path of a directory output (a `.dir` hash): in a work tree it is
/// a directory, which `-R` searches instead of taking as an output.
fn is_directory_output(found: &[FoundUnit<'_>], target: &str) -> bool {
    found.iter().any(|unit| {
        unit.parsed.outputs.iter().any(|out| {
            repo_path(&unit.dir, &out.path).as_deref() == Some(target)
                && out.hash.as_ref().is_some_and(|h| h.oid.is_dir())
        })
    })
}

/// Whether `target` is a path strictly inside a directory output.
fn inside_directory_output(found: &[FoundUnit<'_>], target: &str) -> bool {
    found
        .iter()
        .any(|unit| (0..unit.parsed.outputs.len()).any(|j| part_inside(unit, j, target).is_some()))
}

/// The part of the directory output `j` of `unit` that `target` names, relative to the
/// output (`a`, `sub/b`), when `target` is a path strictly inside it and not the declaring
/// file; `None` when the target names something else (the output, its DVC file, a stage).
fn part_inside(unit: &FoundUnit<'_>, j: usize, target: &str) -> Option<String> {
    let out = &unit.parsed.outputs[j];
    if unit.file == target || !out.hash.as_ref().is_some_and(|h| h.oid.is_dir()) {
        return None;
    }
    let out_path = repo_path(&unit.dir, &out.path)?;
    let part = target.strip_prefix(&format!("{out_path}/"))?;
    (!part.is_empty()).then(|| part.to_string())
}

/// A target that names a DVC file whose outputs are all unpushable still "exists".
fn matched_empty(found: &[FoundUnit<'_>], target: &str) -> bool {
    found
        .iter()
        .any(|u| u.file == target && u.parsed.outputs.is_empty())
}

fn select_where(
    found: &[FoundUnit<'_>],
    selection: &mut Selection,
    pred: impl Fn(&FoundUnit<'_>, Option<&str>) -> bool,
) {
    for (i, unit) in found.iter().enumerate() {
        for (j, out) in unit.parsed.outputs.iter().enumerate() {
            let out_path = repo_path(&unit.dir, &out.path);
            if pred(unit, out_path.as_deref()) {
                selection.insert((i, j));
            }
        }
    }
}

fn select_target(
    found: &[FoundUnit<'_>],
    target: &str,
    recursive: bool,
    selection: &mut Selection,
) {
    if let Some((file, stage)) = target.rsplit_once(':') {
        let file = if file.is_empty() || !file.ends_with("dvc.yaml") {
            join(file, "dvc.yaml")
        } else {
            file.to_string()
        };
        select_where(found, selection, |unit, _| unit.file == file);
        selection.retain(|(i, j)| {
            found[*i].file != file
                || stage_matches(found[*i].parsed.outputs[*j].stage.as_deref(), stage)
        });
        return;
    }
    // The file itself, an output or a path inside one.
    select_where(found, selection, |unit, out_path| {
        unit.file == target
            || out_path.is_some_and(|p| p == target || target.starts_with(&format!("{p}/")))
            || (recursive && (target.is_empty() || unit.file.starts_with(&format!("{target}/"))))
    });
    // A stage name in the dvc.yaml of the target's directory (`train`, `sub/train`).
    let (dir, name) = match target.rsplit_once('/') {
        Some((d, n)) => (d.to_string(), n),
        None => (String::new(), target),
    };
    let pipeline = join(&dir, "dvc.yaml");
    for (i, unit) in found.iter().enumerate() {
        if unit.file == pipeline && matches!(unit.unit, Unit::Pipeline(_)) {
            for (j, out) in unit.parsed.outputs.iter().enumerate() {
                if stage_matches(out.stage.as_deref(), name) {
                    selection.insert((i, j));
                }
            }
        }
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// `train` selects `train`, and a foreach/matrix `train` selects every `train@…`.
fn stage_matches(stage: Option<&str>, wanted: &str) -> bool {
    match stage {
        Some(s) => s == wanted || s.strip_prefix(wanted).is_some_and(|r| r.starts_with('@')),
        None => false,
    }
}

/// `-d`: adds, transitively, the stages and `.dvc` files producing what selected stages
/// depend on.
fn add_upstream(found: &[FoundUnit<'_>], selection: &mut Selection) {
    loop {
        let before = selection.len();
        let mut deps: Vec<String> = Vec::new();
        for &(i, j) in selection.iter() {
            let unit = &found[i];
            let stage = unit.parsed.outputs[j].stage.as_deref();
            for (dep_stage, dep) in &unit.parsed.deps {
                if Some(dep_stage.as_str()) == stage {
                    if let Some(p) = repo_path(&unit.dir, dep) {
                        deps.push(p);
                    }
                }
            }
        }
        let mut producers: Vec<(usize, Option<String>)> = Vec::new();
        for (i, unit) in found.iter().enumerate() {
            for out in &unit.parsed.outputs {
                let Some(p) = repo_path(&unit.dir, &out.path) else {
                    continue;
                };
                let produces = deps.iter().any(|d| {
                    d == &p || d.starts_with(&format!("{p}/")) || p.starts_with(&format!("{d}/"))
                });
                if produces {
                    producers.push((i, out.stage.clone()));
                }
            }
        }
        for (i, stage) in producers {
            for (j, out) in found[i].parsed.outputs.iter().enumerate() {
                if out.stage == stage {
                    selection.insert((i, j));
                }
            }
        }
        if selection.len() == before {
            break;
        }
    }
}
