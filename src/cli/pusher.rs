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
    /// The server's own paths (GIT_DIR, its DVC configs, local storage), hidden whole
    /// wherever they appear, whatever characters they hold.
    known: Vec<String>,
    /// Where the log lines say they come from (the repository).
    origin: String,
}

impl Pusher {
    /// `GL_ID` set: running under GitLab's Gitaly.
    pub fn from_env() -> Pusher {
        Pusher {
            gitlab: std::env::var_os("GL_ID").is_some_and(|v| !v.is_empty()),
            log: None,
            known: Vec::new(),
            origin: std::env::current_dir()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
        }
    }

    /// Also append every line, unredacted, to `log` (the administrators' copy).
    pub fn log_to(&mut self, log: Option<PathBuf>) {
        self.log = log;
    }

    /// Also hide these paths whole (a space in one would stop the heuristic midway).
    pub fn hide_also(&mut self, paths: impl IntoIterator<Item = String>) {
        self.known.extend(
            paths
                .into_iter()
                .filter(|p| p.starts_with('/') && p.len() > 1),
        );
        self.known.sort_by_key(|p| std::cmp::Reverse(p.len()));
        self.known.dedup();
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
            let _ = writeln!(stderr, "{prefix}{}", hide_known_paths(line, &self.known));
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

/// The heuristic alone (see [`hide_known_paths`]).
#[cfg(test)]
fn hide_paths(text: &str) -> String {
    hide_known_paths(text, &[])
}

/// `text` with every absolute path replaced by `<server path>`: first the `known` paths
/// (longest first), whole wherever they appear, with what continues them (`/files/md5/…`);
/// then any other, by a heuristic: a path starts with `/` at the start of the text or
/// after a space, quote, bracket, `=` or backtick (so `s3://b/k` and `a/b` stay), and ends
/// at whitespace, a quote, a closing bracket, a comma, or a `:` or `.` that ends a word.
pub fn hide_known_paths(text: &str, known: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let known: Vec<Vec<char>> = known.iter().map(|k| k.chars().collect()).collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        if let Some(k) = known.iter().find(|k| chars[i..].starts_with(k)) {
            out.push_str(HIDDEN);
            i = path_end(&chars, i + k.len());
            continue;
        }
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
        out.push_str(HIDDEN);
        i = path_end(&chars, i);
    }
    out
}

/// Where the path going on at `from` ends (see [`hide_known_paths`]).
fn path_end(chars: &[char], from: usize) -> usize {
    let mut end = from;
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
    end
}

#[cfg(test)]
mod tests {
    use super::{hide_known_paths, hide_paths};

    #[test]
    fn known_paths_are_hidden_whole_spaces_and_all() {
        let known = vec![
            "/srv/sp ace/secret-team".to_string(),
            "/srv/git/a b.git".to_string(),
        ];
        assert_eq!(
            hide_known_paths(
                "cannot read /srv/sp ace/secret-team/afile: Permission denied",
                &known
            ),
            "cannot read <server path>: Permission denied"
        );
        assert_eq!(
            hide_known_paths(
                "storage '/srv/sp ace/secret-team' in /srv/git/a b.git/dvc/config.",
                &known
            ),
            "storage '<server path>' in <server path>."
        );
        // Without them, the heuristic stops at the space (what the known list is for).
        assert_ne!(
            hide_paths("cannot read /srv/sp ace/secret-team/afile"),
            "cannot read <server path>"
        );
        assert_eq!(
            hide_known_paths("data/x.dvc@1234567", &known),
            "data/x.dvc@1234567"
        );
    }

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
