//! Temporary files a killed writer left in the cache. Every object is written under a
//! temporary name first (see [`super::cache_writer`]), so a writer killed mid-object leaves
//! one behind, never a partial object under a final name. Finding those would mean reading
//! every shard directory of a cache that may hold millions of objects, so it is done only
//! when needed: a writer marks itself in `.dvc/tmp` (`git-dvc-writing-<host>-<pid>`) while
//! it runs and unmarks itself when done; a marker whose process is gone says a sweep is due.

use std::fs;
use std::path::{Path, PathBuf};

use super::cache::LocalCache;
use crate::storage::local::LocalStorage;
use crate::storage::Storage;
use crate::temp_files::{hostname, is_stale_temp, pid_alive};

const MARKER_PREFIX: &str = "git-dvc-writing-";
/// A marker this old is a leftover whichever host wrote it.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// This process's mark; removed when dropped.
#[derive(Debug)]
pub struct WritingMarker {
    path: PathBuf,
}

impl WritingMarker {
    /// Marks this process as writing `cache`; first, if a marker says a writer died, removes
    /// the temporary files such writers left (ours from dead processes on this host, any
    /// older than a day) and those markers. Returns the mark and how many files went.
    pub fn begin(dvc_dir: &Path, cache: &LocalCache) -> std::io::Result<(WritingMarker, usize)> {
        let tmp = dvc_dir.join("tmp");
        fs::create_dir_all(&tmp)?;
        let dead: Vec<PathBuf> = fs::read_dir(&tmp)?
            .flatten()
            .filter(|e| is_dead_marker(&e.file_name().to_string_lossy(), &e.path()))
            .map(|e| e.path())
            .collect();
        let mut removed = 0;
        if !dead.is_empty() {
            removed = sweep(cache.root());
            for marker in &dead {
                let _ = fs::remove_file(marker);
            }
        }
        let path = tmp.join(format!(
            "{MARKER_PREFIX}{}-{}",
            hostname(),
            std::process::id()
        ));
        fs::write(&path, b"")?;
        Ok((WritingMarker { path }, removed))
    }
}

impl Drop for WritingMarker {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

fn is_dead_marker(name: &str, path: &Path) -> bool {
    let Some(rest) = name.strip_prefix(MARKER_PREFIX) else {
        return false;
    };
    if let Some((host, pid)) = rest.rsplit_once('-') {
        if let Ok(pid) = pid.parse::<i32>() {
            if host == hostname() && pid != std::process::id() as i32 && !pid_alive(pid) {
                return true;
            }
        }
    }
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_some_and(|age| age > STALE_AFTER)
}

/// Stale temporary files in both object layouts and in the run cache.
fn sweep(root: &Path) -> usize {
    let mut removed = LocalStorage::new(root.to_path_buf()).remove_stale_temporaries();
    let runs = root.join("runs");
    for shard in read_dirs(&runs) {
        for key_dir in read_dirs(&shard) {
            for entry in fs::read_dir(&key_dir).into_iter().flatten().flatten() {
                let name = entry.file_name();
                let name = name.to_string_lossy();
                if is_stale_temp(&name, &entry.path()) && fs::remove_file(entry.path()).is_ok() {
                    removed += 1;
                }
            }
        }
    }
    removed
}

fn read_dirs(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_writers_temporaries_are_swept_a_live_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let dvc_dir = dir.path().join(".dvc");
        let cache = LocalCache::new(dvc_dir.join("cache"));
        let shard = cache.root().join("files/md5/ab");
        fs::create_dir_all(&shard).unwrap();
        let host = hostname();
        // pid 0x7ffffffe is far above any pid_max: no such process.
        let dead = format!(".git-dvc-{host}-2147483646-AAAAAAAAAAAAAAAA.tmp");
        let live = format!(
            ".git-dvc-{host}-{}-BBBBBBBBBBBBBBBB.tmp",
            std::process::id()
        );
        fs::write(shard.join(&dead), b"partial").unwrap();
        fs::write(shard.join(&live), b"in flight").unwrap();
        fs::write(shard.join("cdef"), b"an object").unwrap();

        // No dead marker: nothing is swept.
        let (marker, removed) = WritingMarker::begin(&dvc_dir, &cache).unwrap();
        assert_eq!(removed, 0);
        drop(marker);
        assert!(shard.join(&dead).exists());
        assert!(!dvc_dir.join("tmp").read_dir().unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(MARKER_PREFIX)));

        fs::write(
            dvc_dir.join(format!("tmp/{MARKER_PREFIX}{host}-2147483646")),
            b"",
        )
        .unwrap();
        let (_marker, removed) = WritingMarker::begin(&dvc_dir, &cache).unwrap();
        assert_eq!(removed, 1);
        assert!(!shard.join(&dead).exists());
        assert!(shard.join(&live).exists());
        assert!(shard.join("cdef").exists());
        assert!(!dvc_dir
            .join(format!("tmp/{MARKER_PREFIX}{host}-2147483646"))
            .exists());
    }
}
