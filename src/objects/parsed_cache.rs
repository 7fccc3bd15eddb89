//! What each `.dvc` blob parsed to, kept between runs in `$GIT_DIR/dvc/parsed-dvc-files`.
//!
//! `push -a -T` over a long history reads and parses tens of thousands of distinct `.dvc`
//! blobs (33,895 at the harness's 10x size), about a third of a no-op's CPU, and the next
//! run finds the same blobs again. A blob id names its bytes, and a `.dvc` file's outputs
//! depend on its bytes alone, so a parse is kept by blob id and reused.
//!
//! What makes a kept result stale is a different parser or different limits: the file's
//! first line names the git-dvc binary (size and modification time of the running
//! executable) and the DVC file size limit, and a file with another first line is ignored
//! and replaced. Only successful parses are kept (a failure is parsed again, so its
//! message is always today's), and only by client commands once a run meets enough blobs
//! ([`WORTH_IT`]: `push`, `status`, `fetch`, and `checkout`, `pull` and the checkout hooks
//! in a large work tree; never `check` or the server's pre-receive, which read pushed
//! content and vouch for it). The file lives in the git directory, where no
//! checkout writes, and is replaced by rename; one that does not parse is ignored.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dvc::hash::{DvcHash, HashKind, ObjectId};
use crate::dvc::output::{DvcOutput, ManifestEntry};
use crate::git::GitOid;

/// Below this many `.dvc` blobs to parse, a run parses them (a hook's few files cost less
/// than reading the file).
pub const WORTH_IT: usize = 512;

/// More entries than this (blobs of a history that has since been rewritten, say) and the
/// file starts over.
const MAX_ENTRIES: usize = 2_000_000;

/// One `.dvc` blob's outputs, as [`crate::objects::collect::ParsedUnit`] holds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub outputs: Vec<DvcOutput>,
    pub is_repo_import: bool,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    blob: String,
    import: bool,
    outs: Vec<Out>,
}

#[derive(Serialize, Deserialize)]
struct Out {
    path: String,
    /// `md5` (DVC 3), `md5-dos2unix` (DVC 2-era): [`HashKind::name`].
    kind: Option<String>,
    hash: Option<String>,
    named: bool,
    remote: Option<String>,
    push: bool,
    cache: bool,
    isexec: bool,
    files: Option<Vec<(String, String)>>,
    stage: Option<String>,
}

pub struct ParsedCache {
    path: PathBuf,
    header: String,
    entries: HashMap<GitOid, Kept>,
    added: bool,
}

/// The bytes of the regular file at `path`, opened without blocking: anything else there
/// (a FIFO would hang every run) counts as no file.
fn read_regular(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

impl ParsedCache {
    /// The kept parses in `git_dir` for this binary and `dvc_file_limit` (none when the
    /// file is missing, stale or damaged).
    pub fn load(git_dir: &Path, dvc_file_limit: usize) -> ParsedCache {
        let path = git_dir.join("dvc").join("parsed-dvc-files");
        let header = header(dvc_file_limit);
        let entries = read_regular(&path)
            .and_then(|bytes| read_entries(&bytes, &header))
            .unwrap_or_default();
        ParsedCache {
            path,
            header,
            entries,
            added: false,
        }
    }

    pub fn get(&self, blob: &GitOid) -> Option<&Kept> {
        self.entries.get(blob)
    }

    pub fn insert(&mut self, blob: GitOid, kept: Kept) {
        self.added |= self.entries.insert(blob, kept).is_none();
    }

    /// Writes the file when this run learned something (temporary name, then rename).
    /// Best effort: a cache that cannot be written only costs the next run its parses.
    pub fn save(self) {
        if self.entries.len() > MAX_ENTRIES {
            let _ = fs::remove_file(&self.path);
            return;
        }
        if !self.added {
            return;
        }
        let entries: Vec<Entry> = self
            .entries
            .iter()
            .map(|(blob, kept)| to_entry(blob, kept))
            .collect();
        let Ok(body) = serde_json::to_vec(&entries) else {
            return;
        };
        let mut bytes = Vec::with_capacity(self.header.len() + 1 + body.len());
        bytes.extend_from_slice(self.header.as_bytes());
        bytes.push(b'\n');
        bytes.extend_from_slice(&body);
        let _ = crate::temp_files::replace_file(&self.path, &bytes);
    }
}

/// Names the parser (this executable) and the limit a parse depends on.
fn header(dvc_file_limit: usize) -> String {
    let exe = std::env::current_exe()
        .and_then(fs::metadata)
        .map(|m| {
            use std::os::unix::fs::MetadataExt;
            format!("{}-{}.{}", m.len(), m.mtime(), m.mtime_nsec())
        })
        .unwrap_or_else(|_| "unknown".to_string());
    format!(
        "git-dvc parsed-dvc-files 1 {} {exe} {dvc_file_limit}",
        env!("CARGO_PKG_VERSION")
    )
}

fn read_entries(bytes: &[u8], header: &str) -> Option<HashMap<GitOid, Kept>> {
    let newline = bytes.iter().position(|b| *b == b'\n')?;
    if &bytes[..newline] != header.as_bytes() || header.contains("unknown") {
        return None;
    }
    let entries: Vec<Entry> = serde_json::from_slice(&bytes[newline + 1..]).ok()?;
    entries
        .into_iter()
        .map(|e| Some((GitOid::from_hex(e.blob.as_bytes()).ok()?, from_entry(e)?)))
        .collect()
}

fn to_entry(blob: &GitOid, kept: &Kept) -> Entry {
    Entry {
        blob: blob.to_string(),
        import: kept.is_repo_import,
        outs: kept
            .outputs
            .iter()
            .map(|o| Out {
                path: o.path.clone(),
                kind: o.hash.as_ref().map(|h| h.kind.name().to_string()),
                hash: o.hash.as_ref().map(|h| h.oid.to_string()),
                named: o.hash.as_ref().is_some_and(|h| h.oid.is_named()),
                remote: o.remote.clone(),
                push: o.push,
                cache: o.cache,
                isexec: o.isexec,
                files: o.files.as_ref().map(|files| {
                    files
                        .iter()
                        .map(|f| (f.relpath.clone(), f.md5.to_string()))
                        .collect()
                }),
                stage: o.stage.clone(),
            })
            .collect(),
    }
}

fn from_entry(e: Entry) -> Option<Kept> {
    let outputs = e
        .outs
        .into_iter()
        .map(|o| {
            let hash = match (o.kind, o.hash) {
                (Some(kind), Some(hash)) => {
                    let kind = [HashKind::Md5, HashKind::Md5Dos2Unix]
                        .into_iter()
                        .find(|k| k.name() == kind)?;
                    let oid = match o.named {
                        true => ObjectId::parse_named(&hash),
                        false => ObjectId::parse(&hash),
                    }
                    .ok()?;
                    Some(DvcHash { kind, oid })
                }
                (None, None) => None,
                _ => return None,
            };
            let files = match o.files {
                Some(files) => Some(
                    files
                        .into_iter()
                        .map(|(relpath, md5)| {
                            Some(ManifestEntry {
                                relpath,
                                md5: ObjectId::parse(&md5).ok()?,
                            })
                        })
                        .collect::<Option<Vec<_>>>()?,
                ),
                None => None,
            };
            Some(DvcOutput {
                path: o.path,
                hash,
                remote: o.remote,
                push: o.push,
                cache: o.cache,
                files,
                stage: o.stage,
                isexec: o.isexec,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Kept {
        outputs,
        is_repo_import: e.import,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oid(hex: &str) -> ObjectId {
        ObjectId::parse(hex).unwrap()
    }

    #[test]
    fn every_field_survives_the_round_trip_and_a_new_binary_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let blob = GitOid::from_hex(b"0123456789abcdef0123456789abcdef01234567").unwrap();
        let kept = Kept {
            outputs: vec![
                DvcOutput {
                    path: "data dir/ü".to_string(),
                    hash: Some(DvcHash {
                        kind: HashKind::Md5,
                        oid: oid("d41d8cd98f00b204e9800998ecf8427e.dir"),
                    }),
                    remote: Some("r2".to_string()),
                    push: false,
                    cache: true,
                    files: Some(vec![ManifestEntry {
                        relpath: "a\nb".to_string(),
                        md5: oid("60b725f10c9c85c70d97880dfe8191b3"),
                    }]),
                    stage: Some("train".to_string()),
                    isexec: true,
                },
                DvcOutput {
                    path: "etag".to_string(),
                    hash: Some(DvcHash {
                        kind: HashKind::Md5Dos2Unix,
                        oid: ObjectId::parse_named("abc-123").unwrap(),
                    }),
                    remote: None,
                    push: true,
                    cache: false,
                    files: None,
                    stage: None,
                    isexec: false,
                },
                DvcOutput {
                    path: "never committed".to_string(),
                    hash: None,
                    remote: None,
                    push: true,
                    cache: true,
                    files: None,
                    stage: None,
                    isexec: false,
                },
            ],
            is_repo_import: true,
        };
        let mut cache = ParsedCache::load(dir.path(), 100);
        assert!(cache.get(&blob).is_none());
        cache.insert(blob, kept.clone());
        cache.save();
        let again = ParsedCache::load(dir.path(), 100);
        assert_eq!(again.get(&blob), Some(&kept));
        // Another limit (or binary) is another parser: nothing is reused.
        assert!(ParsedCache::load(dir.path(), 99).get(&blob).is_none());
        let path = dir.path().join("dvc").join("parsed-dvc-files");
        let text = fs::read_to_string(&path).unwrap();
        let other = text.replacen("parsed-dvc-files 1 ", "parsed-dvc-files 1 x", 1);
        fs::write(&path, other).unwrap();
        assert!(ParsedCache::load(dir.path(), 100).get(&blob).is_none());
        fs::write(&path, b"garbage").unwrap();
        assert!(ParsedCache::load(dir.path(), 100).get(&blob).is_none());
    }
}
