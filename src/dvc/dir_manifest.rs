//! `.dir` manifests: the JSON list DVC stores for a tracked directory.
//!
//! The bytes must match DVC's exactly, because the object id of a directory is the md5 of
//! those bytes (`dvc_data/hashfile/tree.py`: `json.dumps(tree.as_list(), sort_keys=True)`).
//! [`serialize`] reproduces Python's `json.dumps` defaults byte for byte: entries sorted by
//! `relpath` as Python `str` (code-point order, which is UTF-8 byte order), keys sorted
//! (`md5` before `relpath`), `", "` and `": "` separators, and `ensure_ascii` escaping.
//!
//! [`parse`] reads a manifest from a cache or remote and refuses any `relpath` that could
//! escape or confuse a directory walk where it would be written: absolute, `..`, `.` or
//! empty components, NUL, a `.git` at any depth or a `.hg/` or `.dvc/` directory (DVC's
//! default ignores), and on Windows backslashes and drive prefixes. DVC itself never
//! writes such paths. Every other name DVC accepts is accepted, such as `a\b.txt` on POSIX,
//! where a backslash is an ordinary character. [`RelpathRules::AnyPlatform`] (the server
//! check) also refuses what a Windows client would read as `..`, a root or a drive.
//! A member whose hash names a manifest (`<md5>.dir`) is refused too: DVC lists files
//! only, and such a member would put a `.dir` in the cache without its own members.
//!
//! A relpath listed twice (DVC never writes that) means what it means to DVC, which loads
//! the list into a dict: the last entry's hash, at the first entry's place. So one object
//! per relpath is fetched, counted and checked out.
//!
//! ```
//! use git_dvc::dvc::dir_manifest;
//! let entries = dir_manifest::parse(br#"[{"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"}]"#).unwrap();
//! assert_eq!(dir_manifest::serialize(&entries), br#"[{"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"}]"#);
//! ```

use std::fmt::Write as _;

use md5::{Digest, Md5};
use serde::Deserialize;

use super::hash::{InvalidObjectId, ObjectId};
use super::output::ManifestEntry;

/// Why a `.dir` manifest was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("not a DVC directory manifest: {0}")]
    Json(String),
    #[error("manifest entry {index}: {source}")]
    Hash {
        index: usize,
        source: InvalidObjectId,
    },
    #[error("manifest entry {index}: unsafe relpath {relpath:?}: {reason}")]
    RelPath {
        index: usize,
        relpath: String,
        reason: &'static str,
    },
    #[error(
        "manifest entry {index} ({relpath:?}): member hash {md5} names a directory manifest; \
         DVC manifests list files only, so this one was not written by DVC"
    )]
    DirMember {
        index: usize,
        relpath: String,
        md5: String,
    },
}

/// One list item as DVC writes it. Other keys (meta some tools add) are ignored.
#[derive(Deserialize)]
struct RawEntry<'a> {
    #[serde(borrow)]
    md5: std::borrow::Cow<'a, str>,
    relpath: String,
}

/// Whose path rules a manifest's relpaths must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RelpathRules {
    /// This machine's: what would be unsafe if it wrote the member here.
    #[default]
    ThisPlatform,
    /// Every platform a client may pull on: the server check (`check`, `pre-receive`)
    /// vouches for data others will write, on POSIX or Windows.
    AnyPlatform,
}

/// Parses manifest bytes, validating every hash and relpath under this platform's rules.
/// Entries keep their stored order; a relpath listed twice is one entry, as DVC reads it.
pub fn parse(bytes: &[u8]) -> Result<Vec<ManifestEntry>, ManifestError> {
    parse_with(bytes, RelpathRules::ThisPlatform)
}

/// [`parse`] under the given relpath rules.
pub fn parse_with(bytes: &[u8], rules: RelpathRules) -> Result<Vec<ManifestEntry>, ManifestError> {
    let raw: Vec<RawEntry> =
        serde_json::from_slice(bytes).map_err(|e| ManifestError::Json(e.to_string()))?;
    raw.into_iter()
        .enumerate()
        .map(|(index, entry)| {
            check_relpath_with(&entry.relpath, rules).map_err(|reason| ManifestError::RelPath {
                index,
                relpath: entry.relpath.chars().take(200).collect(),
                reason,
            })?;
            let md5 = ObjectId::parse(&entry.md5)
                .map_err(|source| ManifestError::Hash { index, source })?;
            if md5.is_dir() {
                return Err(ManifestError::DirMember {
                    index,
                    relpath: entry.relpath.chars().take(200).collect(),
                    md5: md5.to_string(),
                });
            }
            Ok(ManifestEntry {
                relpath: entry.relpath,
                md5,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(one_entry_per_relpath)
}

/// DVC's reading of a list that names a relpath more than once (`Tree.from_list` fills a
/// dict): the last entry's hash, at the first entry's position. A manifest DVC wrote is
/// sorted without repeats, which one pass of comparisons confirms.
fn one_entry_per_relpath(entries: Vec<ManifestEntry>) -> Vec<ManifestEntry> {
    if entries.windows(2).all(|w| w[0].relpath < w[1].relpath) {
        return entries;
    }
    let mut at: std::collections::HashMap<String, usize> =
        std::collections::HashMap::with_capacity(entries.len());
    let mut out: Vec<ManifestEntry> = Vec::with_capacity(entries.len());
    for entry in entries {
        match at.get(&entry.relpath) {
            Some(&i) => out[i].md5 = entry.md5,
            None => {
                at.insert(entry.relpath.clone(), out.len());
                out.push(entry);
            }
        }
    }
    out
}

/// Checks that a member path is a plain relative `/`-separated path that stays inside its
/// directory on this platform. Returns the reason it is not.
pub fn check_relpath(relpath: &str) -> Result<(), &'static str> {
    check_relpath_with(relpath, RelpathRules::ThisPlatform)
}

/// [`check_relpath`] under the given rules.
pub fn check_relpath_with(relpath: &str, rules: RelpathRules) -> Result<(), &'static str> {
    posix_problem(relpath)?;
    internal_problem(relpath, rules)?;
    match rules {
        RelpathRules::ThisPlatform if cfg!(windows) => windows_problem(relpath, true),
        RelpathRules::ThisPlatform => Ok(()),
        // A Windows client reads `a\b` as a subdirectory (still inside): only escapes count.
        RelpathRules::AnyPlatform => windows_problem(relpath, false),
    }
}

/// A path into `.git` (file or directory, at any depth), `.hg/` or `.dvc/`: DVC's default
/// ignore patterns keep these out of every manifest it writes, and writing one would plant
/// a nested repository whose config (`core.fsmonitor`, hooks) git runs, or a DVC config.
/// For the server check (a client may be on a case-insensitive file system, or Windows,
/// which drops trailing dots and spaces and knows `GIT~1`) names are compared as there.
fn internal_problem(relpath: &str, rules: RelpathRules) -> Result<(), &'static str> {
    let loose = rules == RelpathRules::AnyPlatform || cfg!(any(windows, target_os = "macos"));
    let parts: Vec<&str> = relpath.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        let name = if loose {
            part.trim_end_matches(['.', ' ']).to_ascii_lowercase()
        } else {
            part.to_string()
        };
        if name == ".git" || (loose && name == "git~1") {
            return Err("is inside .git, which DVC never writes (it ignores .git)");
        }
        let is_dir = i + 1 < parts.len();
        if is_dir && (name == ".hg" || name == ".dvc") {
            return Err("is inside .hg/ or .dvc/, which DVC never writes (it ignores them)");
        }
    }
    Ok(())
}

/// What is unsafe or ambiguous everywhere: DVC splits a relpath on `/` and joins the parts
/// onto the directory.
fn posix_problem(relpath: &str) -> Result<(), &'static str> {
    if relpath.is_empty() {
        return Err("empty path");
    }
    if relpath.contains('\0') {
        return Err("contains NUL");
    }
    if relpath.starts_with('/') {
        return Err("absolute path");
    }
    for component in relpath.split('/') {
        match component {
            ".." => return Err("contains a '..' component"),
            "." => return Err("contains a '.' component"),
            "" => return Err("contains an empty component"),
            _ => {}
        }
    }
    Ok(())
}

/// What Windows' path joining (`ntpath.join`, which DVC's local filesystem uses there)
/// turns into an escape: a part starting with `\` restarts at the root, a part with a drive
/// (`C:`) restarts on that drive, and `\` separates `..`.
/// `any_backslash`: on Windows itself a backslash in a name is refused outright, as DVC
/// never writes one there.
fn windows_problem(relpath: &str, any_backslash: bool) -> Result<(), &'static str> {
    if any_backslash && relpath.contains('\\') {
        return Err("contains a backslash (a separator on Windows)");
    }
    for part in relpath.split('/') {
        if part.starts_with('\\') {
            return Err("has a part starting with a backslash (a root on Windows)");
        }
        let mut chars = part.chars();
        if chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.next() == Some(':') {
            return Err("has a part starting with a drive (such as 'C:') on Windows");
        }
        if part.split('\\').any(|p| p == "..") {
            return Err("contains a '..' component on Windows (backslash-separated)");
        }
    }
    Ok(())
}

/// The exact bytes DVC writes for these entries (they need not be sorted).
pub fn serialize(entries: &[ManifestEntry]) -> Vec<u8> {
    let mut sorted: Vec<&ManifestEntry> = entries.iter().collect();
    // Stable, like Python's `sorted`; `str` order is byte order for UTF-8.
    sorted.sort_by(|a, b| a.relpath.cmp(&b.relpath));
    let mut out = String::with_capacity(2 + entries.len() * 80);
    out.push('[');
    for (i, entry) in sorted.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str("{\"md5\": \"");
        // Object ids are lowercase hex (plus `.dir`): nothing to escape.
        write!(out, "{}", entry.md5).expect("writing to a String cannot fail");
        out.push_str("\", \"relpath\": ");
        push_json_string(&mut out, &entry.relpath);
        out.push('}');
    }
    out.push(']');
    out.into_bytes()
}

/// The directory's object id: md5 of [`serialize`], with the `.dir` suffix.
pub fn digest(entries: &[ManifestEntry]) -> ObjectId {
    ObjectId::from_digest(Md5::digest(serialize(entries)).into(), true)
}

/// Python's `json.encoder.py_encode_basestring_ascii`: printable ASCII stays, `"` and `\`
/// are backslash-escaped, and everything else is `\uXXXX` in lowercase hex, with UTF-16
/// surrogate pairs beyond the BMP.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    write!(out, "\\u{unit:04x}").expect("writing to a String cannot fail");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(relpath: &str, md5: &str) -> ManifestEntry {
        ManifestEntry {
            relpath: relpath.into(),
            md5: ObjectId::parse(md5).unwrap(),
        }
    }

    /// dvc-push-internals §4.1, verified against `dvc add`.
    const REFERENCE: &str = r#"[{"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"}, {"md5": "3b5d5c3712955042212316173ccf37be", "relpath": "sub/b.txt"}, {"md5": "66ddcd97cfdeabb2f6fb8a999b4bc76f", "relpath": "\u00e9.txt"}]"#;

    /// Written by `dvc add data` (DVC 3.67.1) for a directory holding unicode, emoji, empty
    /// files, nested and empty directories and control characters. Object
    /// `e209ee3f79f3597045b8cf1a1284d053.dir`.
    const REAL_DVC: &str = r#"[{"md5": "b999a7c3bcc5535b4c8e277e18b7b6e1", "relpath": "a-b"}, {"md5": "60b725f10c9c85c70d97880dfe8191b3", "relpath": "a.txt"}, {"md5": "187ef4436122d1cc2f40dc2b92f0eba0", "relpath": "a/b"}, {"md5": "d02c4c4cde7ae76252540d116a40f23a", "relpath": "a0"}, {"md5": "7c9df801238abe28cae2675fd3166a1a", "relpath": "back\\slash"}, {"md5": "612aae0a87469b795c172dee0a3693c3", "relpath": "ctl\u0001x"}, {"md5": "d2bcc286168bf8e040885c5cb7b6df13", "relpath": "del\u007fx"}, {"md5": "3ddaeb82fbba964fb3461d4e4f1342eb", "relpath": "emoji \ud83d\ude00.txt"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "empty"}, {"md5": "7694f4a66316e53c8cdd9d9954bd611d", "relpath": "quo\"te"}, {"md5": "3b5d5c3712955042212316173ccf37be", "relpath": "sub/b.txt"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "sub/empty2"}, {"md5": "e358efa489f58062f10dd7316b65649e", "relpath": "tab\tname"}, {"md5": "6627415e807ee33c7302917216e7da68", "relpath": "x/y/z/deep.txt"}, {"md5": "9ffbf43126e33be52cd2bf7e01d627f9", "relpath": "\u00e9.txt"}, {"md5": "25b7ade9bb42ba5854528c4a9a9a801a", "relpath": "\u65e5\u672c.txt"}]"#;

    #[test]
    fn reference_example_round_trips() {
        let entries = parse(REFERENCE.as_bytes()).unwrap();
        assert_eq!(entries[2].relpath, "é.txt");
        assert_eq!(serialize(&entries), REFERENCE.as_bytes());
        assert_eq!(
            digest(&entries).to_string(),
            "e3b65558f28f88d8938ad6e1ccba8cdf.dir"
        );
    }

    #[test]
    fn order_does_not_matter_on_input() {
        let mut entries = parse(REFERENCE.as_bytes()).unwrap();
        entries.reverse();
        assert_eq!(serialize(&entries), REFERENCE.as_bytes());
    }

    #[test]
    #[cfg(not(windows))]
    fn matches_real_dvc_bytes_for_awkward_names() {
        // A backslash is an ordinary character on POSIX, as for DVC there.
        let mut entries = parse(REAL_DVC.as_bytes()).unwrap();
        assert!(entries.iter().any(|e| e.relpath == "back\\slash"));
        assert!(entries.iter().any(|e| e.relpath == "emoji 😀.txt"));
        assert!(entries.iter().any(|e| e.relpath == "日本.txt"));
        entries.rotate_left(5);
        assert_eq!(String::from_utf8(serialize(&entries)).unwrap(), REAL_DVC);
        assert_eq!(
            digest(&entries).to_string(),
            "e209ee3f79f3597045b8cf1a1284d053.dir"
        );
    }

    #[test]
    fn empty_directory() {
        assert_eq!(serialize(&[]), b"[]");
        assert_eq!(
            digest(&[]).to_string(),
            "d751713988987e9331980363e24189ce.dir"
        );
        assert_eq!(parse(b"[]").unwrap(), vec![]);
    }

    #[test]
    fn escapes_like_python() {
        let e = entry(
            "\u{8}\u{c}\r\n\u{1f}/\u{10ffff}\u{ff}",
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        assert_eq!(
            String::from_utf8(serialize(&[e])).unwrap(),
            r#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "\b\f\r\n\u001f/\udbff\udfff\u00ff"}]"#
        );
    }

    #[test]
    fn sorts_by_code_point() {
        let md5 = "d41d8cd98f00b204e9800998ecf8427e";
        let names = ["é", "a0", "a/b", "a-b", "\u{1F600}", "\u{FFFD}", "Z"];
        let entries: Vec<_> = names.iter().map(|n| entry(n, md5)).collect();
        let text = String::from_utf8(serialize(&entries)).unwrap();
        let order: Vec<&str> = text.split("\"relpath\": ").skip(1).collect();
        let expected = [
            r#""Z""#,
            r#""a-b""#,
            r#""a/b""#,
            r#""a0""#,
            r#""\u00e9""#,
            r#""\ufffd""#,
            r#""\ud83d\ude00""#,
        ];
        for (got, want) in order.iter().zip(expected) {
            assert!(got.starts_with(want), "{got} vs {want}");
        }
    }

    #[test]
    fn parse_ignores_extra_keys_and_refuses_upper_case() {
        let entries = parse(
            br#"[{"relpath": "x", "md5": "d41d8cd98f00b204e9800998ecf8427e", "size": 0, "isexec": false}]"#,
        )
        .unwrap();
        assert_eq!(
            entries,
            vec![entry("x", "d41d8cd98f00b204e9800998ecf8427e")]
        );
        // DVC keeps the spelling, so `dvc pull` would ask for `files/md5/D4/1D8…`.
        let err =
            parse(br#"[{"relpath": "x", "md5": "D41D8CD98F00B204E9800998ECF8427E"}]"#).unwrap_err();
        assert!(err.to_string().contains("lower-case"), "{err}");
    }

    #[test]
    fn parse_refuses_unsafe_relpaths() {
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "./a",
            "a//b",
            "a/",
            "a\0b",
        ] {
            let json = serde_json::to_string(&serde_json::json!(
                [{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": bad}]
            ))
            .unwrap();
            let err = parse(json.as_bytes()).unwrap_err();
            assert!(
                matches!(err, ManifestError::RelPath { index: 0, .. }),
                "{bad:?}: {err}"
            );
        }
        assert!(check_relpath("a..b/..c/.d").is_ok());
    }

    #[test]
    fn backslashes_are_names_on_posix_and_separators_on_windows() {
        for name in ["a\\b.txt", "x/y\\z", "..\\x", "\\root", "C:x"] {
            assert_eq!(check_relpath(name).is_ok(), !cfg!(windows), "{name:?}");
        }
        assert_eq!(check_relpath("a:b/1:00.csv").is_ok(), !cfg!(windows));
    }

    #[test]
    fn the_server_rules_refuse_what_escapes_on_any_platform() {
        let any = |p: &str| check_relpath_with(p, RelpathRules::AnyPlatform);
        // Inside the directory on every platform.
        for ok in ["a\\b.txt", "x/y\\z", "a\\..b", "1:00.csv", "a/_:c"] {
            assert_eq!(any(ok), Ok(()), "{ok:?}");
        }
        // A Windows client would write these outside the directory.
        for bad in [
            "..\\x",
            "a\\..\\..\\x",
            "x/..\\..\\y",
            "\\root",
            "x/\\\\server\\share",
            "C:x",
            "x/c:\\y",
            "a/b:c",
            // and what is unsafe everywhere
            "../x",
            "/x",
        ] {
            assert!(any(bad).is_err(), "{bad:?}");
        }
        let json = br#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "..\\x"}]"#;
        assert!(parse_with(json, RelpathRules::AnyPlatform).is_err());
        assert_eq!(parse(json).is_ok(), !cfg!(windows));
    }

    #[test]
    fn parse_refuses_bad_json_and_hashes() {
        assert!(matches!(parse(b"{}"), Err(ManifestError::Json(_))));
        assert!(matches!(
            parse(b"[{\"relpath\": \"a\"}]"),
            Err(ManifestError::Json(_))
        ));
        assert!(matches!(
            parse(b"[{\"md5\": 5, \"relpath\": \"a\"}]"),
            Err(ManifestError::Json(_))
        ));
        let err = parse(br#"[{"md5": "../../x", "relpath": "a"}]"#).unwrap_err();
        assert!(matches!(err, ManifestError::Hash { index: 0, .. }), "{err}");
    }

    #[test]
    fn parse_refuses_a_member_that_names_a_manifest() {
        let json = br#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "a"}, {"md5": "99ebdab6463130d2ed588a3e3b2014be.dir", "relpath": "sub"}]"#;
        let err = parse(json).unwrap_err();
        assert!(
            matches!(&err, ManifestError::DirMember { index: 1, relpath, .. } if relpath == "sub"),
            "{err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains("99ebdab6463130d2ed588a3e3b2014be.dir"),
            "{text}"
        );
        assert!(text.contains("list files only"), "{text}");
    }

    #[test]
    fn git_and_dvc_internals_are_refused() {
        for bad in [
            ".git",
            ".git/config",
            "sub/.git/HEAD",
            "a/.dvc/config",
            ".hg/hgrc",
        ] {
            assert!(check_relpath(bad).is_err(), "{bad}");
        }
        for ok in [
            ".dvc",
            "x/.hg",
            ".gitignore",
            "a/.github/x",
            "git~1/x",
            ".GIT/x",
        ] {
            if cfg!(any(windows, target_os = "macos")) && ok.contains("GIT") {
                continue;
            }
            assert!(check_relpath(ok).is_ok(), "{ok}");
        }
        for bad in [".GIT/config", "a/.git./x", "a/.git /x", "GIT~1/config"] {
            assert!(
                check_relpath_with(bad, RelpathRules::AnyPlatform).is_err(),
                "{bad}"
            );
        }
        let json = br#"[{"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "d/.git/config"}]"#;
        assert!(parse(json).unwrap_err().to_string().contains(".git"));
    }

    #[test]
    fn a_relpath_listed_twice_is_read_as_dvc_reads_it() {
        let (a, b, c) = (
            "47bce5c74f589f4867dbd57e9ca9f808",
            "08f8e0260c64418510cefb2b06eee5cd",
            "d41d8cd98f00b204e9800998ecf8427e",
        );
        // The last hash, at the first place (a Python dict filled in list order).
        let json = format!(
            r#"[{{"md5": "{a}", "relpath": "x"}}, {{"md5": "{c}", "relpath": "w"}}, {{"md5": "{b}", "relpath": "x"}}, {{"md5": "{a}", "relpath": "x"}}, {{"md5": "{b}", "relpath": "x"}}]"#
        );
        let got: Vec<(String, String)> = parse(json.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| (e.relpath, e.md5.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("x".to_string(), b.to_string()),
                ("w".to_string(), c.to_string())
            ]
        );
        // Sorted and distinct (what DVC writes): untouched.
        let sorted =
            format!(r#"[{{"md5": "{a}", "relpath": "a"}}, {{"md5": "{a}", "relpath": "b"}}]"#);
        assert_eq!(parse(sorted.as_bytes()).unwrap().len(), 2);
    }
}
