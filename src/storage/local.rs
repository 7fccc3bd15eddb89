//! A local-directory remote (`url = /path` or a relative path), laid out exactly as DVC lays
//! it out. Objects are written to `.<random>.tmp` beside their final name and renamed, then
//! made read-only (0444) as DVC makes them.

use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rand::distr::{Alphanumeric, SampleString};

use super::{ErrorKind, Storage, StorageError};

pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    pub fn new(root: PathBuf) -> LocalStorage {
        LocalStorage { root }
    }

    fn path(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }
}

/// DVC names its temporary files `.<22 urlsafe chars>.tmp`; ours look the same, so either
/// tool's leftovers are recognisable.
pub fn temp_name() -> String {
    format!(".{}.tmp", Alphanumeric.sample_string(&mut rand::rng(), 22))
}

impl Storage for LocalStorage {
    fn describe(&self) -> String {
        self.root.display().to_string()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match fs::metadata(self.path(key)) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::ENOTDIR) => Ok(false),
            Err(e) => Err(StorageError::from_io(
                &format!("cannot check {}", self.path(key).display()),
                e,
            )),
        }
    }

    fn read(&self, key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        match fs::read(self.path(key)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(StorageError::from_io(
                &format!("cannot read {}", self.path(key).display()),
                e,
            )),
        }
    }

    fn put(&self, key: &str, source: &mut dyn Read, _size: u64) -> Result<(), StorageError> {
        let target = self.path(key);
        let dir = target
            .parent()
            .ok_or_else(|| StorageError::new(ErrorKind::Other, format!("bad key {key}")))?;
        fs::create_dir_all(dir)
            .map_err(|e| StorageError::from_io(&format!("cannot create {}", dir.display()), e))?;
        let temp = dir.join(temp_name());
        let result = write_then_rename(source, &temp, &target);
        if result.is_err() {
            let _ = fs::remove_file(&temp);
        }
        result
    }

    fn list(&self, prefix: &str) -> Option<Result<Vec<String>, StorageError>> {
        Some(list_files(&self.root, prefix))
    }
}

fn write_then_rename(
    source: &mut dyn Read,
    temp: &Path,
    target: &Path,
) -> Result<(), StorageError> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(temp)
        .map_err(|e| StorageError::from_io(&format!("cannot create {}", temp.display()), e))?;
    let mut buf = vec![0u8; 1 << 20];
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
    drop(file);
    fs::set_permissions(temp, fs::Permissions::from_mode(0o444))
        .map_err(|e| StorageError::from_io(&format!("cannot chmod {}", temp.display()), e))?;
    fs::rename(temp, target)
        .map_err(|e| StorageError::from_io(&format!("cannot rename into {}", target.display()), e))
}

/// Lists regular files under `root/prefix`, two levels deep as DVC's layout has them
/// (`xx/yyyy…`), skipping temporary files.
fn list_files(root: &Path, prefix: &str) -> Result<Vec<String>, StorageError> {
    let base = root.join(prefix);
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
    for shard in top {
        let shard = shard.map_err(|e| StorageError::from_io("cannot list", e))?;
        let name = shard.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.len() != 2 || !shard.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let entries = fs::read_dir(shard.path())
            .map_err(|e| StorageError::from_io(&format!("cannot list {name}"), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| StorageError::from_io("cannot list", e))?;
            let file = entry.file_name();
            let Some(file) = file.to_str() else { continue };
            if file.starts_with('.') {
                continue;
            }
            out.push(format!("{prefix}{name}/{file}"));
        }
    }
    Ok(out)
}
