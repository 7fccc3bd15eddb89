//! Upload failures as people read them: one line per distinct error, not one per object.
//!
//! A remote that refuses writes (read-only, wrong credentials, a file where a directory
//! must go) fails every object the same way; a line per object buries the one thing to fix
//! under thousands of copies. Failures whose error is the same apart from the object's own
//! key (its shard directory, its temporary file name) are said once with their count; a
//! refusal of access is said once per remote whatever its wording (it is the same cause,
//! and object stores add per-request ids). Distinct errors are listed up to a cap.
//!
//! `git dvc push` (objects and run-cache entries) and the pre-push hook both print through
//! [`lines`], `git dvc fetch` through [`lines_for`] with [`Way::Download`]:
//!
//! ```text
//! ERROR: 1508 files failed to upload to remote 'storage': cannot create /srv/dvc/files/md5/00: Permission denied (os error 13); e.g. '00411460f7c92d2124a67ea0f4cb5f85' (used by data@HEAD)
//! ```

use std::collections::HashMap;

use super::report;
use crate::storage::{ErrorKind, StorageError};

/// Distinct errors listed; the others are counted.
const MAX_LISTED: usize = 10;

/// One object (or run-cache entry) that did not reach its remote.
#[derive(Debug)]
pub struct UploadFailure {
    pub remote: String,
    /// The object id or run-cache key, as messages name it.
    pub id: String,
    /// The storage key (`files/md5/ab/cdef…`): its parts are masked when errors are
    /// compared. Empty when the failure is not about one key.
    pub key: String,
    /// Per-object context after the error, such as ` (used by data.dvc@HEAD)`: never
    /// compared.
    pub note: String,
    pub error: StorageError,
}

impl UploadFailure {
    /// The engine's failure, with the command's per-object context after the error.
    pub fn new(failure: crate::engine::notice::TransferFailure, note: String) -> UploadFailure {
        UploadFailure {
            remote: failure.remote,
            id: failure.id,
            key: failure.key,
            note,
            error: failure.error,
        }
    }
}

/// Which way the failed objects were going: it words the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    Upload,
    Download,
}

/// The lines to print (without a prefix such as `ERROR: `), in the order errors were met.
pub fn lines(failures: &[UploadFailure]) -> Vec<String> {
    lines_for(failures, Way::Upload)
}

/// [`lines`] for failures going either way (`git dvc fetch` prints downloads).
pub fn lines_for(failures: &[UploadFailure], way: Way) -> Vec<String> {
    let groups = group(failures);
    let mut out: Vec<String> = groups
        .iter()
        .take(MAX_LISTED)
        .map(|(first, count)| describe(&failures[*first], *count, way))
        .collect();
    if groups.len() > MAX_LISTED {
        let rest = &groups[MAX_LISTED..];
        let files: usize = rest.iter().map(|(_, n)| n).sum();
        out.push(format!(
            "… and {} other errors, for {}",
            rest.len(),
            report::files(files)
        ));
    }
    out
}

/// (index of the first failure, count) per distinct error, in first-seen order.
fn group(failures: &[UploadFailure]) -> Vec<(usize, usize)> {
    let mut index: HashMap<(&str, Option<String>), usize> = HashMap::new();
    let mut groups: Vec<(usize, usize)> = Vec::new();
    for (i, f) in failures.iter().enumerate() {
        let shape = match f.error.kind {
            ErrorKind::Denied => None,
            _ => Some(mask(&f.error.message, &f.key, &f.id)),
        };
        match index.get(&(f.remote.as_str(), shape.clone())) {
            Some(&g) => groups[g].1 += 1,
            None => {
                index.insert((f.remote.as_str(), shape), groups.len());
                groups.push((i, 1));
            }
        }
    }
    groups
}

fn describe(first: &UploadFailure, count: usize, way: Way) -> String {
    // A corrupt download names the remote's copy in its own message.
    let hint = if first.error.kind == ErrorKind::Corrupt && way == Way::Upload {
        "; delete it from the cache and recreate it (`dvc add`/`dvc repro`) or fetch a good copy (`dvc fetch`)"
    } else {
        ""
    };
    let (verb, from_to) = match way {
        Way::Upload => ("upload", "to"),
        Way::Download => ("download", "from"),
    };
    if count == 1 {
        // DVC's own wording for one failed object.
        return format!(
            "failed to transfer '{}' - {}{}{hint}",
            first.id, first.error, first.note
        );
    }
    format!(
        "{} failed to {verb} {from_to} remote '{}': {}{hint}; e.g. '{}'{}",
        report::files(count),
        first.remote,
        first.error,
        first.id,
        first.note
    )
}

/// `message` with what is particular to this object replaced: the key, the id, each part
/// of the key where it stands as a path segment (`…/files/md5/ab: Permission denied`), and
/// temporary file names (random by design).
fn mask(message: &str, key: &str, id: &str) -> String {
    let mut out = message.to_string();
    for whole in [key, id] {
        if !whole.is_empty() {
            out = out.replace(whole, "<key>");
        }
    }
    let mut parts: Vec<&str> = key.split('/').filter(|p| !p.is_empty()).collect();
    parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for part in parts {
        out = mask_segment(&out, part);
    }
    mask_temp_names(&out)
}

/// Replaces `/<part>` where `part` is a whole path segment.
fn mask_segment(text: &str, part: &str) -> String {
    let needle = format!("/{part}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&needle) {
        let after = &rest[at + needle.len()..];
        let whole = after
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-')));
        out.push_str(&rest[..at]);
        out.push_str(if whole { "/<part>" } else { &needle });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// Replaces git-dvc's temporary names (`.git-dvc-<host>-<pid>-<random>.tmp`).
fn mask_temp_names(text: &str) -> String {
    const START: &str = ".git-dvc-";
    const END: &str = ".tmp";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(START) {
        let Some(len) = rest[at..].find(END) else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str("<temp>");
        rest = &rest[at + len + END.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(remote: &str, oid: &str, kind: ErrorKind, message: &str) -> UploadFailure {
        UploadFailure {
            remote: remote.to_string(),
            id: oid.to_string(),
            key: format!("files/md5/{}/{}", &oid[..2], &oid[2..]),
            note: format!(" (used by {oid}.dvc@HEAD)"),
            error: StorageError::new(kind, message),
        }
    }

    fn oid(i: usize) -> String {
        format!("{i:02x}{}", "0".repeat(30))
    }

    #[test]
    fn the_same_error_apart_from_the_key_is_said_once_with_its_count() {
        let failures: Vec<UploadFailure> = (0..300)
            .map(|i| {
                let oid = oid(i % 256);
                let message = format!(
                    "cannot create /srv/r/files/md5/{}/.git-dvc-host-{i}-abcDEF{i}.tmp: Read-only file system (os error 30)",
                    &oid[..2]
                );
                failure("storage", &oid, ErrorKind::Other, &message)
            })
            .collect();
        let lines = lines(&failures);
        assert_eq!(lines.len(), 1, "{lines:#?}");
        assert!(
            lines[0].starts_with("300 files failed to upload to remote 'storage': cannot create /srv/r/files/md5/00/"),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with(&format!(
            "; e.g. '{}' (used by {}.dvc@HEAD)",
            oid(0),
            oid(0)
        )));
    }

    #[test]
    fn refusals_are_one_per_remote_and_distinct_errors_are_capped() {
        let mut failures = vec![
            failure("a", &oid(1), ErrorKind::Denied, "AccessDenied (request 1)"),
            failure("a", &oid(2), ErrorKind::Denied, "AccessDenied (request 2)"),
            failure("b", &oid(3), ErrorKind::Denied, "AccessDenied (request 3)"),
        ];
        for i in 0..MAX_LISTED + 3 {
            failures.push(failure(
                "a",
                &oid(10 + i),
                ErrorKind::Corrupt,
                &format!("bytes hash to {i:032x}"),
            ));
        }
        let lines = lines(&failures);
        assert_eq!(lines.len(), MAX_LISTED + 1, "{lines:#?}");
        assert!(lines[0]
            .starts_with("2 files failed to upload to remote 'a': AccessDenied (request 1); e.g."));
        assert!(lines[1].starts_with(&format!(
            "failed to transfer '{}' - AccessDenied (request 3) (used by",
            oid(3)
        )));
        assert!(
            lines[2].contains("delete it from the cache"),
            "{}",
            lines[2]
        );
        assert_eq!(lines[MAX_LISTED], "… and 5 other errors, for 5 files");
    }

    #[test]
    fn masking_only_touches_whole_segments() {
        assert_eq!(
            mask(
                "cannot create /r/files/md5/ab: x /abc /ab/",
                "files/md5/ab/cdef",
                "abcdef"
            ),
            "cannot create /r/<part>/<part>/<part>: x /abc /<part>/"
        );
        assert_eq!(mask_temp_names("a/.git-dvc-h-1-xyz.tmp: b"), "a/<temp>: b");
        assert_eq!(mask_temp_names("a/.git-dvc-h"), "a/.git-dvc-h");
    }
}
