//! Support for the fetch tests (`tests/it/fetch.rs` and the backend rows in
//! `tests/it/remote_*.rs`): two fresh clones of one repository, `git dvc fetch` in one and
//! real `dvc fetch` in the other with the same arguments and remotes, and the caches they
//! fill compared file by file: names, bytes and modes, directories included.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::{list_files, md5_hex, parse_object_path, tree_state, Repo, Run, TestEnv, TreeEntry};

/// The two sides of [`compare_fetch_with_dvc`].
pub struct FetchComparison<'e> {
    pub git_dvc: Run,
    pub dvc: Run,
    /// The clone git-dvc fetched into.
    pub ours: Repo<'e>,
    /// The clone DVC fetched into.
    pub theirs: Repo<'e>,
}

/// Clones `src` twice (`fetch/<label>/git-dvc`, `fetch/<label>/dvc`), runs `prepare` in
/// each (remotes, local branches, seeded objects), then `git dvc fetch ARGS` in the first
/// and `dvc fetch ARGS` in the second. Asserts both exit alike, print the same stdout, and
/// leave the same cache ([`assert_same_caches`]).
#[track_caller]
pub fn compare_fetch_with_dvc<'e>(
    env: &'e TestEnv,
    src: &Path,
    label: &str,
    args: &[&str],
    prepare: &dyn Fn(&Repo<'_>),
) -> FetchComparison<'e> {
    compare_fetch_with_dvc_args(env, src, label, args, args, prepare)
}

/// [`compare_fetch_with_dvc`] where the two tools take different arguments for the same
/// selection (`--glob`, which DVC's fetch lacks, against the paths it expands to).
#[track_caller]
pub fn compare_fetch_with_dvc_args<'e>(
    env: &'e TestEnv,
    src: &Path,
    label: &str,
    our_args: &[&str],
    their_args: &[&str],
    prepare: &dyn Fn(&Repo<'_>),
) -> FetchComparison<'e> {
    let ours = env.clone_repo(src, &format!("fetch/{label}/git-dvc"));
    let theirs = env.clone_repo(src, &format!("fetch/{label}/dvc"));
    prepare(&ours);
    prepare(&theirs);
    let git_dvc = ours.try_git_dvc(&[&["fetch"], our_args].concat());
    let dvc = theirs.try_dvc(&[&["fetch"], their_args].concat());
    assert_eq!(
        git_dvc.code(),
        dvc.code(),
        "{label}: git-dvc and dvc exit differently\n{}\n{}",
        git_dvc.describe(),
        dvc.describe()
    );
    assert_eq!(
        git_dvc.out(),
        dvc.out(),
        "{label}: git-dvc and dvc print different summaries\n{}\n{}",
        git_dvc.describe(),
        dvc.describe()
    );
    assert_same_caches(label, &ours, &theirs);
    assert_cache_sound(&ours.cache_dir());
    FetchComparison {
        git_dvc,
        dvc,
        ours,
        theirs,
    }
}

/// The two clones' caches hold the same files with the same bytes and modes, and the same
/// directories with the same modes (DVC's `runs/` tree included). A cache directory that
/// was never made counts as empty, and so do empty directories: DVC makes an object's
/// directory before it knows whether the copy will work, git-dvc once the first byte comes.
#[track_caller]
pub fn assert_same_caches(label: &str, ours: &Repo<'_>, theirs: &Repo<'_>) {
    assert_same_cache_dirs(label, &ours.cache_dir(), &theirs.cache_dir());
}

/// [`assert_same_caches`] for two cache directories.
#[track_caller]
pub fn assert_same_cache_dirs(label: &str, a: &Path, b: &Path) {
    let ta = without_empty_dirs(a);
    let tb = without_empty_dirs(b);
    let mut problems = Vec::new();
    for (k, ea) in &ta {
        match tb.get(k) {
            None => problems.push(format!("only in A: {k}")),
            Some(eb) if eb != ea => problems.push(format!(
                "differs: {k}: A {} {:o} ({} bytes), B {} {:o} ({} bytes)",
                ea.kind,
                ea.mode,
                ea.content.len(),
                eb.kind,
                eb.mode,
                eb.content.len()
            )),
            _ => {}
        }
    }
    problems.extend(
        tb.keys()
            .filter(|k| !ta.contains_key(*k))
            .map(|k| format!("only in B: {k}")),
    );
    assert!(
        problems.is_empty(),
        "{label}: caches differ (A = git-dvc {}, B = dvc {})\n  {}",
        a.display(),
        b.display(),
        problems.join("\n  ")
    );
}

fn without_empty_dirs(dir: &Path) -> BTreeMap<String, TreeEntry> {
    if !dir.exists() {
        return BTreeMap::new();
    }
    let mut tree = tree_state(dir, &[]);
    let files: Vec<String> = tree
        .iter()
        .filter(|(_, e)| e.kind != 'd')
        .map(|(k, _)| k.clone())
        .collect();
    tree.retain(|k, e| e.kind != 'd' || files.iter().any(|f| f.starts_with(&format!("{k}/"))));
    tree
}

/// Every object-named file in `cache` hashes to its name (DVC 3 objects; legacy ones are
/// checked by the comparison with DVC), no temporary file is left, and every `.dir` has
/// all its members.
#[track_caller]
pub fn assert_cache_sound(cache: &Path) {
    let files = list_files(cache);
    let mut problems = Vec::new();
    for (rel, bytes) in &files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if name.starts_with('.') || name.ends_with(".tmp") {
            problems.push(format!("temporary file left: {rel}"));
            continue;
        }
        if rel.starts_with("runs/") {
            continue;
        }
        let Some(object) = parse_object_path(rel) else {
            problems.push(format!("not an object: {rel}"));
            continue;
        };
        if !object.legacy && md5_hex(bytes) != object.md5() {
            problems.push(format!("{rel} does not hash to its name"));
        }
        if object.is_dir() {
            for (md5, path) in super::parse_dir_manifest(bytes) {
                let member = super::object_rel_path(&md5, object.legacy);
                if !files.contains_key(&member) {
                    problems.push(format!("{rel} lacks its member {path} ({md5})"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "cache {} is not sound:\n  {}",
        cache.display(),
        problems.join("\n  ")
    );
}

/// Copies objects (`push: false` outputs, which no remote holds) from `src`'s cache into
/// `clone`'s, keeping their mode.
pub fn seed_objects(src: &Path, clone: &Repo<'_>, oids: &[&str]) {
    for oid in oids {
        let rel = super::object_rel_path(oid, false);
        let from = src.join(".dvc/cache").join(&rel);
        let to = clone.cache_dir().join(&rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(&from, &to).unwrap_or_else(|e| panic!("seed {}: {e}", from.display()));
    }
}

/// Temporary files (`.…tmp`) anywhere under `dir`.
pub fn temporaries(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else if name.starts_with('.') && name.ends_with(".tmp") {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}
