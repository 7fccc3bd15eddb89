//! Every documented remote option, one table per backend (issue 20, "must show"): a
//! `.dvc/config` holding the option (and a misspelt one), pushed by real DVC and by
//! git-dvc side by side through the recording proxy in front of the real server (moto,
//! the HTTP upload server, wsgidav, Azurite, fake-gcs-server), and what git-dvc does:
//!
//! * honoured: the same values of the headers the option drives, on the same requests
//!   (uploads of files and of `.dir` manifests apart, since their content types differ);
//! * unknown: DVC's config error, its line and exit code 251, and no request;
//! * unsupported: git-dvc's refusal naming the option, before any request, where DVC
//!   sends what the option asks for (or refuses it too).
//!
//! Options that change nothing on the wire (`jobs`, timeouts, `listobjects`, …) ride in
//! the honoured rows, so each backend takes a few pushes. The README's remote option table
//! says the same in words.

use crate::common;
use crate::remote_options::{dvc, ours, set_remote};

use std::collections::BTreeSet;

use common::recording_proxy::{Recorded, RecordingProxy};
use common::remotes;
use common::*;

/// What a row expects of git-dvc.
enum Expect {
    /// Both tools succeed (`ok`) or both fail, and send the same values of these
    /// headers (`:method` is the request method) on the requests the backend compares.
    Same {
        ok: bool,
        headers: &'static [&'static str],
    },
    /// DVC's config error: the same `ERROR:` line and exit 251 from both, no request.
    ConfigError,
    /// git-dvc stops with this text and exit code (251 where the option is read as a
    /// configuration error, 1 where the remote is) before any request. With
    /// `dvc_sends`, DVC pushes and sends that header: the option does something git-dvc
    /// cannot do.
    Refused {
        message: &'static str,
        code: i32,
        dvc_sends: Option<&'static str>,
    },
    /// Both refuse, neither uploads; git-dvc's message has this text. The exit codes
    /// (git-dvc's, DVC's) differ where DVC's is its "unexpected error" (255): git-dvc
    /// reports a configuration error (251).
    BothRefuse(&'static str, i32, i32),
}

struct Case {
    label: &'static str,
    options: Vec<(&'static str, String)>,
    vars: Vec<(&'static str, String)>,
    expect: Expect,
}

fn case(label: &'static str, options: &[(&'static str, &str)], expect: Expect) -> Case {
    Case {
        label,
        options: options.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        vars: Vec::new(),
        expect,
    }
}

/// Which requests a backend compares, and how: `Some(class)` for a compared request.
type Classify = fn(&Recorded, bool) -> Option<&'static str>;

struct Backend<'a> {
    /// The remote URL for a path prefix.
    url: &'a dyn Fn(&str) -> String,
    /// Options every row gets (the endpoint, through the proxy).
    base: Vec<(&'static str, String)>,
    proxy: &'a RecordingProxy,
    classify: Classify,
    /// Run with a row's prefix before DVC pushes there (WebDAV: DVC needs the base
    /// collection to exist).
    prepare: Option<&'a dyn Fn(&str)>,
}

/// Object uploads, by kind: `.dir` manifests and files (content types differ).
fn uploads(r: &Recorded, _ok: bool) -> Option<&'static str> {
    let writes = r.method == "PUT" || r.method == "POST";
    if !writes || !r.target.contains("files") || r.target.contains("partNumber=") {
        return None;
    }
    Some(if r.target.contains(".dir") {
        "dir"
    } else {
        "file"
    })
}

/// Every request when a row fails (what was tried), else the uploads.
fn uploads_or_all(r: &Recorded, ok: bool) -> Option<&'static str> {
    if ok {
        uploads(r, ok).map(|_| "upload")
    } else {
        Some("any")
    }
}

/// The part of a header value an option decides: the key, region and service of a SigV4
/// signature, the scheme and account of an Azure SharedKey one; other values whole.
fn normalized(name: &str, value: &str) -> String {
    if name != "authorization" {
        return value.to_string();
    }
    if let Some(cred) = value.split("Credential=").nth(1) {
        let fields: Vec<&str> = cred.split(',').next().unwrap_or("").split('/').collect();
        if fields.len() >= 4 {
            return format!("SigV4 {} {} {}", fields[0], fields[2], fields[3]);
        }
    }
    if let Some(account) = value.strip_prefix("SharedKey ") {
        return format!("SharedKey {}", account.split(':').next().unwrap_or(""));
    }
    value.to_string()
}

/// (class, header, value or `-`) over the compared requests.
fn fingerprint(
    recorded: &[Recorded],
    classify: Classify,
    ok: bool,
    headers: &[&str],
) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for r in recorded {
        let Some(class) = classify(r, ok) else {
            continue;
        };
        for h in headers {
            let value = if *h == ":method" {
                r.method.clone()
            } else {
                r.header(h)
                    .map_or_else(|| "-".to_string(), |v| normalized(h, v))
            };
            out.insert((class.to_string(), h.to_string(), value));
        }
    }
    out
}

fn error_line(run: &Run) -> String {
    run.stderr
        .lines()
        .find(|l| l.starts_with("ERROR:"))
        .unwrap_or_default()
        .to_string()
}

/// Runs every row against `backend` from one repository (sample data: files and a
/// `.dir`), each tool under its own prefix.
fn run_table(env: &TestEnv, backend: &Backend<'_>, cases: &[Case]) {
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 20);
    for (i, row) in cases.iter().enumerate() {
        let label = row.label;
        let config = |prefix: &str| {
            let mut opts: Vec<(&str, &str)> =
                backend.base.iter().map(|(k, v)| (*k, v.as_str())).collect();
            // An empty value takes a base option away.
            for (k, v) in &row.options {
                opts.retain(|(b, _)| b != k);
                if !v.is_empty() {
                    opts.push((k, v.as_str()));
                }
            }
            set_remote(&repo, &(backend.url)(&format!("c{i}-{prefix}")), &opts);
        };
        let push = |tool: &str| {
            config(tool);
            if let (Some(prepare), "dvc") = (backend.prepare, tool) {
                prepare(&format!("c{i}-{tool}"));
            }
            backend.proxy.take();
            let run = if tool == "dvc" {
                dvc(&repo, &["push"], &row.vars)
            } else {
                ours(&repo, &["push"], &row.vars)
            };
            (run, backend.proxy.take())
        };
        match &row.expect {
            Expect::Same { ok, headers } => {
                let (theirs, theirs_sent) = push("dvc");
                let (mine, mine_sent) = push("ours");
                assert_eq!(theirs.success(), *ok, "{label}: DVC\n{}", theirs.describe());
                assert_eq!(mine.success(), *ok, "{label}: git-dvc\n{}", mine.describe());
                if std::env::var_os("OPT_TABLE_DUMP").is_some() {
                    for r in theirs_sent.iter().chain(&mine_sent) {
                        eprintln!("{} {} {:?}", r.method, r.target, r.headers);
                    }
                }
                let a = fingerprint(&theirs_sent, backend.classify, *ok, headers);
                let b = fingerprint(&mine_sent, backend.classify, *ok, headers);
                assert!(!b.is_empty(), "{label}: git-dvc sent nothing to compare");
                assert_eq!(a, b, "{label}: DVC (left) and git-dvc (right) differ");
            }
            Expect::ConfigError => {
                let (theirs, theirs_sent) = push("dvc");
                let (mine, mine_sent) = push("ours");
                theirs.assert_code(251);
                mine.assert_code(251);
                assert_eq!(error_line(&mine), error_line(&theirs), "{label}");
                assert!(theirs_sent.is_empty() && mine_sent.is_empty(), "{label}");
            }
            Expect::Refused {
                message,
                code,
                dvc_sends,
            } => {
                let (mine, mine_sent) = push("ours");
                mine.assert_code(*code).assert_stderr_contains(message);
                assert!(mine_sent.is_empty(), "{label}: git-dvc sent {mine_sent:#?}");
                if let Some(header) = dvc_sends {
                    let (theirs, theirs_sent) = push("dvc");
                    assert!(theirs.success(), "{label}: DVC\n{}", theirs.describe());
                    assert!(
                        theirs_sent.iter().any(|r| r.header(header).is_some()),
                        "{label}: DVC did not send {header}"
                    );
                }
            }
            Expect::BothRefuse(message, our_code, dvc_code) => {
                let (theirs, theirs_sent) = push("dvc");
                let (mine, mine_sent) = push("ours");
                theirs.assert_code(*dvc_code);
                mine.assert_code(*our_code).assert_stderr_contains(message);
                let uploaded = |sent: &[Recorded]| sent.iter().any(|r| uploads(r, true).is_some());
                assert!(!uploaded(&theirs_sent) && !uploaded(&mine_sent), "{label}");
            }
        }
    }
}

/// Creates `bucket` in `region` on moto (unsigned: moto takes it).
fn s3_bucket_in(endpoint: &str, bucket: &str, region: &str) {
    let body = format!(
        "<CreateBucketConfiguration><LocationConstraint>{region}</LocationConstraint>\
         </CreateBucketConfiguration>"
    );
    let resp = reqwest::blocking::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .body(body)
        .send()
        .unwrap();
    assert!(
        resp.status().is_success(),
        "create bucket: {}",
        resp.status()
    );
}

#[test]
fn s3() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let env = TestEnv::new();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = RecordingProxy::start(port);
    let bucket = remotes::unique("opt-table");
    remotes::create_s3_bucket(&endpoint, &bucket);
    let eu_bucket = remotes::unique("opt-table-eu");
    s3_bucket_in(&endpoint, &eu_bucket, "eu-west-1");
    let creds = env.path("aws-credentials");
    std::fs::write(
        &creds,
        "[team]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = s\n",
    )
    .unwrap();
    let creds = creds.to_str().unwrap().to_string();
    let ssec = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
    let keys = [("access_key_id", "AKIDTABLE"), ("secret_access_key", "s")];
    let with_keys = |more: &[(&'static str, &'static str)]| -> Vec<(&'static str, &'static str)> {
        [&keys[..], more].concat()
    };
    let sse = &[
        "x-amz-server-side-encryption",
        "x-amz-server-side-encryption-aws-kms-key-id",
        "x-amz-server-side-encryption-customer-algorithm",
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-md5",
    ];
    let mut cases = vec![
        case(
            "keys, session token, region, acl, sse; options that change no request",
            &with_keys(&[
                ("session_token", "TOKEN1"),
                ("region", "eu-west-1"),
                ("acl", "bucket-owner-full-control"),
                ("sse", "AES256"),
                ("listobjects", "true"),
                ("use_ssl", "true"),
                ("ssl_verify", "false"),
                ("read_timeout", "30"),
                ("connect_timeout", "30"),
                ("jobs", "2"),
                ("checksum_jobs", "2"),
                ("no_traverse", "false"),
                ("verify", "false"),
            ]),
            Expect::Same {
                ok: true,
                headers: &[
                    "authorization",
                    "x-amz-security-token",
                    "x-amz-acl",
                    "x-amz-server-side-encryption",
                    "content-type",
                ],
            },
        ),
        case(
            "sse_kms_key_id",
            &with_keys(&[("sse", "aws:kms"), ("sse_kms_key_id", "kid-1")]),
            Expect::Same {
                ok: true,
                headers: sse,
            },
        ),
        case(
            "sse_customer_key alone (AES256)",
            &with_keys(&[("sse_customer_key", ssec)]),
            Expect::Same {
                ok: true,
                headers: sse,
            },
        ),
        case(
            "sse_customer_algorithm and key",
            &with_keys(&[
                ("sse_customer_algorithm", "AES256"),
                ("sse_customer_key", ssec),
            ]),
            Expect::Same {
                ok: true,
                headers: sse,
            },
        ),
        case(
            "allow_anonymous_login",
            &with_keys(&[("allow_anonymous_login", "true")]),
            Expect::Same {
                ok: true,
                headers: &["authorization"],
            },
        ),
        case(
            "profile, credentialpath",
            &[("profile", "team"), ("credentialpath", creds.as_str())],
            Expect::Same {
                ok: true,
                headers: &["authorization"],
            },
        ),
        case(
            "sse_customer_key with sse_kms_key_id",
            &with_keys(&[("sse_customer_key", ssec), ("sse_kms_key_id", "k")]),
            Expect::BothRefuse("mutually exclusive", 251, 251),
        ),
        case(
            "grant_read",
            &with_keys(&[("grant_read", "id=someone")]),
            Expect::Refused {
                message: "option 'grant_read' is not supported by git-dvc",
                code: 251,
                dvc_sends: Some("x-amz-grant-read"),
            },
        ),
        case(
            "grant_full_control",
            &with_keys(&[("grant_full_control", "id=someone")]),
            Expect::Refused {
                message: "option 'grant_full_control' is not supported by git-dvc",
                code: 251,
                dvc_sends: Some("x-amz-grant-full-control"),
            },
        ),
        case(
            "version_aware",
            &with_keys(&[("version_aware", "true")]),
            Expect::Refused {
                message: "version_aware",
                code: 1,
                dvc_sends: None,
            },
        ),
        case(
            "a misspelt option",
            &with_keys(&[("sse_kms_keyid", "k")]),
            Expect::ConfigError,
        ),
        case(
            "cache_regions (no file value passes DVC's schema)",
            &with_keys(&[("cache_regions", "false")]),
            Expect::ConfigError,
        ),
    ];
    // No region and no endpointurl: both ask the bucket where it lives (eu-west-1 here)
    // and sign for that region; the endpoint comes from the environment.
    cases.push(Case {
        label: "region discovery (cache_regions' default)",
        options: vec![
            ("access_key_id", "AKIDTABLE".into()),
            ("secret_access_key", "s".into()),
        ],
        vars: vec![("AWS_ENDPOINT_URL", proxy.endpoint())],
        expect: Expect::Same {
            ok: true,
            headers: &["authorization"],
        },
    });
    let url = |prefix: &str| format!("s3://{bucket}/{prefix}");
    let backend = Backend {
        url: &url,
        base: vec![("endpointurl", proxy.endpoint())],
        proxy: &proxy,
        classify: uploads,
        prepare: None,
    };
    let (discovery, rest) = cases.split_last().unwrap();
    run_table(&env, &backend, rest);
    let eu_url = |prefix: &str| format!("s3://{eu_bucket}/{prefix}");
    let eu = Backend {
        url: &eu_url,
        base: Vec::new(),
        proxy: &proxy,
        classify: uploads,
        prepare: None,
    };
    run_table(&TestEnv::new(), &eu, std::slice::from_ref(discovery));
}

#[test]
fn http() {
    let Some(url) = remotes::server_var("GIT_DVC_TEST_HTTP_URL") else {
        return;
    };
    let env = TestEnv::new();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = RecordingProxy::start(port);
    let dir = remotes::unique("opt-table");
    let cases = [
        case(
            "basic auth, PUT; options that change no request",
            &[
                ("auth", "basic"),
                ("user", "u"),
                ("password", "p"),
                ("method", "PUT"),
                ("connect_timeout", "30"),
                ("read_timeout", "30"),
                ("ssl_verify", "false"),
                ("jobs", "2"),
                ("checksum_jobs", "2"),
                ("no_traverse", "false"),
                ("verify", "false"),
            ],
            Expect::Same {
                ok: true,
                headers: &[":method", "authorization"],
            },
        ),
        case(
            "custom auth header, POST",
            &[
                ("auth", "custom"),
                ("custom_auth_header", "X-Token"),
                ("password", "secret"),
            ],
            Expect::Same {
                ok: true,
                headers: &[":method", "x-token", "authorization"],
            },
        ),
        case(
            "digest auth",
            &[("auth", "digest"), ("user", "u"), ("password", "p")],
            Expect::BothRefuse("auth method 'digest' is not supported", 251, 255),
        ),
        case(
            "a misspelt option",
            &[("custom_auth_headr", "X-Token")],
            Expect::ConfigError,
        ),
    ];
    let remote_url = |prefix: &str| format!("{}/{dir}/{prefix}", proxy.endpoint());
    let backend = Backend {
        url: &remote_url,
        base: Vec::new(),
        proxy: &proxy,
        classify: uploads,
        prepare: None,
    };
    run_table(&env, &backend, &cases);
}

#[test]
fn webdav() {
    let Some([url, user, password]) = remotes::server_vars([
        "GIT_DVC_TEST_WEBDAV_URL",
        "GIT_DVC_TEST_WEBDAV_USER",
        "GIT_DVC_TEST_WEBDAV_PASSWORD",
    ]) else {
        return;
    };
    let env = TestEnv::new();
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = RecordingProxy::start(port);
    let dir = remotes::unique("opt-table");
    let cases = [
        case(
            "user and password; options that change no request",
            &[
                ("user", user.as_str()),
                ("password", password.as_str()),
                ("timeout", "30"),
                ("ssl_verify", "false"),
                ("jobs", "2"),
                ("checksum_jobs", "2"),
                ("no_traverse", "false"),
                ("verify", "false"),
            ],
            Expect::Same {
                ok: true,
                headers: &["authorization"],
            },
        ),
        // The server takes Basic only: both are turned away, sending the same.
        case(
            "token (Bearer) before user",
            &[("token", "tok-1"), ("user", user.as_str())],
            Expect::Same {
                ok: false,
                headers: &["authorization"],
            },
        ),
        case(
            "custom_auth_header",
            &[("custom_auth_header", "X-Auth"), ("password", "pw-1")],
            Expect::Same {
                ok: false,
                headers: &["authorization", "x-auth"],
            },
        ),
        case(
            "cert_path",
            &[("cert_path", "/nonexistent/cert.pem")],
            Expect::Refused {
                message: "cert_path",
                code: 251,
                dvc_sends: None,
            },
        ),
        case(
            "key_path",
            &[("key_path", "/nonexistent/key.pem")],
            Expect::Refused {
                message: "key_path",
                code: 251,
                dvc_sends: None,
            },
        ),
        case(
            "bearer_token_command",
            &[("bearer_token_command", "echo tok")],
            Expect::Refused {
                message: "bearer_token_command",
                code: 251,
                dvc_sends: None,
            },
        ),
        case("a misspelt option", &[("tokn", "t")], Expect::ConfigError),
    ];
    let remote_url = |prefix: &str| format!("webdav://127.0.0.1:{}/{dir}/{prefix}", proxy.port);
    // DVC 3.67 fails on a base collection that does not exist (see the README).
    let mkcol = |prefix: &str| {
        let client = reqwest::blocking::Client::new();
        for path in [dir.clone(), format!("{dir}/{prefix}")] {
            let resp = client
                .request(
                    reqwest::Method::from_bytes(b"MKCOL").unwrap(),
                    format!("http://127.0.0.1:{port}/{path}"),
                )
                .basic_auth(&user, Some(&password))
                .send()
                .unwrap();
            assert!(
                resp.status().is_success() || resp.status().as_u16() == 405,
                "MKCOL {path}: {}",
                resp.status()
            );
        }
    };
    let backend = Backend {
        url: &remote_url,
        base: Vec::new(),
        proxy: &proxy,
        // git-dvc uploads under a temporary name and moves it (DVC does not): all
        // uploads are one class.
        classify: uploads_or_all,
        prepare: Some(&mkcol),
    };
    run_table(&env, &backend, &cases);
}

#[test]
fn azure() {
    let Some(conn) = remotes::server_var("GIT_DVC_TEST_AZURE_CONNECTION_STRING") else {
        return;
    };
    let env = TestEnv::new();
    let container = remotes::unique("opt-table");
    remotes::create_azure_container(&conn, &container);
    let endpoint = conn
        .split(';')
        .find_map(|kv| kv.strip_prefix("BlobEndpoint="))
        .unwrap()
        .to_string();
    let port: u16 = endpoint
        .trim_start_matches("http://")
        .split(['/', ':'])
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let proxy = RecordingProxy::start(port);
    let proxied = conn.replace(
        &format!("127.0.0.1:{port}"),
        &format!("127.0.0.1:{}", proxy.port),
    );
    let cases = [
        case(
            "connection_string; options that change no request",
            &[
                ("timeout", "30"),
                ("read_timeout", "30"),
                ("connection_timeout", "30"),
                ("exclude_environment_credential", "true"),
                ("exclude_managed_identity_credential", "true"),
                ("exclude_visual_studio_code_credential", "true"),
                ("exclude_shared_token_cache_credential", "true"),
                ("allow_anonymous_login", "false"),
                ("jobs", "2"),
                ("checksum_jobs", "2"),
                ("no_traverse", "false"),
                ("verify", "false"),
            ],
            Expect::Same {
                ok: true,
                headers: &["authorization", "x-ms-blob-type", "x-ms-blob-content-type"],
            },
        ),
        case(
            "half a service principal",
            &[
                ("connection_string", ""),
                ("account_name", "devstoreaccount1"),
                ("client_id", "c"),
            ],
            Expect::Refused {
                message: "a service principal needs tenant_id, client_id and client_secret",
                code: 251,
                dvc_sends: None,
            },
        ),
        case(
            "a misspelt option",
            &[("acount_name", "a")],
            Expect::ConfigError,
        ),
    ];
    let url = |prefix: &str| format!("azure://{container}/{prefix}");
    let backend = Backend {
        url: &url,
        base: vec![("connection_string", proxied.clone())],
        proxy: &proxy,
        classify: uploads,
        prepare: None,
    };
    run_table(&env, &backend, &cases);
}

/// GCS uploads (gcsfs names the object in the body, so they are one class; the stored
/// content types are compared apart).
fn gcs_uploads(r: &Recorded, _ok: bool) -> Option<&'static str> {
    (r.method == "POST" && r.target.starts_with("/upload/")).then_some("upload")
}

/// The content type each object was stored with on fake-gcs-server, by name under
/// `prefix` (gcsfs sends it in a multipart body, not a header).
fn gcs_content_types(endpoint: &str, bucket: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let body = reqwest::blocking::get(format!(
        "{endpoint}/storage/v1/b/{bucket}/o?prefix={prefix}/"
    ))
    .unwrap()
    .bytes()
    .unwrap();
    let listing: serde_json::Value = serde_json::from_slice(&body).unwrap();
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let name = o["name"].as_str().unwrap();
            (
                name.strip_prefix(&format!("{prefix}/"))
                    .unwrap()
                    .to_string(),
                o["contentType"].as_str().unwrap_or("-").to_string(),
            )
        })
        .collect()
}

#[test]
fn gcs() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_GCS_ENDPOINT") else {
        return;
    };
    let env = TestEnv::new();
    let bucket = remotes::unique("opt-table");
    remotes::create_gcs_bucket(&endpoint, &bucket);
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = RecordingProxy::start(port);
    let cases = [
        case(
            "endpointurl, anonymous, projectname; options that change no request",
            &[
                ("jobs", "2"),
                ("checksum_jobs", "2"),
                ("no_traverse", "false"),
                ("verify", "false"),
            ],
            Expect::Same {
                ok: true,
                headers: &["authorization"],
            },
        ),
        case(
            "a misspelt option",
            &[("projectnam", "p")],
            Expect::ConfigError,
        ),
    ];
    let url = |prefix: &str| format!("gs://{bucket}/{prefix}");
    let backend = Backend {
        url: &url,
        base: vec![
            ("endpointurl", proxy.endpoint()),
            ("allow_anonymous_login", "true".into()),
            ("projectname", "test".into()),
        ],
        proxy: &proxy,
        classify: gcs_uploads,
        prepare: None,
    };
    run_table(&env, &backend, &cases);
    // The content types, as stored: `.dir` as the system's mime.types says (gcsfs's
    // guess), files application/octet-stream.
    let theirs = gcs_content_types(&endpoint, &bucket, "c0-dvc");
    let mine = gcs_content_types(&endpoint, &bucket, "c0-ours");
    assert_eq!(theirs.len(), remotes::SAMPLE_OBJECTS, "{theirs:?}");
    assert_eq!(
        theirs, mine,
        "stored content types: DVC (left), git-dvc (right)"
    );
}
