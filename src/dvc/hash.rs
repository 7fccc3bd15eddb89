//! Content hashes as DVC records them: validated before they ever become a path or key.
//!
//! A DVC object id is 32 lowercase hex characters, with a `.dir` suffix for directory
//! manifests. The hash *kind* decides the storage layout: DVC 3's `md5` lives under
//! `files/md5/`, the 2.x-era `md5-dos2unix` at the root of the cache or remote.
//!
//! DVC keeps hash values exactly as written (it validates a lower-cased copy and loads the
//! original), so an upper-case md5 makes `dvc pull` look for `files/md5/AB/CDEF…`, which no
//! DVC ever stores: such values are refused rather than lower-cased.
//!
//! Outputs recorded as `hash: etag` or `hash: checksum` (never written by DVC for workspace
//! outputs, but read by it) are stored by DVC 3.67.1 in the `files/md5/` layout under their
//! literal value ([`ObjectId::parse_named`]). Their bytes do not hash to their name, so they
//! cannot be verified on upload; DVC uploads them as they are too.
//!
//! ```
//! use git_dvc::dvc::hash::{HashKind, ObjectId};
//! assert!(ObjectId::parse("E3B65558F28F88D8938AD6E1CCBA8CDF.dir").is_err());
//! let oid = ObjectId::parse("e3b65558f28f88d8938ad6e1ccba8cdf.dir").unwrap();
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
        _ => None,
    }
}

/// Longest `etag`/`checksum` value accepted. S3 etags are at most 32 hex digits plus `-<n>`,
/// HDFS checksums about 70 hex digits.
pub const MAX_NAMED_LEN: usize = 256;

/// A validated DVC object id: 32 lowercase hex digits, optionally followed by `.dir`, or the
/// literal value of an `etag`/`checksum` output.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(Repr);

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Repr {
    Md5 {
        digest: [u8; 16],
        is_dir: bool,
    },
    /// An `etag`/`checksum` value: `[0-9A-Za-z-]`, 3 to [`MAX_NAMED_LEN`] characters, so it
    /// can only ever name one file two levels below the layout root.
    Named(Box<str>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{value}' {problem}")]
pub struct InvalidObjectId {
    pub value: String,
    pub problem: InvalidReason,
}

/// Why a hash value was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidReason {
    NotMd5,
    UpperCase,
    BadName,
}

impl fmt::Display for InvalidReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InvalidReason::NotMd5 => {
                "is not a DVC md5 hash (expected 32 hex characters, optionally followed by '.dir')"
            }
            InvalidReason::UpperCase => {
                "is not a DVC md5 hash: DVC writes md5 hashes in lower-case hex and keeps other \
                 spellings as written, so `dvc pull` could never find this object; write the \
                 hash in lower case"
            }
            InvalidReason::BadName => {
                "is not a usable etag/checksum value (expected 3 to 256 characters from \
                 [0-9A-Za-z-], as S3 etags and HDFS checksums are)"
            }
        })
    }
}

impl ObjectId {
    /// Parses a hash as found in `.dvc`/`dvc.lock` files or `.dir` manifests: 32 lower-case
    /// hex digits, optionally followed by `.dir`. Upper case is refused (see the module docs).
    pub fn parse(value: &str) -> Result<ObjectId, InvalidObjectId> {
        let invalid = || InvalidObjectId {
            value: value.chars().take(80).collect(),
            problem: InvalidReason::NotMd5,
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
                _ if hex_part.bytes().all(|c| c.is_ascii_hexdigit()) => {
                    return Err(InvalidObjectId {
                        problem: InvalidReason::UpperCase,
                        ..invalid()
                    })
                }
                _ => return Err(invalid()),
            }
        }
        Ok(ObjectId(Repr::Md5 { digest, is_dir }))
    }

    /// Parses the value of an `etag` or `checksum` output (`hash: etag`/`hash: checksum`),
    /// kept as written as DVC does. Only characters DVC's S3 etags (`<hex>` or `<hex>-<n>`)
    /// and HDFS checksums use are accepted, so the value can never form a path: no `/`, `.`,
    /// `\`, NUL or quotes.
    pub fn parse_named(value: &str) -> Result<ObjectId, InvalidObjectId> {
        let ok = (3..=MAX_NAMED_LEN).contains(&value.len())
            && value
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-');
        if !ok {
            return Err(InvalidObjectId {
                value: value.chars().take(80).collect(),
                problem: InvalidReason::BadName,
            });
        }
        Ok(ObjectId(Repr::Named(value.into())))
    }

    pub fn from_digest(digest: [u8; 16], is_dir: bool) -> ObjectId {
        ObjectId(Repr::Md5 { digest, is_dir })
    }

    /// The md5 the object's bytes hash to; `None` for an `etag`/`checksum` value, which
    /// cannot be checked against the bytes.
    pub fn digest(&self) -> Option<&[u8; 16]> {
        match &self.0 {
            Repr::Md5 { digest, .. } => Some(digest),
            Repr::Named(_) => None,
        }
    }

    pub fn is_dir(&self) -> bool {
        matches!(self.0, Repr::Md5 { is_dir: true, .. })
    }

    /// Whether this is an `etag`/`checksum` value rather than an md5.
    pub fn is_named(&self) -> bool {
        matches!(self.0, Repr::Named(_))
    }

    /// The id without the `.dir` suffix: the hex digest, or the etag/checksum value.
    pub fn hex(&self) -> String {
        match &self.0 {
            Repr::Md5 { digest, .. } => hex::encode(digest),
            Repr::Named(value) => value.to_string(),
        }
    }

    /// The object's key relative to a cache or remote root: `files/md5/ab/cdef…[.dir]` for
    /// DVC 3 objects, `ab/cdef…[.dir]` for legacy ones (DVC's `oid_to_path`, for etag and
    /// checksum values too).
    pub fn relative_key(&self, kind: HashKind) -> String {
        let hex = self.hex();
        format!(
            "{}{}/{}{}",
            kind.layout_prefix(),
            &hex[..2],
            &hex[2..],
            if self.is_dir() { ".dir" } else { "" }
        )
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}",
            self.hex(),
            if self.is_dir() { ".dir" } else { "" }
        )
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
    fn keeps_dir_suffix_and_refuses_upper_case() {
        let oid = ObjectId::parse("d751713988987e9331980363e24189ce.dir").unwrap();
        assert_eq!(oid.to_string(), "d751713988987e9331980363e24189ce.dir");
        let err = ObjectId::parse("D751713988987E9331980363E24189CE.dir").unwrap_err();
        assert_eq!(err.problem, InvalidReason::UpperCase);
        assert!(err.to_string().contains("lower-case"), "{err}");
        let err = ObjectId::parse("d751713988987e9331980363e24189cE").unwrap_err();
        assert_eq!(err.problem, InvalidReason::UpperCase);
    }

    #[test]
    fn named_values_stay_inside_the_layout() {
        let etag = ObjectId::parse_named("0123456789abcdef0123456789ABCDEF-12").unwrap();
        assert_eq!(
            etag.relative_key(HashKind::Md5),
            "files/md5/01/23456789abcdef0123456789ABCDEF-12"
        );
        assert!(etag.digest().is_none() && !etag.is_dir());
        for bad in [
            "ab",
            "../../etc/passwd",
            "ab/cd",
            "a\\bc",
            "abc.dir",
            "ab..",
            "a\0bc",
            "\"abc\"",
            "abc def",
            "",
        ] {
            assert!(ObjectId::parse_named(bad).is_err(), "{bad:?}");
        }
        assert!(ObjectId::parse_named(&"a".repeat(MAX_NAMED_LEN + 1)).is_err());
    }
}
