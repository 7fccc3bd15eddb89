//! What the server check prints: git forwards the hook's output to the person pushing
//! (`remote: …`), who is not the server's administrator. So:
//! - absolute file-system paths are replaced by `<server path>` (a permission error names
//!   the server's directories; a pusher has no business knowing them, nor can use them);
//! - under GitLab (`GL_ID` set by Gitaly), lines of a rejection start with `GL-HOOK-ERR: `,
//!   the prefix GitLab shows in its web UI;
//! - the unredacted lines go to the file git config `dvc.preReceive.log` names, when set, so
//!   the administrators can see what the pusher cannot.

use std::io::Write;
use std::path::PathBuf;

/// GitLab shows hook output lines that start with this in its UI.
const GITLAB_PREFIX: &str = "GL-HOOK-ERR: ";
const HIDDEN: &str = "<server path>";

/// The hook's output channel to the pusher (stderr).
#[derive(Clone)]
pub struct Pusher {
    gitlab: bool,
    log: Option<PathBuf>,
    /// Where the log lines say they come from (the repository).
    origin: String,
}

impl Pusher {
    /// `GL_ID` set: running under GitLab's Gitaly.
    pub fn from_env() -> Pusher {
        Pusher {
            gitlab: std::env::var_os("GL_ID").is_some_and(|v| !v.is_empty()),
            log: None,
            origin: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }

    /// Also append every line, unredacted, to `log` (the administrators' copy).
    pub fn log_to(&mut self, log: Option<PathBuf>) {
        self.log = log;
    }

    /// A rejection or warning: each line of `text`, redacted, with GitLab's prefix.
    pub fn say(&self, text: &str) {
        self.emit(text, self.gitlab);
    }

    /// An acceptance: not an error, so never GitLab's error prefix.
    pub fn note(&self, text: &str) {
        self.emit(text, false);
    }

    /// Only for the administrators: the log, never the pusher.
    pub fn admin(&self, text: &str) {
        self.log(text);
    }

    fn emit(&self, text: &str, prefixed: bool) {
        let prefix = if prefixed { GITLAB_PREFIX } else { "" };
        let mut stderr = std::io::stderr().lock();
        for line in text.lines() {
            let _ = writeln!(stderr, "{prefix}{}", hide_paths(line));
        }
        self.log(text);
    }

    fn log(&self, text: &str) {
        if let Some(log) = &self.log {
            // Best effort: a log that cannot be written must not change the verdict.
            if let Ok(mut file) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
            {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let mut entry = String::new();
                for line in text.lines() {
                    entry.push_str(&format!("{now} {} {line}\n", self.origin));
                }
                let _ = file.write_all(entry.as_bytes());
            }
        }
    }
}

/// `text` with every absolute path replaced by `<server path>`. A path starts with `/` at
/// the start of the text or after a space, quote, bracket, `=` or backtick (so `s3://b/k`
/// and `a/b` stay), and ends at whitespace, a quote, a closing bracket, a comma, or a `:`
/// or `.` that ends a word.
pub fn hide_paths(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i] == '/'
            && (i == 0
                || matches!(
                    chars[i - 1],
                    ' ' | '\t' | '\'' | '"' | '(' | '[' | '=' | '`'
                ));
        if !starts {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut end = i;
        while end < chars.len() {
            let c = chars[end];
            let word_end = chars
                .get(end + 1)
                .is_none_or(|n| n.is_whitespace() || matches!(n, '\'' | '"' | ')' | '`'));
            if c.is_whitespace()
                || matches!(c, '\'' | '"' | ')' | ']' | ',' | '`')
                || (matches!(c, ':' | '.' | ';') && word_end)
            {
                break;
            }
            end += 1;
        }
        out.push_str(HIDDEN);
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::hide_paths;

    #[test]
    fn absolute_paths_are_hidden_and_nothing_else() {
        assert_eq!(
            hide_paths("cannot read /srv/git/a.git/dvc/config: Permission denied (os error 13)"),
            "cannot read <server path>: Permission denied (os error 13)"
        );
        assert_eq!(
            hide_paths("storage '/srv/dvc' at /x/y."),
            "storage '<server path>' at <server path>."
        );
        assert_eq!(
            hide_paths("(/tmp/a, /tmp/b)"),
            "(<server path>, <server path>)"
        );
        assert_eq!(hide_paths("url=/data/store"), "url=<server path>");
        // Not file-system paths of the server: URLs, relative paths, pushed file names.
        for kept in [
            "s3://bucket/key/files/md5/ab/cdef",
            "data/images.dvc@1234567 (d41d8cd98f00b204e9800998ecf8427e.dir)",
            "git dvc push --rev <old>..<new>",
            "printf '%s\\n' \"$input\" | each hook",
            "a/b/c: not found",
        ] {
            assert_eq!(hide_paths(kept), kept);
        }
    }
}
