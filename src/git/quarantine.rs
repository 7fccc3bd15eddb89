//! Reading objects inside a pre-receive hook. git puts a push's objects in a quarantine
//! directory and tells hooks through `GIT_OBJECT_DIRECTORY` and
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES`; gix ignores both. So when they are set, git-dvc builds
//! an object store from a scratch directory (outside the quarantine, so nothing of ours is
//! migrated into the repository) whose `info/alternates` lists the quarantine and every
//! alternate git named.
//!
//! The scratch directory is removed when the store is dropped, or by [`remove_scratch`] for
//! a process that exits while a worker thread still holds the store (the server check's
//! time budget).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::GitError;

/// An object store that sees what the environment tells git to see.
pub struct EnvObjectStore {
    pub store: Arc<gix::odb::Store>,
    _scratch: tempfile::TempDir,
}

/// Scratch directories alive in this process; `closed` once [`remove_scratch`] ran.
struct Scratches {
    closed: bool,
    dirs: Vec<PathBuf>,
}

static SCRATCHES: Mutex<Scratches> = Mutex::new(Scratches {
    closed: false,
    dirs: Vec::new(),
});

fn scratches() -> std::sync::MutexGuard<'static, Scratches> {
    SCRATCHES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Removes every scratch directory this process made for object stores still alive, and
/// makes later [`from_env`] calls fail: for a caller about to exit while another thread
/// still uses a store (its reads then fail, which nobody waits for).
pub fn remove_scratch() {
    let mut s = scratches();
    s.closed = true;
    for dir in s.dirs.drain(..) {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

impl Drop for EnvObjectStore {
    fn drop(&mut self) {
        let path = self._scratch.path();
        scratches().dirs.retain(|d| d != path);
    }
}

/// `Some` when git set `GIT_OBJECT_DIRECTORY` (a quarantine, or any explicit object dir).
pub fn from_env() -> Result<Option<EnvObjectStore>, GitError> {
    let Some(primary) = std::env::var_os("GIT_OBJECT_DIRECTORY") else {
        return Ok(None);
    };
    let mut dirs = vec![PathBuf::from(primary)];
    if let Ok(alternates) = std::env::var("GIT_ALTERNATE_OBJECT_DIRECTORIES") {
        dirs.extend(parse_alternates_env(&alternates));
    }
    let context = "cannot open the pushed objects (quarantine)";
    let scratch = tempfile::Builder::new()
        .prefix("git-dvc-objects-")
        .tempdir()
        .map_err(|e| GitError::new(context, e))?;
    {
        let mut s = scratches();
        if s.closed {
            return Err(GitError::msg(context, "the process is exiting"));
        }
        s.dirs.push(scratch.path().to_path_buf());
    }
    let info = scratch.path().join("info");
    std::fs::create_dir_all(&info).map_err(|e| GitError::new(context, e))?;
    let mut listing = String::new();
    for dir in &dirs {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
        listing.push_str(&dir.to_string_lossy());
        listing.push('\n');
    }
    std::fs::write(info.join("alternates"), listing).map_err(|e| GitError::new(context, e))?;
    let store = gix::odb::Store::at_opts(
        scratch.path().to_path_buf(),
        gix::hash::Kind::Sha1,
        &mut std::iter::empty(),
        gix::odb::store::init::Options::default(),
    )
    .map_err(|e| GitError::new(context, e))?;
    Ok(Some(EnvObjectStore {
        store: Arc::new(store),
        _scratch: scratch,
    }))
}

/// Splits `GIT_ALTERNATE_OBJECT_DIRECTORIES`: `:`-separated; an entry containing `:` is
/// C-quoted by git (`"…"` with backslash escapes).
pub fn parse_alternates_env(value: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    while chars.peek().is_some() {
        let mut entry = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => entry.push('\n'),
                        Some('t') => entry.push('\t'),
                        Some(other) => entry.push(other),
                        None => {}
                    },
                    c => entry.push(c),
                }
            }
            // Skip to the separator.
            for c in chars.by_ref() {
                if c == ':' {
                    break;
                }
            }
        } else {
            for c in chars.by_ref() {
                if c == ':' {
                    break;
                }
                entry.push(c);
            }
        }
        if !entry.is_empty() {
            out.push(PathBuf::from(entry));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_plain_and_quoted_entries() {
        assert_eq!(
            parse_alternates_env("/a/objects:\"/b:c/objects\":/d"),
            vec![
                PathBuf::from("/a/objects"),
                PathBuf::from("/b:c/objects"),
                PathBuf::from("/d")
            ]
        );
    }
}
