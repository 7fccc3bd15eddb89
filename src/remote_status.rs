//! Remote status: which of a set of objects a storage already holds, asked the way DVC asks
//! (`dvc_objects/db.py:ObjectDB.oids_exist`), so a status costs no more requests than
//! DVC's for the same state:
//!
//! * one object, or a storage that cannot list (HTTP): one `exists` per object, `jobs` wide;
//! * otherwise the remote's size is estimated by listing the keys whose hash starts with
//!   `"0" * P` (`files/md5/00/0…` for object stores, P = 3; the `files/md5/00/` directory
//!   for SSH and local, P = 2), stopping early on a big remote;
//! * if there are fewer objects than the listing would take pages (weighted ×5 above
//!   500 000 objects), the objects the estimate did not already see get an `exists` each;
//! * else everything is listed: the whole layout prefix in one go for a small remote
//!   (fewer than `256 / jobs` pages), or the 255 other two-hex-digit prefixes (plus
//!   `001`…`00f` when P = 3) in parallel, reusing the estimate for the rest.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::dvc::hash::{DvcHash, HashKind};
use crate::storage::{Storage, StorageError};

/// DVC's `LIST_OBJECT_PAGE_SIZE`.
const PAGE_SIZE: f64 = 1000.0;
/// DVC's `TRAVERSE_WEIGHT_MULTIPLIER`.
const WEIGHT_MULTIPLIER: f64 = 5.0;
/// DVC's `TRAVERSE_THRESHOLD_SIZE`.
const THRESHOLD_SIZE: f64 = 500_000.0;

/// Returns the subset of `hashes` present in `storage`.
pub fn present(
    storage: &dyn Storage,
    hashes: &[&DvcHash],
    jobs: usize,
) -> Result<HashSet<DvcHash>, StorageError> {
    let mut found = HashSet::new();
    for kind in [HashKind::Md5, HashKind::Md5Dos2Unix] {
        let of_kind: Vec<&DvcHash> = hashes.iter().copied().filter(|h| h.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        found.extend(present_in_layout(storage, kind, &of_kind, jobs.max(1))?);
    }
    Ok(found)
}

fn present_in_layout(
    storage: &dyn Storage,
    kind: HashKind,
    hashes: &[&DvcHash],
    jobs: usize,
) -> Result<Vec<DvcHash>, StorageError> {
    let prefix_len = match storage.traverse_prefix_len() {
        Some(p) if hashes.len() > 1 => p.max(2),
        _ => return exists_each(storage, hashes, jobs),
    };
    let layout = kind.layout_prefix();
    let total_prefixes = 16f64.powi(prefix_len as i32);

    // Estimate the remote's size from the keys under "0" * P.
    let max_objects = THRESHOLD_SIZE.max(hashes.len() as f64 / WEIGHT_MULTIPLIER * PAGE_SIZE);
    // DVC yields entries until one more than the limit has been seen.
    let limit = (max_objects / total_prefixes).floor() as usize + 1;
    let estimate_prefix = key_prefix(layout, &"0".repeat(prefix_len));
    let estimate: HashSet<String> = storage
        .list(&estimate_prefix, Some(limit))?
        .into_iter()
        .collect();
    let remote_size = if estimate.is_empty() {
        total_prefixes
    } else {
        total_prefixes * estimate.len() as f64
    };
    let pages = remote_size / PAGE_SIZE;
    let weight = if remote_size > THRESHOLD_SIZE {
        pages * WEIGHT_MULTIPLIER
    } else {
        pages
    };

    if (hashes.len() as f64) < weight {
        let (mut seen, rest): (Vec<&DvcHash>, Vec<&DvcHash>) = hashes
            .iter()
            .copied()
            .partition(|h| estimate.contains(&h.relative_key()));
        let mut out: Vec<DvcHash> = seen.drain(..).cloned().collect();
        out.extend(exists_each(storage, &rest, jobs)?);
        return Ok(out);
    }

    let keys: HashSet<String> = if pages < 256.0 / jobs as f64 {
        storage.list(layout, None)?.into_iter().collect()
    } else {
        let mut prefixes: Vec<String> = (1..256).map(|i| format!("{i:02x}")).collect();
        if prefix_len > 2 {
            let width = prefix_len;
            prefixes
                .extend((1..16usize.pow(prefix_len as u32 - 2)).map(|i| format!("{i:0width$x}")));
        }
        let mut keys = list_parallel(storage, layout, &prefixes, jobs)?;
        keys.extend(estimate);
        keys
    };
    Ok(hashes
        .iter()
        .filter(|h| keys.contains(&h.relative_key()))
        .map(|h| (*h).clone())
        .collect())
}

/// The key prefix of hashes starting with `hex`: `files/md5/00/0` for `000`, `files/md5/01/`
/// for `01` (DVC's `oid_to_path`).
fn key_prefix(layout: &str, hex: &str) -> String {
    format!("{layout}{}/{}", &hex[..2], &hex[2..])
}

fn list_parallel(
    storage: &dyn Storage,
    layout: &str,
    prefixes: &[String],
    jobs: usize,
) -> Result<HashSet<String>, StorageError> {
    let next = AtomicUsize::new(0);
    let keys = Mutex::new(HashSet::new());
    let error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, prefixes.len().max(1)) {
            scope.spawn(|| loop {
                if error.lock().expect("lock").is_some() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(hex) = prefixes.get(i) else { break };
                match storage.list(&key_prefix(layout, hex), None) {
                    Ok(found) => keys.lock().expect("lock").extend(found),
                    Err(e) => {
                        *error.lock().expect("lock") = Some(e);
                        break;
                    }
                }
            });
        }
    });
    match error.into_inner().expect("lock") {
        Some(e) => Err(e),
        None => Ok(keys.into_inner().expect("lock")),
    }
}

fn exists_each(
    storage: &dyn Storage,
    hashes: &[&DvcHash],
    jobs: usize,
) -> Result<Vec<DvcHash>, StorageError> {
    let next = AtomicUsize::new(0);
    let found = Mutex::new(Vec::new());
    let error = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, hashes.len().max(1)) {
            scope.spawn(|| loop {
                if error.lock().expect("lock").is_some() {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(hash) = hashes.get(i) else { break };
                match storage.exists(&hash.relative_key()) {
                    Ok(true) => found.lock().expect("lock").push((*hash).clone()),
                    Ok(false) => {}
                    Err(e) => {
                        *error.lock().expect("lock") = Some(e);
                        break;
                    }
                }
            });
        }
    });
    match error.into_inner().expect("lock") {
        Some(e) => Err(e),
        None => Ok(found.into_inner().expect("lock")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::hash::ObjectId;
    use std::collections::BTreeSet;
    use std::sync::atomic::AtomicU64;

    /// An in-memory listing storage that records what it was asked.
    struct Fake {
        keys: BTreeSet<String>,
        prefix_len: Option<usize>,
        lists: Mutex<Vec<(String, Option<usize>)>>,
        exists: AtomicU64,
    }

    impl Storage for Fake {
        fn describe(&self) -> String {
            "fake".into()
        }
        fn exists(&self, key: &str) -> Result<bool, StorageError> {
            self.exists.fetch_add(1, Ordering::Relaxed);
            Ok(self.keys.contains(key))
        }
        fn read(&self, _key: &str) -> Result<Option<Vec<u8>>, StorageError> {
            Ok(None)
        }
        fn put(
            &self,
            _: &str,
            _: &mut dyn std::io::Read,
            _: u64,
            _: Option<&[u8; 16]>,
        ) -> Result<(), StorageError> {
            Ok(())
        }
        fn traverse_prefix_len(&self) -> Option<usize> {
            self.prefix_len
        }
        fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
            self.lists.lock().unwrap().push((prefix.to_string(), limit));
            let mut out: Vec<String> = self
                .keys
                .iter()
                .filter(|k| k.starts_with(prefix))
                .cloned()
                .collect();
            if let Some(l) = limit {
                out.truncate(l);
            }
            Ok(out)
        }
    }

    fn hash(i: u32) -> DvcHash {
        let mut digest = [0u8; 16];
        // Never under the `00` shard, so the size estimate sees an empty remote.
        digest[0] = 1 + (i % 255) as u8;
        digest[1..5].copy_from_slice(&i.to_be_bytes());
        DvcHash {
            kind: HashKind::Md5,
            oid: ObjectId::from_digest(digest, false),
        }
    }

    fn fake(present: &[DvcHash], prefix_len: Option<usize>) -> Fake {
        Fake {
            keys: present.iter().map(|h| h.relative_key()).collect(),
            prefix_len,
            lists: Mutex::new(Vec::new()),
            exists: AtomicU64::new(0),
        }
    }

    #[test]
    fn single_object_is_checked_directly() {
        let h = hash(1);
        let s = fake(std::slice::from_ref(&h), Some(3));
        let got = present(&s, &[&h], 4).unwrap();
        assert!(got.contains(&h));
        assert_eq!(s.exists.load(Ordering::Relaxed), 1);
        assert!(s.lists.lock().unwrap().is_empty());
    }

    #[test]
    fn storage_that_cannot_list_is_asked_per_object() {
        let hs: Vec<DvcHash> = (0..10).map(hash).collect();
        let s = fake(&hs[..5], None);
        let refs: Vec<&DvcHash> = hs.iter().collect();
        let got = present(&s, &refs, 4).unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(s.exists.load(Ordering::Relaxed), 10);
    }

    #[test]
    fn small_remote_few_objects_estimate_then_full_listing() {
        // An empty remote estimates as 16^3 = 4096 objects, 4.096 pages: 10 objects are
        // more than that weight, so the remote is listed (once: 4 pages < 256/4).
        let hs: Vec<DvcHash> = (0..10).map(hash).collect();
        let s = fake(&hs[..3], Some(3));
        let refs: Vec<&DvcHash> = hs.iter().collect();
        let got = present(&s, &refs, 4).unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(s.exists.load(Ordering::Relaxed), 0);
        let lists = s.lists.lock().unwrap().clone();
        assert_eq!(
            lists,
            vec![
                ("files/md5/00/0".to_string(), Some(123)),
                ("files/md5/".to_string(), None)
            ]
        );
    }

    #[test]
    fn fewer_objects_than_pages_use_exists() {
        // Two objects, empty remote of estimated 4096 → weight 4.096 > 2: exists each.
        let hs: Vec<DvcHash> = (0..2).map(hash).collect();
        let s = fake(&hs[..1], Some(3));
        let refs: Vec<&DvcHash> = hs.iter().collect();
        let got = present(&s, &refs, 4).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(s.exists.load(Ordering::Relaxed), 2);
        assert_eq!(s.lists.lock().unwrap().len(), 1);
    }

    #[test]
    fn ssh_layout_estimates_from_the_00_directory() {
        let hs: Vec<DvcHash> = (0..300).map(hash).collect();
        let s = fake(&hs, Some(2));
        let refs: Vec<&DvcHash> = hs.iter().collect();
        let got = present(&s, &refs, 4).unwrap();
        assert_eq!(got.len(), 300);
        let lists = s.lists.lock().unwrap().clone();
        assert_eq!(lists[0].0, "files/md5/00/");
    }
}
