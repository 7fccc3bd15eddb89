//! The commit whose DVC data the work tree holds, as the checkout hooks last left it.
//!
//! git tells a hook only where HEAD was just before (post-checkout) or nothing at all
//! (post-merge, post-rewrite), while the data in the work tree may be older: a move made
//! with `GIT_DVC_SKIP_CHECKOUT=1`, a `git reset --hard` (which runs no hook), a hook that
//! failed, a rebase whose first checkout the hook skipped. So the hooks diff the new HEAD
//! against this commit as well as against git's, and the union of the two diffs is what
//! they check out.
//!
//! It is written only when a hook has brought every output of the new HEAD's changed DVC
//! files in place, and removed when the work tree's data follows no commit (after
//! `git merge --squash`). It lives in `.dvc/tmp/git-dvc/synced-commit` (one per work
//! tree), written to a temporary name and renamed. Without a record (no hook has brought
//! the data yet: hooks installed in a clone never pulled, or `git dvc install` again) or
//! with an unreadable one, the data follows no known commit, and the next hook checks out
//! every output of the new HEAD, as after a clone (those already in place cost an lstat
//! per file).

use std::fs;
use std::path::{Path, PathBuf};

use crate::git::GitOid;

pub fn path(dvc_dir: &Path) -> PathBuf {
    dvc_dir.join("tmp").join("git-dvc").join("synced-commit")
}

/// What the file says: `None` without a file; `Some(None)` for a file that names no
/// commit (damaged), which vouches for nothing.
pub fn read(dvc_dir: &Path) -> Option<Option<GitOid>> {
    let text = fs::read(path(dvc_dir)).ok()?;
    // A commit id and a newline; anything longer is not ours.
    if text.len() > 100 {
        return Some(None);
    }
    let text = String::from_utf8_lossy(&text);
    Some(GitOid::from_hex(text.trim().as_bytes()).ok())
}

/// Records `commit`, or that the data follows no known commit (`None`: the next hook
/// checks out everything). Temporary name, then rename.
pub fn write(dvc_dir: &Path, commit: Option<GitOid>) -> std::io::Result<()> {
    let text = match commit {
        Some(commit) => format!("{commit}\n"),
        None => "unknown\n".to_string(),
    };
    crate::temp_files::replace_file(&path(dvc_dir), text.as_bytes())
}

/// Forgets the record (the data follows no commit, or nobody keeps it current).
pub fn clear(dvc_dir: &Path) -> std::io::Result<()> {
    match fs::remove_file(path(dvc_dir)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_read_and_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let dvc = dir.path().join(".dvc");
        assert_eq!(read(&dvc), None);
        let oid = GitOid::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap();
        write(&dvc, Some(oid)).unwrap();
        assert_eq!(read(&dvc), Some(Some(oid)));
        write(&dvc, None).unwrap();
        assert_eq!(read(&dvc), Some(None));
        fs::write(path(&dvc), b"not a commit\n").unwrap();
        assert_eq!(read(&dvc), Some(None));
        clear(&dvc).unwrap();
        clear(&dvc).unwrap();
        assert_eq!(read(&dvc), None);
    }
}
