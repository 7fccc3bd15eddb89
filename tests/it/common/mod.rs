//! Test harness shared by the integration tests.
//!
//! Every test makes a [`TestEnv`]: a temporary directory that holds the test's
//! repositories and remotes plus a private `HOME`, DVC global/system config
//! dirs and DVC site cache, so nothing from the user's or the machine's
//! configuration leaks in. Commands run through the env get a fixed git
//! identity and dates, no stdin, and a time limit; a failing command panics
//! with its full command line, exit status, stdout and stderr.
//!
//! Real DVC is required: `GIT_DVC_TEST_DVC` (DVC 3.67.1) and, for the DVC 2
//! fixtures, `GIT_DVC_TEST_DVC2` (DVC 2.58.2) must point at `dvc` executables.
//! `bash scripts/test.sh` installs both and sets them. Tests never skip
//! silently when they are missing: they panic.
//!
//! ```ignore
//! let env = TestEnv::new();
//! let repo = env.dvc_repo("repo");
//! repo.write("data.txt", b"hello\n");
//! repo.dvc(&["add", "data.txt"]);
//! repo.commit_all("add data");
//! let remote = env.path("remote");
//! repo.set_local_remotes(&[("r", &remote)]);
//! let out = repo.git_dvc(&["push"]);
//! assert_eq!(out.stdout.trim_end(), pushed_line(1));
//! ```

#![allow(dead_code)]

pub mod fault_proxy;
pub mod fetching;
pub mod fixtures;
pub mod receiving_server;
pub mod recording_proxy;
pub mod reliability;
pub mod remotes;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::fs;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use md5::{Digest, Md5};
use tempfile::TempDir;

/// Upper bound for any single command a test runs.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(300);

pub const DVC3_VERSION: &str = "3.67.1";
pub const DVC2_VERSION: &str = "2.58.2";

/// The built binary under test.
pub fn git_dvc_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_git-dvc"))
}

fn tool_from_env(var: &str, version: &str, cell: &'static OnceLock<PathBuf>) -> PathBuf {
    cell.get_or_init(|| {
        let path = match std::env::var_os(var) {
            Some(p) if !p.is_empty() => PathBuf::from(p),
            _ => panic!(
                "{var} is not set. The integration tests need real DVC {version}: run the suite \
                 with `bash scripts/test.sh` (it installs DVC into target/test-env/ and sets \
                 {var}), or set {var}=/path/to/venv/bin/dvc yourself."
            ),
        };
        assert!(
            path.is_file(),
            "{var}={} does not exist or is not a file",
            path.display()
        );
        let out = Command::new(&path)
            .arg("--version")
            .env("DVC_NO_ANALYTICS", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {var}={}: {e}", path.display()));
        let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(
            got,
            version,
            "{var}={} is DVC {got:?}, the tests need exactly {version}",
            path.display()
        );
        path
    })
    .clone()
}

/// DVC 3.67.1 (`GIT_DVC_TEST_DVC`).
pub fn dvc3_bin() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    tool_from_env("GIT_DVC_TEST_DVC", DVC3_VERSION, &CELL)
}

/// DVC 2.58.2 (`GIT_DVC_TEST_DVC2`), for genuine 2.x-era fixtures.
pub fn dvc2_bin() -> PathBuf {
    static CELL: OnceLock<PathBuf> = OnceLock::new();
    tool_from_env("GIT_DVC_TEST_DVC2", DVC2_VERSION, &CELL)
}

// ---------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------

/// The outcome of one finished command.
#[derive(Debug, Clone)]
pub struct Run {
    pub cmdline: String,
    pub dir: PathBuf,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// A full description for panic messages.
    pub fn describe(&self) -> String {
        format!(
            "command: {}\n    in: {}\nstatus: {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--------------",
            self.cmdline,
            self.dir.display(),
            self.status,
            self.stdout,
            self.stderr
        )
    }

    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(self.success(), "command failed\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code(),
            Some(code),
            "unexpected exit status (wanted {code})\n{}",
            self.describe()
        );
        self
    }

    /// stdout without its trailing newline(s).
    pub fn out(&self) -> &str {
        self.stdout.trim_end()
    }

    pub fn stdout_lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Asserts stdout is exactly `line` (plus a trailing newline).
    #[track_caller]
    pub fn assert_stdout_is(&self, line: &str) -> &Self {
        assert_eq!(self.out(), line, "unexpected stdout\n{}", self.describe());
        self
    }

    #[track_caller]
    pub fn assert_stdout_contains_all(&self, needles: &[&str]) -> &Self {
        for needle in needles {
            assert!(
                self.stdout.contains(needle),
                "stdout does not contain {needle:?}\n{}",
                self.describe()
            );
        }
        self
    }

    #[track_caller]
    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr does not contain {needle:?}\n{}",
            self.describe()
        );
        self
    }
}

fn quote_arg(arg: &OsStr) -> String {
    let s = arg.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@~^,+".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn describe_command(cmd: &Command) -> String {
    let mut s = quote_arg(cmd.get_program());
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&quote_arg(a));
    }
    s
}

/// Runs `cmd` to completion with a time limit, capturing stdout and stderr.
/// Panics if it cannot start or runs out of time.
pub fn run_command(mut cmd: Command, timeout: Duration) -> Run {
    let cmdline = describe_command(&cmd);
    let dir = cmd
        .get_current_dir()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{cmdline}` in {}: {e}", dir.display()));
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = out_pipe.read_to_end(&mut buf);
        buf
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = err_pipe.read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let status = child.wait().expect("wait after kill");
            let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
            let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
            let run = Run {
                cmdline,
                dir,
                status,
                stdout,
                stderr,
            };
            panic!(
                "command timed out after {}s and was killed\n{}",
                timeout.as_secs(),
                run.describe()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    Run {
        cmdline,
        dir,
        status,
        stdout,
        stderr,
    }
}

// ---------------------------------------------------------------------------
// The isolated environment
// ---------------------------------------------------------------------------

/// A temporary world for one test: its own HOME, DVC config dirs, site cache,
/// and room for repositories and remotes.
pub struct TestEnv {
    _tmp: Option<TempDir>,
    root: PathBuf,
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

impl TestEnv {
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("git-dvc-test-")
            .tempdir()
            .expect("create temp dir");
        // Canonical, so paths we compare with what the tools print match.
        let root = fs::canonicalize(tmp.path()).expect("canonicalize temp dir");
        Self::populate(&root);
        TestEnv {
            _tmp: Some(tmp),
            root,
        }
    }

    /// An env at a fixed place under cargo's per-target temp dir
    /// (`target/<profile>/tmp/<name>` or similar), emptied first and NOT
    /// removed afterwards: for fixtures built once per test binary and copied
    /// by each test (see [`copy_dir`]), so no temp dir leaks per run.
    pub fn fixed(name: &str) -> Self {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        if root.exists() {
            make_writable(&root);
            fs::remove_dir_all(&root).unwrap();
        }
        fs::create_dir_all(&root).unwrap();
        let root = fs::canonicalize(&root).unwrap();
        Self::populate(&root);
        TestEnv { _tmp: None, root }
    }

    fn populate(root: &Path) {
        for d in [
            "home/.config",
            "home/.cache",
            "dvc-global",
            "dvc-system",
            "dvc-site-cache",
        ] {
            fs::create_dir_all(root.join(d)).unwrap();
        }
        fs::write(
            root.join("home/.gitconfig"),
            "[user]\n\tname = Test Author\n\temail = author@example.com\n\
             [init]\n\tdefaultBranch = main\n\
             [core]\n\tautocrlf = false\n\tsafecrlf = false\n\
             [advice]\n\tdetachedHead = false\n\
             [commit]\n\tgpgsign = false\n\
             [tag]\n\tgpgsign = false\n\
             [protocol \"file\"]\n\tallow = always\n",
        )
        .unwrap();
    }

    /// The env's root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `root/rel` (not created).
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// `root/rel`, created.
    pub fn mkdir(&self, rel: &str) -> PathBuf {
        let p = self.path(rel);
        fs::create_dir_all(&p).unwrap();
        p
    }

    /// A command with the isolated environment applied.
    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir);
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("GIT_")
                || k.starts_with("DVC_")
                || k.starts_with("XDG_")
                || k == "PYTHONPATH"
                || k == "PYTHONHOME"
            {
                cmd.env_remove(&key);
            }
        }
        let home = self.path("home");
        let bin_dir = git_dvc_bin().parent().unwrap().to_path_buf();
        let path = match std::env::var_os("PATH") {
            Some(p) => {
                let mut dirs = vec![bin_dir];
                dirs.extend(std::env::split_paths(&p));
                std::env::join_paths(dirs).unwrap()
            }
            None => bin_dir.into_os_string(),
        };
        cmd.env("PATH", path)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("LC_ALL", "C.UTF-8")
            .env("PYTHONUTF8", "1")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", "2024-01-02T03:04:05Z")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_COMMITTER_DATE", "2024-01-02T03:04:05Z")
            .env("DVC_NO_ANALYTICS", "1")
            .env("DVC_GLOBAL_CONFIG_DIR", self.path("dvc-global"))
            .env("DVC_SYSTEM_CONFIG_DIR", self.path("dvc-system"))
            .env("DVC_SITE_CACHE_DIR", self.path("dvc-site-cache"));
        cmd
    }

    fn run(&self, program: impl AsRef<OsStr>, dir: &Path, args: &[&str]) -> Run {
        let mut cmd = self.command(program, dir);
        cmd.args(args);
        run_command(cmd, COMMAND_TIMEOUT)
    }

    /// Runs git; panics (with its output) unless it succeeds. Returns stdout.
    #[track_caller]
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let run = self.try_git(dir, args);
        run.assert_success();
        run.stdout
    }

    pub fn try_git(&self, dir: &Path, args: &[&str]) -> Run {
        self.run("git", dir, args)
    }

    /// Runs DVC 3; panics unless it succeeds.
    #[track_caller]
    pub fn dvc(&self, dir: &Path, args: &[&str]) -> Run {
        let run = self.try_dvc(dir, args);
        run.assert_success();
        run
    }

    pub fn try_dvc(&self, dir: &Path, args: &[&str]) -> Run {
        self.run(dvc3_bin(), dir, args)
    }

    /// Runs DVC 2.58.2; panics unless it succeeds.
    #[track_caller]
    pub fn dvc2(&self, dir: &Path, args: &[&str]) -> Run {
        let run = self.run(dvc2_bin(), dir, args);
        run.assert_success();
        run
    }

    /// Runs the git-dvc binary; panics unless it succeeds.
    #[track_caller]
    pub fn git_dvc(&self, dir: &Path, args: &[&str]) -> Run {
        let run = self.try_git_dvc(dir, args);
        run.assert_success();
        run
    }

    pub fn try_git_dvc(&self, dir: &Path, args: &[&str]) -> Run {
        self.run(git_dvc_bin(), dir, args)
    }

    /// Starts git-dvc without waiting; stdout and stderr go to files under
    /// the env root (`<name>.stdout`, `<name>.stderr`).
    pub fn spawn_git_dvc(&self, dir: &Path, args: &[&str], name: &str) -> Child {
        let mut cmd = self.command(git_dvc_bin(), dir);
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(fs::File::create(self.path(&format!("{name}.stdout"))).unwrap())
            .stderr(fs::File::create(self.path(&format!("{name}.stderr"))).unwrap());
        cmd.spawn().expect("spawn git-dvc")
    }

    /// A new git repository at `root/rel` (`git init -b main`).
    pub fn git_repo(&self, rel: &str) -> Repo<'_> {
        let dir = self.mkdir(rel);
        self.git(&dir, &["init", "-q", "-b", "main"]);
        Repo { env: self, dir }
    }

    /// A new git + DVC 3 repository at `root/rel`, with the DVC skeleton
    /// committed.
    pub fn dvc_repo(&self, rel: &str) -> Repo<'_> {
        let repo = self.git_repo(rel);
        repo.dvc(&["init", "-q"]);
        repo.commit_all("dvc init");
        repo
    }

    /// [`dvc_repo`](Self::dvc_repo) plus a committed default remote `r`
    /// whose url (`root/unused-remote`) nothing should ever write to: tests
    /// point `r` elsewhere through `.dvc/config.local`.
    pub fn dvc_repo_with_remote(&self, rel: &str) -> Repo<'_> {
        let repo = self.dvc_repo(rel);
        let unused = self.path("unused-remote");
        repo.dvc(&["remote", "add", "-d", "r", unused.to_str().unwrap()]);
        repo.commit_all("default remote");
        repo
    }

    /// An existing directory as a repo handle.
    pub fn repo_at(&self, dir: impl Into<PathBuf>) -> Repo<'_> {
        Repo {
            env: self,
            dir: dir.into(),
        }
    }

    /// `git clone src root/rel` (a fresh work tree without any DVC data).
    pub fn clone_repo(&self, src: &Path, rel: &str) -> Repo<'_> {
        let dest = self.path(rel);
        self.git(
            self.root(),
            &["clone", "-q", src.to_str().unwrap(), dest.to_str().unwrap()],
        );
        Repo {
            env: self,
            dir: dest,
        }
    }
}

// ---------------------------------------------------------------------------
// A repository handle
// ---------------------------------------------------------------------------

/// A repository directory plus the env its commands run in.
pub struct Repo<'e> {
    pub env: &'e TestEnv,
    pub dir: PathBuf,
}

impl Repo<'_> {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    #[track_caller]
    pub fn git(&self, args: &[&str]) -> String {
        self.env.git(&self.dir, args)
    }

    pub fn try_git(&self, args: &[&str]) -> Run {
        self.env.try_git(&self.dir, args)
    }

    #[track_caller]
    pub fn dvc(&self, args: &[&str]) -> Run {
        self.env.dvc(&self.dir, args)
    }

    pub fn try_dvc(&self, args: &[&str]) -> Run {
        self.env.try_dvc(&self.dir, args)
    }

    #[track_caller]
    pub fn dvc2(&self, args: &[&str]) -> Run {
        self.env.dvc2(&self.dir, args)
    }

    #[track_caller]
    pub fn git_dvc(&self, args: &[&str]) -> Run {
        self.env.git_dvc(&self.dir, args)
    }

    pub fn try_git_dvc(&self, args: &[&str]) -> Run {
        self.env.try_git_dvc(&self.dir, args)
    }

    /// Writes a file (creating parent directories), replacing a read-only
    /// one if needed.
    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        write_file(&self.path(rel), bytes.as_ref());
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// `git add -A && git commit` (allowing an empty commit).
    #[track_caller]
    pub fn commit_all(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.rev_parse("HEAD")
    }

    pub fn rev_parse(&self, rev: &str) -> String {
        self.git(&["rev-parse", "--verify", "-q", rev])
            .trim()
            .to_string()
    }

    /// Overwrites `.dvc/config.local` so that each named remote's `url` is
    /// the given absolute path, written the way DVC writes it.
    pub fn set_local_remotes(&self, remotes: &[(&str, &Path)]) {
        set_local_remotes(&self.dir, remotes);
    }

    /// The local cache directory (`.dvc/cache`).
    pub fn cache_dir(&self) -> PathBuf {
        self.path(".dvc/cache")
    }

    /// Path of an object in the local cache.
    pub fn cache_object(&self, oid: &str, legacy: bool) -> PathBuf {
        self.cache_dir().join(object_rel_path(oid, legacy))
    }
}

/// `cp -a from to` (to must not exist): copies a whole repository with its
/// cache, keeping modes.
pub fn copy_dir(from: &Path, to: &Path) {
    assert!(!to.exists(), "{} already exists", to.display());
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .expect("run cp");
    assert!(
        status.success(),
        "cp -a {} {} failed",
        from.display(),
        to.display()
    );
}

/// Gives the owner write permission on everything under `dir` (so read-only
/// DVC objects can be removed).
pub fn make_writable(dir: &Path) {
    let _ = Command::new("chmod").arg("-R").arg("u+w").arg(dir).status();
}

/// Writes `.dvc/config.local` in `repo` with one section per remote.
pub fn set_local_remotes(repo: &Path, remotes: &[(&str, &Path)]) {
    let mut text = String::new();
    for (name, url) in remotes {
        writeln!(text, "['remote \"{name}\"']").unwrap();
        writeln!(text, "    url = {}", url.display()).unwrap();
    }
    fs::write(repo.join(".dvc/config.local"), text).unwrap();
}

/// Writes `path`, creating parents and replacing a read-only file.
pub fn write_file(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    if let Ok(meta) = fs::symlink_metadata(path) {
        if meta.file_type().is_symlink() || meta.permissions().readonly() {
            fs::remove_file(path).unwrap();
        }
    }
    fs::write(path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Deterministic pseudo-random bytes (xorshift), distinct per `seed`.
pub fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

// ---------------------------------------------------------------------------
// Hashes and object names
// ---------------------------------------------------------------------------

pub fn md5_hex(bytes: &[u8]) -> String {
    hex_lower(&Md5::digest(bytes))
}

fn hex_lower(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

/// DVC 2.x's `md5-dos2unix`: text files (by the first 512 bytes) have CRLF
/// turned into LF per 1 MiB chunk before hashing; binary files hash raw.
pub fn dos2unix_md5_hex(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(512)];
    let is_text = if head.is_empty() {
        true
    } else if head.contains(&0) {
        false
    } else {
        let non_text = head
            .iter()
            .filter(|&&b| {
                !((32..=126).contains(&b) || matches!(b, b'\n' | b'\r' | b'\t' | 0x0c | 0x08))
            })
            .count();
        (non_text as f64) / (head.len() as f64) <= 0.30
    };
    if !is_text {
        return md5_hex(bytes);
    }
    let mut hasher = Md5::new();
    for chunk in bytes.chunks(1 << 20) {
        let mut converted = Vec::with_capacity(chunk.len());
        let mut i = 0;
        while i < chunk.len() {
            if chunk[i] == b'\r' && i + 1 < chunk.len() && chunk[i + 1] == b'\n' {
                i += 1;
                continue;
            }
            converted.push(chunk[i]);
            i += 1;
        }
        hasher.update(&converted);
    }
    hex_lower(&hasher.finalize())
}

/// Relative path of an object in a cache or remote: `files/md5/ab/cdef…`
/// (DVC 3) or `ab/cdef…` (legacy, remote root).
pub fn object_rel_path(oid: &str, legacy: bool) -> String {
    let (head, tail) = oid.split_at(2);
    if legacy {
        format!("{head}/{tail}")
    } else {
        format!("files/md5/{head}/{tail}")
    }
}

/// What a remote-relative path names, if it is an object path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ObjectName {
    /// Full oid, `.dir` kept.
    pub oid: String,
    pub legacy: bool,
}

impl ObjectName {
    pub fn is_dir(&self) -> bool {
        self.oid.ends_with(".dir")
    }
    pub fn md5(&self) -> &str {
        &self.oid[..32]
    }
}

fn is_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Parses `files/md5/ab/<30 hex>[.dir]` or `ab/<30 hex>[.dir]`.
pub fn parse_object_path(rel: &str) -> Option<ObjectName> {
    let (legacy, rest) = match rel.strip_prefix("files/md5/") {
        Some(rest) => (false, rest),
        None => (true, rel),
    };
    let (head, tail) = rest.split_once('/')?;
    let body = tail.strip_suffix(".dir").unwrap_or(tail);
    if head.len() != 2 || body.len() != 30 || !is_hex(head) || !is_hex(body) {
        return None;
    }
    Some(ObjectName {
        oid: format!("{head}{tail}"),
        legacy,
    })
}

// ---------------------------------------------------------------------------
// Remote directories
// ---------------------------------------------------------------------------

/// Every file under `dir` as (relative posix path → bytes). A missing `dir`
/// is empty. Symlinks are reported as errors: remotes hold plain files.
pub fn list_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display())) {
        let entry = entry.unwrap();
        let path = entry.path();
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            walk(root, &path, out);
        } else {
            assert!(!ft.is_symlink(), "unexpected symlink {}", path.display());
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .expect("utf-8 path")
                .to_string();
            // A file may vanish between readdir and read while a push runs.
            if let Ok(bytes) = fs::read(&path) {
                out.insert(rel, bytes);
            }
        }
    }
}

/// Relative paths of every file under `dir` (no contents).
pub fn list_names(dir: &Path) -> BTreeSet<String> {
    list_files(dir).into_keys().collect()
}

/// Panics, with a readable difference, unless both directories hold the
/// same relative file names with the same bytes. `label` says what is being
/// compared.
#[track_caller]
pub fn assert_same_files(label: &str, a: &Path, b: &Path) {
    let fa = list_files(a);
    let fb = list_files(b);
    let mut problems = Vec::new();
    for (k, v) in &fa {
        match fb.get(k) {
            None => problems.push(format!("only in A: {k}")),
            Some(w) if w != v => problems.push(format!(
                "different bytes: {k} (A {} bytes, B {} bytes)",
                v.len(),
                w.len()
            )),
            _ => {}
        }
    }
    for k in fb.keys() {
        if !fa.contains_key(k) {
            problems.push(format!("only in B: {k}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{label}: directories differ\n  A = {}\n  B = {}\n  {}\n(A holds {} files, B holds {})",
        a.display(),
        b.display(),
        problems.join("\n  "),
        fa.len(),
        fb.len()
    );
}

/// How strictly [`check_remote`] judges a remote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoteCheck {
    /// A finished push: nothing but objects, all 0444, all complete.
    Complete,
    /// After an interrupted push: leftover files that are not named like
    /// objects (temp files) are allowed; everything named like an object must
    /// be correct, and no `.dir` may lack a member.
    Interrupted,
}

/// Verifies a local remote: object names match contents (md5, or DVC 2's
/// dos2unix md5 for legacy objects), `.dir` manifests parse and every member
/// they list is present in the same layout, and (when `Complete`) there is
/// nothing else and every object is mode 0444. Returns the objects found.
#[track_caller]
pub fn check_remote(dir: &Path, mode: RemoteCheck) -> BTreeSet<ObjectName> {
    let files = list_files(dir);
    let mut objects = BTreeSet::new();
    let mut problems = Vec::new();
    for (rel, bytes) in &files {
        let Some(name) = parse_object_path(rel) else {
            if mode == RemoteCheck::Complete {
                problems.push(format!("not an object path (temp file left?): {rel}"));
            }
            continue;
        };
        let raw = md5_hex(bytes);
        let ok = raw == name.md5() || (name.legacy && dos2unix_md5_hex(bytes) == name.md5());
        if !ok {
            problems.push(format!("{rel}: bytes hash to {raw}, not the object's name"));
        }
        if mode == RemoteCheck::Complete {
            let perm = fs::metadata(dir.join(rel)).unwrap().permissions().mode() & 0o7777;
            if perm != 0o444 {
                problems.push(format!("{rel}: mode {perm:o}, expected 444"));
            }
        }
        objects.insert(name);
    }
    for name in &objects {
        if !name.is_dir() {
            continue;
        }
        let rel = object_rel_path(&name.oid, name.legacy);
        for (member_md5, relpath) in parse_dir_manifest(&files[&rel]) {
            let member = ObjectName {
                oid: member_md5.clone(),
                legacy: name.legacy,
            };
            if !objects.contains(&member) {
                problems.push(format!(
                    "{rel} is on the remote but its member {relpath:?} ({member_md5}) is not"
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "remote {} is not valid ({:?}):\n  {}",
        dir.display(),
        mode,
        problems.join("\n  ")
    );
    objects
}

/// Parses a `.dir` object into (md5, relpath) pairs.
pub fn parse_dir_manifest(bytes: &[u8]) -> Vec<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(bytes).expect(".dir object is not JSON");
    value
        .as_array()
        .expect(".dir object is not a JSON list")
        .iter()
        .map(|e| {
            (
                e["md5"].as_str().expect("md5").to_string(),
                e["relpath"].as_str().expect("relpath").to_string(),
            )
        })
        .collect()
}

/// Does the remote hold `oid` (3.x layout unless `legacy`)?
pub fn remote_has(remote: &Path, oid: &str, legacy: bool) -> bool {
    remote.join(object_rel_path(oid, legacy)).is_file()
}

// ---------------------------------------------------------------------------
// Summary lines, as DVC prints them
// ---------------------------------------------------------------------------

/// DVC's push summary for `n` transferred objects.
pub fn pushed_line(n: usize) -> String {
    match n {
        0 => "Everything is up to date.".to_string(),
        1 => "1 file pushed".to_string(),
        n => format!("{n} files pushed"),
    }
}

/// Parses `N file(s) pushed` / `Everything is up to date.` back into N.
pub fn parse_pushed_line(line: &str) -> Option<usize> {
    let line = line.trim();
    if line == "Everything is up to date." {
        return Some(0);
    }
    let n = line
        .strip_suffix(" files pushed")
        .or_else(|| line.strip_suffix(" file pushed"))?;
    n.parse().ok()
}

pub fn in_sync_line(remote: &str) -> String {
    format!("Cache and remote '{remote}' are in sync.")
}

// ---------------------------------------------------------------------------
// Work trees
// ---------------------------------------------------------------------------

/// Asserts each expected file exists under `dir` with exactly these bytes.
#[track_caller]
pub fn assert_workspace(dir: &Path, expected: &BTreeMap<String, Vec<u8>>) {
    let mut problems = Vec::new();
    for (rel, want) in expected {
        match fs::read(dir.join(rel)) {
            Ok(got) if &got == want => {}
            Ok(got) => problems.push(format!(
                "{rel}: {} bytes differ from the expected {} bytes",
                got.len(),
                want.len()
            )),
            Err(e) => problems.push(format!("{rel}: {e}")),
        }
    }
    assert!(
        problems.is_empty(),
        "workspace {} does not hold the expected data:\n  {}",
        dir.display(),
        problems.join("\n  ")
    );
}

/// One entry of a [`tree_state`]: what it is, its permission bits, and its bytes (a
/// symbolic link's target, nothing for a directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// `f` file, `d` directory, `l` symbolic link.
    pub kind: char,
    pub mode: u32,
    pub content: Vec<u8>,
}

/// Everything under `dir`, directories and links included, by relative path; entries whose
/// path equals or starts with one of `skip` (`".git"`, `".dvc/tmp"`) are left out. For
/// comparing whole work trees, caches included, modes and all.
pub fn tree_state(dir: &Path, skip: &[&str]) -> BTreeMap<String, TreeEntry> {
    fn walk(root: &Path, dir: &Path, skip: &[&str], out: &mut BTreeMap<String, TreeEntry>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("read_dir {}: {e}", dir.display()))
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if skip
                .iter()
                .any(|s| rel == *s || rel.starts_with(&format!("{s}/")))
            {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            let mode = meta.permissions().mode() & 0o7777;
            let ft = meta.file_type();
            let (kind, content) = if ft.is_symlink() {
                let target = fs::read_link(&path).unwrap();
                ('l', target.to_string_lossy().into_owned().into_bytes())
            } else if ft.is_dir() {
                ('d', Vec::new())
            } else {
                ('f', fs::read(&path).unwrap())
            };
            out.insert(
                rel,
                TreeEntry {
                    kind,
                    mode,
                    content,
                },
            );
            if ft.is_dir() {
                walk(root, &path, skip, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, skip, &mut out);
    out
}

/// Panics, listing every difference, unless [`tree_state`] of `a` and `b` are equal.
#[track_caller]
pub fn assert_same_tree(label: &str, a: &Path, b: &Path, skip: &[&str]) {
    let ta = tree_state(a, skip);
    let tb = tree_state(b, skip);
    let mut problems = Vec::new();
    for (k, ea) in &ta {
        match tb.get(k) {
            None => problems.push(format!("only in A: {k}")),
            Some(eb) if eb != ea => {
                let show = |e: &TreeEntry| {
                    format!(
                        "{} {:o} {:?}",
                        e.kind,
                        e.mode,
                        String::from_utf8_lossy(&e.content)
                    )
                };
                problems.push(format!(
                    "differs: {k}\n      A: {}\n      B: {}",
                    show(ea),
                    show(eb)
                ))
            }
            _ => {}
        }
    }
    for k in tb.keys() {
        if !ta.contains_key(k) {
            problems.push(format!("only in B: {k}"));
        }
    }
    assert!(
        problems.is_empty(),
        "{label}: trees differ\n  A = {}\n  B = {}\n  {}",
        a.display(),
        b.display(),
        problems.join("\n  ")
    );
}

/// Files under `dir` (relative path → bytes), skipping `.git` and `.dvc`.
pub fn workspace_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    list_files(dir)
        .into_iter()
        .filter(|(k, _)| !(k.starts_with(".git/") || k.starts_with(".dvc/")))
        .collect()
}

/// Makes a fresh clone of `src` at `root/rel`, points the named remotes at
/// the given directories (in `.dvc/config.local`), copies `seed` objects
/// (e.g. `push: false` outputs, which no remote holds) from `src`'s cache,
/// checks out `rev`, runs `dvc pull` and asserts it succeeds and restores
/// `expected`.
#[track_caller]
pub fn clone_and_pull<'e>(
    env: &'e TestEnv,
    src: &Path,
    rel: &str,
    remotes: &[(&str, &Path)],
    seed: &[&str],
    rev: &str,
    expected: &BTreeMap<String, Vec<u8>>,
) -> Repo<'e> {
    let clone = env.clone_repo(src, rel);
    clone.set_local_remotes(remotes);
    for oid in seed {
        let rel = object_rel_path(oid, false);
        let from = src.join(".dvc/cache").join(&rel);
        let to = clone.cache_dir().join(&rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(&from, &to).unwrap_or_else(|e| panic!("seed {}: {e}", from.display()));
    }
    pull_rev(&clone, rev, expected);
    clone
}

/// In an existing clone: `git checkout rev`, `dvc pull --force`, and compare.
#[track_caller]
pub fn pull_rev(clone: &Repo<'_>, rev: &str, expected: &BTreeMap<String, Vec<u8>>) {
    clone.git(&["checkout", "-q", "--force", rev]);
    clone.dvc(&["pull", "--force"]);
    assert_workspace(&clone.dir, expected);
}

// ---------------------------------------------------------------------------
// git-dvc versus DVC
// ---------------------------------------------------------------------------

/// The two sides of [`compare_push_with_dvc`].
pub struct PushComparison {
    pub git_dvc: Run,
    pub dvc: Run,
    /// The remote directories git-dvc filled, in the order of `remotes`.
    pub ours: Vec<PathBuf>,
    /// The remote directories DVC filled.
    pub theirs: Vec<PathBuf>,
}

impl PushComparison {
    /// Total number of files git-dvc's remotes hold.
    pub fn our_file_count(&self) -> usize {
        self.ours.iter().map(|d| list_files(d).len()).sum()
    }
}

/// Apples to apples: points each named remote at a fresh directory (through
/// `.dvc/config.local`, which this overwrites), runs `git-dvc push ARGS`,
/// then points them at other fresh directories and runs `dvc push ARGS` in
/// the same repository. Asserts that both succeed, print the same summary
/// line, fill each remote with exactly the same files (names and bytes), and
/// that git-dvc's remotes hold nothing but complete 0444 objects.
#[track_caller]
pub fn compare_push_with_dvc(
    repo: &Repo<'_>,
    label: &str,
    remotes: &[&str],
    args: &[&str],
) -> PushComparison {
    let env = repo.env;
    let ours: Vec<PathBuf> = remotes
        .iter()
        .map(|r| env.path(&format!("remotes/{label}/git-dvc/{r}")))
        .collect();
    let theirs: Vec<PathBuf> = remotes
        .iter()
        .map(|r| env.path(&format!("remotes/{label}/dvc/{r}")))
        .collect();
    for d in ours.iter().chain(&theirs) {
        assert!(!d.exists(), "label {label} used twice");
    }
    let mut push_args = vec!["push"];
    push_args.extend_from_slice(args);

    let pairs: Vec<(&str, &Path)> = remotes
        .iter()
        .copied()
        .zip(ours.iter().map(PathBuf::as_path))
        .collect();
    repo.set_local_remotes(&pairs);
    let git_dvc = repo.try_git_dvc(&push_args);
    assert!(
        git_dvc.success(),
        "{label}: git-dvc push failed\n{}",
        git_dvc.describe()
    );

    let pairs: Vec<(&str, &Path)> = remotes
        .iter()
        .copied()
        .zip(theirs.iter().map(PathBuf::as_path))
        .collect();
    repo.set_local_remotes(&pairs);
    let dvc = repo.try_dvc(&push_args);
    assert!(
        dvc.success(),
        "{label}: dvc push failed\n{}",
        dvc.describe()
    );

    for (i, name) in remotes.iter().enumerate() {
        assert_same_files(
            &format!("{label}: remote '{name}' (A = git-dvc, B = dvc)"),
            &ours[i],
            &theirs[i],
        );
        check_remote(&ours[i], RemoteCheck::Complete);
    }
    assert_eq!(
        git_dvc.out(),
        dvc.out(),
        "{label}: git-dvc and dvc print different summaries\n{}\n{}",
        git_dvc.describe(),
        dvc.describe()
    );
    PushComparison {
        git_dvc,
        dvc,
        ours,
        theirs,
    }
}

/// Points the named remotes at existing directories again (e.g. git-dvc's
/// side of a comparison) for follow-up commands.
pub fn use_remotes(repo: &Repo<'_>, remotes: &[&str], dirs: &[PathBuf]) {
    let pairs: Vec<(&str, &Path)> = remotes
        .iter()
        .copied()
        .zip(dirs.iter().map(PathBuf::as_path))
        .collect();
    repo.set_local_remotes(&pairs);
}

// ---------------------------------------------------------------------------
// Hooks: bare servers, pushes through git, PATH control
// (tests/it/hooks_pre_push.rs, hooks_install.rs, hooks_pre_receive.rs, check.rs)
// ---------------------------------------------------------------------------

/// The all-zero object id git uses for "no object" (new refs, deletes).
pub const ZERO_OID: &str = "0000000000000000000000000000000000000000";

impl TestEnv {
    /// A new bare repository at `root/rel` (`git init --bare -b main`).
    pub fn bare_repo(&self, rel: &str) -> Repo<'_> {
        let dir = self.mkdir(rel);
        self.git(&dir, &["init", "-q", "--bare", "-b", "main"]);
        Repo { env: self, dir }
    }

    /// Runs `program` in the isolated environment plus `envs` (applied last, so they can
    /// override PATH, for example). Does not panic on failure.
    pub fn run_with_env(
        &self,
        program: impl AsRef<OsStr>,
        dir: &Path,
        args: &[&str],
        envs: &[(&str, &OsStr)],
    ) -> Run {
        let mut cmd = self.command(program, dir);
        cmd.args(args);
        for (k, v) in envs {
            cmd.env(k, v);
        }
        run_command(cmd, COMMAND_TIMEOUT)
    }

    /// The PATH commands get (git-dvc's directory first), with `dirs` in front of it.
    pub fn path_with(&self, dirs: &[&Path]) -> std::ffi::OsString {
        let base = self
            .command("true", self.root())
            .get_envs()
            .find(|(k, _)| *k == "PATH")
            .and_then(|(_, v)| v.map(OsStr::to_os_string))
            .unwrap_or_default();
        let mut all: Vec<PathBuf> = dirs.iter().map(|d| d.to_path_buf()).collect();
        all.extend(std::env::split_paths(&base));
        std::env::join_paths(all).unwrap()
    }

    /// The system PATH without any directory that holds a `git-dvc` (so hooks cannot find it).
    pub fn path_without_git_dvc(&self) -> std::ffi::OsString {
        let system = std::env::var_os("PATH").unwrap_or_default();
        let dirs: Vec<PathBuf> = std::env::split_paths(&system)
            .filter(|d| !d.join("git-dvc").exists())
            .collect();
        std::env::join_paths(dirs).unwrap()
    }
}

impl Repo<'_> {
    /// git with extra environment variables (see [`TestEnv::run_with_env`]); no panic.
    pub fn try_git_with_env(&self, args: &[&str], envs: &[(&str, &OsStr)]) -> Run {
        self.env.run_with_env("git", &self.dir, args, envs)
    }

    /// The object a ref or revision names, `None` if it does not resolve.
    pub fn try_rev_parse(&self, rev: &str) -> Option<String> {
        let run = self.try_git(&["rev-parse", "--verify", "-q", rev]);
        run.success().then(|| run.stdout.trim().to_string())
    }

    /// Whether this repository's object store holds `oid` (any type).
    pub fn has_object(&self, oid: &str) -> bool {
        self.try_git(&["cat-file", "-e", oid]).success()
    }

    /// Writes `rel` and `dvc add`s it; returns the object's md5.
    #[track_caller]
    pub fn dvc_add_file(&self, rel: &str, bytes: impl AsRef<[u8]>) -> String {
        self.write(rel, bytes.as_ref());
        self.dvc(&["add", "-q", rel]);
        md5_hex(bytes.as_ref())
    }
}

/// The server hook `git dvc install --server` writes when `binary` installs it: the shipped
/// script with `binary` as the fallback when git-dvc is not on the server's PATH.
pub fn server_hook_for(binary: &Path) -> String {
    include_str!("../../../hooks/pre-receive").replace(
        "@GIT_DVC@",
        &binary.to_str().unwrap().replace('\'', "'\\''"),
    )
}

/// The server hook as this test build installs it (see [`server_hook_for`]).
pub fn server_hook() -> String {
    server_hook_for(&git_dvc_bin())
}

/// Writes an executable (0755) script, creating parent directories.
pub fn write_script(path: &Path, text: &str) {
    write_file(path, text.as_bytes());
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// The permission bits of `path` (`0o755`, ...).
pub fn file_mode(path: &Path) -> u32 {
    fs::metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Removes the object `oid` from a cache or a local remote (3.x layout); panics if absent.
#[track_caller]
pub fn remove_object(store: &Path, oid: &str) {
    let p = store.join(object_rel_path(oid, false));
    fs::remove_file(&p).unwrap_or_else(|e| panic!("remove {}: {e}", p.display()));
}
