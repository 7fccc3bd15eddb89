//! The HTTP backend against `scripts/http_upload_server.py`, started by
//! `scripts/test.sh` (`GIT_DVC_TEST_HTTP_URL`, `_ROOT`; `GIT_DVC_TEST_HTTP_SERVER` and
//! `GIT_DVC_TEST_HTTP_PYTHON` for private instances, which can also require auth and log
//! requests).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::remotes::{self, FaultServer, RemoteSetup, Server};
use common::{pushed_line, TestEnv};

fn shared() -> Option<[String; 2]> {
    remotes::server_vars(["GIT_DVC_TEST_HTTP_URL", "GIT_DVC_TEST_HTTP_ROOT"])
}

/// A private server on `port` storing under `root`, logging requests to `log`.
fn private(env: &TestEnv, port: u16, root: &Path, extra: &[&str]) -> Option<Server> {
    let [script, python] =
        remotes::server_vars(["GIT_DVC_TEST_HTTP_SERVER", "GIT_DVC_TEST_HTTP_PYTHON"])?;
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .args(["--port", &port.to_string()])
        .arg("--root")
        .arg(root)
        .arg("--log")
        .arg(env.path("requests.log"))
        .args(extra);
    Some(Server::start(
        "http upload server",
        cmd,
        port,
        &env.path("http-server.log"),
    ))
}

#[test]
fn git_dvc_push_then_dvc_pull() {
    let Some([url, _]) = shared() else { return };
    let dir = remotes::unique("push-pull");
    remotes::push_then_dvc_pull(
        &TestEnv::new(),
        &RemoteSetup::new(format!("{url}/{dir}"), &[]),
    );
}

#[test]
fn dvc_push_then_git_dvc_status_in_sync() {
    let Some([url, _]) = shared() else { return };
    let dir = remotes::unique("dvc-push");
    remotes::dvc_push_then_status(
        &TestEnv::new(),
        &RemoteSetup::new(format!("{url}/{dir}"), &[]),
    );
}

#[test]
fn dvc_push_then_git_dvc_fetch_like_dvc_fetch() {
    let Some([url, root]) = shared() else { return };
    let dir = remotes::unique("fetch");
    let tamper = |key: &str, bytes: &[u8]| {
        let path = Path::new(&root).join(&dir).join(key);
        std::fs::remove_file(&path).unwrap();
        std::fs::write(&path, bytes).unwrap();
    };
    remotes::dvc_push_then_git_dvc_fetch(
        &TestEnv::new(),
        &RemoteSetup::new(format!("{url}/{dir}"), &[]),
        Some(&tamper),
    );
}

fn requests(env: &TestEnv) -> Vec<String> {
    std::fs::read_to_string(env.path("requests.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn methods(lines: &[String]) -> Vec<&str> {
    let mut m: Vec<&str> = lines
        .iter()
        .map(|l| l.split(' ').next().unwrap_or(""))
        .collect();
    m.sort();
    m.dedup();
    m
}

/// POST by default and PUT with `method = PUT`, as DVC; `auth = custom` sends the header
/// on every request; the uploads are the same set DVC makes.
#[test]
fn request_shape_matches_dvc() {
    let env = TestEnv::new();
    let port = remotes::free_port();
    let root = env.mkdir("http-data");
    let Some(_server) = private(
        &env,
        port,
        &root,
        &["--header", "X-Token", "--token", "s3cret"],
    ) else {
        return;
    };
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 31);
    let opts = |method: &'static str| {
        vec![
            ("auth", "custom"),
            ("custom_auth_header", "X-Token"),
            ("password", "s3cret"),
            ("method", method),
        ]
    };
    let log = env.path("requests.log");
    for (method, verb) in [("POST", "POST"), ("PUT", "PUT")] {
        let o = opts(method);
        // git-dvc into one directory, DVC into another: same uploads, same verb.
        std::fs::write(&log, "").unwrap();
        remotes::configure_remote(
            &repo,
            &RemoteSetup::new(format!("http://127.0.0.1:{port}/ours-{method}"), &o),
        );
        repo.git_dvc(&["push"])
            .assert_stdout_is(&pushed_line(remotes::SAMPLE_OBJECTS));
        let ours = requests(&env);
        std::fs::write(&log, "").unwrap();
        remotes::configure_remote(
            &repo,
            &RemoteSetup::new(format!("http://127.0.0.1:{port}/dvc-{method}"), &o),
        );
        repo.dvc(&["push"])
            .assert_stdout_is(&pushed_line(remotes::SAMPLE_OBJECTS));
        let theirs = requests(&env);
        assert!(
            ours.iter().all(|l| !l.ends_with(" 401")),
            "git-dvc sent a request without the header: {ours:?}"
        );
        let uploads = |lines: &[String], prefix: &str| -> Vec<String> {
            let mut u: Vec<String> = lines
                .iter()
                .filter(|l| l.starts_with(verb))
                .map(|l| l.split(' ').nth(1).unwrap().replacen(prefix, "", 1))
                .collect();
            u.sort();
            u
        };
        assert_eq!(
            uploads(&ours, &format!("/ours-{method}")),
            uploads(&theirs, &format!("/dvc-{method}")),
            "{method}: git-dvc {ours:?}\nDVC {theirs:?}"
        );
        assert_eq!(methods(&ours), vec!["GET", verb], "{ours:?}");
        eprintln!(
            "{method}: git-dvc sent {} requests, DVC {}",
            ours.len(),
            theirs.len()
        );
        assert!(
            ours.len() <= theirs.len(),
            "git-dvc sent more requests than DVC for a first push\nours: {ours:?}\nDVC: {theirs:?}"
        );

        // A no-op: HTTP cannot list, so both ask object by object, and a `.dir` on the
        // remote vouches for its members (DVC's rule): no more requests than DVC.
        let noop = |prefix: &str, run: &dyn Fn()| -> Vec<String> {
            remotes::configure_remote(
                &repo,
                &RemoteSetup::new(format!("http://127.0.0.1:{port}/{prefix}-{method}"), &o),
            );
            std::fs::write(&log, "").unwrap();
            run();
            requests(&env)
        };
        let ours = noop("ours", &|| {
            repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(0));
        });
        let theirs = noop("dvc", &|| {
            repo.dvc(&["push"]).assert_stdout_is(&pushed_line(0));
        });
        eprintln!(
            "{method} no-op: git-dvc sent {} requests, DVC {}",
            ours.len(),
            theirs.len()
        );
        assert!(
            ours.len() <= theirs.len(),
            "git-dvc sent more requests than DVC for a no-op\nours: {ours:?}\nDVC: {theirs:?}"
        );
    }
}

#[test]
fn missing_credentials_are_refused_with_what_to_check() {
    let env = TestEnv::new();
    let port = remotes::free_port();
    let root = env.mkdir("http-data");
    let Some(_server) = private(&env, port, &root, &["--user", "u", "--password", "pw"]) else {
        return;
    };
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 32);
    remotes::configure_remote(
        &repo,
        &RemoteSetup::new(format!("http://127.0.0.1:{port}/x"), &[]),
    );
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("remote 'r'");
    run.assert_stderr_contains("refused access");
    run.assert_stderr_contains("auth");
    // With the right credentials the same push goes through.
    remotes::configure_remote(
        &repo,
        &RemoteSetup::new(
            format!("http://127.0.0.1:{port}/x"),
            &[("auth", "basic"), ("user", "u"), ("password", "pw")],
        ),
    );
    repo.git_dvc(&["push"])
        .assert_stdout_is(&pushed_line(remotes::SAMPLE_OBJECTS));
    repo.dvc(&["push"]).assert_stdout_is(&pushed_line(0));
}

#[test]
fn server_stopped_mid_push() {
    let env = TestEnv::new();
    let port = remotes::free_port();
    let root: PathBuf = env.mkdir("http-data");
    if remotes::server_vars(["GIT_DVC_TEST_HTTP_SERVER", "GIT_DVC_TEST_HTTP_PYTHON"]).is_none() {
        return;
    }
    let start = || private(&env, port, &root, &[]).expect("server variables");
    let has_objects = || remotes::dir_has_files(&root.join("files"));
    remotes::stop_mid_push(
        &env,
        &RemoteSetup::new(format!("http://127.0.0.1:{port}"), &[]),
        FaultServer {
            start: &start,
            prepare: &|| {},
            has_objects: &has_objects,
        },
    );
}

/// A server that answers every check `404` and, on an upload, reads the request head and
/// then nothing more, holding the connection for up to `hold`. Returns its port.
fn server_that_stops_reading(hold: std::time::Duration) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut head = [0u8; 4096];
                let n = stream.read(&mut head).unwrap_or(0);
                if head[..n].starts_with(b"GET") || head[..n].starts_with(b"HEAD") {
                    let _ =
                        stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
                }
                std::thread::sleep(hold);
            });
        }
    });
    port
}

/// An upload to a server that stops reading its body is given up on once sent bytes go
/// unacknowledged for `read_timeout` (`TCP_USER_TIMEOUT`), well before the server lets go,
/// and reported as a failed upload naming the remote.
#[test]
fn upload_to_a_server_that_stops_reading_is_given_up() {
    use std::time::{Duration, Instant};
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    // Far more than the socket buffers on both sides hold.
    repo.write("big.bin", common::pseudo_random_bytes(5, 96 << 20));
    repo.dvc(&["add", "-q", "big.bin"]);
    repo.commit_all("big");
    let port = server_that_stops_reading(Duration::from_secs(300));
    remotes::configure_remote(
        &repo,
        &RemoteSetup::new(
            format!("http://127.0.0.1:{port}/store"),
            &[("read_timeout", "2")],
        ),
    );
    let started = Instant::now();
    let run = repo.try_git_dvc(&["push"]);
    let took = started.elapsed();
    run.assert_code(1);
    run.assert_stderr_contains("1 file failed to upload");
    run.assert_stderr_contains("remote 'r'");
    // Four attempts of about 2 s each, with backoff; the server would hold for 300 s.
    assert!(took < Duration::from_secs(90), "took {took:?}");
}
