//! `webdav://host/path` and `webdavs://host/path` remotes (plain `http(s)://` underneath,
//! as DVC maps them), through opendal's WebDAV service: the same runtime, request
//! counting, error classification and upload policy as the object stores, and opendal
//! already sends `MKCOL` for missing collections and `MOVE` for renames.
//!
//! | option | effect |
//! | --- | --- |
//! | `token` | `Authorization: Bearer <token>` (nothing else is sent) |
//! | `user` (or `user@` in the URL), `password` | else HTTP Basic |
//! | `custom_auth_header` | else the header that carries `password` |
//! | `ask_password` | a missing password is asked for on the terminal, as DVC asks; in a hook or without a terminal, an error says how to store it |
//! | `ssl_verify` | `false`, or a CA bundle path |
//! | `timeout` | seconds (default 30, as DVC) |
//!
//! Every object is PUT to a `.<random>.tmp` name beside its own and then MOVEd (DVC PUTs
//! to the final name): some servers (wsgidav) write a PUT in place, so a cut-off upload
//! would otherwise leave a partial object under the final name. The body goes in one
//! request at any size, read and verified first: opendal's WebDAV writer takes one body.

use opendal::services::Webdav;
use opendal::Operator;

use super::ask_password::{self, Alternative};
use super::object_store::{root_for, HttpSettings, LargeUploads, ObjectStore, ObjectStoreSpec};
use super::{option_bool, option_str, redact_url, StorageError};
use crate::dvc::config::RemoteConfig;

/// Options DVC knows that git-dvc does not implement: refused rather than ignored.
const UNSUPPORTED: &[&str] = &["cert_path", "key_path", "bearer_token_command"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebdavSettings {
    /// `http(s)://host[:port]`.
    pub endpoint: String,
    pub root: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub token: Option<String>,
    pub custom_auth_header: Option<String>,
}

fn config_error(remote: &RemoteConfig, message: String) -> StorageError {
    StorageError::config(&remote.name, message)
}

impl WebdavSettings {
    pub fn from_remote(remote: &RemoteConfig) -> Result<WebdavSettings, StorageError> {
        for key in UNSUPPORTED {
            if remote.options.contains_key(*key) {
                return Err(config_error(
                    remote,
                    format!("option '{key}' is not supported by git-dvc; use `dvc push`"),
                ));
            }
        }
        let (scheme, rest) = remote
            .url
            .split_once("://")
            .ok_or_else(|| config_error(remote, format!("'{}' is not a URL", remote.url)))?;
        let http_scheme = match scheme {
            "webdav" => "http",
            "webdavs" => "https",
            other => return Err(config_error(remote, format!("'{other}://' is not WebDAV"))),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let (url_user, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (
                Some(userinfo.split(':').next().unwrap_or(userinfo).to_string()),
                host,
            ),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(config_error(
                remote,
                format!("'{}' names no host", remote.url),
            ));
        }
        let user = option_str(remote, "user").map(str::to_string).or(url_user);
        let mut password = option_str(remote, "password").map(str::to_string);
        let token = option_str(remote, "token").map(str::to_string);
        let custom_auth_header = option_str(remote, "custom_auth_header").map(str::to_string);
        // dvc-webdav: a token needs nothing else; a user (else a custom header) without
        // a password gets one asked for, under that name, at `http(s)://<netloc>`.
        let asks_as = match (&token, &user, &custom_auth_header) {
            (Some(_), _, _) => None,
            (None, Some(user), _) => Some(user.clone()),
            (None, None, Some(header)) => Some(header.clone()),
            (None, None, None) => None,
        };
        if let Some(asks_as) = asks_as {
            if password.is_none() && option_bool(remote, "ask_password")? == Some(true) {
                password = Some(ask_password::ask(
                    &remote.name,
                    &format!("{http_scheme}://{authority}"),
                    &asks_as,
                    Alternative::PasswordOrToken,
                )?);
            }
        }
        Ok(WebdavSettings {
            endpoint: format!("{http_scheme}://{host}"),
            root: root_for(path.trim_matches('/')),
            user,
            password,
            token,
            custom_auth_header,
        })
    }

    /// Authentication in dvc-webdav's order: a token (Bearer), else the user with Basic,
    /// else the custom header ([`Self::extra_headers`]).
    fn builder(&self) -> Webdav {
        let mut b = Webdav::default().endpoint(&self.endpoint).root(&self.root);
        if let Some(t) = &self.token {
            b = b.token(t);
        } else if let Some(u) = &self.user {
            b = b.username(u);
            if let Some(p) = &self.password {
                b = b.password(p);
            }
        }
        b
    }

    /// `custom_auth_header: password` on every request, as dvc-webdav sends it.
    fn extra_headers(
        &self,
        remote: &RemoteConfig,
    ) -> Result<Vec<(http::HeaderName, http::HeaderValue)>, StorageError> {
        let (Some(name), None, None) = (&self.custom_auth_header, &self.token, &self.user) else {
            return Ok(Vec::new());
        };
        let name = http::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            config_error(
                remote,
                format!("custom_auth_header '{name}' is not a header name"),
            )
        })?;
        let password = self.password.as_deref().ok_or_else(|| {
            config_error(
                remote,
                "custom_auth_header needs the password option".to_string(),
            )
        })?;
        let mut value = http::HeaderValue::from_str(password).map_err(|_| {
            config_error(
                remote,
                "the password is not a valid header value".to_string(),
            )
        })?;
        value.set_sensitive(true);
        Ok(vec![(name, value)])
    }
}

pub fn open(remote: &RemoteConfig) -> Result<ObjectStore, StorageError> {
    let settings = WebdavSettings::from_remote(remote)?;
    let op = Operator::new(settings.builder()).map_err(|e| {
        config_error(
            remote,
            format!("cannot set up WebDAV access: {}", e.message()),
        )
    })?;
    let hint = "the remote's user and password, token or custom_auth_header options, and that \
                the account may create collections and files there"
        .to_string();
    ObjectStore::new(
        ObjectStoreSpec {
            remote: remote.name.clone(),
            url: redact_url(&remote.url),
            denied_hint: hint,
            prefix_len: Some(2),
            through_temporary_name: true,
            large_uploads: LargeUploads::Whole,
            name_as_content_md5: false,
            content_types: super::object_store::ContentTypes::None,
            http: HttpSettings::from_remote(remote, "timeout", super::tls::Client::Httpx)?,
            extra_headers: settings.extra_headers(remote)?,
            s3_signer: None,
        },
        op,
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remote(url: &str, opts: &[(&str, &str)]) -> RemoteConfig {
        RemoteConfig {
            name: "dav".into(),
            url: url.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn schemes_map_to_http() {
        let s = WebdavSettings::from_remote(&remote("webdav://h:8080/a/b", &[])).unwrap();
        assert_eq!(s.endpoint, "http://h:8080");
        assert_eq!(s.root, "/a/b/");
        let s = WebdavSettings::from_remote(&remote("webdavs://bob@h/dav", &[("password", "pw")]))
            .unwrap();
        assert_eq!(s.endpoint, "https://h");
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert_eq!(s.root, "/dav/");
        let s =
            WebdavSettings::from_remote(&remote("webdav://bob@h/", &[("user", "alice")])).unwrap();
        assert_eq!(s.user.as_deref(), Some("alice"));
        assert_eq!(s.root, "/");
    }

    #[test]
    fn custom_header_carries_password() {
        let r = remote(
            "webdav://h/x",
            &[("custom_auth_header", "X-Token"), ("password", "s3cret")],
        );
        let s = WebdavSettings::from_remote(&r).unwrap();
        let h = s.extra_headers(&r).unwrap();
        assert_eq!(h[0].0.as_str(), "x-token");
        assert_eq!(h[0].1.to_str().unwrap(), "s3cret");
        let r = remote("webdav://h/x", &[("custom_auth_header", "X-Token")]);
        assert!(WebdavSettings::from_remote(&r)
            .unwrap()
            .extra_headers(&r)
            .is_err());
    }

    /// dvc-webdav's order: a token alone, else Basic for the user (the custom header is
    /// then not sent), else the custom header.
    #[test]
    fn token_then_user_then_custom_header() {
        let r = remote(
            "webdav://bob@h/x",
            &[
                ("custom_auth_header", "X-Token"),
                ("password", "pw"),
                ("token", "t"),
            ],
        );
        let s = WebdavSettings::from_remote(&r).unwrap();
        assert!(s.extra_headers(&r).unwrap().is_empty());
        let r = remote(
            "webdav://bob@h/x",
            &[("custom_auth_header", "X-Token"), ("password", "pw")],
        );
        let s = WebdavSettings::from_remote(&r).unwrap();
        assert_eq!(s.user.as_deref(), Some("bob"));
        assert!(s.extra_headers(&r).unwrap().is_empty());
    }

    /// Unit tests run as a hook would (no prompts): `ask_password` without a password
    /// fails and says how to store it; with a password, nothing is asked.
    #[test]
    fn ask_password_never_prompts_unattended() {
        let r = remote(
            "webdavs://h:8443/x",
            &[("user", "alice"), ("ask_password", "true")],
        );
        let e = WebdavSettings::from_remote(&r).unwrap_err();
        assert!(e.config, "{}", e.message);
        assert!(
            e.message.contains("does not prompt in a hook"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("dvc remote modify --local dav password <password>"),
            "{}",
            e.message
        );
        let r = remote(
            "webdavs://h:8443/x",
            &[
                ("user", "alice"),
                ("ask_password", "true"),
                ("password", "pw"),
            ],
        );
        assert_eq!(
            WebdavSettings::from_remote(&r).unwrap().password.as_deref(),
            Some("pw")
        );
    }

    #[test]
    fn unsupported_options_are_refused() {
        let e = WebdavSettings::from_remote(&remote("webdav://h/x", &[("cert_path", "/c")]))
            .unwrap_err();
        assert!(e.message.contains("cert_path"));
    }
}
