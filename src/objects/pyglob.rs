//! Glob patterns as DVC expands `--glob` targets: Python 3.11's
//! `glob.iglob(pattern, recursive=True)` (`dvc/utils/__init__.py: glob_targets`), over any
//! tree that can list a directory ([`Listing`]): the work tree, or the paths a revision's
//! outputs cover.
//!
//! Python's rules, which differ from shell and `globset` globs: `*`, `?` and `[…]` (`[!…]`
//! negates) never match `/`; a backslash is an ordinary character; a name starting with
//! `.` is matched by a wildcard only when the pattern component starts with `.` too; a
//! component that is exactly `**` matches zero or more directories (never hidden ones);
//! components without wildcards must exist; a trailing `/` matches directories only.
//!
//! ```
//! use git_dvc::objects::pyglob::{fnmatch, has_magic};
//! assert!(fnmatch("a-1", "a-[0-9]"));
//! assert!(!fnmatch("a-x", "a-[!x]"));
//! assert!(has_magic("d/*") && !has_magic("d/1"));
//! ```

use std::path::{Path, PathBuf};

/// A tree the expansion walks. Paths are `/`-separated and relative to the tree's base
/// (`""` is the base itself).
pub trait Listing {
    /// The names in directory `dir` (directories only with `dirs_only`); none when `dir`
    /// is no directory.
    fn list(&self, dir: &str, dirs_only: bool) -> Vec<String>;
    /// Whether `path` exists (a symbolic link counts, even a broken one).
    fn exists(&self, path: &str) -> bool;
    fn is_dir(&self, path: &str) -> bool;
    /// Whether `**` may descend into the directory `path`: a tree with symbolic links
    /// refuses links, so that a cycle cannot make the walk endless.
    fn may_recurse(&self, _path: &str) -> bool {
        true
    }
}

/// Whether `s` holds a wildcard (Python's `glob.has_magic`).
pub fn has_magic(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Every match of `pattern` in `tree`, as Python's `glob.iglob(pattern, recursive=True)`
/// yields them (names in sorted order rather than directory order).
pub fn expand(pattern: &str, tree: &dyn Listing) -> Vec<String> {
    let mut out = Vec::new();
    iglob(pattern, tree, false, &mut out);
    // `**` first yields the base itself as `""`: iglob drops it.
    if (pattern.is_empty() || pattern.starts_with("**"))
        && out.first().is_some_and(String::is_empty)
    {
        out.remove(0);
    }
    out
}

/// `glob._iglob`.
fn iglob(pathname: &str, tree: &dyn Listing, dirs_only: bool, out: &mut Vec<String>) {
    let (dirname, basename) = split(pathname);
    if !has_magic(pathname) {
        let found = match basename.is_empty() {
            false => tree.exists(pathname),
            true => tree.is_dir(dirname),
        };
        if found {
            out.push(pathname.to_string());
        }
        return;
    }
    if dirname.is_empty() {
        glob_in_dir("", basename, tree, dirs_only, out);
        return;
    }
    let dirs = if dirname != pathname && has_magic(dirname) {
        let mut dirs = Vec::new();
        iglob(dirname, tree, true, &mut dirs);
        dirs
    } else {
        vec![dirname.to_string()]
    };
    for dir in dirs {
        let mut names = Vec::new();
        glob_in_dir(&dir, basename, tree, dirs_only, &mut names);
        out.extend(names.into_iter().map(|name| path_join(&dir, &name)));
    }
}

/// `_glob0`, `_glob1` or `_glob2` for one component, by its kind: names relative to `dir`.
fn glob_in_dir(
    dir: &str,
    basename: &str,
    tree: &dyn Listing,
    dirs_only: bool,
    out: &mut Vec<String>,
) {
    if basename == "**" {
        out.push(String::new());
        rlistdir(dir, tree, dirs_only, out);
    } else if has_magic(basename) {
        let hidden_too = basename.starts_with('.');
        out.extend(
            tree.list(dir, dirs_only)
                .into_iter()
                .filter(|name| hidden_too || !name.starts_with('.'))
                .filter(|name| fnmatch(name, basename)),
        );
    } else {
        let found = match basename.is_empty() {
            false => tree.exists(&join(dir, basename)),
            true => tree.is_dir(dir),
        };
        if found {
            out.push(basename.to_string());
        }
    }
}

/// `_rlistdir`: every name below `dir`, recursively, hidden ones (and what is below them)
/// left out.
fn rlistdir(dir: &str, tree: &dyn Listing, dirs_only: bool, out: &mut Vec<String>) {
    for name in tree.list(dir, dirs_only) {
        if name.starts_with('.') {
            continue;
        }
        let path = join(dir, &name);
        out.push(name.clone());
        if tree.is_dir(&path) && tree.may_recurse(&path) {
            let mut below = Vec::new();
            rlistdir(&path, tree, dirs_only, &mut below);
            out.extend(below.into_iter().map(|b| format!("{name}/{b}")));
        }
    }
}

/// `os.path.split`: (head without trailing slashes unless it is all slashes, tail).
fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        None => ("", path),
        Some(i) => {
            let head = &path[..=i];
            let trimmed = head.trim_end_matches('/');
            (
                if trimmed.is_empty() { head } else { trimmed },
                &path[i + 1..],
            )
        }
    }
}

/// `glob._join`: either part alone when the other is empty.
fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() || name.is_empty() {
        format!("{dir}{name}")
    } else {
        path_join(dir, name)
    }
}

/// `os.path.join(dir, name)` for a relative `name`: `join("d", "")` is `d/`.
fn path_join(dir: &str, name: &str) -> String {
    if dir.is_empty() || dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// One element of a compiled `fnmatch` pattern.
#[derive(Debug, PartialEq)]
enum Token {
    Char(char),
    /// `?`
    Any,
    /// `*`
    Star,
    /// `[…]`: inclusive ranges (a single character is a range of one), negated by `!`.
    Set {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// `fnmatch.fnmatchcase(name, pattern)`, as `fnmatch.translate` compiles it.
pub fn fnmatch(name: &str, pattern: &str) -> bool {
    let tokens = compile(pattern);
    let name: Vec<char> = name.chars().collect();
    matches(&tokens, &name)
}

fn compile(pattern: &str) -> Vec<Token> {
    let pat: Vec<char> = pattern.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < pat.len() {
        let c = pat[i];
        i += 1;
        match c {
            '*' => {
                if tokens.last() != Some(&Token::Star) {
                    tokens.push(Token::Star);
                }
            }
            '?' => tokens.push(Token::Any),
            '[' => {
                // The closing `]`: a `]` right after `[` or `[!` belongs to the set.
                let mut j = i;
                if pat.get(j) == Some(&'!') {
                    j += 1;
                }
                if pat.get(j) == Some(&']') {
                    j += 1;
                }
                while j < pat.len() && pat[j] != ']' {
                    j += 1;
                }
                if j >= pat.len() {
                    tokens.push(Token::Char('['));
                    continue;
                }
                let mut body = &pat[i..j];
                i = j + 1;
                let negated = body.first() == Some(&'!');
                if negated {
                    body = &body[1..];
                }
                tokens.push(Token::Set {
                    negated,
                    ranges: set_ranges(body),
                });
            }
            c => tokens.push(Token::Char(c)),
        }
    }
    tokens
}

/// A set's body as a regular-expression class reads it: `a-z` is a range, a `-` first or
/// last is itself; a reversed range matches nothing, as Python drops it.
fn set_ranges(body: &[char]) -> Vec<(char, char)> {
    let mut ranges = Vec::new();
    let mut k = 0;
    while k < body.len() {
        if k + 2 < body.len() && body[k + 1] == '-' {
            if body[k] <= body[k + 2] {
                ranges.push((body[k], body[k + 2]));
            }
            k += 3;
        } else {
            ranges.push((body[k], body[k]));
            k += 1;
        }
    }
    ranges
}

fn token_matches(token: &Token, c: char) -> bool {
    match token {
        Token::Char(p) => *p == c,
        Token::Any => true,
        Token::Star => true,
        Token::Set { negated, ranges } => {
            ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&c)) != *negated
        }
    }
}

/// Wildcard matching with backtracking to the last `*` only: linear for each `*`.
fn matches(tokens: &[Token], name: &[char]) -> bool {
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if t < tokens.len() && tokens[t] == Token::Star {
            star = Some((t, n));
            t += 1;
        } else if t < tokens.len() && token_matches(&tokens[t], name[n]) {
            t += 1;
            n += 1;
        } else if let Some((st, sn)) = star {
            t = st + 1;
            n = sn + 1;
            star = Some((st, sn + 1));
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|tok| *tok == Token::Star)
}

/// The file system below `base` (the current directory DVC globs from).
pub struct FsListing {
    base: PathBuf,
}

impl FsListing {
    pub fn new(base: &Path) -> FsListing {
        FsListing {
            base: base.to_path_buf(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        if rel.is_empty() {
            self.base.clone()
        } else {
            self.base.join(rel)
        }
    }
}

impl Listing for FsListing {
    fn list(&self, dir: &str, dirs_only: bool) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.path(dir)) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .flatten()
            // `entry.is_dir()` in Python follows links; so does `Path::is_dir`.
            .filter(|e| !dirs_only || e.path().is_dir())
            // Names that are not UTF-8 cannot be targets.
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        names
    }

    fn exists(&self, path: &str) -> bool {
        self.path(path).symlink_metadata().is_ok()
    }

    fn is_dir(&self, path: &str) -> bool {
        self.path(path).is_dir()
    }

    fn may_recurse(&self, path: &str) -> bool {
        // Python follows links here and ends a cycle only at the path-length limit.
        !self.path(path).is_symlink()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A tree from `/`-separated file paths; directories are implied.
    struct Paths(BTreeMap<String, bool>);

    impl Paths {
        fn new(files: &[&str]) -> Paths {
            let mut map = BTreeMap::new();
            for f in files {
                let parts: Vec<&str> = f.split('/').collect();
                for i in 1..parts.len() {
                    map.insert(parts[..i].join("/"), true);
                }
                map.insert(f.to_string(), false);
            }
            Paths(map)
        }
    }

    impl Listing for Paths {
        fn list(&self, dir: &str, dirs_only: bool) -> Vec<String> {
            self.0
                .iter()
                .filter(|(p, is_dir)| {
                    let parent = p.rsplit_once('/').map_or("", |(d, _)| d);
                    parent == dir.trim_end_matches('/') && (!dirs_only || **is_dir)
                })
                .map(|(p, _)| p.rsplit('/').next().unwrap().to_string())
                .collect()
        }
        fn exists(&self, path: &str) -> bool {
            self.0.contains_key(path.trim_end_matches('/'))
        }
        fn is_dir(&self, path: &str) -> bool {
            path.is_empty() || self.0.get(path.trim_end_matches('/')) == Some(&true)
        }
    }

    fn tree() -> Paths {
        Paths::new(&[
            "a.txt",
            "a.txt.dvc",
            "d/1",
            "d/2",
            "d/.hidden",
            "grid/a-1/out.txt",
            "grid/a-2/out.txt",
            "grid/b-1/out.txt",
            ".dvc/config",
            "dvc.yaml",
            "dvc.lock",
            "back\\slash",
        ])
    }

    #[track_caller]
    fn check(pattern: &str, expected: &[&str]) {
        assert_eq!(expand(pattern, &tree()), expected, "{pattern}");
    }

    /// Each expected list is what Python 3.11's `glob.glob(pattern, recursive=True)`
    /// returns in a directory laid out as [`tree`] (sorted).
    #[test]
    fn expands_as_python_glob() {
        check("d/*", &["d/1", "d/2"]);
        check("d/.*", &["d/.hidden"]);
        check(
            "grid/a-*/out.txt",
            &["grid/a-1/out.txt", "grid/a-2/out.txt"],
        );
        check("grid/*-1", &["grid/a-1", "grid/b-1"]);
        check("d*", &["d", "dvc.lock", "dvc.yaml"]);
        check(
            "*",
            &[
                "a.txt",
                "a.txt.dvc",
                "back\\slash",
                "d",
                "dvc.lock",
                "dvc.yaml",
                "grid",
            ],
        );
        check("*/", &["d/", "grid/"]);
        check("d/1", &["d/1"]);
        check("d/3", &[]);
        check("nomatch*", &[]);
        check("d/**", &["d/", "d/1", "d/2"]);
        check(
            "**/out.txt",
            &["grid/a-1/out.txt", "grid/a-2/out.txt", "grid/b-1/out.txt"],
        );
        check(
            "grid/**/",
            &["grid/", "grid/a-1/", "grid/a-2/", "grid/b-1/"],
        );
        check(".dvc/*", &[".dvc/config"]);
        check("back\\*", &["back\\slash"]);
        check("[ab]*.dvc", &["a.txt.dvc"]);
        check("d/[!1]", &["d/2"]);
        check(
            "**",
            &[
                "a.txt",
                "a.txt.dvc",
                "back\\slash",
                "d",
                "d/1",
                "d/2",
                "dvc.lock",
                "dvc.yaml",
                "grid",
                "grid/a-1",
                "grid/a-1/out.txt",
                "grid/a-2",
                "grid/a-2/out.txt",
                "grid/b-1",
                "grid/b-1/out.txt",
            ],
        );
    }

    #[test]
    fn fnmatch_like_python() {
        assert!(fnmatch("a.txt", "*.txt"));
        assert!(
            fnmatch(".x", "*x"),
            "hidden names are filtered by glob, not fnmatch"
        );
        assert!(fnmatch("[", "["));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("]", "[]]"));
        assert!(fnmatch("x", "[!]]"));
        assert!(!fnmatch("]", "[!]]"));
        assert!(fnmatch("-", "[a-]"));
        assert!(fnmatch("m", "[a-z]"));
        assert!(!fnmatch("m", "[z-a]"));
        assert!(fnmatch("abcabd", "*ab?"));
        assert!(!fnmatch("abc", "*ab"));
        assert!(fnmatch("", "*"));
        assert!(fnmatch("é", "?"));
        assert!(!fnmatch("A", "a"));
    }

    #[test]
    fn splits_like_os_path() {
        assert_eq!(split("a/b/"), ("a/b", ""));
        assert_eq!(split("a//b"), ("a", "b"));
        assert_eq!(split("/x"), ("/", "x"));
        assert_eq!(split("x"), ("", "x"));
    }
}
