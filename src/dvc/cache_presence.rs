//! Whether the local cache already holds an object, decided as DVC decides it
//! (`LocalHashFileDB.check`): a read-only (0444) regular file is trusted without reading
//! it; any other file under the name is hashed, made read-only again when it matches and
//! deleted when it does not (it would otherwise shadow the good copy forever). A symbolic
//! link is never followed and never counts.

use std::collections::{BTreeMap, HashSet};
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};

use rayon::prelude::*;

use super::cache::{open_object, LocalCache, CACHE_MODE};
use super::hash::DvcHash;
use crate::transfer::verify::Verifier;

/// Which of `hashes` the cache holds, each decided as [`is_cached`] decides it, for many
/// objects at once: each shard directory (`files/md5/ab`) is opened once and its objects
/// are looked up relative to it, so the kernel walks one path component per object rather
/// than the whole cache path, which was most of a no-op fetch's time on thousands of
/// objects. A file that is not read-only goes the [`is_cached`] way (hashed).
pub fn cached_among<'h>(
    cache: &LocalCache,
    hashes: impl IntoIterator<Item = &'h DvcHash>,
) -> HashSet<DvcHash> {
    let mut shards: BTreeMap<String, Vec<(&DvcHash, String)>> = BTreeMap::new();
    for hash in hashes {
        let key = hash.relative_key();
        let (shard, name) = key.rsplit_once('/').unwrap_or(("", key.as_str()));
        shards
            .entry(shard.to_string())
            .or_default()
            .push((hash, name.to_string()));
    }
    shards
        .par_iter()
        .flat_map_iter(|(shard, objects)| in_shard(cache, shard, objects))
        .collect()
}

fn in_shard(cache: &LocalCache, shard: &str, objects: &[(&DvcHash, String)]) -> Vec<DvcHash> {
    let dir = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(cache.root().join(shard));
    let dir = match dir {
        Ok(dir) => dir,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        // Whatever else went wrong, the one-by-one way says it for each object.
        Err(_) => {
            return objects
                .iter()
                .filter(|(h, _)| is_cached(cache, h))
                .map(|(h, _)| (*h).clone())
                .collect()
        }
    };
    let mut present = Vec::with_capacity(objects.len());
    for (hash, name) in objects {
        let Ok(cname) = CString::new(name.as_str()) else {
            continue;
        };
        // SAFETY: `st` is written by fstatat before it is read; `dir` outlives the call.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let rc = unsafe {
            libc::fstatat(
                dir.as_raw_fd(),
                cname.as_ptr(),
                &mut st,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc != 0 || st.st_mode & libc::S_IFMT != libc::S_IFREG {
            continue;
        }
        if st.st_mode & 0o777 == CACHE_MODE || is_cached(cache, hash) {
            present.push((*hash).clone());
        }
    }
    present
}

pub fn is_cached(cache: &LocalCache, hash: &DvcHash) -> bool {
    let path = cache.object_path(hash);
    let Ok(meta) = fs::symlink_metadata(&path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    if meta.permissions().mode() & 0o777 == CACHE_MODE {
        return true;
    }
    match hashes_to(&path, hash) {
        Ok(true) => {
            let _ = fs::set_permissions(&path, fs::Permissions::from_mode(CACHE_MODE));
            true
        }
        Ok(false) => {
            let _ = fs::remove_file(&path);
            false
        }
        Err(_) => false,
    }
}

fn hashes_to(path: &std::path::Path, hash: &DvcHash) -> io::Result<bool> {
    use io::Read;
    let mut file = open_object(path)?;
    let mut verifier = Verifier::new(hash.clone());
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => verifier.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(verifier.finish().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::{HashKind, ObjectId};

    #[test]
    fn read_only_is_trusted_other_files_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().to_path_buf());
        let hash = DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::parse("b1946ac92492d2347c6235b4d2611184").unwrap(),
        };
        let path = cache.object_path(&hash);
        assert!(!is_cached(&cache, &hash));
        fs::create_dir_all(path.parent().unwrap()).unwrap();

        // Right bytes, writable: hashed, then protected.
        fs::write(&path, b"hello\n").unwrap();
        assert!(is_cached(&cache, &hash));
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o444
        );

        // Wrong bytes, read-only: trusted, as DVC trusts it.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&path, b"corrupt\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
        assert!(is_cached(&cache, &hash));

        // Wrong bytes, writable: deleted.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(!is_cached(&cache, &hash));
        assert!(!path.exists());

        // A link is no object.
        std::os::unix::fs::symlink(dir.path().join("elsewhere"), &path).unwrap();
        assert!(!is_cached(&cache, &hash));
    }

    #[test]
    fn many_at_once_decide_as_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().to_path_buf());
        let md5 = |bytes: &[u8], legacy: bool| DvcHash {
            kind: if legacy {
                HashKind::Md5Dos2Unix
            } else {
                HashKind::Md5
            },
            oid: ObjectId::parse(&format!("{:x}", md5::Md5::digest(bytes))).unwrap(),
        };
        use md5::Digest;
        let put = |hash: &DvcHash, bytes: &[u8], mode: u32| {
            let path = cache.object_path(hash);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        };
        let trusted = md5(b"a", false);
        put(&trusted, b"a", 0o444);
        let writable_right = md5(b"b", false);
        put(&writable_right, b"b", 0o644);
        let writable_wrong = md5(b"c", false);
        put(&writable_wrong, b"not c", 0o644);
        let legacy = md5(b"d", true);
        put(&legacy, b"d", 0o444);
        let absent = md5(b"e", false);
        let no_shard = DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::parse("ff000000000000000000000000000000").unwrap(),
        };
        let link = md5(b"f", false);
        let link_path = cache.object_path(&link);
        fs::create_dir_all(link_path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(cache.object_path(&trusted), &link_path).unwrap();
        let shard_dir = md5(b"g", false);
        fs::create_dir_all(cache.object_path(&shard_dir)).unwrap();

        let all = [
            &trusted,
            &writable_right,
            &writable_wrong,
            &legacy,
            &absent,
            &no_shard,
            &link,
            &shard_dir,
        ];
        let got = cached_among(&cache, all);
        let want: HashSet<DvcHash> = [&trusted, &writable_right, &legacy]
            .into_iter()
            .cloned()
            .collect();
        assert_eq!(got, want);
        // The writable ones were dealt with as `is_cached` deals with them.
        let mode = fs::metadata(cache.object_path(&writable_right))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o444);
        assert!(!cache.object_path(&writable_wrong).exists());
    }
}
