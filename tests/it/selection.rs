//! Which data a push selects: revisions (`--rev` with revisions and ranges,
//! `-a`, `-T`, `-A`), targets (`.dvc` files, output paths, `dvc.yaml:stage`,
//! stage names), `-d/--with-deps`, `-R` and `--glob`. Wherever DVC has the
//! same flag, git-dvc and `dvc push` run with the same arguments into fresh
//! remotes and must write the same files.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

fn obj(content: &str) -> String {
    md5_hex(content.as_bytes())
}

/// main: c1..c4, each with its own `f.txt` (`v1\n`..`v4\n`), annotated tag
/// `t1` on c1; branch `side` from c2 with `side1`, `side2`; a commit only
/// `refs/remotes/origin/gone` reaches (`remote-only`); a dangling commit
/// (`dangling`). The work tree is main, clean.
fn history(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo("repo");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("unused").to_str().unwrap(),
    ]);
    repo.commit_all("remote");
    for i in 1..=4 {
        repo.write("f.txt", format!("v{i}\n"));
        repo.dvc(&["add", "-q", "f.txt"]);
        repo.commit_all(&format!("c{i}"));
    }
    repo.git(&["tag", "-a", "t1", "-m", "tag on c1", "main~3"]);
    repo.git(&["checkout", "-q", "-b", "side", "main~2"]);
    for s in ["side1", "side2"] {
        repo.write("f.txt", format!("{s}\n"));
        repo.dvc(&["add", "-q", "f.txt"]);
        repo.commit_all(s);
    }
    repo.git(&["checkout", "-q", "--detach", "main~3"]);
    repo.write("f.txt", "remote-only\n");
    repo.dvc(&["add", "-q", "f.txt"]);
    repo.commit_all("remote-only");
    repo.git(&["update-ref", "refs/remotes/origin/gone", "HEAD"]);
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.write("f.txt", "dangling\n");
    repo.dvc(&["add", "-q", "f.txt"]);
    repo.commit_all("dangling");
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);
    assert_eq!(repo.read("f.txt"), b"v4\n");
    assert!(repo.git(&["status", "--porcelain"]).is_empty());
    repo
}

/// What plain `dvc push` writes when run at each of `revs` in turn (in a
/// copy of the repository, checked out there).
fn dvc_push_at_revs(repo: &Repo<'_>, label: &str, revs: &[&str]) -> PathBuf {
    let env = repo.env;
    let copy = env.repo_at(env.path(&format!("copies/{label}")));
    copy_dir(&repo.dir, &copy.dir);
    let remote = env.path(&format!("remotes/{label}/dvc-per-rev/r"));
    copy.set_local_remotes(&[("r", &remote)]);
    for rev in revs {
        copy.git(&["checkout", "-q", "--force", rev]);
        copy.dvc(&["push"]);
    }
    remote
}

/// `git-dvc push ARGS` into a fresh remote.
fn git_dvc_push(repo: &Repo<'_>, label: &str, args: &[&str]) -> (PathBuf, Run) {
    let remote = repo.env.path(&format!("remotes/{label}/git-dvc/r"));
    repo.set_local_remotes(&[("r", &remote)]);
    let mut all = vec!["push"];
    all.extend_from_slice(args);
    let run = repo.git_dvc(&all);
    check_remote(&remote, RemoteCheck::Complete);
    (remote, run)
}

/// `--rev` must push exactly the data of the selected commits. Whether the
/// work tree is added as well (DVC's brancher always adds it; `dvc push` has
/// no `--rev`) is left open: either is accepted, nothing else.
#[track_caller]
fn assert_rev_push(repo: &Repo<'_>, label: &str, args: &[&str], commits: &[&str]) {
    let (ours, run) = git_dvc_push(repo, label, args);
    let only = dvc_push_at_revs(repo, &format!("{label}-only"), commits);
    let mut with_wt: Vec<&str> = commits.to_vec();
    with_wt.push("main");
    let with_worktree = dvc_push_at_revs(repo, &format!("{label}-wt"), &with_wt);
    let ours_files = list_files(&ours);
    assert!(
        ours_files == list_files(&only) || ours_files == list_files(&with_worktree),
        "git-dvc push {args:?} must push exactly the data of {commits:?} (optionally plus \
         the work tree's)\n git-dvc wrote: {:?}\n those commits: {:?}\n plus work tree: {:?}",
        ours_files.keys().collect::<Vec<_>>(),
        list_names(&only),
        list_names(&with_worktree),
    );
    assert_eq!(
        parse_pushed_line(run.out()),
        Some(ours_files.len()),
        "{}",
        run.describe()
    );
}

#[test]
fn rev_accepts_revisions_and_ranges() {
    let env = TestEnv::new();
    let repo = history(&env);
    let c = |rev: &str| repo.rev_parse(rev);
    let (c1, c2, c3, c4) = (c("main~3"), c("main~2"), c("main~1"), c("main"));

    assert_rev_push(&repo, "range-last", &["--rev", "main~1..main"], &[&c4]);
    assert_rev_push(
        &repo,
        "range-mid",
        &["--rev", "main~3..main~1"],
        &[&c2, &c3],
    );
    assert_rev_push(&repo, "single", &["--rev", "main~2"], &[&c2]);
    assert_rev_push(
        &repo,
        "two-revs",
        &["--rev", "t1", "--rev", "side"],
        &[&c1, &c("side")],
    );
    assert_rev_push(&repo, "sha", &["--rev", &c3], &[&c3]);
    assert_rev_push(
        &repo,
        "side-range",
        &["--rev", "main..side"],
        &[&c("side~1"), &c("side")],
    );

    // Spelled-out checks on top of the comparisons above.
    let (r, _) = git_dvc_push(&repo, "explicit", &["--rev", "main~3..main~1"]);
    assert!(remote_has(&r, &obj("v2\n"), false) && remote_has(&r, &obj("v3\n"), false));
    assert!(
        !remote_has(&r, &obj("v1\n"), false),
        "main~3 is outside the range"
    );
    assert!(!remote_has(&r, &obj("side1\n"), false));

    // A bad revision is an error.
    repo.try_git_dvc(&["push", "--rev", "no-such-rev"])
        .assert_code(1);
}

#[test]
fn all_branches_tags_and_commits_match_dvc() {
    let env = TestEnv::new();
    let repo = history(&env);
    let a = compare_push_with_dvc(&repo, "a", &["r"], &["-a"]);
    let t = compare_push_with_dvc(&repo, "t", &["r"], &["-T"]);
    let all = compare_push_with_dvc(&repo, "all", &["r"], &["-A"]);
    let has = |c: &PushComparison, s: &str| remote_has(&c.ours[0], &obj(s), false);
    assert!(has(&a, "v4\n") && has(&a, "side2\n") && !has(&a, "side1\n") && !has(&a, "v1\n"));
    assert!(has(&t, "v1\n") && has(&t, "v4\n") && !has(&t, "v2\n"));
    for s in [
        "v1\n",
        "v2\n",
        "v3\n",
        "v4\n",
        "side1\n",
        "side2\n",
        "remote-only\n",
    ] {
        assert!(has(&all, s), "-A must push {s:?}");
    }
    assert!(
        !has(&all, "dangling\n"),
        "unreachable commits are not pushed"
    );
    assert_eq!(all.git_dvc.out(), pushed_line(7));
}

/// The same directory tree under the same `.dvcignore` file in two branches, but that file
/// sits at `p/` in one and at the top in the other: its anchored patterns hide a different
/// DVC file in each (`main` shows only `g`, `two` only `f`). The tree scan shares a
/// subtree's result between revisions only where the ignore files in force, with their
/// places, are the same; `dvc init`'s comment-only `.dvcignore` is no ignore file at all.
#[test]
fn dvcignore_hides_by_where_it_sits_in_each_revision() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("unused").to_str().unwrap(),
    ]);
    repo.write("p/q/f.txt", "f\n");
    repo.write("p/q/g.txt", "g\n");
    repo.dvc(&["add", "-q", "p/q/f.txt", "p/q/g.txt"]);
    repo.commit_all("two outputs");
    let patterns = "/q/f.txt.dvc\n/p/q/g.txt.dvc\n";
    repo.git(&["checkout", "-q", "-b", "two"]);
    repo.write(".dvcignore", patterns);
    repo.commit_all("ignore file at the top: hides p/q/g.txt.dvc");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("p/.dvcignore", patterns);
    repo.commit_all("ignore file in p: hides p/q/f.txt.dvc");
    let a = compare_push_with_dvc(&repo, "a", &["r"], &["-a"]);
    let has = |s: &str| remote_has(&a.ours[0], &obj(s), false);
    assert!(has("f\n") && has("g\n"), "{}", a.git_dvc.describe());
    assert_eq!(a.git_dvc.out(), pushed_line(2));
}

/// Two stages (`prepare` → `train`), a `.dvc` file, a plain output.
fn pipeline_repo(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo("repo");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("unused").to_str().unwrap(),
    ]);
    repo.write("raw/a.txt", "raw a\n");
    repo.write("raw/b.txt", "raw b\n");
    repo.write("other.txt", "other\n");
    repo.dvc(&["add", "-q", "raw", "other.txt"]);
    repo.dvc(&[
        "stage",
        "add",
        "-q",
        "-n",
        "prepare",
        "-d",
        "raw",
        "-o",
        "prepared.txt",
        "cat raw/a.txt raw/b.txt > prepared.txt",
    ]);
    repo.dvc(&[
        "stage",
        "add",
        "-q",
        "-n",
        "train",
        "-d",
        "prepared.txt",
        "-o",
        "model.bin",
        "-m",
        "score.json",
        "(cat prepared.txt; echo trained) > model.bin && echo '{\"s\": 1}' > score.json",
    ]);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("pipeline");
    repo
}

#[test]
fn targets_and_with_deps_match_dvc() {
    let env = TestEnv::new();
    let repo = pipeline_repo(&env);
    let prepared = md5_hex(&repo.read("prepared.txt"));
    let model = md5_hex(&repo.read("model.bin"));
    let score = md5_hex(&repo.read("score.json"));
    let other = obj("other\n");
    let raw_a = obj("raw a\n");

    let c = compare_push_with_dvc(&repo, "dvc-file", &["r"], &["other.txt.dvc"]);
    assert_eq!(list_files(&c.ours[0]).len(), 1);
    assert!(remote_has(&c.ours[0], &other, false));

    let c = compare_push_with_dvc(&repo, "out-path", &["r"], &["raw"]);
    assert_eq!(list_files(&c.ours[0]).len(), 3, "raw: .dir + 2 files");
    assert!(remote_has(&c.ours[0], &raw_a, false));

    let c = compare_push_with_dvc(&repo, "stage", &["r"], &["dvc.yaml:train"]);
    assert!(remote_has(&c.ours[0], &model, false) && remote_has(&c.ours[0], &score, false));
    assert!(
        !remote_has(&c.ours[0], &prepared, false),
        "no deps without -d"
    );
    assert_eq!(list_files(&c.ours[0]).len(), 2);

    let c = compare_push_with_dvc(&repo, "stage-name", &["r"], &["train"]);
    assert_eq!(list_files(&c.ours[0]).len(), 2);

    let c = compare_push_with_dvc(&repo, "with-deps", &["r"], &["-d", "dvc.yaml:train"]);
    assert!(
        remote_has(&c.ours[0], &prepared, false),
        "-d adds the upstream stage"
    );
    assert!(remote_has(&c.ours[0], &model, false));
    let c2 = compare_push_with_dvc(&repo, "with-deps-long", &["r"], &["--with-deps", "train"]);
    assert_same_files("-d and --with-deps", &c.ours[0], &c2.ours[0]);

    let c = compare_push_with_dvc(&repo, "dvc-yaml", &["r"], &["dvc.yaml"]);
    assert!(remote_has(&c.ours[0], &prepared, false) && remote_has(&c.ours[0], &model, false));
    assert!(!remote_has(&c.ours[0], &other, false));

    let c = compare_push_with_dvc(
        &repo,
        "two-targets",
        &["r"],
        &["other.txt", "dvc.yaml:prepare"],
    );
    assert_eq!(list_files(&c.ours[0]).len(), 2);
}

#[test]
fn recursive_directory_target_matches_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("unused").to_str().unwrap(),
    ]);
    repo.write("sub/x.txt", "x\n");
    repo.write("sub/deep/y.txt", "y\n");
    repo.write("sub/deep/dir/z.txt", "z\n");
    repo.write("outside.txt", "outside\n");
    repo.dvc(&[
        "add",
        "-q",
        "sub/x.txt",
        "sub/deep/y.txt",
        "sub/deep/dir",
        "outside.txt",
    ]);
    repo.commit_all("files");

    let c = compare_push_with_dvc(&repo, "recursive", &["r"], &["-R", "sub"]);
    for s in ["x\n", "y\n", "z\n"] {
        assert!(
            remote_has(&c.ours[0], &obj(s), false),
            "-R sub must push {s:?}"
        );
    }
    assert!(!remote_has(&c.ours[0], &obj("outside\n"), false));
    c.git_dvc.assert_stdout_is(&pushed_line(4));
    let c = compare_push_with_dvc(
        &repo,
        "recursive-deep",
        &["r"],
        &["--recursive", "sub/deep"],
    );
    assert!(!remote_has(&c.ours[0], &obj("x\n"), false));
}

#[test]
fn glob_targets_match_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.dvc(&[
        "remote",
        "add",
        "-d",
        "r",
        env.path("unused").to_str().unwrap(),
    ]);
    for name in ["g1.txt", "g2.txt", "h1.txt"] {
        repo.write(name, format!("{name}\n"));
    }
    repo.write("nested/g3.txt", "nested/g3.txt\n");
    repo.dvc(&["add", "-q", "g1.txt", "g2.txt", "h1.txt", "nested/g3.txt"]);
    repo.commit_all("files");

    let c = compare_push_with_dvc(&repo, "glob", &["r"], &["--glob", "g*.dvc"]);
    assert!(remote_has(&c.ours[0], &obj("g1.txt\n"), false));
    assert!(remote_has(&c.ours[0], &obj("g2.txt\n"), false));
    assert!(!remote_has(&c.ours[0], &obj("h1.txt\n"), false));
    assert!(!remote_has(&c.ours[0], &obj("nested/g3.txt\n"), false));
    let c = compare_push_with_dvc(&repo, "glob-rec", &["r"], &["--glob", "**/g*.txt"]);
    assert!(remote_has(&c.ours[0], &obj("nested/g3.txt\n"), false));

    // No match: an error, as in DVC.
    let remote = env.path("remotes/nomatch");
    repo.set_local_remotes(&[("r", &remote)]);
    let ours = repo.try_git_dvc(&["push", "--glob", "nothing*.dvc"]);
    let dvc = repo.try_dvc(&["push", "--glob", "nothing*.dvc"]);
    assert!(!dvc.success());
    assert_eq!(
        ours.code(),
        dvc.code(),
        "{}\n{}",
        ours.describe(),
        dvc.describe()
    );
    dvc.assert_stderr_contains("has no matches");
    ours.assert_stderr_contains("has no matches");
}

/// A target inside a tracked directory. DVC 3.67.1 uploads the `.dir` with
/// only that member (a known DVC bug that later hides the other members);
/// git-dvc must never leave a `.dir` on the remote without all its members.
#[test]
fn granular_target_never_uploads_a_dir_without_its_members() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote: &Path = &env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("d/one", "one\n");
    repo.write("d/sub/two", "two\n");
    repo.dvc(&["add", "-q", "d"]);
    repo.commit_all("d");
    let run = repo.try_git_dvc(&["push", "d/sub/two"]);
    run.assert_success();
    check_remote(remote, RemoteCheck::Complete);
    assert!(
        remote_has(remote, &obj("two\n"), false),
        "{}",
        run.describe()
    );
    repo.git_dvc(&["push", "d.dvc"]);
    let objects = check_remote(remote, RemoteCheck::Complete);
    assert_eq!(objects.len(), 3, "{objects:?}");
}

/// `d/` (files `1`, `2`), `grid/` (`a-1/out.txt`, `a-2/out.txt`, `b-1/out.txt`), `e.txt`
/// tracked, `README.md` in git only; branch `old` where `d` holds `1` and `3`.
fn directories_repo(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo_with_remote("repo");
    repo.write("d/1", "one\n");
    repo.write("d/2", "two\n");
    for cell in ["a-1", "a-2", "b-1"] {
        repo.write(&format!("grid/{cell}/out.txt"), format!("{cell}\n"));
    }
    repo.write("e.txt", "e\n");
    repo.write("README.md", "readme\n");
    repo.dvc(&["add", "-q", "d", "grid", "e.txt"]);
    repo.commit_all("directories");
    repo.git(&["checkout", "-q", "-b", "old"]);
    fs::remove_file(repo.path("d/2")).unwrap();
    repo.write("d/3", "three\n");
    repo.dvc(&["add", "-q", "d"]);
    repo.commit_all("old d");
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);
    assert!(!repo.path("d/3").exists());
    repo
}

/// `push ARGS` run in `dir` by git-dvc and by DVC, each into a fresh remote `r`.
fn push_both(repo: &Repo<'_>, dir: &Path, label: &str, args: &[&str]) -> [(PathBuf, Run); 2] {
    let env = repo.env;
    let mut all = vec!["push"];
    all.extend_from_slice(args);
    let ours = env.path(&format!("remotes/{label}/git-dvc"));
    repo.set_local_remotes(&[("r", &ours)]);
    let our_run = env.try_git_dvc(dir, &all);
    let theirs = env.path(&format!("remotes/{label}/dvc"));
    repo.set_local_remotes(&[("r", &theirs)]);
    let their_run = env.try_dvc(dir, &all);
    [(ours, our_run), (theirs, their_run)]
}

/// `--glob` patterns that reach into tracked directories (issue 15 item 2). DVC expands
/// them against the work tree with Python's glob and pushes the outputs holding the
/// matches; where the matches are the whole directory, git-dvc writes exactly what DVC
/// writes. Where they are part of it, git-dvc pushes the whole directory (DVC uploads the
/// `.dir` with the matched members only).
#[test]
fn glob_into_a_tracked_directory_selects_that_directory() {
    let env = TestEnv::new();
    let repo = directories_repo(&env);
    let d = [obj("one\n"), obj("two\n")];

    for (label, args) in [
        ("members", &["--glob", "d/*"][..]),
        ("recursive", &["--glob", "d/**"][..]),
        ("one-pattern-matches", &["--glob", "nomatch*", "d/*"][..]),
        ("member-and-directory", &["--glob", "d/1", "d"][..]),
    ] {
        let c = compare_push_with_dvc(&repo, label, &["r"], args);
        assert_eq!(c.our_file_count(), 3, "{label}: {}", c.git_dvc.describe());
        assert!(
            d.iter().all(|m| remote_has(&c.ours[0], m, false)),
            "{label}"
        );
    }

    // Part of `grid`, from the top and from inside it: all of `grid` (DVC: 2 of 3 members).
    for (label, dir, pattern) in [
        ("part", repo.dir.clone(), "grid/a-*/out.txt"),
        ("part-in-subdir", repo.path("grid"), "a-*"),
    ] {
        let [(ours, our_run), (theirs, their_run)] =
            push_both(&repo, &dir, label, &["--glob", pattern]);
        our_run.assert_success().assert_stdout_is(&pushed_line(4));
        their_run.assert_success().assert_stdout_is(&pushed_line(3));
        assert!(remote_has(&ours, &obj("b-1\n"), false), "{label}");
        check_remote(&ours, RemoteCheck::Complete);
        let (ours, theirs) = (list_files(&ours), list_files(&theirs));
        assert!(
            theirs.iter().all(|(k, v)| ours.get(k) == Some(v)),
            "{label}"
        );
    }

    // No pattern matches: DVC's error, word for word, and nothing uploaded.
    let [(ours, our_run), (_, their_run)] =
        push_both(&repo, &repo.dir, "none", &["--glob", "nomatch*", "zz*"]);
    for run in [&our_run, &their_run] {
        run.assert_code(1).assert_stderr_contains(
            "ERROR: failed to push data to the cloud - Glob ['nomatch*', 'zz*'] has no matches.",
        );
    }
    // ... and nothing else (no `failed to collect` warning: DVC globs before collecting).
    assert_eq!(our_run.stderr, their_run.stderr, "{}", our_run.describe());
    assert!(!ours.exists());
    // A match that is no output is a target that does not exist, as in DVC.
    let [(ours, our_run), (_, their_run)] =
        push_both(&repo, &repo.dir, "readme", &["--glob", "*.md"]);
    for run in [&our_run, &their_run] {
        run.assert_code(1)
            .assert_stderr_contains("'README.md' does not exist as an output or a stage name");
    }
    assert!(!ours.exists());
}

/// For committed revisions git-dvc expands `--glob` against what each revision tracks,
/// `.dir` members included; DVC expands against the work tree only, so it misses `d/3`,
/// which only branch `old` has.
#[test]
fn glob_in_other_revisions_sees_what_they_track() {
    let env = TestEnv::new();
    let repo = directories_repo(&env);
    let three = obj("three\n");

    // `old`'s `d` holds `3`; main's does not, and is not selected.
    let [(ours, our_run), (_, their_run)] =
        push_both(&repo, &repo.dir, "only-old", &["-a", "--glob", "d/3"]);
    our_run.assert_success().assert_stdout_is(&pushed_line(3));
    assert!(remote_has(&ours, &three, false) && !remote_has(&ours, &obj("two\n"), false));
    check_remote(&ours, RemoteCheck::Complete);
    their_run
        .assert_code(1)
        .assert_stderr_contains("Glob ['d/3'] has no matches.");

    // `d/*` in both revisions: DVC leaves out `old`'s `3`; git-dvc pushes both directories.
    let [(ours, our_run), (theirs, their_run)] =
        push_both(&repo, &repo.dir, "both", &["-a", "--glob", "d/*"]);
    our_run.assert_success().assert_stdout_is(&pushed_line(5));
    their_run.assert_success();
    let (our_files, their_files) = (list_files(&ours), list_files(&theirs));
    assert!(their_files.iter().all(|(k, v)| our_files.get(k) == Some(v)));
    assert!(remote_has(&ours, &three, false));
    check_remote(&ours, RemoteCheck::Complete);
}
