//! What the opendal-backed remotes (S3, Azure Blob, GCS, WebDAV) share: a small tokio
//! runtime the blocking trait methods run on, an HTTP transport that counts requests and
//! honours `ssl_verify` and timeouts, error classification, and the upload policy.
//!
//! Uploads below the backend's single-request limit are read whole first, so a cache
//! object that fails its hash check is refused before any request; then they go in one
//! request. On S3 it carries `Content-MD5`: the object's own name when it is a DVC 3 md5
//! (no second pass over the bytes), else computed by opendal over the bytes read. Bigger
//! uploads stream through opendal's writer (S3 multipart, Azure block list, GCS
//! resumable upload as gcsfs sends them), which is aborted when the source fails: the object only appears
//! when the upload completes. WebDAV has no such commit step, and some servers (wsgidav)
//! write a `PUT` in place, leaving half an object when it is cut off: there every upload
//! goes to a temporary name and is then MOVEd. opendal's WebDAV writer takes one body
//! only, so WebDAV uploads are whole at any size (memory: see [`UPLOAD_MEMORY`]).

use std::future::IntoFuture;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use opendal::{Buffer, HttpBody, HttpTransport, HttpTransporter, OperationContext, Operator};
use opendal_http_transport_reqwest::ReqwestTransport;

pub use super::content_type::ContentTypes;
use super::tls::{Client, Trust};
use super::upload_memory::MemoryBudget;
use super::{denied_message, option_seconds, ErrorKind, Storage, StorageError};
use crate::dvc::config::RemoteConfig;

/// S3's cap on one request: no single-request upload goes above it, whatever the threshold.
const MAX_SINGLE_PUT: u64 = 5 << 30;
/// Part size for streamed uploads, s3fs's default; raised so that no upload needs more
/// than S3's 10 000 parts.
const PART_SIZE: usize = 50 << 20;
const MAX_PARTS: u64 = 10_000;
/// Parts of one upload in flight at once (a few large files would otherwise go one part
/// at a time each). Memory: about (1 + this) parts per streamed upload, times `jobs`.
const PART_CONCURRENCY: usize = 2;

/// What single-request uploads may hold in memory at once (one bigger upload goes alone).
static UPLOAD_MEMORY: MemoryBudget = MemoryBudget::new(512 << 20);

tokio::task_local! {
    /// The `Content-MD5` of the single-request upload running in this task: the object's
    /// name, which opendal has no option for, so the transport adds it.
    static CONTENT_MD5: http::HeaderValue;
}

tokio::task_local! {
    /// The last non-2xx response the transport saw in this operation (see [`block_on`]).
    static FAILED_RESPONSE: std::cell::RefCell<Option<FailedResponse>>;
}

std::thread_local! {
    /// [`FAILED_RESPONSE`] of the last operation this thread ran, for its error mapping.
    static LAST_FAILED_RESPONSE: std::cell::RefCell<Option<FailedResponse>> =
        const { std::cell::RefCell::new(None) };
}

/// What the transport saw of a failed response: opendal keeps the status only inside its
/// error text, so the transport records it (and S3's XML error code) as it passes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedResponse {
    pub status: u16,
    /// The `<Code>` of an S3-style XML error body (`BadDigest`, `NoSuchBucket`).
    pub code: Option<String>,
}

/// Error bodies bigger than this are not read for their code (a hostile server's page).
const MAX_ERROR_BODY: u64 = 64 << 10;

/// Runs one storage operation on the I/O runtime from a plain thread, recording the
/// failed response it met (if any) for [`take_failed_response`].
fn block_on<F: std::future::Future>(fut: F) -> F::Output {
    let (out, seen) = runtime().block_on(FAILED_RESPONSE.scope(
        std::cell::RefCell::new(None),
        async move {
            let out = fut.await;
            (out, FAILED_RESPONSE.with(|c| c.borrow_mut().take()))
        },
    ));
    LAST_FAILED_RESPONSE.with(|c| *c.borrow_mut() = seen);
    out
}

/// The failed response of the operation running (when called inside [`block_on`]'s
/// future), else of the last one [`block_on`] ran on this thread. Map an error before
/// running any cleanup operation, which would replace it.
fn take_failed_response() -> Option<FailedResponse> {
    FAILED_RESPONSE
        .try_with(|c| c.borrow_mut().take())
        .unwrap_or_else(|_| LAST_FAILED_RESPONSE.with(|c| c.borrow_mut().take()))
}

/// The text of `<Code>…</Code>` in an XML error body.
fn xml_error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = text[start..].find("</Code>")? + start;
    Some(text[start..end].trim().to_string()).filter(|c| !c.is_empty())
}

/// The runtime opendal's futures run on. Trait methods are called from plain threads
/// (the queue's workers) and block on it.
pub(super) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("git-dvc-io")
            .enable_all()
            .build()
            .expect("cannot start the I/O runtime")
    });
    &RUNTIME
}

/// The reqwest transport, counting every request it sends.
/// Also adds fixed headers (WebDAV's `custom_auth_header`) to every request.
struct CountingTransport {
    inner: ReqwestTransport,
    requests: Arc<AtomicU64>,
    extra_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// S3: requests are signed here (opendal sends them unsigned), after the multipart
    /// requests' headers are made what S3 accepts ([`super::s3::fix_multipart_headers`]).
    signer: Option<reqsign_core::Signer<reqsign_aws_v4::Credential>>,
}

impl HttpTransport for CountingTransport {
    async fn fetch(
        &self,
        mut req: http::Request<Buffer>,
    ) -> opendal::Result<http::Response<HttpBody>> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        for (name, value) in &self.extra_headers {
            req.headers_mut().insert(name.clone(), value.clone());
        }
        // Only the object's own PUT: not a part (`partNumber=`) of a multipart upload.
        let whole_object = req.method() == http::Method::PUT
            && !req.uri().query().is_some_and(|q| q.contains("partNumber="));
        if whole_object {
            if let Ok(md5) = CONTENT_MD5.try_with(|v| v.clone()) {
                req.headers_mut()
                    .insert(http::HeaderName::from_static("content-md5"), md5);
            }
        }
        if let Some(signer) = &self.signer {
            let (mut parts, body) = req.into_parts();
            super::s3::prepare_for_signing(&mut parts);
            signer.sign(&mut parts, None).await.map_err(|e| {
                opendal::Error::new(opendal::ErrorKind::Unexpected, "cannot sign the request")
                    .set_source(e)
            })?;
            // As opendal does after signing: the client sets it for the HTTP version.
            parts.headers.remove(http::header::HOST);
            req = http::Request::from_parts(parts, body);
        }
        let is_head = req.method() == http::Method::HEAD;
        let response = self.inner.fetch(req).await?;
        if response.status().is_success() || FAILED_RESPONSE.try_with(|_| ()).is_err() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let small_body = !is_head
            && response
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .is_some_and(|n| n <= MAX_ERROR_BODY);
        let (response, code) = if small_body {
            // Read the (small) error body for its code, then hand opendal the same bytes.
            let (parts, mut body) = response.into_parts();
            let bytes = body.to_buffer().await?;
            let code = xml_error_code(&bytes.to_bytes());
            let size = bytes.len() as u64;
            let body = HttpBody::new(futures_util::stream::iter([Ok(bytes)]), Some(size));
            (http::Response::from_parts(parts, body), code)
        } else {
            (response, None)
        };
        let _ =
            FAILED_RESPONSE.try_with(|c| *c.borrow_mut() = Some(FailedResponse { status, code }));
        Ok(response)
    }
}

/// HTTP client settings common to the HTTP-based remotes (`ssl_verify`, timeouts).
pub struct HttpSettings {
    /// Which certificates the connections trust ([`super::tls`]).
    pub trust: Trust,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl HttpSettings {
    /// Reads `ssl_verify` (as `client`, the DVC client of this remote type, reads it),
    /// `connect_timeout` and `read_timeout` (seconds) from a remote.
    pub fn from_remote(
        remote: &RemoteConfig,
        read_timeout_key: &str,
        client: Client,
    ) -> Result<Self, StorageError> {
        let trust = Trust::for_client(
            client,
            remote.options.get("ssl_verify").map(String::as_str),
            &|k| std::env::var(k).ok(),
            None,
        );
        // DVC types HTTP's timeouts as numbers, every other remote's as integers.
        let fraction = remote.url.starts_with("http");
        let seconds = |key: &str, default: u64| -> Result<Duration, StorageError> {
            Ok(option_seconds(remote, key, fraction)?.unwrap_or(Duration::from_secs(default)))
        };
        Ok(HttpSettings {
            trust,
            connect_timeout: seconds("connect_timeout", 60)?,
            read_timeout: seconds(read_timeout_key, 60)?,
        })
    }

    /// An async reqwest client (for opendal's transport).
    pub fn async_client(&self) -> Result<reqwest::Client, StorageError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            // Reads are bounded above; this bounds writes: sent bytes unacknowledged for
            // that long (a dead peer, or one that stopped reading) end the connection.
            .tcp_user_timeout(self.read_timeout)
            .pool_max_idle_per_host(64);
        match self.trust.client_config()? {
            None => builder = builder.tls_danger_accept_invalid_certs(true),
            Some(tls) => builder = builder.tls_backend_preconfigured(tls),
        }
        builder.build().map_err(|e| {
            StorageError::new(
                ErrorKind::Other,
                format!("cannot set up the HTTP client: {e}"),
            )
        })
    }
}

/// One opendal-backed remote.
pub struct ObjectStore {
    /// Single-request uploads, reads, stats, listings.
    op: Operator,
    /// Streamed (multipart) uploads, and S3 uploads whose `Content-MD5` is the object's
    /// name: an operator that computes no `Content-MD5` of its own.
    stream_op: Operator,
    requests: Arc<AtomicU64>,
    remote: String,
    url: String,
    /// What to check when the storage refuses access.
    denied_hint: String,
    prefix_len: Option<usize>,
    /// Upload to a temporary name, then rename (WebDAV).
    through_temporary_name: bool,
    /// How objects at or above the multipart threshold go.
    large_uploads: LargeUploads,
    /// Send the object's md5 as `Content-MD5` on single-request uploads (S3).
    name_as_content_md5: bool,
    content_types: ContentTypes,
    /// Objects below this size go in one request, bigger ones in parts (git config
    /// `dvc.multipartThreshold`, see [`crate::limits`]).
    single_put_limit: u64,
}

/// How a backend sends objects at or above the multipart threshold.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum LargeUploads {
    /// One request at any size (WebDAV: opendal's writer takes one body).
    Whole,
    /// In parts, committed at the end (S3 multipart, Azure block list).
    Parts,
    /// GCS: one resumable upload session, as gcsfs sends large files (opendal's other
    /// path, the XML multipart API, is one that emulators lack). opendal takes this path
    /// for conditional writes only, so the upload is made `if_not_exists`; an object
    /// already under the name holds the same bytes, since names are content hashes.
    ResumableIfAbsent,
}

pub struct ObjectStoreSpec {
    pub remote: String,
    /// The URL for messages, without credentials.
    pub url: String,
    pub denied_hint: String,
    pub prefix_len: Option<usize>,
    /// Upload to a temporary name, then rename: for services without an atomic upload.
    pub through_temporary_name: bool,
    /// How objects at or above the multipart threshold go.
    pub large_uploads: LargeUploads,
    /// Send the object's md5 as `Content-MD5` on single-request uploads (S3 only).
    pub name_as_content_md5: bool,
    /// The `Content-Type` of uploads, as the backend's DVC client sends it.
    pub content_types: ContentTypes,
    pub http: HttpSettings,
    /// Headers added to every request (values are secrets: marked sensitive).
    pub extra_headers: Vec<(http::HeaderName, http::HeaderValue)>,
    /// S3: how requests are signed (`None`: unsigned, or signed by opendal).
    pub s3_signer: Option<super::s3::S3Signer>,
}

impl ObjectStore {
    /// Wraps operators built by a backend. `stream_op` defaults to `op`.
    pub fn new(
        spec: ObjectStoreSpec,
        op: Operator,
        stream_op: Option<Operator>,
    ) -> Result<ObjectStore, StorageError> {
        let requests = Arc::new(AtomicU64::new(0));
        let client = spec.http.async_client()?;
        let signer = spec.s3_signer.map(|s| {
            // Credential look-ups (STS, SSO, instance metadata) go out unsigned and
            // uncounted, on the same client.
            let ctx = reqsign_core::Context::new()
                .with_file_read(reqsign_file_read_tokio::TokioFileRead)
                .with_http_send(HttpTransporter::new(ReqwestTransport::new(client.clone())))
                .with_env(reqsign_core::OsEnv);
            reqsign_core::Signer::new(
                ctx,
                s.chain,
                reqsign_aws_v4::RequestSigner::new("s3", &s.region),
            )
        });
        let transporter = HttpTransporter::new(CountingTransport {
            inner: ReqwestTransport::new(client),
            requests: requests.clone(),
            extra_headers: spec.extra_headers,
            signer,
        });
        let ctx = OperationContext::new().with_http_transport(transporter);
        let stream_op = stream_op.unwrap_or_else(|| op.clone());
        Ok(ObjectStore {
            op: op.with_context(ctx.clone()),
            stream_op: stream_op.with_context(ctx),
            requests,
            remote: spec.remote,
            url: spec.url,
            denied_hint: spec.denied_hint,
            prefix_len: spec.prefix_len,
            through_temporary_name: spec.through_temporary_name,
            large_uploads: spec.large_uploads,
            name_as_content_md5: spec.name_as_content_md5,
            content_types: spec.content_types,
            single_put_limit: crate::limits::DEFAULT_MULTIPART_THRESHOLD,
        })
    }

    /// Objects of `threshold` bytes or more go in parts (never more than S3's 5 GiB in one
    /// request).
    pub fn with_multipart_threshold(mut self, threshold: u64) -> ObjectStore {
        self.single_put_limit = threshold.min(MAX_SINGLE_PUT);
        self
    }

    fn error(&self, action: &str, key: &str, err: opendal::Error) -> StorageError {
        classify(
            &self.remote,
            &self.url,
            &self.denied_hint,
            action,
            key,
            err,
            take_failed_response(),
        )
    }

    /// Uploads `source` whole to `target` in one request (read first, so a failing hash
    /// check sends nothing). Messages name `key`, the object's real name.
    fn put_whole(
        &self,
        key: &str,
        target: &str,
        source: &mut dyn Read,
        size: u64,
        md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        let _held = UPLOAD_MEMORY.reserve(size);
        let mut bytes = Vec::with_capacity(size as usize);
        source
            .read_to_end(&mut bytes)
            .map_err(|e| StorageError::from_io("cannot read the cache object", e))?;
        let content_type = self.content_types.for_key(key);
        let content_md5 = md5.filter(|_| self.name_as_content_md5);
        let op = if content_md5.is_some() {
            &self.stream_op
        } else {
            &self.op
        };
        let mut write = op.write_with(target, bytes);
        if let Some(t) = content_type {
            write = write.content_type(t);
        }
        let upload = match content_md5 {
            Some(md5) => {
                let header = http::HeaderValue::from_str(&base64_md5(md5))
                    .expect("base64 is a valid header value");
                block_on(CONTENT_MD5.scope(header, write.into_future()))
            }
            None => block_on(write.into_future()),
        };
        upload
            .map(|_| ())
            .map_err(|e| self.error("cannot upload", key, e))
    }

    /// Streams `source` to `target` in parts; the upload is aborted if the source fails.
    fn put_streamed(
        &self,
        key: &str,
        target: &str,
        source: &mut dyn Read,
        size: u64,
    ) -> Result<(), StorageError> {
        let chunk = PART_SIZE.max(size.div_ceil(MAX_PARTS) as usize);
        let if_absent = self.large_uploads == LargeUploads::ResumableIfAbsent;
        // The object already there (another push won the race): the same bytes.
        let already_there =
            |e: &opendal::Error| if_absent && e.kind() == opendal::ErrorKind::ConditionNotMatch;
        let content_type = self.content_types.for_key(key);
        let mut writer = block_on(async {
            let mut w = self
                .stream_op
                .writer_with(target)
                .chunk(chunk)
                .concurrent(PART_CONCURRENCY)
                .if_not_exists(if_absent);
            if let Some(t) = content_type {
                w = w.content_type(t);
            }
            w.await
        })
        .map_err(|e| self.error("cannot start uploading", key, e))?;
        loop {
            // A fresh buffer per part, handed over without a copy.
            let mut buf = vec![0u8; chunk];
            let n = match read_full(source, &mut buf) {
                Ok(n) => n,
                Err(e) => {
                    let _ = block_on(writer.abort());
                    return Err(StorageError::from_io("cannot read the cache object", e));
                }
            };
            if n == 0 {
                break;
            }
            buf.truncate(n);
            if let Err(e) = block_on(writer.write(buf)) {
                let result = if already_there(&e) {
                    Ok(())
                } else {
                    Err(self.error("cannot upload", key, e))
                };
                let _ = block_on(writer.abort());
                return result;
            }
        }
        if let Err(e) = block_on(writer.close()) {
            let result = if already_there(&e) {
                Ok(())
            } else {
                Err(self.error("cannot upload", key, e))
            };
            let _ = block_on(writer.abort());
            return result;
        }
        Ok(())
    }

    /// Moves a finished upload from its temporary name to `key`; a failed one's temporary
    /// object is deleted (best effort: a dead connection may leave it, under a dot-name
    /// that listings skip).
    fn commit(
        &self,
        temporary: &str,
        key: &str,
        upload: Result<(), StorageError>,
    ) -> Result<(), StorageError> {
        if let Err(e) = upload {
            self.discard(temporary);
            return Err(e);
        }
        if let Err(e) = block_on(self.op.rename(temporary, key)) {
            let error = self.error("cannot rename the upload into", key, e);
            self.discard(temporary);
            return Err(error);
        }
        Ok(())
    }

    /// Deletes a failed upload's temporary object, tried a few times: the connection
    /// that failed the upload often fails the first cleanup too, and a temporary left
    /// behind stays on the remote for good. Best effort, bounded (0.7 s at most).
    fn discard(&self, temporary: &str) {
        for attempt in 0..3 {
            match block_on(self.op.delete(temporary)) {
                Ok(()) => return,
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => return,
                Err(_) => std::thread::sleep(std::time::Duration::from_millis(100 << attempt)),
            }
        }
    }
}

/// Whether a "not found" is about the bucket or container rather than the object: then
/// every object would look missing, so it is an error, not an absence.
fn names_missing_container(err: &opendal::Error) -> bool {
    let text = err.to_string();
    ["NoSuchBucket", "ContainerNotFound", "bucket does not exist"]
        .iter()
        .any(|n| text.contains(n))
}

/// `dir/.<random>.tmp` beside `key`, as DVC names its temporary files.
fn temp_key(key: &str) -> String {
    let name = crate::temp_files::temp_name();
    match key.rfind('/') {
        Some(i) => format!("{}{name}", &key[..=i]),
        None => name,
    }
}

fn base64_md5(md5: &[u8; 16]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(md5)
}

/// Reads until `buf` is full or the source ends.
fn read_full(source: &mut dyn Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match source.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Turns an opendal error into a [`StorageError`] of the right kind, from typed facts:
/// opendal's error kind, the response the transport saw (`seen`), and the errors in the
/// source chain (credential loading, connection failures).
pub fn classify(
    remote: &str,
    url: &str,
    hint: &str,
    action: &str,
    key: &str,
    err: opendal::Error,
    seen: Option<FailedResponse>,
) -> StorageError {
    use opendal::ErrorKind as K;
    // opendal's Display dumps the whole request context (response headers and all); the
    // kind, its message and the causes say what happened in one line.
    let message = err.message();
    let message = if message.trim_start().starts_with('<') {
        // An HTML error page: its title is enough.
        html_title(message).unwrap_or("(an HTML error page)")
    } else {
        message
    };
    let mut detail = format!("{}: {}", err.kind(), message);
    let mut innermost = None;
    let mut no_credentials = false;
    let mut connection_failed = false;
    let mut source = std::error::Error::source(&err);
    while let Some(s) = source {
        detail.push_str(&format!(": {s}"));
        innermost = Some(s.to_string());
        no_credentials |= s
            .downcast_ref::<reqsign_core::Error>()
            .is_some_and(|e| e.kind() == reqsign_core::ErrorKind::CredentialInvalid);
        connection_failed |= is_connection_failure(s);
        source = s.source();
    }
    if err.kind() == K::NotFound && action == "cannot upload" {
        detail.push_str(" (does the bucket or container exist? git-dvc does not create it)");
    }
    let status = seen.as_ref().map(|r| r.status);
    // Some services (WebDAV) report 401/403 and 429 as a plain `Unexpected`, sometimes with
    // an empty message; the response status tells.
    if let Some(code) = status.filter(|_| message.trim().is_empty()) {
        detail.push_str(&format!("HTTP {code}"));
    }
    let by_status = status.map(super::classify_status);
    let kind = match err.kind() {
        // No credentials anywhere: an access problem the hint explains, not worth retrying.
        _ if no_credentials => ErrorKind::Denied,
        // S3's answer to a `Content-MD5` the bytes do not match: the bytes were verified
        // before they were sent, so they were damaged on the way.
        _ if seen.as_ref().and_then(|r| r.code.as_deref()) == Some("BadDigest") => {
            ErrorKind::Transient
        }
        K::PermissionDenied => ErrorKind::Denied,
        _ if by_status == Some(ErrorKind::Denied) => ErrorKind::Denied,
        K::RateLimited => ErrorKind::Transient,
        _ if err.is_temporary() => ErrorKind::Transient,
        _ if by_status == Some(ErrorKind::Transient) => ErrorKind::Transient,
        // A refused or dropped connection: the server may come back.
        K::Unexpected if connection_failed => ErrorKind::Transient,
        _ => ErrorKind::Other,
    };
    // The layers above a refused or dropped connection (opendal, reqwest, hyper) each add
    // a vague line; the innermost cause is the one that says what happened.
    if let Some(cause) = innermost.filter(|_| connection_failed) {
        detail = format!("cannot reach the server: {cause}");
    }
    let error = match kind {
        ErrorKind::Denied if no_credentials => StorageError::new(
            kind,
            format!("remote '{remote}' ({url}): no credentials found; check {hint}"),
        ),
        ErrorKind::Denied => StorageError::new(kind, denied_message(remote, url, &detail, hint)),
        _ => StorageError::new(
            kind,
            format!("{action} {key} on remote '{remote}' ({url}): {detail}"),
        ),
    };
    error.at(remote, key).with_status(status).with_source(err)
}

/// Whether an error in a source chain is a connection that failed or broke: an I/O error
/// of that kind, or reqwest's connect, timeout and send failures.
fn is_connection_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind as K;
    if let Some(io) = err.downcast_ref::<std::io::Error>() {
        return matches!(
            io.kind(),
            K::ConnectionRefused
                | K::ConnectionReset
                | K::ConnectionAborted
                | K::NotConnected
                | K::BrokenPipe
                | K::TimedOut
                | K::UnexpectedEof
        );
    }
    err.downcast_ref::<reqwest::Error>()
        .is_some_and(|e| e.is_connect() || e.is_timeout() || e.is_request() || e.is_body())
}

fn html_title(page: &str) -> Option<&str> {
    let start = page.find("<title>")? + "<title>".len();
    let end = page[start..].find("</title>")? + start;
    Some(page[start..end].trim())
}

impl Storage for ObjectStore {
    fn describe(&self) -> String {
        self.url.clone()
    }

    fn exists(&self, key: &str) -> Result<bool, StorageError> {
        match block_on(self.op.stat(key)) {
            Ok(meta) => Ok(!meta.is_dir()),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(self.error("cannot check", key, e)),
        }
    }

    fn read(&self, key: &str, limit: u64) -> Result<Option<Vec<u8>>, StorageError> {
        // The size first: a ranged GET must not ask past the end (opendal calls that an
        // error), and an object over the limit is fetched only up to `limit + 1` bytes.
        let read = async {
            let meta = self.op.stat(key).await?;
            if meta.is_dir() {
                return Ok(None); // a collection under an object's name is no object
            }
            let end = meta.content_length().min(limit.saturating_add(1));
            if end == 0 {
                return Ok(Some(opendal::Buffer::new()));
            }
            self.op.read_with(key).range(0..end).await.map(Some)
        };
        match block_on(read) {
            Ok(buf) => Ok(buf.map(|b| b.to_vec())),
            Err(e) if e.kind() == opendal::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.error("cannot read", key, e)),
        }
    }

    fn put(
        &self,
        key: &str,
        source: &mut dyn Read,
        size: u64,
        md5: Option<&[u8; 16]>,
    ) -> Result<(), StorageError> {
        let temporary = self.through_temporary_name.then(|| temp_key(key));
        let target = temporary.as_deref().unwrap_or(key);
        let upload = if self.large_uploads != LargeUploads::Whole && size >= self.single_put_limit {
            self.put_streamed(key, target, source, size)
        } else {
            self.put_whole(key, target, source, size, md5)
        };
        match &temporary {
            Some(temporary) => self.commit(temporary, key, upload),
            None => upload,
        }
    }

    fn get(&self, key: &str, sink: &mut dyn Write) -> Result<bool, StorageError> {
        use futures_util::TryStreamExt;
        let rt = runtime();
        // In the runtime's context throughout: dropping a stream mid-body (a failed sink)
        // may spawn tasks on it.
        let _context = rt.enter();
        // One GET, its body streamed as it arrives (no chunked reader: that would ask for
        // the size first).
        let opened = rt.block_on(async { self.op.reader(key).await?.into_stream(..).await });
        let absent = |e: &opendal::Error| {
            e.kind() == opendal::ErrorKind::NotFound && !names_missing_container(e)
        };
        let mut stream = match opened {
            Ok(s) => s,
            Err(e) if absent(&e) => return Ok(false),
            Err(e) => return Err(self.error("cannot download", key, e)),
        };
        let mut first = true;
        loop {
            match rt.block_on(stream.try_next()) {
                Ok(Some(buffer)) => {
                    for chunk in buffer {
                        sink.write_all(&chunk).map_err(|e| {
                            StorageError::from_io("cannot write the downloaded object", e)
                        })?;
                    }
                }
                Ok(None) => return Ok(true),
                Err(e) if first && absent(&e) => return Ok(false),
                Err(e) => return Err(self.error("cannot download", key, e)),
            }
            first = false;
        }
    }

    fn list_tree(&self, prefix: &str) -> Result<Option<Vec<String>>, StorageError> {
        let mut keys = self.list(prefix, None)?;
        keys.sort();
        Ok(Some(keys))
    }

    fn traverse_prefix_len(&self) -> Option<usize> {
        self.prefix_len
    }

    fn list(&self, prefix: &str, limit: Option<usize>) -> Result<Vec<String>, StorageError> {
        use futures_util::TryStreamExt;
        block_on(async {
            let mut lister = match self.op.lister_with(prefix).recursive(true).await {
                Ok(l) => l,
                Err(e) if e.kind() == opendal::ErrorKind::NotFound => return Ok(Vec::new()),
                Err(e) => return Err(self.error("cannot list", prefix, e)),
            };
            let mut keys = Vec::new();
            loop {
                match lister.try_next().await {
                    Ok(Some(entry)) => {
                        if entry.metadata().is_dir() {
                            continue;
                        }
                        let path = entry.path().trim_start_matches('/');
                        let name = path.rsplit('/').next().unwrap_or(path);
                        if !path.starts_with(prefix) || name.starts_with('.') {
                            continue;
                        }
                        keys.push(path.to_string());
                        if limit.is_some_and(|l| keys.len() >= l) {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) if e.kind() == opendal::ErrorKind::NotFound => break,
                    Err(e) => return Err(self.error("cannot list", prefix, e)),
                }
            }
            Ok(keys)
        })
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

/// Splits `scheme://bucket/some/prefix` into `("bucket", "some/prefix")`.
pub fn bucket_and_prefix<'a>(
    remote: &RemoteConfig,
    url: &'a str,
) -> Result<(&'a str, &'a str), StorageError> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(StorageError::config(
            &remote.name,
            format!("URL '{url}' names no bucket or container"),
        ));
    }
    Ok((bucket, prefix.trim_matches('/')))
}

/// opendal's root for a key prefix: `/some/prefix/`, or `/`.
pub fn root_for(prefix: &str) -> String {
    if prefix.is_empty() {
        "/".to_string()
    } else {
        format!("/{prefix}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opendal::ErrorKind as K;

    fn kind_of(err: opendal::Error) -> (ErrorKind, String) {
        kind_seen(err, None)
    }

    fn kind_seen(err: opendal::Error, seen: Option<FailedResponse>) -> (ErrorKind, String) {
        let e = classify(
            "r",
            "s3://b/p",
            "the credentials",
            "cannot upload",
            "k",
            err,
            seen,
        );
        assert_eq!(
            (e.remote.as_deref(), e.key.as_deref()),
            (Some("r"), Some("k"))
        );
        (e.kind, e.message)
    }

    #[test]
    fn refusals_name_remote_url_and_what_to_check() {
        let (kind, msg) = kind_of(opendal::Error::new(K::PermissionDenied, "AccessDenied"));
        assert_eq!(kind, ErrorKind::Denied);
        assert!(msg.contains("remote 'r' (s3://b/p)"), "{msg}");
        assert!(msg.contains("check the credentials"), "{msg}");
    }

    #[test]
    fn transient_failures_are_retried() {
        let (kind, _) = kind_of(opendal::Error::new(K::RateLimited, "slow down"));
        assert_eq!(kind, ErrorKind::Transient);
        let (kind, _) = kind_of(opendal::Error::new(K::Unexpected, "x").set_temporary());
        assert_eq!(kind, ErrorKind::Transient);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let (kind, msg) =
            kind_of(opendal::Error::new(K::Unexpected, "send http request").set_source(refused));
        assert_eq!(kind, ErrorKind::Transient);
        assert!(msg.contains("cannot reach the server"), "{msg}");
        // The same words without such an error in the chain decide nothing.
        let (kind, _) = kind_of(opendal::Error::new(K::Unexpected, "Connection refused"));
        assert_eq!(kind, ErrorKind::Other);
        let (kind, msg) = kind_of(opendal::Error::new(K::NotFound, "NoSuchBucket"));
        assert_eq!(kind, ErrorKind::Other);
        assert!(msg.contains("does the bucket or container exist"), "{msg}");
    }

    #[test]
    fn statuses_the_transport_saw_decide_the_kind() {
        let kind = |status: u16, code: Option<&str>| {
            let seen = FailedResponse {
                status,
                code: code.map(str::to_string),
            };
            kind_seen(opendal::Error::new(K::Unexpected, ""), Some(seen))
        };
        let (k, msg) = kind(429, None);
        assert_eq!(k, ErrorKind::Transient);
        assert!(msg.contains("HTTP 429"), "{msg}");
        assert_eq!(kind(503, None).0, ErrorKind::Transient);
        assert_eq!(kind(403, None).0, ErrorKind::Denied);
        assert_eq!(kind(409, None).0, ErrorKind::Other);
        assert_eq!(kind(400, None).0, ErrorKind::Other);
        assert_eq!(kind(400, Some("BadDigest")).0, ErrorKind::Transient);
    }

    #[test]
    fn xml_error_codes_are_read_from_the_body() {
        let body =
            b"<?xml version=\"1.0\"?><Error><Code>BadDigest</Code><Message>m</Message></Error>";
        assert_eq!(xml_error_code(body).as_deref(), Some("BadDigest"));
        assert_eq!(xml_error_code(b"<html>oops</html>"), None);
        assert_eq!(xml_error_code(b"<Code></Code>"), None);
    }

    #[test]
    fn html_error_pages_shrink_to_their_title() {
        let page = "<html><head><title>401 Access not authorized</title></head></html>";
        let (_, msg) = kind_of(opendal::Error::new(K::Unexpected, page));
        assert!(msg.contains("401 Access not authorized"), "{msg}");
        assert!(!msg.contains("<html>"), "{msg}");
    }

    /// Answers one request on 127.0.0.1 with `status` and a GCS error body of `reason`;
    /// returns the address and the request line it saw.
    fn gcs_answering_once(
        status: &'static str,
        reason: &'static str,
    ) -> (String, std::thread::JoinHandle<String>) {
        use std::io::Write;
        super::super::loopback::serve_one_connection(move |reader, writer| {
            let head = super::super::loopback::read_request(reader);
            let body = format!(
                r#"{{"error":{{"code":{code},"message":"m","errors":[{{"domain":"global","reason":"{reason}","message":"m"}}]}}}}"#,
                code = &status[..3]
            );
            write!(
                writer,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            head.lines().next().unwrap_or_default().to_string()
        })
    }

    /// GCS's large uploads are resumable sessions created `ifGenerationMatch=0`: an object
    /// already under the name (another push got there first) is success, not an error;
    /// any other refusal is still one.
    #[test]
    fn gcs_resumable_upload_onto_an_existing_object_succeeds() {
        let upload = |status, reason| {
            let (addr, server) = gcs_answering_once(status, reason);
            let remote = RemoteConfig {
                name: "g".into(),
                url: "gs://bkt/p".into(),
                options: [
                    ("endpointurl", format!("http://{addr}")),
                    ("allow_anonymous_login", "true".to_string()),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            };
            let store = super::super::gcs::open(&remote).unwrap();
            let bytes = b"large in spirit".to_vec();
            let result = store.put_streamed("k", "files/md5/aa/bb", &mut &bytes[..], 15);
            (result, server.join().unwrap())
        };
        let (result, request) = upload("412 Precondition Failed", "conditionNotMet");
        assert!(result.is_ok(), "{:?}", result.err().map(|e| e.message));
        assert!(request.starts_with("POST "), "{request}");
        assert!(request.contains("uploadType=resumable"), "{request}");
        assert!(request.contains("ifGenerationMatch=0"), "{request}");
        let (result, _) = upload("403 Forbidden", "forbidden");
        assert_eq!(result.unwrap_err().kind, ErrorKind::Denied);
    }

    #[test]
    fn bucket_and_prefix_split() {
        let r = RemoteConfig {
            name: "r".into(),
            url: String::new(),
            options: Default::default(),
        };
        assert_eq!(bucket_and_prefix(&r, "s3://b/x/y/").unwrap(), ("b", "x/y"));
        assert_eq!(bucket_and_prefix(&r, "gs://b").unwrap(), ("b", ""));
        assert!(bucket_and_prefix(&r, "azure:///x").is_err());
        assert_eq!(root_for(""), "/");
        assert_eq!(root_for("a/b"), "/a/b/");
        assert!(temp_key("files/md5/ab/cd").starts_with("files/md5/ab/."));
        assert!(temp_key("files/md5/ab/cd").ends_with(".tmp"));
    }

    /// HTTP's timeouts are numbers, the others' integers (DVC's schema); neither panics.
    #[test]
    fn timeouts_as_dvc_types_them() {
        let remote = |url: &str, key: &str, v: &str| RemoteConfig {
            name: "r".into(),
            url: url.into(),
            options: [(key.to_string(), v.to_string())].into_iter().collect(),
        };
        // (URL, option, the remote's read-timeout option, its TLS client)
        let cases = [
            (
                "https://h/p",
                "read_timeout",
                "read_timeout",
                Client::Aiohttp,
            ),
            (
                "s3://b/p",
                "connect_timeout",
                "read_timeout",
                Client::Botocore,
            ),
            ("webdavs://h/p", "timeout", "timeout", Client::Httpx),
        ];
        for bad in ["inf", "1e30", "1e-300", "0", "nan"] {
            for (url, key, read_key, client) in cases {
                let err = HttpSettings::from_remote(&remote(url, key, bad), read_key, client)
                    .err()
                    .unwrap_or_else(|| panic!("{url} {key} {bad} accepted"));
                assert!(err.message.contains(bad), "{}", err.message);
            }
        }
        let h = HttpSettings::from_remote(
            &remote("https://h/p", "read_timeout", "2.5"),
            "read_timeout",
            Client::Aiohttp,
        )
        .unwrap();
        assert_eq!(h.read_timeout, Duration::from_millis(2500));
        assert!(HttpSettings::from_remote(
            &remote("s3://b/p", "read_timeout", "2.5"),
            "read_timeout",
            Client::Botocore,
        )
        .is_err());
    }
}
