//! The key equivalence test: a repository with every kind of data, made by
//! real DVC 3.67.1 (and DVC 2.58.2 for a legacy file), with branches,
//! lightweight and annotated tags holding different data. `git dvc push -a -T`
//! must write exactly what `dvc push -a -T` writes (same names, same bytes,
//! per remote), and real `dvc pull` in a fresh clone must restore every
//! revision's data from what git-dvc pushed.
//!
//! Apples to apples: both pushers run in the same repository with the same
//! arguments; before each, `.dvc/config.local` points the default remote `r`
//! and the second remote `r2` (used by the `remote: r2` output) at fresh
//! directories. The committed `.dvc/config` points them at directories that
//! must stay untouched.
//!
//! The repository is built once per test binary (it takes a while) into a
//! fixed directory under cargo's target tmp dir, and each test works on its
//! own copy.

use crate::common;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use common::fixtures::*;
use common::*;

/// Every work-tree path DVC tracks in the rich repository.
fn tracked_paths() -> Vec<&'static str> {
    let mut v = vec!["single.bin", "crlf.txt", "data"];
    v.extend_from_slice(LEGACY_OUTPUTS);
    v.extend_from_slice(PIPELINE_OUTPUTS);
    v
}

pub(crate) struct Rich {
    /// Keeps the fixed env (HOME etc.) alive; never removed by the test.
    _env: TestEnv,
    pub(crate) repo: PathBuf,
    /// ref name → what `dvc pull` must restore there.
    pub(crate) expected: BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>,
    /// Remote directories named by the committed `.dvc/config`.
    committed_remotes: Vec<PathBuf>,
}

pub(crate) const REFS: &[&str] = &["v1", "v2", "feature", "main", "detached-tag"];

pub(crate) fn rich() -> &'static Rich {
    static RICH: OnceLock<Rich> = OnceLock::new();
    RICH.get_or_init(build_rich)
}

fn build_rich() -> Rich {
    let env = TestEnv::fixed("rich-fixture");
    let committed_r = env.path("committed-remotes/r");
    let committed_r2 = env.path("committed-remotes/r2");
    let repo = env.dvc_repo("repo");
    repo.dvc(&["remote", "add", "-d", "r", committed_r.to_str().unwrap()]);
    repo.dvc(&[
        "remote",
        "add",
        SECOND_REMOTE,
        committed_r2.to_str().unwrap(),
    ]);
    repo.commit_all("remotes");

    // c1 (main, lightweight tag v1): everything.
    add_legacy_outputs(&repo);
    repo.write("single.bin", pseudo_random_bytes(1, 20_000));
    repo.write("crlf.txt", "hello\r\nworld\r\n");
    write_unicode_tree(&repo, "data", 0);
    repo.dvc(&["add", "-q", "single.bin", "crlf.txt", "data"]);
    add_pipeline(&repo);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("c1");
    repo.git(&["tag", "v1"]);
    let mut expected = BTreeMap::new();
    expected.insert("v1", snapshot(&repo, &tracked_paths()));

    // c2 (feature, annotated tag v2): other data, other pipeline results.
    repo.git(&["checkout", "-q", "-b", "feature"]);
    write_unicode_tree(&repo, "data", 2);
    repo.write("crlf.txt", "feature\r\nline\r\n");
    repo.dvc(&["add", "-q", "data", "crlf.txt"]);
    set_pipeline_version(&repo, 2);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("c2");
    repo.git(&["tag", "-a", "v2", "-m", "release 2"]);
    expected.insert("v2", snapshot(&repo, &tracked_paths()));

    // c3 (feature tip).
    repo.write("single.bin", pseudo_random_bytes(3, 20_000));
    repo.dvc(&["add", "-q", "single.bin"]);
    repo.commit_all("c3");
    expected.insert("feature", snapshot(&repo, &tracked_paths()));

    // c4 (main tip).
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);
    write_unicode_tree(&repo, "data", 4);
    set_pipeline_version(&repo, 4);
    repo.dvc(&["add", "-q", "data"]);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("c4");
    expected.insert("main", snapshot(&repo, &tracked_paths()));

    // c5: reachable only from an annotated tag.
    repo.git(&["checkout", "-q", "--detach"]);
    repo.write("single.bin", pseudo_random_bytes(5, 20_000));
    repo.dvc(&["add", "-q", "single.bin"]);
    repo.commit_all("c5");
    repo.git(&["tag", "-a", "detached-tag", "-m", "only a tag"]);
    expected.insert("detached-tag", snapshot(&repo, &tracked_paths()));
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);
    assert_workspace(&repo.dir, &expected["main"]);
    let status = repo.git(&["status", "--porcelain"]);
    assert!(status.is_empty(), "work tree not clean:\n{status}");

    Rich {
        repo: repo.dir.clone(),
        expected,
        committed_remotes: vec![committed_r, committed_r2],
        _env: env,
    }
}

/// A private copy of the rich repository inside `env`.
pub(crate) fn copy_rich(env: &TestEnv) -> Repo<'_> {
    let rich = rich();
    let dir = env.path("repo");
    copy_dir(&rich.repo, &dir);
    env.repo_at(dir)
}

#[track_caller]
fn assert_committed_remotes_untouched() {
    for d in &rich().committed_remotes {
        assert!(
            !d.exists(),
            "{} was written: .dvc/config.local must override the committed url",
            d.display()
        );
    }
}

pub(crate) const REMOTES: &[&str] = &["r", SECOND_REMOTE];

#[test]
fn all_branches_and_tags_match_dvc_and_pull_back() {
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let cmp = compare_push_with_dvc(&repo, "all-branches-tags", REMOTES, &["-a", "-T"]);
    let (r, r2) = (&cmp.ours[0], &cmp.ours[1]);
    assert_committed_remotes_untouched();

    // The summary counts every object written.
    assert_eq!(
        parse_pushed_line(cmp.git_dvc.out()),
        Some(cmp.our_file_count()),
        "summary must count the objects written\n{}",
        cmp.git_dvc.describe()
    );

    // Both layouts are present; push: false and cache: false are not.
    let objects = check_remote(r, RemoteCheck::Complete);
    assert!(
        objects.iter().any(|o| o.legacy),
        "no legacy objects: {objects:?}"
    );
    assert!(objects.iter().filter(|o| o.is_dir()).count() >= 4);
    assert!(!remote_has(r, &md5_hex(NOPUSH_BYTES), false));
    for v in [1, 2, 4] {
        let nocache = md5_hex(format!("nocache {v}\n").as_bytes());
        assert!(
            !remote_has(r, &nocache, false),
            "cache: false output pushed"
        );
        let other = md5_hex(format!("other {v}\n").as_bytes());
        assert!(
            remote_has(r2, &other, false),
            "other.txt of version {v} not in r2"
        );
        assert!(
            !remote_has(r, &other, false),
            "other.txt of version {v} in r"
        );
    }
    // Data only an annotated tag reaches.
    let tag_only = md5_hex(&pseudo_random_bytes(5, 20_000));
    assert!(
        remote_has(r, &tag_only, false),
        "data of detached-tag not pushed"
    );

    // Idempotent.
    use_remotes(&repo, REMOTES, &cmp.ours);
    repo.git_dvc(&["push", "-a", "-T"])
        .assert_stdout_is(&pushed_line(0));
    assert_same_files("after a second run", r, &cmp.theirs[0]);

    // Real dvc pull restores every revision from git-dvc's remotes.
    let clone = clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", r), (SECOND_REMOTE, r2)],
        &[&md5_hex(NOPUSH_BYTES)],
        "main",
        &rich().expected["main"],
    );
    for rev in REFS {
        pull_rev(&clone, rev, &rich().expected[rev]);
    }
}

#[test]
fn uncommitted_dvc_change_is_pushed_like_dvc() {
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let dirty = pseudo_random_bytes(6, 20_000);
    repo.write("single.bin", &dirty);
    repo.write("data/added-in-worktree.txt", "uncommitted\n");
    repo.dvc(&["add", "-q", "single.bin", "data"]);
    let st = repo.git(&["status", "--porcelain"]);
    assert!(
        st.contains("single.bin.dvc") && st.contains("data.dvc"),
        "{st}"
    );
    let dirty_oid = md5_hex(&dirty);
    let member_oid = md5_hex(b"uncommitted\n");

    // Default mode: the work tree's .dvc files, as dvc push.
    let cmp = compare_push_with_dvc(&repo, "default", REMOTES, &[]);
    assert!(
        remote_has(&cmp.ours[0], &dirty_oid, false),
        "uncommitted single.bin not pushed"
    );
    assert!(
        remote_has(&cmp.ours[0], &member_oid, false),
        "uncommitted dir member not pushed"
    );
    // main's committed single.bin is not the work tree's: not pushed.
    let committed = md5_hex(&pseudo_random_bytes(1, 20_000));
    assert!(!remote_has(&cmp.ours[0], &committed, false));

    // With -a -T DVC also pushes the work tree (first); so must git-dvc.
    let cmp = compare_push_with_dvc(&repo, "all-dirty", REMOTES, &["-a", "-T"]);
    assert!(remote_has(&cmp.ours[0], &dirty_oid, false));
    assert_committed_remotes_untouched();

    // A fresh clone of the committed state still pulls.
    let clone = env.clone_repo(&repo.dir, "clone");
    clone.set_local_remotes(&[("r", &cmp.ours[0]), (SECOND_REMOTE, &cmp.ours[1])]);
    let seed = object_rel_path(&md5_hex(NOPUSH_BYTES), false);
    write_file(&clone.cache_dir().join(&seed), NOPUSH_BYTES);
    pull_rev(&clone, "v2", &rich().expected["v2"]);
}

#[test]
fn remote_flag_redirects_and_filters_per_output_remotes_like_dvc() {
    let env = TestEnv::new();
    let repo = copy_rich(&env);

    // -r r2: outputs without `remote:` go to r2 as well as `remote: r2` ones.
    let cmp = compare_push_with_dvc(&repo, "to-r2", REMOTES, &["-a", "-T", "-r", SECOND_REMOTE]);
    assert!(
        list_files(&cmp.ours[0]).is_empty(),
        "nothing may go to r with -r r2"
    );
    assert!(remote_has(&cmp.ours[1], &md5_hex(b"other 4\n"), false));
    assert!(
        remote_has(&cmp.ours[1], &md5_hex(b"hello\r\nworld\r\n"), false),
        "default-remote outputs must follow -r"
    );

    // -r r: `remote: r2` outputs are skipped, not sent to r.
    let cmp = compare_push_with_dvc(&repo, "to-r", REMOTES, &["-a", "-T", "-r", "r"]);
    assert!(
        list_files(&cmp.ours[1]).is_empty(),
        "nothing may go to r2 with -r r"
    );
    assert!(!remote_has(&cmp.ours[0], &md5_hex(b"other 4\n"), false));

    // The same in default (work tree) mode.
    compare_push_with_dvc(&repo, "to-r2-default", REMOTES, &["-r", SECOND_REMOTE]);
    assert_committed_remotes_untouched();
}

#[test]
fn each_revision_selection_matches_dvc() {
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let a = compare_push_with_dvc(&repo, "branches", REMOTES, &["-a"]);
    let t = compare_push_with_dvc(&repo, "tags", REMOTES, &["--all-tags"]);
    let all = compare_push_with_dvc(&repo, "all-commits", REMOTES, &["-A"]);
    let tag_only = md5_hex(&pseudo_random_bytes(5, 20_000));
    assert!(
        !remote_has(&a.ours[0], &tag_only, false),
        "-a must not push tag-only data"
    );
    assert!(remote_has(&t.ours[0], &tag_only, false));
    assert!(remote_has(&all.ours[0], &tag_only, false));
    // c2's single.bin is c1's; c3's is only on feature's tip.
    let feature_tip = md5_hex(&pseudo_random_bytes(3, 20_000));
    assert!(remote_has(&a.ours[0], &feature_tip, false));
    assert!(
        !remote_has(&t.ours[0], &feature_tip, false),
        "no tag points at c3"
    );
}
