//! `dvc init --subdir` projects: the DVC project is a directory of the git repository, not
//! its top. Commands run inside it work on it, as DVC's do; the hook, which git runs at the
//! top, finds it through git config `dvc.projectDir`, which `git dvc install` sets; the
//! server check through the same setting in the bare repository.

use crate::common;

use std::fs;

use common::*;

#[test]
fn a_subdir_project_pushes_like_dvc_and_through_the_hook() {
    let env = TestEnv::new();
    let top = env.git_repo("mono");
    top.write("README", "not DVC\n");
    let proj = env.repo_at(top.path("ml/proj"));
    fs::create_dir_all(&proj.dir).unwrap();
    proj.dvc(&["init", "-q", "--subdir"]);
    let remote = env.path("remote");
    proj.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    proj.write("data/a.txt", "a\n");
    proj.write("data/b.txt", "b\n");
    proj.write("model.bin", "weights\n");
    proj.dvc(&["add", "-q", "data", "model.bin"]);
    top.commit_all("project");

    // From inside: the project's data (2 members, the .dir, model.bin), as `dvc push`.
    proj.git_dvc(&["status", "-c"])
        .assert_stdout_contains_all(&["new:", "model.bin"]);
    fs::create_dir_all(proj.path("data/sub")).unwrap();
    let sub = env.repo_at(proj.path("data/sub"));
    sub.git_dvc(&["push"]).assert_stdout_is(&pushed_line(4));
    proj.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line("r"));
    let ours = env.path("ours");
    fs::rename(&remote, &ours).unwrap();
    proj.dvc(&["push", "-q"]);
    assert_same_files("project remote (A = git-dvc, B = dvc)", &ours, &remote);

    // At the top there is no project: DVC's error and exit code.
    let outside = top.try_git_dvc(&["push"]);
    let dvc = top.try_dvc(&["push"]);
    dvc.assert_code(253);
    outside.assert_code(253);
    outside.assert_stderr_contains("you are not inside of a DVC repository");

    // The hook, installed from inside, covers the project on `git push` from the top.
    let server = env.bare_repo("server.git");
    top.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    let install = proj.git_dvc(&["install"]);
    assert!(
        install.stdout.contains("ml/proj/"),
        "{}",
        install.describe()
    );
    assert_eq!(top.git(&["config", "dvc.projectDir"]).trim(), "ml/proj");
    proj.write("model.bin", "weights v2\n");
    proj.dvc(&["add", "-q", "model.bin"]);
    top.commit_all("model v2");
    let push = top.try_git(&["push", "origin", "main"]);
    push.assert_success();
    push.assert_stderr_contains("1 file pushed to DVC remote 'r'");
    assert!(remote_has(&remote, &md5_hex(b"weights v2\n"), false));

    // The server check reads the same project when told with dvc.projectDir.
    env.git_dvc(&server.dir, &["install", "--server"]);
    server.git(&["config", "dvc.projectDir", "ml/proj"]);
    fs::create_dir_all(server.dir.join("dvc")).unwrap();
    fs::write(
        server.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = r\n['remote \"r\"']\n    url = {}\n",
            remote.display()
        ),
    )
    .unwrap();
    proj.write("model.bin", "weights v3\n");
    proj.dvc(&["add", "-q", "model.bin"]);
    top.commit_all("model v3");
    let skip = [("GIT_DVC_SKIP_PUSH", std::ffi::OsStr::new("1"))];
    let refused = env.run_with_env("git", &top.dir, &["push", "origin", "main"], &skip);
    assert!(!refused.success(), "{}", refused.describe());
    refused.assert_stderr_contains(&md5_hex(b"weights v3\n"));
    top.try_git(&["push", "origin", "main"]).assert_success();
    assert!(remote_has(&remote, &md5_hex(b"weights v3\n"), false));

    // A fresh clone pulls it with real DVC.
    let clone = env.clone_repo(&server.dir, "clone");
    let clone_proj = env.repo_at(clone.path("ml/proj"));
    clone_proj.dvc(&["pull", "-q"]);
    assert_eq!(clone_proj.read("model.bin"), b"weights v3\n");
    assert_eq!(clone_proj.read("data/b.txt"), b"b\n");
}
