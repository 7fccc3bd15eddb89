//! Writing the `.dvc` file `dvc add` writes, byte for byte.
//!
//! DVC 3.67.1 dumps `{"outs": [output]}` with ruamel.yaml, the output's keys in the order
//! `Output.dumpd` builds them: the hash (`md5`), the meta (`size`, then `nfiles` for a
//! directory, then `isexec: true` for an executable file), `hash: md5`, `path`. Strings get
//! ruamel's quoting and folding ([`super::yaml_emit`]): an md5 of only digits is quoted, a long
//! path with spaces is folded.
//!
//! ```
//! use git_dvc::dvc::dvcfile_writer::AddedOutput;
//! use git_dvc::dvc::hash::ObjectId;
//! let out = AddedOutput {
//!     oid: ObjectId::parse("e3b65558f28f88d8938ad6e1ccba8cdf.dir").unwrap(),
//!     size: 6,
//!     nfiles: Some(3),
//!     isexec: false,
//!     path: "data".into(),
//! };
//! assert_eq!(
//!     out.to_dvc_file(),
//!     "outs:\n- md5: e3b65558f28f88d8938ad6e1ccba8cdf.dir\n  size: 6\n  nfiles: 3\n  hash: md5\n  path: data\n"
//! );
//! assert_eq!(AddedOutput::from_canonical(out.to_dvc_file().as_bytes()), Some(out));
//! ```

use super::hash::ObjectId;
use super::yaml::{self, Yaml};
use super::yaml_emit::mapping_value;

/// The one output of a `.dvc` file written by `dvc add`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedOutput {
    /// The file's md5, or the directory's `.dir` object id.
    pub oid: ObjectId,
    /// Bytes of the file, or the sum of the bytes of the directory's files.
    pub size: u64,
    /// For a directory: how many files it holds (empty sub-directories do not count).
    pub nfiles: Option<u64>,
    /// For a file: any execute bit set. Never set for directories.
    pub isexec: bool,
    /// The path relative to the `.dvc` file's directory (`dvc add` writes the base name).
    pub path: String,
}

/// A value of one output key, as `dvc add` writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Str(String),
    Int(u64),
    True,
}

/// The keys `dvc add` writes for an output, in its order.
const KEYS: [&str; 6] = ["md5", "size", "nfiles", "isexec", "hash", "path"];

impl AddedOutput {
    /// The exact text `dvc add` writes for a path it did not track before.
    pub fn to_dvc_file(&self) -> String {
        render(&self.fields())
    }

    /// The text `dvc add` writes when it updates `old`, a `.dvc` file holding only what
    /// [`to_dvc_file`](Self::to_dvc_file) writes (in any key order, as DVC's own updates
    /// leave it). DVC loads the old file with ruamel's round-trip loader and applies the new
    /// values (`apply_diff`): keys already there keep their place, new ones (`isexec` when a
    /// file became executable, `hash` for a DVC 2 file) go last, dropped ones disappear.
    /// `None` when `old` holds anything else (fields such as `desc`, `remote` or `push`,
    /// comments, other formatting): DVC keeps those, and git-dvc leaves such files to it.
    pub fn update(&self, old: &[u8]) -> Option<String> {
        let old = parse_simple(old)?;
        let new = self.fields();
        let value = |key: &str| new.iter().find(|(k, _)| *k == key).map(|(_, v)| v.clone());
        let mut fields: Vec<(&'static str, Value)> = old
            .iter()
            .filter_map(|(k, _)| value(k).map(|v| (*k, v)))
            .collect();
        for (k, v) in &new {
            if !old.iter().any(|(o, _)| o == k) {
                fields.push((k, v.clone()));
            }
        }
        Some(render(&fields))
    }

    /// Reads a `.dvc` file back when it is exactly what [`to_dvc_file`](Self::to_dvc_file)
    /// or [`update`](Self::update) writes: one output, only `dvc add`'s keys, DVC's own
    /// formatting, `hash: md5`. `None` for anything else (a `desc:`, `remote:`,
    /// `push: false`, a comment, a DVC 2 file, an import…).
    pub fn from_canonical(bytes: &[u8]) -> Option<AddedOutput> {
        let fields = parse_simple(bytes)?;
        let get = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        if get("hash") != Some(&Value::Str("md5".into())) {
            return None;
        }
        let int = |key: &str| match get(key) {
            Some(Value::Int(n)) => Some(Some(*n)),
            None => Some(None),
            _ => None,
        };
        let Some(Value::Str(md5)) = get("md5") else {
            return None;
        };
        let Some(Value::Str(path)) = get("path") else {
            return None;
        };
        Some(AddedOutput {
            oid: ObjectId::parse(md5).ok()?,
            size: int("size")??,
            nfiles: int("nfiles")?,
            isexec: get("isexec") == Some(&Value::True),
            path: path.clone(),
        })
    }

    fn fields(&self) -> Vec<(&'static str, Value)> {
        let mut fields = vec![
            ("md5", Value::Str(self.oid.to_string())),
            ("size", Value::Int(self.size)),
        ];
        if let Some(n) = self.nfiles {
            fields.push(("nfiles", Value::Int(n)));
        }
        if self.isexec {
            fields.push(("isexec", Value::True));
        }
        fields.push(("hash", Value::Str("md5".into())));
        fields.push(("path", Value::Str(self.path.clone())));
        fields
    }
}

fn render(fields: &[(&str, Value)]) -> String {
    let mut out = String::from("outs:\n");
    for (i, (key, value)) in fields.iter().enumerate() {
        out.push_str(if i == 0 { "- " } else { "  " });
        out.push_str(key);
        out.push(':');
        match value {
            Value::Str(s) => mapping_value(&mut out, s),
            Value::Int(n) => out.push_str(&format!(" {n}\n")),
            Value::True => out.push_str(" true\n"),
        }
    }
    out
}

/// The keys and values of a `.dvc` file that holds one output with only `dvc add`'s keys
/// (each at most once, any order) and that [`render`] reproduces byte for byte.
fn parse_simple(bytes: &[u8]) -> Option<Vec<(&'static str, Value)>> {
    // A file this function can reproduce is a few hundred bytes; any cap far above that
    // serves (the real parse of every DVC file applies `dvc.maxFileSize`).
    let doc = yaml::parse(bytes, crate::limits::DEFAULT_MAX_FILE_SIZE).ok()?;
    let [(key, outs)] = doc.as_map()? else {
        return None;
    };
    if key.as_str()? != "outs" {
        return None;
    }
    let [out] = outs.as_seq()? else { return None };
    let mut fields = Vec::new();
    for (k, v) in out.as_map()? {
        let key = KEYS.into_iter().find(|known| Some(*known) == k.as_str())?;
        let value = match (key, v) {
            ("md5", Yaml::Int(digits)) => Value::Str(digits.clone()),
            ("md5" | "hash" | "path", Yaml::Str(s)) => Value::Str(s.clone()),
            ("size" | "nfiles", Yaml::Int(digits)) => Value::Int(digits.parse().ok()?),
            ("isexec", Yaml::Bool(true)) => Value::True,
            _ => return None,
        };
        fields.push((key, value));
    }
    (render(&fields).as_bytes() == bytes).then_some(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(md5: &str, size: u64, isexec: bool, path: &str) -> AddedOutput {
        AddedOutput {
            oid: ObjectId::parse(md5).unwrap(),
            size,
            nfiles: None,
            isexec,
            path: path.into(),
        }
    }

    /// Written by `dvc add` (DVC 3.67.1).
    #[test]
    fn executable_file_as_dvc_writes_it() {
        let out = file("b1946ac92492d2347c6235b4d2611184", 6, true, "f.txt");
        let text = "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  isexec: true\n  hash: md5\n  path: f.txt\n";
        assert_eq!(out.to_dvc_file(), text);
        assert_eq!(AddedOutput::from_canonical(text.as_bytes()), Some(out));
    }

    #[test]
    fn empty_directory() {
        let out = AddedOutput {
            oid: ObjectId::parse("d751713988987e9331980363e24189ce.dir").unwrap(),
            size: 0,
            nfiles: Some(0),
            isexec: false,
            path: "empty".into(),
        };
        assert_eq!(
            out.to_dvc_file(),
            "outs:\n- md5: d751713988987e9331980363e24189ce.dir\n  size: 0\n  nfiles: 0\n  hash: md5\n  path: empty\n"
        );
    }

    #[test]
    fn digit_only_md5_is_quoted_and_reads_back() {
        let out = file("12345678901234567890123456789012", 1, false, "2024-01-01");
        let text = out.to_dvc_file();
        assert_eq!(
            text,
            "outs:\n- md5: '12345678901234567890123456789012'\n  size: 1\n  hash: md5\n  path: '2024-01-01'\n"
        );
        assert_eq!(AddedOutput::from_canonical(text.as_bytes()), Some(out));
    }

    /// DVC's `apply_diff` keeps the old key order and appends new keys.
    #[test]
    fn updates_keep_the_old_order() {
        let old = "outs:\n- md5: 4e03dd5f05f68ca4f8941fd80c63e0b2\n  size: 10\n  hash: md5\n  path: crlf.txt\n";
        let mut out = AddedOutput::from_canonical(old.as_bytes()).unwrap();
        out.isexec = true;
        let updated = out.update(old.as_bytes()).unwrap();
        assert_eq!(
            updated,
            "outs:\n- md5: 4e03dd5f05f68ca4f8941fd80c63e0b2\n  size: 10\n  hash: md5\n  path: crlf.txt\n  isexec: true\n"
        );
        assert_eq!(
            AddedOutput::from_canonical(updated.as_bytes()),
            Some(out.clone())
        );
        out.isexec = false;
        assert_eq!(out.update(updated.as_bytes()).unwrap(), old);
        // A DVC 2 file gains `hash: md5` at the end.
        let legacy =
            "outs:\n- md5: 4e03dd5f05f68ca4f8941fd80c63e0b2\n  size: 10\n  path: crlf.txt\n";
        assert_eq!(AddedOutput::from_canonical(legacy.as_bytes()), None);
        assert_eq!(
            out.update(legacy.as_bytes()).unwrap(),
            "outs:\n- md5: 4e03dd5f05f68ca4f8941fd80c63e0b2\n  size: 10\n  path: crlf.txt\n  hash: md5\n"
        );
    }

    #[test]
    fn anything_else_is_not_canonical() {
        for text in [
            "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f\n  remote: r\n",
            "# comment\nouts:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f\n",
            "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  path: f\n",
            "outs:\n  - md5: b1946ac92492d2347c6235b4d2611184\n    size: 6\n    hash: md5\n    path: f\n",
            "md5: abc\nouts:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f\n",
            "",
        ] {
            assert_eq!(AddedOutput::from_canonical(text.as_bytes()), None, "{text}");
        }
    }
}
