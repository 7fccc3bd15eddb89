//! The files of a directory as `dvc add` sees them, and their md5s, computed in parallel.
//!
//! DVC walks a directory with `os.walk` through its `.dvcignore` filter: hidden files count,
//! `.git` (file or directory), `.hg/` and `.dvc/` directories never do, patterns in
//! `.dvcignore` files apply, symbolic links to files count as the file they point to, and
//! symbolic links to directories are not followed (so they contribute nothing). Only files
//! are listed: empty directories vanish from the `.dir` manifest. A `.dvcignore` file inside
//! the directory is an error, as in DVC.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use rayon::prelude::*;

use crate::dvc::hash::ObjectId;

/// A file found under a tracked directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirMember {
    pub path: PathBuf,
    /// Relative to the directory, `/`-separated, as the `.dir` manifest records it.
    pub relpath: String,
}

/// Why a directory could not be listed or a file hashed.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot list {}: {message}", dir.display())]
    Walk { dir: PathBuf, message: String },
    #[error("{} is a broken symbolic link; remove it or point it at a file", path.display())]
    BrokenLink { path: PathBuf },
    #[error("the name of {} is not valid UTF-8; DVC records names as text, so rename it", path.display())]
    NotUtf8 { path: PathBuf },
    /// DVC's `IgnoreInCollectedDirError`.
    #[error(".dvcignore file should not be in collected dir path: '{}'; DVC does not allow one inside a tracked directory, so move its patterns to a .dvcignore above it", dir.display())]
    DvcIgnoreInside { dir: PathBuf },
}

/// Names DVC never looks inside (`DvcIgnoreFilter`'s defaults `.hg/`, `.git/`, `.git`,
/// `.dvc/`).
fn always_ignored(name: &std::ffi::OsStr, is_dir: bool) -> bool {
    name == ".git" || (is_dir && (name == ".hg" || name == ".dvc"))
}

/// Every file under `dir` that DVC would put in its `.dir` manifest, sorted by relpath.
pub fn list_files(dir: &Path) -> Result<Vec<DirMember>, TreeError> {
    let mut builder = ignore::WalkBuilder::new(dir);
    builder
        .standard_filters(false)
        .hidden(false)
        .parents(true)
        .add_custom_ignore_filename(".dvcignore")
        .follow_links(false)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            entry.depth() == 0 || !always_ignored(entry.file_name(), is_dir)
        });
    let mut members = Vec::new();
    for entry in builder.build() {
        let entry = entry.map_err(|e| TreeError::Walk {
            dir: dir.to_path_buf(),
            message: e.to_string(),
        })?;
        if entry.depth() == 0 {
            continue;
        }
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        let path = entry.path().to_path_buf();
        if file_type.is_symlink() {
            match fs::metadata(&path) {
                Ok(m) if m.is_file() => {}
                Ok(_) => continue, // a link to a directory: os.walk does not descend
                Err(_) => return Err(TreeError::BrokenLink { path }),
            }
        } else if !file_type.is_file() {
            continue;
        }
        if entry.file_name() == ".dvcignore" {
            let dir = path.parent().unwrap_or(dir).to_path_buf();
            return Err(TreeError::DvcIgnoreInside { dir });
        }
        let rel = path.strip_prefix(dir).expect("walk stays under its root");
        let relpath = rel
            .components()
            .map(|c| c.as_os_str().to_str())
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| TreeError::NotUtf8 { path: path.clone() })?
            .join("/");
        members.push(DirMember { path, relpath });
    }
    members.sort_by(|a, b| a.relpath.cmp(&b.relpath));
    Ok(members)
}

/// md5 and size of a file's bytes (DVC 3's `md5`: the raw bytes, no newline conversion).
pub fn md5_file(path: &Path) -> Result<(ObjectId, u64), TreeError> {
    let io = |source| TreeError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = fs::File::open(path).map_err(io)?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io(e)),
        };
        md5.update(&buf[..n]);
        size += n as u64;
    }
    Ok((ObjectId::from_digest(md5.finalize().into(), false), size))
}

/// [`md5_file`] for many files at once, across CPU cores; results in input order.
pub fn md5_files(paths: &[&Path]) -> Result<Vec<(ObjectId, u64)>, TreeError> {
    paths.par_iter().map(|p| md5_file(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_like_dvc() {
        let dir = tempfile::tempdir().unwrap();
        let d = &dir.path().join("d");
        for (rel, bytes) in [
            ("a", "a"),
            (".hidden", "h"),
            ("sub/b", "b"),
            (".git/config", "g"),
            ("x/.git", "gitfile"),
            (".dvc/config", "c"),
            ("ignored.tmp", "t"),
            ("keep/stay.txt", "s"),
        ] {
            let p = d.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, bytes).unwrap();
        }
        // Patterns from a .dvcignore above the directory apply.
        fs::write(dir.path().join(".dvcignore"), "*.tmp\n").unwrap();
        fs::create_dir_all(d.join("empty/deeper")).unwrap();
        std::os::unix::fs::symlink("a", d.join("link-to-file")).unwrap();
        std::os::unix::fs::symlink("sub", d.join("link-to-dir")).unwrap();
        let names: Vec<String> = list_files(d)
            .unwrap()
            .into_iter()
            .map(|m| m.relpath)
            .collect();
        assert_eq!(
            names,
            [".hidden", "a", "keep/stay.txt", "link-to-file", "sub/b"]
        );
        fs::write(d.join("keep/.dvcignore"), "*.bin\n").unwrap();
        assert!(matches!(
            list_files(d),
            Err(TreeError::DvcIgnoreInside { .. })
        ));
        fs::remove_file(d.join("keep/.dvcignore")).unwrap();
        std::os::unix::fs::symlink("nowhere", d.join("broken")).unwrap();
        assert!(matches!(list_files(d), Err(TreeError::BrokenLink { .. })));
    }

    #[test]
    fn hashes_raw_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("crlf.txt");
        fs::write(&p, b"hello\r\nworld\r\n").unwrap();
        let (oid, size) = md5_file(&p).unwrap();
        assert_eq!(oid.to_string(), "7ac062d8a84466e70d9b899c0821a51c");
        assert_eq!(size, 14);
    }
}
