//! The local DVC cache: where `dvc add`/`dvc repro` put objects, in both layouts.
//!
//! Reading is by path ([`LocalCache::object_path`]), always through [`open_object`] (or
//! [`LocalCache::has_object`] to ask): a cache object that is a symbolic link is never
//! followed, so nothing outside the cache can be read, or uploaded, in an object's name.
//! Writing ([`LocalCache::insert_file`],
//! [`LocalCache::insert_bytes`]) is what `dvc add` does: the object goes to a temporary
//! file beside its final name, is made read-only (0444) and renamed into place, so a reader
//! never sees half an object. An object already there and read-only is trusted, as DVC
//! trusts it, and not written again.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};

use super::hash::{DvcHash, HashKind, ObjectId};

/// DVC's mode for cache objects (`LocalHashFileDB.CACHE_MODE`).
pub const CACHE_MODE: u32 = 0o444;

#[derive(Debug, Clone)]
pub struct LocalCache {
    root: PathBuf,
    /// `cache.shared = group`: directories are made group-writable (see
    /// [`super::dir_modes`]).
    shared_group: bool,
}

/// Why an object could not be added to the cache.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The source's bytes no longer hash to the id they were added under.
    #[error("{} changed while it was being added (its bytes now hash to {actual}, not {expected})", path.display())]
    Changed {
        path: PathBuf,
        expected: String,
        actual: String,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> CacheError + 'a {
    move |source| CacheError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

impl LocalCache {
    pub fn new(root: PathBuf) -> LocalCache {
        LocalCache {
            root,
            shared_group: false,
        }
    }

    /// The cache with `cache.shared = group` set or not.
    pub fn with_shared_group(mut self, shared_group: bool) -> LocalCache {
        self.shared_group = shared_group;
        self
    }

    /// Whether `cache.shared = group` is set.
    pub fn shared_group(&self) -> bool {
        self.shared_group
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<cache>/files/md5/ab/cdef…` for DVC 3 objects, `<cache>/ab/cdef…` for legacy ones.
    pub fn object_path(&self, hash: &DvcHash) -> PathBuf {
        self.root.join(hash.relative_key())
    }

    /// Where the DVC 3 (`files/md5/`) object `oid` lives.
    pub fn md5_object_path(&self, oid: &ObjectId) -> PathBuf {
        self.root.join(oid.relative_key(HashKind::Md5))
    }

    /// Whether the object is in the cache: a regular file, not a symbolic link (DVC never
    /// makes one; `cache.dir` itself may be a link to another disk, which is fine).
    pub fn has_object(&self, hash: &DvcHash) -> bool {
        is_object_file(&self.object_path(hash))
    }

    /// The object's bytes, read without following a symbolic link.
    pub fn read_object(&self, hash: &DvcHash) -> std::io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        open_object(&self.object_path(hash))?.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Whether the DVC 3 object is present and read-only, which is how DVC marks an object
    /// it has verified. A symbolic link is not (it is replaced when the object is added).
    pub fn has_protected(&self, oid: &ObjectId) -> bool {
        fs::symlink_metadata(self.md5_object_path(oid))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o777 == CACHE_MODE)
    }

    /// Copies `source` into the cache as DVC 3 object `oid`, checking on the way that its
    /// bytes still hash to `oid`. Returns false when the object was already there.
    pub fn insert_file(&self, source: &Path, oid: &ObjectId) -> Result<bool, CacheError> {
        if self.has_protected(oid) {
            return Ok(false);
        }
        let mut file = fs::File::open(source).map_err(io("read", source))?;
        self.write_object(oid, &mut file, source)?;
        Ok(true)
    }

    /// Writes `bytes` (a `.dir` manifest) as DVC 3 object `oid`. Returns false when the
    /// object was already there.
    pub fn insert_bytes(&self, bytes: &[u8], oid: &ObjectId) -> Result<bool, CacheError> {
        if self.has_protected(oid) {
            return Ok(false);
        }
        let path = self.md5_object_path(oid);
        self.write_object(oid, &mut &bytes[..], &path)?;
        Ok(true)
    }

    fn write_object(
        &self,
        oid: &ObjectId,
        source: &mut dyn Read,
        source_path: &Path,
    ) -> Result<(), CacheError> {
        let target = self.md5_object_path(oid);
        let dir = target
            .parent()
            .expect("object paths have a shard directory");
        super::dir_modes::make_dirs(dir, super::dir_modes::dir_mode(self.shared_group))
            .map_err(io("create", dir))?;
        let temp = dir.join(crate::temp_files::temp_name());
        let result = copy_verified(source, source_path, &temp, oid).and_then(|()| {
            fs::set_permissions(&temp, fs::Permissions::from_mode(CACHE_MODE))
                .map_err(io("make read-only", &temp))?;
            fs::rename(&temp, &target).map_err(io("move into place", &target))
        });
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }
}

/// Whether `path` is a regular file itself, not a symbolic link to one.
fn is_object_file(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

/// Opens a cache file (object or run-cache entry) for reading. A symbolic link is refused
/// (`O_NOFOLLOW`: even one swapped in after [`LocalCache::has_object`] said yes), and so is
/// anything but a regular file (`O_NONBLOCK` so a FIFO cannot hang the open).
pub fn open_object(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                not_an_object(path, "a symbolic link")
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(not_an_object(path, "not a regular file"));
    }
    Ok(file)
}

fn not_an_object(path: &Path, what: &str) -> std::io::Error {
    std::io::Error::other(format!(
        "{} is {what}; DVC cache objects never are: delete it and let DVC recreate it",
        path.display()
    ))
}

fn copy_verified(
    source: &mut dyn Read,
    source_path: &Path,
    temp: &Path,
    oid: &ObjectId,
) -> Result<(), CacheError> {
    let mut out = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(io("create", temp))?;
    let mut md5 = Md5::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io("read", source_path)(e)),
        };
        md5.update(&buf[..n]);
        out.write_all(&buf[..n]).map_err(io("write", temp))?;
    }
    let digest: [u8; 16] = md5.finalize().into();
    // An etag/checksum id has no digest: its bytes can never be shown to match, so it is
    // never written from a workspace file.
    if Some(&digest) != oid.digest() {
        return Err(CacheError::Changed {
            path: source_path.to_path_buf(),
            expected: oid.hex(),
            actual: hex::encode(digest),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_once_read_only_and_refuses_changed_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let src = dir.path().join("f");
        fs::write(&src, b"hello\n").unwrap();
        let oid = ObjectId::parse("b1946ac92492d2347c6235b4d2611184").unwrap();
        assert!(cache.insert_file(&src, &oid).unwrap());
        let obj = dir
            .path()
            .join("cache/files/md5/b1/946ac92492d2347c6235b4d2611184");
        assert_eq!(fs::read(&obj).unwrap(), b"hello\n");
        assert_eq!(
            fs::metadata(&obj).unwrap().permissions().mode() & 0o777,
            0o444
        );
        assert!(!cache.insert_file(&src, &oid).unwrap());

        let wrong = ObjectId::parse("d41d8cd98f00b204e9800998ecf8427e").unwrap();
        let err = cache.insert_file(&src, &wrong).unwrap_err();
        assert!(matches!(err, CacheError::Changed { .. }), "{err}");
        // Nothing is left behind: no object, no temporary file.
        let shard = dir.path().join("cache/files/md5/d4");
        assert_eq!(fs::read_dir(shard).unwrap().count(), 0);
    }

    #[test]
    fn a_symlinked_object_is_not_in_the_cache_and_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("secret");
        fs::write(&outside, b"hello\n").unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let hash = DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::parse("b1946ac92492d2347c6235b4d2611184").unwrap(),
        };
        let obj = cache.object_path(&hash);
        fs::create_dir_all(obj.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(&outside, &obj).unwrap();
        assert!(!cache.has_object(&hash));
        assert!(!cache.has_protected(&hash.oid));
        let err = cache.read_object(&hash).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(open_object(&obj).is_err());
        // A FIFO is refused without blocking.
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        assert!(open_object(&fifo).is_err());
        // The cache directory itself may be a link (another disk).
        let linked = dir.path().join("linked-cache");
        std::os::unix::fs::symlink(dir.path().join("cache"), &linked).unwrap();
        fs::remove_file(&obj).unwrap();
        fs::write(&obj, b"hello\n").unwrap();
        let cache = LocalCache::new(linked);
        assert!(cache.has_object(&hash));
        assert_eq!(cache.read_object(&hash).unwrap(), b"hello\n");
    }
}
