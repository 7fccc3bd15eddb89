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

use std::collections::{HashMap, HashSet};
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
    Query::new(storage, jobs).present(hashes)
}

/// Several questions to one storage: the size estimate and a full listing, once made, answer
/// the later questions without new requests.
pub struct Query<'a> {
    storage: &'a dyn Storage,
    jobs: usize,
    estimates: HashMap<HashKind, Estimate>,
    listings: HashMap<HashKind, HashSet<String>>,
}

/// The remote's size as DVC estimates it, from the keys under `"0" * P`.
struct Estimate {
    /// The keys that listing saw (they need no further question).
    seen: HashSet<String>,
    remote_size: f64,
}

impl Estimate {
    fn pages(&self) -> f64 {
        self.remote_size / PAGE_SIZE
    }

    /// Below this many objects, asking each costs less than listing.
    fn weight(&self) -> f64 {
        if self.remote_size > THRESHOLD_SIZE {
            self.pages() * WEIGHT_MULTIPLIER
        } else {
            self.pages()
        }
    }

    fn lists(&self, n: usize) -> bool {
        n as f64 >= self.weight()
    }

    /// Whether a full listing goes in one sequence of pages (else 255+ prefixes in parallel).
    fn lists_in_one_go(&self, jobs: usize) -> bool {
        self.pages() < 256.0 / jobs as f64
    }

    /// Requests a full listing takes.
    fn listing_requests(&self, jobs: usize, prefix_len: usize) -> f64 {
        let pages = self.pages().ceil().max(1.0);
        if self.lists_in_one_go(jobs) {
            pages
        } else {
            let prefixes = 255.0 + if prefix_len > 2 { 15.0 } else { 0.0 };
            pages.max(prefixes)
        }
    }
}

impl<'a> Query<'a> {
    pub fn new(storage: &'a dyn Storage, jobs: usize) -> Self {
        Query {
            storage,
            jobs: jobs.max(1),
            estimates: HashMap::new(),
            listings: HashMap::new(),
        }
    }

    /// Returns the subset of `hashes` present in the storage.
    pub fn present(&mut self, hashes: &[&DvcHash]) -> Result<HashSet<DvcHash>, StorageError> {
        let mut found = HashSet::new();
        // etag/checksum ids need not start with two lower-case hex digits, so a listing by
        // hex prefixes could miss them: ask about each one (they are rare).
        let (named, hashes): (Vec<&DvcHash>, Vec<&DvcHash>) =
            hashes.iter().copied().partition(|h| h.oid.is_named());
        found.extend(exists_each(self.storage, &named, self.jobs)?);
        for kind in [HashKind::Md5, HashKind::Md5Dos2Unix] {
            let of_kind: Vec<&DvcHash> =
                hashes.iter().copied().filter(|h| h.kind == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            found.extend(self.present_in_layout(kind, &of_kind)?);
        }
        Ok(found)
    }

    /// Requests it would take to ask about these many objects of one layout, as DVC decides
    /// (`None` when the storage cannot list, or for a single object: asked directly). May
    /// make the size estimate.
    pub fn cost(&mut self, kind: HashKind, n: usize) -> Result<Option<f64>, StorageError> {
        let Some(prefix_len) = self.prefix_len() else {
            return Ok(None);
        };
        if self.listings.contains_key(&kind) {
            return Ok(Some(0.0));
        }
        if n <= 1 {
            return Ok(Some(n as f64));
        }
        let jobs = self.jobs;
        let estimate = self.estimate(kind, n)?;
        Ok(Some(if estimate.lists(n) {
            estimate.listing_requests(jobs, prefix_len)
        } else {
            n as f64
        }))
    }

    /// Whether the storage can list its keys (HTTP cannot).
    pub fn can_list(&self) -> bool {
        self.prefix_len().is_some()
    }

    fn prefix_len(&self) -> Option<usize> {
        self.storage.traverse_prefix_len().map(|p| p.max(2))
    }

    fn present_in_layout(
        &mut self,
        kind: HashKind,
        hashes: &[&DvcHash],
    ) -> Result<Vec<DvcHash>, StorageError> {
        if let Some(keys) = self.listings.get(&kind) {
            return Ok(filter_listed(hashes, keys));
        }
        let prefix_len = match self.prefix_len() {
            Some(p) if hashes.len() > 1 => p,
            _ => return exists_each(self.storage, hashes, self.jobs),
        };
        let (jobs, storage) = (self.jobs, self.storage);
        let estimate = self.estimate(kind, hashes.len())?;
        if !estimate.lists(hashes.len()) {
            let (seen, rest): (Vec<&DvcHash>, Vec<&DvcHash>) = hashes
                .iter()
                .copied()
                .partition(|h| estimate.seen.contains(&h.relative_key()));
            let mut out: Vec<DvcHash> = seen.into_iter().cloned().collect();
            out.extend(exists_each(storage, &rest, jobs)?);
            return Ok(out);
        }
        let layout = kind.layout_prefix();
        let keys: HashSet<String> = if estimate.lists_in_one_go(jobs) {
            storage.list(layout, None)?.into_iter().collect()
        } else {
            let mut prefixes: Vec<String> = (1..256).map(|i| format!("{i:02x}")).collect();
            if prefix_len > 2 {
                let width = prefix_len;
                prefixes.extend(
                    (1..16usize.pow(prefix_len as u32 - 2)).map(|i| format!("{i:0width$x}")),
                );
            }
            let mut keys = list_parallel(storage, layout, &prefixes, jobs)?;
            keys.extend(estimate.seen.iter().cloned());
            keys
        };
        let out = filter_listed(hashes, &keys);
        self.listings.insert(kind, keys);
        Ok(out)
    }

    /// The size estimate for `kind`, listed once; `n` (the first question's size) sets how
    /// far the listing goes, as in DVC.
    fn estimate(&mut self, kind: HashKind, n: usize) -> Result<&Estimate, StorageError> {
        if !self.estimates.contains_key(&kind) {
            let prefix_len = self.prefix_len().unwrap_or(2);
            let total_prefixes = 16f64.powi(prefix_len as i32);
            let max_objects = THRESHOLD_SIZE.max(n as f64 / WEIGHT_MULTIPLIER * PAGE_SIZE);
            // DVC yields entries until one more than the limit has been seen.
            let limit = (max_objects / total_prefixes).floor() as usize + 1;
            let prefix = key_prefix(kind.layout_prefix(), &"0".repeat(prefix_len));
            let seen: HashSet<String> = self
                .storage
                .list(&prefix, Some(limit))?
                .into_iter()
                .collect();
            let remote_size = total_prefixes * (seen.len().max(1) as f64);
            self.estimates.insert(kind, Estimate { seen, remote_size });
        }
        Ok(&self.estimates[&kind])
    }
}

fn filter_listed(hashes: &[&DvcHash], keys: &HashSet<String>) -> Vec<DvcHash> {
    hashes
        .iter()
        .filter(|h| keys.contains(&h.relative_key()))
        .map(|h| (*h).clone())
        .collect()
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
    use crate::storage::memory::MemoryStorage;

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

    fn fake(present: &[DvcHash], prefix_len: Option<usize>) -> MemoryStorage {
        MemoryStorage::new(present.iter().map(|h| h.relative_key()), prefix_len)
    }

    #[test]
    fn single_object_is_checked_directly() {
        let h = hash(1);
        let s = fake(std::slice::from_ref(&h), Some(3));
        let got = present(&s, &[&h], 4).unwrap();
        assert!(got.contains(&h));
        assert_eq!(s.exists_calls(), 1);
        assert!(s.list_calls().is_empty());
    }

    #[test]
    fn storage_that_cannot_list_is_asked_per_object() {
        let hs: Vec<DvcHash> = (0..10).map(hash).collect();
        let s = fake(&hs[..5], None);
        let refs: Vec<&DvcHash> = hs.iter().collect();
        let got = present(&s, &refs, 4).unwrap();
        assert_eq!(got.len(), 5);
        assert_eq!(s.exists_calls(), 10);
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
        assert_eq!(s.exists_calls(), 0);
        let lists = s.list_calls();
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
        assert_eq!(s.exists_calls(), 2);
        assert_eq!(s.list_calls().len(), 1);
    }

    #[test]
    fn ssh_layout_estimates_from_the_00_directory() {
        let hs: Vec<DvcHash> = (0..300).map(hash).collect();
        let s = fake(&hs, Some(2));
        let refs: Vec<&DvcHash> = hs.iter().collect();
        let got = present(&s, &refs, 4).unwrap();
        assert_eq!(got.len(), 300);
        let lists = s.list_calls();
        assert_eq!(lists[0].0, "files/md5/00/");
    }
}
