//! How commands talk to people: DVC's `ERROR:`/`WARNING:` prefixes on stderr, summaries on
//! stdout.

use crate::error::Error;

pub fn warn(message: &str) {
    eprintln!("WARNING: {message}");
}

pub fn error(message: &str) {
    eprintln!("ERROR: {message}");
}

/// Prints `ERROR: <what> - <error>` (just `ERROR: <error>` when `what` is empty, as DVC's
/// status does) and returns DVC's exit code for it.
pub fn fail(what: &str, err: &Error) -> i32 {
    if let Error::NoRevisionCollected { warnings, .. } = err {
        // DVC's `failed to collect '<rev>', skipping` for each, before the error.
        for w in warnings {
            warn(w);
        }
    }
    if let Error::NotDvcRepo(_) = err {
        // DVC says this without the command's prefix, and exits 253.
        error(&err.to_string());
        return 253;
    }
    if what.is_empty() {
        error(&err.to_string());
    } else {
        error(&format!("{what} - {err}"));
    }
    1
}

/// DVC's pluralised count: `1 file`, `3 files`.
pub fn files(n: usize) -> String {
    if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    }
}

/// With `-v`: how many requests a remote's storage sent (HTTP requests, SFTP operations).
pub fn requests(remote: &str, location: &str, count: u64) {
    eprintln!("remote '{remote}' ({location}): {count} storage requests");
}
