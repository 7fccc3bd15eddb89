//! Logging in: the remote's password, its `keyfile` (which replaces the configured
//! identity files, as asyncssh's `client_keys` does for DVC), the SSH agent (`IdentityAgent`
//! or `SSH_AUTH_SOCK`), then the configured identity files (or the default `~/.ssh/id_*`).
//!
//! Every credential tried is accounted for, so a failure names each key file and why it
//! was not used (missing, unreadable, encrypted without a passphrase, refused by the
//! server) instead of "tried: nothing".
//!
//! An encrypted key without a passphrase is asked for on the terminal as DVC asks for it,
//! where prompts are allowed (see [`crate::storage::prompt`]); elsewhere it is skipped with
//! a note saying how to provide it.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use base64::Engine;
use ssh2::{ErrorCode, Session};

use super::client_config::IdentityFile;
use crate::storage::prompt;

/// libssh2's `LIBSSH2_ERROR_FILE`: the key file could not be read or parsed.
const ERROR_FILE: i32 = -16;
/// Bigger "key files" are not keys.
const MAX_KEY_FILE: u64 = 1 << 20;

/// Where the agent is, when one is to be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentSocket {
    /// `SSH_AUTH_SOCK`.
    Environment,
    Path(PathBuf),
}

/// What to log in with.
pub struct Credentials<'a> {
    pub user: &'a str,
    pub password: Option<&'a str>,
    pub passphrase: Option<&'a str>,
    pub keyfile: Option<&'a Path>,
    pub identity_files: &'a [IdentityFile],
    pub agent: Option<AgentSocket>,
    /// False after an accepted changed host key (`StrictHostKeyChecking no`), as in `ssh`.
    pub allow_password: bool,
    /// `BatchMode yes`: never prompt.
    pub batch_mode: bool,
    /// `IdentitiesOnly yes`: the agent may only offer the keys of the identity files (the
    /// `keyfile`, else the IdentityFile list), recognised by their `.pub` files, as `ssh`
    /// does.
    pub identities_only: bool,
}

/// Passphrases typed at the prompt, per key file, for the connections that follow.
#[derive(Default)]
pub struct TypedPassphrases(Mutex<Vec<(PathBuf, String)>>);

impl TypedPassphrases {
    fn get(&self, path: &Path) -> Option<String> {
        let list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        list.iter().find(|(p, _)| p == path).map(|(_, s)| s.clone())
    }

    fn put(&self, path: &Path, passphrase: String) {
        let mut list = self.0.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|(p, _)| p != path);
        list.push((path.to_path_buf(), passphrase));
    }
}

/// Logs in, or says what was tried and why each failed.
pub fn authenticate(
    session: &Session,
    creds: &Credentials<'_>,
    typed: &TypedPassphrases,
) -> Result<(), String> {
    let user = creds.user;
    let mut notes: Vec<String> = Vec::new();
    if let Some(pw) = creds.password {
        if creds.allow_password {
            match session.userauth_password(user, pw) {
                Ok(()) if session.authenticated() => return Ok(()),
                _ => notes.push("the password (refused)".to_string()),
            }
        } else {
            notes.push("not the password (the host key changed)".to_string());
        }
    }
    if let Some(key) = creds.keyfile {
        if try_key(session, creds, typed, key, true, "keyfile", &mut notes) {
            return Ok(());
        }
    }
    if let Some(agent) = &creds.agent {
        let only = creds.identities_only.then(|| identity_blobs(creds));
        if try_agent(session, user, agent, only.as_deref(), &mut notes) {
            return Ok(());
        }
    }
    if creds.keyfile.is_none() {
        for id in creds.identity_files {
            if !id.configured && !id.path.exists() {
                continue;
            }
            if try_key(
                session,
                creds,
                typed,
                &id.path,
                id.configured,
                "IdentityFile",
                &mut notes,
            ) {
                return Ok(());
            }
        }
    }
    Err(format!(
        "authentication as '{user}' failed ({})",
        if notes.is_empty() {
            "no password, keyfile, agent or ~/.ssh/id_* key to try".to_string()
        } else {
            format!("tried: {}", notes.join("; "))
        }
    ))
}

fn try_key(
    session: &Session,
    creds: &Credentials<'_>,
    typed: &TypedPassphrases,
    path: &Path,
    configured: bool,
    what: &str,
    notes: &mut Vec<String>,
) -> bool {
    let shown = format!("{what} {}", path.display());
    let bytes = match read_bounded(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if configured {
                notes.push(format!("{shown} (not found)"));
            }
            return false;
        }
        Err(e) => {
            notes.push(format!("{shown} (cannot read it: {e})"));
            return false;
        }
    };
    let encrypted = is_encrypted(&bytes);
    let mut passphrase = creds
        .passphrase
        .map(str::to_string)
        .or_else(|| typed.get(path));
    if encrypted && passphrase.is_none() {
        let asked = if creds.batch_mode {
            Err(prompt::Unavailable::BatchMode)
        } else {
            prompt::secret(&format!("Enter passphrase for key '{}': ", path.display()))
        };
        match asked {
            Ok(p) if !p.is_empty() => passphrase = Some(p),
            Ok(_) => {
                notes.push(format!("{shown} (encrypted; no passphrase entered)"));
                return false;
            }
            Err(why) => {
                notes.push(format!(
                    "{shown} (encrypted, and git-dvc does not prompt {why}: set the remote's \
                     passphrase in .dvc/config.local or add the key to your agent with \
                     `ssh-add {}`)",
                    path.display()
                ));
                return false;
            }
        }
    }
    match session.userauth_pubkey_file(creds.user, None, path, passphrase.as_deref()) {
        Ok(()) if session.authenticated() => {
            if let (Some(p), true) = (passphrase, creds.passphrase.is_none()) {
                typed.put(path, p);
            }
            true
        }
        Ok(()) => {
            notes.push(format!("{shown} (refused by the server)"));
            false
        }
        Err(e) => {
            let why = match e.code() {
                ErrorCode::Session(ERROR_FILE) if encrypted => {
                    "wrong passphrase, or a key format libssh2 cannot read".to_string()
                }
                ErrorCode::Session(ERROR_FILE) => {
                    format!("not a usable private key: {}", e.message())
                }
                _ => "refused by the server".to_string(),
            };
            notes.push(format!("{shown} ({why})"));
            false
        }
    }
}

/// The public keys (wire blobs) of the identity files, from their `.pub` files.
fn identity_blobs(creds: &Credentials<'_>) -> Vec<Vec<u8>> {
    let paths: Vec<&Path> = match creds.keyfile {
        Some(k) => vec![k],
        None => creds
            .identity_files
            .iter()
            .map(|i| i.path.as_path())
            .collect(),
    };
    paths
        .into_iter()
        .filter_map(|p| {
            let mut public = p.as_os_str().to_owned();
            public.push(".pub");
            let text = read_bounded(Path::new(&public)).ok()?;
            let text = String::from_utf8_lossy(&text);
            let b64 = text.split_whitespace().nth(1)?;
            base64::engine::general_purpose::STANDARD.decode(b64).ok()
        })
        .collect()
}

fn try_agent(
    session: &Session,
    user: &str,
    socket: &AgentSocket,
    only: Option<&[Vec<u8>]>,
    notes: &mut Vec<String>,
) -> bool {
    let shown = match socket {
        AgentSocket::Environment => match std::env::var_os("SSH_AUTH_SOCK") {
            Some(s) if !s.is_empty() => format!("the agent at {}", Path::new(&s).display()),
            // No agent running: nothing to try, nothing to report.
            _ => return false,
        },
        AgentSocket::Path(p) => {
            if !p.exists() {
                notes.push(format!("IdentityAgent {} (no such socket)", p.display()));
                return false;
            }
            format!("the agent at {} (IdentityAgent)", p.display())
        }
    };
    let mut agent = match session.agent() {
        Ok(a) => a,
        Err(e) => {
            notes.push(format!("{shown} ({e})"));
            return false;
        }
    };
    if let AgentSocket::Path(p) = socket {
        if let Err(e) = agent.set_identity_path(p) {
            notes.push(format!("{shown} ({e})"));
            return false;
        }
    }
    if let Err(e) = agent.connect() {
        notes.push(format!("{shown} (cannot connect: {})", e.message()));
        return false;
    }
    let identities = match agent.list_identities().and_then(|_| agent.identities()) {
        Ok(ids) => ids,
        Err(e) => {
            notes.push(format!("{shown} (cannot list its keys: {})", e.message()));
            let _ = agent.disconnect();
            return false;
        }
    };
    let held = identities.len();
    let identities: Vec<_> = identities
        .into_iter()
        .filter(|id| only.is_none_or(|blobs| blobs.iter().any(|b| b.as_slice() == id.blob())))
        .collect();
    if identities.is_empty() && held > 0 {
        notes.push(format!(
            "{shown} (IdentitiesOnly yes: none of its {held} keys is an identity file's)"
        ));
        let _ = agent.disconnect();
        return false;
    }
    let mut ok = false;
    for id in &identities {
        if agent.userauth(user, id).is_ok() && session.authenticated() {
            ok = true;
            break;
        }
    }
    let _ = agent.disconnect();
    if !ok {
        notes.push(if identities.is_empty() {
            format!("{shown} (it holds no key)")
        } else {
            format!("{shown} (none of its {} keys accepted)", identities.len())
        });
    }
    ok
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut bytes = Vec::new();
    f.take(MAX_KEY_FILE).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Whether a private key file needs a passphrase: an OpenSSH-format key whose cipher is
/// not `none`, or an encrypted PEM/PKCS#8 key.
pub fn is_encrypted(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("Proc-Type: 4,ENCRYPTED") || text.contains("BEGIN ENCRYPTED PRIVATE KEY") {
        return true;
    }
    let Some(start) = text.find("-----BEGIN OPENSSH PRIVATE KEY-----") else {
        return false;
    };
    let body = &text[start + "-----BEGIN OPENSSH PRIVATE KEY-----".len()..];
    let body = body.split("-----END").next().unwrap_or("");
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64) else {
        return false;
    };
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    let Some(rest) = raw.strip_prefix(MAGIC) else {
        return false;
    };
    let Some(len) = rest.get(..4) else {
        return false;
    };
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    rest.get(4..4 + len).is_some_and(|cipher| cipher != b"none")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keygen(dir: &Path, name: &str, passphrase: &str) -> Option<Vec<u8>> {
        let path = dir.join(name);
        let ok = std::process::Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", passphrase, "-f"])
            .arg(&path)
            .status()
            .ok()?
            .success();
        ok.then(|| std::fs::read(&path).unwrap())
    }

    #[test]
    fn encrypted_keys_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let Some(plain) = keygen(dir.path(), "plain", "") else {
            eprintln!("no ssh-keygen; skipped");
            return;
        };
        let locked = keygen(dir.path(), "locked", "secret words").unwrap();
        assert!(!is_encrypted(&plain));
        assert!(is_encrypted(&locked));
        assert!(is_encrypted(
            b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        ));
        assert!(!is_encrypted(b"not a key"));
    }
}
