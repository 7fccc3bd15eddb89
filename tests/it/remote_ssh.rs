//! The SSH/SFTP backend against a real OpenSSH sshd on a high port, started by
//! `scripts/test.sh` as the current user with generated keys
//! (`GIT_DVC_TEST_SFTP_PORT`, `_USER`, `_KEY`, `_ROOT`; `GIT_DVC_TEST_SFTPD` and
//! `GIT_DVC_TEST_SFTPD_CONFIG` for private instances).

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::remotes::{self, FaultServer, RemoteSetup, Server, Sftp};
use common::{pushed_line, TestEnv};

fn remote(s: &Sftp, dir: &str) -> RemoteSetup {
    RemoteSetup::new(
        format!("ssh://127.0.0.1:{}{}/{dir}", s.port, s.root),
        &[("user", s.user.as_str()), ("keyfile", s.key.as_str())],
    )
}

#[test]
fn git_dvc_push_then_dvc_pull() {
    let Some(s) = remotes::sftp_server() else {
        return;
    };
    let dir = remotes::unique("push-pull");
    remotes::push_then_dvc_pull(&TestEnv::new(), &remote(&s, &dir));
    // Objects were renamed into place: no temporary file is left behind.
    let leftovers: Vec<_> = walk(&Path::new(&s.root).join(&dir))
        .into_iter()
        .filter(|p| p.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn dvc_push_then_git_dvc_status_in_sync() {
    let Some(s) = remotes::sftp_server() else {
        return;
    };
    remotes::dvc_push_then_status(&TestEnv::new(), &remote(&s, &remotes::unique("dvc-push")));
}

#[test]
fn dvc_push_then_git_dvc_fetch_like_dvc_fetch() {
    let Some(s) = remotes::sftp_server() else {
        return;
    };
    remotes::dvc_push_then_git_dvc_fetch(
        &TestEnv::new(),
        &remote(&s, &remotes::unique("fetch")),
        None,
    );
}

/// `~/.ssh/config` supplies the address, port, user and key; the URL names only an alias.
#[test]
fn ssh_config_host_alias() {
    let Some(s) = remotes::sftp_server() else {
        return;
    };
    let env = TestEnv::new();
    let ssh_dir = env.path("home/.ssh");
    fs::create_dir_all(&ssh_dir).unwrap();
    fs::write(
        ssh_dir.join("config"),
        format!(
            "Host dvc-store\n    HostName 127.0.0.1\n    Port {}\n    User {}\n    IdentityFile {}\n",
            s.port, s.user, s.key
        ),
    )
    .unwrap();
    fs::set_permissions(ssh_dir.join("config"), fs::Permissions::from_mode(0o600)).unwrap();
    let dir = remotes::unique("alias");
    let remote = RemoteSetup::new(format!("ssh://dvc-store{}/{dir}", s.root), &[]);
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 3);
    remotes::configure_remote(&repo, &remote);
    repo.git_dvc(&["push"])
        .assert_stdout_is(&pushed_line(remotes::SAMPLE_OBJECTS));
    assert!(remotes::dir_has_files(&Path::new(&s.root).join(&dir)));
}

#[test]
fn wrong_key_is_refused_once_with_what_to_check() {
    let Some(s) = remotes::sftp_server() else {
        return;
    };
    let env = TestEnv::new();
    let bad = env.path("bad_key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(out.status.success());
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 4);
    let remote = RemoteSetup::new(
        format!(
            "ssh://127.0.0.1:{}{}/{}",
            s.port,
            s.root,
            remotes::unique("denied")
        ),
        &[
            ("user", s.user.as_str()),
            ("keyfile", bad.to_str().unwrap()),
            ("allow_agent", "false"),
        ],
    );
    remotes::configure_remote(&repo, &remote);
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("remote 'r'");
    run.assert_stderr_contains("authentication");
    run.assert_stderr_contains("keyfile");
}

#[test]
fn server_stopped_mid_push() {
    let Some([sshd, config, user, key]) = remotes::server_vars([
        "GIT_DVC_TEST_SFTPD",
        "GIT_DVC_TEST_SFTPD_CONFIG",
        "GIT_DVC_TEST_SFTP_USER",
        "GIT_DVC_TEST_SFTP_KEY",
    ]) else {
        return;
    };
    let env = TestEnv::new();
    let port = remotes::free_port();
    let root = env.mkdir("sshd-data");
    let log = env.path("sshd.log");
    let start = || {
        let mut cmd = Command::new(&sshd);
        cmd.args(["-D", "-e", "-f", &config, "-p", &port.to_string()]);
        Server::start("sshd", cmd, port, &log)
    };
    let has_objects = || remotes::dir_has_files(&root.join("files"));
    let remote = RemoteSetup::new(
        format!("ssh://127.0.0.1:{port}{}", root.display()),
        &[("user", user.as_str()), ("keyfile", key.as_str())],
    );
    remotes::stop_mid_push(
        &env,
        &remote,
        FaultServer {
            start: &start,
            prepare: &|| {},
            has_objects: &has_objects,
        },
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().unwrap().is_dir() {
                out.extend(walk(&e.path()));
            } else {
                out.push(e.path().display().to_string());
            }
        }
    }
    out
}
