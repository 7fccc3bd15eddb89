//! `git dvc push --run-cache` against real DVC: the entries DVC keeps in
//! `.dvc/cache/runs` reach the remote byte for byte, with the outputs of every run (DVC
//! 3.67.1 sends only the current ones), so a teammate's `dvc repro --pull` reuses a past
//! run instead of running it again.

use crate::common;

use std::collections::BTreeMap;

use common::*;

/// Stage `st`: `cmd` turns `in.txt` into `out.txt`.
fn add_stage(repo: &Repo, cmd: &str) {
    let stage = [
        "stage", "add", "-q", "-n", "st", "-d", "in.txt", "-o", "out.txt",
    ];
    repo.dvc(&[&stage[..], &[cmd]].concat());
}

/// A stage run twice: first on `in`, then on `in2`. The first run's output is only in
/// the cache (and its run-cache entry); `ran.log` records every run of the command.
fn repo_with_two_runs<'e>(env: &'e TestEnv, remote: &std::path::Path) -> Repo<'e> {
    let repo = env.dvc_repo("repo");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("in.txt", "in\n");
    add_stage(&repo, "cat in.txt > out.txt; echo ran >> ran.log");
    repo.dvc(&["repro", "-q"]);
    repo.write("in.txt", "in2\n");
    repo.dvc(&["repro", "-q"]);
    std::fs::remove_file(repo.path("ran.log")).unwrap();
    repo.commit_all("two runs");
    repo
}

fn runs(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<&String, &Vec<u8>> {
    files
        .iter()
        .filter(|(k, _)| k.starts_with("runs/"))
        .collect()
}

#[test]
fn pushed_run_cache_lets_dvc_repro_reuse_a_past_run() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = repo_with_two_runs(&env, &remote);
    let first_output = md5_hex(b"in\n");

    // Without the flag, as `dvc push`: the current output only.
    repo.git_dvc(&["push"]).assert_stdout_is("1 file pushed");
    assert!(runs(&list_files(&remote)).is_empty());

    // The first run's output and both entries.
    repo.git_dvc(&["push", "--run-cache"])
        .assert_stdout_is("3 files pushed");
    let stored = list_files(&remote);
    let local = list_files(&repo.cache_dir());
    assert_eq!(runs(&stored), runs(&local), "entries byte for byte");
    assert_eq!(runs(&stored).len(), 2);
    assert!(stored.contains_key(&object_rel_path(&first_output, false)));
    // Entries are named by their content: nothing to send again (DVC re-sends them all).
    repo.git_dvc(&["push", "--run-cache"])
        .assert_stdout_is("Everything is up to date.");
    repo.git_dvc(&["push", "--no-run-cache"])
        .assert_stdout_is("Everything is up to date.");

    let clone = env.clone_repo(&repo.dir, "clone");
    clone.dvc(&["pull", "-q", "--run-cache"]);
    clone.write("in.txt", "in\n");
    let repro = clone.dvc(&["repro", "--pull"]);
    assert!(
        repro.stdout.contains("Stage 'st' is cached - skipping run"),
        "{}",
        repro.describe()
    );
    assert_eq!(clone.read("out.txt"), b"in\n");
    assert!(!clone.path("ran.log").exists(), "the command ran again");
}

#[test]
fn run_cache_pushed_by_dvc_is_seen_as_present() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = repo_with_two_runs(&env, &remote);
    repo.dvc(&["push", "-q", "--run-cache"]);
    let before = list_files(&remote);
    assert_eq!(runs(&before).len(), 2, "{before:?}");
    // Only what DVC left out: the first run's output.
    repo.git_dvc(&["push", "--run-cache"])
        .assert_stdout_is("1 file pushed");
    let after = list_files(&remote);
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains_key(&object_rel_path(&md5_hex(b"in\n"), false)));
}

#[test]
fn entries_whose_outputs_are_gone_are_held_back() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = repo_with_two_runs(&env, &remote);
    // `dvc gc` would do this: the first run's output leaves the cache.
    let gone = repo.cache_object(&md5_hex(b"in\n"), false);
    let shard = gone.parent().unwrap();
    std::fs::set_permissions(shard, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::remove_file(&gone).unwrap();

    let run = repo.git_dvc(&["push", "--run-cache"]);
    run.assert_stdout_is("2 files pushed");
    run.assert_stderr_contains("1 entry of the run cache not pushed");
    let stored = list_files(&remote);
    assert_eq!(runs(&stored).len(), 1, "only the run whose output is there");
    // The entry stored is the current run's: its output is the current one.
    let entry = String::from_utf8(runs(&stored).values().next().unwrap().to_vec()).unwrap();
    assert!(entry.contains(&md5_hex(b"in2\n")), "{entry}");
}

#[test]
fn run_cache_needs_a_remote() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.write("in.txt", "in\n");
    add_stage(&repo, "cp in.txt out.txt");
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("one run");
    let run = repo.try_git_dvc(&["push", "--run-cache"]);
    run.assert_code(1);
    run.assert_stderr_contains("no remote specified");
}
