//! Templated pipelines (security issue 14, item 3): outputs of a `dvc.yaml` with `${…}`,
//! `foreach` and `matrix` pair with their `dvc.lock` entries by the paths DVC interpolates,
//! from vars files of the same revision, never by wildcard. Real DVC 3.67.1 is the
//! reference; a bare server with `git dvc install --server` receives real `git push`es.

use crate::common;

use std::path::Path;

use common::receiving_server::{
    assert_check_fails, assert_push_accepted, assert_push_rejected, client, Server,
};
use common::*;

/// One stage per `foreach` item and per `matrix` combination, two outputs each: the one named
/// by `${p.first}` is `push: false`. The lock lists outputs sorted by path, so the `${second}`
/// one comes first: wildcard pairing put `push: false` on it.
const DVC_YAML: &str = "stages:
  fe:
    foreach: ${names}
    do:
      cmd: echo ${item}1 > f_${item}_${p.first}.txt && echo ${item}2 > f_${item}_${p.second}.txt
      outs:
      - f_${item}_${p.first}.txt:
          push: false
      - f_${item}_${p.second}.txt
  mx:
    matrix:
      n: [1]
      k:
      - ${p.first}
    cmd: echo m1 > m_${item.n}_${item.k}.txt && echo m2 > m_${item.n}_${p.second}.txt
    outs:
    - m_${item.n}_${item.k}.txt:
        push: false
    - m_${item.n}_${p.second}.txt
";

fn templated_repo<'e>(repo: &Repo<'e>, params: &str) {
    repo.write("dvc.yaml", DVC_YAML);
    repo.write("params.yaml", params);
    repo.dvc(&["repro", "-q"]);
}

fn md5_of(repo: &Repo<'_>, rel: &str) -> String {
    md5_hex(&repo.read(rel))
}

fn store(storage: &Path, md5: &str, bytes: &[u8]) {
    write_file(
        &storage.join(format!("files/md5/{}/{}", &md5[..2], &md5[2..])),
        bytes,
    );
}

#[test]
fn push_false_on_a_generated_output_stays_on_that_output() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    templated_repo(&repo, "names: [x]\np:\n  first: z\n  second: a\n");
    repo.commit_all("templated pipeline");

    // Status against empty storage: DVC and git-dvc both miss the `${second}` outputs only.
    let theirs = repo.try_dvc(&["status", "-c"]);
    let ours = repo.try_git_dvc(&["status", "-c"]);
    for run in [&theirs, &ours] {
        for name in ["f_x_a.txt", "m_1_a.txt"] {
            assert!(run.stdout.contains(name), "{name}\n{}", run.describe());
        }
        for name in ["f_x_z.txt", "m_1_z.txt"] {
            assert!(!run.stdout.contains(name), "{name}\n{}", run.describe());
        }
    }

    // Storage holding only the `push: false` outputs: the pushable ones are missing.
    for name in ["f_x_z.txt", "m_1_z.txt"] {
        store(&server.storage, &md5_of(&repo, name), &repo.read(name));
    }
    assert_check_fails(&repo, "f_x_a.txt@");
    assert_push_rejected(&repo, &server, "f_x_a.txt@");

    // `git dvc push` uploads exactly what `dvc push` uploads.
    let dvc_storage = env.path("dvc-storage");
    repo.set_local_remotes(&[("r", &dvc_storage)]);
    repo.dvc(&["push", "-q"]);
    let ours_storage = env.path("ours-storage");
    repo.set_local_remotes(&[("r", &ours_storage)]);
    repo.git_dvc(&["push", "-q"]);
    assert_eq!(list_files(&ours_storage), list_files(&dvc_storage));
    assert!(
        list_files(&dvc_storage).contains_key(&object_rel_path(&md5_of(&repo, "f_x_a.txt"), false))
    );

    repo.set_local_remotes(&[("r", &server.storage)]);
    repo.git_dvc(&["push", "-q"]);
    repo.git_dvc(&["check"]);
    assert_push_accepted(&repo, &server);
}

/// The same `dvc.yaml` blob in two revisions whose `params.yaml` differ: each revision is
/// interpolated with its own params.
#[test]
fn each_revision_uses_its_own_params() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("work");
    templated_repo(&repo, "names: [x]\np:\n  first: z\n  second: a\n");
    repo.commit_all("first params");
    let first_yaml = repo.git(&["rev-parse", "HEAD:dvc.yaml"]);
    templated_repo(&repo, "names: [y]\np:\n  first: b\n  second: c\n");
    repo.commit_all("second params");
    assert_eq!(repo.git(&["rev-parse", "HEAD:dvc.yaml"]), first_yaml);

    let dvc_storage = env.path("dvc-storage");
    repo.set_local_remotes(&[("r", &dvc_storage)]);
    repo.dvc(&["push", "-q", "--all-commits"]);
    let ours_storage = env.path("ours-storage");
    repo.set_local_remotes(&[("r", &ours_storage)]);
    repo.git_dvc(&["push", "-q", "--all-commits"]);
    let ours = list_files(&ours_storage);
    assert_eq!(ours, list_files(&dvc_storage));
    // Both revisions' pushable outputs (x_a from the first, y_c from the second).
    assert!(
        ours.values().any(|b| b.as_slice() == b"x2\n"),
        "{:?}",
        ours.keys()
    );
    assert!(
        ours.values().any(|b| b.as_slice() == b"y2\n"),
        "{:?}",
        ours.keys()
    );
    assert!(!ours.values().any(|b| b.as_slice() == b"x1\n"));
}

/// A vars file missing from the revision fails it as DVC fails it, naming the file.
#[test]
fn a_missing_vars_file_fails_the_revision() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("work");
    repo.write(
        "dvc.yaml",
        "vars: [conf.yaml]\nstages:\n  s:\n    cmd: echo s > ${name}.txt\n    outs: [\"${name}.txt\"]\n",
    );
    repo.write("conf.yaml", "name: out\n");
    repo.dvc(&["repro", "-q"]);
    std::fs::remove_file(repo.path("conf.yaml")).unwrap();
    repo.commit_all("vars file not committed");
    let theirs = repo.try_dvc(&["push"]);
    assert!(!theirs.success(), "{}", theirs.describe());
    let ours = repo.try_git_dvc(&["push"]);
    assert!(!ours.success(), "{}", ours.describe());
    ours.assert_stderr_contains("dvc.yaml@")
        .assert_stderr_contains("'conf.yaml' does not exist");
}
