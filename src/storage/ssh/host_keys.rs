//! The server's host key against the known_hosts files the configuration names
//! (`UserKnownHostsFile`, `GlobalKnownHostsFile`), looked up under the name `ssh` uses:
//! the host name the connection actually goes to (`[name]:port` when the port is not
//! 22), or the bare `HostKeyAlias`; never the URL's alias. `StrictHostKeyChecking`
//! decides what an unknown or changed key means.
//!
//! DVC checks no host key at all (sshfs passes `known_hosts=None`); git-dvc treats an
//! unknown host as `ssh` does where it can (`accept-new` and `no` record its key with
//! [`known_hosts_line`] and [`record`]; `ask` asks on a terminal), and in a hook, where
//! nobody can be asked, accepts it as DVC does; it refuses a key that contradicts what the
//! user recorded, and any key marked `@revoked`.
//!
//! The lines are matched here, as OpenSSH matches them (libssh2 compares names
//! literally): comma lists of patterns with `*` and `?`, `!negation`, hashed `|1|` names.
//! Only plain host keys are negotiated ([`RecordedKeys::host_key_methods`]), never host
//! certificates, so the key compared is the server's key itself and `@revoked` sees it;
//! `@cert-authority` lines are not used.

use std::path::{Path, PathBuf};

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};

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

/// The name host keys are recorded under, as `ssh` forms it: the bare `HostKeyAlias`
/// (whatever the port), else the host name, as `[name]:port` unless the port is 22.
pub fn lookup_name(hostname: &str, port: u16, alias: Option<&str>) -> String {
    match alias {
        Some(a) => a.to_ascii_lowercase(),
        None if port == 22 => hostname.to_ascii_lowercase(),
        None => format!("[{}]:{port}", hostname.to_ascii_lowercase()),
    }
}

pub struct HostKeyCheck<'a> {
    /// The name keys are recorded under ([`lookup_name`]).
    pub name: &'a str,
    pub files: &'a [PathBuf],
    pub strict: StrictHostKeys,
}

/// A key recorded for the host: where (the file, and `file:line`), and its wire blob.
struct Recorded {
    file: PathBuf,
    place: String,
    blob: Vec<u8>,
}

/// A `@revoked` key: where, and its blob.
struct Revoked {
    place: String,
    blob: Vec<u8>,
}

/// What the known_hosts files say about one host, read before the handshake (the key
/// types recorded decide which host key algorithms to ask for).
pub struct RecordedKeys {
    keys: Vec<Recorded>,
    revoked: Vec<Revoked>,
}

impl RecordedKeys {
    /// The host key algorithms to offer (`supported` is libssh2's list): plain keys only,
    /// those of the types recorded for the host first (as `ssh` orders them), so that a
    /// server holding the recorded key is asked for it.
    pub fn host_key_methods(&self, supported: &[&str]) -> String {
        let plain: Vec<&str> = supported
            .iter()
            .copied()
            .filter(|a| !a.contains("-cert-") && !a.contains("@openssh.com"))
            .collect();
        let recorded: Vec<String> = self
            .keys
            .iter()
            .filter_map(|k| blob_type(&k.blob))
            .collect();
        let (mut first, rest): (Vec<&str>, Vec<&str>) = plain
            .into_iter()
            .partition(|a| recorded.iter().any(|t| t == key_type_of_algorithm(a)));
        first.extend(rest);
        first.join(",")
    }
}

/// The key type (as in the key blob) an algorithm signs with.
fn key_type_of_algorithm(alg: &str) -> &str {
    match alg {
        "rsa-sha2-256" | "rsa-sha2-512" => "ssh-rsa",
        other => other,
    }
}

impl HostKeyCheck<'_> {
    /// Reads the files: the keys whose host patterns match [`Self::name`], and every
    /// `@revoked` key.
    pub fn recorded(&self) -> RecordedKeys {
        let mut out = RecordedKeys {
            keys: Vec::new(),
            revoked: Vec::new(),
        };
        for file in self.files {
            let Some(text) = read_bounded(file) else {
                continue;
            };
            for (n, line) in text.lines().enumerate() {
                let place = format!("{}:{}", file.display(), n + 1);
                match parse_line(line) {
                    Some(Line::Revoked { blob }) => out.revoked.push(Revoked { place, blob }),
                    Some(Line::Key { hosts, blob }) if host_matches(self.name, hosts) => {
                        out.keys.push(Recorded {
                            file: file.clone(),
                            place,
                            blob,
                        })
                    }
                    _ => {}
                }
            }
        }
        out
    }

    /// The verdict on the key the server showed (`key`: its wire blob).
    pub fn judge(&self, recorded: &RecordedKeys, key: &[u8]) -> Verdict {
        if let Some(r) = recorded.revoked.iter().find(|r| r.blob == key) {
            return Verdict::Refused(format!(
                "the server's host key is marked @revoked ({}); do not connect until the \
                 server's administrator has replaced it",
                r.place
            ));
        }
        if recorded.keys.iter().any(|k| k.blob == key) {
            return Verdict::Known;
        }
        if recorded.keys.is_empty() {
            return self.unknown();
        }
        let places: Vec<&str> = recorded.keys.iter().map(|k| k.place.as_str()).collect();
        let what = format!(
            "the host key of {} does not match the one recorded ({})",
            self.name,
            places.join(", ")
        );
        if self.strict == StrictHostKeys::No {
            Verdict::ChangedAccepted(format!(
                "warning: {what}; connecting anyway (StrictHostKeyChecking no), password \
                 authentication disabled"
            ))
        } else {
            // One command per file holding an entry: `ssh-keygen -R` alone edits only
            // ~/.ssh/known_hosts.
            let mut files: Vec<&Path> = recorded.keys.iter().map(|k| k.file.as_path()).collect();
            files.dedup();
            let commands: Vec<String> = files
                .iter()
                .map(|f| format!("ssh-keygen -R '{}' -f '{}'", self.name, f.display()))
                .collect();
            Verdict::Refused(format!(
                "{what}; if the server was reinstalled, remove its old entry \
                 ({}), otherwise someone may be impersonating it",
                commands.join("; ")
            ))
        }
    }

    fn unknown(&self) -> Verdict {
        if self.strict == StrictHostKeys::Yes {
            let files: Vec<String> = self.files.iter().map(|f| f.display().to_string()).collect();
            Verdict::Refused(format!(
                "the host key of {} is not in {} and StrictHostKeyChecking is yes; connect \
                 once with `ssh` to check and record it",
                self.name,
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

/// The known_hosts line `ssh` appends for a newly accepted key: the name (hashed as
/// `|1|salt|hmac` with `HashKnownHosts yes`), the key type and the key.
pub fn known_hosts_line(name: &str, key: &[u8], hashed: bool) -> Option<String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let kind = blob_type(key)?;
    let host = if hashed {
        let salt: [u8; 20] = rand::random();
        let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&salt).ok()?;
        mac.update(name.as_bytes());
        format!(
            "|1|{}|{}",
            b64.encode(salt),
            b64.encode(mac.finalize().into_bytes())
        )
    } else {
        name.to_string()
    };
    Some(format!("{host} {kind} {}\n", b64.encode(key)))
}

/// The key type of a wire blob, for messages (`ssh-ed25519`).
pub fn key_type(key: &[u8]) -> String {
    blob_type(key).unwrap_or_else(|| "unknown key type".to_string())
}

/// Appends `line` to `file` as `ssh` records a host key, creating the directory (mode
/// 0700, as `ssh` creates ~/.ssh) when it is missing.
pub fn record(file: &Path, line: &str) -> std::io::Result<()> {
    use std::io::{Read, Seek, SeekFrom, Write};
    use std::os::unix::fs::DirBuilderExt;
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
    }
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(file)?;
    // A last line without its newline would swallow ours.
    let mut text = String::new();
    if f.seek(SeekFrom::End(0))? > 0 {
        f.seek(SeekFrom::End(-1))?;
        let mut last = [0u8; 1];
        f.read_exact(&mut last)?;
        if last[0] != b'\n' {
            text.push('\n');
        }
    }
    text.push_str(line);
    f.write_all(text.as_bytes())
}

enum Line<'a> {
    Key { hosts: &'a str, blob: Vec<u8> },
    Revoked { blob: Vec<u8> },
}

/// `[@marker] hosts type base64 [comment]`; None for comments, `@cert-authority` and
/// lines that do not parse.
fn parse_line(line: &str) -> Option<Line<'_>> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = line.split_whitespace();
    let mut first = fields.next()?;
    let marker = first.strip_prefix('@');
    if marker.is_some() {
        first = fields.next()?;
    }
    let (_kind, b64) = (fields.next()?, fields.next()?);
    let blob = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    match marker {
        None => Some(Line::Key { hosts: first, blob }),
        Some("revoked") => Some(Line::Revoked { blob }),
        Some(_) => None,
    }
}

/// Whether a known_hosts host field names `name` (lower case): a hashed `|1|salt|hash`,
/// or a comma list of patterns where a matching `!pattern` excludes the line.
fn host_matches(name: &str, field: &str) -> bool {
    if let Some(hashed) = field.strip_prefix("|1|") {
        return hashed_matches(name, hashed);
    }
    let mut positive = false;
    for pattern in field.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        if wildcard_match(name.as_bytes(), pattern.to_ascii_lowercase().as_bytes()) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// `salt|hash` (both base64): HMAC-SHA1 of the name keyed by the salt.
fn hashed_matches(name: &str, hashed: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let Some((salt, hash)) = hashed.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (b64.decode(salt), b64.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// OpenSSH's `match_pattern`: `*` any run, `?` any one byte, everything else literal.
fn wildcard_match(text: &[u8], pattern: &[u8]) -> bool {
    let (mut t, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == b'?' || pattern[p] == text[t]) {
            t += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// The key type named at the start of a wire blob (`string type, ...`).
fn blob_type(blob: &[u8]) -> Option<String> {
    let len = u32::from_be_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    let name = blob.get(4..4usize.checked_add(len)?)?;
    String::from_utf8(name.to_vec()).ok()
}

fn read_bounded(file: &Path) -> Option<String> {
    use std::io::Read;
    let f = std::fs::File::open(file).ok()?;
    let mut bytes = Vec::new();
    f.take(MAX_FILE).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_as_openssh_matches_them() {
        assert!(host_matches("[127.0.0.1]:2222", "[127.0.0.1]:*"));
        assert!(host_matches("[127.0.0.1]:2222", "*"));
        assert!(host_matches("[127.0.0.1]:2222", "other,[127.0.0.?]:2222"));
        assert!(!host_matches("[127.0.0.1]:2222", "*,![127.0.0.1]:*"));
        assert!(!host_matches("[127.0.0.1]:2222", "127.0.0.1"));
        assert!(host_matches("127.0.0.1", "127.0.0.1"));
        assert!(host_matches("store.example", "*.EXAMPLE"));
        assert!(!host_matches("store.example", "!store.example"));
        assert!(!host_matches("store.example", "store.exampl"));
        assert!(wildcard_match(b"abcbd", b"a*bd"));
        assert!(!wildcard_match(b"abcbde", b"a*bd"));
    }

    #[test]
    fn hashed_names() {
        // `ssh-keygen -H` of "[127.0.0.1]:2222" with this salt.
        let b64 = base64::engine::general_purpose::STANDARD;
        let salt = b"0123456789abcdefghij";
        let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(salt).unwrap();
        mac.update(b"[127.0.0.1]:2222");
        let hash = mac.finalize().into_bytes();
        let field = format!("|1|{}|{}", b64.encode(salt), b64.encode(hash));
        assert!(host_matches("[127.0.0.1]:2222", &field));
        assert!(!host_matches("[127.0.0.1]:2223", &field));
    }

    #[test]
    fn recorded_lines_are_found_again() {
        let mut blob = 11u32.to_be_bytes().to_vec();
        blob.extend_from_slice(b"ssh-ed25519");
        blob.extend_from_slice(&[0, 0, 0, 1, 7]);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("new/.ssh/known_hosts");
        let plain = known_hosts_line("[127.0.0.1]:2222", &blob, false).unwrap();
        assert!(
            plain.starts_with("[127.0.0.1]:2222 ssh-ed25519 "),
            "{plain}"
        );
        let hashed = known_hosts_line("store", &blob, true).unwrap();
        assert!(
            hashed.starts_with("|1|") && !hashed.contains("store"),
            "{hashed}"
        );
        record(&file, &plain).unwrap();
        std::fs::write(&file, std::fs::read_to_string(&file).unwrap().trim_end()).unwrap();
        record(&file, &hashed).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
        for name in ["[127.0.0.1]:2222", "store"] {
            let check = HostKeyCheck {
                name,
                files: std::slice::from_ref(&file),
                strict: StrictHostKeys::Yes,
            };
            assert_eq!(check.judge(&check.recorded(), &blob), Verdict::Known);
        }
    }

    #[test]
    fn lookup_names_as_ssh_forms_them() {
        assert_eq!(lookup_name("Store", 22, None), "store");
        assert_eq!(lookup_name("127.0.0.1", 2222, None), "[127.0.0.1]:2222");
        assert_eq!(lookup_name("127.0.0.1", 2222, Some("alias")), "alias");
    }

    #[test]
    fn plain_methods_recorded_types_first() {
        let mut blob = 7u32.to_be_bytes().to_vec();
        blob.extend_from_slice(b"ssh-rsa");
        let r = RecordedKeys {
            keys: vec![Recorded {
                file: PathBuf::new(),
                place: String::new(),
                blob,
            }],
            revoked: Vec::new(),
        };
        let supported = [
            "ssh-ed25519-cert-v01@openssh.com",
            "ssh-ed25519",
            "rsa-sha2-512",
            "ssh-rsa",
        ];
        assert_eq!(
            r.host_key_methods(&supported),
            "rsa-sha2-512,ssh-rsa,ssh-ed25519"
        );
    }
}
