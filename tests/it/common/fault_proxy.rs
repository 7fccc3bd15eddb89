//! A TCP proxy on 127.0.0.1 that injects network faults in front of a real storage server
//! (moto, Azurite, fake-gcs, wsgidav, the HTTP upload server, sshd): the fault tests point
//! a remote at the proxy instead of the server.
//!
//! Faults are decided per accepted connection: every `every`-th connection gets the fault,
//! until `budget` faults were injected; every other connection is passed through untouched.
//! Clients keep connections alive, so a fault hits the first request of a new connection,
//! and the retry after it opens another one.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Read the start of the request, then reset the connection (RST, not FIN).
    Reset,
    /// Answer the first request with this HTTP status and close.
    Status(u16),
    /// Pass through, but hold the response back this long before its first byte.
    Delay(Duration),
    /// Read the request and never answer (the client's read timeout must fire).
    Stall,
}

impl Fault {
    pub fn describe(&self) -> String {
        match self {
            Fault::Reset => "connection reset".into(),
            Fault::Status(code) => format!("HTTP {code}"),
            Fault::Delay(d) => format!("response delayed {:.1}s", d.as_secs_f64()),
            Fault::Stall => "server never answers".into(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Plan {
    fault: Option<Fault>,
    every: usize,
    budget: usize,
}

struct Shared {
    upstream: u16,
    plan: Mutex<Plan>,
    connections: AtomicUsize,
    injected: AtomicUsize,
    stop: AtomicBool,
}

pub struct FaultProxy {
    pub port: u16,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// A pass-through proxy to `127.0.0.1:upstream`.
    pub fn start(upstream: u16) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            upstream,
            plan: Mutex::new(Plan {
                fault: None,
                every: 1,
                budget: 0,
            }),
            connections: AtomicUsize::new(0),
            injected: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        std::thread::spawn(move || accept_loop(listener, s));
        FaultProxy { port, shared }
    }

    /// From now on, every `every`-th new connection gets `fault`, at most `budget` times.
    pub fn inject(&self, fault: Fault, every: usize, budget: usize) {
        *self.shared.plan.lock().unwrap() = Plan {
            fault: Some(fault),
            every: every.max(1),
            budget,
        };
        self.shared.connections.store(0, Ordering::SeqCst);
        self.shared.injected.store(0, Ordering::SeqCst);
    }

    /// Passes everything through from now on.
    pub fn heal(&self) {
        self.shared.plan.lock().unwrap().fault = None;
    }

    /// Faults injected since the last [`FaultProxy::inject`].
    pub fn injected(&self) -> usize {
        self.shared.injected.load(Ordering::SeqCst)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                client.set_nonblocking(false).unwrap();
                let fault = decide(&shared);
                let s = shared.clone();
                std::thread::spawn(move || serve(client, fault, &s));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

fn decide(shared: &Shared) -> Option<Fault> {
    let plan = *shared.plan.lock().unwrap();
    let n = shared.connections.fetch_add(1, Ordering::SeqCst);
    let fault = plan.fault?;
    if !n.is_multiple_of(plan.every) {
        return None;
    }
    // Reserve one unit of the budget, or pass through when it is spent.
    shared
        .injected
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |i| {
            (i < plan.budget).then_some(i + 1)
        })
        .ok()
        .map(|_| fault)
}

fn serve(client: TcpStream, fault: Option<Fault>, shared: &Shared) {
    match fault {
        None => pipe(client, shared.upstream, None),
        Some(Fault::Delay(d)) => pipe(client, shared.upstream, Some(d)),
        Some(Fault::Reset) => {
            let mut client = client;
            read_request_head(&mut client);
            reset(&client);
        }
        Some(Fault::Status(code)) => {
            let mut client = client;
            read_request_head(&mut client);
            let reason = match code {
                429 => "Too Many Requests",
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                503 => "Service Unavailable",
                _ => "Error",
            };
            let response = format!(
                "HTTP/1.1 {code} {reason}\r\nContent-Length: 0\r\nRetry-After: 0\r\n\
                 Connection: close\r\n\r\n"
            );
            let _ = client.write_all(response.as_bytes());
            let _ = client.shutdown(Shutdown::Write);
            drain(&mut client, Duration::from_secs(2));
        }
        Some(Fault::Stall) => {
            let mut client = client;
            read_request_head(&mut client);
            // Hold the connection open without answering until the client gives up
            // (bounded, so a client without a timeout cannot keep the thread forever).
            drain(&mut client, Duration::from_secs(120));
        }
    }
}

/// Reads until the end of an HTTP request head (or 64 KiB, or 2 s: SSH has no such head).
fn read_request_head(client: &mut TcpStream) {
    client
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(2);
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    while Instant::now() < deadline && seen.len() < 64 * 1024 {
        match client.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                seen.extend_from_slice(&buf[..n]);
                if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                // SSH: the client waits for the server's banner first.
                if !seen.is_empty() || Instant::now() + Duration::from_millis(1500) > deadline {
                    break;
                }
            }
            Err(_) => break,
        }
    }
}

/// Reads and discards until EOF or `limit`.
fn drain(client: &mut TcpStream, limit: Duration) {
    let deadline = Instant::now() + limit;
    let _ = client.set_read_timeout(Some(Duration::from_millis(200)));
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match client.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

/// Closes with SO_LINGER 0: the kernel sends RST, the client sees "connection reset".
fn reset(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket descriptor and a correctly sized `linger` value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Copies both ways until either side closes; `delay` holds back the first response byte.
fn pipe(client: TcpStream, upstream_port: u16, delay: Option<Duration>) {
    let Ok(upstream) = TcpStream::connect(("127.0.0.1", upstream_port)) else {
        reset(&client);
        return;
    };
    let (mut c_read, mut u_write) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c_read, &mut u_write);
        let _ = u_write.shutdown(Shutdown::Write);
    });
    let (mut u_read, mut c_write) = (upstream, client);
    let mut buf = vec![0u8; 65536];
    let mut first = true;
    loop {
        let n = match u_read.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if first {
            if let Some(d) = delay {
                std::thread::sleep(d);
            }
            first = false;
        }
        if c_write.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = c_write.shutdown(Shutdown::Write);
    let _ = up.join();
}
