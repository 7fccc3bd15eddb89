//! `--glob` targets: each pattern expanded into the paths it matches, which are then taken
//! as ordinary targets (`dvc/utils/__init__.py: glob_targets`).
//!
//! DVC expands against the work tree, with Python's `glob` ([`super::pyglob`]), once for
//! every revision. git-dvc does so for the work tree; a committed revision's patterns are
//! expanded against what that revision tracks instead: its DVC files (and `dvc.lock`), its
//! outputs, the directories holding them and, for a directory output, the members its
//! `.dir` in the local cache lists. So `d/*` finds `d/1` in a revision whose `d` is not
//! checked out, and a match inside a tracked directory then selects that directory, in
//! the revisions whose directory holds the match ([`Expansion::holds`]).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use super::collect::{repo_path, FoundUnit, Unit};
use super::expand;
use super::pyglob::{self, FsListing, Listing};
use crate::dvc::cache::LocalCache;
use crate::dvc::hash::DvcHash;
use crate::dvc::output::DvcOutput;
use crate::error::Error;

/// Where one group of snapshots has its patterns expanded.
#[derive(Clone, Copy)]
pub enum GlobBase<'a> {
    /// The project's directory in the work tree (for the work tree's snapshot).
    WorkTree(&'a Path),
    /// Committed revisions: what their DVC files track, with directory members from this
    /// cache (none without one), read from manifests of at most `max_manifest` bytes.
    Tracked {
        cache: Option<&'a LocalCache>,
        max_manifest: usize,
    },
}

/// What a group's patterns matched.
pub struct Expansion {
    /// Relative to the current directory, as DVC's targets are.
    pub matches: Vec<String>,
    /// For committed revisions, what they track: a group holds several revisions, and a
    /// match in one revision's directory says nothing of another's.
    tracked: Option<TrackedPaths>,
}

impl Expansion {
    /// Whether output `out` of `unit` holds `target` (a path in the project): false only
    /// for a committed directory output whose manifest is known and lists nothing at or
    /// below `target`.
    pub fn holds(&self, unit: &FoundUnit<'_>, out: &DvcOutput, target: &str) -> bool {
        let (Some(tracked), Some(hash)) = (&self.tracked, &out.hash) else {
            return true;
        };
        let Some(inside) = repo_path(&unit.dir, &out.path)
            .and_then(|p| target.strip_prefix(&format!("{p}/")).map(str::to_string))
        else {
            return true;
        };
        match tracked.manifests.get(hash) {
            Some(Some(members)) => {
                members.contains(&inside)
                    || members
                        .range(format!("{inside}/")..)
                        .next()
                        .is_some_and(|m| m.starts_with(&format!("{inside}/")))
            }
            _ => true,
        }
    }
}

/// The paths `patterns` (relative to the directory `prefix` of the project) match; an
/// error when no pattern matches anything.
pub fn expand(
    patterns: &[String],
    prefix: &str,
    base: GlobBase<'_>,
    found: &[FoundUnit<'_>],
) -> Result<Expansion, Error> {
    let (matches, tracked) = match base {
        GlobBase::WorkTree(dir) => (
            expand_in(patterns, &FsListing::new(&dir.join(prefix))),
            None,
        ),
        GlobBase::Tracked {
            cache,
            max_manifest,
        } => {
            let tracked = TrackedPaths::new(found, cache, max_manifest, prefix);
            (expand_in(patterns, &tracked), Some(tracked))
        }
    };
    if matches.is_empty() {
        let listed: Vec<String> = patterns.iter().map(|p| python_repr(p)).collect();
        return Err(super::targets::TargetError::NoGlobMatches(listed).into());
    }
    Ok(Expansion { matches, tracked })
}

fn expand_in(patterns: &[String], listing: &dyn Listing) -> Vec<String> {
    patterns
        .iter()
        .flat_map(|p| pyglob::expand(p, listing))
        .collect()
}

/// How Python prints a `str` in a list, as DVC's message does: single quotes, unless the
/// text holds one and no double quote.
fn python_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// The paths a group of committed revisions tracks, as a directory tree.
struct TrackedPaths {
    /// The current directory, relative to the project: queries are relative to it.
    prefix: String,
    /// Directory (`""` for the project's top) → its entries, `true` for a directory.
    dirs: HashMap<String, BTreeMap<String, bool>>,
    /// Each directory output's members (relpaths), `None` when the cache lacks a usable
    /// copy of its manifest.
    manifests: HashMap<DvcHash, Option<BTreeSet<String>>>,
}

impl TrackedPaths {
    fn new(
        found: &[FoundUnit<'_>],
        cache: Option<&LocalCache>,
        max_manifest: usize,
        prefix: &str,
    ) -> TrackedPaths {
        let mut tree = TrackedPaths {
            prefix: prefix.to_string(),
            dirs: HashMap::new(),
            manifests: HashMap::new(),
        };
        tree.dirs.insert(String::new(), BTreeMap::new());
        let mut manifests = std::mem::take(&mut tree.manifests);
        for unit in found {
            tree.add(&unit.file, false);
            if let Unit::Pipeline(p) = &unit.unit {
                if p.files.dvc_lock.is_some() {
                    tree.add(&join(&unit.dir, "dvc.lock"), false);
                }
            }
            for out in &unit.parsed.outputs {
                let Some(path) = repo_path(&unit.dir, &out.path) else {
                    continue;
                };
                let dir_hash = out.hash.as_ref().filter(|h| h.oid.is_dir());
                tree.add(&path, dir_hash.is_some());
                let (Some(hash), Some(cache)) = (dir_hash, cache) else {
                    continue;
                };
                let members = manifests.entry(hash.clone()).or_insert_with(|| {
                    expand::cached_members(hash, cache, max_manifest)
                        .map(|entries| entries.into_iter().map(|e| e.relpath).collect())
                });
                for relpath in members.iter().flatten() {
                    tree.add(&format!("{path}/{relpath}"), false);
                }
            }
        }
        tree.manifests = manifests;
        tree
    }

    /// Adds `path` and the directories above it.
    fn add(&mut self, path: &str, is_dir: bool) {
        let parts: Vec<&str> = path.split('/').collect();
        for (i, name) in parts.iter().enumerate() {
            let parent = parts[..i].join("/");
            let dir = i + 1 < parts.len() || is_dir;
            let entry = self.dirs.entry(parent).or_default();
            *entry.entry(name.to_string()).or_insert(dir) |= dir;
            if dir {
                self.dirs.entry(parts[..=i].join("/")).or_default();
            }
        }
    }

    /// A query path (relative to the current directory) relative to the project; `None`
    /// above it.
    fn resolve(&self, rel: &str) -> Option<String> {
        let mut parts: Vec<&str> = self.prefix.split('/').filter(|p| !p.is_empty()).collect();
        for part in rel.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop()?;
                }
                p => parts.push(p),
            }
        }
        Some(parts.join("/"))
    }

    fn entry(&self, rel: &str) -> Option<bool> {
        let path = self.resolve(rel)?;
        if path.is_empty() {
            return Some(true);
        }
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", &path));
        self.dirs.get(parent)?.get(name).copied()
    }
}

impl Listing for TrackedPaths {
    fn list(&self, dir: &str, dirs_only: bool) -> Vec<String> {
        let Some(entries) = self.resolve(dir).and_then(|d| self.dirs.get(&d)) else {
            return Vec::new();
        };
        entries
            .iter()
            .filter(|(_, is_dir)| !dirs_only || **is_dir)
            .map(|(name, _)| name.clone())
            .collect()
    }

    fn exists(&self, path: &str) -> bool {
        self.entry(path).is_some()
    }

    fn is_dir(&self, path: &str) -> bool {
        self.entry(path) == Some(true)
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracked(prefix: &str) -> TrackedPaths {
        let mut t = TrackedPaths {
            prefix: prefix.to_string(),
            dirs: HashMap::from([(String::new(), BTreeMap::new())]),
            manifests: HashMap::new(),
        };
        for (p, dir) in [
            ("d.dvc", false),
            ("d", true),
            ("d/1", false),
            ("d/sub/2", false),
            ("sub/x.dvc", false),
            ("sub/x", false),
        ] {
            t.add(p, dir);
        }
        t
    }

    #[test]
    fn lists_what_is_tracked_from_the_current_directory() {
        let t = tracked("");
        assert!(t.manifests.is_empty());
        assert_eq!(pyglob::expand("d/*", &t), ["d/1", "d/sub"]);
        assert_eq!(pyglob::expand("d/**/2", &t), ["d/sub/2"]);
        assert_eq!(pyglob::expand("*", &t), ["d", "d.dvc", "sub"]);
        let t = tracked("sub");
        assert_eq!(pyglob::expand("*", &t), ["x", "x.dvc"]);
        assert_eq!(pyglob::expand("../d/*", &t), ["../d/1", "../d/sub"]);
        assert!(pyglob::expand("../../*", &t).is_empty());
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(python_repr("d/*"), "'d/*'");
        assert_eq!(python_repr("it's"), "\"it's\"");
        assert_eq!(python_repr("a\\b"), "'a\\\\b'");
    }
}
