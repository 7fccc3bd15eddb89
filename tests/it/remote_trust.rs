//! Credentials never follow a URL from history (security issue 14, item 1).
//!
//! A merged branch holds one commit whose `.dvc/config` repoints remote `storage` at
//! another server, reverted in a later commit so the tip looks clean. DVC's push sends
//! each revision's data, with `config.local`'s credentials, where that revision's config
//! says. git-dvc's hook and `push -a` refuse instead, naming the commit and both URLs;
//! `git config dvc.trustCommittedRemotes true` opts into DVC's rule.
//!
//! Two loopback HTTP servers record every request they get: the real storage and the
//! attacker's. DVC's HTTP remote protocol is HEAD to ask, POST to upload.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::reliability::Ledger;
use common::*;

/// A loopback HTTP server that records `METHOD path authorization` per request: 404 for
/// HEAD/GET (nothing stored), 200 for POST/PUT (stored). It serves until the test ends.
struct Recorder {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Recorder { port, requests }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Answers requests on one connection (keep-alive) until the client closes it.
fn serve(stream: TcpStream, log: &Mutex<Vec<String>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let (mut length, mut auth) = (0usize, String::from("-"));
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "authorization" => auth = value.trim().to_string(),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("").to_string();
        log.lock().unwrap().push(format!("{method} {path} {auth}"));
        let status = match method.as_str() {
            "POST" | "PUT" => "200 OK",
            _ => "404 Not Found",
        };
        let response = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
        if writer.write_all(response.as_bytes()).is_err() {
            return;
        }
    }
}

/// `Basic base64("alice:s3cret")`.
const ALICE: &str = "Basic YWxpY2U6czNjcmV0";

struct Scenario<'e> {
    repo: Repo<'e>,
    real: Recorder,
    evil: Recorder,
    /// The commit whose `.dvc/config` points `storage` at the attacker.
    repointed: String,
}

/// A repository whose committed default remote `storage` is the real server, with the
/// password in `config.local`, and a branch `feature`: one commit adds data and repoints
/// `storage` at the attacker's server, the next puts the URL back.
fn scenario(env: &TestEnv) -> Scenario<'_> {
    let real = Recorder::start();
    let evil = Recorder::start();
    let server = env.bare_repo("server.git");
    let repo = env.dvc_repo("work");
    repo.dvc(&["remote", "add", "-d", "storage", &real.url("dvc")]);
    repo.dvc(&["remote", "modify", "storage", "auth", "basic"]);
    repo.commit_all("storage");
    repo.dvc(&["remote", "modify", "--local", "storage", "user", "alice"]);
    repo.dvc(&[
        "remote", "modify", "--local", "storage", "password", "s3cret",
    ]);
    repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.git_dvc(&["install"]);

    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("data.txt", "the team's data\n");
    repo.git_dvc(&["add", "data.txt"]);
    let honest = repo.read(".dvc/config");
    let text = String::from_utf8(honest.clone()).unwrap();
    repo.write(
        ".dvc/config",
        text.replace(&real.url("dvc"), &evil.url("steal")),
    );
    let repointed = repo.commit_all("add data");
    repo.write(".dvc/config", &honest);
    repo.commit_all("tidy config");
    Scenario {
        repo,
        real,
        evil,
        repointed,
    }
}

#[test]
fn the_hook_refuses_a_commit_that_repoints_a_remote_and_sends_nothing_there() {
    let env = TestEnv::new();
    let s = scenario(&env);
    let run = s.repo.try_git(&["push", "origin", "feature"]);
    assert!(!run.success(), "the push must stop\n{}", run.describe());
    run.assert_stderr_contains(&s.repointed[..7]);
    run.assert_stderr_contains(&s.evil.url("steal"));
    run.assert_stderr_contains(&s.real.url("dvc"));
    run.assert_stderr_contains("git config dvc.trustCommittedRemotes true");
    assert!(
        s.evil.requests().is_empty(),
        "the attacker's server was contacted: {:?}",
        s.evil.requests()
    );
    assert!(
        s.repo
            .try_git(&["rev-parse", "--verify", "-q", "origin/feature"])
            .stdout
            .trim()
            .is_empty(),
        "the branch must not reach the server"
    );

    // `push -A` (every commit; `-a` sees only the clean tip) follows the same rule.
    let run = s.repo.try_git_dvc(&["push", "-A"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    run.assert_stderr_contains(&s.evil.url("steal"));
    assert!(s.evil.requests().is_empty(), "{:?}", s.evil.requests());
    // …and so does `status -c -A`, which also sends credentials with its requests.
    let run = s.repo.try_git_dvc(&["status", "-c", "-A"]);
    assert_ne!(run.code(), Some(0), "{}", run.describe());
    assert!(s.evil.requests().is_empty(), "{:?}", s.evil.requests());

    let mut ledger = Ledger::new("remote_trust");
    ledger.row(
        "hostile input",
        "a merged commit repoints DVC remote 'storage' (basic auth in config.local) at another HTTP server, reverted in the next commit",
        3,
        "git push (hook), push -A and status -c -A stop before any request, naming the commit and both URLs; 0 requests reach the other server",
    );
    ledger.write();
}

#[test]
fn the_current_state_and_matching_history_push_to_the_configured_server() {
    let env = TestEnv::new();
    let s = scenario(&env);
    // Drop the repointing commit: the same data, every commit agreeing with the user's
    // configuration on where `storage` is.
    s.repo.git(&["reset", "-q", "--hard", "main"]);
    s.repo.write("data.txt", "the team's data\n");
    s.repo.git_dvc(&["add", "data.txt"]);
    s.repo.commit_all("add data");
    // A commit may tune transfers differently (jobs, timeouts): that is not a location.
    s.repo.dvc(&["remote", "modify", "storage", "jobs", "3"]);
    s.repo.commit_all("jobs");
    let run = s.repo.try_git(&["push", "origin", "feature"]);
    run.assert_success();
    run.assert_stderr_contains(&format!(
        "1 file pushed to DVC remote 'storage' ({})",
        s.real.url("dvc")
    ));
    let posts: Vec<String> = s
        .real
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST "))
        .collect();
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert!(posts[0].ends_with(ALICE), "{posts:?}");
    assert!(s.evil.requests().is_empty());
}

#[test]
fn opting_in_uses_each_commits_own_config_as_dvc_does() {
    let env = TestEnv::new();
    let s = scenario(&env);
    s.repo.git(&["config", "dvc.trustCommittedRemotes", "true"]);
    let run = s.repo.try_git(&["push", "origin", "feature"]);
    run.assert_success();
    // The data went where the commit said, with config.local's password: DVC's rule,
    // chosen explicitly.
    let stolen: Vec<String> = s
        .evil
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST /steal/files/md5/"))
        .collect();
    assert_eq!(stolen.len(), 1, "{:?}", s.evil.requests());
    assert!(stolen[0].ends_with(ALICE), "{stolen:?}");
    run.assert_stderr_contains(&s.evil.url("steal"));
}

/// A nested project (`dvc init --subdir`) in someone's branch whose committed config points
/// its remote `storage` at another server: `git dvc check --rev branch` from a work tree
/// without that project refuses before any request, and a check with the branch checked
/// out never sends the outer project's `config.local` credentials there.
#[test]
fn a_nested_projects_committed_remote_gets_neither_requests_nor_outer_credentials() {
    let env = TestEnv::new();
    let evil = Recorder::start();
    let repo = env.dvc_repo("work");
    // An HTTP remote (never reached here): DVC's schema refuses HTTP credentials on a
    // local one.
    repo.dvc(&["remote", "add", "-d", "storage", "http://127.0.0.1:1/outer"]);
    repo.commit_all("storage");
    // Credentials for an HTTP remote named `storage`, as a user keeps them.
    repo.write(
        ".dvc/config.local",
        "['remote \"storage\"']\n    auth = basic\n    user = alice\n    password = s3cret\n",
    );
    repo.git(&["checkout", "-q", "-b", "pr"]);
    std::fs::create_dir_all(repo.path("sub")).unwrap();
    let sub = env.repo_at(repo.path("sub"));
    sub.dvc(&["init", "-q", "--subdir"]);
    sub.write("f", "nested data\n");
    sub.dvc(&["add", "-q", "f"]);
    sub.write(
        ".dvc/config",
        format!(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
            evil.url("x")
        ),
    );
    repo.commit_all("nested project");
    repo.git(&["checkout", "-q", "main"]);

    let run = repo.try_git_dvc(&["check", "--rev", "pr"]);
    assert_ne!(run.code(), Some(0), "{}", run.describe());
    run.assert_stderr_contains(
        "the .dvc/config of revision pr points DVC remote 'storage' (used for 'sub/f')",
    );
    run.assert_stderr_contains(&evil.url("x"));
    run.assert_stderr_contains("your configuration does not define 'storage'");
    assert!(evil.requests().is_empty(), "{:?}", evil.requests());

    // Checked out, the work tree names that location itself (a check without
    // --storage-config trusts the work tree), but the outer project's password stays home.
    repo.git(&["checkout", "-q", "pr"]);
    let run = repo.try_git_dvc(&["check"]);
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    let requests = evil.requests();
    assert!(!requests.is_empty(), "{}", run.describe());
    assert!(
        requests.iter().all(|r| r.ends_with(" -")),
        "credentials sent: {requests:?}"
    );
}
