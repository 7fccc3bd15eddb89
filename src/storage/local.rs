//! A local-directory remote (`url = /path` or a relative path), laid out exactly as DVC lays
//! it out. Objects are written to `.<random>.tmp` beside their final name and renamed, then
//! made read-only (0444) as DVC makes them.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::{ErrorKind, Storage, StorageError};
use crate::dvc::dir_modes;
use crate::temp_files::{is_stale_temp, temp_name};

pub struct LocalStorage {
    root: PathBuf,
    /// The mode of the directories it makes (`shared = group`: 02775, as DVC).
    dir_mode: u32,
    /// Directories a listing read whole, with the dot-names (temporaries) it saw there: the
    /// sweep of stale temporaries before an upload does not read them again.
    read_whole: Mutex<HashMap<PathBuf, Vec<String>>>,
    /// Shard directories this storage has made (or found) and set the mode of: the next
    /// object into one needs no `stat` and `chmod` of it.
    dirs_made: Mutex<HashSet<PathBuf>>,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> LocalStorage {
        LocalStorage {
            root,
            dir_mode: dir_modes::dir_mode(false),
            read_whole: Mutex::new(HashMap::new()),
            dirs_made: Mutex::new(HashSet::new()),
        }
    }

    /// The remote's `shared = group`: directories teammates in the group can add to.
    pub fn with_shared_group(mut self, shared_group: bool) -> LocalStorage {
        self.dir_mode = dir_modes::dir_mode(shared_group);
        self
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

impl Storage for LocalStorage {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match fs::metadata(self.path(key)) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            // ENOTDIR means the remote's layout is broken (a file where a directory belongs):
            // that is unreachable storage, not a missing object.
            Err(e) => Err(StorageError::from_io(
                &format!("cannot check {}", self.path(key).display()),
                e,
            )),
        }
    }

    fn read(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let read_capped = |path: &Path| -> std::io::Result<Vec<u8>> {
            let mut bytes = Vec::new();
            fs::File::open(path)?
                .take(limit.saturating_add(1))
                .read_to_end(&mut bytes)?;
            Ok(bytes)
        };
        match read_capped(&self.path(key)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            // A directory under an object's name is no object, as `exists` and `list` say:
            // counted once, as missing (not also as an unreadable manifest).
            Err(_) if self.path(key).is_dir() => Ok(None),
            Err(e) => Err(StorageError::from_io(
                &format!("cannot read {}", self.path(key).display()),
                e,
            )),
        }
    }

    fn put(
        &self,
        key: &str,
        source: &mut dyn Read,
        size: u64,
        _md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        let target = self.path(key);
        let dir = target
            .parent()
            .ok_or_else(|| StorageError::new(ErrorKind::Other, format!("bad key {key}")))?;
        let make_dirs = || {
            dir_modes::make_dirs(dir, self.dir_mode).map_err(|e| {
                StorageError::from_io(&format!("cannot create {}", dir.display()), e)
            })?;
            self.dirs_made
                .lock()
                .expect("dirs lock")
                .insert(dir.to_path_buf());
            Ok::<(), StorageError>(())
        };
        if !self.dirs_made.lock().expect("dirs lock").contains(dir) {
            make_dirs()?;
        }
        let temp = dir.join(temp_name());
        let create = || {
            fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&temp)
        };
        let file = match create() {
            // The directory went away since this storage made it (a clean-up elsewhere).
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                make_dirs()?;
                create()
            }
            other => other,
        }
        .map_err(|e| StorageError::from_io(&format!("cannot create {}", temp.display()), e))?;
        let result = write_then_rename(source, size, file, &temp, &target);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn get(&self, key: &str, sink: &mut dyn Write) -> Result<bool, StorageError> {
        let path = self.path(key);
        let mut file = match fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => {
                return Err(StorageError::from_io(
                    &format!("cannot read {}", path.display()),
                    e,
                ))
            }
        };
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Ok(false); // no object, as `exists` says
        }
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(StorageError::from_io(
                        &format!("cannot read {}", path.display()),
                        e,
                    ))
                }
            };
            sink.write_all(&buf[..n])
                .map_err(|e| StorageError::from_io("cannot write the downloaded object", e))?;
        }
    }

    fn local_file(&self, key: &str) -> Option<PathBuf> {
        Some(self.path(key))
    }

    fn list_tree(&self, prefix: &str) -> Result<Option<Vec<String>>, StorageError> {
        let mut keys = Vec::new();
        walk_tree(&self.root, prefix, 0, &mut keys)?;
        keys.sort();
        Ok(Some(keys))
    }

    fn traverse_prefix_len(&self) -> Option<usize> {
        Some(2)
    }

    fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
        let mut seen = Vec::new();
        let mut keys = list_files(&self.root, prefix, &mut seen)?;
        self.read_whole.lock().expect("listing lock").extend(seen);
        if let Some(limit) = limit {
            keys.truncate(limit);
        }
        Ok(keys)
    }

    fn remove_stale_temporaries(&self) -> usize {
        let mut removed = 0;
        let read_whole = std::mem::take(&mut *self.read_whole.lock().expect("listing lock"));
        for prefix in ["", "files/md5/"] {
            let Ok(shards) = fs::read_dir(self.root.join(prefix)) else {
                continue;
            };
            for shard in shards.flatten() {
                let name = shard.file_name();
                if name.len() != 2 || !shard.file_type().is_ok_and(|t| t.is_dir()) {
                    continue;
                }
                let dir = shard.path();
                // A shard the status listing read whole: its dot-names are known.
                let names = match read_whole.get(&dir) {
                    Some(names) => names.clone(),
                    None => {
                        let Ok(entries) = fs::read_dir(&dir) else {
                            continue;
                        };
                        entries
                            .flatten()
                            .filter_map(|e| e.file_name().to_str().map(str::to_string))
                            .collect()
                    }
                };
                for name in names {
                    let path = dir.join(&name);
                    if is_stale_temp(&name, &path) && fs::remove_file(&path).is_ok() {
                        removed += 1;
                    }
                }
            }
        }
        removed
    }
}

/// The copy buffer for an object of `size` bytes (the caller's word, only a hint): a small
/// object needs no megabyte zeroed for it.
fn copy_buffer(size: u64) -> Vec<u8> {
    vec![0u8; (size.saturating_add(1) as usize).clamp(8 << 10, 1 << 20)]
}

/// Copies `source` into `file` (just created as `temp`), makes it read-only and renames it
/// to `target`.
fn write_then_rename(
    source: &mut dyn Read,
    size: u64,
    mut file: fs::File,
    temp: &Path,
    target: &Path,
) -> Result<(), StorageError> {
    let mut buf = copy_buffer(size);
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(StorageError::from_io("cannot read the cache object", e)),
        };
        file.write_all(&buf[..n])
            .map_err(|e| StorageError::from_io(&format!("cannot write {}", temp.display()), e))?;
    }
    // Read-only as DVC makes objects; through the open file, not the path again.
    file.set_permissions(fs::Permissions::from_mode(0o444))
        .map_err(|e| StorageError::from_io(&format!("cannot chmod {}", temp.display()), e))?;
    drop(file);
    fs::rename(temp, target)
        .map_err(|e| StorageError::from_io(&format!("cannot rename into {}", target.display()), e))
}

/// How deep [`walk_tree`] descends: the run cache is three levels deep (`runs/ab/<key>/<value>`);
/// anything far deeper is no DVC layout.
const MAX_TREE_DEPTH: usize = 8;

/// Adds every regular file under `root/dir` (a `/`-terminated key prefix) to `keys`, at any
/// depth up to [`MAX_TREE_DEPTH`], skipping dot-names (temporary files). Links are not
/// followed.
fn walk_tree(
    root: &Path,
    dir: &str,
    depth: usize,
    keys: &mut Vec<String>,
) -> Result<(), StorageError> {
    let base = root.join(dir);
    let entries = match fs::read_dir(&base) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(StorageError::from_io(
                &format!("cannot list {}", base.display()),
                e,
            ))
        }
    };
    for entry in entries {
        let entry = entry.map_err(|e| StorageError::from_io("cannot list", e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() {
            keys.push(format!("{dir}{name}"));
        } else if kind.is_dir() && depth < MAX_TREE_DEPTH {
            walk_tree(root, &format!("{dir}{name}/"), depth + 1, keys)?;
        }
    }
    Ok(())
}

/// Lists the keys under `root` that start with `prefix`, skipping temporary files. A
/// prefix ending with `/` names a directory, listed two levels deep as DVC's layout has
/// them (`xx/yyyy…`) when it is a layout root, or one level when it is a shard (`xx/`).
/// Each directory read whole is added to `read_whole` with the dot-names it holds.
fn list_files(
    root: &Path,
    prefix: &str,
    read_whole: &mut Vec<(PathBuf, Vec<String>)>,
) -> Result<Vec<String>, StorageError> {
    let (dir, name_prefix) = match prefix.rfind('/') {
        Some(i) => (&prefix[..=i], &prefix[i + 1..]),
        None => ("", prefix),
    };
    let base = root.join(dir);
    let mut out = Vec::new();
    let top = match fs::read_dir(&base) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => {
            return Err(StorageError::from_io(
                &format!("cannot list {}", base.display()),
                e,
            ))
        }
    };
    let mut top_dots = Vec::new();
    for entry in top {
        let entry = entry.map_err(|e| StorageError::from_io("cannot list", e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('.') {
            top_dots.push(name.to_string());
            continue;
        }
        if !name.starts_with(name_prefix) {
            continue;
        }
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_file() {
            out.push(format!("{dir}{name}"));
        } else if kind.is_dir() && name.len() == 2 {
            let entries = fs::read_dir(entry.path())
                .map_err(|e| StorageError::from_io(&format!("cannot list {name}"), e))?;
            let mut dots = Vec::new();
            for sub in entries {
                let sub = sub.map_err(|e| StorageError::from_io("cannot list", e))?;
                let file = sub.file_name();
                let Some(file) = file.to_str() else { continue };
                if file.starts_with('.') {
                    dots.push(file.to_string());
                    continue;
                }
                if !sub.file_type().is_ok_and(|t| t.is_file()) {
                    continue;
                }
                out.push(format!("{dir}{name}/{file}"));
            }
            read_whole.push((entry.path(), dots));
        }
    }
    read_whole.push((base, top_dots));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_streams_an_object_and_says_when_there_is_none() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().to_path_buf());
        storage
            .put("files/md5/ab/cdef", &mut &b"bytes"[..], 5, None)
            .unwrap();
        let mut sink = Vec::new();
        assert!(storage.get("files/md5/ab/cdef", &mut sink).unwrap());
        assert_eq!(sink, b"bytes");
        let mut sink = Vec::new();
        assert!(!storage.get("files/md5/ab/nothing", &mut sink).unwrap());
        assert!(sink.is_empty());
        // A directory under an object's name is no object.
        fs::create_dir_all(dir.path().join("files/md5/cd/ef")).unwrap();
        assert!(!storage.get("files/md5/cd/ef", &mut sink).unwrap());
        assert_eq!(
            storage.local_file("files/md5/ab/cdef"),
            Some(dir.path().join("files/md5/ab/cdef"))
        );
    }

    #[test]
    fn a_shard_directory_removed_since_it_was_made_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().to_path_buf());
        storage
            .put("files/md5/ab/one", &mut &b"1"[..], 1, None)
            .unwrap();
        fs::remove_file(dir.path().join("files/md5/ab/one")).unwrap();
        fs::remove_dir(dir.path().join("files/md5/ab")).unwrap();
        storage
            .put("files/md5/ab/two", &mut &b"2"[..], 1, None)
            .unwrap();
        let path = dir.path().join("files/md5/ab/two");
        assert_eq!(fs::read(&path).unwrap(), b"2");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o444
        );
    }

    #[test]
    fn stale_temporaries_are_swept_in_listed_and_unlisted_shards_alike() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().to_path_buf());
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 24 * 3600);
        let temp = |shard: &str, name: &str, stale: bool| {
            let path = dir.path().join("files/md5").join(shard).join(name);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            let file = fs::File::create(&path).unwrap();
            if stale {
                file.set_modified(old).unwrap();
            }
            path
        };
        let listed_stale = temp("ab", ".x.tmp", true);
        let listed_fresh = temp("ab", ".y.tmp", false);
        storage
            .put("files/md5/ab/cdef", &mut &b"x"[..], 1, None)
            .unwrap();
        // Listed whole by the status listing: its dot-names are remembered.
        let keys = storage.list("files/md5/", None).unwrap();
        assert_eq!(keys, vec!["files/md5/ab/cdef"]);
        // Written after the listing, in a shard it never read: found by reading it.
        let unlisted_stale = temp("cd", ".z.tmp", true);
        assert_eq!(storage.remove_stale_temporaries(), 2);
        assert!(!listed_stale.exists() && !unlisted_stale.exists());
        assert!(listed_fresh.exists());
        // Nothing remembered is trusted twice: a second sweep reads the shards again.
        let again = temp("ab", ".w.tmp", true);
        assert_eq!(storage.remove_stale_temporaries(), 1);
        assert!(!again.exists());
    }

    #[test]
    fn list_tree_finds_files_at_any_depth_without_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(dir.path().to_path_buf());
        for key in [
            "runs/ab/k1/v1",
            "runs/ab/k1/v2",
            "runs/cd/k2/v3",
            "files/md5/00/x",
        ] {
            storage.put(key, &mut &b"x"[..], 1, None).unwrap();
        }
        fs::write(dir.path().join("runs/ab/k1/.tmp-leftover.tmp"), b"").unwrap();
        assert_eq!(
            storage.list_tree("runs/").unwrap().unwrap(),
            vec!["runs/ab/k1/v1", "runs/ab/k1/v2", "runs/cd/k2/v3"]
        );
        assert_eq!(
            storage.list_tree("nothing/").unwrap().unwrap(),
            Vec::<String>::new()
        );
    }
}
