//! Hash verification on the way out: a reader that hashes what passes through it and, at the
//! end, fails with `InvalidData` instead of reporting EOF when the bytes do not match the
//! object's name. Storage backends abort on that error, so a corrupt cache object never
//! reaches a remote under its final name.
//!
//! DVC 2-era (`md5-dos2unix`) objects are accepted when any of the ways DVC has computed that
//! hash matches: raw md5 (binary files), DVC 2's per-file text decision, or DVC 3's per-chunk
//! text decision.
//!
//! Objects named by an `etag`/`checksum` value (`hash: etag` outputs) cannot be verified: the
//! value is no function of the bytes git-dvc can compute (an S3 multipart etag depends on the
//! part size used). They pass through unchecked, as DVC uploads them: DVC trusts a read-only
//! cache file without hashing it. What the server check can promise for them is only that an
//! object of that name is stored, which is all `dvc pull` needs to fetch it.

use std::io::{self, Read};

use md5::{Digest, Md5};

use crate::dvc::hash::{DvcHash, HashKind};

/// DVC hashes legacy text files in chunks of this size, converting CRLF within each chunk.
const LEGACY_CHUNK: usize = 1 << 20;
/// DVC decides text vs binary from this many leading bytes.
const TEXT_PROBE: usize = 512;

pub struct VerifyingReader<R> {
    inner: R,
    verifier: Option<Verifier>,
}

impl<R: Read> VerifyingReader<R> {
    pub fn new(inner: R, expected: DvcHash) -> Self {
        VerifyingReader {
            inner,
            verifier: Some(Verifier::new(expected)),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(verifier) = &mut self.verifier else {
            return Ok(0);
        };
        let n = self.inner.read(buf)?;
        if n == 0 {
            let verifier = self.verifier.take().expect("checked above");
            let expected = verifier.expected.oid.clone();
            return match verifier.finish() {
                Ok(()) => Ok(0),
                Err(actual) => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("cache object {expected} is corrupt: its bytes hash to {actual}"),
                )),
            };
        }
        verifier.update(&buf[..n]);
        Ok(n)
    }
}

/// Hashes bytes fed to it in order and says at the end whether they are what `expected`
/// names: the check [`VerifyingReader`] makes on the way out, for callers that are handed
/// the bytes (downloads, which stream into the cache).
pub struct Verifier {
    expected: DvcHash,
    raw: Md5,
    legacy: Option<LegacyHashers>,
}

impl Verifier {
    pub fn new(expected: DvcHash) -> Verifier {
        let legacy = (expected.kind == HashKind::Md5Dos2Unix).then(LegacyHashers::default);
        Verifier {
            expected,
            raw: Md5::new(),
            legacy,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.raw.update(bytes);
        if let Some(legacy) = &mut self.legacy {
            legacy.update(bytes);
        }
    }

    /// `Err` carries the raw md5 (hex) of what was fed, for messages. Ids that are no
    /// function of the bytes (`etag`/`checksum`) always pass: see the module comment.
    pub fn finish(self) -> Result<(), String> {
        let raw: [u8; 16] = self.raw.finalize().into();
        let Some(&want) = self.expected.oid.digest() else {
            return Ok(());
        };
        if raw == want {
            return Ok(());
        }
        if let Some(legacy) = self.legacy {
            if legacy.finish().contains(&want) {
                return Ok(());
            }
        }
        Err(hex::encode(raw))
    }
}

/// Hashes a whole file as `kind` would name it (raw md5 for DVC 3, any legacy variant for
/// DVC 2-era objects) and says whether it matches.
pub fn matches(path: &std::path::Path, expected: &DvcHash) -> io::Result<bool> {
    let file = std::fs::File::open(path)?;
    let mut reader = VerifyingReader::new(io::BufReader::new(file), expected.clone());
    match io::copy(&mut reader, &mut io::sink()) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::InvalidData => Ok(false),
        Err(e) => Err(e),
    }
}

/// The id `kind` gives a file's bytes as DVC 3 computes it for a work-tree file: the raw
/// md5, or for legacy (`md5-dos2unix`) outputs the md5 of each 1 MiB chunk with CRLF made
/// LF when the chunk looks like text.
pub fn hash_reader(mut reader: impl io::Read, kind: HashKind) -> io::Result<[u8; 16]> {
    let mut raw = Md5::new();
    let mut legacy = (kind == HashKind::Md5Dos2Unix).then(LegacyHashers::default);
    let mut buf = vec![0u8; LEGACY_CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        match &mut legacy {
            Some(l) => l.update(&buf[..n]),
            None => raw.update(&buf[..n]),
        }
    }
    Ok(match legacy {
        Some(l) => l.finish()[1],
        None => raw.finalize().into(),
    })
}

/// Whether `bytes` are what `expected` names (any legacy variant for DVC 2-era ids); `Err`
/// carries the raw md5 the bytes have, for messages. Used for `.dir` manifests, which are
/// read whole before they are trusted.
pub fn bytes_match(bytes: &[u8], expected: &DvcHash) -> Result<(), String> {
    let mut verifier = Verifier::new(expected.clone());
    verifier.update(bytes);
    verifier.finish()
}

/// The two legacy algorithms, fed 1 MiB chunks aligned to the file start as DVC reads them.
#[derive(Default)]
struct LegacyHashers {
    pending: Vec<u8>,
    /// DVC 2: text or binary decided once from the file's first 512 bytes.
    file_is_text: Option<bool>,
    v2: Md5,
    /// DVC 3's dos2unix stream: decided again for every chunk.
    v3: Md5,
}

impl LegacyHashers {
    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (LEGACY_CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == LEGACY_CHUNK {
                self.flush_chunk();
            }
        }
    }

    fn flush_chunk(&mut self) {
        let chunk = std::mem::take(&mut self.pending);
        let file_is_text = *self
            .file_is_text
            .get_or_insert_with(|| is_text_block(&chunk[..chunk.len().min(TEXT_PROBE)]));
        let converted = dos2unix(&chunk);
        self.v2
            .update(if file_is_text { &converted } else { &chunk });
        let chunk_is_text = is_text_block(&chunk[..chunk.len().min(TEXT_PROBE)]);
        self.v3
            .update(if chunk_is_text { &converted } else { &chunk });
        self.pending = chunk;
        self.pending.clear();
    }

    fn finish(mut self) -> [[u8; 16]; 2] {
        if !self.pending.is_empty() || self.file_is_text.is_none() {
            self.flush_chunk();
        }
        [self.v2.finalize().into(), self.v3.finalize().into()]
    }
}

/// DVC's `istextblock`: no NUL, and at most 30% of bytes outside printable ASCII and
/// `\n \r \t \f \b`.
fn is_text_block(block: &[u8]) -> bool {
    if block.is_empty() {
        return true;
    }
    if block.contains(&0) {
        return false;
    }
    let nontext = block
        .iter()
        .filter(|&&b| !((32..127).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x08)))
        .count();
    (nontext as f64) / (block.len() as f64) <= 0.30
}

fn dos2unix(chunk: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(chunk.len());
    let mut i = 0;
    while i < chunk.len() {
        if chunk[i] == b'\r' && chunk.get(i + 1) == Some(&b'\n') {
            out.push(b'\n');
            i += 2;
        } else {
            out.push(chunk[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::ObjectId;

    fn hash(kind: HashKind, hex: &str) -> DvcHash {
        DvcHash {
            kind,
            oid: ObjectId::parse(hex).unwrap(),
        }
    }

    fn verify(bytes: &[u8], expected: DvcHash) -> io::Result<u64> {
        io::copy(&mut VerifyingReader::new(bytes, expected), &mut io::sink())
    }

    #[test]
    fn accepts_matching_md5_and_rejects_other_bytes() {
        let h = hash(HashKind::Md5, "7ac062d8a84466e70d9b899c0821a51c");
        assert_eq!(verify(b"hello\r\nworld\r\n", h.clone()).unwrap(), 14);
        let err = verify(b"hello\nworld\n", h).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn legacy_text_hash_is_dos2unix() {
        // md5("hello\nworld\n"), the DVC 2 name of a CRLF file.
        let h = hash(HashKind::Md5Dos2Unix, "0f723ae7f9bf07744445e93ac5595156");
        assert!(verify(b"hello\r\nworld\r\n", h.clone()).is_ok());
        // DVC 2.58 verified example: a\r\nb\r\n → md5(a\nb\n).
        let h2 = hash(HashKind::Md5Dos2Unix, "dd8c6a395b5dd36c56d23275028f526c");
        assert!(verify(b"a\r\nb\r\n", h2).is_ok());
        assert!(verify(b"something else", h).is_err());
    }

    #[test]
    fn legacy_binary_is_raw_md5() {
        let data = [0u8, 1, 2, b'\r', b'\n'];
        let raw = hex::encode(Md5::digest(data));
        assert!(verify(&data, hash(HashKind::Md5Dos2Unix, &raw)).is_ok());
    }

    #[test]
    fn empty_file() {
        let h = hash(HashKind::Md5Dos2Unix, "d41d8cd98f00b204e9800998ecf8427e");
        assert!(verify(b"", h).is_ok());
    }
}
