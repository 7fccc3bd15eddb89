//! Push targets, as `dvc push TARGET…` takes them: a `.dvc` file, `dvc.yaml`,
//! `dvc.yaml:stage`, a stage name (or `name@key`), an output path or a path inside a tracked
//! directory, a directory with `-R`, glob patterns with `--glob`; `-d` adds upstream stages.
//!
//! A path inside a tracked directory selects the whole directory output: uploading one
//! member and the `.dir` (as DVC does) would leave a manifest without its other members.

use std::collections::HashSet;

use globset::{GlobBuilder, GlobMatcher};

use super::collect::{repo_path, FoundUnit, Unit};
use crate::error::Error;

#[derive(Debug, Clone, Default)]
pub struct Targets {
    /// Targets as repository-relative paths or stage specs.
    items: Vec<String>,
    pub recursive: bool,
    pub with_deps: bool,
    pub glob: bool,
}

/// (unit index, output index) pairs selected in a walk's unit list.
pub type Selection = HashSet<(usize, usize)>;

impl Targets {
    /// `prefix` is the current directory relative to the repository root (`""` at the root),
    /// so targets given relative to a subdirectory work as in DVC.
    pub fn new(
        raw: &[String],
        prefix: &str,
        recursive: bool,
        with_deps: bool,
        glob: bool,
    ) -> Targets {
        let items = raw
            .iter()
            .map(|t| {
                let (path, stage) = match t.rsplit_once(':') {
                    Some((p, s)) if !s.contains('/') => (p, Some(s)),
                    _ => (t.as_str(), None),
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
            })
            .collect();
        Targets {
            items,
            recursive,
            with_deps,
            glob,
        }
    }

    pub fn select(&self, found: &[FoundUnit<'_>]) -> Result<Selection, Error> {
        let mut selection = Selection::new();
        for target in &self.items {
            let before = selection.len();
            if self.glob {
                let matcher = glob_matcher(target)?;
                select_where(found, &mut selection, |unit, out_path| {
                    matcher.is_match(&unit.file) || out_path.is_some_and(|p| matcher.is_match(p))
                });
            } else {
                select_target(found, target, self.recursive, &mut selection);
            }
            if selection.len() == before && !matched_empty(found, target) {
                return Err(Error::Message(if self.glob {
                    format!("Glob ['{target}'] has no matches.")
                } else {
                    format!("'{target}' does not exist as an output or a stage name in 'dvc.yaml'")
                }));
            }
        }
        if self.with_deps {
            add_upstream(found, &mut selection);
        }
        Ok(selection)
    }
}

fn glob_matcher(pattern: &str) -> Result<GlobMatcher, Error> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| Error::Message(format!("invalid glob '{pattern}': {e}")))
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
