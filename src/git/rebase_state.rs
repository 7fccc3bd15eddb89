//! Whether a rebase is under way in a work tree, as git's own state files say (in the
//! work tree's git directory, `.git/worktrees/<name>` in a linked worktree).
//!
//! The merge backend (`git rebase`, `pull --rebase`) checks out the commit it builds on
//! while `rebase-merge/` already exists, then replays the todo list and runs post-rewrite
//! at the end; a rebase with nothing to replay (a fast-forward) runs no post-rewrite, so
//! its checkout, with an empty todo list, is the end of it. The apply backend
//! (`rebase --apply`, `git am`) keeps `rebase-apply/` while it stops. Checked with git
//! 2.47 (dvc-pull-internals.md §5 and the hook tests).

use std::path::Path;

/// A rebase has commits left to replay (or has stopped): a checkout now is not where it
/// ends.
pub fn in_the_middle(git_dir: &Path) -> bool {
    if git_dir.join("rebase-apply").is_dir() {
        return true;
    }
    let merge = git_dir.join("rebase-merge");
    if !merge.is_dir() {
        return false;
    }
    // The todo list: commands left, comments and blank lines aside. An unreadable one
    // counts as work left (skipping is what DVC's guard always does).
    match std::fs::read(merge.join("git-rebase-todo")) {
        Ok(todo) => todo
            .split(|&b| b == b'\n')
            .map(|l| l.trim_ascii())
            .any(|l| !l.is_empty() && !l.starts_with(b"#")),
        Err(e) => e.kind() != std::io::ErrorKind::NotFound || !merge.join("done").exists(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_lists() {
        let dir = tempfile::tempdir().unwrap();
        let git = dir.path();
        assert!(!in_the_middle(git));
        let merge = git.join("rebase-merge");
        std::fs::create_dir(&merge).unwrap();
        std::fs::write(merge.join("git-rebase-todo"), "pick 1234 a\n# comment\n").unwrap();
        assert!(in_the_middle(git));
        std::fs::write(merge.join("git-rebase-todo"), "\n# Rebase a..b\n  \n").unwrap();
        assert!(!in_the_middle(git));
        std::fs::remove_file(merge.join("git-rebase-todo")).unwrap();
        assert!(in_the_middle(git), "no todo and no done: unknown, skip");
        std::fs::write(merge.join("done"), "").unwrap();
        assert!(!in_the_middle(git));
        std::fs::remove_dir_all(&merge).unwrap();
        std::fs::create_dir(git.join("rebase-apply")).unwrap();
        assert!(in_the_middle(git));
    }
}
