//! git-dvc's work-tree state: what checkout last saw or wrote at each output, so an
//! unchanged work tree is confirmed from `lstat` alone, without reading a byte.
//!
//! Each file is recorded with its size, mtime, ctime and inode beside the hash of its
//! content. A file whose `lstat` still shows all four is taken to hold that content: an
//! edit changes the mtime or size, and a replacement (`cp`, an editor's rename) the inode
//! or ctime, which nobody can set back. Anything else is hashed again.
//!
//! The state also says which outputs git-dvc put in place and from which DVC file, so
//! that an output whose DVC file no longer declares it can be removed when, and only
//! when, every file of it is still exactly as git-dvc left it.
//!
//! It lives in `.dvc/tmp/git-dvc/checkout-state.json` (`.dvc/tmp` is DVC's own untracked
//! scratch directory, one per work tree), written to a temporary name and renamed. A
//! missing or unreadable state only costs hashing.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const VERSION: u32 = 1;

/// What `lstat` says of a file, as far as the state compares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl Stamp {
    pub fn of(meta: &fs::Metadata) -> Stamp {
        Stamp {
            size: meta.len(),
            mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
            ctime_ns: meta.ctime() * 1_000_000_000 + meta.ctime_nsec(),
            ino: meta.ino(),
        }
    }
}

/// One file of an output: its stamp and the hex id of its content (of the output's hash
/// kind).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileState {
    pub stamp: Stamp,
    pub oid: String,
}

/// One output git-dvc checked out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputState {
    /// The DVC file that declared it.
    pub file: String,
    /// A DVC 2-era output (`md5-dos2unix` ids).
    #[serde(default)]
    pub legacy: bool,
    /// Files by path relative to the output (`""` for a single-file output).
    pub files: BTreeMap<String, FileState>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct WorkTreeState {
    version: u32,
    /// By output path (project-relative).
    pub outputs: BTreeMap<String, OutputState>,
}

impl WorkTreeState {
    pub fn path(dvc_dir: &Path) -> PathBuf {
        dvc_dir
            .join("tmp")
            .join("git-dvc")
            .join("checkout-state.json")
    }

    /// The recorded state; empty when there is none or it cannot be read.
    pub fn load(dvc_dir: &Path) -> WorkTreeState {
        let Ok(bytes) = fs::read(Self::path(dvc_dir)) else {
            return WorkTreeState::default();
        };
        match serde_json::from_slice::<WorkTreeState>(&bytes) {
            Ok(s) if s.version == VERSION => s,
            _ => WorkTreeState::default(),
        }
    }

    /// The content id recorded for `rel` inside `output` if `meta` still matches.
    pub fn known(&self, output: &str, rel: &str, meta: &fs::Metadata) -> Option<&str> {
        let f = self.outputs.get(output)?.files.get(rel)?;
        (f.stamp == Stamp::of(meta)).then_some(f.oid.as_str())
    }

    /// Writes the state (temporary name, then rename).
    pub fn save(&mut self, dvc_dir: &Path) -> std::io::Result<()> {
        self.version = VERSION;
        let path = Self::path(dvc_dir);
        let dir = path.parent().expect("state has a directory");
        fs::create_dir_all(dir)?;
        // A killed run's half-written state (or record) is of no use to anyone.
        super::scan::sweep_stale_temps(dir);
        let bytes = serde_json::to_vec(self).map_err(std::io::Error::other)?;
        crate::temp_files::replace_file(&path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_known_until_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let dvc = dir.path().join(".dvc");
        let f = dir.path().join("a.txt");
        fs::write(&f, b"a\n").unwrap();
        let mut state = WorkTreeState::default();
        let mut out = OutputState {
            file: "a.txt.dvc".into(),
            ..Default::default()
        };
        out.files.insert(
            String::new(),
            FileState {
                stamp: Stamp::of(&fs::symlink_metadata(&f).unwrap()),
                oid: "60b725f10c9c85c70d97880dfe8191b3".into(),
            },
        );
        state.outputs.insert("a.txt".into(), out);
        state.save(&dvc).unwrap();
        let state = WorkTreeState::load(&dvc);
        let meta = fs::symlink_metadata(&f).unwrap();
        assert_eq!(
            state.known("a.txt", "", &meta),
            Some("60b725f10c9c85c70d97880dfe8191b3")
        );
        // Replaced with the same size and mtime: a new inode, not known.
        let g = dir.path().join("g");
        fs::write(&g, b"b\n").unwrap();
        let times = fs::FileTimes::new().set_modified(meta.modified().unwrap());
        fs::File::options()
            .write(true)
            .open(&g)
            .unwrap()
            .set_times(times)
            .unwrap();
        fs::rename(&g, &f).unwrap();
        assert_eq!(
            state.known("a.txt", "", &fs::symlink_metadata(&f).unwrap()),
            None
        );
        // A broken state file is no state.
        fs::write(WorkTreeState::path(&dvc), b"{").unwrap();
        assert!(WorkTreeState::load(&dvc).outputs.is_empty());
    }
}
