//! Concurrency: two `git dvc push` processes pushing overlapping data into the same local
//! remote at once, and two pushes to one server whose pre-receive hooks run at once. Both
//! must succeed and storage must stay complete and consistent.

use crate::common;

use std::fs;

use common::reliability::Ledger;
use common::*;

const ROUNDS: usize = 4;

/// A DVC repo with a shared directory (same objects in both repos), a shared big file and
/// data of its own.
fn repo_with_data<'e>(env: &'e TestEnv, name: &str, own_seed: u64) -> Repo<'e> {
    let repo = env.dvc_repo(name);
    for i in 0..400 {
        repo.write(
            &format!("shared/s{:02}/f{i:04}.txt", i % 20),
            format!("shared {i}\n"),
        );
    }
    repo.write("big.bin", pseudo_random_bytes(7, 3 << 20));
    for i in 0..200 {
        repo.write(&format!("own/f{i:04}.txt"), format!("{name} own {i}\n"));
    }
    repo.write("own-big.bin", pseudo_random_bytes(own_seed, 2 << 20));
    repo.dvc(&["add", "-q", "shared", "big.bin", "own", "own-big.bin"]);
    repo.commit_all("data");
    repo
}

#[test]
fn two_pushes_into_one_remote_at_once() {
    let env = TestEnv::new();
    let a = repo_with_data(&env, "a", 100);
    let b = repo_with_data(&env, "b", 200);
    let mut ledger = Ledger::new("hardening_concurrent_push");
    // 400 + 1 shared members/dir + big; each repo's own 200 + dir + big.
    let expected = (400 + 1 + 1) + 2 * (200 + 1 + 1);
    for round in 0..ROUNDS {
        let remote = env.path(&format!("remote{round}"));
        for repo in [&a, &b] {
            repo.dvc(&[
                "remote",
                "add",
                "-f",
                "-d",
                "--local",
                "r",
                remote.to_str().unwrap(),
            ]);
        }
        let jobs = ["1", "4", "8", "2"][round % 4];
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| a.try_git_dvc(&["push", "-j", jobs]));
            let tb = s.spawn(|| b.try_git_dvc(&["push", "-j", jobs]));
            (ta.join().unwrap(), tb.join().unwrap())
        });
        assert!(ra.success(), "round {round}: a failed\n{}", ra.describe());
        assert!(rb.success(), "round {round}: b failed\n{}", rb.describe());
        let objects = check_remote(&remote, RemoteCheck::Complete);
        assert_eq!(objects.len(), expected, "round {round}");
        // Between them they pushed everything; overlap may be counted by both.
        let na = parse_pushed_line(ra.stdout.trim_end()).unwrap_or(0);
        let nb = parse_pushed_line(rb.stdout.trim_end()).unwrap_or(0);
        assert!(
            na + nb >= expected,
            "round {round}: {na} + {nb} < {expected}"
        );
        for repo in [&a, &b] {
            repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(0));
            repo.git_dvc(&["status", "-c"])
                .assert_stdout_is(&in_sync_line("r"));
        }
    }
    ledger.row(
        "concurrency",
        "two `git dvc push` (overlapping data, 2×808 objects, -j 1/2/4/8) into one local remote",
        ROUNDS,
        "both exit 0; remote complete, every object's bytes match its name, no temp files",
    );
    ledger.write();
}

/// A bare server repo with `git dvc install --server` and storage `server-storage`.
fn server(env: &TestEnv) -> (Repo<'_>, std::path::PathBuf) {
    let bare = env.bare_repo("server.git");
    env.git_dvc(&bare.dir, &["install", "--server"]);
    let storage = env.path("server-storage");
    write_file(
        &bare.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    (bare, storage)
}

#[test]
fn two_pre_receive_checks_at_once() {
    let env = TestEnv::new();
    let (bare, storage) = server(&env);
    // Seed the server with a common history.
    let seed = env.dvc_repo_with_remote("seed");
    seed.set_local_remotes(&[("r", &storage)]);
    seed.git(&["remote", "add", "origin", bare.dir.to_str().unwrap()]);
    seed.dvc_add_file("base.txt", "base\n");
    seed.commit_all("base");
    seed.git_dvc(&["push", "-q"]);
    seed.git(&["push", "-q", "origin", "main"]);
    let clients: Vec<Repo<'_>> = (0..2)
        .map(|i| {
            let c = env.clone_repo(&bare.dir, &format!("client{i}"));
            c.set_local_remotes(&[("r", &storage)]);
            c
        })
        .collect();
    let mut ledger = Ledger::new("hardening_concurrent_pre_receive");
    let mut rejected_checked = 0;
    for round in 0..ROUNDS {
        // Each client: a branch of its own with many objects (some shared), data uploaded.
        let mut branches = Vec::new();
        for (i, c) in clients.iter().enumerate() {
            let branch = format!("c{i}-r{round}");
            c.git(&["checkout", "-q", "-b", &branch, "origin/main"]);
            for k in 0..150 {
                c.write(&format!("d/{k}.txt"), format!("round {round} shared {k}\n"));
                c.write(
                    &format!("own/{k}.txt"),
                    format!("round {round} client {i} {k}\n"),
                );
            }
            c.dvc(&["add", "-q", "d", "own"]);
            // In odd rounds, client 1 leaves one object out of storage: its push must be
            // rejected while client 0's is accepted.
            let missing = if round % 2 == 1 && i == 1 {
                Some(c.dvc_add_file("missing.txt", format!("missing {round}\n")))
            } else {
                None
            };
            c.commit_all(&branch);
            c.git_dvc(&["push", "-q"]);
            if let Some(oid) = &missing {
                remove_object(&storage, oid);
            }
            branches.push((branch, missing));
        }
        let runs: Vec<Run> = std::thread::scope(|s| {
            let handles: Vec<_> = clients
                .iter()
                .zip(&branches)
                .map(|(c, (branch, _))| s.spawn(move || c.try_git(&["push", "origin", branch])))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (run, (branch, missing)) in runs.iter().zip(&branches) {
            if let Some(oid) = missing {
                assert!(
                    !run.success(),
                    "round {round}: {branch} accepted\n{}",
                    run.describe()
                );
                run.assert_stderr_contains("missing.txt@")
                    .assert_stderr_contains(oid);
                assert!(bare
                    .try_rev_parse(&format!("refs/heads/{branch}"))
                    .is_none());
                rejected_checked += 1;
            } else {
                assert!(
                    run.success(),
                    "round {round}: {branch} rejected\n{}",
                    run.describe()
                );
                assert!(!run.stderr.contains("panicked"), "{}", run.describe());
                assert!(bare
                    .try_rev_parse(&format!("refs/heads/{branch}"))
                    .is_some());
            }
        }
        check_remote(&storage, RemoteCheck::Complete);
    }
    // Server-side scratch directories are gone.
    let leftovers: Vec<_> = fs::read_dir(&bare.dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("tmp") || n.contains("scratch"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    ledger.row(
        "concurrency",
        "two `git push` to one server at once, pre-receive hooks checking 300+ objects each",
        ROUNDS,
        &format!(
            "both checks complete; data present → accepted; {rejected_checked} push(es) with a missing object rejected naming it; storage consistent"
        ),
    );
    ledger.write();
}
