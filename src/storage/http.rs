//! `http://` and `https://` remotes, shaped like DVC's (`dvc_http` over fsspec):
//!
//! * upload: `POST` (or `PUT` with `method = PUT`) of the object to
//!   `<url>/files/md5/ab/cdef…`, body `application/octet-stream` with
//!   `Transfer-Encoding: chunked`; any status ≥ 400 is a failure;
//! * exists: `GET`, present when the status is < 400 (the body is not read);
//! * read: `GET`; downloads stream the body, with `read_timeout` bounding each wait for
//!   more bytes (not the whole transfer, whose size is unknown until it starts);
//! * no listing: HTTP cannot list, so remote status asks object by object.
//!
//! | option | effect |
//! | --- | --- |
//! | `auth` | `basic` (needs `user` and `password`) or `custom` (`custom_auth_header: password` on every request); `digest` is refused, as DVC refuses it |
//! | `ask_password` | with `auth`, a missing password is asked for on the terminal, as DVC asks; in a hook or without a terminal, an error says how to store it |
//! | `method` | `POST` (default) or `PUT` |
//! | `ssl_verify` | `false`, or a CA bundle path |
//! | `connect_timeout`, `read_timeout` | seconds (default 60); `read_timeout` bounds each check and manifest read, and how long sent bytes may go unacknowledged |
//!
//! Objects up to 64 MiB are read and verified before the request, so a corrupt cache
//! object is never sent. Bigger ones are streamed; if the hash check fails at the end,
//! the request is abandoned before its last chunk, so the server never sees a complete
//! body (a server should store uploads under their final name only once complete).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};

use super::ask_password::{self, Alternative};
use super::object_store::HttpSettings;
use super::tls::Client as TlsClient;
use super::{
    classify_status, denied_message, option_bool, option_str, redact_url, ErrorKind, Storage,
    StorageError,
};
use crate::dvc::config::RemoteConfig;

/// DVC streams bodies in 5 MiB pieces.
const CHUNK: usize = 5 << 20;
/// Objects up to this size are read (and verified) before the request.
const BUFFERED_MAX: u64 = 64 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Basic { user: String, password: String },
    Custom { header: String, password: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRemoteSettings {
    /// The remote URL without a trailing `/`.
    pub base: String,
    pub put: bool,
    pub auth: Auth,
}

fn config_error(remote: &RemoteConfig, message: String) -> StorageError {
    StorageError::config(&remote.name, message)
}

impl HttpRemoteSettings {
    pub fn from_remote(remote: &RemoteConfig) -> Result<HttpRemoteSettings, StorageError> {
        let put = match option_str(remote, "method").map(|m| m.to_ascii_uppercase()) {
            None => false,
            Some(m) if m == "POST" => false,
            Some(m) if m == "PUT" => true,
            Some(m) => {
                return Err(config_error(
                    remote,
                    format!("method has to be either 'post' or 'put', not: '{m}'"),
                ))
            }
        };
        let user = option_str(remote, "user").map(str::to_string);
        // dvc-http: an empty password is a password; only a missing one is asked for.
        let mut password = remote.options.get("password").cloned();
        // DVC's schema lower-cases `auth`.
        let method = option_str(remote, "auth").map(str::to_ascii_lowercase);
        if method.is_some()
            && password.is_none()
            && option_bool(remote, "ask_password")? == Some(true)
        {
            password = Some(ask_password::ask(
                &remote.name,
                &remote.url,
                user.as_deref().unwrap_or("custom"),
                Alternative::Password,
            )?);
        }
        let auth = match method.as_deref() {
            None => Auth::None,
            Some("basic") => match (user, password) {
                (Some(user), Some(password)) => Auth::Basic { user, password },
                _ => {
                    return Err(config_error(
                        remote,
                        "HTTP 'basic' authentication require both 'user' and 'password'"
                            .to_string(),
                    ))
                }
            },
            Some("custom") => match (option_str(remote, "custom_auth_header"), password) {
                (Some(header), Some(password)) => Auth::Custom {
                    header: header.to_string(),
                    password,
                },
                _ => return Err(config_error(
                    remote,
                    "HTTP 'custom' authentication require both 'custom_auth_header' and 'password'"
                        .to_string(),
                )),
            },
            Some(other) => {
                return Err(config_error(
                    remote,
                    format!("auth method '{other}' is not supported"),
                ))
            }
        };
        Ok(HttpRemoteSettings {
            base: remote.url.trim_end_matches('/').to_string(),
            put,
            auth,
        })
    }
}

pub struct HttpStorage {
    client: Client,
    settings: HttpRemoteSettings,
    remote: String,
    url: String,
    requests: AtomicU64,
    /// Downloads: an async client whose `read_timeout` bounds each read, not the whole
    /// body, driven on the object stores' runtime.
    download_client: reqwest::Client,
    /// Deadline of the small requests (checks, manifests), and the base of an upload's.
    read_timeout: Duration,
}

/// The slowest upload rate an upload's deadline allows for (1 Mbit/s). The blocking
/// client can only bound a whole request, so an upload gets `read_timeout` plus its size
/// at this rate: a server that takes the body and never answers is given up on, a slow
/// link is not. A transfer that stops moving is cut sooner, by `TCP_USER_TIMEOUT`.
const SLOWEST_UPLOAD_BYTES_PER_SEC: u64 = 128 << 10;

pub fn open(remote: &RemoteConfig) -> Result<HttpStorage, StorageError> {
    let settings = HttpRemoteSettings::from_remote(remote)?;
    let http = HttpSettings::from_remote(remote, "read_timeout", TlsClient::Aiohttp)?;
    let mut builder = Client::builder()
        .connect_timeout(http.connect_timeout)
        // Whole-request deadlines are set per request (checks, uploads by size); sent
        // bytes unacknowledged for `read_timeout` (a dead peer, or one that stopped
        // reading) end the connection; keepalive notices a dead idle peer.
        .timeout(None::<Duration>)
        .tcp_user_timeout(http.read_timeout)
        .tcp_keepalive(Duration::from_secs(30));
    match http.trust.client_config()? {
        None => builder = builder.tls_danger_accept_invalid_certs(true),
        Some(tls) => builder = builder.tls_backend_preconfigured(tls),
    }
    let client = builder.build().map_err(|e| {
        StorageError::new(
            ErrorKind::Other,
            format!("cannot set up the HTTP client: {e}"),
        )
    })?;
    Ok(HttpStorage {
        client,
        settings,
        remote: remote.name.clone(),
        url: redact_url(&remote.url),
        requests: AtomicU64::new(0),
        download_client: http.async_client()?,
        read_timeout: http.read_timeout,
    })
}

impl HttpStorage {
    fn key_url(&self, key: &str) -> String {
        format!("{}/{key}", self.settings.base)
    }

    fn with_auth(&self, req: RequestBuilder) -> RequestBuilder {
        match &self.settings.auth {
            Auth::None => req,
            Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
            Auth::Custom { header, password } => req.header(header.as_str(), password.as_str()),
        }
    }

    fn with_auth_async(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.settings.auth {
            Auth::None => req,
            Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
            Auth::Custom { header, password } => req.header(header.as_str(), password.as_str()),
        }
    }

    fn send(&self, req: RequestBuilder, action: &str, key: &str) -> Result<Response, StorageError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.with_auth(req)
            .send()
            .map_err(|e| self.transport_error(action, key, e))
    }

    fn transport_error(&self, action: &str, key: &str, e: reqwest::Error) -> StorageError {
        let kind = if e.is_timeout() || e.is_connect() || e.is_request() || e.is_body() {
            ErrorKind::Transient
        } else {
            ErrorKind::Other
        };
        // Without the URL: it could carry `user:password@`; ours is redacted.
        let connect = e.is_connect();
        let e = e.without_url();
        let mut detail = e.to_string();
        let mut innermost = None;
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            detail.push_str(&format!(": {s}"));
            innermost = Some(s.to_string());
            source = s.source();
        }
        // reqwest and hyper wrap a refused connection in vague layers; the innermost
        // cause says what happened.
        if let Some(cause) = innermost.filter(|_| connect) {
            detail = format!("cannot reach the server: {cause}");
        }
        StorageError::new(
            kind,
            format!(
                "{action} {key} on remote '{}' ({}): {detail}",
                self.remote, self.url
            ),
        )
        .at(&self.remote, key)
        .with_source(e)
    }

    fn status_error(&self, action: &str, key: &str, status: reqwest::StatusCode) -> StorageError {
        let kind = classify_status(status.as_u16());
        let detail = format!("HTTP {status}");
        if kind == ErrorKind::Denied {
            let check = match self.settings.auth {
                Auth::None => "whether the server needs credentials (the remote's auth, user, password or custom_auth_header options)",
                _ => "the remote's auth, user and password (or custom_auth_header) options, and that the account may upload there",
            };
            return StorageError::new(
                kind,
                denied_message(&self.remote, &self.url, &detail, check),
            )
            .at(&self.remote, key)
            .with_status(Some(status.as_u16()));
        }
        StorageError::new(
            kind,
            format!(
                "{action} {key} on remote '{}' ({}): {detail}",
                self.remote, self.url
            ),
        )
        .at(&self.remote, key)
        .with_status(Some(status.as_u16()))
    }

    fn upload(
        &self,
        key: &str,
        body: reqwest::blocking::Body,
        size: u64,
    ) -> Result<(), StorageError> {
        let url = self.key_url(key);
        let req = if self.settings.put {
            self.client.put(url)
        } else {
            self.client.post(url)
        };
        let deadline = self.read_timeout + Duration::from_secs(size / SLOWEST_UPLOAD_BYTES_PER_SEC);
        let req = req
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .timeout(deadline)
            .body(body);
        let resp = self.send(req, "cannot upload", key)?;
        if resp.status().as_u16() >= 400 {
            return Err(self.status_error("cannot upload", key, resp.status()));
        }
        Ok(())
    }
}

/// A body fed chunk by chunk from another thread; an `Err` ends it with that error, so
/// the request is abandoned before the last chunk.
struct ChannelBody {
    rx: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    current: Vec<u8>,
    pos: usize,
}

impl Read for ChannelBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.current = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.pos);
        buf[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Storage for HttpStorage {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        let req = self
            .client
            .get(self.key_url(key))
            .timeout(self.read_timeout);
        let resp = self.send(req, "cannot check", key)?;
        let status = resp.status();
        // Dropping the response leaves the body unread, as DVC does.
        match status.as_u16() {
            s if s < 400 => Ok(true),
            s if classify_status(s) == ErrorKind::Other => Ok(false),
            _ => Err(self.status_error("cannot check", key, status)),
        }
    }

    fn read(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        let req = self
            .client
            .get(self.key_url(key))
            .timeout(self.read_timeout);
        let resp = self.send(req, "cannot read", key)?;
        let status = resp.status();
        if status.as_u16() == 404 || status.as_u16() == 410 {
            return Ok(None);
        }
        if status.as_u16() >= 400 {
            return Err(self.status_error("cannot read", key, status));
        }
        let mut bytes = Vec::new();
        resp.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| {
                StorageError::new(
                    ErrorKind::Transient,
                    format!(
                        "cannot read {key} on remote '{}' ({}): {e}",
                        self.remote, self.url
                    ),
                )
            })?;
        Ok(Some(bytes))
    }

    fn put(
        &self,
        key: &str,
        source: &mut dyn Read,
        size: u64,
        _md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        if size <= BUFFERED_MAX {
            let mut bytes = Vec::with_capacity(size as usize);
            source
                .read_to_end(&mut bytes)
                .map_err(|e| StorageError::from_io("cannot read the cache object", e))?;
            // A reader body is sent chunked, as DVC sends it.
            return self.upload(
                key,
                reqwest::blocking::Body::new(std::io::Cursor::new(bytes)),
                size,
            );
        }
        let (tx, rx) = mpsc::sync_channel::<std::io::Result<Vec<u8>>>(2);
        let body = ChannelBody {
            rx,
            current: Vec::new(),
            pos: 0,
        };
        std::thread::scope(|scope| {
            let sender =
                scope.spawn(move || self.upload(key, reqwest::blocking::Body::new(body), size));
            let mut read_error = None;
            loop {
                let mut chunk = vec![0u8; CHUNK];
                match source.read(&mut chunk) {
                    Ok(0) => break,
                    Ok(n) => {
                        chunk.truncate(n);
                        if tx.send(Ok(chunk)).is_err() {
                            break; // the request ended early; its result says why
                        }
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::new(e.kind(), e.to_string())));
                        read_error = Some(e);
                        break;
                    }
                }
            }
            drop(tx);
            let sent = sender.join().unwrap_or_else(|_| {
                Err(StorageError::new(
                    ErrorKind::Other,
                    "the upload thread panicked",
                ))
            });
            match read_error {
                Some(e) => Err(StorageError::from_io("cannot read the cache object", e)),
                None => sent,
            }
        })
    }

    fn get(&self, key: &str, sink: &mut dyn Write) -> Result<bool, StorageError> {
        let rt = super::object_store::runtime();
        // In the runtime's context throughout: dropping a response or connection spawns
        // tasks on it.
        let _context = rt.enter();
        self.requests.fetch_add(1, Ordering::Relaxed);
        let request = self.with_auth_async(self.download_client.get(self.key_url(key)));
        let mut resp = rt
            .block_on(request.send())
            .map_err(|e| self.transport_error("cannot download", key, e))?;
        let status = resp.status();
        if status.as_u16() == 404 || status.as_u16() == 410 {
            return Ok(false);
        }
        if status.as_u16() >= 400 {
            return Err(self.status_error("cannot download", key, status));
        }
        loop {
            match rt.block_on(resp.chunk()) {
                Ok(Some(chunk)) => sink
                    .write_all(&chunk)
                    .map_err(|e| StorageError::from_io("cannot write the downloaded object", e))?,
                Ok(None) => return Ok(true),
                Err(e) => return Err(self.transport_error("cannot download", key, e)),
            }
        }
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
            name: "h".into(),
            url: url.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn method_and_auth() {
        let s = HttpRemoteSettings::from_remote(&remote("http://h/dvc/", &[])).unwrap();
        assert_eq!(s.base, "http://h/dvc");
        assert!(!s.put);
        assert_eq!(s.auth, Auth::None);
        let s = HttpRemoteSettings::from_remote(&remote(
            "https://h/x",
            &[
                ("method", "PUT"),
                ("auth", "basic"),
                ("user", "u"),
                ("password", "p"),
            ],
        ))
        .unwrap();
        assert!(s.put);
        assert_eq!(
            s.auth,
            Auth::Basic {
                user: "u".into(),
                password: "p".into()
            }
        );
        let s = HttpRemoteSettings::from_remote(&remote(
            "https://h/x",
            &[
                ("auth", "custom"),
                ("custom_auth_header", "X-Auth"),
                ("password", "p"),
            ],
        ))
        .unwrap();
        assert_eq!(
            s.auth,
            Auth::Custom {
                header: "X-Auth".into(),
                password: "p".into()
            }
        );
    }

    #[test]
    fn bad_settings_are_config_errors() {
        for opts in [
            vec![("method", "PATCH")],
            vec![("auth", "basic"), ("user", "u")],
            vec![("auth", "custom"), ("password", "p")],
            vec![("auth", "digest"), ("user", "u"), ("password", "p")],
        ] {
            let e = HttpRemoteSettings::from_remote(&remote("http://h/x", &opts)).unwrap_err();
            assert!(e.message.starts_with("config file error"), "{}", e.message);
            assert!(!e.message.contains("p'"), "{}", e.message);
        }
    }
}
