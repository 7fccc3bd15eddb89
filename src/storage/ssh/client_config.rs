//! The OpenSSH client configuration for one SSH remote, resolved by the system's own
//! `ssh -G`: `Include`, `Match` (host, originalhost, user, localuser, exec, final, ...),
//! `Host` patterns, the system-wide file and every later addition to the format are read
//! exactly as `ssh` reads them, by the program that defines them.
//!
//! What the remote's DVC options or URL set (user, port) is given to `ssh -G` as `-l`/`-p`,
//! so it wins over the config and `Match user` sees it, as asyncssh (DVC) applies it.
//!
//! `ssh -G` leaves `%` tokens in `IdentityFile` and `ProxyCommand` as written, and expands
//! `~` to the account's home directory from the password database. DVC (asyncssh) reads
//! `$HOME/.ssh/config` and expands `~` to `$HOME`; when `HOME` names another directory (CI
//! runners, test sandboxes) the user's file is read from `$HOME/.ssh/config` (with the
//! system-wide file after it) and paths under the account's home are read under `$HOME`.
//!
//! Without an `ssh` program a minimal reader of `Host` blocks stands in ([`super::host_blocks`]).
//!
//! ```no_run
//! # use git_dvc::storage::ssh::client_config::{resolve, Query, Context};
//! let ctx = Context::from_process();
//! let cfg = resolve(&Query { host: "data".into(), user: None, port: None }, &ctx).unwrap();
//! println!("{}@{}:{}", cfg.user, cfg.hostname, cfg.port);
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long `ssh -G` may take (it runs `Match exec` commands).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(60);
/// More output than any real `ssh -G` prints.
const MAX_OUTPUT: u64 = 1 << 20;

/// The identity files OpenSSH tries when the config names none (`ssh -G` lists them).
const DEFAULT_IDENTITY_NAMES: [&str; 7] = [
    "id_rsa",
    "id_ecdsa",
    "id_ecdsa_sk",
    "id_ed25519",
    "id_ed25519_sk",
    "id_xmss",
    "id_dsa",
];

/// The host to resolve, and what the remote's options or URL set explicitly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The host as written in the URL (an alias or a name).
    pub host: String,
    pub user: Option<String>,
    pub port: Option<u16>,
}

/// The process's view: `HOME`, the account's home and name, the `ssh` program.
#[derive(Debug, Clone)]
pub struct Context {
    /// `$HOME`, when set.
    pub home: Option<PathBuf>,
    /// The account's home directory from the password database (what `ssh` uses for `~`).
    pub account_home: Option<PathBuf>,
    pub local_user: String,
    /// The `ssh` program (`ssh` on `PATH`).
    pub ssh_program: PathBuf,
}

impl Context {
    pub fn from_process() -> Context {
        let (name, account_home) = account();
        let local_user = ["USER", "LOGNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
            .or(name)
            .unwrap_or_else(|| "root".to_string());
        Context {
            home: std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from),
            account_home,
            local_user,
            ssh_program: PathBuf::from("ssh"),
        }
    }

    /// The home `~` means for DVC: `$HOME`, else the account's.
    pub(super) fn tilde(&self) -> Option<&Path> {
        self.home.as_deref().or(self.account_home.as_deref())
    }

    /// `$HOME` when it is not the account's home directory (then `ssh` would read another
    /// user config than DVC does).
    fn redirected_home(&self) -> Option<&Path> {
        let home = self.home.as_deref()?;
        match &self.account_home {
            Some(acct) if same_dir(acct, home) => None,
            _ => Some(home),
        }
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// The account's name and home directory (getpwuid).
fn account() -> (Option<String>, Option<PathBuf>) {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: getpwuid returns a pointer into static storage or null; both strings are
    // copied out at once, before any other passwd call.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if pw.is_null() {
            return (None, None);
        }
        let name = (!(*pw).pw_name.is_null()).then(|| {
            std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned()
        });
        let dir = (!(*pw).pw_dir.is_null()).then(|| {
            PathBuf::from(std::ffi::OsStr::from_bytes(
                std::ffi::CStr::from_ptr((*pw).pw_dir).to_bytes(),
            ))
        });
        (name, dir)
    }
}

/// An identity file and whether the configuration named it (a default one that does not
/// exist is skipped silently, as by `ssh`; a configured one is reported).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityFile {
    pub path: PathBuf,
    pub configured: bool,
}

/// Where the SSH agent is (`IdentityAgent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Agent {
    /// `SSH_AUTH_SOCK` (the default).
    FromEnvironment,
    /// `IdentityAgent none`.
    Disabled,
    Socket(PathBuf),
}

/// `StrictHostKeyChecking`. A changed key is refused unless `no`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeys {
    /// `yes`: an unknown host is refused too.
    Yes,
    /// `accept-new`: an unknown host's key is accepted and recorded, as by `ssh`.
    AcceptNew,
    /// `ask` (the default): on a terminal, asked as `ssh` asks, and recorded when accepted;
    /// refused with `BatchMode yes`; elsewhere (a hook) accepted as DVC accepts every host,
    /// and not recorded.
    Ask,
    /// `no`: an unknown host's key is accepted and recorded; a changed key is reported and
    /// accepted, with password authentication off, as by `ssh`.
    No,
}

/// How the connection reaches the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Direct,
    /// `ProxyCommand`, tokens expanded, run by the shell with the connection on its stdio.
    Command(String),
    /// `ProxyJump`: the hops as written (`[user@]host[:port]`, comma-separated).
    Jump(String),
}

/// The resolved settings git-dvc uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    pub hostname: String,
    pub port: u16,
    pub user: String,
    pub identity_files: Vec<IdentityFile>,
    pub agent: Agent,
    pub known_hosts_files: Vec<PathBuf>,
    /// The first `UserKnownHostsFile`: where `ssh` records a newly accepted host key.
    pub record_file: Option<PathBuf>,
    /// `HashKnownHosts yes`: a recorded host name is hashed.
    pub hash_known_hosts: bool,
    pub strict_host_keys: StrictHostKeys,
    /// `HostKeyAlias`: the name host keys are recorded under instead of the host name.
    pub host_key_alias: Option<String>,
    pub connect_timeout: Option<Duration>,
    pub route: Route,
    /// `BatchMode yes`: never prompt.
    pub batch_mode: bool,
    /// `IdentitiesOnly yes`: of the agent's keys, only those of the identity files.
    pub identities_only: bool,
    /// `ssh -F FILE` for the ProxyJump hops, when the user config was redirected to $HOME.
    pub config_file: Option<PathBuf>,
    /// Whether `ssh -G` resolved this (false: the minimal fallback reader).
    pub from_ssh: bool,
}

impl ClientConfig {
    /// The name host keys are looked up under: `HostKeyAlias`, else the host name the
    /// connection goes to (never the URL's alias).
    pub fn host_key_name(&self) -> &str {
        self.host_key_alias.as_deref().unwrap_or(&self.hostname)
    }
}

/// Why the configuration could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "'{0}' is not a host name git-dvc passes to ssh (letters, digits, '.', '-', '_', ':' only)"
    )]
    BadHost(String),
    #[error("user name '{0}' holds characters git-dvc does not pass to ssh")]
    BadUser(String),
    #[error("`{command}` failed: {detail}")]
    Ssh { command: String, detail: String },
    #[error("{0}")]
    Config(String),
}

/// A host name that cannot smuggle shell syntax into `Match exec` or `ProxyCommand`
/// (`%h`, `%n`) nor be taken for an option.
fn check_host(host: &str) -> Result<(), ResolveError> {
    let ok = !host.is_empty()
        && !host.starts_with('-')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'));
    if ok {
        Ok(())
    } else {
        Err(ResolveError::BadHost(host.to_string()))
    }
}

fn check_user(user: &str) -> Result<(), ResolveError> {
    let ok = !user.is_empty()
        && !user.starts_with('-')
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | '+' | '\\'));
    if ok {
        Ok(())
    } else {
        Err(ResolveError::BadUser(user.to_string()))
    }
}

/// The config `ssh -F` reads when `HOME` is redirected: `$HOME/.ssh/config`, then the
/// system-wide file, as `ssh` reads its own two. Kept (and removed) with the storage.
///
/// `ssh` expands `~` (in the user config, and in its defaults `~/.ssh/known_hosts`,
/// `~/.ssh/id_*`) to the account's home, never `$HOME`; the ProxyJump hops are separate
/// `ssh` processes reading this file, so it names the files they use by absolute path
/// under `$HOME`, as the main connection reads them: each hop's `UserKnownHostsFile` and
/// `IdentityFile`s as resolved for it (first: the first value obtained wins), and for any
/// other host the default known_hosts files under `$HOME`.
pub struct RedirectedConfig {
    file: tempfile::TempPath,
    home: PathBuf,
}

impl RedirectedConfig {
    pub fn path(&self) -> &Path {
        &self.file
    }

    /// Rewrites the file with `hop_blocks` (`Host` blocks) first.
    fn write(&self, hop_blocks: &str) -> Result<(), ResolveError> {
        std::fs::write(&self.file, redirected_text(&self.home, hop_blocks))
            .map_err(|e| ResolveError::Config(format!("cannot write a temporary ssh config: {e}")))
    }
}

/// A path as an ssh_config argument: quoted, `%` escaped (ssh expands tokens in these
/// options); None for one that cannot be written (a `"`, a line break, a `${`).
fn config_path(p: &Path) -> Option<String> {
    let s = p.to_str()?;
    if s.contains(['"', '\n', '\r']) || s.contains("${") {
        return None;
    }
    Some(format!("\"{}\"", s.replace('%', "%%")))
}

fn redirected_text(home: &Path, hop_blocks: &str) -> String {
    let quote = |p: &Path| format!("\"{}\"", p.display());
    let defaults: Vec<String> = ["known_hosts", "known_hosts2"]
        .iter()
        .filter_map(|n| config_path(&home.join(".ssh").join(n)))
        .collect();
    let defaults = match defaults.len() {
        2 => format!("Match all\nUserKnownHostsFile {}\n", defaults.join(" ")),
        _ => String::new(),
    };
    format!(
        "# git-dvc: HOME is not the account's home; read the user config there, as DVC does,\n\
         # and the files `~` means there (ssh would take the account's home for `~`).\n\
         {hop_blocks}Match all\nInclude {}\nInclude /etc/ssh/ssh_config\n{defaults}",
        quote(&home.join(".ssh/config"))
    )
}

fn redirected_config(home: &Path) -> Result<RedirectedConfig, ResolveError> {
    let file = tempfile::Builder::new()
        .prefix("git-dvc-ssh-config-")
        .tempfile()
        .map_err(|e| ResolveError::Config(format!("cannot write a temporary ssh config: {e}")))?;
    let config = RedirectedConfig {
        file: file.into_temp_path(),
        home: home.to_path_buf(),
    };
    config.write("")?;
    Ok(config)
}

/// Resolves `query` with `ssh -G` (or, without an `ssh` program, the minimal reader).
/// The returned [`RedirectedConfig`] must outlive every connection (ProxyJump hops read it).
pub fn resolve_with_file(
    query: &Query,
    ctx: &Context,
) -> Result<(ClientConfig, Option<RedirectedConfig>), ResolveError> {
    check_host(&query.host)?;
    if let Some(u) = &query.user {
        check_user(u)?;
    }
    let redirected = match ctx.redirected_home() {
        Some(home) => Some(redirected_config(home)?),
        None => None,
    };
    let file = redirected.as_ref().map(|r| r.path());
    let Some(text) = ssh_dump(query, ctx, file)? else {
        return Ok((super::host_blocks::fallback(query, ctx), None));
    };
    let mut cfg = parse_dump(&text, query, ctx)?;
    if let (Some(r), Route::Jump(hops)) = (&redirected, &cfg.route) {
        let mut blocks = String::new();
        for hop in hops.split(',') {
            let hop = parse_hop(hops, hop)?;
            let hop_query = Query {
                host: hop.host,
                user: hop.user,
                port: hop.port,
            };
            if let Some(text) = ssh_dump(&hop_query, ctx, file)? {
                blocks.push_str(&hop_block(&text, &hop_query, ctx)?);
            }
        }
        r.write(&blocks)?;
    }
    cfg.config_file = file.map(Path::to_path_buf);
    Ok((cfg, redirected))
}

/// `ssh -G` for `query` (with `-F file`); None without an `ssh` program.
fn ssh_dump(
    query: &Query,
    ctx: &Context,
    file: Option<&Path>,
) -> Result<Option<String>, ResolveError> {
    let mut cmd = Command::new(&ctx.ssh_program);
    cmd.arg("-G");
    if let Some(f) = file {
        cmd.arg("-F").arg(f);
    }
    if let Some(u) = &query.user {
        cmd.arg("-l").arg(u);
    }
    if let Some(p) = query.port {
        cmd.arg("-p").arg(p.to_string());
    }
    cmd.arg("--").arg(&query.host);
    let shown = format!("ssh -G {}", query.host);
    let output = match run_bounded(cmd, RESOLVE_TIMEOUT) {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ResolveError::Ssh {
                command: shown,
                detail: e.to_string(),
            })
        }
    };
    if !output.0 {
        let detail = String::from_utf8_lossy(&output.2).trim().to_string();
        return Err(ResolveError::Ssh {
            command: shown,
            detail: if detail.is_empty() {
                "it exited with an error".to_string()
            } else {
                detail
            },
        });
    }
    Ok(Some(String::from_utf8_lossy(&output.1).into_owned()))
}

/// The `Host` block naming, by absolute path, the known_hosts and identity files a hop
/// uses as git-dvc resolves them (`~` as `$HOME`), from its `ssh -G` output.
fn hop_block(text: &str, query: &Query, ctx: &Context) -> Result<String, ResolveError> {
    let cfg = parse_dump(text, query, ctx)?;
    // `known_hosts_files` is the user files, then the global ones.
    let global = text
        .lines()
        .find_map(|l| l.strip_prefix("globalknownhostsfile "))
        .map_or(0, |v| v.split_whitespace().filter(|f| *f != "none").count());
    let user_known = &cfg.known_hosts_files[..cfg.known_hosts_files.len().saturating_sub(global)];
    let mut block = format!("Host {}\n", query.host);
    let known: Vec<String> = user_known.iter().filter_map(|f| config_path(f)).collect();
    if !known.is_empty() {
        block.push_str(&format!("  UserKnownHostsFile {}\n", known.join(" ")));
    }
    // Only those that exist: ssh adds its defaults (under the account's home) when none is
    // named, as it would have anyway.
    for identity in cfg.identity_files.iter().filter(|i| i.path.exists()) {
        if let Some(path) = config_path(&identity.path) {
            block.push_str(&format!("  IdentityFile {path}\n"));
        }
    }
    Ok(block)
}

/// `resolve_with_file` for callers that open no ProxyJump hop (tests, diagnostics).
pub fn resolve(query: &Query, ctx: &Context) -> Result<ClientConfig, ResolveError> {
    resolve_with_file(query, ctx).map(|(c, _)| c)
}

/// Runs `cmd` with no stdin; (success, stdout, stderr), bounded in time and size. In its
/// own process group, so that on timeout the `Match exec` commands `ssh -G` started die
/// with it instead of running on.
fn run_bounded(mut cmd: Command, limit: Duration) -> std::io::Result<(bool, Vec<u8>, Vec<u8>)> {
    use std::os::unix::process::CommandExt;
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = cmd.spawn()?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut stderr = child.stderr.take().expect("piped");
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(MAX_OUTPUT).read_to_end(&mut buf);
        buf
    });
    let out_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stdout).take(MAX_OUTPUT).read_to_end(&mut buf);
        buf
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            if let Ok(pgid) = i32::try_from(child.id()) {
                // SAFETY: kill(2) on the process group this function created (pgid = the
                // child's pid, which it has not reaped yet, so the id is still its own).
                unsafe {
                    libc::kill(-pgid, libc::SIGKILL);
                }
            }
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "it did not finish within {} s (a slow `Match exec` command?)",
                    limit.as_secs()
                ),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = out_reader.join().unwrap_or_default();
    let err = err_reader.join().unwrap_or_default();
    Ok((status.success(), out, err))
}

/// Reads `ssh -G`'s `keyword value` lines.
pub fn parse_dump(text: &str, query: &Query, ctx: &Context) -> Result<ClientConfig, ResolveError> {
    let mut hostname = None;
    let mut port = None;
    let mut user = None;
    let mut identity_raw: Vec<String> = Vec::new();
    let mut agent_raw = None;
    let mut user_known = Vec::new();
    let mut global_known = Vec::new();
    let mut strict = StrictHostKeys::Ask;
    let mut hash_known = false;
    let mut alias = None;
    let mut timeout = None;
    let mut proxy_command = None;
    let mut proxy_jump = None;
    let mut batch = false;
    let mut identities_only = false;
    for line in text.lines() {
        let (key, value) = match line.split_once(' ') {
            Some((k, v)) => (k, v.trim()),
            None => (line, ""),
        };
        match key {
            "hostname" => hostname = Some(value.to_string()),
            "port" => port = value.parse::<u16>().ok(),
            "user" => user = Some(value.to_string()),
            "identityfile" => identity_raw.push(value.to_string()),
            "identityagent" => agent_raw = Some(value.to_string()),
            "userknownhostsfile" => {
                user_known = value.split_whitespace().map(String::from).collect()
            }
            "globalknownhostsfile" => {
                global_known = value.split_whitespace().map(String::from).collect()
            }
            "stricthostkeychecking" => {
                strict = match value {
                    "yes" | "true" => StrictHostKeys::Yes,
                    "no" | "false" | "off" => StrictHostKeys::No,
                    "accept-new" => StrictHostKeys::AcceptNew,
                    _ => StrictHostKeys::Ask,
                }
            }
            "hashknownhosts" => hash_known = matches!(value, "yes" | "true"),
            "hostkeyalias" if value != "none" => alias = Some(value.to_string()),
            "connecttimeout" => {
                timeout = value
                    .parse::<u64>()
                    .ok()
                    .filter(|t| *t > 0)
                    .map(Duration::from_secs)
            }
            "proxycommand" if value != "none" => proxy_command = Some(value.to_string()),
            "proxyjump" if value != "none" => proxy_jump = Some(value.to_string()),
            "batchmode" => batch = matches!(value, "yes" | "true"),
            "identitiesonly" => identities_only = matches!(value, "yes" | "true"),
            _ => {}
        }
    }
    let hostname = hostname.unwrap_or_else(|| query.host.clone());
    let port = port.or(query.port).unwrap_or(22);
    let user = user
        .or_else(|| query.user.clone())
        .unwrap_or_else(|| ctx.local_user.clone());
    let tokens = Tokens {
        host: &hostname,
        original: &query.host,
        port,
        user: &user,
        jump: proxy_jump.as_deref().unwrap_or(""),
        alias: alias.as_deref(),
        ctx,
    };
    let defaults = identity_raw.len() == DEFAULT_IDENTITY_NAMES.len()
        && identity_raw
            .iter()
            .zip(DEFAULT_IDENTITY_NAMES)
            .all(|(raw, name)| raw == &format!("~/.ssh/{name}"));
    let mut identity_files = Vec::new();
    for raw in &identity_raw {
        if raw == "none" {
            continue;
        }
        identity_files.push(IdentityFile {
            path: PathBuf::from(tokens.expand(raw, "IdentityFile")?),
            configured: !defaults,
        });
    }
    let agent = match agent_raw.as_deref() {
        None => Agent::FromEnvironment,
        Some("none") => Agent::Disabled,
        Some("SSH_AUTH_SOCK") => Agent::FromEnvironment,
        Some(v) if v.starts_with('$') && !v.starts_with("${") => match std::env::var_os(&v[1..]) {
            Some(p) if !p.is_empty() => Agent::Socket(PathBuf::from(p)),
            _ => Agent::Disabled,
        },
        Some(v) => Agent::Socket(PathBuf::from(tokens.expand(v, "IdentityAgent")?)),
    };
    let mut known_hosts_files = Vec::new();
    let mut record_file = None;
    for (n, raw) in user_known.iter().chain(&global_known).enumerate() {
        if raw == "none" {
            continue;
        }
        let file = PathBuf::from(tokens.expand(raw, "UserKnownHostsFile")?);
        if n == 0 && !user_known.is_empty() {
            record_file = Some(file.clone());
        }
        known_hosts_files.push(file);
    }
    let route = match (proxy_command, &proxy_jump) {
        (Some(cmd), _) => Route::Command(tokens.expand_command(&cmd)?),
        (None, Some(jump)) => Route::Jump(jump.clone()),
        (None, None) => Route::Direct,
    };
    Ok(ClientConfig {
        hostname,
        port,
        user,
        identity_files,
        agent,
        known_hosts_files,
        record_file,
        hash_known_hosts: hash_known,
        strict_host_keys: strict,
        host_key_alias: alias,
        connect_timeout: timeout,
        route,
        batch_mode: batch,
        identities_only,
        config_file: None,
        from_ssh: true,
    })
}

/// The values of ssh_config(5)'s TOKENS for one connection.
struct Tokens<'a> {
    host: &'a str,
    original: &'a str,
    port: u16,
    user: &'a str,
    jump: &'a str,
    alias: Option<&'a str>,
    ctx: &'a Context,
}

impl Tokens<'_> {
    fn local_host(&self) -> String {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc != 0 {
            return String::new();
        }
        let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    }

    fn home(&self) -> String {
        self.ctx
            .tilde()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    fn value(&self, token: char) -> Option<String> {
        Some(match token {
            '%' => "%".to_string(),
            'h' => self.host.to_string(),
            'n' => self.original.to_string(),
            'p' => self.port.to_string(),
            'r' => self.user.to_string(),
            'u' => self.ctx.local_user.clone(),
            'd' => self.home(),
            'i' => unsafe { libc::getuid() }.to_string(),
            'j' => self.jump.to_string(),
            'k' => self.alias.unwrap_or(self.original).to_string(),
            'l' => self.local_host(),
            'L' => self
                .local_host()
                .split('.')
                .next()
                .unwrap_or_default()
                .to_string(),
            'C' => {
                use sha1::Digest;
                let mut h = sha1::Sha1::new();
                h.update(
                    format!(
                        "{}{}{}{}{}",
                        self.local_host(),
                        self.host,
                        self.port,
                        self.user,
                        self.jump
                    )
                    .as_bytes(),
                );
                hex::encode(h.finalize())
            }
            _ => return None,
        })
    }

    /// `~`, `${VAR}` and `%` tokens in a path option, then paths under the account's home
    /// moved under `$HOME` (see the module doc).
    fn expand(&self, raw: &str, keyword: &str) -> Result<String, ResolveError> {
        let mut s = self.percent(raw, keyword)?;
        s = expand_env(&s, keyword)?;
        if s == "~" || s.starts_with("~/") {
            s = format!("{}{}", self.home(), &s[1..]);
        } else if let (Some(home), Some(acct)) =
            (self.ctx.redirected_home(), self.ctx.account_home.as_deref())
        {
            if let Ok(rest) = Path::new(&s).strip_prefix(acct) {
                if acct != Path::new("/") {
                    s = home.join(rest).display().to_string();
                }
            }
        }
        Ok(s)
    }

    /// `%` tokens of a `ProxyCommand` (the shell reads the result).
    fn expand_command(&self, raw: &str) -> Result<String, ResolveError> {
        self.percent(raw, "ProxyCommand")
    }

    fn percent(&self, raw: &str, keyword: &str) -> Result<String, ResolveError> {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(c);
                continue;
            }
            let Some(t) = chars.next() else {
                return Err(ResolveError::Config(format!(
                    "{keyword} '{raw}' ends in a lone '%'"
                )));
            };
            match self.value(t) {
                Some(v) => out.push_str(&v),
                None => {
                    return Err(ResolveError::Config(format!(
                        "{keyword} '{raw}': unknown token %{t}"
                    )))
                }
            }
        }
        Ok(out)
    }
}

/// `${VAR}` from the environment; an unset variable is an error, as for `ssh`.
fn expand_env(s: &str, keyword: &str) -> Result<String, ResolveError> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err(ResolveError::Config(format!(
                "{keyword} '{s}': unterminated ${{"
            )));
        };
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => {
                return Err(ResolveError::Config(format!(
                    "{keyword} '{s}': environment variable {name} is not set"
                )))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// One ProxyJump hop: `[ssh://][user@]host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHop {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

/// Splits a ProxyJump value into the hops before the last and the last one, which the
/// `ssh -W` that carries the connection logs in to (as `ssh` itself builds it).
pub fn split_jump(value: &str) -> Result<(Option<String>, JumpHop), ResolveError> {
    let (extra, last) = match value.rsplit_once(',') {
        Some((e, l)) => (Some(e.to_string()), l),
        None => (None, value),
    };
    let last = parse_hop(value, last)?;
    if let Some(e) = &extra {
        if e.starts_with('-') || e.chars().any(|c| c.is_whitespace()) {
            return Err(ResolveError::Config(format!(
                "ProxyJump '{value}': cannot read '{e}'"
            )));
        }
    }
    Ok((extra, last))
}

/// One hop of the ProxyJump `value`.
fn parse_hop(value: &str, hop: &str) -> Result<JumpHop, ResolveError> {
    let bad = || ResolveError::Config(format!("ProxyJump '{value}': cannot read '{hop}'"));
    let rest = hop.strip_prefix("ssh://").unwrap_or(hop);
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u.to_string()), h),
        None => (None, rest),
    };
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
            None if after.is_empty() => None,
            None => return Err(bad()),
        };
        (h.to_string(), port)
    } else {
        match hostport.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.parse::<u16>().map_err(|_| bad())?)),
            None => (hostport.to_string(), None),
        }
    };
    check_host(&host).map_err(|_| bad())?;
    if let Some(u) = &user {
        check_user(u).map_err(|_| bad())?;
    }
    Ok(JumpHop { user, host, port })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(home: &str, account: &str) -> Context {
        Context {
            home: Some(PathBuf::from(home)),
            account_home: Some(PathBuf::from(account)),
            local_user: "me".into(),
            ssh_program: PathBuf::from("ssh"),
        }
    }

    fn query(host: &str) -> Query {
        Query {
            host: host.into(),
            user: None,
            port: None,
        }
    }

    #[test]
    fn dump_is_read_with_tokens_and_home() {
        let dump = "user dvc\nhostname store.internal\nport 2200\nidentityfile ~/.ssh/id_%r@%h\n\
                    identityfile /keys/%n-%p\nidentityagent /acct/agent.sock\n\
                    userknownhostsfile /acct/.ssh/known_hosts /etc/kh\n\
                    globalknownhostsfile /etc/ssh/ssh_known_hosts\nstricthostkeychecking true\n\
                    connecttimeout 7\nproxyjump bastion\nbatchmode no\n";
        let c = parse_dump(dump, &query("store"), &ctx("/sandbox", "/acct")).unwrap();
        assert_eq!(
            (c.hostname.as_str(), c.port, c.user.as_str()),
            ("store.internal", 2200, "dvc")
        );
        assert_eq!(
            c.identity_files,
            vec![
                IdentityFile {
                    path: "/sandbox/.ssh/id_dvc@store.internal".into(),
                    configured: true
                },
                IdentityFile {
                    path: "/keys/store-2200".into(),
                    configured: true
                }
            ]
        );
        assert_eq!(c.agent, Agent::Socket("/sandbox/agent.sock".into()));
        assert_eq!(
            c.known_hosts_files,
            vec![
                PathBuf::from("/sandbox/.ssh/known_hosts"),
                "/etc/kh".into(),
                "/etc/ssh/ssh_known_hosts".into()
            ]
        );
        assert_eq!(c.strict_host_keys, StrictHostKeys::Yes);
        assert_eq!(c.connect_timeout, Some(Duration::from_secs(7)));
        assert_eq!(c.route, Route::Jump("bastion".into()));
        assert_eq!(c.host_key_name(), "store.internal");
    }

    #[test]
    fn defaults_and_proxy_command() {
        let mut dump = String::from("user me\nhostname h\nport 22\nconnecttimeout none\n");
        for n in DEFAULT_IDENTITY_NAMES {
            dump.push_str(&format!("identityfile ~/.ssh/{n}\n"));
        }
        dump.push_str("proxycommand nc %h %p\nproxyjump none\nidentityagent none\nhostkeyalias alias.example\n");
        let c = parse_dump(&dump, &query("h"), &ctx("/home/me", "/home/me")).unwrap();
        assert!(c.identity_files.iter().all(|i| !i.configured));
        assert_eq!(
            c.identity_files[0].path,
            PathBuf::from("/home/me/.ssh/id_rsa")
        );
        assert_eq!(c.route, Route::Command("nc h 22".into()));
        assert_eq!(c.agent, Agent::Disabled);
        assert_eq!(c.connect_timeout, None);
        assert_eq!(c.host_key_name(), "alias.example");
        assert_eq!(c.strict_host_keys, StrictHostKeys::Ask);
    }

    #[test]
    fn bad_tokens_and_names_are_refused() {
        let err = parse_dump("identityfile /k/%z\n", &query("h"), &ctx("/h", "/h")).unwrap_err();
        assert!(err.to_string().contains("%z"), "{err}");
        let err = parse_dump(
            "identityfile ${GIT_DVC_SURELY_UNSET_VAR}/k\n",
            &query("h"),
            &ctx("/h", "/h"),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("GIT_DVC_SURELY_UNSET_VAR"),
            "{err}"
        );
        for host in ["-oProxyCommand=x", "a;b", "a b", "$(id)", ""] {
            assert!(check_host(host).is_err(), "{host}");
        }
        assert!(check_host("data-1.example.com").is_ok());
        assert!(check_user("a'b").is_err());
        assert!(check_user("first.last@corp").is_ok());
    }

    #[test]
    fn jump_hops() {
        let (extra, last) = split_jump("a,jump@b:2200").unwrap();
        assert_eq!(extra.as_deref(), Some("a"));
        assert_eq!(
            last,
            JumpHop {
                user: Some("jump".into()),
                host: "b".into(),
                port: Some(2200)
            }
        );
        let (extra, last) = split_jump("ssh://[::1]:22").unwrap();
        assert_eq!(extra, None);
        assert_eq!((last.host.as_str(), last.port), ("::1", Some(22)));
        assert!(split_jump("b:port").is_err());
        assert!(split_jump("-oProxyCommand=x").is_err());
    }

    /// A hop's files by absolute path under `$HOME`, `%` escaped; the defaults likewise.
    #[test]
    fn hop_blocks_name_files_under_home() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("sandbox");
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        std::fs::write(home.join(".ssh/jump%key"), "k").unwrap();
        let dump = "user j\nhostname 10.0.0.1\nport 22\nidentityfile ~/.ssh/jump%%key\n\
                    identityfile ~/.ssh/missing\n\
                    userknownhostsfile ~/.ssh/known_hosts /acct/.ssh/kh\n\
                    globalknownhostsfile /etc/ssh/ssh_known_hosts\n";
        let block = hop_block(
            dump,
            &query("bastion"),
            &ctx(home.to_str().unwrap(), "/acct"),
        )
        .unwrap();
        let h = home.display();
        assert_eq!(
            block,
            format!(
                "Host bastion\n  UserKnownHostsFile \"{h}/.ssh/known_hosts\" \"{h}/.ssh/kh\"\n\
                 \x20 IdentityFile \"{h}/.ssh/jump%%key\"\n"
            )
        );
        let text = redirected_text(&home, &block);
        assert!(text.contains(&format!("{block}Match all\nInclude \"{h}/.ssh/config\"")));
        assert!(text.ends_with(&format!(
            "Match all\nUserKnownHostsFile \"{h}/.ssh/known_hosts\" \"{h}/.ssh/known_hosts2\"\n"
        )));
    }

    /// The real `ssh -G`, where installed: Include, Match exec and the `-l`/`-p` overrides.
    #[test]
    fn real_ssh_resolves_include_and_match_exec() {
        if Command::new("ssh").arg("-V").output().is_err() {
            eprintln!("no ssh program; skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join(".ssh/conf.d")).unwrap();
        let flag = dir.path().join("flag");
        std::fs::write(
            home.join(".ssh/config"),
            format!(
                "Include {}/*.conf\nMatch originalhost store exec \"test -e {}\"\n  Port 2299\nHost store\n  HostName store.internal\n",
                home.join(".ssh/conf.d").display(),
                flag.display()
            ),
        )
        .unwrap();
        std::fs::write(
            home.join(".ssh/conf.d/a.conf"),
            "Host store\n  User included\n",
        )
        .unwrap();
        let ctx = Context {
            home: Some(home.clone()),
            account_home: Some(dir.path().join("elsewhere")),
            local_user: "me".into(),
            ssh_program: PathBuf::from("ssh"),
        };
        let c = resolve(&query("store"), &ctx).unwrap();
        assert_eq!(
            (c.hostname.as_str(), c.user.as_str(), c.port),
            ("store.internal", "included", 22)
        );
        std::fs::write(&flag, "").unwrap();
        let c = resolve(&query("store"), &ctx).unwrap();
        assert_eq!(c.port, 2299);
        let c = resolve(
            &Query {
                host: "store".into(),
                user: Some("explicit".into()),
                port: Some(23),
            },
            &ctx,
        )
        .unwrap();
        assert_eq!((c.user.as_str(), c.port), ("explicit", 23));
    }

    /// A timed-out command's own children are killed with it (its process group).
    #[test]
    fn timed_out_command_takes_its_children_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let pidfile = dir.path().join("pid");
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(r#"sleep 300 & echo $! > "$0"; wait"#)
            .arg(&pidfile);
        let started = Instant::now();
        let err = run_bounded(cmd, Duration::from_secs(1)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(30));
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // Dead once gone or a zombie (the orphan's reaper may be slow, or never reap).
        let alive = || {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let state = stat.rsplit_once(')').map(|(_, rest)| rest.trim_start());
                !state.is_some_and(|s| s.starts_with('Z') || s.starts_with('X'))
            })
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive() {
            assert!(Instant::now() < deadline, "sleep {pid} still runs");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
