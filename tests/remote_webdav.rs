//! The WebDAV backend against a real wsgidav server started by `scripts/test.sh`
//! (`GIT_DVC_TEST_WEBDAV_URL`, `_ROOT`, `_USER`, `_PASSWORD`; `GIT_DVC_TEST_WSGIDAV` and
//! `GIT_DVC_TEST_WSGIDAV_CONFIG` for private instances).

mod common;

use std::path::Path;
use std::process::Command;

use common::remotes::{self, FaultServer, RemoteSetup, Server};
use common::TestEnv;

fn remote(url: &str, user: &str, password: &str) -> RemoteSetup {
    RemoteSetup::new(url, &[("user", user), ("password", password)])
}

fn shared() -> Option<[String; 4]> {
    remotes::server_vars([
        "GIT_DVC_TEST_WEBDAV_URL",
        "GIT_DVC_TEST_WEBDAV_ROOT",
        "GIT_DVC_TEST_WEBDAV_USER",
        "GIT_DVC_TEST_WEBDAV_PASSWORD",
    ])
}

#[test]
fn git_dvc_push_then_dvc_pull() {
    let Some([url, root, user, password]) = shared() else {
        return;
    };
    // Nested collections that do not exist yet: created with MKCOL.
    let dir = format!("{}/deeper/store", remotes::unique("push-pull"));
    remotes::push_then_dvc_pull(
        &TestEnv::new(),
        &remote(&format!("{url}/{dir}"), &user, &password),
    );
    assert!(remotes::dir_has_files(
        &Path::new(&root).join(&dir).join("files/md5")
    ));
}

#[test]
fn dvc_push_then_git_dvc_status_in_sync() {
    let Some([url, root, user, password]) = shared() else {
        return;
    };
    let dir = remotes::unique("dvc-push");
    // DVC 3.67.1 cannot push into a collection that does not exist yet ("No such file or
    // directory: ''"); git-dvc creates it.
    std::fs::create_dir_all(Path::new(&root).join(&dir)).unwrap();
    remotes::dvc_push_then_status(
        &TestEnv::new(),
        &remote(&format!("{url}/{dir}"), &user, &password),
    );
}

#[test]
fn wrong_password_is_refused_with_what_to_check() {
    let Some([url, _, user, _]) = shared() else {
        return;
    };
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 8);
    let remote = remote(
        &format!("{url}/{}", remotes::unique("denied")),
        &user,
        "wrong-pass",
    );
    remotes::configure_remote(&repo, &remote);
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("remote 'r'");
    run.assert_stderr_contains("refused access");
    run.assert_stderr_contains("password");
    assert!(
        !run.stderr.contains("wrong-pass"),
        "secret leaked:\n{}",
        run.describe()
    );
}

#[test]
fn server_stopped_mid_push() {
    let Some([wsgidav, config, user, password]) = remotes::server_vars([
        "GIT_DVC_TEST_WSGIDAV",
        "GIT_DVC_TEST_WSGIDAV_CONFIG",
        "GIT_DVC_TEST_WEBDAV_USER",
        "GIT_DVC_TEST_WEBDAV_PASSWORD",
    ]) else {
        return;
    };
    let env = TestEnv::new();
    let port = remotes::free_port();
    let root = env.mkdir("dav-data");
    let log = env.path("wsgidav.log");
    let start = || {
        let mut cmd = Command::new(&wsgidav);
        cmd.args([
            "--config",
            &config,
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
        ])
        .arg("--root")
        .arg(&root);
        Server::start("wsgidav", cmd, port, &log)
    };
    let has_objects = || remotes::dir_has_files(&root.join("files"));
    remotes::stop_mid_push(
        &env,
        &remote(&format!("webdav://127.0.0.1:{port}"), &user, &password),
        FaultServer {
            start: &start,
            prepare: &|| {},
            has_objects: &has_objects,
        },
    );
}
