//! DVC's run cache: `<cache>/runs/<key[:2]>/<key>/<value>`, one lock-style YAML entry per
//! stage run (`cmd`, `deps`, `outs`), both names sha256 hex (`dvc/stage/cache.py`).
//! `dvc push --run-cache` copies every entry to `<remote>/runs/…`, beside (not under)
//! `files/md5/`.

use std::path::{Path, PathBuf};

use super::dvcfile::hash_of;
use super::hash::DvcHash;
use super::yaml::{self, Yaml};

/// One stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunCacheEntry {
    /// The key on the remote and under the cache: `runs/ab/ab…/cd…`.
    pub key: String,
    pub path: PathBuf,
    /// The outputs the run produced (`path`, hash), for `dvc repro` to check out.
    pub outputs: Vec<(String, DvcHash)>,
}

/// Every entry under `<cache>/runs`, in name order. Entries that cannot be read or parsed
/// come back as warnings naming the file; names that are not DVC's are skipped (temporary
/// files of an interrupted `dvc repro`).
/// `max_bytes` caps each entry (`dvc.maxFileSize`).
pub fn scan(cache_root: &Path, max_bytes: usize) -> (Vec<RunCacheEntry>, Vec<String>) {
    let mut entries = Vec::new();
    let mut warnings = Vec::new();
    let runs = cache_root.join("runs");
    for prefix in sorted_dir(&runs) {
        let Some(prefix_name) = name_of(&prefix).filter(|n| is_hex(n, 2)) else {
            continue;
        };
        for key_dir in sorted_dir(&prefix) {
            let Some(key) = name_of(&key_dir).filter(|n| is_hex(n, 64)) else {
                continue;
            };
            if !key.starts_with(&prefix_name) {
                continue;
            }
            for path in sorted_dir(&key_dir) {
                let Some(value) = name_of(&path).filter(|n| is_hex(n, 64)) else {
                    continue;
                };
                let key = format!("runs/{prefix_name}/{key}/{value}");
                match read_outputs(&path, max_bytes) {
                    Ok(outputs) => entries.push(RunCacheEntry { key, path, outputs }),
                    Err(reason) => warnings.push(format!(
                        "run cache entry {} is not pushed: {reason}; delete it, or run the stage again",
                        path.display()
                    )),
                }
            }
        }
    }
    (entries, warnings)
}

fn read_outputs(path: &Path, max_bytes: usize) -> Result<Vec<(String, DvcHash)>, String> {
    let mut bytes = Vec::new();
    super::cache::open_object(path)
        .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut bytes))
        .map_err(|e| format!("cannot read it: {e}"))?;
    parse_entry(&bytes, max_bytes)
}

/// The outputs an entry's bytes (at most `max_bytes`) name; `Err` when they are not a
/// stage entry.
pub fn parse_entry(bytes: &[u8], max_bytes: usize) -> Result<Vec<(String, DvcHash)>, String> {
    let entry = yaml::parse(bytes, max_bytes).map_err(|e| format!("not valid YAML: {e}"))?;
    outputs_of(&entry)
}

/// Whether `key` is a run-cache entry's name as DVC makes it (`runs/ab/ab<62 hex>/<64
/// hex>`): keys listed on a remote are checked before they become paths in the cache.
pub fn is_entry_key(key: &str) -> bool {
    let parts: Vec<&str> = key.split('/').collect();
    matches!(parts.as_slice(), ["runs", prefix, key, value]
        if is_hex(prefix, 2) && is_hex(key, 64) && key.starts_with(prefix) && is_hex(value, 64))
}

/// The hashed outputs of one entry. An entry always records `hash: md5`; an output
/// without a hash (never the case in files DVC writes) is left out.
fn outputs_of(entry: &Yaml) -> Result<Vec<(String, DvcHash)>, String> {
    if entry.as_map().is_none() {
        return Err("not a stage entry (expected a mapping)".to_string());
    }
    let mut outputs = Vec::new();
    for out in entry.get("outs").and_then(Yaml::as_seq).unwrap_or_default() {
        let path = out
            .get("path")
            .and_then(Yaml::as_str)
            .ok_or("an output has no path")?;
        let (hash, _) = hash_of(out, path).map_err(|e| e.to_string())?;
        if let Some(hash) = hash {
            outputs.push((path.to_string(), hash));
        }
    }
    Ok(outputs)
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    paths.sort();
    paths
}

fn name_of(path: &Path) -> Option<String> {
    path.file_name()?.to_str().map(str::to_string)
}

fn is_hex(name: &str, len: usize) -> bool {
    name.len() == len
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::HashKind;

    const KEY: &str = "0abfd1b197536315b0af1d6315c637ec45b023bebc0500419e8a44c7c07df069";
    const VALUE: &str = "438126940745a3ceeb47f780b25a3880dcfd73edc726c99d7779bd38ee4d85ae";

    #[test]
    fn scans_entries_with_their_outputs_and_skips_foreign_names() {
        let dir = std::env::temp_dir().join(format!("git-dvc-runs-{}", std::process::id()));
        let key_dir = dir.join("runs/0a").join(KEY);
        std::fs::create_dir_all(&key_dir).unwrap();
        std::fs::write(
            key_dir.join(VALUE),
            "cmd: make\ndeps:\n- path: in.txt\n  hash: md5\n  md5: ba8d2b9408ed255ee92a112fe7ba59be\n  size: 3\n\
             outs:\n- path: out.txt\n  hash: md5\n  md5: 655288253f184005c74c635897120dd7\n  size: 4\n\
             - path: od\n  hash: md5\n  md5: 45b1eb2ff8072c35f82255c3c22c1ae9.dir\n  size: 2\n  nfiles: 1\n",
        )
        .unwrap();
        std::fs::write(key_dir.join(".tmp123"), "x").unwrap();
        let other = dir.join("runs/ff").join(KEY);
        std::fs::create_dir_all(&other).unwrap();
        std::fs::write(other.join(VALUE), "- not a mapping\n").unwrap();

        let (entries, warnings) = scan(&dir, crate::limits::DEFAULT_MAX_FILE_SIZE);
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].key, format!("runs/0a/{KEY}/{VALUE}"));
        let outs: Vec<(&str, String, HashKind)> = entries[0]
            .outputs
            .iter()
            .map(|(p, h)| (p.as_str(), h.relative_key(), h.kind))
            .collect();
        assert_eq!(
            outs,
            vec![
                (
                    "out.txt",
                    "files/md5/65/5288253f184005c74c635897120dd7".to_string(),
                    HashKind::Md5
                ),
                (
                    "od",
                    "files/md5/45/b1eb2ff8072c35f82255c3c22c1ae9.dir".to_string(),
                    HashKind::Md5
                ),
            ]
        );
        // The key directory does not start with its prefix: skipped, not an error.
        assert!(warnings.is_empty(), "{warnings:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn entry_keys_are_dvc_names_only() {
        assert!(is_entry_key(&format!("runs/0a/{KEY}/{VALUE}")));
        assert!(!is_entry_key(&format!("runs/0b/{KEY}/{VALUE}")));
        assert!(!is_entry_key(&format!("runs/0a/{KEY}/../{VALUE}")));
        assert!(!is_entry_key(&format!("runs/0a/{KEY}/{VALUE}/x")));
        assert!(!is_entry_key(&format!("runs/0a/{KEY}/.{}", &VALUE[1..])));
        assert!(!is_entry_key("runs/0a/../../etc/passwd"));
    }

    #[test]
    fn an_unparseable_entry_is_a_warning_naming_it() {
        let dir = std::env::temp_dir().join(format!("git-dvc-runs-bad-{}", std::process::id()));
        let key_dir = dir.join("runs/0a").join(KEY);
        std::fs::create_dir_all(&key_dir).unwrap();
        std::fs::write(key_dir.join(VALUE), "- a list\n").unwrap();
        let (entries, warnings) = scan(&dir, crate::limits::DEFAULT_MAX_FILE_SIZE);
        assert!(entries.is_empty());
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains(VALUE) && warnings[0].contains("mapping"),
            "{warnings:?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            scan(&dir, crate::limits::DEFAULT_MAX_FILE_SIZE).0,
            Vec::new(),
            "no runs directory: nothing"
        );
    }
}
