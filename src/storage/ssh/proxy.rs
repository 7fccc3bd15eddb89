//! The connection through a `ProxyCommand` or a `ProxyJump` chain: a program whose stdin
//! and stdout carry the SSH stream, given one end of a socket pair (libssh2 reads and
//! writes sockets) while the session gets the other.
//!
//! A jump goes through the system `ssh`, as `ssh` itself turns `ProxyJump a,b` into
//! `ssh -J a -W '[host]:port' b`: the bastion resolves and reaches the target, and each
//! hop is configured, authenticated and host-key-checked by the user's own OpenSSH.
//!
//! The program's stderr is kept (the last few KiB) for the error when the connection
//! fails; it is killed when the connection is dropped.

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use super::client_config::{split_jump, ResolveError};

const STDERR_KEPT: usize = 4096;

/// The running proxy program.
pub struct Proxy {
    child: Child,
    stderr: Arc<Mutex<Vec<u8>>>,
    /// How it was started, for messages.
    pub describe: String,
}

impl Proxy {
    /// What the program said on stderr (its last lines), if anything.
    pub fn said(&self) -> Option<String> {
        let buf = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&buf).trim().to_string();
        (!text.is_empty()).then_some(text)
    }

    /// A failure message with what the proxy said.
    pub fn explain(&self, detail: &str) -> String {
        // Give a dying program a moment to write its reason.
        for _ in 0..20 {
            if self.said().is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        match self.said() {
            Some(said) => format!(
                "{detail}; {} said: {}",
                self.describe,
                said.lines().collect::<Vec<_>>().join(" / ")
            ),
            None => format!("{detail} (through {})", self.describe),
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `ProxyCommand` (already token-expanded) under the user's shell, as `ssh` does.
pub fn command(command_line: &str) -> std::io::Result<(UnixStream, Proxy)> {
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut cmd = Command::new(shell);
    cmd.arg("-c").arg(format!("exec {command_line}"));
    spawn(cmd, format!("ProxyCommand '{command_line}'"))
}

/// Starts the `ssh -W` that carries the connection through the `ProxyJump` hops.
pub fn jump(
    hops: &str,
    target_host: &str,
    target_port: u16,
    config_file: Option<&Path>,
    batch: bool,
) -> Result<std::io::Result<(UnixStream, Proxy)>, ResolveError> {
    let (extra, last) = split_jump(hops)?;
    let mut cmd = Command::new("ssh");
    if let Some(f) = config_file {
        cmd.arg("-F").arg(f);
    }
    if let Some(u) = &last.user {
        cmd.arg("-l").arg(u);
    }
    if let Some(p) = last.port {
        cmd.arg("-p").arg(p.to_string());
    }
    if let Some(e) = &extra {
        cmd.arg("-J").arg(e);
    }
    if batch {
        // Nobody could answer a prompt: fail at once instead.
        cmd.args(["-o", "BatchMode=yes"]);
    }
    let target = if target_host.contains(':') {
        format!("[{target_host}]:{target_port}")
    } else {
        format!("{target_host}:{target_port}")
    };
    cmd.arg("-W").arg(&target).arg("--").arg(&last.host);
    Ok(spawn(cmd, format!("ProxyJump '{hops}'")))
}

fn spawn(mut cmd: Command, describe: String) -> std::io::Result<(UnixStream, Proxy)> {
    let (ours, theirs) = UnixStream::pair()?;
    let theirs_out = theirs.try_clone()?;
    cmd.stdin(Stdio::from(std::os::fd::OwnedFd::from(theirs)))
        .stdout(Stdio::from(std::os::fd::OwnedFd::from(theirs_out)))
        .stderr(Stdio::piped());
    let mut child = cmd.spawn()?;
    let stderr = Arc::new(Mutex::new(Vec::new()));
    if let Some(mut pipe) = child.stderr.take() {
        let keep = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut chunk = [0u8; 1024];
            while let Ok(n) = pipe.read(&mut chunk) {
                if n == 0 {
                    break;
                }
                let mut buf = keep.lock().unwrap_or_else(|e| e.into_inner());
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() > STDERR_KEPT {
                    let cut = buf.len() - STDERR_KEPT;
                    buf.drain(..cut);
                }
            }
        });
    }
    Ok((
        ours,
        Proxy {
            child,
            stderr,
            describe,
        },
    ))
}
