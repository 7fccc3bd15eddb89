//! The checkout hooks (`git dvc install` writes post-checkout, post-merge and
//! post-rewrite): real git moves HEAD and the work tree's DVC data follows, fetched from a
//! local DVC remote that real `dvc push` filled.
//!
//! * `git checkout other` brings that branch's data, `git checkout -` brings the first
//!   back with no leftover file, and real `dvc status` then finds nothing to do;
//! * only the outputs whose DVC files changed are checked out, once a hook has brought
//!   the data (the first switch after `git clone` and `git dvc install` brings every
//!   output, as after a clone);
//! * `git pull` (fast-forward and merge), `git merge --squash`, `git rebase` (both
//!   backends, a fast-forward and a replay), `git worktree add` and `git clone` (hooks from
//!   a template directory) behave likewise;
//! * file checkouts are skipped, `GIT_DVC_SKIP_CHECKOUT=1` skips and the next hook catches
//!   up, as it does after `git reset --hard`;
//! * failures (a modified file, an object missing from the remote, fetching turned off)
//!   warn with the way out and never fail git, unless `dvc.checkout.strict`.

use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;

const HOOKS: [&str; 3] = ["post-checkout", "post-merge", "post-rewrite"];

/// Built once: `upstream` (a DVC project whose committed default remote is
/// `../../storage`, so every repository placed beside it finds `storage`), `server.git`
/// (its branches) and `storage` (real `dvc push -a`). Branches:
///
/// * `main`: `data/` (a directory output), `model.bin`, `big/` (20 files), and a pipeline
///   whose `prepared.txt` copies `src.txt`;
/// * `other`: `data/` changed (a file modified, one removed, one added), `extra.txt`
///   added, `src.txt` changed and the pipeline re-run; `model.bin` and `big/` unchanged;
/// * `readme`: a README only, no DVC file changed;
/// * `gone`: `model.bin.dvc` deleted.
struct Fixture {
    root: PathBuf,
    _env: TestEnv,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let env = TestEnv::fixed("hooks-checkout-fixture");
        let up = env.dvc_repo("upstream");
        // Relative to `.dvc/`: `<root>/storage` from any repository at `<root>/<name>`.
        up.write(
            ".dvc/config",
            "[core]\n    remote = r\n['remote \"r\"']\n    url = ../../storage\n",
        );
        up.commit_all("remote");
        for (path, bytes) in data_of("main") {
            if path != "prepared.txt" {
                up.write(&path, bytes);
            }
        }
        up.write("src.txt", "s1\n");
        up.write(
            "dvc.yaml",
            "stages:\n  prep:\n    cmd: cp src.txt prepared.txt\n    deps:\n    - src.txt\n    outs:\n    - prepared.txt\n",
        );
        up.dvc(&["add", "-q", "data", "model.bin", "big"]);
        up.dvc(&["repro", "-q"]);
        up.commit_all("main data");

        up.git(&["checkout", "-q", "-b", "readme"]);
        up.write("README.md", "no data changes here\n");
        up.commit_all("readme");

        up.git(&["checkout", "-q", "-b", "gone", "main"]);
        up.git(&["rm", "-q", "model.bin.dvc"]);
        up.commit_all("model.bin no longer tracked");

        up.git(&["checkout", "-q", "-f", "-b", "other", "main"]);
        up.dvc(&["checkout", "-q", "--force"]);
        fs::remove_file(up.path("data/b.txt")).unwrap();
        up.write("data/a.txt", "a2\n");
        up.write("data/sub/d.txt", "d2\n");
        up.write("extra.txt", "x2\n");
        up.write("src.txt", "s2\n");
        up.dvc(&["add", "-q", "data", "extra.txt"]);
        up.dvc(&["repro", "-q"]);
        up.commit_all("other data");
        assert_eq!(data_files(&up.dir), data_of("other"));
        // Each branch from its own checkout: DVC resolves a committed relative remote URL
        // of another revision (`push -a`) against `/`.
        up.dvc(&["push", "-q"]);

        up.git(&["checkout", "-q", "-f", "main"]);
        up.dvc(&["checkout", "-q", "--force"]);
        up.dvc(&["push", "-q"]);
        let server = env.bare_repo("server.git");
        up.git(&["push", "-q", server.dir.to_str().unwrap(), "--all"]);
        Fixture {
            root: env.root().to_path_buf(),
            _env: env,
        }
    })
}

/// A test's own copy of the fixture.
fn world() -> TestEnv {
    let root = &fixture().root;
    let env = TestEnv::new();
    for dir in ["upstream", "server.git", "storage"] {
        copy_dir(&root.join(dir), &env.path(dir));
    }
    env
}

fn big_files() -> BTreeMap<String, Vec<u8>> {
    (0..20)
        .map(|i| {
            (
                format!("big/f{i:02}.txt"),
                format!("big {i}\n").into_bytes(),
            )
        })
        .collect()
}

/// The data (DVC outputs only) each branch of the fixture puts in the work tree.
fn data_of(branch: &str) -> BTreeMap<String, Vec<u8>> {
    let mut m: BTreeMap<String, Vec<u8>> = big_files();
    m.insert("model.bin".into(), pseudo_random_bytes(7, 30_000));
    match branch {
        "main" | "readme" | "gone" => {
            m.insert("data/a.txt".into(), b"a1\n".to_vec());
            m.insert("data/b.txt".into(), b"b1\n".to_vec());
            m.insert("data/sub/c.txt".into(), b"c1\n".to_vec());
            m.insert("prepared.txt".into(), b"s1\n".to_vec());
            if branch == "gone" {
                m.remove("model.bin");
            }
        }
        "other" => {
            m.insert("data/a.txt".into(), b"a2\n".to_vec());
            m.insert("data/sub/c.txt".into(), b"c1\n".to_vec());
            m.insert("data/sub/d.txt".into(), b"d2\n".to_vec());
            m.insert("extra.txt".into(), b"x2\n".to_vec());
            m.insert("prepared.txt".into(), b"s2\n".to_vec());
        }
        _ => panic!("no branch {branch} in the fixture"),
    }
    m
}

fn is_data(path: &str) -> bool {
    path.starts_with("data/")
        || path.starts_with("big/")
        || [
            "model.bin",
            "extra.txt",
            "prepared.txt",
            "loc/local.txt",
            "feat.txt",
            "side.txt",
        ]
        .contains(&path)
}

/// The DVC outputs in a work tree (every file that is not git's or DVC's own).
fn data_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    workspace_files(dir)
        .into_iter()
        .filter(|(k, _)| is_data(k))
        .collect()
}

#[track_caller]
fn assert_data(repo: &Repo<'_>, expected: &BTreeMap<String, Vec<u8>>, when: &str) {
    let got = data_files(&repo.dir);
    if &got != expected {
        let only_got: Vec<_> = got.keys().filter(|k| !expected.contains_key(*k)).collect();
        let only_want: Vec<_> = expected.keys().filter(|k| !got.contains_key(*k)).collect();
        let differ: Vec<_> = got
            .iter()
            .filter(|(k, v)| expected.get(*k).is_some_and(|w| w != *v))
            .map(|(k, _)| k)
            .collect();
        panic!(
            "{when}: the work tree's data is not as expected\n  left over: {only_got:?}\n  missing: {only_want:?}\n  different: {differ:?}"
        );
    }
}

/// A clone of the server with the hooks installed afterwards (no data yet).
fn clone_with_hooks<'e>(env: &'e TestEnv, rel: &str) -> Repo<'e> {
    let clone = env.clone_repo(&env.path("server.git"), rel);
    let run = clone.git_dvc(&["install"]);
    for hook in HOOKS {
        assert!(
            run.stdout
                .contains(&format!("git-dvc {hook} hook installed")),
            "{}",
            run.describe()
        );
    }
    clone
}

/// git, which must succeed; returns the run (the hooks' output is on its stderr).
#[track_caller]
fn git(repo: &Repo<'_>, args: &[&str]) -> Run {
    let run = repo.try_git(args);
    run.assert_success();
    run
}

#[track_caller]
fn git_env(repo: &Repo<'_>, args: &[&str], envs: &[(&str, &str)]) -> Run {
    let envs: Vec<(&str, &OsStr)> = envs.iter().map(|(k, v)| (*k, OsStr::new(*v))).collect();
    let run = repo.try_git_with_env(args, &envs);
    run.assert_success();
    run
}

/// Nothing from git-dvc in a git command's output.
#[track_caller]
fn assert_silent(run: &Run) {
    let all = format!("{}{}", run.stdout, run.stderr);
    assert!(
        !all.contains("git-dvc") && !all.contains("WARNING") && !all.contains("ERROR"),
        "the hooks said something\n{}",
        run.describe()
    );
}

fn oid_of(bytes: &[u8]) -> String {
    md5_hex(bytes)
}

#[test]
fn branch_switches_bring_each_branchs_data_and_leave_nothing_behind() {
    let env = world();
    // Hooks in a template directory (`init.templateDir`): `git clone` runs post-checkout.
    let template = env.mkdir("template/hooks");
    for hook in HOOKS {
        let file = template.join(hook);
        env.git_dvc(
            env.root(),
            &[
                "install",
                "--hook",
                hook,
                "--output",
                file.to_str().unwrap(),
            ],
        );
        assert_eq!(file_mode(&file), 0o755);
    }
    let clone_run = env.try_git(
        env.root(),
        &[
            "clone",
            "--template",
            env.path("template").to_str().unwrap(),
            env.path("server.git").to_str().unwrap(),
            "clone",
        ],
    );
    clone_run
        .assert_success()
        .assert_stderr_contains("git-dvc: ");
    let clone = env.repo_at(env.path("clone"));
    assert_data(&clone, &data_of("main"), "after git clone");
    let model = pseudo_random_bytes(7, 30_000);
    assert!(clone.cache_object(&oid_of(&model), false).is_file());

    let run = git(&clone, &["checkout", "other"]);
    run.assert_stderr_contains("git-dvc: ")
        .assert_stderr_contains("A       extra.txt")
        .assert_stderr_contains("M       data/");
    assert_data(&clone, &data_of("other"), "after git checkout other");
    assert!(
        clone.cache_object(&oid_of(b"x2\n"), false).is_file(),
        "fetched"
    );

    let run = git(&clone, &["checkout", "-"]);
    run.assert_stderr_contains("D       extra.txt");
    assert_data(&clone, &data_of("main"), "after git checkout -");
    // Real DVC agrees that the work tree holds main's data.
    clone
        .dvc(&["status"])
        .assert_stdout_contains_all(&["Data and pipelines are up to date."]);

    // A DVC file deleted by the checkout: its untouched output goes, and comes back.
    git(&clone, &["checkout", "gone"]);
    assert_data(&clone, &data_of("gone"), "after git checkout gone");
    git(&clone, &["checkout", "main"]);
    assert_data(&clone, &data_of("main"), "back from gone");

    // No DVC file changed: nothing said, nothing touched.
    let before = fs::metadata(clone.path("data/a.txt")).unwrap();
    let run = git(&clone, &["checkout", "readme"]);
    assert_silent(&run);
    let run = git(&clone, &["checkout", "-b", "new-branch"]);
    assert_silent(&run);
    let after = fs::metadata(clone.path("data/a.txt")).unwrap();
    assert_eq!(
        (before.ino(), before.mtime_nsec()),
        (after.ino(), after.mtime_nsec())
    );
    assert_data(&clone, &data_of("readme"), "after git checkout readme");
}

#[test]
fn after_clone_and_install_the_first_switch_brings_everything_then_only_changes() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    assert!(data_files(&clone.dir).is_empty());
    // No hook has brought this clone's data yet: the first switch checks out every
    // output of the new HEAD, as after a clone (model.bin and big/ did not change
    // between main and other, and were never pulled).
    let run = git(&clone, &["checkout", "other"]);
    run.assert_stderr_contains("A       data/")
        .assert_stderr_contains("A       extra.txt")
        .assert_stderr_contains("A       prepared.txt")
        .assert_stderr_contains("A       model.bin")
        .assert_stderr_contains("A       big/");
    assert_data(
        &clone,
        &data_of("other"),
        "after the first git checkout other",
    );
    // From then on, only the outputs whose DVC files changed: model.bin, removed by
    // hand, is not brought back by a switch that does not change model.bin.dvc.
    fs::remove_file(clone.path("model.bin")).unwrap();
    let run = git(&clone, &["checkout", "main"]);
    run.assert_stderr_contains("M       data/");
    assert!(
        !run.stderr.contains("model.bin") && !run.stderr.contains("big"),
        "{}",
        run.describe()
    );
    let mut want = data_of("main");
    want.remove("model.bin");
    assert_data(&clone, &want, "after git checkout main");
    // `git dvc pull` brings the rest, as the hooks never claimed to.
    clone.git_dvc(&["pull"]);
    assert_data(&clone, &data_of("main"), "after git dvc pull");
}

#[test]
fn file_checkouts_and_skip_env_leave_the_data_and_the_next_hook_catches_up() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    assert_data(&clone, &data_of("main"), "after git dvc pull");
    let stamp = |repo: &Repo<'_>| {
        let m = fs::metadata(repo.path("data/a.txt")).unwrap();
        (m.ino(), m.mtime_nsec())
    };
    let before = stamp(&clone);

    // A file checkout (flag 0) changes a DVC file, not the data.
    let run = git(&clone, &["checkout", "origin/other", "--", "data.dvc"]);
    assert_silent(&run);
    assert_eq!(stamp(&clone), before);
    let run = git(&clone, &["checkout", "main", "--", "data.dvc"]);
    assert_silent(&run);
    assert_eq!(stamp(&clone), before);
    assert_data(&clone, &data_of("main"), "after file checkouts");

    // Skipped: the data stays main's.
    let run = git_env(
        &clone,
        &["checkout", "other"],
        &[("GIT_DVC_SKIP_CHECKOUT", "1")],
    );
    assert_silent(&run);
    assert_data(&clone, &data_of("main"), "skipped");
    // git's own view of the next move changes nothing (old == new), but the hook knows
    // the data is main's and brings other's.
    let run = git(&clone, &["checkout", "-b", "follow"]);
    run.assert_stderr_contains("git-dvc: ");
    assert_data(&clone, &data_of("other"), "the next hook caught up");

    // `git reset --hard` runs no hook; the next one catches up too.
    git(&clone, &["reset", "-q", "--hard", "origin/main"]);
    assert_data(&clone, &data_of("other"), "reset --hard moved no data");
    git(&clone, &["checkout", "-b", "again"]);
    assert_data(
        &clone,
        &data_of("main"),
        "after reset --hard and a checkout",
    );
}

/// Upstream commits `path` (in an output at its first component) with `content` on
/// `branch` (made from main if new), pushes the data and the branch.
fn upstream_changes(env: &TestEnv, branch: &str, path: &str, content: &str) {
    let up = env.repo_at(env.path("upstream"));
    if up.try_rev_parse(branch).is_none() {
        up.git(&["branch", branch, "main"]);
    }
    up.git(&["checkout", "-q", branch]);
    up.dvc(&["checkout", "-q", "--force"]);
    up.write(path, content);
    up.dvc(&["add", "-q", path.split('/').next().unwrap()]);
    up.commit_all(&format!("upstream changes {path}"));
    up.dvc(&["push", "-q"]);
    up.git(&[
        "push",
        "-q",
        env.path("server.git").to_str().unwrap(),
        branch,
    ]);
}

#[test]
fn pull_merge_and_squash_bring_the_merged_data() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);

    // Fast-forward pull.
    upstream_changes(&env, "main", "model.bin", "new model\n");
    let run = git(&clone, &["pull", "--no-rebase"]);
    run.assert_stderr_contains("M       model.bin");
    let mut want = data_of("main");
    want.insert("model.bin".into(), b"new model\n".to_vec());
    assert_data(&clone, &want, "after a fast-forward git pull");

    // A merge: a local commit and an upstream one.
    // (In a directory of its own: its `.gitignore` is not the one side.txt's changes.)
    clone.write("loc/local.txt", "local\n");
    clone.dvc(&["add", "-q", "loc/local.txt"]);
    clone.commit_all("local data");
    upstream_changes(&env, "main", "big/f00.txt", "big 0, changed upstream\n");
    let run = git(&clone, &["pull", "--no-rebase", "--no-edit"]);
    run.assert_stderr_contains("M       big/");
    want.insert("loc/local.txt".into(), b"local\n".to_vec());
    want.insert("big/f00.txt".into(), b"big 0, changed upstream\n".to_vec());
    assert_data(&clone, &want, "after a merging git pull");

    // --squash: the work tree holds the merge, HEAD does not.
    upstream_changes(&env, "side", "side.txt", "side\n");
    git(&clone, &["fetch", "-q"]);
    let run = git(&clone, &["merge", "--squash", "origin/side"]);
    run.assert_stderr_contains("A       side.txt");
    want.insert("side.txt".into(), b"side\n".to_vec());
    assert_data(&clone, &want, "after git merge --squash");
}

#[test]
fn rebase_brings_the_rebased_data_at_the_end() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    let base = clone.rev_parse("HEAD");

    // A feature branch with its own data, and main moving on.
    git(&clone, &["checkout", "-q", "-b", "feat"]);
    clone.write("feat.txt", "feature\n");
    clone.dvc(&["add", "-q", "feat.txt"]);
    let feat = clone.commit_all("feature data");
    // feat.txt came from `dvc add`, not from a hook: it goes all the same, as with DVC.
    let run = git(&clone, &["checkout", "main"]);
    run.assert_stderr_contains("D       feat.txt");
    assert!(!clone.path("feat.txt").exists());
    clone.write("data/a.txt", "a, changed on main\n");
    clone.dvc(&["add", "-q", "data"]);
    clone.commit_all("main data changes");
    let mut want = data_of("main");
    want.insert("data/a.txt".into(), b"a, changed on main\n".to_vec());
    want.insert("feat.txt".into(), b"feature\n".to_vec());

    for backend in [&["rebase", "main"][..], &["rebase", "--apply", "main"][..]] {
        git(&clone, &["checkout", "-q", "-B", "feat", &feat]);
        let mut on_feat = data_of("main");
        on_feat.insert("feat.txt".into(), b"feature\n".to_vec());
        assert_data(&clone, &on_feat, "on the feature branch");
        let run = git(&clone, backend);
        assert_data(&clone, &want, &format!("after git {}", backend.join(" ")));
        assert!(!run.stderr.contains("WARNING"), "{}", run.describe());
        // The rebased data is what real DVC expects.
        clone
            .dvc(&["status"])
            .assert_stdout_contains_all(&["Data and pipelines are up to date."]);
    }

    // Nothing to replay: a fast-forward, which runs no post-rewrite.
    git(&clone, &["checkout", "-q", "-B", "behind", &base]);
    assert_data(&clone, &data_of("main"), "behind main");
    git(&clone, &["rebase", "main"]);
    want.remove("feat.txt");
    assert_data(&clone, &want, "after a fast-forward rebase");
}

#[test]
fn worktree_add_checks_out_the_branch_data_into_the_new_worktree() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    let wt = env.path("wt");
    let run = git(&clone, &["worktree", "add", wt.to_str().unwrap(), "other"]);
    run.assert_stderr_contains("git-dvc: ");
    let wt = env.repo_at(wt);
    assert_data(&wt, &data_of("other"), "in the new worktree");
    // Its own cache (`.dvc/cache` is per work tree), filled from the remote.
    assert!(wt.cache_object(&oid_of(b"x2\n"), false).is_file());
    assert_data(&clone, &data_of("main"), "the first work tree is untouched");
    // Moves in the worktree use the same hooks (from the common git directory).
    git(&wt, &["checkout", "-q", "-b", "wt-main", "origin/main"]);
    assert_data(&wt, &data_of("main"), "worktree on main");
}

#[test]
fn failures_warn_with_the_way_out_and_strict_fails_the_checkout() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);

    // A modified file: refused, untouched, git's checkout still done.
    clone.write("data/a.txt", "my unsaved work\n");
    let run = git(&clone, &["checkout", "other"]);
    run.assert_stderr_contains("WARNING: git-dvc")
        .assert_stderr_contains("Can't remove the following unsaved files")
        .assert_stderr_contains("git dvc pull");
    assert_eq!(clone.read("data/a.txt"), b"my unsaved work\n");
    assert!(!clone.path("extra.txt").exists(), "nothing touched");
    assert_eq!(clone.rev_parse("HEAD"), clone.rev_parse("other"));

    // Strict: the same refusal fails `git checkout` (git has still moved HEAD).
    clone.git(&["config", "dvc.checkout.strict", "true"]);
    let run = clone.try_git(&["checkout", "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("ERROR: git-dvc");
    assert_eq!(clone.read("data/a.txt"), b"my unsaved work\n");
    clone.git(&["config", "--unset", "dvc.checkout.strict"]);

    // The way out: `git dvc pull --force` (the unsaved change is dropped on purpose).
    git(&clone, &["checkout", "-q", "main"]);
    clone.git_dvc(&["pull", "--force"]);
    assert_data(&clone, &data_of("main"), "after git dvc pull --force");

    // An object the remote lacks: the rest is checked out, a warning names the output.
    // (The refused checkout above fetched it already: gone from the cache too.)
    remove_object(&env.path("storage"), &oid_of(b"x2\n"));
    remove_object(&clone.cache_dir(), &oid_of(b"x2\n"));
    let run = git(&clone, &["checkout", "other"]);
    run.assert_stderr_contains("extra.txt")
        .assert_stderr_contains("git dvc pull");
    let mut want = data_of("other");
    want.remove("extra.txt");
    assert_data(&clone, &want, "other without the missing object");
}

#[test]
fn fetching_turned_off_checks_out_from_the_cache_only() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    clone.git(&["config", "dvc.checkout.fetch", "false"]);
    let run = git(&clone, &["checkout", "other"]);
    run.assert_stderr_contains("git dvc pull");
    assert!(
        !clone.cache_object(&oid_of(b"x2\n"), false).exists(),
        "nothing fetched"
    );
    // What the cache holds is checked out all the same (c.txt is in both branches).
    assert_eq!(clone.read("data/sub/c.txt"), b"c1\n");
    clone.git_dvc(&["pull"]);
    assert_data(&clone, &data_of("other"), "after git dvc pull");
    // Back to main: everything is in the cache, nothing to fetch.
    git(&clone, &["checkout", "main"]);
    assert_data(&clone, &data_of("main"), "back on main from the cache");
}

/// Without git-dvc on PATH the hooks say so and let git's command succeed (the data stays
/// behind), unless `dvc.checkout.strict`.
#[test]
fn without_git_dvc_on_path_the_hooks_warn_and_git_succeeds() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    let path = env.path_without_git_dvc();
    let run = clone.try_git_with_env(&["checkout", "other"], &[("PATH", path.as_os_str())]);
    run.assert_success()
        .assert_stderr_contains("'git-dvc' was not found on your PATH")
        .assert_stderr_contains("git dvc uninstall");
    assert!(data_files(&clone.dir).is_empty());
    clone.git(&["config", "dvc.checkout.strict", "true"]);
    let run = clone.try_git_with_env(&["checkout", "main"], &[("PATH", path.as_os_str())]);
    assert!(!run.success(), "{}", run.describe());
    assert_eq!(clone.rev_parse("HEAD"), clone.rev_parse("main"));
}

/// A `dvc init --subdir` project: `git dvc install` run inside it records the directory
/// (`dvc.projectDir`), and the hooks, which git runs at the top of the work tree, diff and
/// check out that project.
#[test]
fn a_subdirectory_project_follows_branch_switches() {
    let env = TestEnv::new();
    let repo = env.git_repo("repo");
    repo.write("README.md", "the project is in ml/\n");
    repo.commit_all("readme");
    let ml = env.repo_at(repo.path("ml"));
    fs::create_dir_all(&ml.dir).unwrap();
    ml.dvc(&["init", "-q", "--subdir"]);
    let storage = env.path("storage");
    set_local_remotes(&ml.dir, &[("r", &storage)]);
    fs::write(
        ml.path(".dvc/config"),
        "[core]\n    remote = r\n['remote \"r\"']\n    url = /nonexistent\n",
    )
    .unwrap();
    ml.dvc_add_file("data.txt", "version 1\n");
    repo.commit_all("ml data v1");
    ml.dvc(&["push", "-q"]);
    repo.git(&["checkout", "-q", "-b", "other"]);
    let v2 = ml.dvc_add_file("data.txt", "version 2\n");
    repo.commit_all("ml data v2");
    ml.dvc(&["push", "-q"]);
    repo.git(&["checkout", "-q", "main"]);
    ml.dvc(&["checkout", "-q"]);

    let run = ml.git_dvc(&["install"]);
    run.assert_stdout_contains_all(&["git-dvc post-checkout hook installed", "dvc.projectDir"]);
    // Fetched from the remote: the cache lost version 2.
    remove_object(&ml.cache_dir(), &v2);
    let run = git(&repo, &["checkout", "other"]);
    run.assert_stderr_contains("M       data.txt");
    assert_eq!(ml.read("data.txt"), b"version 2\n");
    assert!(ml.cache_object(&v2, false).is_file());
    git(&repo, &["checkout", "main"]);
    assert_eq!(ml.read("data.txt"), b"version 1\n");
}

/// Points remote `r` of the work tree's `.dvc/config` at `../../elsewhere` (the test
/// environment's `elsewhere` directory).
fn repoint_remote(clone: &Repo<'_>) {
    clone.write(
        ".dvc/config",
        "[core]\n    remote = r\n['remote \"r\"']\n    url = ../../elsewhere\n",
    );
}

/// Copies the cache object `oid` into the `elsewhere` storage.
fn store_elsewhere(env: &TestEnv, clone: &Repo<'_>, oid: &str) {
    let target = env.path("elsewhere").join(object_rel_path(oid, false));
    fs::create_dir_all(target.parent().unwrap()).unwrap();
    fs::copy(clone.cache_object(oid, false), target).unwrap();
}

/// A branch whose `.dvc/config` points the remote elsewhere: checking it out must not send
/// requests (and credentials) there by itself. The hook checks out from the cache, says
/// why it did not fetch, and fetches once `dvc.trustCommittedRemotes` says so.
#[test]
fn a_checkout_that_repoints_the_remote_does_not_fetch_from_it() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    git(&clone, &["checkout", "-q", "-b", "elsewhere"]);
    repoint_remote(&clone);
    let oid = clone.dvc_add_file("moved.txt", "only in the other storage\n");
    clone.commit_all("the remote moves");
    store_elsewhere(&env, &clone, &oid);
    remove_object(&clone.cache_dir(), &oid);
    fs::remove_file(clone.path("moved.txt")).unwrap();
    git(&clone, &["checkout", "-q", "main"]);

    let run = git(&clone, &["checkout", "elsewhere"]);
    run.assert_stderr_contains("did not ask the remote")
        .assert_stderr_contains("dvc.trustCommittedRemotes");
    assert!(!clone.path("moved.txt").exists());
    assert!(!clone.cache_object(&oid, false).exists(), "nothing fetched");

    git(&clone, &["checkout", "-q", "main"]);
    clone.git(&["config", "dvc.trustCommittedRemotes", "true"]);
    git(&clone, &["checkout", "elsewhere"]);
    assert_eq!(clone.read("moved.txt"), b"only in the other storage\n");
}

/// The same protection on every later move while HEAD keeps the repointed config, not
/// just the first: a branch that changes only `.dvc/config` (no data to bring on that
/// move), then one that adds data on top of it, must not make the hooks fetch from the
/// new remote. Your own `git dvc pull` there fetches, and from then on the hooks do too.
#[test]
fn later_moves_on_a_repointed_branch_do_not_fetch_from_it_either() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    git(&clone, &["checkout", "-q", "-b", "elsewhere"]);
    repoint_remote(&clone);
    clone.commit_all("the remote moves, nothing else");
    git(&clone, &["checkout", "-q", "-b", "elsewhere-data"]);
    let oid = clone.dvc_add_file("moved.txt", "only in the other storage\n");
    clone.commit_all("data in the other storage");
    store_elsewhere(&env, &clone, &oid);
    let forget = || {
        remove_object(&clone.cache_dir(), &oid);
        let _ = fs::remove_file(clone.path("moved.txt"));
    };
    forget();
    git(&clone, &["checkout", "-q", "main"]);
    git(&clone, &["checkout", "-q", "elsewhere"]);

    let run = git(&clone, &["checkout", "elsewhere-data"]);
    run.assert_stderr_contains("did not ask the remote");
    assert!(!clone.path("moved.txt").exists());
    assert!(!clone.cache_object(&oid, false).exists(), "nothing fetched");

    clone.git_dvc(&["pull"]);
    assert_eq!(clone.read("moved.txt"), b"only in the other storage\n");
    git(&clone, &["checkout", "-q", "elsewhere"]);
    forget();
    git(&clone, &["checkout", "elsewhere-data"]);
    assert_eq!(clone.read("moved.txt"), b"only in the other storage\n");
}

/// `git worktree add` of a branch whose config points the remote elsewhere: the new work
/// tree starts from the main work tree's trusted config, so its hook does not fetch from
/// the branch's remote either.
#[test]
fn a_worktree_of_a_repointed_branch_does_not_fetch_from_it() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    git(&clone, &["checkout", "-q", "-b", "elsewhere"]);
    repoint_remote(&clone);
    let oid = clone.dvc_add_file("moved.txt", "only in the other storage\n");
    clone.commit_all("the remote moves");
    store_elsewhere(&env, &clone, &oid);
    git(&clone, &["checkout", "-q", "main"]);

    let wt = env.path("wt");
    let run = git(
        &clone,
        &["worktree", "add", wt.to_str().unwrap(), "elsewhere"],
    );
    run.assert_stderr_contains("did not ask the remote");
    let wt = env.repo_at(wt);
    assert!(!wt.path("moved.txt").exists());
    assert!(!wt.cache_object(&oid, false).exists(), "nothing fetched");
}

/// A branch that commits `.dvc/config.local` (which DVC reads over `.dvc/config`, and
/// which nobody commits but to redirect) repoints the remote without touching
/// `.dvc/config`: the hooks never trust such a commit, and do not fetch.
#[test]
fn a_committed_config_local_is_never_trusted_by_the_hooks() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    git(&clone, &["checkout", "-q", "-b", "elsewhere"]);
    clone.write(
        ".dvc/config.local",
        "['remote \"r\"']\n    url = ../../elsewhere\n",
    );
    git(&clone, &["add", "-f", ".dvc/config.local"]);
    let oid = clone.dvc_add_file("moved.txt", "only in the other storage\n");
    clone.commit_all("config.local moves the remote");
    store_elsewhere(&env, &clone, &oid);
    remove_object(&clone.cache_dir(), &oid);
    fs::remove_file(clone.path("moved.txt")).unwrap();
    git(&clone, &["checkout", "-q", "main"]);
    assert!(!clone.path(".dvc/config.local").exists());

    let run = git(&clone, &["checkout", "elsewhere"]);
    run.assert_stderr_contains("did not ask the remote");
    assert!(!clone.path("moved.txt").exists());
    assert!(!clone.cache_object(&oid, false).exists(), "nothing fetched");
}

/// `git merge --squash` on a branch whose config the hooks do not trust: the squash
/// leaves HEAD (and its config) as it was, so it does not fetch through it either.
#[test]
fn a_squash_onto_a_repointed_branch_does_not_fetch_from_it() {
    let env = world();
    let clone = clone_with_hooks(&env, "clone");
    clone.git_dvc(&["pull"]);
    git(&clone, &["checkout", "-q", "-b", "elsewhere"]);
    repoint_remote(&clone);
    clone.commit_all("the remote moves, nothing else");
    git(&clone, &["checkout", "-q", "main"]);
    git(&clone, &["checkout", "-q", "elsewhere"]);
    upstream_changes(&env, "side", "side.txt", "side\n");
    git(&clone, &["fetch", "-q"]);

    let run = git(&clone, &["merge", "--squash", "origin/side"]);
    run.assert_stderr_contains("did not ask the remote");
    assert!(!clone.path("side.txt").exists(), "nothing fetched");
}
