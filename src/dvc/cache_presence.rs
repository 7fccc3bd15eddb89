//! Whether the local cache already holds an object, decided as DVC decides it
//! (`LocalHashFileDB.check`): a read-only (0444) regular file is trusted without reading
//! it; any other file under the name is hashed, made read-only again when it matches and
//! deleted when it does not (it would otherwise shadow the good copy forever). A symbolic
//! link is never followed and never counts.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;

use super::cache::{open_object, LocalCache, CACHE_MODE};
use super::hash::DvcHash;
use crate::transfer::verify::Verifier;

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
}
