//! A push killed with SIGKILL part-way must leave a remote where every
//! object-named file has the right bytes and no `.dir` lacks a member; a
//! re-run must complete it, remove leftovers, and end with exactly what
//! `dvc push` writes.

use crate::common;

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use common::*;

const SMALL_FILES: usize = 2000;
const BIG_SIZE: usize = 5 << 20;
const WAIT_LIMIT: Duration = Duration::from_secs(120);

/// Counts object-named files and other files (temp files) under a remote,
/// without reading contents.
fn census(remote: &Path) -> (usize, usize) {
    let mut objects = 0;
    let mut others = 0;
    let mut stack = vec![remote.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(ft) if ft.is_dir() => stack.push(path),
                Ok(_) => {
                    let rel = path.strip_prefix(remote).unwrap().to_string_lossy();
                    if parse_object_path(&rel).is_some() {
                        objects += 1;
                    } else {
                        others += 1;
                    }
                }
                Err(_) => {}
            }
        }
    }
    (objects, others)
}

/// Polls until `ready(objects, others)` or the child exits. Returns true if
/// the child is still running (and `ready` held).
fn wait_for(child: &mut Child, remote: &Path, ready: impl Fn(usize, usize) -> bool) -> bool {
    let deadline = Instant::now() + WAIT_LIMIT;
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        let (objects, others) = census(remote);
        if ready(objects, others) {
            return true;
        }
        assert!(
            Instant::now() < deadline,
            "push made no visible progress in {}s",
            WAIT_LIMIT.as_secs()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn kill(child: &mut Child) {
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(9), "expected SIGKILL, got {status}");
}

fn read_log(env: &TestEnv, name: &str) -> String {
    let out = fs::read_to_string(env.path(&format!("{name}.stdout"))).unwrap_or_default();
    let err = fs::read_to_string(env.path(&format!("{name}.stderr"))).unwrap_or_default();
    format!("--- stdout ---\n{out}\n--- stderr ---\n{err}")
}

#[test]
fn killed_push_leaves_a_consistent_remote_and_a_rerun_completes_it() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    for i in 0..SMALL_FILES {
        repo.write(
            &format!("many/s{:02}/f{i:04}.txt", i % 40),
            format!("small {i}\n"),
        );
    }
    for i in 0..3u64 {
        repo.write(
            &format!("big{i}.bin"),
            pseudo_random_bytes(1000 + i, BIG_SIZE),
        );
    }
    repo.write("bigdir/x.bin", pseudo_random_bytes(2000, BIG_SIZE));
    repo.write("bigdir/y.bin", pseudo_random_bytes(2001, BIG_SIZE));
    for i in 0..50 {
        repo.write(
            &format!("bigdir/small/{i}.txt"),
            format!("bigdir small {i}\n"),
        );
    }
    repo.dvc(&[
        "add", "-q", "many", "big0.bin", "big1.bin", "big2.bin", "bigdir",
    ]);
    repo.commit_all("lots of objects");
    let expected = common::fixtures::snapshot(&repo, &["many", "bigdir", "big0.bin"]);

    // Round 1: kill soon after the first objects appear.
    let mut child = repo_spawn(&env, &repo, "round1");
    let running = wait_for(&mut child, &remote, |objects, _| objects >= 20);
    assert!(
        running,
        "push finished before it could be interrupted: make the fixture bigger\n{}",
        read_log(&env, "round1")
    );
    kill(&mut child);
    let after1 = check_remote(&remote, RemoteCheck::Interrupted);
    assert!(after1.len() >= 20);
    let total_needed = SMALL_FILES + 3 + 2 + 50 + 2;
    assert!(
        after1.len() < total_needed,
        "round 1 was not interrupted early enough"
    );

    // Round 2: kill again, preferably in the middle of writing an object
    // (a non-object file is visible), or after a few hundred more objects.
    // If it finishes first, that is fine too: the remote must be complete.
    let mut child = repo_spawn(&env, &repo, "round2");
    let start = after1.len();
    let running = wait_for(&mut child, &remote, |objects, others| {
        (others > 0 && objects > start) || objects >= start + 300
    });
    if running {
        kill(&mut child);
        check_remote(&remote, RemoteCheck::Interrupted);
    } else {
        let status = child.wait().unwrap();
        assert!(
            status.success(),
            "round 2 failed: {status}\n{}",
            read_log(&env, "round2")
        );
        check_remote(&remote, RemoteCheck::Complete);
    }

    // Final run: completes the remote, leaves nothing else behind.
    let before = check_remote(&remote, RemoteCheck::Interrupted).len();
    let run = repo.git_dvc(&["push"]);
    let objects = check_remote(&remote, RemoteCheck::Complete);
    assert_eq!(objects.len(), total_needed, "{}", run.describe());
    run.assert_stdout_is(&pushed_line(total_needed - before));
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(0));
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line("r"));

    // Exactly what dvc push writes into an empty remote.
    let dvc_remote = env.path("dvc-remote");
    repo.set_local_remotes(&[("r", &dvc_remote)]);
    repo.dvc(&["push"]);
    assert_same_files(
        "after interruptions (A = git-dvc, B = dvc)",
        &remote,
        &dvc_remote,
    );

    // And dvc pull restores the data from git-dvc's remote.
    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &remote)],
        &[],
        "main",
        &expected,
    );
}

fn repo_spawn(env: &TestEnv, repo: &Repo<'_>, name: &str) -> Child {
    env.spawn_git_dvc(&repo.dir, &["push", "-j", "1"], name)
}
