//! `git dvc status --cloud`: what the remote lacks, in DVC's words, without uploading.

use std::collections::BTreeMap;

use super::args::StatusArgs;
use super::report;
use crate::dvc::dir_manifest::RelpathRules;
use crate::dvc::hash::DvcHash;
use crate::engine;
use crate::error::Error;
use crate::sync::{self, ObjectState};

/// DVC's status prints its errors without a "failed to …" prefix.
const WHAT: &str = "";

pub fn run(args: StatusArgs) -> i32 {
    if !args.cloud {
        report::error(
            "git dvc status compares the local cache with remote storage only: run \
             `git dvc status -c` (as `dvc status -c`); for changes in the work tree, use `dvc status`",
        );
        return 2;
    }
    let cwd = match engine::current_dir() {
        Ok(c) => c,
        Err(e) => return report::fail(WHAT, &e),
    };
    let request = args
        .selection
        .request(&args.output)
        .checking_members(args.check_members)
        .aborting_on_failed_revisions();
    match status(&cwd, &request, args.json) {
        Ok(code) => code,
        Err(Error::NoRemote {
            root,
            remotes_exist,
            ..
        }) => report::fail(
            WHAT,
            &Error::NoRemote {
                root,
                remotes_exist,
                command: "status",
            },
        ),
        Err(e) => report::fail(WHAT, &e),
    }
}

fn status(cwd: &std::path::Path, request: &engine::SyncRequest, json: bool) -> Result<i32, Error> {
    let (ctx, collected) = engine::collect(cwd, request)?;
    // DVC shows paths relative to the current directory.
    let prefix = ctx.cwd_prefix.as_str();
    if !json && !request.quiet {
        for w in &collected.warnings {
            report::warn(w);
        }
    }
    // path → state; DVC lists deleted, then new, then missing.
    let mut entries: Vec<(ObjectState, String)> = Vec::new();
    // Directories whose `.dir` is nowhere: DVC warns and leaves them out of the list.
    let mut missing_dirs: Vec<(String, DvcHash)> = Vec::new();
    let mut remote_names = Vec::new();
    for dest in collected.destinations {
        let jobs = engine::jobs_for(&dest.remote, request.jobs);
        let assessment = sync::assess(
            dest,
            &ctx.cache,
            jobs,
            true,
            request.members,
            RelpathRules::ThisPlatform,
        )?;
        remote_names.push(assessment.remote.name.clone());
        report::requests(
            request.verbose,
            &assessment.remote.name,
            assessment.storage.as_ref(),
        );
        let shown = ShownPaths::new(prefix, &assessment);
        for (state, hash, prov) in assessment.out_of_sync() {
            let path = shown.path(&prov.path);
            if state == ObjectState::Missing && hash.oid.is_dir() {
                missing_dirs.push((path, hash.clone()));
            } else {
                entries.push((state, path));
            }
        }
    }
    entries.sort();
    entries.dedup();
    missing_dirs.sort();
    missing_dirs.dedup();
    if !missing_dirs.is_empty() && !request.quiet {
        report::warn(&missing_dirs_message(&missing_dirs));
    }
    if json {
        let map: BTreeMap<&str, &str> = entries
            .iter()
            .map(|(state, path)| (path.as_str(), state.as_str()))
            .collect();
        println!(
            "{}",
            serde_json::to_string(&map).expect("a string map always serialises")
        );
        return Ok(0);
    }
    if request.quiet {
        // git-dvc's rule: a directory whose data is nowhere is out of sync too (DVC, having
        // left it out of the list, exits 0 for it).
        return Ok(i32::from(!entries.is_empty() || !missing_dirs.is_empty()));
    }
    if entries.is_empty() {
        let remote = request
            .remote
            .clone()
            .or_else(|| ctx.workspace_config.core_remote())
            .or_else(|| remote_names.first().cloned())
            .unwrap_or_default();
        println!("Cache and remote '{remote}' are in sync.");
        return Ok(0);
    }
    for (state, path) in &entries {
        let label = format!("{}:", state.as_str());
        println!("\t{label:<20}{path}");
    }
    Ok(0)
}

/// DVC's warning for a directory whose `.dir` is neither in the cache nor on the remote
/// (DVC prints it when its attempt to fetch the manifest fails, with `name: None`).
fn missing_dirs_message(missing: &[(String, DvcHash)]) -> String {
    let mut lines = vec![
        "Some of the cache files do not exist neither locally nor on remote. Missing cache files:"
            .to_string(),
    ];
    for (path, hash) in missing {
        lines.push(format!("name: {path}, {}: {}", hash.kind.name(), hash.oid));
    }
    lines.join("\n")
}

/// Project-relative paths as DVC's status shows them from the current directory.
struct ShownPaths<'a> {
    /// The current directory relative to the project's (`""` at the top).
    cwd: &'a str,
    /// The directory output the current directory is (or is inside), if any.
    enclosing_dir_output: Option<&'a str>,
}

impl<'a> ShownPaths<'a> {
    fn new(cwd: &'a str, assessment: &'a sync::Assessment) -> ShownPaths<'a> {
        let enclosing_dir_output = assessment
            .set
            .dirs
            .values()
            .map(|d| d.provenance.path.as_str())
            .find(|d| !cwd.is_empty() && (cwd == *d || is_inside(cwd, d)));
        ShownPaths {
            cwd,
            enclosing_dir_output,
        }
    }

    /// DVC names an output `os.path.relpath(path, cwd)` and a directory member by joining
    /// that name with the member's relpath, so from inside a directory output its members
    /// are `./m`, `../in/m`.
    fn path(&self, path: &str) -> String {
        if let Some(dir) = self.enclosing_dir_output {
            if let Some(member) = path.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
                return format!("{}/{member}", relative_path(dir, self.cwd));
            }
        }
        relative_path(path, self.cwd)
    }
}

/// Whether `path` is strictly inside the directory `dir` (both project-relative).
fn is_inside(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// `os.path.relpath(path, base)` for `/`-separated relative paths (`""` is the top).
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

#[cfg(test)]
mod tests {
    use super::relative_path;

    #[test]
    fn paths_are_relative_to_the_current_directory_as_in_dvc() {
        assert_eq!(relative_path("top", ""), "top");
        assert_eq!(relative_path("top", "sub"), "../top");
        assert_eq!(relative_path("sub/q", "sub"), "q");
        assert_eq!(relative_path("sub", "sub"), ".");
        assert_eq!(relative_path("sub/dd/x", "sub/dd/in"), "../x");
        assert_eq!(relative_path("other/o", "sub/dd"), "../../other/o");
        assert_eq!(relative_path("subway", "sub"), "../subway");
    }
}
