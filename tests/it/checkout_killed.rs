//! `git dvc checkout` killed (SIGKILL) at pseudo-random points while it moves a work tree
//! from one revision's data to another's. Whatever point it reached, no file under an
//! output's name holds anything but one of the two revisions' bytes; and the next
//! `git dvc checkout` completes the move: the work tree then equals what real
//! `dvc checkout` makes, no temporary file of git-dvc's is left anywhere, the cache is as it
//! was, and `git status` and real `dvc status` are clean.

use crate::common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;

/// The bytes of each file of revision `v` (1 or 2), by path. From v1 to v2: a third of the
/// members of `big/` change, a tenth go, a subdirectory of new ones comes; every 1 MiB
/// single-file output changes; `swap` goes from a file to a directory and `flip` the
/// other way.
fn revision(v: u64) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for i in 0..300u64 {
        if v == 2 && i % 10 == 1 {
            continue;
        }
        let seed = if v == 2 && i % 3 == 0 { 10_000 + i } else { i };
        let len = 1000 + (i as usize * 37) % 6000;
        files.insert(
            format!("big/s{}/f{i}.bin", i % 8),
            pseudo_random_bytes(seed, len),
        );
    }
    if v == 2 {
        for i in 0..30u64 {
            files.insert(
                format!("big/new/n{i}"),
                pseudo_random_bytes(20_000 + i, 2000),
            );
        }
    }
    for i in 0..4u64 {
        files.insert(
            format!("single{i}.bin"),
            pseudo_random_bytes(30_000 + 100 * v + i, 1 << 20),
        );
    }
    if v == 1 {
        files.insert("swap".into(), b"a file in v1\n".to_vec());
        files.insert("flip/a".into(), b"flip a\n".to_vec());
        files.insert("flip/b".into(), b"flip b\n".to_vec());
    } else {
        files.insert("swap/x".into(), b"a directory in v2\n".to_vec());
        files.insert("flip".into(), b"a file in v2\n".to_vec());
    }
    files
}

const OUTPUTS: [&str; 7] = [
    "big",
    "single0.bin",
    "single1.bin",
    "single2.bin",
    "single3.bin",
    "swap",
    "flip",
];

fn is_output_path(path: &str) -> bool {
    OUTPUTS
        .iter()
        .any(|o| path == *o || path.starts_with(&format!("{o}/")))
}

/// A clone of `repo` at `rev` sharing its cache, without data.
fn clone_at<'e>(env: &'e TestEnv, repo: &Repo<'_>, rel: &str, rev: &str) -> Repo<'e> {
    let c = env.clone_repo(&repo.dir, rel);
    let cache = repo.path(".dvc/cache");
    c.dvc(&["config", "--local", "cache.dir", cache.to_str().unwrap()]);
    c.git(&["checkout", "-q", rev]);
    c
}

/// The work tree outside `.git` and `.dvc`.
fn work_tree(repo: &Repo<'_>) -> BTreeMap<String, TreeEntry> {
    tree_state(&repo.dir, &[".git", ".dvc"])
}

#[test]
fn a_checkout_killed_at_random_points_is_completed_by_the_next() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let (v1, v2) = (revision(1), revision(2));
    for (v, files) in [("v1", &v1), ("v2", &v2)] {
        for o in OUTPUTS {
            let p = repo.path(o);
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else if p.exists() {
                std::fs::remove_file(&p).unwrap();
            }
        }
        for (path, bytes) in files {
            repo.write(path, bytes);
        }
        let mut args = vec!["add", "-q"];
        args.extend(OUTPUTS);
        repo.dvc(&args);
        repo.commit_all(v);
        repo.git(&["tag", v]);
    }
    let cache = repo.path(".dvc/cache");
    let cache_before = tree_state(&cache, &[]);

    // What `dvc checkout` makes of v2, and how long git-dvc takes to get there from v1.
    let theirs = clone_at(&env, &repo, "theirs", "v2");
    theirs.dvc(&["checkout", "-q"]);
    let want = work_tree(&theirs);
    let calibrate = clone_at(&env, &repo, "calibrate", "v1");
    calibrate.git_dvc(&["checkout", "-q"]);
    calibrate.git(&["checkout", "-q", "v2"]);
    let start = Instant::now();
    calibrate.git_dvc(&["checkout", "-q"]);
    let full = start.elapsed().max(Duration::from_millis(20));
    assert_eq!(work_tree(&calibrate), want, "an uninterrupted checkout");

    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    // Most of an uninterrupted run is starting up and reading; the writing comes in its
    // first half under load and later when the machine is idle: kill in 10-55% of it.
    for round in 0..5 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let fraction = (10 + seed % 46) as f64 / 100.0;
        let label = format!("round {round}, killed at {fraction:.2} of {full:?}");
        let c = clone_at(&env, &repo, &format!("killed-{round}"), "v1");
        c.git_dvc(&["checkout", "-q"]);
        c.git(&["checkout", "-q", "v2"]);
        let mut child = env.spawn_git_dvc(&c.dir, &["checkout"], &format!("killed-{round}"));
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();

        // Wherever it stopped, a file under an output's name is one revision's.
        for (path, entry) in work_tree(&c) {
            let name = path.rsplit('/').next().unwrap();
            if entry.kind != 'f' || !is_output_path(&path) || name.starts_with(".git-dvc-") {
                continue;
            }
            let known = [v1.get(&path), v2.get(&path)];
            assert!(
                known.contains(&Some(&entry.content)),
                "{label}: {path} holds neither revision's bytes ({} bytes)",
                entry.content.len()
            );
        }

        let killed_left: Vec<String> = tree_state(&c.dir, &[".git"])
            .into_keys()
            .filter(|k| k.rsplit('/').next().unwrap().starts_with(".git-dvc-"))
            .collect();
        // (What the kill left, for the test's log: whether it hit mid-write is timing.)
        eprintln!(
            "{label}: temporaries after the kill: {killed_left:?}; v2 complete: {}",
            work_tree(&c) == want
        );
        c.git_dvc(&["checkout"]);
        assert_eq!(work_tree(&c), want, "{label}: not what dvc checkout makes");
        let left: Vec<String> = tree_state(&c.dir, &[".git"])
            .into_keys()
            .filter(|k| k.rsplit('/').next().unwrap().starts_with(".git-dvc-"))
            .collect();
        assert!(left.is_empty(), "{label}: temporary files left: {left:?}");
        assert_eq!(c.git(&["status", "--porcelain"]), "", "{label}");
        c.dvc(&["status"])
            .assert_stdout_is("Data and pipelines are up to date.");
        c.git_dvc(&["checkout"]).assert_stdout_is("");
    }
    assert!(tree_state(&cache, &[]) == cache_before, "the cache changed");
}
