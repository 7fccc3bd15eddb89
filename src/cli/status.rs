//! `git dvc status --cloud`: what the remote lacks, in DVC's words, without uploading.

use std::collections::BTreeMap;

use super::args::StatusArgs;
use super::report;
use crate::dvc::hash::DvcHash;
use crate::engine;
use crate::engine::notice::{Notice, Observer, Transfer};
use crate::engine::status::RemoteStatus;
use crate::error::Error;
use crate::objects::targets::relative_path;
use crate::sync::ObjectState;
use crate::transfer::progress::Progress;

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
        .checking_members(args.check_members);
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
    let mut printer = Printer {
        shown: !json && !request.quiet,
        verbose: request.verbose,
    };
    let outcome = engine::status::status(cwd, request, &mut printer)?;
    // DVC shows paths relative to the current directory.
    let prefix = outcome.cwd_prefix.as_str();
    // path → state; DVC lists deleted, then new, then missing.
    let mut entries: Vec<(ObjectState, String)> = Vec::new();
    // Directories whose `.dir` is nowhere: DVC warns and leaves them out of the list.
    let mut missing_dirs: Vec<(String, DvcHash)> = Vec::new();
    for remote in &outcome.remotes {
        let shown = ShownPaths::new(prefix, remote);
        for (state, hash, path) in &remote.out_of_sync {
            let path = shown.path(path);
            if *state == ObjectState::Missing && hash.oid.is_dir() {
                missing_dirs.push((path, hash.clone()));
            } else {
                entries.push((*state, path));
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
        println!("Cache and remote '{}' are in sync.", outcome.remote);
        return Ok(0);
    }
    for (state, path) in &entries {
        let label = format!("{}:", state.as_str());
        println!("\t{label:<20}{path}");
    }
    Ok(0)
}

struct Printer {
    /// Warnings are shown (not with `--json` or `-q`).
    shown: bool,
    verbose: u8,
}

impl Observer for Printer {
    fn notice(&mut self, notice: Notice<'_>) {
        match notice {
            Notice::Collect(warnings) if self.shown => {
                warnings.iter().for_each(|w| report::warn(w))
            }
            Notice::Requests {
                remote,
                location,
                count,
            } if self.verbose > 0 => report::requests(remote, location, count),
            _ => {}
        }
    }

    fn progress(&mut self, _: Transfer<'_>, total: usize) -> Progress {
        Progress::new(total, "", true)
    }
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
    fn new(cwd: &'a str, remote: &'a RemoteStatus) -> ShownPaths<'a> {
        let enclosing_dir_output = remote
            .dir_outputs
            .iter()
            .map(String::as_str)
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
