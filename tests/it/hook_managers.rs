//! git-dvc's hooks through the hook managers teams already use: the pre-commit framework
//! (real `pre-commit` from PyPI, `GIT_DVC_TEST_PRE_COMMIT`, installed by scripts/test.sh)
//! reading this repository's `.pre-commit-hooks.yaml` from a local hooks repository, then
//! real `git push`:
//!
//! * the pushed commit's data reaches storage and real `dvc pull` restores it in a clone;
//! * one `git push` of two branches uploads both branches' data, although pre-commit passes
//!   only one pushed ref on to its hooks;
//! * data missing everywhere stops the push: git sends nothing;
//! * the checkout hooks (`git-dvc-post-checkout`, `-post-merge`, `-post-rewrite`) bring
//!   each branch's data on `git checkout`, `git merge` and `git rebase`, fetched from the
//!   remote, with git's arguments taken from pre-commit's variables.

use crate::common;

use std::fs;
use std::path::Path;

use common::remotes;
use common::*;

/// A git repository holding the project's `.pre-commit-hooks.yaml`, as pre-commit clones
/// it; returns its path and commit.
fn hooks_repo(env: &TestEnv) -> (String, String) {
    let dir = env.mkdir("git-dvc-hooks");
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join(".pre-commit-hooks.yaml");
    fs::copy(&manifest, dir.join(".pre-commit-hooks.yaml")).unwrap();
    env.git(&dir, &["init", "-q"]);
    env.git(&dir, &["add", ".pre-commit-hooks.yaml"]);
    env.git(&dir, &["commit", "-q", "-m", "hooks"]);
    let rev = env.git(&dir, &["rev-parse", "HEAD"]).trim().to_string();
    (dir.display().to_string(), rev)
}

struct Managed<'e> {
    repo: Repo<'e>,
    server: Repo<'e>,
    storage: std::path::PathBuf,
}

/// A DVC project whose pre-push hook is pre-commit's, running hook `git-dvc-pre-push`.
fn managed<'e>(env: &'e TestEnv, pre_commit: &str) -> Managed<'e> {
    let (hooks, rev) = hooks_repo(env);
    let server = env.bare_repo("server.git");
    let repo = env.dvc_repo_with_remote("work");
    let storage = env.path("storage");
    repo.set_local_remotes(&[("r", &storage)]);
    repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    repo.write(
        ".pre-commit-config.yaml",
        format!("repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: git-dvc-pre-push\n"),
    );
    repo.commit_all("pre-commit config");
    let mut cmd = env.command(pre_commit, &repo.dir);
    cmd.args(["install", "--hook-type", "pre-push"]);
    run_command(cmd, std::time::Duration::from_secs(300)).assert_success();
    Managed {
        repo,
        server,
        storage,
    }
}

#[test]
fn pre_commit_framework_runs_the_pre_push_hook() {
    let Some(pre_commit) = remotes::server_var("GIT_DVC_TEST_PRE_COMMIT") else {
        return;
    };
    let env = TestEnv::new();
    let m = managed(&env, &pre_commit);
    let data = remotes::sample_data(&m.repo, 31);
    let pushed = m.repo.try_git(&["push", "origin", "main"]);
    pushed.assert_success();
    // pre-commit shows the hook by its manifest name, and git-dvc's own summary.
    assert!(
        pushed
            .stdout
            .contains("git-dvc (upload the DVC data of the pushed commits)")
            || pushed
                .stderr
                .contains("git-dvc (upload the DVC data of the pushed commits)"),
        "{}",
        pushed.describe()
    );
    m.repo
        .git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line("r"));
    let clone = env.clone_repo(&m.server.dir, "clone");
    clone.set_local_remotes(&[("r", &m.storage)]);
    clone.dvc(&["pull", "-q"]);
    assert_workspace(&clone.dir, &data);

    // Two branches in one push: pre-commit hands its hooks one ref; both are uploaded.
    m.repo.git(&["checkout", "-q", "-b", "one"]);
    m.repo.write("one.txt", "first branch\n");
    m.repo.dvc(&["add", "-q", "one.txt"]);
    m.repo.commit_all("one");
    m.repo.git(&["checkout", "-q", "main"]);
    m.repo.git(&["checkout", "-q", "-b", "two"]);
    m.repo.write("two.txt", "second branch\n");
    m.repo.dvc(&["add", "-q", "two.txt"]);
    m.repo.commit_all("two");
    m.repo.git(&["push", "origin", "one", "two"]);
    for content in ["first branch\n", "second branch\n"] {
        assert!(
            remote_has(&m.storage, &md5_hex(content.as_bytes()), false),
            "{content:?} was not uploaded"
        );
    }

    // Missing everywhere: the push stops and git sends nothing.
    m.repo.write("lost.txt", "nobody has this any more\n");
    m.repo.dvc(&["add", "-q", "lost.txt"]);
    let commit = m.repo.commit_all("lost");
    let lost = md5_hex(b"nobody has this any more\n");
    remove_object(&m.repo.cache_dir(), &lost);
    let refused = m.repo.try_git(&["push", "origin", "two"]);
    assert!(!refused.success(), "{}", refused.describe());
    assert!(
        refused.stdout.contains(&lost) || refused.stderr.contains(&lost),
        "{}",
        refused.describe()
    );
    assert!(!m.server.has_object(&commit), "git sent nothing");
}

#[test]
fn pre_commit_framework_runs_the_checkout_hooks() {
    let Some(pre_commit) = remotes::server_var("GIT_DVC_TEST_PRE_COMMIT") else {
        return;
    };
    let env = TestEnv::new();
    let (hooks, rev) = hooks_repo(&env);
    let repo = env.dvc_repo_with_remote("work");
    let storage = env.path("storage");
    repo.set_local_remotes(&[("r", &storage)]);
    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n  - id: git-dvc-post-checkout\n  - id: git-dvc-post-merge\n  - id: git-dvc-post-rewrite\n"
        ),
    );
    repo.commit_all("pre-commit config");
    let mut cmd = env.command(&pre_commit, &repo.dir);
    cmd.args([
        "install",
        "--hook-type",
        "post-checkout",
        "--hook-type",
        "post-merge",
        "--hook-type",
        "post-rewrite",
    ]);
    run_command(cmd, std::time::Duration::from_secs(300)).assert_success();

    let main_data = repo.dvc_add_file("data.txt", "main data\n");
    repo.commit_all("main data");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.dvc_add_file("data.txt", "other data\n");
    repo.commit_all("other data");
    repo.dvc(&["push", "-q", "-r", "r"]);
    repo.git(&["checkout", "-q", "main"]);
    assert_eq!(repo.read("data.txt"), b"main data\n");
    repo.dvc(&["push", "-q", "-r", "r"]);

    // Fetched: the cache no longer has main's copy when we come back to it.
    repo.git(&["checkout", "-q", "other"]);
    assert_eq!(repo.read("data.txt"), b"other data\n");
    remove_object(&repo.cache_dir(), &main_data);
    let run = repo.try_git(&["checkout", "main"]);
    run.assert_success();
    assert_eq!(repo.read("data.txt"), b"main data\n", "{}", run.describe());
    assert!(repo.cache_object(&main_data, false).is_file());

    // post-merge: a fast-forward to other.
    repo.git(&["merge", "-q", "--ff-only", "other"]);
    assert_eq!(repo.read("data.txt"), b"other data\n");

    // post-rewrite: a rebase that replays a commit onto one that changed the data.
    repo.git(&["checkout", "-q", "-b", "topic", "HEAD~1"]);
    assert_eq!(repo.read("data.txt"), b"main data\n");
    repo.write("notes.md", "a commit to replay\n");
    repo.commit_all("notes");
    repo.git(&["rebase", "-q", "other"]);
    assert_eq!(repo.read("data.txt"), b"other data\n");
}

/// Under pre-commit, a detached HEAD pushed as a second ref (`git push origin main
/// $SHA:refs/heads/exp`): pre-commit names only main, yet HEAD's data is uploaded too.
#[test]
fn pre_commit_framework_uploads_a_detached_head_pushed_as_a_later_ref() {
    let Some(pre_commit) = remotes::server_var("GIT_DVC_TEST_PRE_COMMIT") else {
        return;
    };
    let env = TestEnv::new();
    let m = managed(&env, &pre_commit);
    m.repo.git(&["push", "-q", "origin", "main"]);
    m.repo.write("notes.md", "a new commit on main\n");
    m.repo.commit_all("notes");
    m.repo.git(&["checkout", "-q", "--detach"]);
    let detached = m
        .repo
        .dvc_add_file("exp.txt", "only on the detached HEAD\n");
    let sha = m.repo.commit_all("experiment");
    let run = m
        .repo
        .try_git(&["push", "origin", "main", &format!("{sha}:refs/heads/exp")]);
    run.assert_success();
    assert_eq!(m.server.try_rev_parse("exp").as_deref(), Some(&*sha));
    assert!(
        remote_has(&m.storage, &detached, false),
        "the detached commit's data was not uploaded\n{}",
        run.describe()
    );
}
