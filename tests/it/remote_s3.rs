//! The S3 backend against a real S3-compatible server (moto in server mode, started by
//! `scripts/test.sh`: `GIT_DVC_TEST_S3_ENDPOINT`, and `GIT_DVC_TEST_MOTO_SERVER` for
//! private instances).

use crate::common;

use std::process::Command;

use common::remotes::{self, FaultServer, RemoteSetup, Server};
use common::TestEnv;

fn remote(endpoint: &str, bucket: &str) -> RemoteSetup {
    RemoteSetup::new(
        format!("s3://{bucket}/some/prefix"),
        &[
            ("endpointurl", endpoint),
            ("access_key_id", "testing"),
            ("secret_access_key", "testing"),
            ("region", "us-east-1"),
        ],
    )
}

#[test]
fn git_dvc_push_then_dvc_pull() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("push-pull");
    remotes::create_s3_bucket(&endpoint, &bucket);
    remotes::push_then_dvc_pull(&TestEnv::new(), &remote(&endpoint, &bucket));
}

#[test]
fn dvc_push_then_git_dvc_status_in_sync() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("dvc-push");
    remotes::create_s3_bucket(&endpoint, &bucket);
    remotes::dvc_push_then_status(&TestEnv::new(), &remote(&endpoint, &bucket));
}

#[test]
fn dvc_push_then_git_dvc_fetch_like_dvc_fetch() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("fetch");
    remotes::create_s3_bucket(&endpoint, &bucket);
    // The tampered copy goes straight to the server, through botocore (DVC's own S3
    // client library).
    let tamper = |key: &str, bytes: &[u8]| {
        use std::io::Write;
        let python = common::dvc3_bin().with_file_name("python");
        let mut child = Command::new(python)
            .args([
                "-c",
                "import sys, botocore.session\n\
                 c = botocore.session.get_session().create_client('s3', endpoint_url=sys.argv[1], \
                 aws_access_key_id='testing', aws_secret_access_key='testing', region_name='us-east-1')\n\
                 c.put_object(Bucket=sys.argv[2], Key=sys.argv[3], Body=sys.stdin.buffer.read())\n",
                &endpoint,
                &bucket,
                &format!("some/prefix/{key}"),
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        assert!(child.wait().unwrap().success(), "tamper: put_object failed");
    };
    remotes::dvc_push_then_git_dvc_fetch(
        &TestEnv::new(),
        &remote(&endpoint, &bucket),
        Some(&tamper),
    );
}

#[test]
fn credentials_from_a_credentials_file_and_profile() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let env = TestEnv::new();
    let bucket = remotes::unique("profile");
    remotes::create_s3_bucket(&endpoint, &bucket);
    let creds = env.path("aws-credentials");
    std::fs::write(
        &creds,
        "[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n\
         [dvc]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let creds = creds.to_str().unwrap().to_string();
    let remote = RemoteSetup::new(
        format!("s3://{bucket}"),
        &[
            ("endpointurl", endpoint.as_str()),
            ("credentialpath", creds.as_str()),
            ("profile", "dvc"),
        ],
    );
    remotes::push_then_dvc_pull(&env, &remote);
}

/// No `endpointurl` in the remote: the endpoint comes from `~/.aws/config`, as botocore
/// (and so `dvc pull`) finds it.
#[test]
fn endpoint_and_credentials_from_the_shared_aws_files() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let env = TestEnv::new();
    let bucket = remotes::unique("aws-config");
    remotes::create_s3_bucket(&endpoint, &bucket);
    let aws = env.mkdir("home/.aws");
    std::fs::write(
        aws.join("config"),
        format!("[default]\nregion = us-east-1\nendpoint_url = {endpoint}\n"),
    )
    .unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let remote = RemoteSetup::new(format!("s3://{bucket}/p"), &[]);
    remotes::push_then_dvc_pull(&env, &remote);
}

#[test]
fn missing_bucket_is_a_clear_error() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 5);
    remotes::configure_remote(&repo, &remote(&endpoint, &remotes::unique("absent")));
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("remote 'r'");
    assert!(
        run.stderr.contains("NoSuchBucket") || run.stderr.contains("bucket"),
        "{}",
        run.describe()
    );
}

#[test]
fn server_stopped_mid_push() {
    let Some([moto]) = remotes::server_vars(["GIT_DVC_TEST_MOTO_SERVER"]) else {
        return;
    };
    let env = TestEnv::new();
    let port = remotes::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let bucket = "fault";
    let log = env.path("moto.log");
    let start = || {
        let mut cmd = Command::new(&moto);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        Server::start("moto", cmd, port, &log)
    };
    // moto keeps everything in memory: a restarted server needs its bucket again.
    let prepare = || remotes::create_s3_bucket(&endpoint, bucket);
    let has_objects = || {
        reqwest::blocking::get(format!("{endpoint}/{bucket}?list-type=2"))
            .and_then(|r| r.text())
            .is_ok_and(|body| body.contains("<Key>"))
    };
    remotes::stop_mid_push(
        &env,
        &remote(&endpoint, bucket),
        FaultServer {
            start: &start,
            prepare: &prepare,
            has_objects: &has_objects,
        },
    );
}

/// Lists every key in `bucket` (moto answers unsigned requests).
fn keys(endpoint: &str, bucket: &str) -> Vec<String> {
    let body = reqwest::blocking::get(format!("{endpoint}/{bucket}?list-type=2"))
        .and_then(|r| r.text())
        .unwrap();
    body.split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(str::to_string)
        .collect()
}

/// A file above `dvc.multipartThreshold` goes up in parts and comes back intact through
/// DVC; corrupt cache objects never appear in the bucket, whether the server checks them
/// (`Content-MD5` on a single request) or git-dvc does (multipart).
#[test]
fn multipart_upload_and_corrupt_objects() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let bucket = remotes::unique("multipart");
    remotes::create_s3_bucket(&endpoint, &bucket);
    let repo = env.dvc_repo("repo");
    let big = common::pseudo_random_bytes(77, 110 << 20);
    let big_bad = common::pseudo_random_bytes(78, 110 << 20);
    repo.write("big.bin", &big);
    repo.write("big-bad.bin", &big_bad);
    repo.write("small-bad.txt", "small and corrupt\n");
    repo.dvc(&["add", "-q", "big.bin", "big-bad.bin", "small-bad.txt"]);
    repo.commit_all("big");
    repo.git(&["config", "dvc.multipartThreshold", "64m"]);
    for (bytes, name) in [
        (&big_bad[..], "big-bad.bin"),
        (&b"small and corrupt\n"[..], "small-bad.txt"),
    ] {
        let path = repo.cache_object(&common::md5_hex(bytes), false);
        let mut data = std::fs::read(&path).unwrap();
        let last = data.len() - 1;
        data[last] ^= 0x55; // the very end: only the final hash check can see it
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::write(&path, &data).unwrap();
        eprintln!("corrupted {name}");
    }
    let remote = remote(&endpoint, &bucket);
    remotes::configure_remote(&repo, &remote);
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("2 files failed to upload");
    run.assert_stderr_contains("corrupt");
    let stored = keys(&endpoint, &bucket);
    let big_key = format!(
        "some/prefix/{}",
        common::object_rel_path(&common::md5_hex(&big), false)
    );
    assert_eq!(stored, vec![big_key], "only the good object may be stored");

    let clone = env.clone_repo(&repo.dir, "clone");
    remotes::configure_remote(&clone, &remote);
    clone.dvc(&["pull", "big.bin.dvc"]);
    assert!(std::fs::read(clone.path("big.bin")).unwrap() == big);
}
