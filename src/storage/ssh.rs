//! `ssh://[user@]host[:port]/abs/path` remotes over SFTP (libssh2 through `ssh2`), laid out
//! and written as DVC's `dvc_ssh` writes them:
//!
//! * parent directories are created as needed (`mkdir -p`, mode 0777 less the server's
//!   umask, as sshfs asks);
//! * each object is written to `<dir>/.<22 random chars>.tmp` and renamed onto its final
//!   name; a failed or unverified upload removes the temporary file. libssh2 has no
//!   `posix-rename@openssh.com`, so when a plain SFTP rename fails because the target
//!   already exists (another pusher stored the same content-addressed object), the
//!   existing object is kept and the temporary file removed;
//! * no chmod: DVC leaves SSH objects with the server's default mode.
//!
//! Connection settings come, in this order, from the remote's options (`user`, `port`,
//! `keyfile`, `password`, `passphrase`, `allow_agent`, `timeout`, `max_sessions`), the URL,
//! and `~/.ssh/config` (`Host` blocks: `HostName`, `User`, `Port`, `IdentityFile`).
//! Authentication tries the password, the key file, the SSH agent, then the config's
//! identity files and the default `~/.ssh/id_*` keys. Like DVC (sshfs passes
//! `known_hosts=None`), an unknown host key is accepted; unlike DVC, a host key that
//! contradicts `~/.ssh/known_hosts` is refused.
//!
//! Sessions are pooled: at most `max_sessions` (default 8, and never more than `jobs`)
//! connections, opened on demand and reused.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use ssh2::{ErrorCode, OpenFlags, OpenType, Session, Sftp};

use super::{denied_message, option_bool, option_str, ErrorKind, Storage, StorageError};
use crate::dvc::config::RemoteConfig;

/// sshfs opens 10 channels, 2 of them for shell commands.
const DEFAULT_MAX_SESSIONS: usize = 8;
/// Time limit of one blocking SSH operation.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(120);
const WRITE_CHUNK: usize = 256 << 10;
/// How deep `list_tree` descends: the run cache is three levels deep.
const MAX_TREE_DEPTH: usize = 8;

/// libssh2's SFTP status codes (`LIBSSH2_FX_*`).
const FX_NO_SUCH_FILE: i32 = 2;
const FX_PERMISSION_DENIED: i32 = 3;
const FX_FAILURE: i32 = 4;
const FX_FILE_ALREADY_EXISTS: i32 = 11;

/// Where and how to connect, resolved from options, URL and `~/.ssh/config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// The host as written in the URL (for messages and known_hosts).
    pub host: String,
    /// The address to connect to (`HostName`, else `host`).
    pub hostname: String,
    pub port: u16,
    pub user: String,
    /// Absolute path of the remote's root on the server.
    pub root: String,
    pub password: Option<String>,
    pub passphrase: Option<String>,
    pub keyfile: Option<PathBuf>,
    pub identity_files: Vec<PathBuf>,
    pub allow_agent: bool,
    pub connect_timeout: Duration,
    pub max_sessions: Option<usize>,
}

fn config_error(remote: &RemoteConfig, message: String) -> StorageError {
    StorageError::new(
        ErrorKind::Other,
        format!("config file error: remote '{}': {message}", remote.name),
    )
}

impl SshSettings {
    /// `home` is the user's home directory (for `~/.ssh`), `local_user` the default login.
    pub fn from_remote(
        remote: &RemoteConfig,
        home: Option<&Path>,
        local_user: &str,
    ) -> Result<SshSettings, StorageError> {
        let rest = remote.url.strip_prefix("ssh://").ok_or_else(|| {
            config_error(remote, format!("'{}' is not an ssh:// URL", remote.url))
        })?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (url_user, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u.split(':').next().unwrap_or(u).to_string()), h),
            None => (None, authority),
        };
        let (host, url_port) = match hostport.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hostport.starts_with('[') => {
                let port = p.parse::<u16>().map_err(|_| {
                    config_error(remote, format!("'{p}' in '{}' is not a port", remote.url))
                })?;
                (h.trim_matches(|c| c == '[' || c == ']'), Some(port))
            }
            _ => (hostport, None),
        };
        if host.is_empty() {
            return Err(config_error(
                remote,
                format!("'{}' names no host", remote.url),
            ));
        }
        let entry = home
            .map(|h| h.join(".ssh/config"))
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map(|text| ssh_config_lookup(&text, host, home))
            .unwrap_or_default();
        let port = match option_str(remote, "port") {
            Some(p) => p
                .parse::<u16>()
                .map_err(|_| config_error(remote, format!("port '{p}' is not a number")))?,
            None => url_port.or(entry.port).unwrap_or(22),
        };
        let user = option_str(remote, "user")
            .map(str::to_string)
            .or(url_user)
            .or(entry.user)
            .unwrap_or_else(|| local_user.to_string());
        let connect_timeout = match option_str(remote, "timeout") {
            Some(t) => Duration::from_secs_f64(
                t.parse::<f64>()
                    .ok()
                    .filter(|t| *t > 0.0)
                    .ok_or_else(|| config_error(remote, format!("timeout '{t}' is not seconds")))?,
            ),
            None => Duration::from_secs(1800),
        };
        let max_sessions = match option_str(remote, "max_sessions") {
            Some(m) => Some(m.parse::<usize>().ok().filter(|m| *m > 0).ok_or_else(|| {
                config_error(remote, format!("max_sessions '{m}' is not a count"))
            })?),
            None => None,
        };
        let mut identity_files = entry.identity_files;
        if identity_files.is_empty() {
            if let Some(h) = home {
                for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                    identity_files.push(h.join(".ssh").join(name));
                }
            }
        }
        Ok(SshSettings {
            host: host.to_string(),
            hostname: entry.hostname.unwrap_or_else(|| host.to_string()),
            port,
            user,
            root: path.trim_end_matches('/').to_string(),
            password: option_str(remote, "password").map(str::to_string),
            passphrase: option_str(remote, "passphrase").map(str::to_string),
            keyfile: option_str(remote, "keyfile").map(|k| expand_home(k, home)),
            identity_files,
            allow_agent: option_bool(remote, "allow_agent")?.unwrap_or(true),
            connect_timeout,
            max_sessions,
        })
    }

    fn display_url(&self) -> String {
        let port = if self.port == 22 {
            String::new()
        } else {
            format!(":{}", self.port)
        };
        format!("ssh://{}@{}{port}{}", self.user, self.host, self.root)
    }
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(path),
    }
}

/// What `~/.ssh/config` says about one host (first value of each keyword wins).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SshConfigEntry {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
}

/// Reads the `Host` blocks of an OpenSSH client config that match `host`. `Match` blocks
/// are skipped; `%h` in `HostName` is the host.
pub fn ssh_config_lookup(text: &str, host: &str, home: Option<&Path>) -> SshConfigEntry {
    let mut entry = SshConfigEntry::default();
    let mut active = true;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.find(|c: char| c == '=' || c.is_whitespace()) {
            Some(i) => (
                &line[..i],
                line[i..].trim_start_matches(|c: char| c == '=' || c.is_whitespace()),
            ),
            None => (line, ""),
        };
        let value = value.trim().trim_matches('"');
        match key.to_ascii_lowercase().as_str() {
            "host" => {
                let mut matched = false;
                for pattern in value.split_whitespace() {
                    if let Some(neg) = pattern.strip_prefix('!') {
                        if glob_match(neg, host) {
                            matched = false;
                            break;
                        }
                    } else if glob_match(pattern, host) {
                        matched = true;
                    }
                }
                active = matched;
            }
            "match" => active = false,
            _ if !active => {}
            "hostname" if entry.hostname.is_none() => {
                entry.hostname = Some(value.replace("%h", host));
            }
            "user" if entry.user.is_none() => entry.user = Some(value.to_string()),
            "port" if entry.port.is_none() => entry.port = value.parse().ok(),
            "identityfile" => entry.identity_files.push(expand_home(value, home)),
            _ => {}
        }
    }
    entry
}

/// OpenSSH's pattern match: `*` any run, `?` one character.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

struct Conn {
    // Field order: the SFTP channel closes before its session.
    sftp: Sftp,
    _session: Session,
}

struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

pub struct SshStorage {
    settings: SshSettings,
    remote: String,
    url: String,
    max: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    /// Directories known to exist (created or seen), to skip repeated `mkdir -p`.
    dirs: Mutex<HashSet<String>>,
    requests: AtomicU64,
}

pub fn open(remote: &RemoteConfig) -> Result<SshStorage, StorageError> {
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let settings = SshSettings::from_remote(remote, home.as_deref(), &local_user())?;
    let jobs = remote
        .options
        .get("jobs")
        .and_then(|j| j.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let max = settings
        .max_sessions
        .unwrap_or(DEFAULT_MAX_SESSIONS)
        .min(jobs)
        .max(1);
    let url = settings.display_url();
    Ok(SshStorage {
        settings,
        remote: remote.name.clone(),
        url,
        max,
        pool: Mutex::new(Pool {
            idle: Vec::new(),
            open: 0,
        }),
        freed: Condvar::new(),
        dirs: Mutex::new(HashSet::new()),
        requests: AtomicU64::new(0),
    })
}

fn local_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var) {
            if !u.is_empty() {
                return u;
            }
        }
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; it is read at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    "root".to_string()
}

impl SshStorage {
    fn path(&self, key: &str) -> String {
        format!("{}/{key}", self.settings.root)
    }

    fn denied(&self, detail: &str) -> StorageError {
        StorageError::new(
            ErrorKind::Denied,
            denied_message(
                &self.remote,
                &self.url,
                detail,
                "the user name, the remote's keyfile/password options, your SSH agent and \
                 ~/.ssh/config, and the permissions of the remote directory",
            ),
        )
    }

    fn err(&self, action: &str, what: &str, e: ssh2::Error) -> StorageError {
        let kind = match e.code() {
            ErrorCode::SFTP(FX_PERMISSION_DENIED) => {
                return self
                    .denied(&format!("{action} {what}: permission denied"))
                    .at(&self.remote, what)
            }
            ErrorCode::SFTP(_) => ErrorKind::Other,
            // Socket, timeout and channel failures: the connection is gone or stuck.
            ErrorCode::Session(_) => ErrorKind::Transient,
        };
        StorageError::new(
            kind,
            format!(
                "{action} {what} on remote '{}' ({}): {e}",
                self.remote, self.url
            ),
        )
        .at(&self.remote, what)
        .with_source(e)
    }

    fn connect(&self) -> Result<Conn, StorageError> {
        let s = &self.settings;
        let transient = |detail: String| {
            StorageError::new(
                ErrorKind::Transient,
                format!(
                    "cannot connect to remote '{}' ({}): {detail}",
                    self.remote, self.url
                ),
            )
        };
        let addrs: Vec<_> = (s.hostname.as_str(), s.port)
            .to_socket_addrs()
            .map_err(|e| transient(format!("cannot resolve {}: {e}", s.hostname)))?
            .collect();
        let mut last = None;
        let mut tcp = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, s.connect_timeout) {
                Ok(t) => {
                    tcp = Some(t);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let tcp = tcp.ok_or_else(|| {
            transient(
                last.map(|e| e.to_string())
                    .unwrap_or_else(|| "no address".to_string()),
            )
        })?;
        let _ = tcp.set_nodelay(true);
        let mut session = Session::new().map_err(|e| transient(e.to_string()))?;
        session.set_tcp_stream(tcp);
        // Connecting includes the handshake and authentication: a server that accepts the
        // TCP connection and then says nothing is bounded by `timeout`, like a dead one.
        let connect_ms = s.connect_timeout.min(OPERATION_TIMEOUT).as_millis() as u32;
        session.set_timeout(connect_ms.max(1));
        session
            .handshake()
            .map_err(|e| transient(format!("SSH handshake failed: {e}")))?;
        self.check_host_key(&session)?;
        self.authenticate(&session)?;
        let sftp = session
            .sftp()
            .map_err(|e| self.err("cannot start SFTP", "", e))?;
        session.set_timeout(OPERATION_TIMEOUT.as_millis() as u32);
        Ok(Conn {
            sftp,
            _session: session,
        })
    }

    /// Refuses a host key that contradicts `~/.ssh/known_hosts`; accepts unknown hosts
    /// as DVC does.
    fn check_host_key(&self, session: &Session) -> Result<(), StorageError> {
        let Some(home) = std::env::var_os("HOME") else {
            return Ok(());
        };
        let file = Path::new(&home).join(".ssh/known_hosts");
        if !file.is_file() {
            return Ok(());
        }
        let Ok(mut known) = session.known_hosts() else {
            return Ok(());
        };
        if known
            .read_file(&file, ssh2::KnownHostFileKind::OpenSSH)
            .is_err()
        {
            return Ok(());
        }
        let Some((key, _)) = session.host_key() else {
            return Ok(());
        };
        match known.check_port(&self.settings.host, self.settings.port, key) {
            ssh2::CheckResult::Mismatch => Err(StorageError::new(
                ErrorKind::Denied,
                format!(
                    "remote '{}' ({}): the server's host key does not match {}; if the server \
                     was reinstalled, remove its old entry (ssh-keygen -R), otherwise someone \
                     may be impersonating it",
                    self.remote,
                    self.url,
                    file.display()
                ),
            )),
            _ => Ok(()),
        }
    }

    fn authenticate(&self, session: &Session) -> Result<(), StorageError> {
        let s = &self.settings;
        let user = s.user.as_str();
        let mut tried = Vec::new();
        if let Some(pw) = &s.password {
            tried.push("password");
            if session.userauth_password(user, pw).is_ok() && session.authenticated() {
                return Ok(());
            }
        }
        if let Some(key) = &s.keyfile {
            tried.push("keyfile");
            if session
                .userauth_pubkey_file(user, None, key, s.passphrase.as_deref())
                .is_ok()
                && session.authenticated()
            {
                return Ok(());
            }
        }
        if s.allow_agent && std::env::var_os("SSH_AUTH_SOCK").is_some() {
            tried.push("agent");
            if session.userauth_agent(user).is_ok() && session.authenticated() {
                return Ok(());
            }
        }
        if s.keyfile.is_none() {
            for key in s.identity_files.iter().filter(|k| k.is_file()) {
                tried.push("identity files");
                if session
                    .userauth_pubkey_file(user, None, key, s.passphrase.as_deref())
                    .is_ok()
                    && session.authenticated()
                {
                    return Ok(());
                }
            }
        }
        tried.dedup();
        Err(self.denied(&format!(
            "authentication as '{user}' failed (tried: {})",
            if tried.is_empty() {
                "nothing: no password, key file, agent or ~/.ssh/id_* key".to_string()
            } else {
                tried.join(", ")
            }
        )))
    }

    /// Runs `op` on a pooled connection. A connection whose operation failed at the
    /// session level is dropped, not reused.
    fn with_conn<T>(
        &self,
        op: impl FnOnce(&Sftp) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let conn = {
            let mut pool = self.pool.lock().expect("ssh pool");
            loop {
                if let Some(c) = pool.idle.pop() {
                    break Some(c);
                }
                if pool.open < self.max {
                    pool.open += 1;
                    break None;
                }
                pool = self.freed.wait(pool).expect("ssh pool");
            }
        };
        let conn = match conn {
            Some(c) => c,
            None => match self.connect() {
                Ok(c) => c,
                Err(e) => {
                    self.pool.lock().expect("ssh pool").open -= 1;
                    self.freed.notify_one();
                    return Err(e);
                }
            },
        };
        let result = op(&conn.sftp);
        let mut pool = self.pool.lock().expect("ssh pool");
        match &result {
            Err(e) if e.kind == ErrorKind::Transient => {
                pool.open -= 1;
                drop(conn);
            }
            _ => pool.idle.push(conn),
        }
        drop(pool);
        self.freed.notify_one();
        result
    }

    fn count(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn stat_file(&self, sftp: &Sftp, path: &str) -> Result<Option<ssh2::FileStat>, ssh2::Error> {
        self.count();
        match sftp.stat(Path::new(path)) {
            Ok(st) => Ok(Some(st)),
            Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `mkdir -p` of `dir` (an absolute path under the root).
    fn make_dirs(&self, sftp: &Sftp, dir: &str) -> Result<(), StorageError> {
        if self.dirs.lock().expect("dirs").contains(dir) {
            return Ok(());
        }
        // Find the deepest existing ancestor, then create downwards.
        let mut missing = Vec::new();
        let mut cur = dir.to_string();
        loop {
            match self
                .stat_file(sftp, &cur)
                .map_err(|e| self.err("cannot check", &cur, e))?
            {
                Some(st) if st.is_dir() => break,
                Some(_) => {
                    return Err(StorageError::new(
                        ErrorKind::Other,
                        format!(
                            "remote '{}' ({}): {cur} is not a directory",
                            self.remote, self.url
                        ),
                    ))
                }
                None => {
                    missing.push(cur.clone());
                    match cur.rfind('/') {
                        Some(0) | None => break,
                        Some(i) => cur.truncate(i),
                    }
                }
            }
        }
        for d in missing.iter().rev() {
            self.count();
            if let Err(e) = sftp.mkdir(Path::new(d), 0o777) {
                // Another worker may have created it meanwhile.
                let exists = self
                    .stat_file(sftp, d)
                    .ok()
                    .flatten()
                    .is_some_and(|st| st.is_dir());
                if !exists {
                    return Err(self.err("cannot create directory", d, e));
                }
            }
        }
        self.dirs.lock().expect("dirs").insert(dir.to_string());
        Ok(())
    }

    fn upload(&self, sftp: &Sftp, key: &str, source: &mut dyn Read) -> Result<(), StorageError> {
        let target = self.path(key);
        let dir = match target.rfind('/') {
            Some(i) => target[..i].to_string(),
            None => {
                return Err(StorageError::new(
                    ErrorKind::Other,
                    format!("bad key {key}"),
                ))
            }
        };
        self.make_dirs(sftp, &dir)?;
        let temp = format!("{dir}/{}", crate::temp_files::temp_name());
        self.count();
        let mut file = sftp
            .open_mode(
                Path::new(&temp),
                OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                0o666,
                OpenType::File,
            )
            .map_err(|e| self.err("cannot create", &temp, e))?;
        let written = copy_to(source, &mut file);
        drop(file);
        let cleanup = |sftp: &Sftp| {
            self.count();
            let _ = sftp.unlink(Path::new(&temp));
        };
        match written {
            Ok(()) => {}
            Err(CopyError::Read(e)) => {
                cleanup(sftp);
                return Err(StorageError::from_io("cannot read the cache object", e));
            }
            Err(CopyError::Write(e)) => {
                let err = StorageError::from_io(
                    &format!(
                        "cannot write {temp} on remote '{}' ({})",
                        self.remote, self.url
                    ),
                    e,
                );
                // A broken connection cannot clean up; a later run overwrites nothing
                // (temporary names are random) and DVC ignores `.tmp` files.
                if err.kind != ErrorKind::Transient {
                    cleanup(sftp);
                }
                return Err(StorageError::new(
                    if err.kind == ErrorKind::Other {
                        ErrorKind::Transient
                    } else {
                        err.kind
                    },
                    err.message,
                ));
            }
        }
        self.count();
        match sftp.rename(Path::new(&temp), Path::new(&target), None) {
            Ok(()) => Ok(()),
            Err(e)
                if matches!(
                    e.code(),
                    ErrorCode::SFTP(FX_FAILURE) | ErrorCode::SFTP(FX_FILE_ALREADY_EXISTS)
                ) && self.stat_file(sftp, &target).ok().flatten().is_some() =>
            {
                // The object is already there (same name, so same content).
                cleanup(sftp);
                Ok(())
            }
            Err(e) => {
                let err = self.err("cannot rename into", &target, e);
                if err.kind != ErrorKind::Transient {
                    cleanup(sftp);
                }
                Err(err)
            }
        }
    }

    fn list_dir(&self, sftp: &Sftp, dir: &str) -> Result<Vec<(String, bool)>, StorageError> {
        self.count();
        let path = if dir.is_empty() { "/" } else { dir };
        match sftp.readdir(Path::new(path)) {
            Ok(entries) => Ok(entries
                .into_iter()
                .filter_map(|(p, st)| {
                    let name = p.file_name()?.to_str()?.to_string();
                    Some((name, st.is_dir()))
                })
                .collect()),
            Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => Ok(Vec::new()),
            Err(e) => Err(self.err("cannot list", dir, e)),
        }
    }
}

enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
}

fn copy_to(source: &mut dyn Read, dest: &mut dyn Write) -> Result<(), CopyError> {
    let mut buf = vec![0u8; WRITE_CHUNK];
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        dest.write_all(&buf[..n]).map_err(CopyError::Write)?;
    }
    dest.flush().map_err(CopyError::Write)
}

impl Storage for SshStorage {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        let path = self.path(key);
        self.with_conn(|sftp| {
            self.stat_file(sftp, &path)
                .map(|st| st.is_some_and(|st| st.is_file()))
                .map_err(|e| self.err("cannot check", &path, e))
        })
    }

    fn read(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let path = self.path(key);
        self.with_conn(|sftp| {
            self.count();
            let mut file = match sftp.open(Path::new(&path)) {
                Ok(f) => f,
                Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => return Ok(None),
                Err(e) => return Err(self.err("cannot read", &path, e)),
            };
            let mut bytes = Vec::new();
            (&mut file)
                .take(limit.saturating_add(1))
                .read_to_end(&mut bytes)
                .map_err(|e| {
                    StorageError::new(
                        ErrorKind::Transient,
                        format!(
                            "cannot read {path} on remote '{}' ({}): {e}",
                            self.remote, self.url
                        ),
                    )
                })?;
            Ok(Some(bytes))
        })
    }

    fn put(
        &self,
        key: &str,
        source: &mut dyn Read,
        _size: u64,
        _md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        self.with_conn(|sftp| self.upload(sftp, key, source))
    }

    fn get(&self, key: &str, sink: &mut dyn Write) -> Result<bool, StorageError> {
        let path = self.path(key);
        self.with_conn(|sftp| {
            self.count();
            let mut file = match sftp.open(Path::new(&path)) {
                Ok(f) => f,
                Err(e) if e.code() == ErrorCode::SFTP(FX_NO_SUCH_FILE) => return Ok(false),
                Err(e) => return Err(self.err("cannot download", &path, e)),
            };
            match copy_to(&mut file, sink) {
                Ok(()) => Ok(true),
                // A read that fails mid-object is the connection's doing: retried afresh.
                Err(CopyError::Read(e)) => Err(StorageError::new(
                    ErrorKind::Transient,
                    format!(
                        "cannot download {path} on remote '{}' ({}): {e}",
                        self.remote, self.url
                    ),
                )),
                Err(CopyError::Write(e)) => Err(StorageError::from_io(
                    "cannot write the downloaded object",
                    e,
                )),
            }
        })
    }

    fn list_tree(&self, prefix: &str) -> Result<Option<Vec<String>>, StorageError> {
        let base = format!("{}/{}", self.settings.root, prefix.trim_end_matches('/'));
        let base = base.trim_end_matches('/').to_string();
        self.with_conn(|sftp| {
            let mut keys = Vec::new();
            // (directory on the server, its key prefix, depth)
            let mut pending = vec![(base.clone(), prefix.to_string(), 0usize)];
            while let Some((dir, key_prefix, depth)) = pending.pop() {
                for (name, is_dir) in self.list_dir(sftp, &dir)? {
                    if name.starts_with('.') {
                        continue;
                    }
                    if !is_dir {
                        keys.push(format!("{key_prefix}{name}"));
                    } else if depth < MAX_TREE_DEPTH {
                        pending.push((
                            format!("{dir}/{name}"),
                            format!("{key_prefix}{name}/"),
                            depth + 1,
                        ));
                    }
                }
            }
            keys.sort();
            Ok(Some(keys))
        })
    }

    fn traverse_prefix_len(&self) -> Option<usize> {
        Some(2)
    }

    fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
        let (dir, name_prefix) = match prefix.rfind('/') {
            Some(i) => (&prefix[..=i], &prefix[i + 1..]),
            None => ("", prefix),
        };
        let base = format!("{}/{}", self.settings.root, dir.trim_end_matches('/'));
        let base = base.trim_end_matches('/').to_string();
        self.with_conn(|sftp| {
            let mut keys = Vec::new();
            for (name, is_dir) in self.list_dir(sftp, &base)? {
                if name.starts_with('.') || !name.starts_with(name_prefix) {
                    continue;
                }
                if !is_dir {
                    keys.push(format!("{dir}{name}"));
                } else if name.len() == 2 {
                    for (file, sub_dir) in self.list_dir(sftp, &format!("{base}/{name}"))? {
                        if !sub_dir && !file.starts_with('.') {
                            keys.push(format!("{dir}{name}/{file}"));
                        }
                    }
                }
                if limit.is_some_and(|l| keys.len() >= l) {
                    keys.truncate(limit.unwrap_or(usize::MAX));
                    break;
                }
            }
            Ok(keys)
        })
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(url: &str, opts: &[(&str, &str)]) -> RemoteConfig {
        RemoteConfig {
            name: "s".into(),
            url: url.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn url_forms() {
        let s = SshSettings::from_remote(&remote("ssh://host/abs/path/", &[]), None, "me").unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_str()),
            ("host", 22, "me")
        );
        assert_eq!(s.root, "/abs/path");
        let s =
            SshSettings::from_remote(&remote("ssh://bob@host:2222/p", &[]), None, "me").unwrap();
        assert_eq!(
            (s.port, s.user.as_str(), s.root.as_str()),
            (2222, "bob", "/p")
        );
        let s = SshSettings::from_remote(
            &remote(
                "ssh://bob@host:2222/p",
                &[
                    ("user", "carol"),
                    ("port", "2200"),
                    ("keyfile", "/k/id"),
                    ("allow_agent", "false"),
                ],
            ),
            None,
            "me",
        )
        .unwrap();
        assert_eq!((s.port, s.user.as_str()), (2200, "carol"));
        assert_eq!(s.keyfile.as_deref(), Some(Path::new("/k/id")));
        assert!(!s.allow_agent);
        assert!(SshSettings::from_remote(&remote("ssh://h:xx/p", &[]), None, "me").is_err());
    }

    #[test]
    fn ssh_config_is_honoured() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
        std::fs::write(
            dir.path().join(".ssh/config"),
            "Host other\n  User nobody\n\nHost data*  !dataX\n  HostName 127.0.0.1\n  Port 2022\n  User dvc\n  IdentityFile ~/.ssh/dvc_key\n\nHost *\n  User fallback\n  Port 9\n",
        )
        .unwrap();
        let s =
            SshSettings::from_remote(&remote("ssh://datahost/srv", &[]), Some(dir.path()), "me")
                .unwrap();
        assert_eq!(s.hostname, "127.0.0.1");
        assert_eq!((s.port, s.user.as_str()), (2022, "dvc"));
        assert_eq!(s.identity_files, vec![dir.path().join(".ssh/dvc_key")]);
        // URL and options win over the config.
        let s = SshSettings::from_remote(
            &remote("ssh://eve@datahost:23/srv", &[]),
            Some(dir.path()),
            "me",
        )
        .unwrap();
        assert_eq!((s.port, s.user.as_str()), (23, "eve"));
        let s = SshSettings::from_remote(&remote("ssh://dataX/srv", &[]), Some(dir.path()), "me")
            .unwrap();
        assert_eq!(
            (s.hostname.as_str(), s.user.as_str(), s.port),
            ("dataX", "fallback", 9)
        );
    }

    #[test]
    fn glob() {
        assert!(glob_match("*", "x"));
        assert!(glob_match("d?ta*", "data.example"));
        assert!(!glob_match("d?ta", "daata"));
    }
}
