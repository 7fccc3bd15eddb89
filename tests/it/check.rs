//! `git dvc check`, the CI form of the server check: is every object the selected commits
//! reference in remote storage? Exit 0 when so, 1 with the missing ones listed; `--json`
//! for machines; the same revision flags as push (`--rev` ranges, `-a`, `-T`, `-A`);
//! committed state only, every directory member checked.

use crate::common;

use std::fs;

use common::*;

/// A DVC repo whose default remote `r` points at `root/storage`.
fn setup(env: &TestEnv) -> (Repo<'_>, std::path::PathBuf) {
    let repo = env.dvc_repo_with_remote("repo");
    let storage = env.path("storage");
    repo.set_local_remotes(&[("r", &storage)]);
    (repo, storage)
}

fn short(oid: &str) -> &str {
    &oid[..7]
}

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("--json output does not parse: {e}\n{}", run.describe()))
}

#[test]
fn in_sync_exits_0_and_missing_exits_1_with_a_list() {
    let env = TestEnv::new();
    let (repo, storage) = setup(&env);
    repo.write("data.txt", "data\n");
    repo.write("dir/a.txt", "member a\n");
    repo.write("dir/sub/b.txt", "member b\n");
    repo.dvc(&["add", "-q", "data.txt", "dir"]);
    repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);

    // data.txt, the .dir and its two members
    repo.git_dvc(&["check"])
        .assert_stdout_is("All 4 referenced DVC objects are in remote storage.");
    let run = repo.git_dvc(&["check", "-q"]);
    assert!(
        run.stdout.is_empty() && run.stderr.is_empty(),
        "{}",
        run.describe()
    );

    // Work-tree changes do not count: committed state only.
    repo.dvc_add_file("uncommitted.txt", "not committed\n");
    repo.git_dvc(&["check"])
        .assert_stdout_is("All 4 referenced DVC objects are in remote storage.");
    repo.git(&["reset", "-q", "--hard"]);
    repo.git(&["clean", "-q", "-f", "-d"]);

    // A member missing from storage (its .dir is there).
    let member = md5_hex(b"member b\n");
    remove_object(&storage, &member);
    let run = repo.try_git_dvc(&["check"]);
    run.assert_code(1);
    assert!(run.stdout.is_empty(), "{}", run.describe());
    run.assert_stderr_contains("1 of 4 referenced DVC objects are missing from remote storage:")
        .assert_stderr_contains(&format!("  dir/sub/b.txt@HEAD ({member}) [remote 'r']"))
        .assert_stderr_contains("git dvc push --check-members");
    // The hinted command repairs it.
    repo.git_dvc(&["push", "-q", "--check-members"]);
    repo.git_dvc(&["check", "-q"]);

    // A new commit whose data was never pushed.
    let new = repo.dvc_add_file("data.txt", "data, version 2\n");
    repo.commit_all("v2");
    let run = repo.try_git_dvc(&["check"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("  data.txt@HEAD ({new}) [remote 'r']"));
    assert!(!run.stderr.contains("dir/"), "{}", run.describe());
}

#[test]
fn json_output_parses() {
    let env = TestEnv::new();
    let (repo, _storage) = setup(&env);
    repo.dvc_add_file("pushed.txt", "pushed\n");
    repo.commit_all("pushed");
    repo.git_dvc(&["push", "-q"]);
    let run = repo.git_dvc(&["check", "--json"]);
    let v = json(&run);
    assert_eq!(v["checked"], 1, "{v}");
    assert_eq!(v["missing"], serde_json::json!([]), "{v}");

    let oid = repo.dvc_add_file("missing.txt", "missing\n");
    repo.commit_all("missing");
    let run = repo.try_git_dvc(&["check", "--json"]);
    run.assert_code(1);
    let v = json(&run);
    assert_eq!(v["checked"], 2, "{v}");
    assert_eq!(
        v["missing"],
        serde_json::json!([{
            "path": "missing.txt",
            "revision": "HEAD",
            "hash": oid,
            "remote": "r",
        }]),
        "{v}"
    );
}

/// `--rev a..b` covers every commit in the range (an intermediate version too), and only
/// those.
#[test]
fn rev_range() {
    let env = TestEnv::new();
    let (repo, _storage) = setup(&env);
    let base = repo.rev_parse("HEAD");
    let v1 = repo.dvc_add_file("x.txt", "version 1\n");
    let a = repo.commit_all("A");
    repo.dvc_add_file("x.txt", "version 2\n");
    let b = repo.commit_all("B");
    repo.git_dvc(&["push", "-q"]); // HEAD only

    repo.git_dvc(&["check", "-q"]);
    repo.git_dvc(&["check", "-q", "--rev", &format!("{a}..{b}")]);
    let run = repo.try_git_dvc(&["check", "--rev", &format!("{base}..{b}")]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("  x.txt@{} ({v1}) [remote 'r']", short(&a)));
    let run = repo.try_git_dvc(&["check", "--json", "--rev", "main~2..main"]);
    run.assert_code(1);
    let v = json(&run);
    assert_eq!(v["missing"][0]["revision"], short(&a), "{v}");
    assert_eq!(v["missing"].as_array().unwrap().len(), 1, "{v}");

    repo.git_dvc(&["push", "-q", "--rev", &a]);
    repo.git_dvc(&["check", "-q", "--rev", &format!("{base}..{b}")]);
}

/// `-a`, `-T`, `-A` widen the check like push's flags; HEAD alone stays clean.
#[test]
fn all_branches_tags_and_commits() {
    let env = TestEnv::new();
    let (repo, _storage) = setup(&env);
    let old = repo.dvc_add_file("main.txt", "main, old\n");
    let old_commit = repo.commit_all("old");
    repo.dvc_add_file("main.txt", "main, new\n");
    repo.commit_all("new");
    repo.git(&["checkout", "-q", "-b", "side"]);
    let side = repo.dvc_add_file("side.txt", "side\n");
    repo.commit_all("side");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    let tagged = repo.dvc_add_file("tagged.txt", "tagged\n");
    repo.commit_all("tagged");
    repo.git(&["tag", "-a", "t1", "-m", "tag"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git_dvc(&["push", "-q"]);

    repo.git_dvc(&["check", "-q"]);
    let run = repo.try_git_dvc(&["check", "-a"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("side.txt@side ({side})"));
    assert!(!run.stderr.contains("tagged.txt"), "{}", run.describe());
    let run = repo.try_git_dvc(&["check", "-T"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("tagged.txt@t1 ({tagged})"));
    assert!(!run.stderr.contains("side.txt"), "{}", run.describe());
    let run = repo.try_git_dvc(&["check", "-A"]);
    run.assert_code(1);
    // `-A` names every commit by its full id, as DVC's `-A` does.
    run.assert_stderr_contains(&format!("main.txt@{old_commit} ({old})"))
        .assert_stderr_contains("side.txt@")
        .assert_stderr_contains("tagged.txt@");

    repo.git_dvc(&["push", "-q", "-A"]);
    repo.git_dvc(&["check", "-q", "-A"]);
}

/// An unusable remote is an error (`ERROR: …`), not a clean bill of health.
#[test]
fn unreadable_remote_is_an_error() {
    let env = TestEnv::new();
    let (repo, _storage) = setup(&env);
    repo.dvc_add_file("data.txt", "data\n");
    repo.commit_all("data");
    let looped = env.path("loop");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    repo.set_local_remotes(&[("r", &looped)]);
    let run = repo.try_git_dvc(&["check"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("ERROR:");
    assert!(!run.stdout.contains("All "), "{}", run.describe());
}

/// A commit cannot redirect the CI check: it points the remote at `../fake` and commits
/// the objects there. Without a trusted storage config the check believes it (the work
/// tree's config is the checked commit's); with `--storage-config` (or
/// `GIT_DVC_STORAGE_CONFIG`) only the trusted file says where storage is.
#[test]
fn a_trusted_storage_config_cannot_be_redirected_by_the_checked_commits() {
    let env = TestEnv::new();
    let (repo, storage) = setup(&env);
    let before = repo.rev_parse("HEAD");
    repo.write("data.txt", "the data\n");
    repo.dvc(&["add", "-q", "data.txt"]);
    // The attack: the committed config points `r` at a directory the commit fills itself.
    fs::remove_file(repo.path(".dvc/config.local")).unwrap();
    repo.dvc(&["remote", "modify", "r", "url", "fake"]); // stored as ../fake
    repo.dvc(&["push", "-q"]);
    let fake = repo.path("fake");
    assert!(remote_has(&fake, &md5_hex(b"the data\n"), false));
    repo.git(&["add", "-f", "fake"]);
    repo.commit_all("data");
    let range = format!("{before}..HEAD");

    repo.git_dvc(&["check", "--rev", &range])
        .assert_stdout_is("All 1 referenced DVC objects are in remote storage.");

    let trusted = env.path("ci/dvc-storage");
    write_file(
        &trusted,
        format!(
            "[core]\n    remote = r\n['remote \"r\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    let run = repo.try_git_dvc(&[
        "check",
        "--rev",
        &range,
        "--storage-config",
        trusted.to_str().unwrap(),
    ]);
    run.assert_code(1);
    run.assert_stderr_contains("1 of 1 referenced DVC objects are missing from remote storage:");
    run.assert_stderr_contains("data.txt@");

    let run = env.run_with_env(
        git_dvc_bin(),
        &repo.dir,
        &["check", "--rev", &range],
        &[("GIT_DVC_STORAGE_CONFIG", trusted.as_os_str())],
    );
    run.assert_code(1);
    run.assert_stderr_contains("data.txt@");

    // Once the data is in the trusted storage, the check passes.
    copy_dir(&fake, &storage);
    repo.git_dvc(&[
        "check",
        "--rev",
        &range,
        "--storage-config",
        trusted.to_str().unwrap(),
    ])
    .assert_stdout_is("All 1 referenced DVC objects are in remote storage.");

    // A trusted file that does not exist is an error, not a fallback to the repository's.
    let run = repo.try_git_dvc(&["check", "--storage-config", "/nonexistent/dvc-storage"]);
    run.assert_code(1);
    run.assert_stderr_contains("storage config /nonexistent/dvc-storage does not exist");
}

/// A gate does not skip: a revision whose DVC files cannot be read stops `check` (exit 1,
/// DVC's `Failed to collect`), even when the other revisions are fine, so the data of its
/// readable DVC files is never passed unchecked.
#[test]
fn an_unreadable_revision_fails_the_check_instead_of_being_skipped() {
    let env = TestEnv::new();
    let (repo, _storage) = setup(&env);
    repo.dvc_add_file("data.txt", "data\n");
    repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    repo.git(&["branch", "good"]);
    // Data never pushed, next to a DVC file no tool can read.
    repo.dvc_add_file("more.txt", "never pushed\n");
    repo.write("junk.dvc", "outs: [[[\n");
    repo.commit_all("unpushed data and a junk DVC file");

    let run = repo.try_git_dvc(&["check", "--rev", "good", "--rev", "HEAD"]);
    run.assert_code(1);
    run.assert_stderr_contains("Failed to collect 'HEAD'")
        .assert_stderr_contains("junk.dvc");
    assert!(!run.stdout.contains("All "), "{}", run.describe());
    let run = repo.try_git_dvc(&["check", "-a", "--json"]);
    assert!(!run.success(), "{}", run.describe());
}
