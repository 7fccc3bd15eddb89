//! Without an `ssh` program: the `Host` blocks of `~/.ssh/config` (`HostName`, `User`,
//! `Port`, `IdentityFile`; first value wins; `%h` in `HostName`), `Match` blocks skipped.
//! What git-dvc read before it asked `ssh -G`, kept for machines with no OpenSSH client.

use std::path::{Path, PathBuf};

use super::client_config::{
    Agent, ClientConfig, Context, IdentityFile, Query, Route, StrictHostKeys,
};

/// Without an `ssh` program: `Host` blocks of the user config (first value wins; `%h` in
/// `HostName`); `Match` blocks are skipped.
pub(super) fn fallback(query: &Query, ctx: &Context) -> ClientConfig {
    let home = ctx.tilde();
    let entry = home
        .map(|h| h.join(".ssh/config"))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|text| read_host_blocks(&text, &query.host, home))
        .unwrap_or_default();
    let mut identity_files: Vec<IdentityFile> = entry
        .identity_files
        .into_iter()
        .map(|path| IdentityFile {
            path,
            configured: true,
        })
        .collect();
    if identity_files.is_empty() {
        if let Some(h) = home {
            for name in ["id_ed25519", "id_ecdsa", "id_rsa"] {
                identity_files.push(IdentityFile {
                    path: h.join(".ssh").join(name),
                    configured: false,
                });
            }
        }
    }
    ClientConfig {
        hostname: entry.hostname.unwrap_or_else(|| query.host.clone()),
        port: query.port.or(entry.port).unwrap_or(22),
        user: query
            .user
            .clone()
            .or(entry.user)
            .unwrap_or_else(|| ctx.local_user.clone()),
        identity_files,
        agent: Agent::FromEnvironment,
        known_hosts_files: home
            .map(|h| vec![h.join(".ssh/known_hosts")])
            .unwrap_or_default(),
        record_file: home.map(|h| h.join(".ssh/known_hosts")),
        hash_known_hosts: false,
        strict_host_keys: StrictHostKeys::Ask,
        host_key_alias: None,
        connect_timeout: None,
        route: Route::Direct,
        batch_mode: false,
        identities_only: false,
        config_file: None,
        from_ssh: false,
    }
}

/// What the `Host` blocks of a config say about one host.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct HostEntry {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub identity_files: Vec<PathBuf>,
}

/// The minimal reader used without an `ssh` program.
pub fn read_host_blocks(text: &str, host: &str, home: Option<&Path>) -> HostEntry {
    let mut entry = HostEntry::default();
    let mut active = true;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = match line.find(|c: char| c == '=' || c.is_whitespace()) {
            Some(i) => (
                &line[..i],
                line[i..].trim_start_matches(|c: char| c == '=' || c.is_whitespace()),
            ),
            None => (line, ""),
        };
        let value = value.trim().trim_matches('"');
        match key.to_ascii_lowercase().as_str() {
            "host" => {
                let mut matched = false;
                for pattern in value.split_whitespace() {
                    if let Some(neg) = pattern.strip_prefix('!') {
                        if glob_match(neg, host) {
                            matched = false;
                            break;
                        }
                    } else if glob_match(pattern, host) {
                        matched = true;
                    }
                }
                active = matched;
            }
            "match" => active = false,
            _ if !active => {}
            "hostname" if entry.hostname.is_none() => {
                entry.hostname = Some(value.replace("%h", host));
            }
            "user" if entry.user.is_none() => entry.user = Some(value.to_string()),
            "port" if entry.port.is_none() => entry.port = value.parse().ok(),
            "identityfile" => entry
                .identity_files
                .push(match (value.strip_prefix("~/"), home) {
                    (Some(rest), Some(h)) => h.join(rest),
                    _ => PathBuf::from(value),
                }),
            _ => {}
        }
    }
    entry
}

/// OpenSSH's pattern match: `*` any run, `?` one character.
fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_blocks_fallback() {
        let text = "Host other\n  User nobody\n\nHost data*  !dataX\n  HostName 127.0.0.1\n  Port 2022\n  User dvc\n  IdentityFile ~/.ssh/dvc_key\n\nHost *\n  User fallback\n  Port 9\n";
        let e = read_host_blocks(text, "datahost", Some(Path::new("/h")));
        assert_eq!(e.hostname.as_deref(), Some("127.0.0.1"));
        assert_eq!((e.port, e.user.as_deref()), (Some(2022), Some("dvc")));
        assert_eq!(e.identity_files, vec![PathBuf::from("/h/.ssh/dvc_key")]);
        let e = read_host_blocks(text, "dataX", None);
        assert_eq!(
            (e.hostname, e.user.as_deref(), e.port),
            (None, Some("fallback"), Some(9))
        );
        assert!(glob_match("d?ta*", "data.example"));
        assert!(!glob_match("d?ta", "daata"));
    }
}
