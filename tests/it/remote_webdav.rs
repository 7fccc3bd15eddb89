//! The WebDAV backend against a real wsgidav server started by `scripts/test.sh`
//! (`GIT_DVC_TEST_WEBDAV_URL`, `_ROOT`, `_USER`, `_PASSWORD`; `GIT_DVC_TEST_WSGIDAV` and
//! `GIT_DVC_TEST_WSGIDAV_CONFIG` for private instances).

use crate::common;

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
fn object_above_multipart_threshold_then_dvc_pull() {
    let Some([url, _, user, password]) = shared() else {
        return;
    };
    let dir = remotes::unique("streamed");
    remotes::above_multipart_threshold_then_dvc_pull(
        &TestEnv::new(),
        &remote(&format!("{url}/{dir}"), &user, &password),
    );
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
fn dvc_push_then_git_dvc_fetch_like_dvc_fetch() {
    let Some([url, root, user, password]) = shared() else {
        return;
    };
    let dir = remotes::unique("fetch");
    // DVC 3.67.1 cannot push into a collection that does not exist yet.
    std::fs::create_dir_all(Path::new(&root).join(&dir)).unwrap();
    let tamper = |key: &str, bytes: &[u8]| {
        let path = Path::new(&root).join(&dir).join(key);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, bytes).unwrap();
    };
    remotes::dvc_push_then_git_dvc_fetch(
        &TestEnv::new(),
        &remote(&format!("{url}/{dir}"), &user, &password),
        Some(&tamper),
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

/// Sizes of the files under `dir`, at any depth, by path relative to it (no contents read:
/// this is polled while a push runs).
fn file_sizes(dir: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => out.push((
                    entry
                        .path()
                        .strip_prefix(dir)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    m.len(),
                )),
                Err(_) => {}
            }
        }
    }
    out
}

/// wsgidav writes a `PUT` in place, so an upload cut off half-way would leave half an
/// object under its final name, which every later status would count as present. git-dvc
/// uploads to a temporary name and MOVEs it: a push killed while the server holds part of
/// the bytes leaves only whole objects, and a re-run completes the remote.
#[test]
fn push_killed_mid_upload_leaves_no_partial_object() {
    let Some([url, root, user, password]) = shared() else {
        return;
    };
    use std::time::{Duration, Instant};
    let env = TestEnv::new();
    let dir = remotes::unique("killed");
    let repo = env.dvc_repo("repo");
    let big = common::pseudo_random_bytes(91, 150 << 20);
    repo.write("big.bin", &big);
    repo.dvc(&["add", "-q", "big.bin"]);
    repo.commit_all("big");
    let remote = remote(&format!("{url}/{dir}"), &user, &password);
    remotes::configure_remote(&repo, &remote);
    let store = Path::new(&root).join(&dir);

    let mut child = env.spawn_git_dvc(&repo.dir, &["push"], "push");
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed = loop {
        if child.try_wait().unwrap().is_some() {
            break false;
        }
        let partial = file_sizes(&store)
            .iter()
            .any(|(_, len)| *len > 0 && *len < big.len() as u64);
        if partial {
            child.kill().unwrap();
            child.wait().unwrap();
            break true;
        }
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(1));
    };
    assert!(
        killed,
        "the push finished before it could be killed mid-upload"
    );
    for (rel, bytes) in common::list_files(&store) {
        if let Some(object) = common::parse_object_path(&rel) {
            assert_eq!(
                common::md5_hex(&bytes),
                object.md5(),
                "{rel} holds a partial upload ({} bytes)",
                bytes.len()
            );
        }
    }

    repo.git_dvc(&["push"]);
    let clone = env.clone_repo(&repo.dir, "clone");
    remotes::configure_remote(&clone, &remote);
    clone.dvc(&["pull", "-q"]);
    assert!(std::fs::read(clone.path("big.bin")).unwrap() == big);
}
