//! Remote options read as DVC reads them (issue 20, items 2, 3, 5, 6), each case side by
//! side with real DVC against real servers on 127.0.0.1:
//!
//! * credentials: a private moto that checks signatures and permissions (two IAM users,
//!   only one allowed), behind a recording proxy that shows which key signed each
//!   request;
//! * server-side encryption on large objects: the request sequence of a multipart upload
//!   as recorded, with moto checking every signature;
//! * TLS: moto over HTTPS with a self-signed certificate that is its own CA;
//! * `ask_password`: a password typed on a real pseudo-terminal, and a hook that is told
//!   how to provide it instead.

use crate::common;

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::recording_proxy::{Recorded, RecordingProxy};
use common::remotes::{self, Server};
use common::*;

/// Variables that would steer AWS clients or TLS from outside the test.
const OUTSIDE_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_CA_BUNDLE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Runs `program args` in `repo` with the outside AWS/TLS variables removed and `vars`
/// set.
fn run_clean(repo: &Repo<'_>, program: &OsStr, args: &[&str], vars: &[(&str, String)]) -> Run {
    let mut cmd = repo.env.command(program, &repo.dir);
    for var in OUTSIDE_VARS {
        cmd.env_remove(var);
    }
    // HOME is the test's own: no ~/.aws; no instance metadata to wait for.
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in vars {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.args(args);
    run_command(cmd, Duration::from_secs(300))
}

pub(crate) fn ours(repo: &Repo<'_>, args: &[&str], vars: &[(&str, String)]) -> Run {
    run_clean(repo, git_dvc_bin().as_os_str(), args, vars)
}

pub(crate) fn dvc(repo: &Repo<'_>, args: &[&str], vars: &[(&str, String)]) -> Run {
    run_clean(repo, dvc3_bin().as_os_str(), args, vars)
}

/// A private moto that checks signatures and IAM permissions once set up: bucket `bkt`,
/// user alice (may do anything in S3) and user bob (may do nothing).
struct AuthMoto {
    _server: Server,
    port: u16,
    alice: (String, String),
    bob: (String, String),
}

fn moto_python(moto: &str) -> PathBuf {
    Path::new(moto).with_file_name("python")
}

fn auth_moto(env: &TestEnv) -> Option<AuthMoto> {
    let [moto] = remotes::server_vars(["GIT_DVC_TEST_MOTO_SERVER"])?;
    let port = remotes::free_port();
    let mut cmd = Command::new(&moto);
    cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()])
        // The setup below takes 7 requests; every later one must be signed by a user.
        .env("INITIAL_NO_AUTH_ACTION_COUNT", "7");
    let server = Server::start("moto (auth)", cmd, port, &env.path("moto-auth.log"));
    let script = r#"
import boto3, json, sys
kw = dict(endpoint_url=sys.argv[1], aws_access_key_id="setup", aws_secret_access_key="setup",
          region_name="us-east-1")
iam, s3 = boto3.client("iam", **kw), boto3.client("s3", **kw)
s3.create_bucket(Bucket="bkt")
iam.create_user(UserName="alice")
arn = iam.create_policy(PolicyName="s3-all", PolicyDocument=json.dumps({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))["Policy"]["Arn"]
iam.attach_user_policy(UserName="alice", PolicyArn=arn)
a = iam.create_access_key(UserName="alice")["AccessKey"]
iam.create_user(UserName="bob")
b = iam.create_access_key(UserName="bob")["AccessKey"]
print(a["AccessKeyId"], a["SecretAccessKey"], b["AccessKeyId"], b["SecretAccessKey"])
"#;
    let out = Command::new(moto_python(&moto))
        .args(["-c", script, &format!("http://127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "moto setup: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    Some(AuthMoto {
        _server: server,
        port,
        alice: (keys[0].clone(), keys[1].clone()),
        bob: (keys[2].clone(), keys[3].clone()),
    })
}

/// `.dvc/config.local`: remote `r` at `url` with `options` (values quoted as DVC does).
pub(crate) fn set_remote(repo: &Repo<'_>, url: &str, options: &[(&str, &str)]) {
    let mut text = format!("[core]\n    remote = r\n['remote \"r\"']\n    url = {url}\n");
    for (k, v) in options {
        text.push_str(&format!("    {k} = \"{v}\"\n"));
    }
    repo.write(".dvc/config.local", text);
}

fn credentials_file(env: &TestEnv, name: &str, profile: &str, key: &(String, String)) -> String {
    let path = env.path(name);
    std::fs::write(
        &path,
        format!(
            "[{profile}]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            key.0, key.1
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_string()
}

/// botocore's order, against two real identities: an explicit profile beats the
/// `AWS_*` keys (`AWS_PROFILE` does not), the remote's own keys beat everything, and
/// `AWS_SHARED_CREDENTIALS_FILE` beats `credentialpath`. Each case: the same outcome as
/// `dvc push`, and every request of ours signed by the key botocore picks.
#[test]
fn credentials_are_chosen_as_botocore_chooses() {
    let env = TestEnv::new();
    let Some(moto) = auth_moto(&env) else { return };
    let proxy = RecordingProxy::start(moto.port);
    let endpoint = proxy.endpoint();
    let alice_file = credentials_file(&env, "alice-creds", "alice", &moto.alice);
    let bob_as_alice = credentials_file(&env, "bob-creds", "alice", &moto.bob);
    let bob_env = [
        ("AWS_ACCESS_KEY_ID", moto.bob.0.clone()),
        ("AWS_SECRET_ACCESS_KEY", moto.bob.1.clone()),
    ];
    let repo = env.dvc_repo("repo");
    repo.dvc_add_file("data.txt", "whose data\n");
    repo.commit_all("data");
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, String)>,
        Vec<(&'a str, String)>,
        &'a str,
    );
    let cases: Vec<Case> = vec![
        (
            "a profile in the remote beats the AWS_* keys",
            vec![
                ("profile", "alice".into()),
                ("credentialpath", alice_file.clone()),
            ],
            bob_env.to_vec(),
            moto.alice.0.as_str(),
        ),
        (
            "AWS_PROFILE does not beat them",
            vec![("credentialpath", alice_file.clone())],
            [bob_env.to_vec(), vec![("AWS_PROFILE", "alice".into())]].concat(),
            moto.bob.0.as_str(),
        ),
        (
            "the remote's keys beat everything",
            vec![
                ("access_key_id", moto.alice.0.clone()),
                ("secret_access_key", moto.alice.1.clone()),
                ("profile", "alice".into()),
                ("credentialpath", bob_as_alice.clone()),
            ],
            bob_env.to_vec(),
            moto.alice.0.as_str(),
        ),
        (
            "AWS_SHARED_CREDENTIALS_FILE beats credentialpath",
            vec![
                ("profile", "alice".into()),
                ("credentialpath", alice_file.clone()),
            ],
            vec![("AWS_SHARED_CREDENTIALS_FILE", bob_as_alice.clone())],
            moto.bob.0.as_str(),
        ),
    ];
    for (i, (label, options, vars, expected_key)) in cases.into_iter().enumerate() {
        let allowed = expected_key == moto.alice.0;
        let mut outcome = Vec::new();
        for (tool, prefix) in [("dvc", "theirs"), ("git-dvc", "ours")] {
            let mut opts: Vec<(&str, &str)> =
                options.iter().map(|(k, v)| (*k, v.as_str())).collect();
            opts.push(("endpointurl", &endpoint));
            opts.push(("region", "us-east-1"));
            set_remote(&repo, &format!("s3://bkt/case{i}-{prefix}"), &opts);
            proxy.take();
            let run = if tool == "dvc" {
                dvc(&repo, &["push"], &vars)
            } else {
                ours(&repo, &["push"], &vars)
            };
            let recorded = proxy.take();
            outcome.push(run.success());
            if tool == "git-dvc" {
                assert_eq!(run.success(), allowed, "{label}: {}", run.describe());
                let keys: Vec<Option<&str>> = recorded.iter().map(Recorded::access_key).collect();
                assert!(
                    !keys.is_empty() && keys.iter().all(|k| *k == Some(expected_key)),
                    "{label}: requests signed by {keys:?}, expected {expected_key}"
                );
            }
        }
        assert_eq!(outcome[0], outcome[1], "{label}: DVC and git-dvc disagree");
    }
}

/// Objects at or above the multipart threshold: the SSE and KMS headers on the request
/// that starts the upload only (S3 refuses them on parts and on the completion), SSE-C on
/// every request about the object, as botocore sends them; moto checks every signature,
/// and DVC reads what was written.
#[test]
fn encryption_headers_only_where_s3_takes_them() {
    let env = TestEnv::new();
    let Some(moto) = auth_moto(&env) else { return };
    let proxy = RecordingProxy::start(moto.port);
    let endpoint = proxy.endpoint();
    let repo = env.dvc_repo("repo");
    // Over the 50 MiB part size: two parts.
    let big = pseudo_random_bytes(7, 52 << 20);
    repo.write("big.bin", &big);
    repo.write("small.txt", "small\n");
    repo.git_dvc(&["add", "-q", "big.bin", "small.txt"]);
    repo.commit_all("data");
    repo.git(&["config", "dvc.multipartThreshold", "1m"]);
    let big_key = format!("files/md5/{}", {
        let md5 = md5_hex(&big);
        format!("{}/{}", &md5[..2], &md5[2..])
    });
    let ssec_key = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let keys = [
        ("access_key_id", moto.alice.0.as_str()),
        ("secret_access_key", moto.alice.1.as_str()),
        ("endpointurl", endpoint.as_str()),
        ("region", "us-east-1"),
    ];
    let sse = [
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
    ];
    let ssec = [
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
    ];
    for (prefix, extra, on_start, on_every) in [
        (
            "kms",
            vec![("sse", "aws:kms"), ("sse_kms_key_id", "kid-1")],
            &sse[..],
            &[][..],
        ),
        (
            "ssec",
            vec![("sse_customer_key", ssec_key)],
            &ssec[..],
            &ssec[..],
        ),
    ] {
        let mut opts = keys.to_vec();
        opts.extend(extra);
        set_remote(&repo, &format!("s3://bkt/{prefix}"), &opts);
        proxy.take();
        let run = ours(&repo, &["push"], &[]);
        assert!(run.success(), "{prefix}: {}", run.describe());
        let recorded = proxy.take();
        let about_big: Vec<&Recorded> = recorded
            .iter()
            .filter(|r| r.target.contains(&big_key))
            .collect();
        let enc = |r: &Recorded| r.headers_starting("x-amz-server-side-encryption");
        let want = |names: &[&str]| {
            let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
            v.sort();
            v
        };
        let start: Vec<_> = about_big
            .iter()
            .filter(|r| r.method == "POST" && r.target.ends_with("?uploads"))
            .collect();
        assert_eq!(start.len(), 1, "{prefix}: {recorded:#?}");
        assert_eq!(enc(start[0]), want(on_start), "{prefix}: start");
        let parts: Vec<_> = about_big
            .iter()
            .filter(|r| r.method == "PUT" && r.target.contains("partNumber="))
            .collect();
        assert_eq!(parts.len(), 2, "{prefix}: {recorded:#?}");
        let completion: Vec<_> = about_big
            .iter()
            .filter(|r| r.method == "POST" && r.target.contains("uploadId="))
            .collect();
        assert_eq!(completion.len(), 1, "{prefix}: {recorded:#?}");
        for r in parts.iter().chain(&completion) {
            assert_eq!(
                enc(r),
                want(on_every),
                "{prefix}: {} {}",
                r.method,
                r.target
            );
            assert!(r.header("x-amz-acl").is_none());
        }
        // The small object: one PUT with everything.
        let small: Vec<_> = recorded
            .iter()
            .filter(|r| {
                r.method == "PUT" && !r.target.contains('?') && !r.target.contains(&big_key)
            })
            .collect();
        assert_eq!(small.len(), 1, "{prefix}: {recorded:#?}");
        assert_eq!(enc(small[0]), want(on_start), "{prefix}: small");

        // DVC reads it back, with the same options.
        let clone = env.clone_repo(&repo.dir, &format!("clone-{prefix}"));
        set_remote(&clone, &format!("s3://bkt/{prefix}"), &opts);
        let run = dvc(&clone, &["pull"], &[]);
        assert!(run.success(), "{prefix}: {}", run.describe());
        assert!(clone.read("big.bin") == big, "{prefix}: big.bin differs");
    }
}

/// A certificate made by `openssl req -x509`: self-signed and its own CA.
fn self_signed(env: &TestEnv, name: &str) -> (String, String) {
    let cert = env.path(&format!("{name}.pem"));
    let key = env.path(&format!("{name}.key"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
        .arg("ec_paramgen_curve:prime256v1")
        .args(["-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"])
        .args(["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success());
    (
        cert.to_str().unwrap().to_string(),
        key.to_str().unwrap().to_string(),
    )
}

/// moto over HTTPS with a certificate that is its own CA: trusted through `ssl_verify`,
/// `AWS_CA_BUNDLE` or `REQUESTS_CA_BUNDLE`, in botocore's order, and refused otherwise;
/// every case the same as `dvc push`.
#[test]
fn s3_over_tls_trusts_what_botocore_trusts() {
    let Some([moto]) = remotes::server_vars(["GIT_DVC_TEST_MOTO_SERVER"]) else {
        return;
    };
    let env = TestEnv::new();
    let (cert, key) = self_signed(&env, "server");
    let (other, _) = self_signed(&env, "other");
    let port = remotes::free_port();
    let mut cmd = Command::new(&moto);
    cmd.args([
        "-H",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-c",
        &cert,
        "-k",
        &key,
    ]);
    let _server = Server::start("moto (tls)", cmd, port, &env.path("moto-tls.log"));
    let endpoint = format!("https://127.0.0.1:{port}");
    let status = reqwest::blocking::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .build()
        .unwrap()
        .put(format!("{endpoint}/tls"))
        .send()
        .unwrap()
        .status();
    assert!(status.is_success(), "create bucket: {status}");
    let repo = env.dvc_repo("repo");
    repo.dvc_add_file("data.txt", "over tls\n");
    repo.commit_all("data");
    /// (label, ssl_verify, variables, trusted)
    type Case<'a> = (&'a str, Option<&'a str>, Vec<(&'a str, String)>, bool);
    let cases: Vec<Case> = vec![
        (
            "AWS_CA_BUNDLE",
            None,
            vec![("AWS_CA_BUNDLE", cert.clone())],
            true,
        ),
        (
            "another CA",
            None,
            vec![("AWS_CA_BUNDLE", other.clone())],
            false,
        ),
        ("no bundle", None, vec![], false),
        (
            "ssl_verify over AWS_CA_BUNDLE",
            Some(cert.as_str()),
            vec![("AWS_CA_BUNDLE", other.clone())],
            true,
        ),
        ("ssl_verify = false", Some("false"), vec![], true),
        // botocore reads it too (after AWS_CA_BUNDLE), for requests' sake.
        (
            "REQUESTS_CA_BUNDLE",
            None,
            vec![("REQUESTS_CA_BUNDLE", cert.clone())],
            true,
        ),
        (
            "AWS_CA_BUNDLE over REQUESTS_CA_BUNDLE",
            None,
            vec![
                ("AWS_CA_BUNDLE", other.clone()),
                ("REQUESTS_CA_BUNDLE", cert.clone()),
            ],
            false,
        ),
    ];
    for (i, (label, ssl_verify, vars, trusted)) in cases.into_iter().enumerate() {
        let mut outcome = Vec::new();
        for tool in ["dvc", "git-dvc"] {
            let mut opts = vec![
                ("endpointurl", endpoint.as_str()),
                ("access_key_id", "testing"),
                ("secret_access_key", "testing"),
                ("region", "us-east-1"),
            ];
            if let Some(v) = ssl_verify {
                opts.push(("ssl_verify", v));
            }
            set_remote(&repo, &format!("s3://tls/case{i}-{tool}"), &opts);
            let run = if tool == "dvc" {
                dvc(&repo, &["push"], &vars)
            } else {
                ours(&repo, &["push"], &vars)
            };
            if tool == "git-dvc" {
                assert_eq!(run.success(), trusted, "{label}: {}", run.describe());
            }
            outcome.push(run.success());
        }
        assert_eq!(outcome[0], outcome[1], "{label}: DVC and git-dvc disagree");
    }
}

/// Runs `program args` in `dir` on a new pseudo-terminal (its controlling terminal), and
/// types `answer` once `prompt` has appeared. Returns (exit success, all output).
fn on_a_terminal(
    env: &TestEnv,
    program: &Path,
    args: &[&str],
    dir: &Path,
    prompt: &str,
    answer: &str,
) -> (bool, String) {
    let (mut master, slave) = unsafe {
        let (mut m, mut s) = (0, 0);
        assert_eq!(
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null()
            ),
            0
        );
        (
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(m),
            <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(s),
        )
    };
    let mut cmd = env.command(program, dir);
    cmd.args(args)
        .stdin(slave.try_clone().unwrap())
        .stdout(slave.try_clone().unwrap())
        .stderr(slave.try_clone().unwrap());
    // SAFETY: setsid and TIOCSCTTY are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    // Only the child may hold the terminal's other end: the master then reads end of
    // file (EIO) once it exits.
    drop(cmd);
    drop(slave);
    let output = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut reader = master.try_clone().unwrap();
    let sink = output.clone();
    let reading = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut answered = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if !answered && String::from_utf8_lossy(&output.lock().unwrap()).contains(prompt) {
            // Typed after the prompt, as a person would (input typed earlier is flushed).
            std::thread::sleep(Duration::from_millis(200));
            master.write_all(format!("{answer}\n").as_bytes()).unwrap();
            answered = true;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!(
                "no exit within 120 s; the terminal showed:\n{}",
                String::from_utf8_lossy(&output.lock().unwrap())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(master);
    let _ = reading.join();
    let text = String::from_utf8_lossy(&output.lock().unwrap()).into_owned();
    (status.success(), text)
}

/// `ask_password`: on a terminal the password is asked for with DVC's prompt and the
/// push goes through; without a terminal, and in the pre-push hook, the command fails and
/// says how to store the password.
#[test]
fn ask_password_on_a_terminal_and_never_in_a_hook() {
    let Some([script, python]) =
        remotes::server_vars(["GIT_DVC_TEST_HTTP_SERVER", "GIT_DVC_TEST_HTTP_PYTHON"])
    else {
        return;
    };
    let env = TestEnv::new();
    let port = remotes::free_port();
    let root = env.mkdir("http-data");
    let mut cmd = Command::new(python);
    cmd.arg(script)
        .args(["--port", &port.to_string()])
        .arg("--root")
        .arg(&root)
        .args(["--user", "u", "--password", "pw"]);
    let _server = Server::start("http upload server", cmd, port, &env.path("http.log"));
    let url = format!("http://127.0.0.1:{port}/x");
    let repo = env.dvc_repo("repo");
    repo.dvc_add_file("data.txt", "asked for\n");
    repo.commit_all("data");
    set_remote(
        &repo,
        &url,
        &[("auth", "basic"), ("user", "u"), ("ask_password", "true")],
    );
    let prompt = format!("Enter a password for host '{url}' user 'u':");
    let (ok, out) = on_a_terminal(&env, &git_dvc_bin(), &["push"], &repo.dir, &prompt, "pw");
    assert!(ok, "{out}");
    assert!(
        out.contains(&prompt) && out.contains(&pushed_line(1)),
        "{out}"
    );
    assert!(!out.contains("pw\r\n"), "the password was echoed: {out}");
    // DVC asks the same question, but names the host `'None'` (dvc-http passes a URL it
    // does not have); git-dvc names the remote's URL.
    repo.write("more.txt", "more\n");
    repo.dvc(&["add", "-q", "more.txt"]);
    let theirs = "Enter a password for host 'None' user 'u':";
    let (ok, out) = on_a_terminal(&env, &dvc3_bin(), &["push"], &repo.dir, theirs, "pw");
    assert!(ok && out.contains(theirs), "{out}");

    // Without a terminal (a new session has none).
    repo.write("third.txt", "third\n");
    repo.git_dvc(&["add", "-q", "third.txt"]);
    let mut cmd = env.command("setsid", &repo.dir);
    cmd.arg("-w")
        .arg(git_dvc_bin())
        .arg("push")
        .stdin(Stdio::null());
    let run = run_command(cmd, Duration::from_secs(60));
    run.assert_code(251);
    run.assert_stderr_contains(
        "ask_password is set, but git-dvc does not prompt without a terminal",
    )
    .assert_stderr_contains("dvc remote modify --local r password <password>");

    // In the pre-push hook, even from a terminal.
    repo.commit_all("more data");
    let origin = env.bare_repo("origin.git");
    repo.git(&["remote", "add", "origin", origin.dir.to_str().unwrap()]);
    repo.git_dvc(&["install"]);
    let (ok, out) = on_a_terminal(
        &env,
        Path::new("git"),
        &["push", "origin", "main"],
        &repo.dir,
        "never shown",
        "",
    );
    assert!(!ok, "{out}");
    assert!(
        out.contains("ask_password is set, but git-dvc does not prompt in a hook"),
        "{out}"
    );
    assert!(origin.try_rev_parse("main").is_none());
}
