//! Faults: git-dvc SIGKILLed at random points during a push (many times), and a local
//! remote on a full disk (a 1 MiB tmpfs). After every case the remote may be incomplete
//! but never wrong: no object with the wrong bytes under its final name and no `.dir`
//! without all its members; a final run completes it and leaves no temporary files.

use crate::common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::reliability::Ledger;
use common::*;

/// Pushes killed mid-way that the test aims for, and the rounds it may take to get them.
const KILLS: usize = 10;
const MAX_ROUNDS: usize = 4 * KILLS;

/// A small xorshift generator: the seed is printed so a failing run can be repeated with
/// `GIT_DVC_TEST_SEED`.
struct Rng(u64);

impl Rng {
    fn from_env() -> Self {
        let seed = std::env::var("GIT_DVC_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("GIT_DVC_TEST_SEED={seed}");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn data_repo(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo("repo");
    for i in 0..600 {
        repo.write(
            &format!("many/d{:02}/f{i:04}.txt", i % 30),
            format!("small {i}\n"),
        );
    }
    for i in 0..4u64 {
        repo.write(
            &format!("big{i}.bin"),
            pseudo_random_bytes(300 + i, 3 << 20),
        );
    }
    repo.write("mixed/a.bin", pseudo_random_bytes(400, 2 << 20));
    for i in 0..40 {
        repo.write(&format!("mixed/s/{i}.txt"), format!("mixed {i}\n"));
    }
    repo.dvc(&[
        "add", "-q", "many", "big0.bin", "big1.bin", "big2.bin", "big3.bin", "mixed",
    ]);
    repo.commit_all("data");
    repo
}

/// Files on the remote not named like objects (temporary files).
fn temp_files(remote: &Path) -> Vec<String> {
    list_names(remote)
        .into_iter()
        .filter(|rel| parse_object_path(rel).is_none())
        .collect()
}

#[test]
fn sigkill_at_random_points_then_rerun() {
    let env = TestEnv::new();
    let repo = data_repo(&env);
    let expected = 600 + 1 + 4 + 1 + 40 + 1;
    let mut rng = Rng::from_env();

    // How long an uninterrupted push takes, to spread the kills over it.
    let probe = env.path("probe-remote");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "--local",
        "r",
        probe.to_str().unwrap(),
    ]);
    let start = Instant::now();
    repo.git_dvc(&["push"]);
    let full = start.elapsed().max(Duration::from_millis(50));
    eprintln!("uninterrupted push: {full:?}");

    let remote = env.path("remote");
    repo.dvc(&[
        "remote",
        "add",
        "-f",
        "-d",
        "--local",
        "r",
        remote.to_str().unwrap(),
    ]);
    let mut killed = 0;
    let mut finished_first = 0;
    let mut partial_counts = Vec::new();
    // The probe ran cold; later pushes are often faster. A push that finishes before its
    // kill shows the window is too wide: the next kills are drawn from a narrower one, so
    // (within a bounded number of rounds) KILLS of them land mid-push.
    let mut window = full;
    let mut rounds = 0;
    while killed < KILLS && rounds < MAX_ROUNDS {
        let round = rounds;
        rounds += 1;
        let delay = Duration::from_micros(rng.below(window.as_micros() as u64));
        let jobs = ["1", "2", "4", "8"][rng.below(4) as usize];
        let name = format!("kill{round}");
        let finished_before = finished_first;
        let mut child = env.spawn_git_dvc(&repo.dir, &["push", "-j", jobs], &name);
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            Some(status) => {
                assert!(status.success(), "round {round}: push failed: {status}");
                finished_first += 1;
                window = delay.max(Duration::from_millis(5));
            }
            None => {
                child.kill().unwrap();
                let status = child.wait().unwrap();
                // It may have exited on its own between try_wait and kill.
                if status.signal() == Some(9) {
                    killed += 1;
                } else {
                    assert!(status.success(), "round {round}: {status}");
                    finished_first += 1;
                }
            }
        }
        let objects = check_remote(&remote, RemoteCheck::Interrupted);
        partial_counts.push(objects.len());
        let what = if finished_first > finished_before {
            "finished before the kill at"
        } else {
            "killed after"
        };
        eprintln!(
            "round {round}: -j {jobs}, {what} {delay:?}: {} objects, {} temp files",
            objects.len(),
            temp_files(&remote).len()
        );
        if objects.len() == expected {
            // Complete already: start again from an empty remote so later kills still land
            // mid-push.
            make_writable(&remote);
            fs::remove_dir_all(&remote).unwrap();
        }
    }
    assert!(
        killed >= KILLS / 2,
        "only {killed} of {rounds} runs were killed mid-push"
    );

    let run = repo.git_dvc(&["push"]);
    let objects = check_remote(&remote, RemoteCheck::Complete);
    assert_eq!(objects.len(), expected, "{}", run.describe());
    assert!(temp_files(&remote).is_empty());
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(0));
    assert_same_files("after kills (A) vs uninterrupted (B)", &remote, &probe);

    let mut ledger = Ledger::new("hardening_sigkill");
    ledger.row(
        "fault",
        "`git dvc push` SIGKILLed at a random point (uniform over a full push, -j 1/2/4/8)",
        rounds,
        &format!(
            "{killed} killed mid-push, {finished_first} finished first; after each: no object with wrong bytes, no `.dir` without members (objects present: {partial_counts:?}); final re-run complete, no temp files, identical to an uninterrupted push"
        ),
    );
    ledger.write();
}

/// Unmounts on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn try_mount_tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    fs::create_dir_all(dir).unwrap();
    let out = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
        .arg(dir)
        .output()
        .ok()?;
    if out.status.success() {
        Some(Mount(dir.to_path_buf()))
    } else {
        eprintln!(
            "cannot mount a tmpfs: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        None
    }
}

#[test]
fn disk_full_remote_fails_cleanly_and_a_bigger_one_completes() {
    let env = TestEnv::new();
    let mut ledger = Ledger::new("hardening_disk_full");
    let full_dir = env.path("full");
    let Some(_mount) = try_mount_tmpfs(&full_dir, "1m") else {
        ledger.row(
            "fault",
            "local remote on a full disk (1 MiB tmpfs)",
            0,
            "NOT RUN: mounting a tmpfs is not permitted here",
        );
        ledger.write();
        return;
    };
    let repo = env.dvc_repo("repo");
    for i in 0..20 {
        repo.write(&format!("small/{i}.txt"), format!("small {i}\n"));
    }
    repo.write("big.bin", pseudo_random_bytes(1, 3 << 20));
    repo.write("dir/big.bin", pseudo_random_bytes(2, 2 << 20));
    repo.write("dir/x.txt", "x\n");
    repo.dvc(&["add", "-q", "small", "big.bin", "dir"]);
    repo.commit_all("data");
    let remote = full_dir.join("remote");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "--local",
        "r",
        remote.to_str().unwrap(),
    ]);

    let mut attempts = 0;
    for jobs in ["1", "4"] {
        let run = repo.try_git_dvc(&["push", "-j", jobs]);
        attempts += 1;
        assert_ne!(
            run.code(),
            Some(0),
            "push into a full disk succeeded\n{}",
            run.describe()
        );
        assert!(run.code().is_some(), "{}", run.describe());
        assert!(!run.stderr.contains("panicked"), "{}", run.describe());
        assert!(
            run.stderr.contains("No space left on device"),
            "no clear ENOSPC message\n{}",
            run.describe()
        );
        check_remote(&remote, RemoteCheck::Interrupted);
        let temps = temp_files(&remote);
        assert!(temps.is_empty(), "temp files left after ENOSPC: {temps:?}");
        eprintln!("-j {jobs}:\n{}", run.describe());
    }
    // A bigger location completes the push.
    let bigger = env.path("bigger");
    repo.dvc(&[
        "remote",
        "add",
        "-f",
        "-d",
        "--local",
        "r",
        bigger.to_str().unwrap(),
    ]);
    let run = repo.git_dvc(&["push"]);
    let objects = check_remote(&bigger, RemoteCheck::Complete);
    assert_eq!(objects.len(), 20 + 1 + 2 + 1 + 1, "{}", run.describe());
    ledger.row(
        "fault",
        "local remote on a full disk (1 MiB tmpfs), -j 1 and -j 4",
        attempts,
        "non-zero exit with `No space left on device`; no partial object under a final name, no temp file left; re-run into a bigger remote completes",
    );
    ledger.write();
}
