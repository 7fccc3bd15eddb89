//! Asking the person at the terminal for a secret (`ask_password`, `ask_passphrase`, an
//! encrypted key), as DVC does with `getpass`: on the controlling terminal (`/dev/tty`),
//! without echo.
//!
//! Prompts are off unless the command allows them ([`allow`]): a hook runs unattended
//! (git holds its stdin, an IDE may have no terminal) and must fail with a message that
//! says how to provide the secret instead of waiting for an answer nobody sees.
//!
//! ```no_run
//! git_dvc::storage::prompt::allow(true);
//! match git_dvc::storage::prompt::secret("Enter a password for me@host:\n") {
//!     Ok(pw) => drop(pw),
//!     Err(why) => eprintln!("cannot ask: {why}"),
//! }
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

static ALLOWED: AtomicBool = AtomicBool::new(false);
/// One prompt at a time (parallel connections).
static TTY: Mutex<()> = Mutex::new(());

/// Whether the running command may prompt (commands a person runs: yes; hooks: no).
pub fn allow(yes: bool) {
    ALLOWED.store(yes, Ordering::SeqCst);
}

/// Why no prompt could be shown; the message completes "git-dvc does not prompt ...".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    #[error("in a hook")]
    Hook,
    #[error("without a terminal")]
    NoTerminal,
    #[error("with BatchMode set in the ssh configuration")]
    BatchMode,
}

/// Whether a prompt could be shown now (without showing one).
pub fn available() -> Result<(), Unavailable> {
    terminal().map(drop)
}

/// The controlling terminal, where prompts are allowed at all.
fn terminal() -> Result<std::fs::File, Unavailable> {
    if !ALLOWED.load(Ordering::SeqCst) {
        return Err(Unavailable::Hook);
    }
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(|_| Unavailable::NoTerminal)
}

/// Asks `prompt` on the terminal and reads one line, echoed (a yes/no question).
pub fn line(prompt: &str) -> Result<String, Unavailable> {
    let _one = TTY.lock().unwrap_or_else(|e| e.into_inner());
    let tty = terminal()?;
    let mut out = &tty;
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    let mut line = String::new();
    BufReader::new(&tty)
        .read_line(&mut line)
        .map_err(|_| Unavailable::NoTerminal)?;
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    Ok(line)
}

/// Prints `prompt` on the terminal and reads one line without echo (the newline removed).
pub fn secret(prompt: &str) -> Result<String, Unavailable> {
    let _one = TTY.lock().unwrap_or_else(|e| e.into_inner());
    let tty = terminal()?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for an open terminal descriptor.
    let mut saved: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut saved) } != 0 {
        return Err(Unavailable::NoTerminal);
    }
    let mut quiet = saved;
    quiet.c_lflag &= !(libc::ECHO | libc::ECHONL);
    quiet.c_lflag |= libc::ICANON;
    // SAFETY: as above; the saved settings are restored below on every path.
    unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet) };
    let mut out = &tty;
    let _ = out.write_all(prompt.as_bytes());
    let _ = out.flush();
    let mut line = String::new();
    let read = BufReader::new(&tty).read_line(&mut line);
    unsafe { libc::tcsetattr(fd, libc::TCSAFLUSH, &saved) };
    let _ = out.write_all(b"\n");
    read.map_err(|_| Unavailable::NoTerminal)?;
    while line.ends_with(['\n', '\r']) {
        line.pop();
    }
    Ok(line)
}
