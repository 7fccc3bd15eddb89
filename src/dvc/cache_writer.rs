//! Objects into the local DVC cache as DVC writes them, from bytes nobody vouches for.
//!
//! Each object is written to a temporary file in its final directory
//! (`.git-dvc-<host>-<pid>-<random>.tmp`, which a later run can tell from one in flight),
//! hashed on the way in, made read-only (0444) and only then renamed onto its name: a
//! reader never sees part of an object, and bytes that do not match the name never get
//! it. Directories are created as DVC creates them: `0777 & ~umask`, or `02775` under
//! `cache.shared = group` (chmod after mkdir, so the umask and the setgid bit come out as
//! DVC's).
//!
//! ```ignore
//! let writer = CacheWriter::new(&cache, shared_group);
//! let mut pending = writer.begin(&hash)?;
//! storage.get(&key, &mut pending)?;     // or pending.copy_file(&path) from a local remote
//! pending.commit()?;                     // verified, 0444, renamed into place
//! ```

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Mutex;

use super::cache::{LocalCache, CACHE_MODE};
use super::dir_modes;
use super::hash::DvcHash;
use crate::transfer::verify::Verifier;

/// Buffer for hashing what a kernel copy wrote.
const HASH_BUFFER: usize = 1 << 20;

/// Whether `FICLONE` works from the remote's file system to the cache's.
const REFLINK_UNKNOWN: u8 = 0;
const REFLINK_WORKS: u8 = 1;
const REFLINK_FAILS: u8 = 2;

/// Why an object did not make it into the cache.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The bytes received are not the object the name stands for.
    #[error("its bytes hash to {actual}, not to its name: that copy is corrupt or was tampered with; nothing was written to the cache")]
    Mismatch { actual: String },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_error<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> WriteError + 'a {
    move |source| WriteError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// Writes objects into one cache; shared by the download workers.
pub struct CacheWriter {
    cache: LocalCache,
    dir_mode: u32,
    /// Directories made (or set to `dir_mode`) in this run: each once.
    ready_dirs: Mutex<HashSet<PathBuf>>,
    reflink: AtomicU8,
}

impl CacheWriter {
    /// `shared_group`: `cache.shared = group` is set.
    pub fn new(cache: &LocalCache, shared_group: bool) -> CacheWriter {
        CacheWriter {
            cache: cache.clone(),
            dir_mode: dir_modes::dir_mode(shared_group),
            ready_dirs: Mutex::new(HashSet::new()),
            reflink: AtomicU8::new(REFLINK_UNKNOWN),
        }
    }

    pub fn cache(&self) -> &LocalCache {
        &self.cache
    }

    /// Starts writing `hash`. Its directory and a temporary file in it are made when the
    /// first byte comes (or at [`PendingObject::commit`], for an empty object), so an
    /// object the remote turns out not to have leaves nothing behind. Dropping the result
    /// without committing it removes the temporary file.
    pub fn begin(&self, hash: &DvcHash) -> PendingObject<'_> {
        let target = self.cache.object_path(hash);
        self.begin_at(target, Some(Verifier::new(hash.clone())))
    }

    /// Starts writing a run-cache entry (`runs/…`, a key the caller has checked): no hash
    /// names its bytes, and DVC leaves entries writable (`0666 & ~umask`).
    pub fn begin_entry(&self, key: &str) -> PendingObject<'_> {
        self.begin_at(self.cache.root().join(key), None)
    }

    fn begin_at(&self, target: PathBuf, verifier: Option<Verifier>) -> PendingObject<'_> {
        PendingObject {
            writer: self,
            temp: None,
            target,
            file: None,
            read_only: verifier.is_some(),
            verifier,
            write_error: None,
        }
    }

    /// A new temporary file beside `target`, its directory made first.
    fn create_temp(&self, target: &Path) -> Result<(PathBuf, fs::File), WriteError> {
        let dir = target.parent().expect("cache paths have a directory");
        self.make_dir(dir)?;
        let temp = dir.join(crate::temp_files::temp_name());
        let file = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o666)
            .open(&temp)
            .map_err(io_error("create", &temp))?;
        Ok((temp, file))
    }

    /// `mkdir -p` with DVC's modes ([`dir_modes::make_dirs`]), once per directory a run.
    fn make_dir(&self, dir: &Path) -> Result<(), WriteError> {
        if self.ready_dirs.lock().expect("dirs lock").contains(dir) {
            return Ok(());
        }
        dir_modes::make_dirs(dir, self.dir_mode).map_err(io_error("create", dir))?;
        self.ready_dirs
            .lock()
            .expect("dirs lock")
            .insert(dir.to_path_buf());
        Ok(())
    }
}

/// One object on its way into the cache. Bytes are written with [`Write`] (hashed as they
/// pass) or copied from a local file by [`PendingObject::copy_file`].
pub struct PendingObject<'a> {
    writer: &'a CacheWriter,
    /// The temporary file, once made; `None` again once renamed.
    temp: Option<PathBuf>,
    target: PathBuf,
    file: Option<fs::File>,
    /// `None` for run-cache entries only: objects always have one.
    verifier: Option<Verifier>,
    /// Objects are made read-only (0444); run-cache entries stay as created.
    read_only: bool,
    /// The first failure to write the temporary file: the cache's fault, not the remote's.
    write_error: Option<io::Error>,
}

impl Write for PendingObject<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = match self.open() {
            Ok(file) => file.write_all(buf),
            Err(e) => Err(io::Error::other(e.to_string())),
        };
        if let Err(e) = result {
            let kind = e.kind();
            let message = format!("cannot write {}: {e}", self.target.display());
            self.write_error.get_or_insert(e);
            return Err(io::Error::new(kind, message));
        }
        if let Some(v) = &mut self.verifier {
            v.update(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl PendingObject<'_> {
    /// The temporary file, made on first use.
    fn open(&mut self) -> Result<&mut fs::File, WriteError> {
        if self.file.is_none() {
            let (temp, file) = self.writer.create_temp(&self.target)?;
            self.temp = Some(temp);
            self.file = Some(file);
        }
        Ok(self.file.as_mut().expect("just made"))
    }

    fn temp_path(&self) -> &Path {
        self.temp.as_deref().unwrap_or(&self.target)
    }

    /// Whether writing to the temporary file failed (a full disk, a read-only cache): a
    /// download that ended in an error may have failed on this side.
    pub fn take_write_error(&mut self) -> Option<io::Error> {
        self.write_error.take()
    }

    /// Copies `source` (a local remote's object) into the temporary file the cheapest way
    /// the file systems allow (reflink, else `copy_file_range`, else read and write), then
    /// hashes what landed. `Ok(false)` when `source` does not exist or is no regular file
    /// (opened without blocking: a FIFO under an object's name cannot hang the fetch).
    pub fn copy_file(&mut self, source: &Path) -> Result<bool, WriteError> {
        let src = match fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(source)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error("read", source)(e)),
        };
        let meta = src.metadata().map_err(io_error("read", source))?;
        if !meta.is_file() {
            return Ok(false);
        }
        self.open()?;
        let dest = self.file.as_ref().expect("opened above");
        let temp_error = |action: &'static str, e: io::Error| WriteError::Io {
            action,
            path: self.temp.clone().unwrap_or_default(),
            source: e,
        };
        // How much the temporary file holds: what a reflink cloned (the source may have
        // grown since it was measured), or what was copied.
        let length = if self.try_reflink(&src, dest) {
            dest.metadata().map_err(|e| temp_error("read", e))?.len()
        } else {
            kernel_copy(&src, dest, meta.len()).map_err(|e| match e {
                CopyFailure::Read(e) => io_error("read", source)(e),
                CopyFailure::Write(e) => temp_error("write", e),
            })?
        };
        // Hash what is in the temporary file (from the page cache), all of it: what will
        // take the name. Nobody else writes it.
        let Some(verifier) = self.verifier.as_mut() else {
            return Ok(true);
        };
        let mut buf = vec![0u8; HASH_BUFFER.min(length.max(1) as usize)];
        let mut offset = 0u64;
        while offset < length {
            let n = pread(dest, &mut buf, offset).map_err(|e| temp_error("read", e))?;
            if n == 0 {
                break;
            }
            verifier.update(&buf[..n]);
            offset += n as u64;
        }
        Ok(true)
    }

    fn try_reflink(&self, src: &fs::File, dest: &fs::File) -> bool {
        if self.writer.reflink.load(Ordering::Relaxed) == REFLINK_FAILS {
            return false;
        }
        // SAFETY: FICLONE takes the source descriptor as its argument; both are open.
        let r = unsafe { libc::ioctl(dest.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) };
        let works = r == 0;
        if !works && self.writer.reflink.load(Ordering::Relaxed) == REFLINK_UNKNOWN {
            // One failure says the file systems cannot share extents: not asked again.
            self.writer.reflink.store(REFLINK_FAILS, Ordering::Relaxed);
        } else if works {
            self.writer.reflink.store(REFLINK_WORKS, Ordering::Relaxed);
        }
        works
    }

    /// Checks the bytes against the name, makes the file read-only and renames it onto its
    /// name (a run-cache entry: renames it only). On any failure the temporary file is
    /// removed and nothing takes the name.
    pub fn commit(mut self) -> Result<(), WriteError> {
        if let Some(e) = self.write_error.take() {
            return Err(io_error("write", self.temp_path())(e));
        }
        if let Some(verifier) = self.verifier.take() {
            verifier
                .finish()
                .map_err(|actual| WriteError::Mismatch { actual })?;
        }
        self.open()?;
        let temp = self.temp.clone().expect("made by open");
        let file = self.file.take().expect("made by open");
        if self.read_only {
            file.set_permissions(fs::Permissions::from_mode(CACHE_MODE))
                .map_err(io_error("make read-only", &temp))?;
        }
        drop(file);
        fs::rename(&temp, &self.target).map_err(io_error("move into place", &self.target))?;
        self.temp = None;
        Ok(())
    }
}

impl Drop for PendingObject<'_> {
    fn drop(&mut self) {
        drop(self.file.take());
        if let Some(temp) = &self.temp {
            let _ = fs::remove_file(temp);
        }
    }
}

enum CopyFailure {
    Read(io::Error),
    Write(io::Error),
}

/// `copy_file_range` until the end of `src`; where the kernel cannot (another file system
/// on old kernels, special files), a plain read and write loop. Returns the bytes written.
fn kernel_copy(src: &fs::File, dest: &fs::File, size: u64) -> Result<u64, CopyFailure> {
    let mut copied = 0u64;
    loop {
        // The measured size is enough: what lands is hashed afterwards, so a source that
        // grew meanwhile makes a mismatch, never a wrong object.
        if copied >= size {
            return Ok(copied);
        }
        let want = (size - copied).clamp(1 << 16, 1 << 30) as usize;
        // SAFETY: both descriptors are open; null offsets use and advance the file offsets.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                std::ptr::null_mut(),
                dest.as_raw_fd(),
                std::ptr::null_mut(),
                want,
                0,
            )
        };
        if n == 0 {
            return Ok(copied);
        }
        if n > 0 {
            copied += n as u64;
            continue;
        }
        let err = io::Error::last_os_error();
        match err.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EXDEV | libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL) if copied == 0 => {
                return read_write_copy(src, dest)
            }
            // Which side failed is not said: report it as the cache's (a write), unless
            // the source cannot be read at all.
            Some(libc::EBADF | libc::EIO) => return Err(CopyFailure::Read(err)),
            _ => return Err(CopyFailure::Write(err)),
        }
    }
}

fn read_write_copy(mut src: &fs::File, mut dest: &fs::File) -> Result<u64, CopyFailure> {
    let mut buf = vec![0u8; HASH_BUFFER];
    let mut copied = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => return Ok(copied),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyFailure::Read(e)),
        };
        dest.write_all(&buf[..n]).map_err(CopyFailure::Write)?;
        copied += n as u64;
    }
}

fn pread(file: &fs::File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::{HashKind, ObjectId};

    fn md5(kind: HashKind, hex: &str) -> DvcHash {
        DvcHash {
            kind,
            oid: ObjectId::parse(hex).unwrap(),
        }
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn streamed_bytes_land_read_only_under_their_name() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let writer = CacheWriter::new(&cache, false);
        let hash = md5(HashKind::Md5, "b1946ac92492d2347c6235b4d2611184");
        let mut pending = writer.begin(&hash);
        pending.write_all(b"hel").unwrap();
        pending.write_all(b"lo\n").unwrap();
        pending.commit().unwrap();
        let obj = dir
            .path()
            .join("cache/files/md5/b1/946ac92492d2347c6235b4d2611184");
        assert_eq!(fs::read(&obj).unwrap(), b"hello\n");
        assert_eq!(mode(&obj), 0o444);
        assert_eq!(mode(obj.parent().unwrap()), 0o777 & !dir_modes::umask());
        assert_eq!(
            entries(obj.parent().unwrap()),
            ["946ac92492d2347c6235b4d2611184"]
        );
    }

    #[test]
    fn wrong_bytes_never_take_the_name_and_leave_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let writer = CacheWriter::new(&cache, false);
        let hash = md5(HashKind::Md5, "b1946ac92492d2347c6235b4d2611184");
        let mut pending = writer.begin(&hash);
        pending.write_all(b"tampered\n").unwrap();
        let err = pending.commit().unwrap_err();
        assert!(matches!(err, WriteError::Mismatch { .. }), "{err}");
        let shard = dir.path().join("cache/files/md5/b1");
        assert!(entries(&shard).is_empty());
        // Dropped without commit: the temporary file goes too.
        let mut pending = writer.begin(&hash);
        pending.write_all(b"hel").unwrap();
        assert_eq!(entries(&shard).len(), 1);
        drop(pending);
        assert!(entries(&shard).is_empty());
        // Nothing written, nothing made: an absent object leaves no directory behind.
        let other = md5(HashKind::Md5, "d41d8cd98f00b204e9800998ecf8427e");
        drop(writer.begin(&other));
        assert!(!dir.path().join("cache/files/md5/d4").exists());
    }

    #[test]
    fn kernel_copies_are_hashed_and_legacy_objects_go_to_the_root_layout() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("remote-object");
        // DVC 2 name of a CRLF text file: md5 of its dos2unix form.
        fs::write(&src, b"hello\r\nworld\r\n").unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let writer = CacheWriter::new(&cache, false);
        let legacy = md5(HashKind::Md5Dos2Unix, "0f723ae7f9bf07744445e93ac5595156");
        let mut pending = writer.begin(&legacy);
        assert!(pending.copy_file(&src).unwrap());
        pending.commit().unwrap();
        let obj = dir.path().join("cache/0f/723ae7f9bf07744445e93ac5595156");
        assert_eq!(fs::read(&obj).unwrap(), b"hello\r\nworld\r\n");
        assert_eq!(mode(&obj), 0o444);

        let wrong = md5(HashKind::Md5, "b1946ac92492d2347c6235b4d2611184");
        let mut pending = writer.begin(&wrong);
        assert!(pending.copy_file(&src).unwrap());
        assert!(matches!(pending.commit(), Err(WriteError::Mismatch { .. })));
        let mut pending = writer.begin(&wrong);
        assert!(!pending.copy_file(&dir.path().join("absent")).unwrap());
    }

    #[test]
    fn shared_group_directories_are_2775() {
        let dir = tempfile::tempdir().unwrap();
        let cache = LocalCache::new(dir.path().join("cache"));
        let writer = CacheWriter::new(&cache, true);
        let hash = md5(HashKind::Md5, "d41d8cd98f00b204e9800998ecf8427e");
        writer.begin(&hash).commit().unwrap();
        for d in [
            "cache",
            "cache/files",
            "cache/files/md5",
            "cache/files/md5/d4",
        ] {
            assert_eq!(mode(&dir.path().join(d)), 0o2775, "{d}");
        }
        let obj = dir
            .path()
            .join("cache/files/md5/d4/1d8cd98f00b204e9800998ecf8427e");
        assert_eq!(mode(&obj), 0o444);
    }
}
