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
//! Where and how to connect is the user's OpenSSH client configuration as `ssh -G`
//! resolves it ([`client_config`]: `Include`, `Match`, `ProxyJump`, `ProxyCommand`,
//! `IdentityFile` with `%` tokens, `IdentityAgent`, known_hosts files,
//! `StrictHostKeyChecking`, `ConnectTimeout`), with the remote's options and URL winning
//! where DVC's win: `user`, `port`, `keyfile` (instead of the configured identity files),
//! `password`, `passphrase`, `allow_agent`, `timeout` (else `ConnectTimeout`, else 1800 s),
//! `max_sessions`. `ask_password`/`ask_passphrase` prompt on the terminal, never in a hook
//! ([`crate::storage::prompt`]). A `ProxyCommand` or `ProxyJump` carries the connection
//! ([`proxy`]); the host key is checked against the host name connected to ([`host_keys`]);
//! authentication accounts for every credential it tried ([`auth`]).
//!
//! Sessions are pooled: at most `max_sessions` (default 8, and never more than `jobs`)
//! connections, opened on demand and reused.

pub mod auth;
pub mod client_config;
mod host_blocks;
pub mod host_keys;
pub mod proxy;

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use ssh2::{ErrorCode, MethodType, OpenFlags, OpenType, Session, Sftp};

use super::{denied_message, option_bool, option_str, prompt, ErrorKind, Storage, StorageError};
use crate::dvc::config::RemoteConfig;
use client_config::{Agent, ClientConfig, Context, Query, RedirectedConfig, Route, StrictHostKeys};
use host_keys::{HostKeyCheck, Verdict};

/// sshfs opens 10 channels, 2 of them for shell commands.
const DEFAULT_MAX_SESSIONS: usize = 8;
/// DVC's default `timeout`.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(1800);
/// Connection timeouts (of DVC's `timeout`, or the default) after which a run stops
/// connecting: one more than `ssh`'s one attempt absorbs a server that dropped a single
/// connection. An OpenSSH `ConnectTimeout` is waited once, as `ssh` waits it.
const CONNECT_TIMEOUTS_TOLERATED: usize = 2;
/// libssh2's `LIBSSH2_ERROR_TIMEOUT`.
const ERROR_TIMEOUT: i32 = -9;
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

/// What the remote's URL and DVC options say (before the ssh configuration).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshSettings {
    /// The host as written in the URL (an alias or a name).
    pub host: String,
    /// `user` option, else the URL's user: wins over the ssh configuration.
    pub user: Option<String>,
    /// `port` option, else the URL's port: wins over the ssh configuration.
    pub port: Option<u16>,
    /// Absolute path of the remote's root on the server.
    pub root: String,
    pub password: Option<String>,
    pub passphrase: Option<String>,
    pub ask_password: bool,
    pub ask_passphrase: bool,
    pub keyfile: Option<PathBuf>,
    pub allow_agent: bool,
    /// DVC's `timeout`: bounds connecting (else `ConnectTimeout`, else 1800 s).
    pub timeout: Option<Duration>,
    pub max_sessions: Option<usize>,
}

fn config_error(remote: &RemoteConfig, message: String) -> StorageError {
    StorageError::new(
        ErrorKind::Other,
        format!("config file error: remote '{}': {message}", remote.name),
    )
}

impl SshSettings {
    /// `home` is the user's home directory (for `~` in `keyfile`).
    pub fn from_remote(
        remote: &RemoteConfig,
        home: Option<&Path>,
    ) -> Result<SshSettings, StorageError> {
        let parsed = parse_url(&remote.url).map_err(|why| {
            config_error(
                remote,
                format!("'{}' {why}", super::redact_url(&remote.url)),
            )
        })?;
        let (host, url_user, url_port, path) = (parsed.host, parsed.user, parsed.port, parsed.path);
        let port = match option_str(remote, "port") {
            Some(p) => Some(
                crate::dvc::config_schema::py_int(p)
                    .and_then(|p| u16::try_from(p).ok())
                    .ok_or_else(|| config_error(remote, format!("port '{p}' is not a number")))?,
            ),
            None => url_port,
        };
        let timeout = super::option_seconds(remote, "timeout", false)?;
        let max_sessions = match option_str(remote, "max_sessions") {
            Some(m) => Some(
                crate::dvc::config_schema::py_int(m)
                    .and_then(|m| usize::try_from(m).ok())
                    .filter(|m| *m > 0)
                    .ok_or_else(|| {
                        config_error(remote, format!("max_sessions '{m}' is not a count"))
                    })?,
            ),
            None => None,
        };
        if option_bool(remote, "gss_auth")? == Some(true) {
            return Err(StorageError::new(
                ErrorKind::Other,
                format!(
                    "remote '{name}' sets gss_auth = true (Kerberos/GSSAPI), which git-dvc's \
                     SSH client (libssh2) cannot do; rather than log in some other way, it \
                     stops: use a key (`dvc remote modify --local {name} keyfile PATH`), your \
                     SSH agent, or a password, and set gss_auth = false",
                    name = remote.name
                ),
            ));
        }
        Ok(SshSettings {
            host,
            user: option_str(remote, "user").map(str::to_string).or(url_user),
            port,
            root: path.trim_end_matches('/').to_string(),
            password: option_str(remote, "password").map(str::to_string),
            passphrase: option_str(remote, "passphrase").map(str::to_string),
            ask_password: option_bool(remote, "ask_password")?.unwrap_or(false),
            ask_passphrase: option_bool(remote, "ask_passphrase")?.unwrap_or(false),
            keyfile: option_str(remote, "keyfile").map(|k| expand_home(k, home)),
            allow_agent: option_bool(remote, "allow_agent")?.unwrap_or(true),
            timeout,
            max_sessions,
        })
    }
}

/// An `ssh://` URL as DVC reads it (fsspec's `infer_storage_options`, over Python's
/// `urlparse`): the query (`?…`) is dropped from the path, a fragment (`#…`) stays in it,
/// the user is what precedes the last `@` (a `:password` after it is ignored), and the
/// port must be a number (`h:22:22` is refused, as DVC refuses it).
struct ParsedUrl {
    host: String,
    user: Option<String>,
    port: Option<u16>,
    path: String,
}

fn parse_url(url: &str) -> Result<ParsedUrl, String> {
    let rest = url
        .strip_prefix("ssh://")
        .ok_or_else(|| "is not an ssh:// URL".to_string())?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (before_fragment, fragment) = match tail.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (tail, None),
    };
    let mut path = match before_fragment.split_once('?') {
        Some((p, _query)) => p.to_string(),
        None => before_fragment.to_string(),
    };
    if let Some(f) = fragment.filter(|f| !f.is_empty()) {
        path.push('#');
        path.push_str(f);
    }
    if path.is_empty() {
        path.push('/');
    }
    let (user, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u.split(':').next().unwrap_or(u).to_string()), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(bracketed) = hostport.strip_prefix('[') {
        let (host, after) = bracketed
            .split_once(']')
            .ok_or_else(|| "has a '[' without its ']'".to_string())?;
        match after {
            "" => (host, ""),
            _ => match after.strip_prefix(':') {
                Some(p) => (host, p),
                None => return Err(format!("has '{after}' after the ']' of the host")),
            },
        }
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h, p),
            None => (hostport, ""),
        }
    };
    let port = match port {
        "" => None,
        p => Some(p.parse::<u16>().map_err(|_| {
            format!("has '{p}' where the port goes (ssh://[user@]host[:port]/path)")
        })?),
    };
    if host.is_empty() {
        return Err("names no host".to_string());
    }
    Ok(ParsedUrl {
        host: host.to_string(),
        user,
        port,
        path,
    })
}

fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(path),
    }
}

struct Conn {
    // Field order: the SFTP channel closes before its session, the session before the
    // proxy program carrying it.
    sftp: Sftp,
    _session: Session,
    _proxy: Option<proxy::Proxy>,
}

struct Pool {
    idle: Vec<Conn>,
    open: usize,
}

/// The secrets `ask_password`/`ask_passphrase` asked for, once per run (as DVC memoizes).
type Asked = Result<(Option<String>, Option<String>), StorageError>;

pub struct SshStorage {
    settings: SshSettings,
    client: ClientConfig,
    /// The `ssh -F` file ProxyJump hops read, when HOME is redirected; removed on drop.
    _config_file: Option<RedirectedConfig>,
    remote: String,
    url: String,
    max: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    /// Directories known to exist (created or seen), to skip repeated `mkdir -p`.
    dirs: Mutex<HashSet<String>>,
    requests: AtomicU64,
    asked: Mutex<Option<Asked>>,
    typed: auth::TypedPassphrases,
    warned_host_key: AtomicBool,
    /// An unknown host's key once accepted (and recorded) in this run: later connections
    /// take the same key without asking again, and no other.
    accepted_host_key: Mutex<Option<Vec<u8>>>,
    /// Why connecting timed out, once it has [`CONNECT_TIMEOUTS_TOLERATED`] times: later
    /// connections of this run fail at once instead of waiting out the timeout again for
    /// every retry and every parallel job. One timeout alone is retried, as a server that
    /// dropped one connection is worth another try.
    timed_out: Mutex<Option<String>>,
    connect_timeouts: AtomicUsize,
}

pub fn open(remote: &RemoteConfig) -> Result<SshStorage, StorageError> {
    let ctx = Context::from_process();
    let settings = SshSettings::from_remote(remote, ctx.home.as_deref())?;
    let query = Query {
        host: settings.host.clone(),
        user: settings.user.clone(),
        port: settings.port,
    };
    let (client, config_file) = client_config::resolve_with_file(&query, &ctx).map_err(|e| {
        StorageError::new(
            ErrorKind::Other,
            format!(
                "remote '{}' ({}): cannot read the ssh configuration for '{}': {e}",
                remote.name,
                super::redact_url(&remote.url),
                settings.host
            ),
        )
    })?;
    let jobs = remote
        .options
        .get("jobs")
        .and_then(|j| crate::dvc::config_schema::py_int(j))
        .and_then(|j| usize::try_from(j).ok())
        .unwrap_or(usize::MAX);
    let max = settings
        .max_sessions
        .unwrap_or(DEFAULT_MAX_SESSIONS)
        .min(jobs)
        .max(1);
    let port = if client.port == 22 {
        String::new()
    } else {
        format!(":{}", client.port)
    };
    let url = format!(
        "ssh://{}@{}{port}{}",
        client.user, settings.host, settings.root
    );
    Ok(SshStorage {
        settings,
        client,
        _config_file: config_file,
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
        asked: Mutex::new(None),
        typed: auth::TypedPassphrases::default(),
        warned_host_key: AtomicBool::new(false),
        accepted_host_key: Mutex::new(None),
        timed_out: Mutex::new(None),
        connect_timeouts: AtomicUsize::new(0),
    })
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
                 ssh configuration (`ssh -G HOST` shows it), and the permissions of the \
                 remote directory",
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

    /// The password and passphrase: the remote's options, else (with `ask_*`) typed at the
    /// terminal once, as DVC asks (`Enter a password for user@host:port:`).
    fn secrets(&self) -> Result<(Option<String>, Option<String>), StorageError> {
        let mut asked = self.asked.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(done) = asked.as_ref() {
            return match done {
                Ok(v) => Ok(v.clone()),
                Err(e) => Err(StorageError::new(e.kind, e.message.clone())),
            };
        }
        let s = &self.settings;
        let ask = |wanted: bool, have: &Option<String>, desc: &str, way: &str| {
            if !wanted || have.is_some() {
                return Ok(have.clone());
            }
            let mut prompt_text = format!("Enter a {desc} for");
            match &s.user {
                Some(u) => prompt_text.push_str(&format!(" {u}@{}", s.host)),
                None => prompt_text.push_str(&format!(" {}", s.host)),
            }
            if let Some(p) = s.port {
                prompt_text.push_str(&format!(":{p}"));
            }
            prompt_text.push_str(":\n");
            let answer = if self.client.batch_mode {
                Err(prompt::Unavailable::BatchMode)
            } else {
                prompt::secret(&prompt_text)
            };
            answer.map(Some).map_err(|why| {
                StorageError::new(
                    ErrorKind::Denied,
                    format!(
                        "remote '{name}' ({url}) asks for a {desc} (ask_{opt} = true), and \
                         git-dvc does not prompt {why}: {way}",
                        name = self.remote,
                        url = self.url,
                        opt = desc,
                    ),
                )
            })
        };
        let result: Asked = (|| {
            let password = ask(
                s.ask_password,
                &s.password,
                "password",
                &format!(
                    "store it for this clone with `dvc remote modify --local {r} password \
                     PASSWORD` (.dvc/config.local, not committed), or log in with a key \
                     (keyfile) or your SSH agent",
                    r = self.remote
                ),
            )?;
            let passphrase = ask(
                s.ask_passphrase,
                &s.passphrase,
                "passphrase",
                &format!(
                    "load the key into your SSH agent (`ssh-add KEYFILE`), or store the \
                     passphrase for this clone with `dvc remote modify --local {r} passphrase \
                     PASSPHRASE` (.dvc/config.local, not committed)",
                    r = self.remote
                ),
            )?;
            Ok((password, passphrase))
        })();
        let out = match &result {
            Ok(v) => Ok(v.clone()),
            Err(e) => Err(StorageError::new(e.kind, e.message.clone())),
        };
        *asked = Some(result);
        out
    }

    fn connect(&self) -> Result<Conn, StorageError> {
        if let Some(why) = self
            .timed_out
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            // Final: retrying would only add backoff to a wait already given up on.
            return Err(StorageError::new(ErrorKind::Other, why));
        }
        let (password, passphrase) = self.secrets()?;
        let c = &self.client;
        let transient = |detail: String| {
            StorageError::new(
                ErrorKind::Transient,
                format!(
                    "cannot connect to remote '{}' ({}): {detail}",
                    self.remote, self.url
                ),
            )
        };
        let timeout = self
            .settings
            .timeout
            .or(c.connect_timeout)
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT);
        // An OpenSSH `ConnectTimeout` is waited once, as `ssh` waits it (one connection
        // attempt); DVC's `timeout` option, or the default, is tried once more (a server
        // that dropped a single connection). The final one is remembered (see
        // `timed_out`) and not retried.
        let tolerated = match (self.settings.timeout, c.connect_timeout) {
            (None, Some(_)) => 1,
            _ => CONNECT_TIMEOUTS_TOLERATED,
        };
        let timed_out = |detail: String| {
            let seen = self.connect_timeouts.fetch_add(1, Ordering::SeqCst) + 1;
            if seen < tolerated {
                return transient(format!("{detail} (timed out)"));
            }
            let mut e = transient(format!(
                "{detail} (timed out after {} s; not tried again in this run)",
                timeout.as_secs()
            ));
            e.kind = ErrorKind::Other;
            *self.timed_out.lock().unwrap_or_else(|e| e.into_inner()) = Some(e.message.clone());
            e
        };
        let mut session = Session::new().map_err(|e| transient(e.to_string()))?;
        let proxy = match &c.route {
            Route::Direct => {
                let stream = self.tcp_connect(timeout).map_err(|(e, timeout)| {
                    if timeout {
                        timed_out(e)
                    } else {
                        transient(e)
                    }
                })?;
                session.set_tcp_stream(stream);
                None
            }
            Route::Command(line) => {
                let (stream, proxy) = proxy::command(line)
                    .map_err(|e| transient(format!("cannot start ProxyCommand '{line}': {e}")))?;
                session.set_tcp_stream(stream);
                Some(proxy)
            }
            Route::Jump(hops) => {
                let batch = c.batch_mode || prompt::available().is_err();
                let started =
                    proxy::jump(hops, &c.hostname, c.port, c.config_file.as_deref(), batch)
                        .map_err(|e| {
                            StorageError::new(
                                ErrorKind::Other,
                                format!("remote '{}' ({}): {e}", self.remote, self.url),
                            )
                        })?;
                let (stream, proxy) = started.map_err(|e| {
                    transient(format!("cannot start ssh for ProxyJump '{hops}': {e}"))
                })?;
                session.set_tcp_stream(stream);
                Some(proxy)
            }
        };
        let explain = |detail: String| match &proxy {
            Some(p) => p.explain(&detail),
            None => detail,
        };
        // Connecting includes the handshake and authentication: a server that accepts the
        // connection and then says nothing is bounded by the timeout, like a dead one.
        let connect_ms = timeout.min(OPERATION_TIMEOUT).as_millis() as u32;
        session.set_timeout(connect_ms.max(1));
        let lookup = host_keys::lookup_name(&c.hostname, c.port, c.host_key_alias.as_deref());
        let check = HostKeyCheck {
            name: &lookup,
            files: &c.known_hosts_files,
            strict: c.strict_host_keys,
        };
        let recorded = check.recorded();
        // Plain host keys only: with a host certificate the blob compared would be the
        // certificate, and `@revoked` would not see the key inside it.
        let supported = session
            .supported_algs(MethodType::HostKey)
            .map_err(|e| transient(format!("libssh2 lists no host key algorithms: {e}")))?;
        session
            .method_pref(MethodType::HostKey, &recorded.host_key_methods(&supported))
            .map_err(|e| transient(format!("cannot choose host key algorithms: {e}")))?;
        session.handshake().map_err(|e| {
            let detail = explain(format!("SSH handshake failed: {e}"));
            if e.code() == ErrorCode::Session(ERROR_TIMEOUT) {
                timed_out(detail)
            } else {
                transient(detail)
            }
        })?;
        let allow_password = self.check_host_key(&session, &check, &recorded)?;
        let agent = match (&c.agent, self.settings.allow_agent) {
            (_, false) | (Agent::Disabled, _) => None,
            (Agent::FromEnvironment, true) => Some(auth::AgentSocket::Environment),
            (Agent::Socket(p), true) => Some(auth::AgentSocket::Path(p.clone())),
        };
        let creds = auth::Credentials {
            user: &c.user,
            password: password.as_deref(),
            passphrase: passphrase.as_deref(),
            keyfile: self.settings.keyfile.as_deref(),
            identity_files: &c.identity_files,
            agent,
            allow_password,
            batch_mode: c.batch_mode,
            identities_only: c.identities_only,
        };
        auth::authenticate(&session, &creds, &self.typed).map_err(|d| self.denied(&d))?;
        let sftp = session
            .sftp()
            .map_err(|e| self.err("cannot start SFTP", "", e))?;
        session.set_timeout(OPERATION_TIMEOUT.as_millis() as u32);
        Ok(Conn {
            sftp,
            _session: session,
            _proxy: proxy,
        })
    }

    /// A direct TCP connection to the configured host name and port; on failure, why and
    /// whether it timed out.
    fn tcp_connect(&self, timeout: Duration) -> Result<TcpStream, (String, bool)> {
        let c = &self.client;
        let addrs: Vec<_> = (c.hostname.as_str(), c.port)
            .to_socket_addrs()
            .map_err(|e| (format!("cannot resolve {}: {e}", c.hostname), false))?
            .collect();
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, timeout) {
                Ok(t) => {
                    let _ = t.set_nodelay(true);
                    return Ok(t);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => (e.to_string(), e.kind() == std::io::ErrorKind::TimedOut),
            None => ("no address".to_string(), false),
        })
    }

    /// Checks the host key (see [`host_keys`]); whether password authentication may go on.
    fn check_host_key(
        &self,
        session: &Session,
        check: &HostKeyCheck,
        recorded: &host_keys::RecordedKeys,
    ) -> Result<bool, StorageError> {
        let Some((key, _)) = session.host_key() else {
            return Err(self.host_key_refused("the server sent no host key"));
        };
        match check.judge(recorded, key) {
            Verdict::Known => Ok(true),
            Verdict::Unknown => {
                self.accept_unknown(session, check, key)?;
                Ok(true)
            }
            Verdict::ChangedAccepted(warning) => {
                if !self.warned_host_key.swap(true, Ordering::Relaxed) {
                    super::warn(&format!(
                        "remote '{}' ({}): {warning}",
                        self.remote, self.url
                    ));
                }
                Ok(false)
            }
            Verdict::Refused(why) => Err(self.host_key_refused(&why)),
        }
    }

    fn host_key_refused(&self, why: &str) -> StorageError {
        StorageError::new(
            ErrorKind::Denied,
            format!("remote '{}' ({}): {why}", self.remote, self.url),
        )
    }

    /// An unknown host's key, as `ssh` treats it: `accept-new` and `no` record it in the
    /// first UserKnownHostsFile; `ask` asks on a terminal (and records it when accepted),
    /// refuses with `BatchMode yes`, and elsewhere (a hook) accepts it as DVC does, without
    /// recording it. A key that cannot be recorded is a warning, not an error.
    fn accept_unknown(
        &self,
        session: &Session,
        check: &HostKeyCheck,
        key: &[u8],
    ) -> Result<(), StorageError> {
        let mut accepted = self
            .accepted_host_key
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(earlier) = accepted.as_ref() {
            if earlier.as_slice() == key {
                return Ok(());
            }
            return Err(self.host_key_refused(&format!(
                "the host key of {} changed during this run; someone may be impersonating it",
                check.name
            )));
        }
        let c = &self.client;
        let kind = host_keys::key_type(key);
        if c.strict_host_keys == StrictHostKeys::Ask {
            if c.batch_mode {
                return Err(self.host_key_refused(&format!(
                    "the host key of {} is not known and cannot be confirmed \
                     (StrictHostKeyChecking ask with BatchMode yes), as ssh refuses it; connect \
                     once with `ssh` to check and record it",
                    check.name
                )));
            }
            if prompt::available().is_err() {
                *accepted = Some(key.to_vec());
                return Ok(());
            }
            let fingerprint = session
                .host_key_hash(ssh2::HashType::Sha256)
                .map(|h| {
                    use base64::Engine;
                    base64::engine::general_purpose::STANDARD_NO_PAD.encode(h)
                })
                .unwrap_or_default();
            let question = format!(
                "The authenticity of host '{}' can't be established.\n{kind} key fingerprint is \
                 SHA256:{fingerprint}.\nAre you sure you want to continue connecting \
                 (yes/no/[fingerprint])? ",
                check.name
            );
            let answer = prompt::line(&question).unwrap_or_default();
            let answer = answer.trim();
            if !(answer.eq_ignore_ascii_case("yes") || answer == format!("SHA256:{fingerprint}")) {
                return Err(self.host_key_refused(&format!(
                    "host key verification failed: the key of {} was not accepted",
                    check.name
                )));
            }
        }
        if let Some(file) = &c.record_file {
            let recorded = host_keys::known_hosts_line(check.name, key, c.hash_known_hosts)
                .ok_or_else(|| std::io::Error::other("unreadable key"))
                .and_then(|line| host_keys::record(file, &line));
            super::warn(&match recorded {
                Ok(()) => format!(
                    "remote '{}': permanently added the host key of '{}' ({kind}) to {}",
                    self.remote,
                    check.name,
                    file.display()
                ),
                Err(e) => format!(
                    "remote '{}': warning: could not add the host key of '{}' to {}: {e}",
                    self.remote,
                    check.name,
                    file.display()
                ),
            });
        }
        *accepted = Some(key.to_vec());
        Ok(())
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
        let s = SshSettings::from_remote(&remote("ssh://host/abs/path/", &[]), None).unwrap();
        assert_eq!(
            (s.host.as_str(), s.port, s.user.as_deref()),
            ("host", None, None)
        );
        assert_eq!(s.root, "/abs/path");
        let s = SshSettings::from_remote(&remote("ssh://bob@host:2222/p", &[]), None).unwrap();
        assert_eq!(
            (s.port, s.user.as_deref(), s.root.as_str()),
            (Some(2222), Some("bob"), "/p")
        );
        let s = SshSettings::from_remote(
            &remote(
                "ssh://bob@host:2222/p",
                &[
                    ("user", "carol"),
                    ("port", "2200"),
                    ("keyfile", "~/k/id"),
                    ("allow_agent", "false"),
                    ("ask_passphrase", "true"),
                ],
            ),
            Some(Path::new("/home/me")),
        )
        .unwrap();
        assert_eq!((s.port, s.user.as_deref()), (Some(2200), Some("carol")));
        assert_eq!(s.keyfile.as_deref(), Some(Path::new("/home/me/k/id")));
        assert!(!s.allow_agent && s.ask_passphrase && !s.ask_password);
        assert!(SshSettings::from_remote(&remote("ssh://h:xx/p", &[]), None).is_err());
        // As fsspec's infer_storage_options (DVC) reads them.
        let s =
            SshSettings::from_remote(&remote("ssh://u:pw@h:2222/a/b?q=3#frag", &[]), None).unwrap();
        assert_eq!(
            (s.host.as_str(), s.user.as_deref(), s.port, s.root.as_str()),
            ("h", Some("u"), Some(2222), "/a/b#frag")
        );
        let s = SshSettings::from_remote(&remote("ssh://h?x=1", &[]), None).unwrap();
        assert_eq!((s.host.as_str(), s.root.as_str()), ("h", ""));
        let s = SshSettings::from_remote(&remote("ssh://[::1]:22/x", &[]), None).unwrap();
        assert_eq!((s.host.as_str(), s.port), ("::1", Some(22)));
        for bad in [
            "ssh://h:22:22/x",
            "ssh://[::1/x",
            "ssh://[::1]x/p",
            "ssh:///p",
            "ssh://u@/p",
        ] {
            let err = SshSettings::from_remote(&remote(bad, &[]), None)
                .err()
                .unwrap();
            assert!(err.message.contains("config file error"), "{}", err.message);
        }
    }

    #[test]
    fn gss_auth_is_refused_with_the_way_out() {
        let err = SshSettings::from_remote(&remote("ssh://h/p", &[("gss_auth", "true")]), None)
            .err()
            .unwrap();
        assert!(err.message.contains("gss_auth"), "{}", err.message);
        assert!(err.message.contains("keyfile"), "{}", err.message);
        assert!(
            SshSettings::from_remote(&remote("ssh://h/p", &[("gss_auth", "false")]), None).is_ok()
        );
    }

    /// DVC types `timeout` as an integer; `inf`, huge and tiny numbers once panicked in
    /// the conversion to a Duration.
    #[test]
    fn timeouts_are_whole_seconds_and_never_panic() {
        for bad in [
            "inf",
            "1e30",
            "1e-300",
            "NaN",
            "1.5",
            "0",
            "-3",
            "99999999999",
            "x",
        ] {
            let err = SshSettings::from_remote(&remote("ssh://h/p", &[("timeout", bad)]), None)
                .err()
                .unwrap_or_else(|| panic!("timeout {bad} accepted"));
            assert!(err.message.contains("'timeout'"), "{}", err.message);
            assert!(err.message.contains(bad), "{}", err.message);
        }
        let s =
            SshSettings::from_remote(&remote("ssh://h/p", &[("timeout", " 30 ")]), None).unwrap();
        assert_eq!(s.timeout, Some(Duration::from_secs(30)));
    }
}
