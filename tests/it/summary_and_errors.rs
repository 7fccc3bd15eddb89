//! What git-dvc prints and how it exits, checked against DVC's own messages:
//! where possible the same situation is run through real `dvc` in the same
//! repository and every line DVC prints must appear in git-dvc's output.

use crate::common;

use common::*;

/// Every non-empty line DVC wrote to stderr also appears in git-dvc's stderr,
/// and both exit with `code`.
#[track_caller]
fn assert_same_error(ours: &Run, dvc: &Run, code: i32) {
    dvc.assert_code(code);
    ours.assert_code(code);
    for line in dvc.stderr.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            ours.stderr.contains(line),
            "git-dvc's stderr lacks DVC's line {line:?}\n--- git-dvc ---\n{}\n--- dvc ---\n{}",
            ours.describe(),
            dvc.describe()
        );
    }
    assert!(
        ours.stdout.trim().is_empty(),
        "nothing on stdout on error\n{}",
        ours.describe()
    );
}

fn repo_with_one_file(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo("repo");
    repo.write("one.txt", "one\n");
    repo.dvc(&["add", "-q", "one.txt"]);
    repo.commit_all("one");
    repo
}

#[test]
fn summary_lines_count_objects_and_second_run_is_up_to_date() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    let remote = env.path("remote");
    // The committed config names the default remote; config.local its url.
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("unused").to_str().unwrap(),
    ]);
    repo.set_local_remotes(&[("r", &remote)]);
    repo.commit_all("remote");

    let first = repo.git_dvc(&["push"]);
    first.assert_stdout_is("1 file pushed");
    repo.git_dvc(&["push"])
        .assert_stdout_is("Everything is up to date.");

    repo.write("dir/a", "a\n");
    repo.write("dir/b", "b\n");
    repo.write("dir/c/d", "d\n");
    repo.write("two.txt", "two\n");
    repo.dvc(&["add", "-q", "dir", "two.txt"]);
    repo.commit_all("more");
    // .dir + 3 members + two.txt.
    repo.git_dvc(&["push"]).assert_stdout_is("5 files pushed");
    repo.git_dvc(&["push"])
        .assert_stdout_is("Everything is up to date.");
    check_remote(&remote, RemoteCheck::Complete);
    assert!(!env.path("unused").exists());

    // Run as `git dvc` (git finds git-dvc on PATH) in a sub-directory.
    std::fs::create_dir_all(repo.path("dir2")).unwrap();
    let via_git = env.try_git(&repo.path("dir2"), &["dvc", "push"]);
    via_git
        .assert_success()
        .assert_stdout_is("Everything is up to date.");
}

#[test]
fn quiet_prints_nothing_and_verbose_keeps_the_summary() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("remote").to_str().unwrap(),
    ]);
    repo.commit_all("remote");
    let quiet = repo.git_dvc(&["push", "-q"]);
    assert_eq!(
        quiet.stdout,
        "",
        "-q prints nothing on stdout\n{}",
        quiet.describe()
    );
    assert!(remote_has(&env.path("remote"), &md5_hex(b"one\n"), false));
    // DVC's -v adds debug lines (to stdout, even); the summary stays.
    let verbose = repo.git_dvc(&["push", "-v"]);
    assert!(
        verbose
            .stdout
            .lines()
            .any(|l| l == "Everything is up to date."),
        "{}",
        verbose.describe()
    );
    repo.try_git_dvc(&["push", "-q", "-r", "nonexistent"])
        .assert_code(1);
}

#[test]
fn nothing_tracked_is_up_to_date() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("remote").to_str().unwrap(),
    ]);
    repo.commit_all("remote");
    let ours = repo.git_dvc(&["push"]);
    let dvc = repo.dvc(&["push"]);
    assert_eq!(dvc.out(), "Everything is up to date.");
    ours.assert_stdout_is(dvc.out());
}

#[test]
fn no_remote_configured_is_an_error_like_dvc() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    let ours = repo.try_git_dvc(&["push"]);
    let dvc = repo.try_dvc(&["push"]);
    dvc.assert_stderr_contains("no remote specified in");
    dvc.assert_stderr_contains("Create a default remote with");
    assert_same_error(&ours, &dvc, 1);

    let ours = repo.try_git_dvc(&["status", "-c"]);
    let dvc = repo.try_dvc(&["status", "-c"]);
    assert_same_error(&ours, &dvc, 1);

    // The same for every selection mode.
    let ours = repo.try_git_dvc(&["push", "-a", "-T"]);
    ours.assert_code(1)
        .assert_stderr_contains("no remote specified");
}

#[test]
fn remotes_without_a_default_is_an_error_like_dvc() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    repo.dvc(&["remote", "add", "r", env.path("remote").to_str().unwrap()]);
    repo.commit_all("remote, not default");
    let ours = repo.try_git_dvc(&["push"]);
    let dvc = repo.try_dvc(&["push"]);
    dvc.assert_stderr_contains("Setup default remote with");
    dvc.assert_stderr_contains("dvc <command> -r <remote name>");
    assert_same_error(&ours, &dvc, 1);

    let ours = repo.try_git_dvc(&["status", "--cloud"]);
    let dvc = repo.try_dvc(&["status", "--cloud"]);
    dvc.assert_stderr_contains("dvc status -r <remote name>");
    assert_same_error(&ours, &dvc, 1);

    // Naming the remote works.
    repo.git_dvc(&["push", "-r", "r"])
        .assert_stdout_is("1 file pushed");
}

#[test]
fn unknown_remote_is_an_error_like_dvc() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("remote").to_str().unwrap(),
    ]);
    repo.commit_all("remote");
    let ours = repo.try_git_dvc(&["push", "-r", "nope"]);
    let dvc = repo.try_dvc(&["push", "-r", "nope"]);
    dvc.assert_stderr_contains("remote 'nope' doesn't exist");
    assert_same_error(&ours, &dvc, 1);

    let ours = repo.try_git_dvc(&["status", "-c", "-r", "nope"]);
    let dvc = repo.try_dvc(&["status", "-c", "-r", "nope"]);
    assert_same_error(&ours, &dvc, 1);
    assert!(
        !env.path("remote").exists(),
        "nothing may be pushed on error"
    );
}

#[test]
fn unknown_target_fails() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("remote").to_str().unwrap(),
    ]);
    repo.commit_all("remote");
    let ours = repo.try_git_dvc(&["push", "does-not-exist.dvc"]);
    let dvc = repo.try_dvc(&["push", "does-not-exist.dvc"]);
    dvc.assert_code(1);
    ours.assert_code(1);
    assert!(
        !env.path("remote").exists(),
        "nothing may be pushed on error"
    );
}

/// A cloud-versioned remote stores files by workspace path, not hash: git-dvc refuses it
/// (as DVC refuses pushing several revisions to it) rather than write objects `dvc pull`
/// would never read. No request is made: the bucket does not exist.
#[test]
fn cloud_versioned_remote_is_refused() {
    let env = TestEnv::new();
    let repo = repo_with_one_file(&env);
    repo.dvc(&["remote", "add", "-d", "cv", "s3://no-such-bucket/p"]);
    repo.dvc(&["remote", "modify", "cv", "version_aware", "true"]);
    repo.commit_all("cloud-versioned remote");
    let dvc = repo.try_dvc(&["push", "--all-commits"]);
    dvc.assert_code(1);
    dvc.assert_stderr_contains("unsupported for cloud versioned remotes");
    for args in [&["push"][..], &["push", "-A"], &["status", "-c"]] {
        let ours = repo.try_git_dvc(args);
        ours.assert_code(1);
        ours.assert_stderr_contains("remote 'cv' is cloud-versioned (`version_aware = true`)");
        ours.assert_stderr_contains("dvc push -r cv");
    }
}

/// A remote where no object can be written: at each object's final path there is a
/// directory (as root, permissions would not stop writes), so every upload fails the
/// same way apart from its own key. Returns the repository (data committed, remote `r`
/// configured) and the remote; one more output, `bad.txt`, is corrupt in the cache (a
/// second, distinct error).
fn unwritable_remote(env: &TestEnv) -> (Repo<'_>, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let repo = env.dvc_repo_with_remote("repo");
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    let mut contents: Vec<String> = (0..40).map(|i| format!("member {i}\n")).collect();
    for (i, c) in contents.iter().enumerate() {
        repo.write(&format!("data/{i}.txt"), c);
    }
    contents.push("single file\n".to_string());
    repo.write("single.txt", "single file\n");
    repo.write("bad.txt", "corrupt in the cache\n");
    repo.dvc(&["add", "-q", "data", "single.txt", "bad.txt"]);
    repo.commit_all("data");
    for c in &contents {
        std::fs::create_dir_all(remote.join(object_rel_path(&md5_hex(c.as_bytes()), false)))
            .unwrap();
    }
    let bad = repo.cache_object(&md5_hex(b"corrupt in the cache\n"), false);
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(&bad, "CORRUPT in the cache\n").unwrap();
    (repo, remote)
}

/// Security issue 14: a remote that refuses every write printed one identical error per
/// object. `git dvc push` now says it once with the count (and the error in full), still
/// lists a distinct error on its own, and keeps DVC's summary line and exit code.
#[test]
fn the_same_upload_error_is_reported_once_with_its_count() {
    let env = TestEnv::new();
    let (repo, _remote) = unwritable_remote(&env);
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1)
        .assert_stderr_contains(
            "ERROR: 41 files failed to upload to remote 'r': cannot rename into ",
        )
        .assert_stderr_contains("Is a directory")
        .assert_stderr_contains(&format!(
            "ERROR: failed to transfer '{}' - ",
            md5_hex(b"corrupt in the cache\n")
        ))
        .assert_stderr_contains(
            "ERROR: failed to push data to the cloud - 42 files failed to upload",
        );
    let errors = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("ERROR:"))
        .count();
    assert_eq!(errors, 3, "one line per distinct error\n{}", run.describe());
}

/// The same through the pre-push hook: one line for the 41 objects, the push stopped.
#[test]
fn the_hook_reports_the_same_upload_error_once() {
    let env = TestEnv::new();
    let (repo, _remote) = unwritable_remote(&env);
    let server = env.bare_repo("server.git");
    repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    repo.git_dvc(&["install"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains(
        "git-dvc: 41 files failed to upload to remote 'r': cannot rename into ",
    )
    .assert_stderr_contains("git-dvc: 42 files failed to upload; the push was stopped");
    let lines = run
        .stderr
        .lines()
        .filter(|l| l.contains("failed to upload") || l.contains("failed to transfer"))
        .count();
    assert_eq!(lines, 3, "{}", run.describe());
    assert!(server.try_rev_parse("main").is_none());
}
