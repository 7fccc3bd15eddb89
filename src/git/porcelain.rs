//! Questions about the work tree that git itself answers best: whether git tracks a path,
//! whether its ignore rules cover it, and staging files. These run `git`, so every rule git
//! has (nested `.gitignore`s, `info/exclude`, `core.excludesFile`, negations) applies.

use std::path::Path;
use std::process::{Command, Output};

use super::GitError;

fn git(work_dir: &Path, args: &[&str]) -> Result<Output, GitError> {
    Command::new("git")
        .arg("-C")
        .arg(work_dir)
        .args(args)
        // Paths are file names, never pathspec patterns (`[`, `*`, `:(…)` stay literal).
        .env("GIT_LITERAL_PATHSPECS", "1")
        .output()
        .map_err(|e| GitError::new("cannot run git", e))
}

fn git_without_pathspecs(work_dir: &Path, args: &[&str]) -> Result<Output, GitError> {
    Command::new("git")
        .arg("-C")
        .arg(work_dir)
        .args(args)
        .env_remove("GIT_LITERAL_PATHSPECS")
        .output()
        .map_err(|e| GitError::new("cannot run git", e))
}

fn failure(what: &str, output: &Output) -> GitError {
    GitError::msg(
        what.to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

/// Whether git's index holds `rel` (relative to the work tree, `/`-separated) or anything
/// under it.
pub fn is_tracked(work_dir: &Path, rel: &str) -> Result<bool, GitError> {
    let out = git(work_dir, &["ls-files", "-z", "--cached", "--", rel])?;
    if !out.status.success() {
        return Err(failure(&format!("git ls-files {rel}"), &out));
    }
    Ok(!out.stdout.is_empty())
}

/// Whether git's ignore rules cover `rel`, whatever the index holds.
pub fn is_ignored(work_dir: &Path, rel: &str) -> Result<bool, GitError> {
    // check-ignore matches its arguments as paths (no globbing) but refuses pathspec magic,
    // so a leading `:` must not start the argument.
    let path = format!("./{rel}");
    let out = git_without_pathspecs(work_dir, &["check-ignore", "-q", "--no-index", "--", &path])?;
    match out.status.code() {
        Some(0) => Ok(true),
        Some(1) => Ok(false),
        _ => Err(failure(&format!("git check-ignore {rel}"), &out)),
    }
}

/// `git add -- paths` (paths relative to the work tree).
pub fn stage(work_dir: &Path, paths: &[String]) -> Result<(), GitError> {
    let mut args = vec!["add", "--"];
    args.extend(paths.iter().map(String::as_str));
    let out = git(work_dir, &args)?;
    if !out.status.success() {
        return Err(failure("git add", &out));
    }
    Ok(())
}
