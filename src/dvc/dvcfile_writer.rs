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

impl AddedOutput {
    /// The exact text `dvc add` writes.
    pub fn to_dvc_file(&self) -> String {
        let mut out = String::from("outs:\n- md5:");
        mapping_value(&mut out, &self.oid.to_string());
        out.push_str(&format!("  size: {}\n", self.size));
        if let Some(n) = self.nfiles {
            out.push_str(&format!("  nfiles: {n}\n"));
        }
        if self.isexec {
            out.push_str("  isexec: true\n");
        }
        out.push_str("  hash: md5\n  path:");
        mapping_value(&mut out, &self.path);
        out
    }

    /// Reads a `.dvc` file back when it is exactly what [`to_dvc_file`](Self::to_dvc_file)
    /// writes: one output, no other fields, no comments, DVC's own formatting. `None` for
    /// anything else (a `desc:`, `remote:`, `push: false`, a comment, a DVC 2 file, an
    /// import…), which git-dvc leaves for `dvc add` to update.
    pub fn from_canonical(bytes: &[u8]) -> Option<AddedOutput> {
        let doc = yaml::parse(bytes).ok()?;
        let top = doc.as_map()?;
        let [(key, outs)] = top else { return None };
        if key.as_str()? != "outs" {
            return None;
        }
        let [out] = outs.as_seq()? else { return None };
        let int = |v: &Yaml| match v {
            Yaml::Int(digits) => digits.parse::<u64>().ok(),
            _ => None,
        };
        let md5 = match out.get("md5")? {
            Yaml::Str(s) => s.clone(),
            Yaml::Int(digits) => digits.clone(),
            _ => return None,
        };
        let parsed = AddedOutput {
            oid: ObjectId::parse(&md5).ok()?,
            size: int(out.get("size")?)?,
            nfiles: match out.get("nfiles") {
                Some(v) => Some(int(v)?),
                None => None,
            },
            isexec: out.get("isexec").is_some(),
            path: out.get("path")?.as_str()?.to_string(),
        };
        (parsed.to_dvc_file().as_bytes() == bytes).then_some(parsed)
    }
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

    #[test]
    fn anything_else_is_not_canonical() {
        for text in [
            "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f\n  remote: r\n",
            "# comment\nouts:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f\n",
            "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  path: f\n",
            "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  hash: md5\n  size: 6\n  path: f\n",
            "outs:\n  - md5: b1946ac92492d2347c6235b4d2611184\n    size: 6\n    hash: md5\n    path: f\n",
            "md5: abc\nouts:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: f\n",
            "",
        ] {
            assert_eq!(AddedOutput::from_canonical(text.as_bytes()), None, "{text}");
        }
    }
}
