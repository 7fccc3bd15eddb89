//! How commands talk to people: DVC's `ERROR:`/`WARNING:` prefixes on stderr, summaries on
//! stdout.

use crate::error::Error;

pub fn warn(message: &str) {
    eprintln!("WARNING: {message}");
}

pub fn error(message: &str) {
    eprintln!("ERROR: {message}");
}

/// DVC's exit code for a configuration it refuses to load (`configuration error`).
pub const CONFIG_ERROR_EXIT: i32 = 251;

/// DVC's exit code for an error it did not expect (its "unexpected error").
pub const UNEXPECTED_ERROR_EXIT: i32 = 255;

/// Whether `err` is a configuration DVC refuses (see [`config_failure`]): exit 251 even
/// under `-q`, which prints nothing.
pub fn is_config_failure(err: &Error) -> bool {
    match err {
        Error::Storage(e) => e.config,
        Error::Config(c) => c.stops_loading(),
        _ => false,
    }
}

/// A configuration DVC refuses as it opens the repository (a file it cannot parse, a key
/// or value its schema rejects): prints DVC's `ERROR: configuration error - config file
/// error: …` and a hint naming the file, and returns 251, DVC's exit code for it. `None`
/// for any other error.
pub fn config_failure(err: &Error) -> Option<i32> {
    if let Error::Storage(e) = err {
        // A remote option DVC's file system refuses too (its `ConfigError`, 251).
        if !e.config {
            return None;
        }
        error(&format!("configuration error - {}", e.message));
        if e.learn_more {
            error(&e.message);
            eprintln!(
                "Learn more about configuration settings at <https://man.dvc.org/remote/modify>."
            );
            if let Some(remote) = &e.remote {
                eprintln!("hint: in the options of remote '{remote}'");
            }
        }
        return Some(CONFIG_ERROR_EXIT);
    }
    let Error::Config(config) = err else {
        return None;
    };
    if !config.stops_loading() {
        return None;
    }
    error(&format!("configuration error - {config}"));
    match config {
        crate::dvc::config::ConfigError::Invalid { file, .. } => eprintln!(
            "hint: fix or remove it in {file}: DVC refuses this configuration too \
             (the options each remote type takes: https://dvc.org/doc/command-reference/remote/modify)"
        ),
        crate::dvc::config::ConfigError::Syntax {
            file,
            line,
            configobj: true,
            ..
        } => eprintln!("hint: fix line {line} of {file}: DVC cannot parse it either"),
        _ => {}
    }
    Some(CONFIG_ERROR_EXIT)
}

/// Prints `ERROR: <what> - <error>` (just `ERROR: <error>` when `what` is empty, as DVC's
/// status does) and returns DVC's exit code for it.
pub fn fail(what: &str, err: &Error) -> i32 {
    if let Some(code) = config_failure(err) {
        return code;
    }
    if let Error::Storage(e) = err {
        if e.unexpected {
            // DVC's words for an exception it did not expect, and its exit code.
            error(&format!("unexpected error - {}", e.message));
            eprintln!(
                "\nHaving any troubles? Hit us up at https://dvc.org/support, we are always happy to help!"
            );
            if let Some(hint) = &e.hint {
                eprintln!("hint: {hint}");
            }
            return UNEXPECTED_ERROR_EXIT;
        }
    }
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
