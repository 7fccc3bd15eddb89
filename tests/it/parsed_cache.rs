//! The `.dvc` parses kept between runs (`$GIT_DIR/dvc/parsed-dvc-files`): a run that meets
//! 512 or more distinct `.dvc` blobs keeps them, the next reuses them, and neither a new
//! version of a file nor a damaged or stale cache file changes what is pushed or reported.

use crate::common;

use std::fs;

use common::*;

const FILES: usize = 520;

#[test]
fn kept_parses_give_the_same_answers_as_parsing() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = env.dvc_repo_with_remote("repo");
    repo.set_local_remotes(&[("r", &remote)]);
    let names: Vec<String> = (0..FILES).map(|i| format!("f{i:03}.txt")).collect();
    for (i, name) in names.iter().enumerate() {
        repo.write(name, format!("content {i}\n"));
    }
    let mut args = vec!["add"];
    args.extend(names.iter().map(String::as_str));
    repo.git_dvc(&args);
    repo.commit_all("many .dvc files");
    let kept = repo.dir.join(".git/dvc/parsed-dvc-files");

    repo.git_dvc(&["push", "-a", "-T"])
        .assert_stdout_is(&format!("{FILES} files pushed"));
    assert!(kept.is_file(), "the parses were kept");

    // One object gone from the remote: the run that reuses every parse finds it.
    let gone = remote.join(object_rel_path(&md5_hex(b"content 7\n"), false));
    fs::remove_file(&gone).unwrap();
    let status = repo.try_git_dvc(&["status", "-c", "-a", "-T"]);
    assert!(status.stdout.contains("f007.txt"), "{}", status.describe());
    repo.git_dvc(&["push", "-a", "-T"])
        .assert_stdout_is("1 file pushed");
    assert!(gone.is_file());

    // A new version of one file is a new blob: parsed, pushed, kept beside the old one.
    repo.write("f001.txt", "changed\n");
    repo.git_dvc(&["add", "f001.txt"]);
    repo.commit_all("one file changes");
    repo.git_dvc(&["push", "-a", "-T"])
        .assert_stdout_is("1 file pushed");

    // A damaged cache, or one from another binary, is ignored and replaced.
    for damage in [&b"garbage"[..], b"git-dvc parsed-dvc-files 1 0.0.0 x 1\n[]"] {
        fs::write(&kept, damage).unwrap();
        let gone = remote.join(object_rel_path(&md5_hex(b"content 9\n"), false));
        fs::remove_file(&gone).unwrap();
        repo.git_dvc(&["push", "-a", "-T"])
            .assert_stdout_is("1 file pushed");
        assert!(fs::read(&kept)
            .unwrap()
            .starts_with(b"git-dvc parsed-dvc-files 1 "));
        assert_ne!(fs::read(&kept).unwrap(), damage);
    }
}
