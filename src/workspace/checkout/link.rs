//! Work-tree files made from cache objects the way `cache.type` says (DVC's link types):
//! `reflink` and `copy` give a private file of mode `0666 & ~umask`, `hardlink` the cache's
//! own read-only inode, `symlink` an absolute link to the cache object. Types are tried in
//! the configured order; one the file systems refuse (cross-device, unsupported) is dropped
//! for the rest of the run, as DVC drops it for the rest of its batch.
//!
//! Every file is made under a temporary name in its final directory and renamed onto its
//! name, so a killed checkout never leaves half a file under an output's name.
//!
//! Where DVC is wrong, this is not: an executable (`isexec`) is never hard- or symlinked,
//! since its execute bit would land on the shared cache object (DVC chmods the cache inode
//! to 0544, after which DVC no longer trusts it); it gets a private copy instead.

use std::fs;
use std::io;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use crate::dvc::cache::open_object;

/// One of DVC's `cache.type` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LinkType {
    Reflink,
    Copy,
    Hardlink,
    Symlink,
}

impl LinkType {
    fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            LinkType::Reflink => "reflink",
            LinkType::Copy => "copy",
            LinkType::Hardlink => "hardlink",
            LinkType::Symlink => "symlink",
        }
    }
}

/// `cache.type` as DVC reads it: a comma-separated list (or a single name); the default
/// `reflink,copy`. An unknown name is an error, as in DVC's config schema.
pub fn parse_cache_type(value: Option<&str>) -> Result<Vec<LinkType>, String> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(vec![LinkType::Reflink, LinkType::Copy]);
    };
    // A list written by `dvc config cache.type "[a, b]"` keeps its brackets.
    let value = value.trim_start_matches('[').trim_end_matches(']');
    let mut types = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let t = match name {
            "reflink" => LinkType::Reflink,
            "copy" => LinkType::Copy,
            "hardlink" => LinkType::Hardlink,
            "symlink" => LinkType::Symlink,
            other => {
                return Err(format!(
                    "cache.type: unknown link type '{other}' (DVC's are reflink, copy, hardlink, symlink)"
                ))
            }
        };
        if !types.contains(&t) {
            types.push(t);
        }
    }
    if types.is_empty() {
        return Ok(vec![LinkType::Reflink, LinkType::Copy]);
    }
    Ok(types)
}

/// Makes work-tree files from cache objects; shared by the workers of one checkout.
pub struct Linker {
    types: Vec<LinkType>,
    /// Types a file system refused: not tried again in this run.
    refused: [AtomicBool; 4],
    /// What the file system said when the last type was refused: the cause every later
    /// file that finds no type left is given too.
    refusal: std::sync::Mutex<Option<(Option<i32>, String)>>,
    /// Mode of private copies: `0666 & ~umask`.
    file_mode: u32,
}

/// Why a file could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("cannot read cache object {}: {source}", path.display())]
    Object {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot make {}: no link type of cache.type ({types}) works here: {last}{}", path.display(), copy_hint(types))]
    NoLinkType {
        path: PathBuf,
        types: String,
        last: io::Error,
    },
}

/// The way out when every configured link type was refused: a copy works wherever a file
/// can be written.
fn copy_hint(types: &str) -> String {
    if types.split(',').any(|t| t == "copy") {
        String::new()
    } else {
        format!(" (add copy as a fallback: `dvc config cache.type {types},copy`)")
    }
}

impl Linker {
    pub fn new(types: Vec<LinkType>) -> Linker {
        Linker {
            types,
            refused: Default::default(),
            refusal: Default::default(),
            file_mode: 0o666 & !crate::dvc::dir_modes::umask(),
        }
    }

    /// The mode a private copy gets (`isexec`: with the owner's execute bit, as DVC's
    /// `stat | S_IXUSR`).
    pub fn copy_mode(&self, isexec: bool) -> u32 {
        self.file_mode | if isexec { 0o100 } else { 0 }
    }

    /// Makes `dest` from the cache object at `object` (a regular file, never followed if
    /// it is a link). `dest` must not exist as a directory; a file there is replaced by
    /// the rename. Returns the link type used.
    pub fn make(&self, object: &Path, dest: &Path, isexec: bool) -> Result<LinkType, LinkError> {
        let (src, size) = open_object_sized(object).map_err(|source| LinkError::Object {
            path: object.to_path_buf(),
            source,
        })?;
        let dir = dest.parent().expect("work-tree paths have a directory");
        let mut last: Option<io::Error> = None;
        for &t in &self.types {
            if self.refused[t.index()].load(Ordering::Relaxed) {
                continue;
            }
            // The exec bit would land on the shared cache inode: a private copy instead.
            // An empty file is made anew, as DVC does (no link-count limits).
            let t = match t {
                LinkType::Hardlink | LinkType::Symlink if isexec => LinkType::Copy,
                LinkType::Hardlink if size == 0 => LinkType::Copy,
                t => t,
            };
            let temp = dir.join(crate::temp_files::temp_name());
            let made = match t {
                LinkType::Reflink => self.private_copy(&src, size, &temp, isexec, true),
                LinkType::Copy => self.private_copy(&src, size, &temp, isexec, false),
                LinkType::Hardlink => fs::hard_link(object, &temp),
                LinkType::Symlink => {
                    let target = absolute(object);
                    std::os::unix::fs::symlink(target, &temp)
                }
            };
            match made {
                Ok(()) => {
                    if let Err(source) = fs::rename(&temp, dest) {
                        let _ = fs::remove_file(&temp);
                        return Err(LinkError::Write {
                            path: dest.to_path_buf(),
                            source,
                        });
                    }
                    return Ok(t);
                }
                Err(e) => {
                    let _ = fs::remove_file(&temp);
                    if refusal(&e) {
                        self.refused[t.index()].store(true, Ordering::Relaxed);
                        *self.refusal.lock().expect("refusal lock") =
                            Some((e.raw_os_error(), e.to_string()));
                        last = Some(e);
                        continue;
                    }
                    return Err(LinkError::Write {
                        path: dest.to_path_buf(),
                        source: e,
                    });
                }
            }
        }
        Err(LinkError::NoLinkType {
            path: dest.to_path_buf(),
            types: self
                .types
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(","),
            last: last.unwrap_or_else(|| {
                match self.refusal.lock().expect("refusal lock").clone() {
                    Some((Some(code), _)) => io::Error::from_raw_os_error(code),
                    Some((None, message)) => io::Error::other(message),
                    None => io::Error::other("every link type was refused"),
                }
            }),
        })
    }

    /// Makes `dest` a private copy of `object` (mode as a copy's), whatever `cache.type`
    /// says: for a file whose exec bit must change but which shares the cache's inode.
    pub fn make_copy(&self, object: &Path, dest: &Path, isexec: bool) -> Result<(), LinkError> {
        let copier = Linker {
            types: vec![LinkType::Reflink, LinkType::Copy],
            refused: Default::default(),
            refusal: Default::default(),
            file_mode: self.file_mode,
        };
        copier.make(object, dest, isexec).map(|_| ())
    }

    /// A new file at `temp` with `src`'s bytes: cloned (`reflink`) or copied by the kernel.
    fn private_copy(
        &self,
        src: &fs::File,
        size: u64,
        temp: &Path,
        isexec: bool,
        reflink: bool,
    ) -> io::Result<()> {
        // Made with the work tree's mode (the umask applies, as to DVC's copies); only an
        // exec bit the umask strips needs a chmod after.
        let mode = self.copy_mode(isexec);
        let out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(temp)?;
        if reflink {
            // SAFETY: FICLONE takes the source descriptor as its argument; both are open.
            let r = unsafe { libc::ioctl(out.as_raw_fd(), libc::FICLONE, src.as_raw_fd()) };
            if r != 0 {
                return Err(io::Error::last_os_error());
            }
        } else {
            copy_range(src, &out, size)?;
        }
        if mode & crate::dvc::dir_modes::umask() != 0 {
            out.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        Ok(())
    }
}

/// Opens a cache object as [`open_object`] does (never through a link, never a FIFO) and
/// says its size, with one `fstat`.
fn open_object_sized(path: &Path) -> io::Result<(fs::File, u64)> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    // A refusal is said in `open_object`'s words (a link, not a regular file).
    let file = match file {
        Ok(f) => f,
        Err(e) => return Err(open_object(path).err().unwrap_or(e)),
    };
    let meta = file.metadata()?;
    if !meta.is_file() {
        let not_file = || io::Error::other(format!("{} is not a regular file", path.display()));
        return Err(open_object(path).err().unwrap_or_else(not_file));
    }
    Ok((file, meta.len()))
}

/// `size` bytes of `src` from its start into `dest`: `copy_file_range` with explicit
/// offsets (one call for a small file), or a read-and-write loop where the kernel cannot.
fn copy_range(src: &fs::File, dest: &fs::File, size: u64) -> io::Result<()> {
    let (mut off_in, mut off_out): (i64, i64) = (0, 0);
    while (off_out as u64) < size {
        let want = (size - off_out as u64).min(1 << 30) as usize;
        // SAFETY: both descriptors are open; the offsets are ours.
        let n = unsafe {
            libc::copy_file_range(
                src.as_raw_fd(),
                &mut off_in,
                dest.as_raw_fd(),
                &mut off_out,
                want,
                0,
            )
        };
        if n > 0 {
            continue;
        }
        if n == 0 {
            break; // the object shrank: what is there is copied
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINTR) => continue,
            Some(libc::EXDEV | libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL) if off_out == 0 => {
                use std::io::Seek;
                let (mut src, mut dest) = (src, dest);
                src.rewind()?;
                io::copy(&mut src, &mut dest)?;
                return Ok(());
            }
            _ => return Err(e),
        }
    }
    Ok(())
}

/// Errors that say "this link type does not work between these file systems", after
/// which DVC tries the next type.
fn refusal(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EPERM
                | libc::EOPNOTSUPP
                | libc::EXDEV
                | libc::ENOTTY
                | libc::ENOSYS
                | libc::EINVAL
                | libc::EAGAIN
                | libc::EMLINK
        )
    )
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Opens nothing: whether `path` is a symbolic link to `object` (a file `symlink` made).
pub fn links_to(path: &Path, object: &Path) -> bool {
    fs::read_link(path).is_ok_and(|t| t == absolute(object))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn object(dir: &Path, bytes: &[u8]) -> PathBuf {
        let p = dir.join("obj");
        fs::write(&p, bytes).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        p
    }

    #[test]
    fn parses_cache_type_like_dvc() {
        use LinkType::*;
        assert_eq!(parse_cache_type(None).unwrap(), vec![Reflink, Copy]);
        assert_eq!(parse_cache_type(Some("hardlink")).unwrap(), vec![Hardlink]);
        assert_eq!(
            parse_cache_type(Some("[symlink, copy]")).unwrap(),
            vec![Symlink, Copy]
        );
        assert!(parse_cache_type(Some("teleport")).is_err());
    }

    #[test]
    fn each_type_makes_what_dvc_makes() {
        let dir = tempfile::tempdir().unwrap();
        let obj = object(dir.path(), b"hello\n");
        let umask = crate::dvc::dir_modes::umask();

        let copy = Linker::new(vec![LinkType::Copy]);
        let dest = dir.path().join("copied");
        assert_eq!(copy.make(&obj, &dest, false).unwrap(), LinkType::Copy);
        assert_eq!(fs::read(&dest).unwrap(), b"hello\n");
        assert_eq!(fs::metadata(&dest).unwrap().mode() & 0o777, 0o666 & !umask);
        copy.make(&obj, &dest, true).unwrap();
        assert_eq!(
            fs::metadata(&dest).unwrap().mode() & 0o777,
            (0o666 & !umask) | 0o100
        );

        let hard = Linker::new(vec![LinkType::Hardlink]);
        let dest = dir.path().join("hard");
        assert_eq!(hard.make(&obj, &dest, false).unwrap(), LinkType::Hardlink);
        assert_eq!(
            fs::metadata(&dest).unwrap().ino(),
            fs::metadata(&obj).unwrap().ino()
        );
        // An executable gets a private copy: the cache object keeps 0444.
        let exec = dir.path().join("exec");
        assert_eq!(hard.make(&obj, &exec, true).unwrap(), LinkType::Copy);
        assert_eq!(fs::metadata(&obj).unwrap().mode() & 0o777, 0o444);
        assert_ne!(
            fs::metadata(&exec).unwrap().ino(),
            fs::metadata(&obj).unwrap().ino()
        );

        let sym = Linker::new(vec![LinkType::Symlink]);
        let dest = dir.path().join("sym");
        assert_eq!(sym.make(&obj, &dest, false).unwrap(), LinkType::Symlink);
        assert!(links_to(&dest, &obj));

        // Nothing else is left in the directory: no temporary file.
        let mut names: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["copied", "exec", "hard", "obj", "sym"]);
    }

    #[test]
    fn a_linked_object_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let secret = object(dir.path(), b"secret");
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&secret, &link).unwrap();
        let copy = Linker::new(vec![LinkType::Copy]);
        let err = copy
            .make(&link, &dir.path().join("out"), false)
            .unwrap_err();
        assert!(matches!(err, LinkError::Object { .. }), "{err}");
        assert!(!dir.path().join("out").exists());
    }
}
