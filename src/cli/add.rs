//! `git dvc add`: track files and directories with DVC, as `dvc add` does.

use std::path::{Path, PathBuf};

use clap::Args;

use super::report;
use crate::workspace::add::{self, AddReport};

#[derive(Debug, Clone, Args)]
pub struct AddArgs {
    /// Files or directories to track (relative to the current directory).
    #[arg(value_name = "PATH", required = true, value_hint = clap::ValueHint::AnyPath)]
    pub paths: Vec<PathBuf>,

    /// Print nothing but errors.
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,
}

pub fn run(args: AddArgs) -> i32 {
    let cwd = match std::env::current_dir() {
        Ok(c) => c,
        Err(e) => {
            report::error(&format!("cannot read the current directory: {e}"));
            return 1;
        }
    };
    match add::add(&cwd, &args.paths) {
        Ok(outcome) => {
            for w in &outcome.warnings {
                report::warn(w);
            }
            if !args.quiet {
                print_outcome(&cwd, &outcome);
            }
            0
        }
        Err(add::AddError::Repo(e)) if report::config_failure(&e).is_some() => {
            report::CONFIG_ERROR_EXIT
        }
        Err(e) => {
            report::error(&e.to_string());
            e.exit_code()
        }
    }
}

/// DVC's closing advice, with paths relative to the current directory.
fn print_outcome(cwd: &Path, outcome: &AddReport) {
    if outcome.staged || outcome.to_track.is_empty() {
        return;
    }
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let mut files: Vec<String> = outcome
        .to_track
        .iter()
        .map(|rel| relative_to(&outcome.root.join(rel), &cwd))
        .collect();
    files.sort();
    let files: Vec<String> = files.iter().map(|f| shell_quote(f)).collect();
    println!(
        "\nTo track the changes with git, run:\n\n\tgit add {}\n\nTo enable auto staging, run:\n\n\tdvc config core.autostage true",
        files.join(" ")
    );
}

/// `path` relative to `base` (both absolute), with `..` where needed.
fn relative_to(path: &Path, base: &Path) -> String {
    let path: Vec<_> = path.components().collect();
    let base: Vec<_> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..base.len() {
        rel.push("..");
    }
    for c in &path[common..] {
        rel.push(c.as_os_str());
    }
    rel.to_string_lossy().into_owned()
}

/// Python's `shlex.quote`, which DVC uses for this message.
fn shell_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_like_shlex() {
        assert_eq!(shell_quote("data.dvc"), "data.dvc");
        assert_eq!(shell_quote("my data.dvc"), "'my data.dvc'");
        assert_eq!(shell_quote("it's"), "'it'\"'\"'s'");
        assert_eq!(shell_quote("é.dvc"), "'é.dvc'");
    }

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_to(Path::new("/r/a/b.dvc"), Path::new("/r")),
            "a/b.dvc"
        );
        assert_eq!(
            relative_to(Path::new("/r/b.dvc"), Path::new("/r/a")),
            "../b.dvc"
        );
    }
}
