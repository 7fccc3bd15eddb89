//! The server's host key against the known_hosts files the configuration names
//! (`UserKnownHostsFile`, `GlobalKnownHostsFile`), looked up under the host name the
//! connection actually goes to (or `HostKeyAlias`), never the URL's alias, with
//! `StrictHostKeyChecking` deciding what an unknown or changed key means.
//!
//! DVC checks no host key at all (sshfs passes `known_hosts=None`); git-dvc accepts an
//! unknown host as DVC does (unless `StrictHostKeyChecking yes`) but refuses a key that
//! contradicts what the user recorded, and any key marked `@revoked`.
//!
//! Files are read line by line: a line libssh2 cannot read (a key type it lacks,
//! `@cert-authority`) is skipped alone, so it cannot hide the lines after it.

use std::path::{Path, PathBuf};

use base64::Engine;
use ssh2::{CheckResult, KnownHostFileKind, Session};

use super::client_config::StrictHostKeys;

/// Bigger known_hosts files are not read past this.
const MAX_FILE: u64 = 16 << 20;

/// What the check concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Known,
    /// Not recorded; accepted (as DVC accepts it).
    Unknown,
    /// Recorded with another key and accepted (`StrictHostKeyChecking no`): say so, and do
    /// not send a password.
    ChangedAccepted(String),
    /// Refused: the message says why and what to do.
    Refused(String),
}

pub struct HostKeyCheck<'a> {
    /// The name keys are recorded under (host name or `HostKeyAlias`).
    pub name: &'a str,
    pub port: u16,
    pub files: &'a [PathBuf],
    pub strict: StrictHostKeys,
}

impl HostKeyCheck<'_> {
    pub fn run(&self, session: &Session) -> Verdict {
        let Some((key, _)) = session.host_key() else {
            return Verdict::Refused("the server sent no host key".to_string());
        };
        let Ok(mut known) = session.known_hosts() else {
            return self.unknown();
        };
        let mut read_any = Vec::new();
        for file in self.files {
            let Some(text) = read_bounded(file) else {
                continue;
            };
            read_any.push(file.display().to_string());
            for line in text.lines() {
                let line = line.trim();
                if line.is_empty() || line.starts_with('#') {
                    continue;
                }
                if let Some(rest) = line.strip_prefix("@revoked") {
                    if revoked_matches(rest, key) {
                        return Verdict::Refused(format!(
                            "the server's host key is marked @revoked in {}; do not connect \
                             until the server's administrator has replaced it",
                            file.display()
                        ));
                    }
                    continue;
                }
                if line.starts_with('@') {
                    continue;
                }
                let _ = known.read_str(line, KnownHostFileKind::OpenSSH);
            }
        }
        let shown = if self.port == 22 {
            self.name.to_string()
        } else {
            format!("[{}]:{}", self.name, self.port)
        };
        match known.check_port(self.name, self.port, key) {
            CheckResult::Match => Verdict::Known,
            CheckResult::Mismatch => {
                let what = format!(
                    "the host key of {shown} does not match the one recorded in {}",
                    read_any.join(", ")
                );
                if self.strict == StrictHostKeys::No {
                    Verdict::ChangedAccepted(format!(
                        "warning: {what}; connecting anyway (StrictHostKeyChecking no), \
                         password authentication disabled"
                    ))
                } else {
                    Verdict::Refused(format!(
                        "{what}; if the server was reinstalled, remove its old entry \
                         (ssh-keygen -R '{shown}'), otherwise someone may be impersonating it"
                    ))
                }
            }
            CheckResult::NotFound | CheckResult::Failure => self.unknown_named(&shown),
        }
    }

    fn unknown(&self) -> Verdict {
        let shown = self.name.to_string();
        self.unknown_named(&shown)
    }

    fn unknown_named(&self, shown: &str) -> Verdict {
        if self.strict == StrictHostKeys::Yes {
            let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
            Verdict::Refused(format!(
                "the host key of {shown} is not in {} and StrictHostKeyChecking is yes; \
                 connect once with `ssh` to check and record it",
                if files.is_empty() {
                    "any known_hosts file".to_string()
                } else {
                    files.join(", ")
                }
            ))
        } else {
            Verdict::Unknown
        }
    }
}

fn read_bounded(file: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(file).ok()?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// `@revoked <hosts> <type> <base64>`: whether the key is the server's (whatever the host
/// patterns: a revoked key is refused everywhere).
fn revoked_matches(rest: &str, key: &[u8]) -> bool {
    let mut fields = rest.split_whitespace();
    let (_hosts, _kind, blob) = (fields.next(), fields.next(), fields.next());
    blob.and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|b| b == key)
}
