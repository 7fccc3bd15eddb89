//! The `.gitignore` entry `dvc add` writes for a tracked path (scmrepo's `Git.ignore`):
//! `/<name>` in the `.gitignore` of the path's own directory, special characters escaped,
//! appended on a new line, and only when git's rules do not ignore the path already.
//!
//! One deliberate difference: trailing spaces are escaped (`\ `). DVC writes them bare, and
//! git strips bare trailing spaces from a pattern, so DVC's entry for `name ` does not
//! ignore that file. An entry DVC wrote that way is not a rule for `name ` to git either,
//! so `add` writes the escaped one beside it (git decides what is ignored already).
//!
//! ```
//! use git_dvc::workspace::gitignore::{entry, with_entry};
//! assert_eq!(entry("data"), "/data");
//! assert_eq!(entry("we[ir]d #1!?*"), "/we\\[ir\\]d \\#1\\!\\?\\*");
//! assert_eq!(entry("name  "), "/name\\ \\ ");
//! assert_eq!(with_entry("*.log", "/data"), "*.log\n/data\n");
//! ```

use std::fs;
use std::io;
use std::path::Path;

/// The line DVC adds for `name`, a file or directory beside the `.gitignore`: `/` + the name
/// with `\ [ ] ! * # ?` backslash-escaped (pathspec's `GitWildMatchPattern.escape`), and
/// its trailing spaces too (git's `\ `), which DVC leaves bare.
pub fn entry(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    out.push('/');
    let trailing_from = name.trim_end_matches(' ').len();
    for (i, c) in name.char_indices() {
        if "\\[]!*#?".contains(c) || i >= trailing_from {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `existing` with `entry` appended as scmrepo appends it: on a line of its own, starting a
/// new line first when the file does not end with one. (scmrepo's duplicate check reads the
/// file from its end, so it never finds a duplicate; the caller's "is it ignored already?"
/// check is what keeps entries unique.)
pub fn with_entry(existing: &str, entry: &str) -> String {
    let mut out = String::with_capacity(existing.len() + entry.len() + 2);
    out.push_str(existing);
    if !existing.is_empty() && !existing.ends_with(['\n', '\r']) {
        out.push('\n');
    }
    out.push_str(entry);
    out.push('\n');
    out
}

/// Appends the entries for `names` to `dir/.gitignore`, one after the other as DVC appends
/// them, creating the file if needed.
pub fn add_entries(dir: &Path, names: &[String]) -> io::Result<()> {
    let path = dir.join(".gitignore");
    let existing = match fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the file is not UTF-8, and DVC reads it as UTF-8",
            )
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    let updated = names
        .iter()
        .fold(existing, |text, name| with_entry(&text, &entry(name)));
    fs::write(&path, updated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_like_scmrepo() {
        assert_eq!(with_entry("", "/a"), "/a\n");
        assert_eq!(with_entry("/a\n", "/b"), "/a\n/b\n");
        assert_eq!(with_entry("/a", "/b"), "/a\n/b\n");
        assert_eq!(with_entry("/a\r\n", "/b"), "/a\r\n/b\n");
    }

    #[test]
    fn escapes_only_gitignore_specials() {
        assert_eq!(entry("é 😀 data.txt"), "/é 😀 data.txt");
        assert_eq!(entry("a\\b"), "/a\\\\b");
        assert_eq!(entry("!x"), "/\\!x");
    }

    #[test]
    fn trailing_spaces_are_escaped_as_git_reads_them() {
        assert_eq!(entry("a b "), "/a b\\ ");
        assert_eq!(entry("a  "), "/a\\ \\ ");
        assert_eq!(entry(" "), "/\\ ");
        assert_eq!(entry(" a"), "/ a");
        // Read back by the `ignore` crate (the work-tree scans) as git reads it.
        let mut b = ignore::gitignore::GitignoreBuilder::new("/r");
        b.add_line(None, &entry("name ")).unwrap();
        b.add_line(None, &entry("x  ")).unwrap();
        let m = b.build().unwrap();
        assert!(m.matched("/r/name ", false).is_ignore());
        assert!(!m.matched("/r/name", false).is_ignore());
        assert!(m.matched("/r/x  ", false).is_ignore());
        assert!(!m.matched("/r/x ", false).is_ignore());
    }
}
