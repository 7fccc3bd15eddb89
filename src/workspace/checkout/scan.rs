//! What the work tree holds at an output's path, as DVC's checkout sees it: files are
//! listed without following symbolic links, `.dvcignore`d paths (and `.git`, `.dvc`,
//! `.hg` directories) are invisible, and directories are listed for the empty-directory
//! cleanup.
//!
//! Nothing is hashed here; [`content_of`] says what one entry holds, from the work-tree
//! state when its `lstat` is unchanged. A symbolic link is never followed out of the
//! project: a link into the cache names its object by its path, a link to a file inside
//! the project is read there, and any other link has unknown content (so it is never
//! deleted without `--force`).

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::dvc::cache::{open_object, LocalCache};
use crate::dvc::hash::{DvcHash, HashKind, ObjectId};

/// One non-directory entry of the work tree.
#[derive(Debug)]
pub enum Entry {
    File(fs::Metadata),
    /// A symbolic link (never followed while listing).
    Link(fs::Metadata),
    /// A FIFO, socket or device: never read.
    Special,
}

impl Entry {
    pub fn metadata(&self) -> Option<&fs::Metadata> {
        match self {
            Entry::File(m) | Entry::Link(m) => Some(m),
            Entry::Special => None,
        }
    }
}

/// What is at an output's path.
#[derive(Debug)]
pub enum Found {
    Absent,
    /// A file, link or special file at the output's own path.
    Leaf(Entry),
    /// A directory: its visible entries by `/`-separated path relative to it, and its
    /// visible subdirectories (deepest last).
    Dir {
        entries: BTreeMap<String, Entry>,
        dirs: Vec<String>,
    },
}

/// Lists `path` (which must not be below a symbolic link: see
/// [`super::paths::check_ancestors`]).
pub fn scan(path: &Path) -> io::Result<Found> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Absent),
        Err(e) => return Err(e),
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        let (entries, dirs) = walk(path)?;
        return Ok(Found::Dir { entries, dirs });
    }
    Ok(Found::Leaf(entry_of(meta)))
}

fn entry_of(meta: fs::Metadata) -> Entry {
    let ft = meta.file_type();
    if ft.is_symlink() {
        Entry::Link(meta)
    } else if ft.is_file() {
        Entry::File(meta)
    } else {
        Entry::Special
    }
}

/// Names DVC never looks inside (`DvcIgnoreFilter`'s defaults).
fn always_ignored(name: &std::ffi::OsStr, is_dir: bool) -> bool {
    name == ".git" || (is_dir && (name == ".hg" || name == ".dvc"))
}

type Listing = (BTreeMap<String, Entry>, Vec<String>);

fn walk(dir: &Path) -> io::Result<Listing> {
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
    let mut entries = BTreeMap::new();
    let mut dirs = Vec::new();
    for item in builder.build() {
        let item = item.map_err(|e| match e.into_io_error() {
            Some(io) => io,
            None => io::Error::other(format!("cannot list {}", dir.display())),
        })?;
        if item.depth() == 0 {
            continue;
        }
        let rel = item
            .path()
            .strip_prefix(dir)
            .expect("walk stays under its root");
        let Some(rel) = rel.to_str() else {
            // DVC records names as text: a name that is not UTF-8 is no member; it is an
            // extra file whose content is unknown.
            entries.insert(rel.to_string_lossy().into_owned(), Entry::Special);
            continue;
        };
        let rel = rel.replace(std::path::MAIN_SEPARATOR, "/");
        let meta = fs::symlink_metadata(item.path())?;
        if meta.is_dir() {
            dirs.push(rel);
        } else {
            entries.insert(rel, entry_of(meta));
        }
    }
    Ok((entries, dirs))
}

/// What a work-tree entry holds, as an object id of `kind`; `None` when it cannot be
/// known without following a link out of the project (or reading a special file).
pub fn content_of(
    path: &Path,
    entry: &Entry,
    kind: HashKind,
    cache: &LocalCache,
    project: &Path,
) -> io::Result<Option<ObjectId>> {
    match entry {
        Entry::File(_) => {
            let file = open_object(path)?;
            hash(file, kind).map(Some)
        }
        Entry::Special => Ok(None),
        Entry::Link(_) => {
            let target = fs::read_link(path)?;
            let target = if target.is_absolute() {
                target
            } else {
                path.parent().unwrap_or(Path::new("")).join(target)
            };
            let Ok(real) = target.canonicalize() else {
                return Ok(None); // broken
            };
            if let Some(oid) = cache_object_named(cache, &real, kind) {
                return Ok(Some(oid));
            }
            let inside = project.canonicalize().is_ok_and(|p| real.starts_with(&p));
            if !inside {
                return Ok(None);
            }
            match open_object(&real) {
                Ok(file) => hash(file, kind).map(Some),
                Err(_) => Ok(None),
            }
        }
    }
}

fn hash(file: fs::File, kind: HashKind) -> io::Result<ObjectId> {
    let digest = crate::transfer::verify::hash_reader(file, kind)?;
    Ok(ObjectId::from_digest(digest, false))
}

/// The object a path in the cache stands for, if it is one of `kind`'s (trusted by name,
/// as DVC trusts the cache's read-only files).
fn cache_object_named(cache: &LocalCache, real: &Path, kind: HashKind) -> Option<ObjectId> {
    let root = cache.root().canonicalize().ok()?;
    let rel = real.strip_prefix(&root).ok()?.to_str()?;
    let rest = rel.strip_prefix(kind.layout_prefix())?;
    let (shard, name) = rest.split_once('/')?;
    let oid = ObjectId::parse(&format!("{shard}{name}")).ok()?;
    let hash = DvcHash {
        kind,
        oid: oid.clone(),
    };
    // The name must be the object's own (not `xx/yy/…`), and a regular file.
    (cache.object_path(&hash).canonicalize().ok()? == real && !oid.is_dir()).then_some(oid)
}

/// Where each part of `rel` (`/`-separated) below `root` lands.
pub fn join(root: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        return root.to_path_buf();
    }
    let mut p = root.to_path_buf();
    for part in rel.split('/') {
        p.push(part);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_without_following_links_and_hides_ignored_paths() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("d");
        for (rel, bytes) in [("a", "a"), ("sub/b", "b"), ("skip.tmp", "t"), (".git", "g")] {
            let p = out.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, bytes).unwrap();
        }
        fs::create_dir_all(out.join("empty/deeper")).unwrap();
        fs::write(dir.path().join(".dvcignore"), "*.tmp\n").unwrap();
        std::os::unix::fs::symlink("/etc", out.join("etc")).unwrap();
        let Found::Dir { entries, dirs } = scan(&out).unwrap() else {
            panic!("a directory")
        };
        let names: Vec<&str> = entries.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "etc", "sub/b"]);
        assert!(matches!(entries["etc"], Entry::Link(_)));
        let mut dirs = dirs;
        dirs.sort();
        assert_eq!(dirs, ["empty", "empty/deeper", "sub"]);
        assert!(matches!(scan(&out.join("nothing")).unwrap(), Found::Absent));
    }

    #[test]
    fn a_link_out_of_the_project_has_unknown_content() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        fs::create_dir_all(&project).unwrap();
        let cache = LocalCache::new(project.join(".dvc/cache"));
        let outside = dir.path().join("secret");
        fs::write(&outside, b"hello\n").unwrap();
        let link = project.join("l");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let meta = fs::symlink_metadata(&link).unwrap();
        let got = content_of(&link, &Entry::Link(meta), HashKind::Md5, &cache, &project);
        assert_eq!(got.unwrap(), None);
        // Inside the project it is read.
        let inside = project.join("inside");
        fs::write(&inside, b"hello\n").unwrap();
        fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("inside", &link).unwrap();
        let meta = fs::symlink_metadata(&link).unwrap();
        let got = content_of(&link, &Entry::Link(meta), HashKind::Md5, &cache, &project);
        assert_eq!(
            got.unwrap().unwrap().to_string(),
            "b1946ac92492d2347c6235b4d2611184"
        );
    }
}
