//! An HTTP/1.1 proxy on 127.0.0.1 in front of a real server (moto): it passes every
//! request through unchanged and records its method, target and headers, so a test can
//! assert which headers a client sent on which request (the multipart upload sequence,
//! the identity in `Authorization`). Bodies are passed through, not kept.
//!
//! Request and response bodies may use `Content-Length` or chunked encoding (aiohttp and
//! httpx stream uploads chunked); responses may also end at close. Any HTTP server works
//! behind it: moto, the HTTP upload server, wsgidav, Azurite, fake-gcs-server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the client sent it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    /// Header names lower-cased, in order.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The header names starting with `prefix`, sorted.
    pub fn headers_starting(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .headers
            .iter()
            .filter(|(n, _)| n.starts_with(prefix))
            .map(|(n, _)| n.clone())
            .collect();
        names.sort();
        names
    }

    /// The access key id of a SigV4 `Authorization` header.
    pub fn access_key(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        let cred = auth.split("Credential=").nth(1)?;
        cred.split('/').next()
    }
}

pub struct RecordingProxy {
    pub port: u16,
    log: Arc<Mutex<Vec<Recorded>>>,
    stop: Arc<AtomicBool>,
}

impl RecordingProxy {
    /// Starts a proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log2, stop2) = (log.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let log = log2.clone();
                std::thread::spawn(move || {
                    let _ = serve(client, upstream, &log);
                });
            }
        });
        RecordingProxy { port, log, stop }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Everything recorded so far, in arrival order; clears the log.
    pub fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads a header block (up to the blank line); `None` at a clean end of stream.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            return Ok(Some(lines));
        }
        lines.push(line);
    }
}

fn header_of<'a>(lines: &'a [String], name: &str) -> Option<&'a str> {
    lines.iter().skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn copy_exact(from: &mut impl Read, to: &mut impl Write, mut n: u64) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 << 10];
    while n > 0 {
        let want = buf.len().min(n as usize);
        let got = from.read(&mut buf[..want])?;
        if got == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        to.write_all(&buf[..got])?;
        n -= got as u64;
    }
    Ok(())
}

/// Passes a chunked body through as it is, up to its last chunk (no trailers).
fn copy_chunked(from: &mut impl BufRead, to: &mut impl Write) -> std::io::Result<()> {
    loop {
        let mut size_line = String::new();
        if from.read_line(&mut size_line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        to.write_all(size_line.as_bytes())?;
        let size =
            u64::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
        copy_exact(from, to, size + 2)?;
        if size == 0 {
            return Ok(());
        }
    }
}

fn serve(client: TcpStream, upstream: u16, log: &Mutex<Vec<Recorded>>) -> std::io::Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut to_client = client.try_clone()?;
    let mut from_client = BufReader::new(client);
    let server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut to_server = server.try_clone()?;
    let mut from_server = BufReader::new(server);
    while let Some(head) = read_head(&mut from_client)? {
        let Some(request_line) = head.first() else {
            return Ok(());
        };
        let mut parts = request_line.split(' ');
        let method = parts.next().unwrap_or_default().to_string();
        let target = parts.next().unwrap_or_default().to_string();
        let headers = head
            .iter()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        log.lock().unwrap().push(Recorded {
            method: method.clone(),
            target,
            headers,
        });
        let chunked = header_of(&head, "transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        let length: u64 = header_of(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        // botocore waits for `100 Continue` before it sends a body: give it here, and
        // forward the request without the expectation.
        let expects_continue =
            header_of(&head, "expect").is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        let head: Vec<String> = if expects_continue {
            to_client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            to_client.flush()?;
            head.into_iter()
                .filter(|l| !l.to_ascii_lowercase().starts_with("expect:"))
                .collect()
        } else {
            head
        };
        to_server.write_all(format!("{}\r\n\r\n", head.join("\r\n")).as_bytes())?;
        if chunked {
            copy_chunked(&mut from_client, &mut to_server)?;
        } else {
            copy_exact(&mut from_client, &mut to_server, length)?;
        }
        to_server.flush()?;

        let Some(response) = read_head(&mut from_server)? else {
            return Ok(());
        };
        to_client.write_all(format!("{}\r\n\r\n", response.join("\r\n")).as_bytes())?;
        let status: u16 = response
            .first()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let no_body = method == "HEAD" || status == 204 || status == 304 || status < 200;
        if no_body {
        } else if let Some(n) = header_of(&response, "content-length").and_then(|v| v.parse().ok())
        {
            copy_exact(&mut from_server, &mut to_client, n)?;
        } else if header_of(&response, "transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
        {
            copy_chunked(&mut from_server, &mut to_client)?;
        } else {
            std::io::copy(&mut from_server, &mut to_client)?;
            return Ok(());
        }
        to_client.flush()?;
    }
    Ok(())
}
