//! Targets as DVC 3.67.1 takes them (issue 15, items 1, 4, 5, 6), side by side with real
//! DVC in the same repository: overlapping targets push their union; `-R` on a tracked
//! directory pushes nothing; `dvc.lock` as a target (also through `--glob`) is refused with
//! DVC's "Did you mean"; an output pinned to a remote defined nowhere fails its revision
//! (the command, when no other revision is left) even with `-r` or other targets.

use crate::common;

use common::*;

/// `a.txt` (a `.dvc` file), `d/` (a tracked directory) and stage `gen` with output `s1.txt`
/// (run by real DVC, so `dvc.lock` exists).
fn repo(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo_with_remote("repo");
    repo.write("a.txt", "a\n");
    repo.write("d/1", "one\n");
    repo.write("d/2", "two\n");
    repo.dvc(&["add", "-q", "a.txt", "d"]);
    repo.dvc(&[
        "stage",
        "add",
        "-q",
        "-n",
        "gen",
        "-o",
        "s1.txt",
        "echo s1 > s1.txt",
    ]);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("data");
    repo
}

#[test]
fn overlapping_targets_push_their_union_as_dvc_does() {
    let env = TestEnv::new();
    let repo = repo(&env);
    for (label, args) in [
        ("file-and-dvc-file", &["a.txt", "a.txt.dvc"][..]),
        ("dvc-file-and-file", &["a.txt.dvc", "a.txt"][..]),
        ("stage-and-output", &["gen", "s1.txt"][..]),
        ("output-and-stage", &["s1.txt", "gen"][..]),
        ("dir-and-member", &["d", "d/1"][..]),
        ("member-and-dir", &["d/1", "d"][..]),
        ("pipeline-and-output", &["dvc.yaml", "s1.txt"][..]),
        ("output-and-pipeline", &["s1.txt", "dvc.yaml"][..]),
    ] {
        let c = compare_push_with_dvc(&repo, label, &["r"], args);
        assert!(c.our_file_count() > 0, "{label}: nothing pushed");
    }

    // status -c: the same lines as DVC's, in either order.
    let empty = env.path("remotes/status-empty");
    repo.set_local_remotes(&[("r", &empty)]);
    for args in [
        &["status", "-c", "gen", "s1.txt"][..],
        &["status", "-c", "s1.txt", "gen"][..],
    ] {
        let ours = repo.try_git_dvc(args);
        let theirs = repo.try_dvc(args);
        assert_eq!(
            (ours.code(), &ours.stdout),
            (theirs.code(), &theirs.stdout),
            "{}\n{}",
            ours.describe(),
            theirs.describe()
        );
        assert!(ours.stdout.contains("s1.txt"), "{}", ours.describe());
    }
}

#[test]
fn recursive_on_a_tracked_directory_pushes_nothing_as_dvc_does() {
    let env = TestEnv::new();
    let repo = repo(&env);
    let c = compare_push_with_dvc(&repo, "recursive-dir", &["r"], &["-R", "d"]);
    assert_eq!(c.our_file_count(), 0, "{}", c.git_dvc.describe());
    c.git_dvc.assert_stdout_is("Everything is up to date.");
}

#[test]
fn dvc_lock_as_a_target_is_refused_as_dvc_refuses_it() {
    let env = TestEnv::new();
    let repo = repo(&env);
    let storage = env.path("storage");
    repo.set_local_remotes(&[("r", &storage)]);
    for args in [&["push", "--glob", "d*"][..], &["push", "dvc.lock"][..]] {
        let ours = repo.try_git_dvc(args);
        let theirs = repo.try_dvc(args);
        assert_eq!(theirs.code(), Some(1), "{}", theirs.describe());
        assert_eq!(ours.code(), Some(1), "{}", ours.describe());
        theirs.assert_stderr_contains("Did you mean: `dvc.yaml`?");
        ours.assert_stderr_contains("Did you mean: `dvc.yaml`?");
        assert!(
            !storage.exists(),
            "nothing may be uploaded\n{}",
            ours.describe()
        );
    }
    // From a subdirectory, the message names the target as typed (or matched).
    let sub = repo.path("d");
    for args in [
        &["push", "--glob", "../d*"][..],
        &["push", "../dvc.lock"][..],
    ] {
        let ours = env.try_git_dvc(&sub, args);
        let theirs = env.try_dvc(&sub, args);
        for run in [&ours, &theirs] {
            run.assert_code(1).assert_stderr_contains(
                "ERROR: failed to push data to the cloud - Did you mean: `../dvc.yaml`?",
            );
        }
    }
    assert!(!storage.exists());
}

#[test]
fn an_output_pinned_to_an_undefined_remote_fails_its_revision_as_in_dvc() {
    let env = TestEnv::new();
    let repo = repo(&env);
    repo.git(&["branch", "clean"]);
    repo.write("p.txt", "pinned\n");
    repo.dvc(&["add", "-q", "p.txt"]);
    let text = String::from_utf8(repo.read("p.txt.dvc")).unwrap();
    repo.write(
        "p.txt.dvc",
        text.replace("  path: p.txt\n", "  path: p.txt\n  remote: nowhere\n"),
    );
    repo.commit_all("pinned");
    let storage = env.path("storage");
    repo.set_local_remotes(&[("r", &storage)]);
    // DVC resolves every cached output's remote while collecting a revision: `-r` and
    // targets that leave the pinned output out do not help, and nothing is uploaded.
    for args in [&["push", "-r", "r"][..], &["push", "-r", "r", "a.txt"][..]] {
        let theirs = repo.try_dvc(args);
        let ours = repo.try_git_dvc(args);
        assert_eq!(theirs.code(), Some(1), "{}", theirs.describe());
        assert_eq!(ours.code(), Some(1), "{}", ours.describe());
        theirs.assert_stderr_contains(
            "ERROR: failed to push data to the cloud - config file error: remote 'nowhere' doesn't exist",
        );
        ours.assert_stderr_contains(
            "ERROR: failed to push data to the cloud - config file error: remote 'nowhere' doesn't exist",
        );
        assert!(!storage.exists(), "{args:?} uploaded\n{}", ours.describe());
    }
    // With other revisions, only the failing ones are skipped (with DVC's warning).
    let c = compare_push_with_dvc(&repo, "all-branches", &["r"], &["-r", "r", "-a"]);
    assert!(c.our_file_count() > 0, "{}", c.git_dvc.describe());
    for run in [&c.git_dvc, &c.dvc] {
        run.assert_stderr_contains("failed to collect 'main', skipping");
        run.assert_stderr_contains("failed to collect 'workspace', skipping");
    }
}
