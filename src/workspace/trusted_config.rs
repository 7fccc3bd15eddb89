//! The committed `.dvc/config` the checkout hooks may fetch through, per work tree.
//!
//! A hook fetches by itself, on a `git checkout` or `git pull` nobody thought of as a data
//! transfer, so it must not follow a remote that a branch pointed elsewhere (the request,
//! and the credentials in `config.local`, would go to a server the branch's author chose).
//! Comparing the new HEAD's config with the commit git moved from protects only the first
//! move onto such a branch: the next one starts from it. So the config the data was last
//! fetched through with the user's consent is recorded here, and a hook fetches only while
//! HEAD commits that same config blob. Consent is a hook move that did not change the
//! config, or the user's own `git dvc pull`.
//!
//! The record lives in the per-work-tree git directory (`$GIT_DIR/dvc/trusted-config`),
//! where no checkout can write: a file committed under `.dvc/tmp/` cannot forge it. A new
//! linked work tree starts from the main work tree's record, so `git worktree add` of
//! someone's branch does not make that branch's config trusted either.

use std::fs;
use std::path::{Path, PathBuf};

use crate::git::GitOid;

fn path(git_dir: &Path) -> PathBuf {
    git_dir.join("dvc").join("trusted-config")
}

/// The recorded config: `None` without a record (or a damaged one, which vouches for
/// nothing), `Some(None)` for "HEAD committed no `.dvc/config`", else its blob id.
pub fn read(git_dir: &Path) -> Option<Option<GitOid>> {
    let text = fs::read(path(git_dir)).ok()?;
    if text.len() > 100 {
        return None;
    }
    match String::from_utf8_lossy(&text).trim() {
        "none" => Some(None),
        hex => GitOid::from_hex(hex.as_bytes()).ok().map(Some),
    }
}

/// Records `config` (temporary name, then rename). Best effort for the callers: a record
/// that cannot be written leaves the hooks comparing with the commit they moved from.
pub fn write(git_dir: &Path, config: Option<GitOid>) -> std::io::Result<()> {
    if read(git_dir) == Some(config) {
        return Ok(());
    }
    let text = match config {
        Some(oid) => format!("{oid}\n"),
        None => "none\n".to_string(),
    };
    crate::temp_files::replace_file(&path(git_dir), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_and_read() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()), None);
        let oid = GitOid::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap();
        write(dir.path(), Some(oid)).unwrap();
        assert_eq!(read(dir.path()), Some(Some(oid)));
        write(dir.path(), None).unwrap();
        assert_eq!(read(dir.path()), Some(None));
        fs::write(path(dir.path()), b"junk\n").unwrap();
        assert_eq!(read(dir.path()), None);
    }
}
