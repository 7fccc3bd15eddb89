//! `GIT_DVC_TRACE_OBJECTS`: a log of every object git-dvc reads to parse, for proving what a
//! command costs (a push that touches no DVC file must read none).
//!
//! Set it to a file path to append one line per read there (`blob <git oid>` for git blobs:
//! DVC files, vars files, `.dvc/config`, `.dvcignore`; `manifest <dvc oid>` for `.dir`
//! manifests); `1` writes the lines to stderr. Unset, each read costs one cached check.

use std::io::Write;
use std::sync::OnceLock;

/// The environment variable that turns the log on.
pub const ENV: &str = "GIT_DVC_TRACE_OBJECTS";

enum Sink {
    Off,
    Stderr,
    File(std::sync::Mutex<std::fs::File>),
}

fn sink() -> &'static Sink {
    static SINK: OnceLock<Sink> = OnceLock::new();
    SINK.get_or_init(|| match std::env::var_os(ENV) {
        None => Sink::Off,
        Some(v) if v.is_empty() || v == "0" => Sink::Off,
        Some(v) if v == "1" => Sink::Stderr,
        Some(path) => match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
        {
            Ok(f) => Sink::File(std::sync::Mutex::new(f)),
            // A trace that cannot be written must not change what the command does.
            Err(_) => Sink::Stderr,
        },
    })
}

/// Records that an object of `kind` with id `id` is being read.
pub fn object(kind: &str, id: &dyn std::fmt::Display) {
    match sink() {
        Sink::Off => {}
        Sink::Stderr => eprintln!("git-dvc trace: {kind} {id}"),
        Sink::File(f) => {
            if let Ok(mut f) = f.lock() {
                let _ = writeln!(f, "{kind} {id}");
            }
        }
    }
}
