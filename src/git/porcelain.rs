//! Questions about the work tree that git itself answers best: whether git tracks a path,
//! whether its ignore rules cover it, and staging files. These run `git` (once per question,
//! for any number of paths), so every rule git has (nested `.gitignore`s, `info/exclude`,
//! `core.excludesFile`, negations) applies.

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::GitError;

/// Runs git in `work_dir` with `input` on stdin. With `literal`, paths are file names, never
/// pathspec patterns (`[`, `*`, `:(…)` stay literal); check-ignore refuses that switch.
fn git(work_dir: &Path, args: &[&str], input: &[u8], literal: bool) -> Result<Output, GitError> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(work_dir).args(args);
    if literal {
        cmd.env("GIT_LITERAL_PATHSPECS", "1");
    } else {
        cmd.env_remove("GIT_LITERAL_PATHSPECS");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| GitError::new("cannot run git (is it installed and on PATH?)", e))?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    // Written from a thread: git may fill its stdout before reading all of stdin.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|e| GitError::new("cannot run git", e))?;
    let _ = writer.join();
    Ok(output)
}

fn failure(what: &str, output: &Output) -> GitError {
    GitError::msg(
        what.to_string(),
        String::from_utf8_lossy(&output.stderr).trim().to_string(),
    )
}

fn nul_list<'a>(paths: impl IntoIterator<Item = &'a str>, prefix: &str) -> Vec<u8> {
    let mut input = Vec::new();
    for p in paths {
        input.extend_from_slice(prefix.as_bytes());
        input.extend_from_slice(p.as_bytes());
        input.push(0);
    }
    input
}

/// Which of `rels` (relative to the work tree, `/`-separated) git's index holds, itself or
/// anything under it.
pub fn tracked(work_dir: &Path, rels: &[String]) -> Result<HashSet<String>, GitError> {
    if rels.is_empty() {
        return Ok(HashSet::new());
    }
    // ls-files reads pathspecs only from its arguments: a few hundred at a time.
    let mut listed = Vec::new();
    for chunk in rels.chunks(500) {
        let mut args = vec!["ls-files", "-z", "--cached", "--full-name", "--"];
        args.extend(chunk.iter().map(String::as_str));
        let out = git(work_dir, &args, b"", true)?;
        if !out.status.success() {
            return Err(failure("git ls-files", &out));
        }
        listed.extend(out.stdout);
        listed.push(0);
    }
    let files: Vec<&str> = listed
        .split(|b| *b == 0)
        .filter(|f| !f.is_empty())
        .filter_map(|f| std::str::from_utf8(f).ok())
        .collect();
    Ok(rels
        .iter()
        .filter(|rel| {
            files.iter().any(|f| {
                f == rel
                    || f.strip_prefix(rel.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
        })
        .cloned()
        .collect())
}

/// Which of `rels` git's ignore rules cover, whatever the index holds.
pub fn ignored(work_dir: &Path, rels: &[String]) -> Result<HashSet<String>, GitError> {
    if rels.is_empty() {
        return Ok(HashSet::new());
    }
    // check-ignore takes its arguments as paths (no globbing) but refuses pathspec magic,
    // so a leading `:` must not start one.
    let out = git(
        work_dir,
        &["check-ignore", "-z", "--stdin", "--no-index"],
        &nul_list(rels.iter().map(String::as_str), "./"),
        false,
    )?;
    match out.status.code() {
        Some(0) | Some(1) => {}
        _ => return Err(failure("git check-ignore", &out)),
    }
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter_map(|p| std::str::from_utf8(p).ok())
        .map(|p| p.strip_prefix("./").unwrap_or(p).to_string())
        .filter(|p| rels.contains(p))
        .collect())
}

/// `git add -- paths` (paths relative to the work tree).
pub fn stage(work_dir: &Path, paths: &[String]) -> Result<(), GitError> {
    let out = git(
        work_dir,
        &["add", "--pathspec-from-file=-", "--pathspec-file-nul"],
        &nul_list(paths.iter().map(String::as_str), ""),
        true,
    )?;
    if !out.status.success() {
        return Err(failure("git add", &out));
    }
    Ok(())
}
