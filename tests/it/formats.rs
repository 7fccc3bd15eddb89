//! Each kind of DVC-tracked data, made by real DVC, pushed by git-dvc and by
//! `dvc push` into separate fresh remotes: the remotes must be identical, and
//! what git-dvc pushed must come back with real `dvc pull`.

use crate::common;

use common::fixtures::*;
use common::*;

#[test]
fn single_files_text_binary_and_empty() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    repo.write("text.txt", "hello\n");
    repo.write("binary.bin", pseudo_random_bytes(1, 100_000));
    repo.write("empty.txt", "");
    repo.write("nested/dir/deep.txt", "deep\n");
    repo.dvc(&[
        "add",
        "-q",
        "text.txt",
        "binary.bin",
        "empty.txt",
        "nested/dir/deep.txt",
    ]);
    repo.commit_all("files");
    let expected = snapshot(
        &repo,
        &["text.txt", "binary.bin", "empty.txt", "nested/dir/deep.txt"],
    );

    let cmp = compare_push_with_dvc(&repo, "default", &["r"], &[]);
    cmp.git_dvc.assert_stdout_is(&pushed_line(4));
    for f in ["text.txt", "binary.bin", "empty.txt", "nested/dir/deep.txt"] {
        let oid = file_md5(&repo, f);
        assert!(
            remote_has(&cmp.ours[0], &oid, false),
            "{f} ({oid}) not pushed"
        );
    }

    // Idempotent: the second run has nothing to do.
    use_remotes(&repo, &["r"], &cmp.ours);
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(0));

    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &cmp.ours[0])],
        &[],
        "main",
        &expected,
    );
}

#[test]
fn crlf_text_file_is_pushed_byte_for_byte() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    let crlf: &[u8] = b"hello\r\nworld\r\n";
    repo.write("crlf.txt", crlf);
    repo.dvc(&["add", "-q", "crlf.txt"]);
    repo.commit_all("crlf");
    // DVC 3 hashes raw bytes (no dos2unix): the reference's verified value.
    assert_eq!(
        dvc_file_md5(&repo, "crlf.txt.dvc"),
        "7ac062d8a84466e70d9b899c0821a51c"
    );

    let cmp = compare_push_with_dvc(&repo, "default", &["r"], &[]);
    cmp.git_dvc.assert_stdout_is(&pushed_line(1));
    let obj = cmp.ours[0].join(object_rel_path("7ac062d8a84466e70d9b899c0821a51c", false));
    assert_eq!(
        std::fs::read(&obj).unwrap(),
        crlf,
        "CRLF bytes changed on the way"
    );

    let mut expected = std::collections::BTreeMap::new();
    expected.insert("crlf.txt".to_string(), crlf.to_vec());
    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &cmp.ours[0])],
        &[],
        "main",
        &expected,
    );
}

#[test]
fn nested_unicode_directory_with_empty_files() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    write_unicode_tree(&repo, "data", 0);
    repo.dvc(&["add", "-q", "data"]);
    repo.commit_all("data");
    let expected = snapshot(&repo, &["data"]);

    let cmp = compare_push_with_dvc(&repo, "default", &["r"], &[]);
    // 8 files (two of them empty: same object) + the .dir.
    let objects = check_remote(&cmp.ours[0], RemoteCheck::Complete);
    let dirs: Vec<_> = objects.iter().filter(|o| o.is_dir()).collect();
    assert_eq!(dirs.len(), 1, "one .dir expected: {objects:?}");
    assert_eq!(dirs[0].oid, dvc_file_md5(&repo, "data.dvc"));
    let manifest = std::fs::read(cmp.ours[0].join(object_rel_path(&dirs[0].oid, false))).unwrap();
    let text = String::from_utf8(manifest).unwrap();
    assert!(
        text.contains(r"\ud83d\ude00 smile.txt"),
        "emoji must be a surrogate pair: {text}"
    );
    assert_eq!(
        objects.len(),
        7 + 1,
        "7 distinct file objects + .dir: {objects:?}"
    );
    cmp.git_dvc.assert_stdout_is(&pushed_line(8));

    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &cmp.ours[0])],
        &[],
        "main",
        &expected,
    );
}

#[test]
fn pipeline_outs_metrics_plots_and_output_flags() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let unused_r = env.path("committed-r");
    let unused_r2 = env.path("committed-r2");
    repo.dvc(&["remote", "add", "-d", "r", unused_r.to_str().unwrap()]);
    repo.dvc(&["remote", "add", SECOND_REMOTE, unused_r2.to_str().unwrap()]);
    add_pipeline(&repo);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("pipeline");
    let expected = snapshot(&repo, PIPELINE_OUTPUTS);

    let cmp = compare_push_with_dvc(&repo, "default", &["r", SECOND_REMOTE], &[]);
    let (r, r2) = (&cmp.ours[0], &cmp.ours[1]);
    let md5 = |f: &str| file_md5(&repo, f);
    // Cached outs, metrics and plots go to the default remote...
    for f in [
        "metrics.json",
        "plot.csv",
        "f_x.txt",
        "f_y.txt",
        "m_1_p.txt",
        "m_2_p.txt",
    ] {
        assert!(
            remote_has(r, &md5(f), false),
            "{f} missing from the default remote"
        );
    }
    assert!(remote_has(r, &md5("out/o1.txt"), false));
    // ... `remote: r2` goes to r2 only, and cache: false / push: false nowhere.
    assert!(
        remote_has(r2, &md5("other.txt"), false),
        "other.txt not in r2"
    );
    assert!(
        !remote_has(r, &md5("other.txt"), false),
        "other.txt in the default remote"
    );
    assert_eq!(list_files(r2).len(), 1, "r2 holds only other.txt");
    for f in ["nocache.txt", "nopush.txt"] {
        assert!(!remote_has(r, &md5(f), false), "{f} must not be pushed");
        assert!(!remote_has(r2, &md5(f), false), "{f} must not be pushed");
    }
    // out (.dir + 2) + metrics + plot + 2 foreach + 2 matrix = 9, + other.txt.
    cmp.git_dvc.assert_stdout_is(&pushed_line(10));
    assert!(
        !unused_r.exists() && !unused_r2.exists(),
        "config.local must override the urls"
    );

    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", r), (SECOND_REMOTE, r2)],
        &[&md5_hex(NOPUSH_BYTES)],
        "main",
        &expected,
    );
}

#[test]
fn foreach_and_matrix_stages_only() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    repo.write(
        "dvc.yaml",
        r#"stages:
  gen:
    foreach:
      alpha: 1
      beta: 2
    do:
      cmd: printf '${key}=${item}\n' > each_${key}.txt
      outs:
      - each_${key}.txt
  grid:
    matrix:
      a: [u, v]
      b: [1, 2]
    cmd: mkdir -p grid/${item.a} && printf '${item.a}${item.b}\n' > grid/${item.a}/${item.b}.txt
    outs:
    - grid/${item.a}/${item.b}.txt
"#,
    );
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("foreach");
    let lock = String::from_utf8(repo.read("dvc.lock")).unwrap();
    assert!(
        lock.contains("gen@alpha:") && lock.contains("grid@u-1:"),
        "{lock}"
    );
    let cmp = compare_push_with_dvc(&repo, "default", &["r"], &[]);
    cmp.git_dvc.assert_stdout_is(&pushed_line(6));
    // Targets naming a generated stage.
    let one = compare_push_with_dvc(&repo, "one-stage", &["r"], &["gen@beta"]);
    one.git_dvc.assert_stdout_is(&pushed_line(1));
    assert!(remote_has(
        &one.ours[0],
        &file_md5(&repo, "each_beta.txt"),
        false
    ));
}

#[test]
fn dvc2_legacy_files_use_the_legacy_layout() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    add_legacy_outputs(&repo);
    repo.commit_all("legacy");
    let expected = snapshot(&repo, LEGACY_OUTPUTS);

    // The .dvc file carries DVC 2's dos2unix md5, not the raw one.
    let legacy_md5 = dvc_file_md5(&repo, "legacy.txt.dvc");
    assert_eq!(legacy_md5, md5_hex(b"legacy\ntext\n"));

    let cmp = compare_push_with_dvc(&repo, "default", &["r"], &[]);
    let objects = check_remote(&cmp.ours[0], RemoteCheck::Complete);
    assert!(
        objects.iter().all(|o| o.legacy),
        "legacy outputs go to the remote root, not files/md5: {objects:?}"
    );
    assert!(remote_has(&cmp.ours[0], &legacy_md5, true));
    // The object keeps the original CRLF bytes.
    assert_eq!(
        std::fs::read(cmp.ours[0].join(object_rel_path(&legacy_md5, true))).unwrap(),
        b"legacy\r\ntext\r\n"
    );
    // legacy.txt + legacy_dir (.dir + 2 members).
    cmp.git_dvc.assert_stdout_is(&pushed_line(4));

    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &cmp.ours[0])],
        &[],
        "main",
        &expected,
    );
}

#[test]
fn legacy_and_current_outputs_side_by_side() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    add_legacy_outputs(&repo);
    repo.write("new.txt", "same\r\ncontent\r\n");
    repo.dvc(&["add", "-q", "new.txt"]);
    repo.commit_all("mixed");
    let cmp = compare_push_with_dvc(&repo, "default", &["r"], &[]);
    let objects = check_remote(&cmp.ours[0], RemoteCheck::Complete);
    assert!(objects.iter().any(|o| o.legacy));
    assert!(objects.iter().any(|o| !o.legacy));
    cmp.git_dvc.assert_stdout_is(&pushed_line(5));
}
