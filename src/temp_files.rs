//! Files written under a temporary name beside their final name, then renamed, so a
//! half-written object is never visible under its final name (remote, cache, work tree);
//! and telling a killed run's leftovers from a write still in flight.

use std::fs;
use std::path::Path;

use rand::distr::{Alphanumeric, SampleString};

/// Temporary files are `.git-dvc-<host>-<pid>-<random>.tmp` beside their final name: the
/// host and pid let a later run tell a killed push's leftovers from another push in flight.
pub fn temp_name() -> String {
    format!(
        ".{TEMP_PREFIX}{}-{}-{}.tmp",
        hostname(),
        std::process::id(),
        Alphanumeric.sample_string(&mut rand::rng(), 16)
    )
}

/// Writes `bytes` to `path` under a temporary name beside it, then renames: readers see
/// the old file or the new one, never half of one. Makes the directory first.
pub fn replace_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("a file has a directory");
    fs::create_dir_all(dir)?;
    let temp = dir.join(temp_name());
    fs::write(&temp, bytes)?;
    fs::rename(&temp, path).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

const TEMP_PREFIX: &str = "git-dvc-";
/// Temporary files older than this are leftovers whoever wrote them (DVC's included).
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

pub(crate) fn hostname() -> String {
    // Asked once per process: checkout names thousands of temporary files.
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(read_hostname).clone()
}

fn read_hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(0);
    let name = if ok {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        String::new()
    };
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(crate) fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Whether a temporary file in the remote is a leftover safe to delete: one of ours from this
/// host whose process is gone, or any temporary file older than a day.
pub fn is_stale_temp(name: &str, path: &Path) -> bool {
    if !name.starts_with('.') || !name.ends_with(".tmp") {
        return false;
    }
    if let Some(rest) = name
        .strip_prefix(&format!(".{TEMP_PREFIX}"))
        .and_then(|r| r.strip_suffix(".tmp"))
    {
        let mut parts = rest.rsplitn(3, '-');
        let (_rand, pid, host) = (parts.next(), parts.next(), parts.next());
        if let (Some(pid), Some(host)) = (pid.and_then(|p| p.parse::<i32>().ok()), host) {
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
