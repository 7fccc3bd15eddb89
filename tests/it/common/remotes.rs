//! Support for the remote-backend tests (`tests/it/remote_*.rs`): the server variables
//! `scripts/test.sh` exports, private server instances for fault tests, remote
//! configuration, and the scenarios every backend runs against a real server:
//!
//! * [`push_then_dvc_pull`]: `git dvc push`, then a fresh clone's real `dvc pull`
//!   restores the data; a second push and `git dvc status -c` find nothing to do, and
//!   DVC agrees the remote is complete;
//! * [`dvc_push_then_status`]: real `dvc push`, then `git dvc status -c` is in sync;
//! * [`dvc_push_then_git_dvc_fetch`]: real `dvc push`, then `git dvc fetch` in a fresh
//!   clone fills the cache exactly as `dvc fetch` does in another, real `dvc checkout`
//!   restores the data from it, a second fetch sends no request, and (where the test can
//!   reach the server's storage) a tampered object is refused and named;
//! * [`stop_mid_push`]: the server is killed while `git dvc push` runs, which fails with
//!   a clear error; after a restart a re-run completes.

use std::collections::BTreeMap;
use std::fs;
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{in_sync_line, pseudo_random_bytes, pushed_line, Repo, TestEnv};

/// A server variable from `scripts/test.sh`. Under `CI=true` a missing variable fails
/// the test; locally the test is skipped with a note.
pub fn server_var(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!(
                    "{var} is not set, and CI=true: the remote tests need the servers that \
                     `bash scripts/test.sh` starts"
                );
            }
            eprintln!(
                "note: {var} is not set; skipping this test (run it through \
                 `bash scripts/test.sh --servers cargo test ...`)"
            );
            None
        }
    }
}

/// Several server variables at once; `None` (skip) if any is missing.
pub fn server_vars<const N: usize>(vars: [&str; N]) -> Option<[String; N]> {
    let mut out: [String; N] = std::array::from_fn(|_| String::new());
    for (i, var) in vars.iter().enumerate() {
        out[i] = server_var(var)?;
    }
    Some(out)
}

/// A name no other test or run uses: for buckets, containers and remote prefixes on the
/// shared servers.
pub fn unique(label: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{label}-{}-{}-{nanos:x}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// An unused TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process this test started (in its own process group); killed with all its
/// descendants when stopped or dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    name: String,
    log: PathBuf,
}

impl Server {
    /// Starts `cmd` and waits until it accepts connections on `port`.
    pub fn start(name: &str, mut cmd: Command, port: u16, log: &Path) -> Server {
        let out = fs::File::create(log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .process_group(0);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let server = Server {
            child: Some(child),
            port,
            name: name.to_string(),
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                panic!(
                    "{name} did not listen on port {port} within 60s; log:\n{}",
                    fs::read_to_string(&server.log).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Kills the server and every process it started (sshd's per-connection children
    /// leave its process group, so they are found through /proc).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id() as i32;
        let mut pids = descendants(pid);
        pids.push(pid);
        for p in &pids {
            // SAFETY: plain kill(2) on processes this test started.
            unsafe {
                libc::kill(*p, libc::SIGKILL);
            }
        }
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
        eprintln!("stopped {} (port {})", self.name, self.port);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Every process descended from `pid`, from /proc.
fn descendants(pid: i32) -> Vec<i32> {
    let mut parents: Vec<(i32, i32)> = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
            let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|x| x.parse().ok()) {
                parents.push((p, ppid));
            }
        }
    }
    let mut out = Vec::new();
    let mut frontier = vec![pid];
    while let Some(cur) = frontier.pop() {
        for (p, pp) in &parents {
            if *pp == cur && !out.contains(p) {
                out.push(*p);
                frontier.push(*p);
            }
        }
    }
    out
}

/// One remote as `.dvc/config.local` declares it.
#[derive(Debug, Clone)]
pub struct RemoteSetup {
    pub name: String,
    pub url: String,
    pub options: Vec<(String, String)>,
}

impl RemoteSetup {
    pub fn new(url: impl Into<String>, options: &[(&str, &str)]) -> RemoteSetup {
        RemoteSetup {
            name: "r".to_string(),
            url: url.into(),
            options: options
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// Writes `.dvc/config.local` making `remote` the default remote. Values are quoted as
/// DVC quotes them (a `;` or `,` would otherwise be a comment or a list).
pub fn configure_remote(repo: &Repo<'_>, remote: &RemoteSetup) {
    let quote = |v: &str| {
        if v.contains([';', ',', '#', '=', ' ']) {
            format!("\"{v}\"")
        } else {
            v.to_string()
        }
    };
    let mut text = format!(
        "[core]\n    remote = {}\n['remote \"{}\"']\n    url = {}\n",
        remote.name,
        remote.name,
        quote(&remote.url)
    );
    for (k, v) in &remote.options {
        text.push_str(&format!("    {k} = {}\n", quote(v)));
    }
    fs::write(repo.path(".dvc/config.local"), text).unwrap();
}

/// A directory output (4 files, one nested) and a loose 200 KiB file, added with real DVC
/// and committed: 6 objects. Returns the workspace files.
pub fn sample_data(repo: &Repo<'_>, seed: u64) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    files.insert("data/a.txt".to_string(), format!("a {seed}\n").into_bytes());
    files.insert(
        "data/b.txt".to_string(),
        format!("b {seed}\r\n").into_bytes(),
    );
    files.insert(
        "data/sub/c.bin".to_string(),
        pseudo_random_bytes(seed, 3000),
    );
    files.insert(
        "data/sub/d.txt".to_string(),
        format!("d {seed}").into_bytes(),
    );
    files.insert(
        "model.bin".to_string(),
        pseudo_random_bytes(seed + 1, 200 * 1024),
    );
    for (rel, bytes) in &files {
        repo.write(rel, bytes);
    }
    repo.dvc(&["add", "-q", "data", "model.bin"]);
    repo.commit_all("data");
    files
}

pub const SAMPLE_OBJECTS: usize = 6;

/// `git dvc push` to `remote`, then real `dvc pull` in a fresh clone restores the data.
pub fn push_then_dvc_pull(env: &TestEnv, remote: &RemoteSetup) {
    let repo = env.dvc_repo("repo");
    let data = sample_data(&repo, 11);
    configure_remote(&repo, remote);

    let first = repo.git_dvc(&["push", "-v"]);
    first.assert_stdout_is(&pushed_line(SAMPLE_OBJECTS));
    first.assert_stderr_contains("storage requests");
    eprintln!("first push: {}", first.stderr.trim());
    let again = repo.git_dvc(&["push", "-v"]);
    again.assert_stdout_is(&pushed_line(0));
    eprintln!("no-op push: {}", again.stderr.trim());
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line(&remote.name));
    // DVC agrees that nothing is missing.
    repo.dvc(&["push"]).assert_stdout_is(&pushed_line(0));

    let clone = env.clone_repo(&repo.dir, "clone");
    configure_remote(&clone, remote);
    clone.dvc(&["pull"]);
    super::assert_workspace(&clone.dir, &data);
}

/// Objects at or above `dvc.multipartThreshold`: a 60 MiB file with the threshold at
/// 1 MiB spans two 50 MiB parts where the service takes parts (Azure block list; S3
/// multipart has its own test; WebDAV sends it whole), and a small file still goes in one
/// request. Real `dvc pull` in a fresh clone restores both. (GCS's XML multipart upload
/// cannot be tested here: fake-gcs-server answers `POST ?uploads` with 404.)
pub fn above_multipart_threshold_then_dvc_pull(env: &TestEnv, remote: &RemoteSetup) {
    let repo = env.dvc_repo("repo");
    let big = super::pseudo_random_bytes(61, 60 << 20);
    repo.write("big.bin", &big);
    repo.write("small.txt", "one request\n");
    repo.dvc(&["add", "-q", "big.bin", "small.txt"]);
    repo.commit_all("big");
    repo.git(&["config", "dvc.multipartThreshold", "1m"]);
    configure_remote(&repo, remote);
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(2));
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line(&remote.name));

    let clone = env.clone_repo(&repo.dir, "clone");
    configure_remote(&clone, remote);
    clone.dvc(&["pull", "-q"]);
    assert!(std::fs::read(clone.path("big.bin")).unwrap() == big);
    assert_eq!(clone.read("small.txt"), b"one request\n");
}

/// Real `dvc push`, then `git dvc status -c` is in sync and `git dvc push` has nothing
/// to do.
pub fn dvc_push_then_status(env: &TestEnv, remote: &RemoteSetup) {
    let repo = env.dvc_repo("repo");
    sample_data(&repo, 23);
    configure_remote(&repo, remote);
    repo.dvc(&["push"])
        .assert_stdout_is(&pushed_line(SAMPLE_OBJECTS));
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line(&remote.name));
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(0));
    // Without a local cache, manifests come from storage (capped reads: a ranged GET on
    // object stores).
    repo.commit_all("data");
    std::fs::remove_dir_all(repo.cache_dir()).unwrap();
    let run = repo.git_dvc(&["check"]);
    assert!(
        run.stdout
            .contains("referenced DVC objects are in remote storage."),
        "{}",
        run.describe()
    );
}

/// Writes `bytes` under an object key (`files/md5/ab/cdef…`) in the remote's storage,
/// bypassing every client: a tampered copy.
pub type Tamper<'a> = &'a dyn Fn(&str, &[u8]);

/// Real `dvc push`, then `git dvc fetch` in one fresh clone and `dvc fetch` in another:
/// the same cache (names, bytes, modes) and summary; real `dvc checkout` restores the data
/// from git-dvc's cache; a second fetch finds everything and sends no request. With
/// `tamper`, a directory member is then replaced on the server: a third clone's fetch
/// refuses it, names it and its output, and lands everything else.
pub fn dvc_push_then_git_dvc_fetch(
    env: &TestEnv,
    remote: &RemoteSetup,
    tamper: Option<Tamper<'_>>,
) {
    use super::fetching::{assert_cache_sound, compare_fetch_with_dvc};
    let repo = env.dvc_repo("repo");
    let data = sample_data(&repo, 31);
    configure_remote(&repo, remote);
    repo.dvc(&["push", "-q"]);
    let prepare = |clone: &Repo<'_>| configure_remote(clone, remote);
    let cmp = compare_fetch_with_dvc(env, &repo.dir, "backend", &[], &prepare);
    cmp.git_dvc
        .assert_stdout_is(&format!("{SAMPLE_OBJECTS} files fetched"));
    cmp.ours.dvc(&["checkout", "-q"]);
    super::assert_workspace(&cmp.ours.dir, &data);
    let again = cmp.ours.git_dvc(&["fetch", "-v"]);
    again.assert_stdout_is("Everything is up to date.");
    again.assert_stderr_contains(": 0 storage requests");
    eprintln!(
        "first fetch: {}\nno-op fetch: {}",
        cmp.git_dvc.stderr.trim(),
        again.stderr.trim()
    );

    let Some(tamper) = tamper else { return };
    let oid = super::md5_hex(&data["data/sub/c.bin"]);
    tamper(&super::object_rel_path(&oid, false), b"tampered bytes\n");
    let clone = env.clone_repo(&repo.dir, "tampered");
    configure_remote(&clone, remote);
    let run = clone.try_git_dvc(&["fetch"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("failed to transfer '{oid}'"));
    run.assert_stderr_contains("(used by data/sub/c.bin@workspace)");
    run.assert_stderr_contains("2 files failed to download");
    assert!(
        !clone.cache_object(&oid, false).exists(),
        "{}",
        run.describe()
    );
    // Everything but the tampered member and its `.dir`.
    assert_eq!(
        super::list_files(&clone.cache_dir()).len(),
        SAMPLE_OBJECTS - 2,
        "{}",
        run.describe()
    );
    assert_cache_sound(&clone.cache_dir());
}

/// What [`stop_mid_push`] needs to run one server.
pub struct FaultServer<'a> {
    /// Starts the private server (same port and storage every time).
    pub start: &'a dyn Fn() -> Server,
    /// Run after each start (create the bucket or container again).
    pub prepare: &'a dyn Fn(),
    /// Whether at least one object has reached the server.
    pub has_objects: &'a dyn Fn() -> bool,
}

/// Objects in the fault scenario's directory output (plus the `.dir`).
pub const FAULT_FILES: usize = 60;

/// Kills the server once the first object has arrived: `git dvc push` fails with
/// `N files failed to upload` and the remote named; after a restart, a re-run completes
/// and DVC finds the remote complete.
pub fn stop_mid_push(env: &TestEnv, remote: &RemoteSetup, server: FaultServer<'_>) {
    let repo = env.dvc_repo("repo");
    for i in 0..FAULT_FILES {
        repo.write(
            &format!("big/f{i:03}.bin"),
            pseudo_random_bytes(1000 + i as u64, 256 * 1024),
        );
    }
    repo.dvc(&["add", "-q", "big"]);
    repo.commit_all("big");
    configure_remote(&repo, remote);

    let mut running = (server.start)();
    (server.prepare)();
    let mut child = env.spawn_git_dvc(&repo.dir, &["push", "-j", "4"], "push1");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if (server.has_objects)() {
            running.stop();
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "git dvc push finished ({status}) before the server could be stopped; stderr:\n{}",
                fs::read_to_string(env.path("push1.stderr")).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "no object reached the server in 120s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("git dvc push did not finish within 300s of the server stopping");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = fs::read_to_string(env.path("push1.stdout")).unwrap();
    let stderr = fs::read_to_string(env.path("push1.stderr")).unwrap();
    eprintln!("push against a stopped server: {status}\n{stderr}");
    assert_eq!(
        status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stderr.contains("failed to upload") || stderr.contains("cannot check remote"),
        "no clear failure summary:\n{stderr}"
    );
    assert!(
        stderr.contains(&format!("remote '{}'", remote.name)),
        "the error does not name the remote:\n{stderr}"
    );
    assert!(
        !stdout.contains("pushed"),
        "a summary was printed: {stdout}"
    );

    let _running = (server.start)();
    (server.prepare)();
    let rerun = repo.git_dvc(&["push"]);
    let n = super::parse_pushed_line(rerun.out()).expect("a push summary");
    assert!((1..=FAULT_FILES + 1).contains(&n), "{}", rerun.describe());
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line(&remote.name));
    repo.dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line(&remote.name));
}

/// Whether any regular file other than a `.tmp` one exists under `dir`.
pub fn dir_has_files(dir: &Path) -> bool {
    fn walk(dir: &Path) -> bool {
        let Ok(entries) = fs::read_dir(dir) else {
            return false;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                if walk(&e.path()) {
                    return true;
                }
            } else if t.is_file() && !e.file_name().to_string_lossy().ends_with(".tmp") {
                return true;
            }
        }
        false
    }
    walk(dir)
}

/// Creates an S3 bucket on moto (which accepts unsigned requests).
pub fn create_s3_bucket(endpoint: &str, bucket: &str) {
    let resp = reqwest::blocking::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .unwrap_or_else(|e| panic!("cannot reach {endpoint}: {e}"));
    assert!(
        resp.status().is_success(),
        "create bucket: {}",
        resp.status()
    );
}

/// Creates a GCS bucket on fake-gcs-server (if missing).
pub fn create_gcs_bucket(endpoint: &str, bucket: &str) {
    let resp = reqwest::blocking::Client::new()
        .post(format!("{endpoint}/storage/v1/b?project=test"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{bucket}\"}}"))
        .send()
        .unwrap_or_else(|e| panic!("cannot reach {endpoint}: {e}"));
    assert!(
        resp.status().is_success() || resp.status().as_u16() == 409,
        "create bucket: {}",
        resp.status()
    );
}

/// Creates an Azure `container` (if missing) with the Python SDK from DVC's virtualenv.
pub fn create_azure_container(conn: &str, container: &str) {
    let python = super::dvc3_bin().with_file_name("python");
    let out = Command::new(python)
        .args([
            "-c",
            "import sys\n\
             from azure.core.exceptions import ResourceExistsError\n\
             from azure.storage.blob import BlobServiceClient\n\
             try:\n    BlobServiceClient.from_connection_string(sys.argv[1]).create_container(sys.argv[2])\n\
             except ResourceExistsError:\n    pass\n",
            conn,
            container,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "create container: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The SFTP server `scripts/test.sh` starts (`GIT_DVC_TEST_SFTP_*`): port, user, key file,
/// and the directory remotes live under.
pub struct Sftp {
    pub port: String,
    pub user: String,
    pub key: String,
    pub root: String,
}

pub fn sftp_server() -> Option<Sftp> {
    let [port, user, key, root] = server_vars([
        "GIT_DVC_TEST_SFTP_PORT",
        "GIT_DVC_TEST_SFTP_USER",
        "GIT_DVC_TEST_SFTP_KEY",
        "GIT_DVC_TEST_SFTP_ROOT",
    ])?;
    Some(Sftp {
        port,
        user,
        key,
        root,
    })
}
