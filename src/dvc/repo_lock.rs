//! DVC's repository lock, `.dvc/tmp/lock`: every DVC command that writes the cache or the
//! work tree holds it (`dvc/lock.py`, through `zc.lockfile`), so git-dvc takes it too
//! whenever it writes the cache: the two tools then never write at the same moment.
//!
//! The protocol is DVC's: open the file without truncating it (create it if absent),
//! `flock(LOCK_EX | LOCK_NB)`, and on success write ` <pid>\n` over its start. A held lock
//! is tried again 6 times, 0.5 s apart (DVC's 3 s), then given up with DVC's message. The
//! lock goes when the returned guard is dropped (or the process dies: `flock` locks die
//! with their descriptor), and the file stays, as DVC leaves it.

use std::fs;
use std::io::{Seek, Write};
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::Duration;

/// DVC's `FAILED_TO_LOCK_MESSAGE`.
pub const LOCK_FAILED: &str = "Unable to acquire lock. Most likely another DVC process is running or was terminated abruptly. Check the page <https://dvc.org/doc/user-guide/troubleshooting#lock-issue> for other possible reasons and to learn how to resolve this.";

const RETRIES: u32 = 6;
const DELAY: Duration = Duration::from_millis(500);

/// Holds the lock until dropped.
#[derive(Debug)]
pub struct RepoLock {
    _file: fs::File,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{LOCK_FAILED}")]
    Held,
    #[error("cannot open DVC's lock {}: {source}", path.display())]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RepoLock {
    /// Takes `<dvc_dir>/tmp/lock`, waiting up to 3 s for another holder.
    pub fn acquire(dvc_dir: &Path) -> Result<RepoLock, LockError> {
        Self::acquire_with(dvc_dir, RETRIES, DELAY)
    }

    fn acquire_with(dvc_dir: &Path, retries: u32, delay: Duration) -> Result<RepoLock, LockError> {
        let tmp = dvc_dir.join("tmp");
        let path = tmp.join("lock");
        let io = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&tmp).map_err(io)?;
        let mut attempts = 0;
        loop {
            let mut file = fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(io)?;
            // SAFETY: flock on a descriptor we own.
            let locked =
                unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if locked {
                let content = format!(" {}\n", std::process::id());
                file.rewind().map_err(io)?;
                file.write_all(content.as_bytes()).map_err(io)?;
                file.set_len(content.len() as u64).map_err(io)?;
                return Ok(RepoLock { _file: file });
            }
            attempts += 1;
            if attempts > retries {
                return Err(LockError::Held);
            }
            std::thread::sleep(delay);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_the_pid_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let first = RepoLock::acquire_with(dir.path(), 0, Duration::ZERO).unwrap();
        let text = fs::read_to_string(dir.path().join("tmp/lock")).unwrap();
        assert_eq!(text, format!(" {}\n", std::process::id()));
        let err = RepoLock::acquire_with(dir.path(), 2, Duration::from_millis(1)).unwrap_err();
        assert!(
            err.to_string().starts_with("Unable to acquire lock."),
            "{err}"
        );
        drop(first);
        RepoLock::acquire_with(dir.path(), 0, Duration::ZERO).unwrap();
    }
}
