//! Directories in a DVC cache or local remote, made as DVC makes them
//! (`LocalHashFileDB.makedirs`): `0777 & ~umask`, or `02775` (group-writable, setgid) when
//! the cache (`cache.shared`) or the remote (`shared`) is `group`, so that teammates in
//! the group can add objects beside yours. The mode is set with chmod after mkdir, past
//! the umask, on every directory made and on the innermost one even when it existed
//! (best effort: it may belong to a teammate).
//!
//! ```ignore
//! let mode = dir_modes::dir_mode(config.get("cache", "shared").is_some_and(is_group));
//! dir_modes::make_dirs(&object_dir, mode)?;
//! ```

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `LocalHashFileDB._dir_mode` under `shared = group`.
pub const SHARED_DIR_MODE: u32 = 0o2775;

/// Whether a `shared` option asks for group sharing (DVC's schema lower-cases it and
/// allows only `group`).
pub fn is_group(value: &str) -> bool {
    value.trim().eq_ignore_ascii_case("group")
}

/// The mode DVC gives the directories it makes.
pub fn dir_mode(shared_group: bool) -> u32 {
    if shared_group {
        SHARED_DIR_MODE
    } else {
        0o777 & !umask()
    }
}

/// `mkdir -p dir` with DVC's modes (see the module doc).
pub fn make_dirs(dir: &Path, mode: u32) -> io::Result<()> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut cur = dir;
    while !cur.is_dir() {
        missing.push(cur.to_path_buf());
        match cur.parent() {
            Some(p) if !p.as_os_str().is_empty() => cur = p,
            _ => break,
        }
    }
    for d in missing.iter().rev() {
        match fs::DirBuilder::new().mode(mode).create(d) {
            Ok(()) => {}
            // Another worker or process made it meanwhile.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
        // Only the ones made here: a teammate's directory is left as it is.
        let _ = fs::set_permissions(d, fs::Permissions::from_mode(mode));
    }
    if missing.is_empty() {
        let _ = fs::set_permissions(dir, fs::Permissions::from_mode(mode));
    }
    Ok(())
}

/// The process's umask, read once (and set back at once).
pub fn umask() -> u32 {
    static UMASK: OnceLock<u32> = OnceLock::new();
    *UMASK.get_or_init(|| {
        // SAFETY: umask(2) cannot fail; the old value is restored immediately.
        unsafe {
            let old = libc::umask(0o022);
            libc::umask(old);
            old as u32
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn shared_directories_are_group_writable_and_setgid() {
        let dir = tempfile::tempdir().unwrap();
        let leaf = dir.path().join("store/files/md5/ab");
        make_dirs(&leaf, SHARED_DIR_MODE).unwrap();
        for d in [
            "store",
            "store/files",
            "store/files/md5",
            "store/files/md5/ab",
        ] {
            assert_eq!(mode(&dir.path().join(d)), 0o2775, "{d}");
        }
        // The innermost one is set again when it exists; its parents are not touched.
        fs::set_permissions(&leaf, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(dir.path().join("store"), fs::Permissions::from_mode(0o750)).unwrap();
        make_dirs(&leaf, SHARED_DIR_MODE).unwrap();
        assert_eq!(mode(&leaf), 0o2775);
        assert_eq!(mode(&dir.path().join("store")), 0o750);
        assert!(is_group(" Group "));
        assert!(!is_group("true"));
        assert_eq!(dir_mode(false), 0o777 & !umask());
    }
}
