//! The server check against S3 storage (moto on 127.0.0.1, started by `scripts/test.sh`):
//! the bare repository's `$GIT_DIR/dvc/config` names an S3 remote; a push whose data is not
//! in the bucket is rejected, the same push after `git dvc push` is accepted, and a
//! directory whose `.dir` is in the bucket but one member is not is rejected (the manifest
//! is read from the bucket: the server has no cache).

use crate::common;

use common::remotes::{self, RemoteSetup};
use common::*;

/// Stores an object behind git-dvc's back (moto accepts unsigned writes).
fn put_key(endpoint: &str, bucket: &str, key: &str, body: Vec<u8>) {
    let resp = reqwest::blocking::Client::new()
        .put(format!("{endpoint}/{bucket}/{key}"))
        .body(body)
        .send()
        .unwrap_or_else(|e| panic!("cannot reach {endpoint}: {e}"));
    assert!(resp.status().is_success(), "put {key}: {}", resp.status());
}

const OPTIONS: [(&str, &str); 3] = [
    ("access_key_id", "testing"),
    ("secret_access_key", "testing"),
    ("region", "us-east-1"),
];

fn s3_config_text(endpoint: &str, bucket: &str) -> String {
    let mut text = format!(
        "[core]\n    remote = storage\n['remote \"storage\"']\n    url = s3://{bucket}/dvc\n    endpointurl = {endpoint}\n"
    );
    for (k, v) in OPTIONS {
        text.push_str(&format!("    {k} = {v}\n"));
    }
    text
}

#[test]
fn s3_storage_rejects_missing_data_and_accepts_after_git_dvc_push() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let bucket = remotes::unique("prereceive");
    remotes::create_s3_bucket(&endpoint, &bucket);

    let env = TestEnv::new();
    let bare = env.bare_repo("server.git");
    env.git_dvc(&bare.dir, &["install", "--server"]);
    write_file(
        &bare.dir.join("dvc/config"),
        s3_config_text(&endpoint, &bucket).as_bytes(),
    );

    let repo = env.dvc_repo("work");
    let mut options: Vec<(&str, &str)> = vec![("endpointurl", endpoint.as_str())];
    options.extend(OPTIONS);
    remotes::configure_remote(
        &repo,
        &RemoteSetup::new(format!("s3://{bucket}/dvc"), &options),
    );
    repo.git(&["remote", "add", "origin", bare.dir.to_str().unwrap()]);
    repo.write("data/a.txt", "a\n");
    repo.write("data/sub/b.txt", "b\n");
    repo.write("model.bin", "model\n");
    repo.dvc(&["add", "-q", "data", "model.bin"]);
    repo.commit_all("data");

    let path = env.path_with(&[std::path::Path::new(env!("CARGO_BIN_EXE_git-dvc"))
        .parent()
        .unwrap()]);
    let push = |repo: &Repo<'_>| {
        repo.try_git_with_env(
            &["push", "-q", "origin", "main"],
            &[("PATH", path.as_os_str())],
        )
    };

    let rejected = push(&repo);
    assert!(!rejected.success(), "{}", rejected.describe());
    rejected.assert_stderr_contains("push rejected");
    rejected.assert_stderr_contains("model.bin@");
    assert!(bare.try_rev_parse("refs/heads/main").is_none());

    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(4));
    let accepted = push(&repo);
    assert!(accepted.success(), "{}", accepted.describe());

    // A directory whose manifest is in the bucket but one member is not: the member is
    // gone from the cache, so `git dvc push` holds the manifest back; then the manifest is
    // put there by hand.
    repo.write("data/c.txt", "c\n");
    repo.dvc(&["add", "-q", "data"]);
    repo.commit_all("more data");
    let member = repo.path(&format!(".dvc/cache/files/md5/{}", md5_key("c\n")));
    std::fs::remove_file(&member).unwrap();
    repo.git_dvc(&["push"]);
    let manifest = std::fs::read_dir(repo.path(".dvc/cache/files/md5"))
        .unwrap()
        .flat_map(|shard| std::fs::read_dir(shard.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".dir"))
        .find(|p| String::from_utf8_lossy(&std::fs::read(p).unwrap()).contains("c.txt"))
        .expect("the new directory manifest is in the cache");
    let name = manifest.file_name().unwrap().to_string_lossy().into_owned();
    let shard = manifest
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    put_key(
        &endpoint,
        &bucket,
        &format!("dvc/files/md5/{shard}/{name}"),
        std::fs::read(&manifest).unwrap(),
    );
    let before = bare.try_rev_parse("refs/heads/main");
    let rejected = push(&repo);
    assert!(!rejected.success(), "{}", rejected.describe());
    rejected.assert_stderr_contains("data/c.txt@");
    assert_eq!(bare.try_rev_parse("refs/heads/main"), before);
}

/// `xx/yyyy…` for bytes' md5.
fn md5_key(content: &str) -> String {
    use md5::{Digest, Md5};
    let hex = hex::encode(Md5::digest(content.as_bytes()));
    format!("{}/{}", &hex[..2], &hex[2..])
}
