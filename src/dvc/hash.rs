//! Content hashes as DVC records them: validated before they ever become a path or key.
//!
//! A DVC object id is 32 lowercase hex characters, with a `.dir` suffix for directory
//! manifests. The hash *kind* decides the storage layout: DVC 3's `md5` lives under
//! `files/md5/`, the 2.x-era `md5-dos2unix` at the root of the cache or remote.
//!
//! ```
//! use git_dvc::dvc::hash::{HashKind, ObjectId};
//! let oid = ObjectId::parse("E3B65558F28F88D8938AD6E1CCBA8CDF.dir").unwrap();
//! assert!(oid.is_dir());
//! assert_eq!(oid.relative_key(HashKind::Md5), "files/md5/e3/b65558f28f88d8938ad6e1ccba8cdf.dir");
//! assert_eq!(oid.relative_key(HashKind::Md5Dos2Unix), "e3/b65558f28f88d8938ad6e1ccba8cdf.dir");
//! ```

use std::fmt;

/// Which hash function produced an id, and so which layout the object lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashKind {
    /// DVC 3 (`hash: md5`): raw md5 of the bytes, stored under `files/md5/`.
    Md5,
    /// DVC 2-era outputs (no `hash:` field): md5 after CRLF→LF for text, stored at the root.
    Md5Dos2Unix,
}

impl HashKind {
    /// The prefix objects of this kind live under, in a cache or on a remote.
    pub fn layout_prefix(self) -> &'static str {
        match self {
            HashKind::Md5 => "files/md5/",
            HashKind::Md5Dos2Unix => "",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            HashKind::Md5 => "md5",
            HashKind::Md5Dos2Unix => "md5-dos2unix",
        }
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// A validated DVC object id: 32 lowercase hex digits, optionally followed by `.dir`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    digest: [u8; 16],
    is_dir: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{value}' is not a DVC md5 hash (expected 32 hex characters, optionally followed by '.dir')"
)]
pub struct InvalidObjectId {
    pub value: String,
}

impl ObjectId {
    /// Parses a hash as found in `.dvc`/`dvc.lock` files or `.dir` manifests. Upper-case hex is
    /// accepted and lower-cased, as DVC does on load.
    pub fn parse(value: &str) -> Result<ObjectId, InvalidObjectId> {
        let invalid = || InvalidObjectId {
            value: value.chars().take(80).collect(),
        };
        let (hex_part, is_dir) = match value.strip_suffix(".dir") {
            Some(rest) => (rest, true),
            None => (value, false),
        };
        let bytes = hex_part.as_bytes();
        if bytes.len() != 32 {
            return Err(invalid());
        }
        // Hand-rolled: manifests of big directory histories parse millions of these.
        let mut digest = [0u8; 16];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            match (hex_value(pair[0]), hex_value(pair[1])) {
                (Some(hi), Some(lo)) => digest[i] = (hi << 4) | lo,
                _ => return Err(invalid()),
            }
        }
        Ok(ObjectId { digest, is_dir })
    }

    pub fn from_digest(digest: [u8; 16], is_dir: bool) -> ObjectId {
        ObjectId { digest, is_dir }
    }

    pub fn digest(&self) -> &[u8; 16] {
        &self.digest
    }

    pub fn is_dir(&self) -> bool {
        self.is_dir
    }

    /// The hex digest without the `.dir` suffix.
    pub fn hex(&self) -> String {
        hex::encode(self.digest)
    }

    /// The object's key relative to a cache or remote root: `files/md5/ab/cdef…[.dir]` for
    /// DVC 3 objects, `ab/cdef…[.dir]` for legacy ones.
    pub fn relative_key(&self, kind: HashKind) -> String {
        let hex = self.hex();
        format!(
            "{}{}/{}{}",
            kind.layout_prefix(),
            &hex[..2],
            &hex[2..],
            if self.is_dir { ".dir" } else { "" }
        )
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.hex(), if self.is_dir { ".dir" } else { "" })
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({self})")
    }
}

/// An object as a remote stores it: its id and the layout it lives in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DvcHash {
    pub kind: HashKind,
    pub oid: ObjectId,
}

impl DvcHash {
    pub fn relative_key(&self) -> String {
        self.oid.relative_key(self.kind)
    }
}

impl fmt::Display for DvcHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.oid.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_paths_and_short_values() {
        for bad in [
            "../../etc/passwd",
            "e3b65558f28f88d8938ad6e1ccba8cd",
            "e3b65558f28f88d8938ad6e1ccba8cdfg",
            "e3b65558f28f88d8938ad6e1ccba8cdf.dir.dir",
            "e3b65558f28f88d8938ad6e1ccba8cd/",
            "",
        ] {
            assert!(ObjectId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lowercases_and_keeps_dir_suffix() {
        let oid = ObjectId::parse("D751713988987E9331980363E24189CE.dir").unwrap();
        assert_eq!(oid.to_string(), "d751713988987e9331980363e24189ce.dir");
    }
}
