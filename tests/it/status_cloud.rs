//! `git dvc status -c` against remotes filled by real `dvc push`, and the way
//! back: what status finds missing, `git dvc push` re-uploads, and real
//! `dvc pull` can then restore.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};

use common::fixtures::*;
use common::*;

fn status_lines(run: &Run) -> BTreeSet<String> {
    run.stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn json_object(run: &Run) -> BTreeMap<String, serde_json::Value> {
    let value: serde_json::Value = serde_json::from_str(run.stdout.trim())
        .unwrap_or_else(|e| panic!("--json output is not JSON: {e}\n{}", run.describe()));
    match value {
        serde_json::Value::Object(map) => map.into_iter().collect(),
        other => panic!(
            "--json output is not an object: {other}\n{}",
            run.describe()
        ),
    }
}

/// A repository with a directory (nested members) and a file, remote `r`
/// configured (committed) at `remote`.
fn repo_with_dir<'e>(env: &'e TestEnv, remote: &std::path::Path) -> Repo<'e> {
    let repo = env.dvc_repo("repo");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("data/one.txt", "one\n");
    repo.write("data/sub/two.txt", "two\n");
    repo.write("data/sub/three.txt", "three\n");
    repo.write("file.txt", "file\n");
    repo.dvc(&["add", "-q", "data", "file.txt"]);
    repo.commit_all("data");
    repo
}

#[test]
fn status_before_any_push_lists_what_dvc_lists() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = repo_with_dir(&env, &remote);

    let dvc = repo.dvc(&["status", "-c"]);
    let ours = repo.git_dvc(&["status", "-c"]);
    assert_eq!(
        status_lines(&ours),
        status_lines(&dvc),
        "status -c differs from DVC's\n{}\n{}",
        ours.describe(),
        dvc.describe()
    );
    assert!(status_lines(&ours).contains("\tnew:                data/sub/two.txt"));

    let dvc = repo.dvc(&["status", "-c", "--json"]);
    let ours = repo.git_dvc(&["status", "-c", "--json"]);
    assert_eq!(json_object(&ours), json_object(&dvc));
    assert!(!remote.exists(), "status must not upload");
}

#[test]
fn in_sync_after_dvc_push_then_a_deleted_member_is_found_and_repushed() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = repo_with_dir(&env, &remote);
    let expected = snapshot(&repo, &["data", "file.txt"]);
    repo.dvc(&["push"]).assert_stdout_is(&pushed_line(5));

    // In sync after DVC's own push.
    let ours = repo.git_dvc(&["status", "-c"]);
    ours.assert_stdout_is(&in_sync_line("r"));
    let json = repo.git_dvc(&["status", "-c", "--json"]);
    assert!(json_object(&json).is_empty(), "{}", json.describe());
    // Also with a named remote, as DVC prints it.
    repo.git_dvc(&["status", "-c", "-r", "r"])
        .assert_stdout_is(&in_sync_line("r"));

    // Delete one member of the directory from the remote.
    let member = md5_hex(b"two\n");
    let member_path = remote.join(object_rel_path(&member, false));
    std::fs::remove_file(&member_path).unwrap();
    // DVC trusts the .dir and does not notice.
    repo.dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line("r"));
    // `git dvc check` never trusts a manifest.
    repo.try_git_dvc(&["check"])
        .assert_code(1)
        .assert_stderr_contains("data/sub/two.txt");

    // git-dvc trusts a .dir only where checking its members would cost more requests; on
    // this small remote one listing answers for everything (as few requests as DVC's
    // per-object checks), so the member is found, with or without --check-members.
    for args in [
        &["status", "-c"][..],
        &["status", "-c", "--check-members"][..],
    ] {
        let ours = repo.try_git_dvc(args);
        assert!(
            ours.stdout.contains("data"),
            "{args:?}\n{}",
            ours.describe()
        );
    }
    let ours = repo.try_git_dvc(&["status", "-c"]);
    ours.assert_code(0);
    let reported: Vec<&str> = ours
        .stdout
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            let Some((state, path)) = l.split_once(':') else {
                return false;
            };
            (state == "new" || state == "missing")
                && matches!(path.trim(), "data/sub/two.txt" | "data")
        })
        .collect();
    assert_eq!(
        reported.len(),
        1,
        "status -c must report the deleted member (as `new:` or `missing:` naming \
         data/sub/two.txt or data) once\n{}",
        ours.describe()
    );
    assert!(
        !ours.stdout.contains("are in sync"),
        "not in sync\n{}",
        ours.describe()
    );
    assert!(
        !ours.stdout.contains("file.txt") && !ours.stdout.contains("one.txt"),
        "only the deleted member is missing\n{}",
        ours.describe()
    );

    let json = repo.git_dvc(&["status", "-c", "--json"]);
    let map = json_object(&json);
    assert_eq!(map.len(), 1, "{}", json.describe());
    let (key, value) = map.iter().next().unwrap();
    assert!(
        matches!(key.as_str(), "data/sub/two.txt" | "data"),
        "{}",
        json.describe()
    );
    assert!(
        matches!(value.as_str(), Some("new" | "missing")),
        "{}",
        json.describe()
    );

    // git-dvc push re-uploads exactly that member.
    repo.git_dvc(&["push"]).assert_stdout_is("1 file pushed");
    assert!(member_path.is_file());
    check_remote(&remote, RemoteCheck::Complete);
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line("r"));

    // And real dvc pull in a fresh clone gets everything back.
    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &remote)],
        &[],
        "main",
        &expected,
    );
}

#[test]
fn status_follows_the_selection_flags_like_dvc() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = repo_with_dir(&env, &remote);
    repo.dvc(&["push"]);
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("file.txt", "other branch\n");
    repo.dvc(&["add", "-q", "file.txt"]);
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);

    // The work tree (main) is pushed; the other branch is not.
    let ours = repo.git_dvc(&["status", "-c"]);
    ours.assert_stdout_is(&in_sync_line("r"));
    for args in [&["status", "-c", "-a"][..], &["status", "-c", "-A"][..]] {
        let ours = repo.git_dvc(args);
        let dvc = repo.dvc(args);
        assert_eq!(status_lines(&ours), status_lines(&dvc), "{args:?}");
        assert!(ours.stdout.contains("file.txt"), "{}", ours.describe());
    }
    let ours = repo.git_dvc(&["status", "-c", "--json", "-a"]);
    let dvc = repo.dvc(&["status", "-c", "--json", "-a"]);
    assert_eq!(json_object(&ours), json_object(&dvc));
}

/// One object under several paths: DVC names it after the first output that uses it (a
/// directory's members right after the directory), in the order it meets outputs. Stages
/// of one `dvc.yaml` come in file order, members in manifest order, so the choice is
/// DVC's exactly. (Between `.dvc` files DVC's order is the file system's directory order,
/// which differs from machine to machine; git-dvc takes them in path order.)
#[test]
fn an_object_under_several_paths_is_named_as_dvc_names_it() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write(
        "dvc.yaml",
        "stages:\n  one:\n    cmd: mkdir -p d && echo same > d/m && echo same > d/b && echo x > d/n\n    outs: [d]\n  two:\n    cmd: echo same > zz.txt\n    outs: [zz.txt]\n  three:\n    cmd: echo same > aa.txt && echo x > bb.txt && echo y > cc.txt\n    outs: [aa.txt, bb.txt, cc.txt]\n  four:\n    cmd: mkdir -p e && echo y > e/y\n    outs: [e]\n",
    );
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("pipeline");
    let dvc = repo.dvc(&["status", "-c", "--json"]);
    let ours = repo.git_dvc(&["status", "-c", "--json"]);
    let names: Vec<String> = json_object(&ours).into_keys().collect();
    assert_eq!(
        names,
        ["cc.txt", "d", "d/b", "d/n", "e"],
        "{}",
        ours.describe()
    );
    assert_eq!(json_object(&ours), json_object(&dvc), "{}", dvc.describe());
}
