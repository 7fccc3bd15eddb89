//! Network faults against every real storage server `scripts/test.sh` starts (moto,
//! Azurite, fake-gcs-server, the HTTP upload server, wsgidav, sshd), injected by a TCP
//! proxy in front of each ([`common::fault_proxy`]): connection resets, HTTP 500 and 429
//! answers, slow responses and a server that never answers.
//!
//! * A few faults (fewer than the attempts any call gets) are absorbed: `git dvc push`
//!   exits 0 and the remote is complete.
//! * Many faults may fail the push, which then names the remote and exits 1.
//!
//! After every push, faulted or not: every object on the storage has the bytes its name
//! says, no `.dir` lacks a member, and (after the last push) no temporary file is left;
//! a re-run completes and real DVC finds the remote in sync.
//!
//! The server-killed-mid-push case is `stop_mid_push` in each `tests/it/remote_*.rs`.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::fault_proxy::{Fault, FaultProxy};
use common::reliability::Ledger;
use common::remotes::{self, RemoteSetup};
use common::*;

/// Small timeouts so that a server that never answers costs seconds, not minutes.
const TIMEOUT: &str = "5";

/// The directory a remote's files are in, on a file-backed server.
type FsRoot = Box<dyn Fn(&RemoteSetup) -> PathBuf>;

/// One storage server and how to make a fresh remote location on it, reached through the
/// proxy on `port`.
struct Backend {
    name: &'static str,
    upstream: u16,
    /// Speaks HTTP, so HTTP status answers apply (not SSH).
    http: bool,
    remote: Box<dyn Fn(u16) -> RemoteSetup>,
    /// Where the server keeps the remote's files, when they are plain files: the checks
    /// read them there (HTTP cannot list) and look for temporary files.
    fs_root: Option<FsRoot>,
    /// Whether a timeout can be configured for it (DVC has none for `gs://`, where the
    /// default is 60 s): the never-answering server is tried only where it can.
    timeout: bool,
}

fn port_of(url: &str) -> u16 {
    let tail = url.rsplit(':').next().unwrap();
    let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("no port in {url}"))
}

fn lower_unique(label: &str) -> String {
    remotes::unique(label).to_lowercase()
}

fn s3() -> Option<Backend> {
    let endpoint = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT")?;
    Some(Backend {
        name: "S3 (moto)",
        upstream: port_of(&endpoint),
        http: true,
        remote: Box::new(move |port| {
            let bucket = lower_unique("net");
            remotes::create_s3_bucket(&endpoint, &bucket);
            let proxied = format!("http://127.0.0.1:{port}");
            RemoteSetup::new(
                format!("s3://{bucket}/store"),
                &[
                    ("endpointurl", &proxied),
                    ("access_key_id", "testing"),
                    ("secret_access_key", "testing"),
                    ("region", "us-east-1"),
                    ("read_timeout", TIMEOUT),
                    ("connect_timeout", TIMEOUT),
                ],
            )
        }),
        fs_root: None,
        timeout: true,
    })
}

fn azure() -> Option<Backend> {
    let conn = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING")?;
    let endpoint = conn
        .split(';')
        .find_map(|p| p.strip_prefix("BlobEndpoint="))
        .expect("BlobEndpoint in the connection string")
        .to_string();
    let upstream = port_of(
        endpoint
            .trim_end_matches("/devstoreaccount1/")
            .trim_end_matches("/devstoreaccount1"),
    );
    Some(Backend {
        name: "Azure (Azurite)",
        upstream,
        http: true,
        remote: Box::new(move |port| {
            let container = lower_unique("net");
            remotes::create_azure_container(&conn, &container);
            let proxied = conn.replace(
                &format!("127.0.0.1:{upstream}/"),
                &format!("127.0.0.1:{port}/"),
            );
            RemoteSetup::new(
                format!("azure://{container}/store"),
                &[
                    ("connection_string", &proxied),
                    ("read_timeout", TIMEOUT),
                    ("connection_timeout", TIMEOUT),
                ],
            )
        }),
        fs_root: None,
        timeout: true,
    })
}

fn gcs() -> Option<Backend> {
    let endpoint = remotes::server_var("GIT_DVC_TEST_GCS_ENDPOINT")?;
    Some(Backend {
        name: "GCS (fake-gcs-server)",
        upstream: port_of(&endpoint),
        http: true,
        remote: Box::new(move |port| {
            let bucket = lower_unique("net");
            remotes::create_gcs_bucket(&endpoint, &bucket);
            let proxied = format!("http://127.0.0.1:{port}");
            RemoteSetup::new(
                format!("gs://{bucket}/store"),
                &[
                    ("endpointurl", &proxied),
                    ("allow_anonymous_login", "true"),
                    ("projectname", "test"),
                ],
            )
        }),
        fs_root: None,
        timeout: false,
    })
}

fn http() -> Option<Backend> {
    let [url, root] = remotes::server_vars(["GIT_DVC_TEST_HTTP_URL", "GIT_DVC_TEST_HTTP_ROOT"])?;
    Some(Backend {
        name: "HTTP (upload server)",
        upstream: port_of(&url),
        http: true,
        remote: Box::new(|port| {
            RemoteSetup::new(
                format!("http://127.0.0.1:{port}/{}", remotes::unique("net")),
                &[("read_timeout", TIMEOUT), ("connect_timeout", TIMEOUT)],
            )
        }),
        fs_root: Some(Box::new(move |r| {
            Path::new(&root).join(r.url.rsplit('/').next().unwrap())
        })),
        timeout: true,
    })
}

fn webdav() -> Option<Backend> {
    let [url, root, user, password] = remotes::server_vars([
        "GIT_DVC_TEST_WEBDAV_URL",
        "GIT_DVC_TEST_WEBDAV_ROOT",
        "GIT_DVC_TEST_WEBDAV_USER",
        "GIT_DVC_TEST_WEBDAV_PASSWORD",
    ])?;
    Some(Backend {
        name: "WebDAV (wsgidav)",
        upstream: port_of(&url),
        http: true,
        remote: Box::new(move |port| {
            RemoteSetup::new(
                format!("webdav://127.0.0.1:{port}/{}", remotes::unique("net")),
                &[
                    ("user", &user),
                    ("password", &password),
                    ("timeout", TIMEOUT),
                ],
            )
        }),
        fs_root: Some(Box::new(move |r| {
            Path::new(&root).join(r.url.rsplit('/').next().unwrap())
        })),
        timeout: true,
    })
}

fn ssh() -> Option<Backend> {
    let sftp = remotes::sftp_server()?;
    let fs = sftp.root.clone();
    Some(Backend {
        name: "SSH (sshd)",
        upstream: sftp.port.parse().unwrap(),
        http: false,
        remote: Box::new(move |proxy| {
            RemoteSetup::new(
                format!(
                    "ssh://127.0.0.1:{proxy}{}/{}",
                    sftp.root,
                    remotes::unique("net")
                ),
                &[
                    ("user", &sftp.user),
                    ("keyfile", &sftp.key),
                    ("timeout", TIMEOUT),
                ],
            )
        }),
        fs_root: Some(Box::new(move |r| {
            Path::new(&fs).join(r.url.rsplit('/').next().unwrap())
        })),
        timeout: true,
    })
}

/// The repository every case pushes: a directory of 24 files, a 300 KiB file and a small
/// one (27 objects with the `.dir`).
fn data_repo(env: &TestEnv) -> Repo<'_> {
    let repo = env.dvc_repo("repo");
    for i in 0..24 {
        repo.write(
            &format!("data/part{:02}/f{i:02}.bin", i % 4),
            pseudo_random_bytes(7000 + i, 48 * 1024),
        );
    }
    repo.write("model.bin", pseudo_random_bytes(77, 300 * 1024));
    repo.write("notes.txt", "notes\n");
    repo.dvc(&["add", "-q", "data", "model.bin", "notes.txt"]);
    repo.commit_all("data");
    repo
}

/// The object keys in the repository's cache: what a complete remote holds.
fn expected_keys(repo: &Repo<'_>) -> BTreeSet<String> {
    list_files(&repo.path(".dvc/cache"))
        .into_keys()
        .filter(|k| k.starts_with("files/md5/"))
        .collect()
}

/// Reads the whole remote straight from storage (through the healed proxy) and checks
/// that every object's bytes match its name and that every `.dir` has all its members.
/// Returns the keys found.
fn verify_storage(
    backend: &Backend,
    remote: &RemoteSetup,
    repo: &Repo<'_>,
    what: &str,
) -> BTreeSet<String> {
    match &backend.fs_root {
        Some(root) => verify_objects(list_files(&root(remote)), what),
        None => verify_objects(read_through_storage(repo, what), what),
    }
}

/// Every object of the remote, read with git-dvc's own storage code (plain listing and
/// reads, nothing of the upload path).
fn read_through_storage(repo: &Repo<'_>, what: &str) -> BTreeMap<String, Vec<u8>> {
    let config = git_dvc::dvc::config::DvcConfig::load(&repo.path(".dvc")).unwrap();
    let remote = config.remote("r").unwrap();
    let storage = git_dvc::storage::open(&remote, &git_dvc::limits::Limits::default()).unwrap();
    let keys: BTreeSet<String> = storage
        .list("files/md5/", None)
        .unwrap_or_else(|e| panic!("{what}: cannot list the remote: {e}"))
        .into_iter()
        .collect();
    keys.into_iter()
        .map(|key| {
            let bytes = storage
                .read(&key, u64::MAX - 1)
                .unwrap_or_else(|e| panic!("{what}: cannot read {key}: {e}"))
                .unwrap_or_else(|| panic!("{what}: {key} listed but absent"));
            (key, bytes)
        })
        .collect()
}

/// Checks objects by name: bytes match, every `.dir` has its members. Files not named like
/// objects (temporary files) are left to [`assert_no_temporaries`]. Returns the keys.
fn verify_objects(files: BTreeMap<String, Vec<u8>>, what: &str) -> BTreeSet<String> {
    let keys: BTreeSet<String> = files
        .keys()
        .filter(|k| parse_object_path(k).is_some())
        .cloned()
        .collect();
    for key in &keys {
        let name = parse_object_path(key).unwrap();
        let bytes = &files[key];
        assert_eq!(
            md5_hex(bytes),
            name.md5(),
            "{what}: {key} holds bytes of another object"
        );
        if name.is_dir() {
            let entries = git_dvc::dvc::dir_manifest::parse(bytes).unwrap();
            for entry in entries {
                let member = format!(
                    "files/md5/{}/{}",
                    &entry.md5.to_string()[..2],
                    &entry.md5.to_string()[2..]
                );
                assert!(
                    keys.contains(&member),
                    "{what}: {key} is on the remote without its member {member}"
                );
            }
        }
    }
    keys
}

/// No temporary files where the server keeps the remote's files.
fn assert_no_temporaries(backend: &Backend, remote: &RemoteSetup, what: &str) {
    let Some(root) = &backend.fs_root else { return };
    let dir = root(remote);
    let stray: Vec<String> = list_files(&dir)
        .into_keys()
        .filter(|k| parse_object_path(k).is_none())
        .collect();
    assert!(
        stray.is_empty(),
        "{what}: files left beside the objects in {}: {stray:?}",
        dir.display()
    );
}

struct Case {
    fault: Fault,
    every: usize,
    budget: usize,
    /// Fewer faults than any call's attempts: the push must succeed.
    must_succeed: bool,
}

fn cases(backend: &Backend) -> Vec<Case> {
    let light = |fault, every, budget| Case {
        fault,
        every,
        budget,
        must_succeed: true,
    };
    let mut out = vec![
        light(Fault::Reset, 2, 2),
        light(Fault::Delay(Duration::from_millis(1500)), 1, 4),
    ];
    if backend.timeout {
        // The first connection carries the first status request, never an upload.
        out.push(light(Fault::Stall, 1000, 1));
    }
    if backend.http {
        out.push(light(Fault::Status(500), 2, 2));
        out.push(light(Fault::Status(429), 2, 2));
    }
    out.push(Case {
        fault: Fault::Reset,
        every: 2,
        budget: 40,
        must_succeed: false,
    });
    if backend.http {
        out.push(Case {
            fault: Fault::Status(503),
            every: 2,
            budget: 40,
            must_succeed: false,
        });
    }
    out
}

fn run_backend(backend: Option<Backend>, test: &str) {
    let Some(backend) = backend else { return };
    let env = TestEnv::new();
    let repo = data_repo(&env);
    let expected = expected_keys(&repo);
    let proxy = FaultProxy::start(backend.upstream);
    let mut ledger = Ledger::new(test);

    for case in cases(&backend) {
        let what = format!(
            "{}: {} on {}",
            backend.name,
            case.fault.describe(),
            schedule(case.every, case.budget)
        );
        proxy.heal();
        let remote = (backend.remote)(proxy.port);
        remotes::configure_remote(&repo, &remote);
        proxy.inject(case.fault, case.every, case.budget);
        let started = Instant::now();
        let run = repo.try_git_dvc(&["push", "-j", "4"]);
        let took = started.elapsed();
        let injected = proxy.injected();
        proxy.heal();
        eprintln!(
            "{what}: {injected} injected, exit {:?} in {took:.1?}\n{}",
            run.code(),
            run.stderr
        );
        assert!(
            took < Duration::from_secs(240),
            "{what}: the push took {took:?}"
        );
        if case.fault == Fault::Stall {
            // The proxy holds a silent connection for 120 s: only a client-side timeout
            // (`TIMEOUT`) gets the push done well before that.
            assert!(
                took < Duration::from_secs(60),
                "{what}: a server that never answers held the push for {took:?}"
            );
        }

        let first = verify_storage(&backend, &remote, &repo, &what);
        let outcome = if run.code() == Some(0) {
            assert_eq!(
                first,
                expected,
                "{what}: exit 0 but the remote is incomplete\n{}",
                run.describe()
            );
            assert_no_temporaries(&backend, &remote, &what);
            "push exit 0, remote complete and verified".to_string()
        } else {
            assert!(
                !case.must_succeed,
                "{what}: {injected} fault(s) should have been retried\n{}",
                run.describe()
            );
            assert_eq!(run.code(), Some(1), "{}", run.describe());
            assert!(
                run.stderr.contains("remote 'r'")
                    && (run.stderr.contains("failed to upload")
                        || run.stderr.contains("cannot check remote")),
                "{what}: no clear error\n{}",
                run.describe()
            );
            format!(
                "push exit 1 naming the remote; {} of {} objects stored, all verified",
                first.len(),
                expected.len()
            )
        };
        assert!(injected > 0, "{what}: the proxy injected nothing");

        // The re-run completes whatever the faulted run left.
        repo.git_dvc(&["push"]);
        assert_eq!(
            verify_storage(&backend, &remote, &repo, &what),
            expected,
            "{what}: re-run incomplete"
        );
        assert_no_temporaries(&backend, &remote, &what);
        repo.dvc(&["status", "-c"])
            .assert_stdout_is(&in_sync_line("r"));

        ledger.row(
            "fault",
            &format!(
                "{}: {} on {}",
                backend.name,
                case.fault.describe(),
                schedule(case.every, case.budget)
            ),
            injected,
            &format!(
                "{outcome}; no wrong bytes, no `.dir` without members; re-run complete, no temp files, DVC in sync"
            ),
        );
    }
    ledger.write();
}

/// Which connections a case faults, in words.
fn schedule(every: usize, budget: usize) -> String {
    match (every, budget) {
        (_, 1) => "the first connection".into(),
        (1, n) => format!("the first {n} connections"),
        (2, n) => format!("every 2nd connection, {n} at most"),
        (e, n) => format!("every {e}th connection, {n} at most"),
    }
}

#[test]
fn network_faults_s3() {
    run_backend(s3(), "hardening_network_s3");
}

#[test]
fn network_faults_azure() {
    run_backend(azure(), "hardening_network_azure");
}

#[test]
fn network_faults_gcs() {
    run_backend(gcs(), "hardening_network_gcs");
}

#[test]
fn network_faults_http() {
    run_backend(http(), "hardening_network_http");
}

#[test]
fn network_faults_webdav() {
    run_backend(webdav(), "hardening_network_webdav");
}

#[test]
fn network_faults_ssh() {
    run_backend(ssh(), "hardening_network_ssh");
}
