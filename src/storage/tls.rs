//! Which certificates a remote's HTTPS connections trust: as DVC's client for that remote
//! type trusts them (DVC 3.67.1 and the libraries it installs), so a server `dvc push`
//! accepts is accepted here, and one it refuses is refused.
//!
//! | remote | `ssl_verify` unset | `ssl_verify = <path>` | `false` |
//! | --- | --- | --- | --- |
//! | S3 (botocore) | `AWS_CA_BUNDLE`, else the profile's `ca_bundle` in the AWS config file, else `REQUESTS_CA_BUNDLE`, else the system's roots | that bundle only | no check |
//! | HTTP(S) (aiohttp) | the system's roots | the system's roots and that bundle | no check |
//! | WebDAV (httpx) | `SSL_CERT_FILE`, else `SSL_CERT_DIR`, else the system's roots | that bundle only | no check |
//! | Azure, GCS (aiohttp) | the system's roots (no `ssl_verify` option) | | |
//!
//! "The system's roots" are the OS store, or `SSL_CERT_FILE`/`SSL_CERT_DIR` when set, as
//! OpenSSL finds them. `ssl_verify = true` on S3 means exactly that (botocore then ignores
//! `AWS_CA_BUNDLE` and `REQUESTS_CA_BUNDLE`). `REQUESTS_CA_BUNDLE` is botocore's alone
//! (aiohttp and httpx do not read it), and `CURL_CA_BUNDLE` is read by none of DVC's
//! clients. One difference: where botocore and httpx fall back to
//! certifi's copy of Mozilla's roots, git-dvc uses the system's roots (on most systems
//! the same list).
//!
//! A certificate that is its own CA (`basicConstraints CA:TRUE`, as `openssl req -x509`
//! makes by default) is accepted as a server's certificate when it is itself one of the
//! trusted certificates and names the host, as OpenSSL accepts it; WebPKI alone refuses
//! a CA certificate in that place.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use super::{ErrorKind, StorageError};

/// Which DVC client a remote type goes through (their trust rules differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// botocore: `s3://`.
    Botocore,
    /// aiohttp: `http(s)://`, and Azure and GCS, which have no `ssl_verify`.
    Aiohttp,
    /// httpx: `webdav(s)://`.
    Httpx,
}

/// What a remote's connections trust.
#[derive(Debug, Clone)]
pub enum Trust {
    /// `ssl_verify = false`: no check at all.
    Insecure,
    /// The system's roots, plus certificates from `extra` (a bundle file or directory).
    System { extra: Option<String> },
    /// Only the certificates of a bundle file (or directory).
    Only(String),
}

impl Trust {
    /// The trust for a remote of `client`'s type with option `ssl_verify`; `env` reads
    /// environment variables, `profile_ca_bundle` is the AWS profile's `ca_bundle`.
    pub fn for_client(
        client: Client,
        ssl_verify: Option<&str>,
        env: &dyn Fn(&str) -> Option<String>,
        profile_ca_bundle: Option<&str>,
    ) -> Trust {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        match ssl_verify.map(str::trim) {
            Some(v) if v.eq_ignore_ascii_case("false") => return Trust::Insecure,
            Some(v) if v.eq_ignore_ascii_case("true") => return Trust::System { extra: None },
            Some(path) if !path.is_empty() => {
                return match client {
                    Client::Aiohttp => Trust::System {
                        extra: Some(path.to_string()),
                    },
                    Client::Botocore | Client::Httpx => Trust::Only(path.to_string()),
                }
            }
            _ => {}
        }
        let bundle = match client {
            // botocore: the `ca_bundle` setting (variable, then profile), then the
            // variable it honours for requests' sake (`Endpoint._get_verify_value`).
            Client::Botocore => var("AWS_CA_BUNDLE")
                .or_else(|| {
                    profile_ca_bundle
                        .filter(|b| !b.is_empty())
                        .map(str::to_string)
                })
                .or_else(|| var("REQUESTS_CA_BUNDLE")),
            Client::Httpx => var("SSL_CERT_FILE").or_else(|| var("SSL_CERT_DIR")),
            Client::Aiohttp => None,
        };
        match bundle {
            Some(bundle) => Trust::Only(bundle),
            None => Trust::System { extra: None },
        }
    }

    /// The rustls configuration for it; `None` for [`Trust::Insecure`], which the
    /// caller sets up with its client's own switch.
    pub fn client_config(&self) -> Result<Option<rustls::ClientConfig>, StorageError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let (inner, anchors): (Arc<dyn ServerCertVerifier>, Anchors) = match self {
            Trust::Insecure => return Ok(None),
            Trust::System { extra } => {
                let extra = match extra {
                    Some(path) => read_bundle(path)?,
                    None => Vec::new(),
                };
                let verifier = if extra.is_empty() {
                    rustls_platform_verifier::Verifier::new(provider.clone())
                } else {
                    rustls_platform_verifier::Verifier::new_with_extra_roots(
                        extra.clone(),
                        provider.clone(),
                    )
                }
                .map_err(|e| setup_error(format!("cannot load the system's certificates: {e}")))?;
                (Arc::new(verifier), Anchors::SystemAnd(extra))
            }
            Trust::Only(path) => {
                let certs = read_bundle(path)?;
                let mut roots = rustls::RootCertStore::empty();
                let (added, _) = roots.add_parsable_certificates(certs.iter().cloned());
                if added == 0 {
                    return Err(setup_error(format!(
                        "ssl_verify: {path} holds no certificate git-dvc can use"
                    )));
                }
                let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider.clone(),
                )
                .build()
                .map_err(|e| setup_error(format!("ssl_verify: {path}: {e}")))?;
                (verifier, Anchors::Only(certs))
            }
        };
        let verifier = SelfTrustingVerifier { inner, anchors };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| setup_error(format!("cannot set up TLS: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Some(config))
    }
}

fn setup_error(message: String) -> StorageError {
    StorageError::new(ErrorKind::Other, message)
}

/// Every certificate in a PEM bundle file, or in the files of a directory (as OpenSSL's
/// `capath`, read whole).
pub fn read_bundle(path: &str) -> Result<Vec<CertificateDer<'static>>, StorageError> {
    let unreadable = |e: &dyn std::fmt::Display| {
        setup_error(format!("ssl_verify: cannot read the CA bundle {path}: {e}"))
    };
    let meta = std::fs::metadata(path).map_err(|e| unreadable(&e))?;
    let files: Vec<std::path::PathBuf> = if meta.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| unreadable(&e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files
    } else {
        vec![Path::new(path).to_path_buf()]
    };
    let mut certs = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| unreadable(&e))?;
        certs.extend(CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok));
    }
    if certs.is_empty() && !meta.is_dir() {
        return Err(setup_error(format!(
            "ssl_verify: {path} is not a PEM CA bundle (no certificate in it)"
        )));
    }
    Ok(certs)
}

/// The certificates a server's own certificate may be one of.
#[derive(Debug)]
enum Anchors {
    /// The system's roots (read when first needed) and these.
    SystemAnd(Vec<CertificateDer<'static>>),
    Only(Vec<CertificateDer<'static>>),
}

impl Anchors {
    fn contains(&self, cert: &CertificateDer<'_>) -> bool {
        let (extra, system) = match self {
            Anchors::SystemAnd(extra) => (extra, true),
            Anchors::Only(certs) => (certs, false),
        };
        extra.iter().any(|c| c.as_ref() == cert.as_ref())
            || (system && system_roots().iter().any(|c| c.as_ref() == cert.as_ref()))
    }
}

/// The system's roots as OpenSSL finds them (`SSL_CERT_FILE`/`SSL_CERT_DIR` honoured).
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: OnceLock<Vec<CertificateDer<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// WebPKI (through `inner`), and OpenSSL's one extra rule: a server certificate that is
/// itself a trusted certificate needs no chain, even when it is a CA certificate.
#[derive(Debug)]
struct SelfTrustingVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    anchors: Anchors,
}

/// Whether WebPKI refused the certificate for being a CA certificate, which it checks
/// after the validity period (so the period was fine).
fn is_ca_used_as_end_entity(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(CertificateError::Other(other)) => other
            .0
            .downcast_ref::<webpki::Error>()
            .is_some_and(|w| matches!(w, webpki::Error::CaUsedAsEndEntity)),
        _ => false,
    }
}

impl ServerCertVerifier for SelfTrustingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(e) if is_ca_used_as_end_entity(&e) && self.anchors.contains(end_entity) => {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    fn describe(t: Trust) -> String {
        match t {
            Trust::Insecure => "insecure".into(),
            Trust::System { extra: None } => "system".into(),
            Trust::System { extra: Some(p) } => format!("system+{p}"),
            Trust::Only(p) => format!("only {p}"),
        }
    }

    #[test]
    fn each_client_trusts_what_dvcs_trusts() {
        let all: &[(&str, &str)] = &[
            ("AWS_CA_BUNDLE", "/aws.pem"),
            ("SSL_CERT_FILE", "/ssl.pem"),
            ("REQUESTS_CA_BUNDLE", "/requests.pem"),
        ];
        let vars = env(Box::leak(all.to_vec().into_boxed_slice()));
        let t = |client, ssl_verify, profile| {
            describe(Trust::for_client(client, ssl_verify, &vars, profile))
        };
        assert_eq!(t(Client::Botocore, None, None), "only /aws.pem");
        assert_eq!(t(Client::Botocore, Some("/own.pem"), None), "only /own.pem");
        assert_eq!(t(Client::Botocore, Some("True"), None), "system");
        assert_eq!(t(Client::Botocore, Some("false"), None), "insecure");
        assert_eq!(t(Client::Aiohttp, None, None), "system");
        assert_eq!(
            t(Client::Aiohttp, Some("/own.pem"), None),
            "system+/own.pem"
        );
        assert_eq!(t(Client::Httpx, None, None), "only /ssl.pem");
        assert_eq!(t(Client::Httpx, Some("/own.pem"), None), "only /own.pem");
        let none = env(&[]);
        assert_eq!(
            describe(Trust::for_client(
                Client::Botocore,
                None,
                &none,
                Some("/profile.pem")
            )),
            "only /profile.pem"
        );
        assert_eq!(
            describe(Trust::for_client(Client::Httpx, Some(""), &none, None)),
            "system"
        );
    }

    /// A certificate made by `openssl req -x509` for `san`: self-signed, and its own CA
    /// (`basicConstraints CA:TRUE`). Returns (cert path, key path).
    pub(crate) fn self_signed(dir: &Path, name: &str, san: &str) -> (String, String) {
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        let status = std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .arg("ec_paramgen_curve:prime256v1")
            .args(["-nodes", "-days", "2", "-subj", "/CN=git-dvc test"])
            .arg("-addext")
            .arg(format!("subjectAltName={san}"))
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stderr(std::process::Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl req -x509 failed");
        (
            cert.to_str().unwrap().to_string(),
            key.to_str().unwrap().to_string(),
        )
    }

    /// A TLS server on 127.0.0.1 presenting `cert`, answering one request `200 OK`.
    pub(crate) fn tls_server(cert: &str, key: &str) -> (u16, std::thread::JoinHandle<()>) {
        use rustls_pki_types::PrivateKeyDer;
        use std::io::{Read, Write};
        let certs: Vec<_> = CertificateDer::pem_file_iter(cert)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let key = PrivateKeyDer::from_pem_file(key).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            let conn = rustls::ServerConnection::new(Arc::new(config)).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") {
                match tls.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => return, // the client refused the certificate
                }
            }
            let _ =
                tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = tls.flush();
        });
        (port, handle)
    }

    /// What a GET to the server at `host` gives with `trust`: the status, or the error.
    fn get(trust: &Trust, cert: &str, key: &str, host: &str) -> Result<u16, String> {
        let (port, server) = tls_server(cert, key);
        let mut builder = reqwest::blocking::Client::builder();
        match trust.client_config().map_err(|e| e.message)? {
            None => builder = builder.tls_danger_accept_invalid_certs(true),
            Some(tls) => builder = builder.tls_backend_preconfigured(tls),
        }
        let client = builder
            .resolve(host, ([127, 0, 0, 1], port).into())
            .build()
            .unwrap();
        let result = client
            .get(format!("https://{host}:{port}/x"))
            .send()
            .map(|r| r.status().as_u16())
            .map_err(|e| format!("{:?}", e));
        drop(client);
        server.join().unwrap();
        result
    }

    /// The certificate DVC's clients accept (OpenSSL trusts a certificate that is itself
    /// in the trust store) is accepted; a stranger, a wrong name or no bundle is not.
    #[test]
    fn a_self_signed_certificate_that_is_its_own_ca() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = self_signed(dir.path(), "server", "IP:127.0.0.1,DNS:localhost");
        let (other, _) = self_signed(dir.path(), "other", "IP:127.0.0.1,DNS:localhost");
        let only = |p: &str| Trust::Only(p.to_string());
        assert_eq!(get(&only(&cert), &cert, &key, "localhost"), Ok(200));
        assert_eq!(get(&only(&cert), &cert, &key, "127.0.0.1"), Ok(200));
        let plus = Trust::System {
            extra: Some(cert.clone()),
        };
        assert_eq!(get(&plus, &cert, &key, "localhost"), Ok(200));
        // Its own CA, but not trusted: refused.
        let e = get(&only(&other), &cert, &key, "localhost").unwrap_err();
        assert!(e.contains("InvalidCertificate"), "{e}");
        let e = get(&Trust::System { extra: None }, &cert, &key, "localhost").unwrap_err();
        assert!(e.contains("InvalidCertificate"), "{e}");
        // Trusted, but for another name: refused, as OpenSSL's hostname check does.
        let e = get(&only(&cert), &cert, &key, "example.test").unwrap_err();
        assert!(e.contains("NotValidForName"), "{e}");
        // ssl_verify = false takes anything.
        assert_eq!(get(&Trust::Insecure, &cert, &key, "example.test"), Ok(200));
    }

    #[test]
    fn bundles_must_hold_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").unwrap();
        let e = read_bundle(empty.to_str().unwrap()).unwrap_err();
        assert!(e.message.contains("no certificate"), "{}", e.message);
        let e = read_bundle("/nonexistent/ca.pem").unwrap_err();
        assert!(e.message.contains("cannot read"), "{}", e.message);
    }
}
