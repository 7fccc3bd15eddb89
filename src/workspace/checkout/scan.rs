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

use rayon::prelude::*;

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
/// `super::check_ancestors`), with the `.dvcignore` patterns of `project` and of every
/// directory from it down to `path`.
pub fn scan(path: &Path, project: &Path) -> io::Result<Found> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Absent),
        Err(e) => return Err(e),
    };
    let ft = meta.file_type();
    if ft.is_dir() {
        let ignores = DvcIgnore::above(project, path);
        let (entries, dirs) = walk(path, &ignores)?;
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

/// The `.dvcignore` files that apply below a directory: the project's and those of each
/// directory down to it (gitignore rules, each relative to its own directory; a deeper
/// file's match wins).
#[derive(Clone)]
struct DvcIgnore {
    matchers: Vec<std::sync::Arc<ignore::gitignore::Gitignore>>,
}

impl DvcIgnore {
    fn above(project: &Path, dir: &Path) -> DvcIgnore {
        let mut dirs = vec![project.to_path_buf()];
        if let Ok(rel) = dir.strip_prefix(project) {
            let mut cur = project.to_path_buf();
            for part in rel.components() {
                cur.push(part);
                dirs.push(cur.clone());
            }
        }
        let mut ignores = DvcIgnore {
            matchers: Vec::new(),
        };
        for d in dirs {
            if d.join(".dvcignore").is_file() {
                ignores = ignores.with_file_in(&d);
            }
        }
        ignores
    }

    /// These rules and those of `dir`'s own `.dvcignore` (which the caller saw there).
    fn with_file_in(&self, dir: &Path) -> DvcIgnore {
        let mut out = self.clone();
        let mut builder = ignore::gitignore::GitignoreBuilder::new(dir);
        // An unreadable pattern is left out, as a bad line is by git.
        let _ = builder.add(dir.join(".dvcignore"));
        if let Ok(m) = builder.build() {
            if m.num_ignores() + m.num_whitelists() > 0 {
                out.matchers.push(std::sync::Arc::new(m));
            }
        }
        out
    }

    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        for m in self.matchers.iter().rev() {
            match m.matched(path, is_dir) {
                ignore::Match::Ignore(_) => return true,
                ignore::Match::Whitelist(_) => return false,
                ignore::Match::None => {}
            }
        }
        false
    }
}

type Listing = (BTreeMap<String, Entry>, Vec<String>);

/// How git-dvc's temporary files start (see [`crate::temp_files::temp_name`]).
const OUR_TEMP: &str = ".git-dvc-";

/// Removes from `dir` (not below it) the temporary files of git-dvc runs on this host that
/// were killed (their process is gone; see [`crate::temp_files::is_stale_temp`]): only
/// names of git-dvc's own pattern, only files and links, never followed.
pub fn sweep_stale_temps(dir: &Path) {
    let Ok(items) = fs::read_dir(dir) else {
        return;
    };
    for item in items.flatten() {
        let name = item.file_name();
        let Some(n) = name.to_str().filter(|n| n.starts_with(OUR_TEMP)) else {
            continue;
        };
        let path = item.path();
        if item.file_type().is_ok_and(|t| !t.is_dir()) && crate::temp_files::is_stale_temp(n, &path)
        {
            let _ = fs::remove_file(&path);
        }
    }
}

/// Every entry below `dir`, without following links: `read_dir`'s file types decide what
/// is a directory, and one `lstat` per non-directory gives its stamp. The `.dvcignore` of
/// each directory met applies to it and below, as DVC applies it. The sub-directories of
/// `dir` are walked in parallel (a no-op checkout is these `lstat`s, one per file), each
/// one without recursion, whatever its depth.
fn walk(dir: &Path, ignores: &DvcIgnore) -> io::Result<Listing> {
    let mut part = Part::default();
    let subdirs = list_dir(dir, "", ignores, &mut part)?;
    let below: Vec<io::Result<Part>> = subdirs
        .into_par_iter()
        .map(|(abs, rel, ignores)| walk_subtree(abs, rel, ignores))
        .collect();
    for sub in below {
        let sub = sub?;
        part.entries.extend(sub.entries);
        part.dirs.extend(sub.dirs);
    }
    Ok((part.entries.into_iter().collect(), part.dirs))
}

/// What a walk found: entries by `/`-separated path, and directories.
#[derive(Default)]
struct Part {
    entries: Vec<(String, Entry)>,
    dirs: Vec<String>,
}

/// A directory still to list: its path, its path relative to the output, and the
/// `.dvcignore` rules in force there.
type Pending = (PathBuf, String, DvcIgnore);

fn walk_subtree(abs: PathBuf, rel: String, ignores: DvcIgnore) -> io::Result<Part> {
    let mut part = Part::default();
    let mut stack: Vec<Pending> = vec![(abs, rel, ignores)];
    while let Some((abs, rel, ignores)) = stack.pop() {
        let subdirs = list_dir(&abs, &rel, &ignores, &mut part)?;
        stack.extend(subdirs);
    }
    Ok(part)
}

/// Lists one directory into `part`; returns its visible sub-directories.
fn list_dir(
    abs: &Path,
    rel: &str,
    ignores: &DvcIgnore,
    part: &mut Part,
) -> io::Result<Vec<Pending>> {
    let mut items = Vec::new();
    let mut has_dvcignore = false;
    for item in fs::read_dir(abs)? {
        let item = item?;
        let ft = item.file_type()?;
        has_dvcignore |= !ft.is_dir() && item.file_name() == ".dvcignore";
        items.push((item, ft.is_dir()));
    }
    let own;
    let ignores = if has_dvcignore {
        own = ignores.with_file_in(abs);
        &own
    } else {
        ignores
    };
    let mut subdirs = Vec::new();
    for (item, is_dir) in items {
        let name = item.file_name();
        if always_ignored(&name, is_dir) {
            continue;
        }
        let path = item.path();
        if !ignores.matchers.is_empty() && ignores.ignored(&path, is_dir) {
            continue;
        }
        // A temporary file a killed checkout (or fetch) of ours left: removed, never
        // taken for a user's file (whose content would then be "unsaved").
        if !is_dir {
            if let Some(n) = name.to_str().filter(|n| n.starts_with(OUR_TEMP)) {
                if crate::temp_files::is_stale_temp(n, &path) {
                    let _ = fs::remove_file(&path);
                    continue;
                }
            }
        }
        let Some(n) = name.to_str() else {
            // DVC records names as text and cannot check such an output out either (it
            // stops on the name); nothing here can name, keep or delete it reliably.
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{} is not a UTF-8 name, which DVC cannot track: rename or remove it",
                    path.display()
                ),
            ));
        };
        let child = if rel.is_empty() {
            n.to_string()
        } else {
            format!("{rel}/{n}")
        };
        if is_dir {
            part.dirs.push(child.clone());
            subdirs.push((path, child, ignores.clone()));
        } else {
            part.entries.push((child, entry_of(item.metadata()?)));
        }
    }
    Ok(subdirs)
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
        let Found::Dir { entries, dirs } = scan(&out, dir.path()).unwrap() else {
            panic!("a directory")
        };
        let names: Vec<&str> = entries.keys().map(String::as_str).collect();
        assert_eq!(names, ["a", "etc", "sub/b"]);
        assert!(matches!(entries["etc"], Entry::Link(_)));
        let mut dirs = dirs;
        dirs.sort();
        assert_eq!(dirs, ["empty", "empty/deeper", "sub"]);
        assert!(matches!(
            scan(&out.join("nothing"), dir.path()).unwrap(),
            Found::Absent
        ));
        // A deeper `.dvcignore` wins.
        fs::write(out.join("../d/.dvcignore"), "!keep.tmp\n").unwrap();
        fs::write(out.join("keep.tmp"), "k").unwrap();
        let Found::Dir { entries, .. } = scan(&out, dir.path()).unwrap() else {
            panic!("a directory")
        };
        assert!(entries.contains_key("keep.tmp") && !entries.contains_key("skip.tmp"));
        // A killed checkout's temporary file (a dead process on this host) goes; a live
        // one's stays. (Without the `*.tmp` pattern above, which would hide both.)
        fs::remove_file(dir.path().join(".dvcignore")).unwrap();
        let host = crate::temp_files::hostname();
        let dead = out.join(format!(".git-dvc-{host}-999999999-abc.tmp"));
        let live = out.join(format!(".git-dvc-{host}-{}-abc.tmp", std::process::id()));
        fs::write(&dead, "half").unwrap();
        fs::write(&live, "half").unwrap();
        let Found::Dir { entries, .. } = scan(&out, dir.path()).unwrap() else {
            panic!("a directory")
        };
        assert!(!dead.exists() && live.exists());
        assert_eq!(
            entries
                .keys()
                .filter(|k| k.starts_with(".git-dvc-"))
                .count(),
            1
        );
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
