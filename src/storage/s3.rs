//! `s3://bucket/prefix` remotes (AWS S3 and S3-compatible servers) through opendal, with
//! DVC's remote options (`dvc_s3`):
//!
//! | option | effect |
//! | --- | --- |
//! | `endpointurl` | the server (`http://127.0.0.1:9000`); path-style addressing; else, as botocore: `AWS_ENDPOINT_URL_S3`, `AWS_ENDPOINT_URL`, the profile's `endpoint_url` (or its `services` section's `s3`) in the config file |
//! | `region` | else `AWS_REGION`/`AWS_DEFAULT_REGION`, the profile's `region` in the config file, `us-east-1`; without `region`, `AWS_REGION` and `endpointurl`, the bucket's own region is asked first (below) |
//! | `profile` | the named profile of the shared files (one neither file has stops the command, as botocore); as in botocore, an explicit profile also shuts out the `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` environment (`AWS_PROFILE` does not) |
//! | `access_key_id`, `secret_access_key`, `session_token` | static credentials, tried first |
//! | `credentialpath`, `configpath` | the shared credentials / config files, unless `AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` is set (DVC only sets those when unset) |
//! | `use_ssl` | `false`: plain HTTP to the default endpoint (or an `endpointurl` without scheme) |
//! | `ssl_verify` | `false`, or a CA bundle path (see [`super::tls`]) |
//! | `sse`, `sse_kms_key_id` | `x-amz-server-side-encryption(-aws-kms-key-id)` on single-request uploads and on the request that starts a multipart upload, never on its parts or its completion (S3 refuses them there) |
//! | `sse_customer_algorithm`, `sse_customer_key` | SSE-C (key in base64; the algorithm defaults to `AES256`), on every request about an object, parts included, as S3 requires; together with `sse_kms_key_id` it is refused, as in DVC |
//! | `acl` | canned ACL on every upload |
//! | `allow_anonymous_login` | unsigned requests |
//! | `read_timeout`, `connect_timeout` | seconds |
//! | `listobjects` | deprecated and ignored, as in DVC |
//! | `grant_*` | refused: git-dvc cannot send them (with `acl`, refused in DVC's words, as DVC refuses the pair) |
//! | `cache_regions` | DVC's schema takes no value from a file for it (`expected bool`); its default applies |
//!
//! Region discovery (`cache_regions`, on by default in dvc-s3): when the remote names
//! neither `region` nor `endpointurl` and `AWS_REGION` is unset, s3fs asks the bucket
//! where it lives (`HEAD /bucket`, the `x-amz-bucket-region` answer header, present on
//! `301` and `403` answers too) and signs for that region. git-dvc does the same, with one
//! unsigned `HEAD` (the header needs no credentials); no answer, no change.
//!
//! Credentials otherwise come from where botocore finds them: the `AWS_*` environment
//! (unless the remote names a profile), the profile in the shared credentials and config
//! files (`role_arn` through STS first, `credential_process`: see [`super::aws_credentials`]),
//! SSO, web identity, ECS and EC2 metadata. git-dvc signs each request itself (opendal is told not
//! to), with one credential chain built here, so the identity is exactly the one this
//! order selects. Single-request uploads carry `Content-MD5`, so S3 rejects bytes damaged
//! on the way.

use std::path::Path;

use base64::Engine;
use opendal::services::S3;
use opendal::Operator;

use super::aws_config::AwsConfigFile;
use super::aws_credentials::{self, Plan, PlanProvider, SharedFiles, StsSettings};
use super::object_store::{
    bucket_and_prefix, root_for, HttpSettings, LargeUploads, ObjectStore, ObjectStoreSpec,
};
use super::tls::{Client, Trust};
use super::{option_bool, option_str, StorageError};
use crate::dvc::config::RemoteConfig;

/// Options DVC accepts that git-dvc cannot honour: refusing them is safer than uploading
/// with different permissions than the user asked for.
const UNSUPPORTED: &[&str] = &[
    "grant_read",
    "grant_read_acp",
    "grant_write_acp",
    "grant_full_control",
];

/// What opendal needs, resolved from the remote's options and the environment. Kept
/// separate from the builder so URL and option mapping can be unit-tested.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct S3Settings {
    pub bucket: String,
    pub root: String,
    pub endpoint: Option<String>,
    pub region: String,
    /// Ask the bucket for its region before the first request (see the module doc).
    pub discover_region: bool,
    pub profile: Option<String>,
    /// The profile was named by the remote (not `AWS_PROFILE`): the `AWS_*` key
    /// variables are then not used, as in botocore.
    pub profile_explicit: bool,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    pub credentials_file: Option<String>,
    pub config_file: Option<String>,
    pub sse: Option<String>,
    pub sse_kms_key_id: Option<String>,
    pub sse_customer: Option<(String, Vec<u8>)>,
    pub acl: Option<String>,
    pub anonymous: bool,
    /// The profile's `ca_bundle` in the AWS config file (botocore's next source after
    /// `AWS_CA_BUNDLE`).
    pub ca_bundle: Option<String>,
    /// What the selected profile's credentials come from ([`aws_credentials::plan`]), or
    /// why git-dvc refuses it.
    pub profile_plan: Option<Result<Plan, String>>,
    /// Where STS calls for `role_arn` profiles go.
    pub sts: Option<Result<StsSettings, String>>,
    /// `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set (used unless the remote
    /// names a profile).
    pub env_keys: bool,
    /// A profile named by the remote or the environment that neither AWS file has (its
    /// name, and our hint): botocore stops on it.
    pub missing_profile: Option<(String, String)>,
}

fn config_error(remote: &RemoteConfig, message: String) -> StorageError {
    StorageError::config(&remote.name, message)
}

impl S3Settings {
    /// Maps a remote's URL and options; `env` reads environment variables.
    pub fn from_remote(
        remote: &RemoteConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<S3Settings, StorageError> {
        // dvc-s3's checks, in its order and words.
        if option_str(remote, "sse_customer_key").is_some()
            && option_str(remote, "sse_kms_key_id").is_some()
        {
            return Err(StorageError::dvc_config(
                &remote.name,
                "`sse_kms_key_id` and `sse_customer_key` AWS S3 config options are mutually \
                 exclusive",
            ));
        }
        if option_str(remote, "acl").is_some()
            && UNSUPPORTED
                .iter()
                .any(|key| option_str(remote, key).is_some())
        {
            return Err(StorageError::dvc_config(
                &remote.name,
                "`acl` and `grant_*` AWS S3 config options are mutually exclusive",
            ));
        }
        for key in UNSUPPORTED {
            if remote.options.contains_key(*key) {
                return Err(config_error(
                    remote,
                    format!("option '{key}' is not supported by git-dvc; use `acl` or `dvc push`"),
                ));
            }
        }
        let (bucket, prefix) = bucket_and_prefix(remote, &remote.url)?;
        let use_ssl = option_bool(remote, "use_ssl")?.unwrap_or(true);
        let own_profile = option_str(remote, "profile").map(str::to_string);
        let profile_explicit = own_profile.is_some();
        // botocore's `profile` variable: `AWS_DEFAULT_PROFILE`, then `AWS_PROFILE`; set
        // but empty still names a profile (one no file has).
        let env_profile = env("AWS_DEFAULT_PROFILE").or_else(|| env("AWS_PROFILE"));
        let named_profile = own_profile.clone().or_else(|| env_profile.clone());
        let profile = own_profile.or_else(|| env_profile.filter(|p| !p.is_empty()));
        // DVC does `os.environ.setdefault(...)` with these: the variables win.
        let set = |var: &str| env(var).filter(|v| !v.is_empty());
        let credentials_file = set("AWS_SHARED_CREDENTIALS_FILE")
            .or_else(|| option_str(remote, "credentialpath").map(str::to_string));
        let config_file =
            set("AWS_CONFIG_FILE").or_else(|| option_str(remote, "configpath").map(str::to_string));
        let path_of = |file: Option<String>, default: &str| {
            file.map(|f| match (f.strip_prefix("~/"), env("HOME")) {
                (Some(rest), Some(home)) => format!("{home}/{rest}"),
                _ => f,
            })
            .or_else(|| env("HOME").map(|h| format!("{h}/.aws/{default}")))
        };
        let files_in_use = [
            path_of(config_file.clone(), "config"),
            path_of(credentials_file.clone(), "credentials"),
        ];
        let read = |file: Option<String>, default: &str| {
            path_of(file, default)
                .map(|file| AwsConfigFile::read(Path::new(&file)))
                .unwrap_or_default()
        };
        let shared = SharedFiles {
            config: read(config_file.clone(), "config"),
            credentials: read(credentials_file.clone(), "credentials"),
        };
        // botocore stops on a profile named (by the remote or the environment) that
        // neither file has, whatever other credentials there are ([`open`] says so).
        let missing_profile = named_profile
            .filter(|name| !shared.has_profile(name))
            .map(|name| {
                let by = if profile_explicit {
                    format!("remote '{}'", remote.name)
                } else if env("AWS_DEFAULT_PROFILE").is_some() {
                    "AWS_DEFAULT_PROFILE".to_string()
                } else {
                    "AWS_PROFILE".to_string()
                };
                let hint = format!(
                    "profile '{name}' (named by {by}) is in neither {} nor {}",
                    files_in_use[0].as_deref().unwrap_or("~/.aws/config"),
                    files_in_use[1].as_deref().unwrap_or("~/.aws/credentials"),
                );
                (name, hint)
            });
        let shared_config = &shared.config;
        let profile_name = profile.as_deref().unwrap_or("default");
        let endpoint = option_str(remote, "endpointurl")
            .map(str::to_string)
            .or_else(|| configured_endpoint(env, shared_config, profile_name))
            .map(|e| {
                let e = e.trim_end_matches('/');
                if e.contains("://") {
                    e.to_string()
                } else if use_ssl {
                    format!("https://{e}")
                } else {
                    format!("http://{e}")
                }
            });
        // dvc-s3 turns `cache_regions` on when neither is set; s3fs turns it off again
        // for an explicit endpoint (an empty `AWS_REGION` counts as set, as `os.getenv`).
        let discover_region = option_str(remote, "region").is_none()
            && env("AWS_REGION").is_none()
            && option_str(remote, "endpointurl").is_none();
        let region = option_str(remote, "region")
            .map(str::to_string)
            .or_else(|| env("AWS_REGION").filter(|r| !r.is_empty()))
            .or_else(|| env("AWS_DEFAULT_REGION").filter(|r| !r.is_empty()))
            .or_else(|| {
                shared_config
                    .profile_value(profile_name, "region")
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "us-east-1".to_string());
        let endpoint =
            endpoint.or_else(|| (!use_ssl).then(|| format!("http://s3.{region}.amazonaws.com")));
        let sse_customer = match (
            option_str(remote, "sse_customer_algorithm"),
            option_str(remote, "sse_customer_key"),
        ) {
            (alg, Some(key)) => {
                let key = base64::engine::general_purpose::STANDARD
                    .decode(key.trim())
                    .map_err(|_| {
                        config_error(remote, "sse_customer_key must be base64".to_string())
                    })?;
                // dvc-s3: a key without an algorithm is AES256.
                Some((alg.unwrap_or("AES256").to_string(), key))
            }
            (Some(_), None) => {
                return Err(config_error(
                    remote,
                    "sse_customer_algorithm needs sse_customer_key (the base64 key S3 \
                     encrypts with): without it S3 refuses every upload"
                        .to_string(),
                ))
            }
            (None, None) => None,
        };
        let ca_bundle = shared_config
            .profile_value(profile_name, "ca_bundle")
            .map(str::to_string);
        let profile_plan = aws_credentials::plan(&shared, profile_name, &|| {
            super::prompt::available().map_err(|why| why.to_string())
        })
        .and_then(|plan| aws_credentials::refuse_commands_from_the_repository(plan, &files_in_use));
        // The STS client's region is the session's, as botocore creates it.
        let sts_region = option_str(remote, "region")
            .map(str::to_string)
            .or_else(|| env("AWS_DEFAULT_REGION").filter(|r| !r.is_empty()))
            .or_else(|| {
                shared_config
                    .profile_value(profile_name, "region")
                    .map(str::to_string)
            });
        let sts = StsSettings::resolve(env, shared_config, profile_name, sts_region.as_deref());
        let env_keys = set("AWS_ACCESS_KEY_ID").is_some() && set("AWS_SECRET_ACCESS_KEY").is_some();
        Ok(S3Settings {
            bucket: bucket.to_string(),
            root: root_for(prefix),
            endpoint,
            region,
            discover_region,
            profile,
            profile_explicit,
            access_key_id: option_str(remote, "access_key_id").map(str::to_string),
            secret_access_key: option_str(remote, "secret_access_key").map(str::to_string),
            session_token: option_str(remote, "session_token").map(str::to_string),
            credentials_file,
            config_file,
            sse: option_str(remote, "sse").map(str::to_string),
            sse_kms_key_id: option_str(remote, "sse_kms_key_id").map(str::to_string),
            sse_customer,
            acl: option_str(remote, "acl").map(str::to_string),
            anonymous: option_bool(remote, "allow_anonymous_login")?.unwrap_or(false),
            ca_bundle,
            profile_plan: Some(profile_plan),
            sts: Some(sts),
            env_keys,
            missing_profile,
        })
    }

    /// Whether signing gets as far as the profile: no keys in the remote, and no `AWS_*`
    /// keys or a profile named by the remote.
    fn reaches_profile(&self) -> bool {
        let own_keys = self.access_key_id.is_some() && self.secret_access_key.is_some();
        let env_wins = self.env_keys && !self.profile_explicit;
        !(self.anonymous || own_keys || env_wins)
    }

    /// The profile's refusal, when signing would need that profile (see
    /// [`aws_credentials`]): reported before any request.
    pub fn profile_refusal(&self) -> Option<&str> {
        match &self.profile_plan {
            Some(Err(message)) if self.reaches_profile() => Some(message),
            _ => None,
        }
    }

    /// The opendal service. It never signs: [`Self::signer`] does, in the transport,
    /// after the multipart requests' headers are set right.
    fn builder(&self, content_md5: bool) -> S3 {
        let mut b = S3::default()
            .bucket(&self.bucket)
            .root(&self.root)
            .region(&self.region)
            .skip_signature();
        if let Some(e) = &self.endpoint {
            b = b.endpoint(e);
        }
        if let Some(sse) = &self.sse {
            b = b.server_side_encryption(sse);
        }
        if let Some(k) = &self.sse_kms_key_id {
            b = b.server_side_encryption_aws_kms_key_id(k);
        }
        if let Some((alg, key)) = &self.sse_customer {
            b = b.server_side_encryption_with_customer_key(alg, key);
        }
        if let Some(acl) = &self.acl {
            b = b.default_acl(acl);
        }
        if content_md5 {
            b = b.checksum_algorithm("md5");
        }
        b
    }

    /// The request signer: `None` for `allow_anonymous_login` (unsigned requests, as
    /// s3fs's `anon`).
    fn signer(&self) -> Option<S3Signer> {
        (!self.anonymous).then(|| S3Signer {
            chain: self.credential_chain(),
            region: self.region.clone(),
        })
    }

    /// The credential chain, in botocore's order: the remote's static keys; then, unless
    /// the remote names a profile, the `AWS_*` key variables; then the profile (the
    /// remote's, else `AWS_PROFILE`, else `default`) in the shared credentials and config
    /// files (the variables' files, else `credentialpath`/`configpath`, else `~/.aws`),
    /// resolved as botocore does ([`aws_credentials`]: assume role first, web identity,
    /// SSO, the credentials file's keys, `credential_process`, the config file's keys);
    /// then ECS and EC2 metadata. A profile that assumes a role, or that git-dvc refuses,
    /// ends the chain: its credentials or its error, never others.
    fn credential_chain(&self) -> S3Credentials {
        use reqsign_aws_v4::{
            AssumeRoleWithWebIdentityCredentialProvider, ECSCredentialProvider,
            EnvCredentialProvider, IMDSv2CredentialProvider, SSOCredentialProvider,
        };
        let mut before = reqsign_core::ProvideCredentialChain::new();
        if let (Some(ak), Some(sk)) = (&self.access_key_id, &self.secret_access_key) {
            let mut s = reqsign_aws_v4::StaticCredentialProvider::new(ak, sk);
            if let Some(t) = &self.session_token {
                s = s.with_session_token(t);
            }
            before = before.push(s);
        }
        if !self.profile_explicit {
            // botocore: "An explicitly provided profile will negate an EnvProvider."
            before = before.push(EnvCredentialProvider::new());
        }
        let plan = self.profile_plan.clone().unwrap_or(Ok(Plan::Nothing));
        let lenient = matches!(
            plan,
            Ok(Plan::Static { .. } | Plan::Process { .. } | Plan::Nothing)
        );
        let mut after = reqsign_core::ProvideCredentialChain::new();
        if lenient {
            let profile = self.profile.as_deref().unwrap_or("default");
            before = before
                .push(AssumeRoleWithWebIdentityCredentialProvider::default())
                .push(SSOCredentialProvider::default().with_profile(profile));
            after = after
                .push(ECSCredentialProvider::default())
                .push(IMDSv2CredentialProvider::default());
        }
        S3Credentials {
            before,
            profile: PlanProvider {
                plan,
                sts: self
                    .sts
                    .clone()
                    .unwrap_or_else(|| Err("no STS settings".to_string())),
            },
            after,
        }
    }
}

/// The S3 credential chain ([`S3Settings::credential_chain`]): the providers before the
/// profile and after it skip what fails; the profile's own step stops the chain when it
/// fails.
#[derive(Debug)]
pub struct S3Credentials {
    before: reqsign_core::ProvideCredentialChain<reqsign_aws_v4::Credential>,
    profile: PlanProvider,
    after: reqsign_core::ProvideCredentialChain<reqsign_aws_v4::Credential>,
}

impl reqsign_core::ProvideCredential for S3Credentials {
    type Credential = reqsign_aws_v4::Credential;

    async fn provide_credential(
        &self,
        ctx: &reqsign_core::Context,
    ) -> reqsign_core::Result<Option<Self::Credential>> {
        if let Some(c) = self.before.provide_credential(ctx).await? {
            return Ok(Some(c));
        }
        if let Some(c) = self.profile.provide_credential(ctx).await? {
            return Ok(Some(c));
        }
        self.after.provide_credential(ctx).await
    }
}

/// What signs an S3 remote's requests (in the transport: see
/// [`super::object_store::RequestSigning`]).
pub struct S3Signer {
    pub chain: S3Credentials,
    pub region: String,
}

/// Headers S3 accepts only where an object is created whole or a multipart upload
/// starts; on `UploadPart` and `CompleteMultipartUpload` it answers `400 InvalidArgument`
/// (opendal sends them on every write request). SSE-C headers stay: S3 needs them on
/// every part.
const INITIATE_ONLY_HEADERS: &[&str] = &[
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-context",
    "x-amz-server-side-encryption-bucket-key-enabled",
    "x-amz-acl",
];

/// Prepares a request for signing: the query encoded as botocore encodes it, and
/// [`fix_multipart_headers`].
pub fn prepare_for_signing(parts: &mut http::request::Parts) {
    encode_query_strictly(parts);
    fix_multipart_headers(parts);
}

/// Re-encodes the query string with SigV4's URI encoding (every byte but the letters,
/// digits, `-`, `_`, `.` and `~` as `%XX`, so `prefix=a%2Fb`, not `prefix=a/b`), as
/// botocore sends it. The signature covers the encoded form either way; servers that
/// check it against the query as received (moto, some S3-compatible stores) then agree.
fn encode_query_strictly(parts: &mut http::request::Parts) {
    let Some(query) = parts.uri.query() else {
        return;
    };
    let encoded: Vec<String> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) => format!(
                "{}={}",
                sigv4_encode(&percent_decode(k)),
                sigv4_encode(&percent_decode(v))
            ),
            None => sigv4_encode(&percent_decode(kv)),
        })
        .collect();
    let encoded = encoded.join("&");
    if encoded == query {
        return;
    }
    let path = parts.uri.path();
    let rebuilt = format!("{path}?{encoded}");
    let mut uri = http::uri::Parts::from(parts.uri.clone());
    if let Ok(pq) = http::uri::PathAndQuery::try_from(rebuilt) {
        uri.path_and_query = Some(pq);
        if let Ok(uri) = http::Uri::from_parts(uri) {
            parts.uri = uri;
        }
    }
}

fn percent_decode(s: &str) -> Vec<u8> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn sigv4_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Drops [`INITIATE_ONLY_HEADERS`] from a request that continues a multipart upload
/// (`uploadId=` in the query): a part, the completion, or an abort.
pub fn fix_multipart_headers(parts: &mut http::request::Parts) {
    let continues_upload = parts
        .uri
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv.starts_with("uploadId=")));
    if continues_upload {
        for name in INITIATE_ONLY_HEADERS {
            parts.headers.remove(*name);
        }
    }
}

/// The endpoint botocore configures when the remote names none: `AWS_ENDPOINT_URL_S3`,
/// `AWS_ENDPOINT_URL`, then the shared config file's, unless
/// `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's
/// `ignore_configured_endpoint_urls`) is true. DVC passes no endpoint without
/// `endpointurl`, so these are what `dvc push` uses too.
fn configured_endpoint(
    env: &dyn Fn(&str) -> Option<String>,
    config: &AwsConfigFile,
    profile: &str,
) -> Option<String> {
    let ignore = super::aws_config::configured_endpoints_ignored(env, config, profile);
    if ignore {
        return None;
    }
    env("AWS_ENDPOINT_URL_S3")
        .filter(|e| !e.is_empty())
        .or_else(|| env("AWS_ENDPOINT_URL").filter(|e| !e.is_empty()))
        .or_else(|| config.s3_endpoint(profile).map(str::to_string))
}

/// Where `HEAD /bucket` goes: the endpoint in use (path style), else the configured
/// region's AWS endpoint.
fn region_probe_url(settings: &S3Settings) -> String {
    let base = settings
        .endpoint
        .clone()
        .unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", settings.region));
    format!("{}/{}", base.trim_end_matches('/'), settings.bucket)
}

/// A region name as S3 spells them (`eu-west-1`, `us-gov-west-1`); anything else a server
/// sends is not used (it would go into a host name).
fn plausible_region(value: &str) -> bool {
    (1..=64).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The bucket's region from its `x-amz-bucket-region` answer header, if any. The
/// client is made, used and dropped on the I/O runtime (its connection pool needs it).
fn bucket_region(http: &HttpSettings, url: &str) -> Result<Option<String>, StorageError> {
    super::object_store::runtime().block_on(async {
        let client = http.async_client()?;
        let Ok(response) = client.head(url).send().await else {
            return Ok(None);
        };
        let value = response
            .headers()
            .get("x-amz-bucket-region")
            .and_then(|v| v.to_str().ok())
            .filter(|v| plausible_region(v))
            .map(str::to_string);
        Ok(value)
    })
}

pub fn open(remote: &RemoteConfig) -> Result<ObjectStore, StorageError> {
    let mut settings = S3Settings::from_remote(remote, &|k| std::env::var(k).ok())?;
    if let Some((name, hint)) = &settings.missing_profile {
        // botocore's ProfileNotFound, which DVC does not expect.
        return Err(StorageError::unexpected(format!(
            "The config profile ({name}) could not be found"
        ))
        .with_hint(hint.clone()));
    }
    if let Some(refusal) = settings.profile_refusal() {
        return Err(config_error(remote, refusal.to_string()));
    }
    let hint = format!(
        "the credentials git-dvc used (the remote's access_key_id/secret_access_key, profile or \
         credentialpath options, the AWS_* environment variables, ~/.aws/credentials) and \
         that they may read and write bucket '{}'",
        settings.bucket
    );
    let mut http = HttpSettings::from_remote(remote, "read_timeout", Client::Botocore)?;
    http.trust = Trust::for_client(
        Client::Botocore,
        remote.options.get("ssl_verify").map(String::as_str),
        &|k| std::env::var(k).ok(),
        settings.ca_bundle.as_deref(),
    );
    if settings.discover_region {
        if let Some(region) = bucket_region(&http, &region_probe_url(&settings))? {
            // `use_ssl = false` without an endpoint: the plain-HTTP endpoint of the region.
            let derived = format!("http://s3.{}.amazonaws.com", settings.region);
            if settings.endpoint.as_deref() == Some(derived.as_str()) {
                settings.endpoint = Some(format!("http://s3.{region}.amazonaws.com"));
            }
            settings.region = region;
        }
    }
    let build = |content_md5: bool| {
        Operator::new(settings.builder(content_md5))
            .map_err(|e| config_error(remote, format!("cannot set up S3 access: {e}")))
    };
    let op = build(true)?;
    let stream_op = build(false)?;
    ObjectStore::new(
        ObjectStoreSpec {
            remote: remote.name.clone(),
            url: remote.url.clone(),
            denied_hint: hint,
            prefix_len: Some(3),
            through_temporary_name: false,
            large_uploads: LargeUploads::Parts,
            name_as_content_md5: true,
            content_types: super::object_store::ContentTypes::Guessed,
            http,
            extra_headers: Vec::new(),
            s3_signer: settings.signer(),
        },
        op,
        Some(stream_op),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::loopback::{header_values, read_request, serve_one_connection};
    use std::collections::BTreeMap;

    fn remote(url: &str, opts: &[(&str, &str)]) -> RemoteConfig {
        RemoteConfig {
            name: "r".into(),
            url: url.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn bucket_prefix_and_defaults() {
        let s = S3Settings::from_remote(&remote("s3://bkt/some/prefix/", &[]), &no_env).unwrap();
        assert_eq!(s.bucket, "bkt");
        assert_eq!(s.root, "/some/prefix/");
        assert_eq!(s.region, "us-east-1");
        assert_eq!(s.endpoint, None);
        let s = S3Settings::from_remote(&remote("s3://bkt", &[]), &no_env).unwrap();
        assert_eq!(s.root, "/");
    }

    #[test]
    fn options_map() {
        let r = remote(
            "s3://b/p",
            &[
                ("endpointurl", "http://127.0.0.1:9000/"),
                ("region", "eu-west-1"),
                ("profile", "dev"),
                ("access_key_id", "AK"),
                ("secret_access_key", "SK"),
                ("session_token", "TOK"),
                ("sse", "aws:kms"),
                ("sse_kms_key_id", "kid"),
                ("acl", "bucket-owner-full-control"),
                ("credentialpath", "/c/creds"),
                ("configpath", "/c/config"),
            ],
        );
        let s = S3Settings::from_remote(&r, &no_env).unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(s.region, "eu-west-1");
        assert_eq!(s.profile.as_deref(), Some("dev"));
        assert_eq!(s.access_key_id.as_deref(), Some("AK"));
        assert_eq!(s.session_token.as_deref(), Some("TOK"));
        assert_eq!(s.sse.as_deref(), Some("aws:kms"));
        assert_eq!(s.sse_kms_key_id.as_deref(), Some("kid"));
        assert_eq!(s.acl.as_deref(), Some("bucket-owner-full-control"));
        assert_eq!(s.credentials_file.as_deref(), Some("/c/creds"));
        assert_eq!(s.config_file.as_deref(), Some("/c/config"));
    }

    #[test]
    fn use_ssl_false_means_http() {
        let s =
            S3Settings::from_remote(&remote("s3://b", &[("use_ssl", "false")]), &no_env).unwrap();
        assert_eq!(
            s.endpoint.as_deref(),
            Some("http://s3.us-east-1.amazonaws.com")
        );
        let s = S3Settings::from_remote(
            &remote(
                "s3://b",
                &[("use_ssl", "False"), ("endpointurl", "minio:9000")],
            ),
            &no_env,
        )
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://minio:9000"));
    }

    #[test]
    fn region_from_env_then_config_file() {
        let env = |k: &str| (k == "AWS_DEFAULT_REGION").then(|| "ap-south-1".to_string());
        let s = S3Settings::from_remote(&remote("s3://b", &[]), &env).unwrap();
        assert_eq!(s.region, "ap-south-1");

        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(
            &cfg,
            "[default]\nregion = us-west-2\n[profile dev]\nregion = eu-north-1\n",
        )
        .unwrap();
        let cfg = cfg.to_str().unwrap().to_string();
        let r = remote("s3://b", &[("configpath", &cfg), ("profile", "dev")]);
        assert_eq!(
            S3Settings::from_remote(&r, &no_env).unwrap().region,
            "eu-north-1"
        );
        let r = remote("s3://b", &[("configpath", &cfg)]);
        assert_eq!(
            S3Settings::from_remote(&r, &no_env).unwrap().region,
            "us-west-2"
        );
    }

    #[test]
    fn endpoint_from_env_then_config_file_unless_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config");
        std::fs::write(
            &cfg,
            "[default]\nendpoint_url = http://from-file:9000/\n\
             [profile dev]\nservices = local\n\
             [services local]\ns3 =\n  endpoint_url = http://dev-s3:4566\n",
        )
        .unwrap();
        let cfg = cfg.to_str().unwrap().to_string();
        let endpoint = |opts: &[(&str, &str)], vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let env = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            S3Settings::from_remote(&remote("s3://b", opts), &env)
                .unwrap()
                .endpoint
        };
        let file = [("configpath", cfg.as_str())];
        assert_eq!(
            endpoint(&file, &[]).as_deref(),
            Some("http://from-file:9000")
        );
        let dev = [("configpath", cfg.as_str()), ("profile", "dev")];
        assert_eq!(endpoint(&dev, &[]).as_deref(), Some("http://dev-s3:4566"));
        let both = [
            ("AWS_ENDPOINT_URL", "http://global:1"),
            ("AWS_ENDPOINT_URL_S3", "http://s3-only:2"),
        ];
        assert_eq!(endpoint(&file, &both).as_deref(), Some("http://s3-only:2"));
        assert_eq!(
            endpoint(&file, &both[..1]).as_deref(),
            Some("http://global:1")
        );
        // The remote's own endpointurl wins; the ignore switch drops the configured ones.
        let own = [
            ("configpath", cfg.as_str()),
            ("endpointurl", "http://own:3"),
        ];
        assert_eq!(endpoint(&own, &both).as_deref(), Some("http://own:3"));
        let ignore = [
            ("AWS_ENDPOINT_URL", "http://global:1"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "True"),
        ];
        assert_eq!(endpoint(&file, &ignore), None);
    }

    #[test]
    fn sse_c_key_is_base64() {
        let r = remote(
            "s3://b",
            &[
                ("sse_customer_algorithm", "AES256"),
                ("sse_customer_key", "AAEC"),
            ],
        );
        let s = S3Settings::from_remote(&r, &no_env).unwrap();
        assert_eq!(s.sse_customer, Some(("AES256".to_string(), vec![0, 1, 2])));
        // dvc-s3: a key alone means AES256.
        let r = remote("s3://b", &[("sse_customer_key", "AAEC")]);
        let s = S3Settings::from_remote(&r, &no_env).unwrap();
        assert_eq!(s.sse_customer, Some(("AES256".to_string(), vec![0, 1, 2])));
        // An algorithm without a key would make S3 refuse every upload.
        let r = remote("s3://b", &[("sse_customer_algorithm", "AES256")]);
        assert!(S3Settings::from_remote(&r, &no_env).is_err());
        // A named profile no file has is noted (and `open` stops on it), even with keys.
        let r = remote(
            "s3://b",
            &[
                ("profile", "nosuch"),
                ("access_key_id", "a"),
                ("secret_access_key", "b"),
            ],
        );
        let s = S3Settings::from_remote(&r, &no_env).unwrap();
        assert_eq!(s.missing_profile.unwrap().0, "nosuch");
        let s = S3Settings::from_remote(&remote("s3://b", &[]), &no_env).unwrap();
        assert_eq!(s.missing_profile, None);
        // SSE-C and KMS exclude each other, in DVC's words.
        let r = remote(
            "s3://b",
            &[("sse_customer_key", "AAEC"), ("sse_kms_key_id", "kid")],
        );
        let e = S3Settings::from_remote(&r, &no_env).unwrap_err();
        assert!(
            e.message.contains(
                "`sse_kms_key_id` and `sse_customer_key` AWS S3 config options are mutually exclusive"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn shared_files_follow_the_variables_first() {
        let env = |k: &str| match k {
            "AWS_SHARED_CREDENTIALS_FILE" => Some("/env/creds".to_string()),
            "AWS_PROFILE" => Some("envprofile".to_string()),
            _ => None,
        };
        let r = remote(
            "s3://b",
            &[
                ("credentialpath", "/opt/creds"),
                ("configpath", "/opt/config"),
            ],
        );
        let s = S3Settings::from_remote(&r, &env).unwrap();
        // DVC only sets AWS_SHARED_CREDENTIALS_FILE when it is unset.
        assert_eq!(s.credentials_file.as_deref(), Some("/env/creds"));
        assert_eq!(s.config_file.as_deref(), Some("/opt/config"));
        assert_eq!(s.profile.as_deref(), Some("envprofile"));
        assert!(!s.profile_explicit);
        let r = remote("s3://b", &[("profile", "own")]);
        let s = S3Settings::from_remote(&r, &env).unwrap();
        assert_eq!(s.profile.as_deref(), Some("own"));
        assert!(s.profile_explicit);
    }

    #[test]
    fn multipart_continuations_lose_the_initiate_only_headers() {
        let request = |uri: &str| {
            let (mut parts, ()) = http::Request::put(uri)
                .header("x-amz-server-side-encryption", "aws:kms")
                .header("x-amz-server-side-encryption-aws-kms-key-id", "kid")
                .header("x-amz-acl", "private")
                .header("x-amz-server-side-encryption-customer-algorithm", "AES256")
                .body(())
                .unwrap()
                .into_parts();
            prepare_for_signing(&mut parts);
            parts
        };
        let part = request("http://h/b/k?partNumber=1&uploadId=u%2Fx");
        assert!(part.headers.get("x-amz-server-side-encryption").is_none());
        assert!(part.headers.get("x-amz-acl").is_none());
        assert!(part
            .headers
            .get("x-amz-server-side-encryption-aws-kms-key-id")
            .is_none());
        // SSE-C goes on every part: S3 needs the key to encrypt it.
        assert!(part
            .headers
            .get("x-amz-server-side-encryption-customer-algorithm")
            .is_some());
        let complete = request("http://h/b/k?uploadId=u");
        assert!(complete
            .headers
            .get("x-amz-server-side-encryption")
            .is_none());
        let whole = request("http://h/b/k");
        assert!(whole.headers.get("x-amz-server-side-encryption").is_some());
        let initiate = request("http://h/b/k?uploads");
        assert!(initiate.headers.get("x-amz-acl").is_some());
        // The query as botocore encodes it.
        let list = request("http://h/b?list-type=2&prefix=a/b%20c~&delimiter=%2F");
        assert_eq!(
            list.uri.query(),
            Some("list-type=2&prefix=a%2Fb%20c~&delimiter=%2F")
        );
        assert_eq!(part.uri.query(), Some("partNumber=1&uploadId=u%2Fx"));
    }

    #[test]
    fn grants_are_refused_and_bad_bools_named() {
        let e = S3Settings::from_remote(&remote("s3://b", &[("grant_read", "id=x")]), &no_env)
            .unwrap_err();
        assert!(e.message.contains("grant_read"), "{}", e.message);
        let e = S3Settings::from_remote(&remote("s3://b", &[("use_ssl", "maybe")]), &no_env)
            .unwrap_err();
        assert!(e.message.contains("use_ssl"), "{}", e.message);
        let e = S3Settings::from_remote(&remote("s3:///x", &[]), &no_env).unwrap_err();
        assert!(e.message.contains("no bucket"), "{}", e.message);
    }

    /// Accepts `count` requests on 127.0.0.1 and answers each `200 OK`; returns the address
    /// and the request heads it saw.
    fn recording_server(count: usize) -> (String, std::thread::JoinHandle<Vec<String>>) {
        use std::io::Write;
        serve_one_connection(move |reader, writer| {
            (0..count)
                .map(|_| {
                    let head = read_request(reader);
                    writer
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .unwrap();
                    head
                })
                .collect()
        })
    }

    /// A DVC 3 object's name is its `Content-MD5` (no second hash of the bytes); a 2.x-era
    /// object, whose name is not the md5 of its bytes, gets one computed from them.
    #[test]
    fn single_request_uploads_carry_content_md5() {
        use crate::storage::Storage;
        use md5::{Digest, Md5};
        let (addr, server) = recording_server(2);
        let remote = remote(
            "s3://bkt/prefix",
            &[
                ("endpointurl", &format!("http://{addr}")),
                ("access_key_id", "AK"),
                ("secret_access_key", "SK"),
            ],
        );
        let store = open(&remote).unwrap();
        let bytes = b"some bytes".to_vec();
        let md5: [u8; 16] = Md5::digest(&bytes).into();
        let b64 = base64::engine::general_purpose::STANDARD.encode(md5);
        // A name that is not the bytes' md5 shows which one the header carries.
        let named = [7u8; 16];
        store
            .put(
                "files/md5/aa/bb",
                &mut &bytes[..],
                bytes.len() as u64,
                Some(&named),
            )
            .unwrap();
        store
            .put("aa/bb", &mut &bytes[..], bytes.len() as u64, None)
            .unwrap();
        let heads = server.join().unwrap();
        let named_b64 = base64::engine::general_purpose::STANDARD.encode(named);
        assert!(
            heads[0].starts_with("PUT /bkt/prefix/files/md5/aa/bb "),
            "{}",
            heads[0]
        );
        assert_eq!(header_values(&heads[0], "content-md5"), vec![named_b64]);
        assert!(
            heads[1].starts_with("PUT /bkt/prefix/aa/bb "),
            "{}",
            heads[1]
        );
        assert_eq!(header_values(&heads[1], "content-md5"), vec![b64]);
    }

    #[test]
    fn region_is_discovered_only_as_dvc_discovers_it() {
        let env_with = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = |opts: &[(&str, &str)], vars: &'static [(&'static str, &'static str)]| {
            S3Settings::from_remote(&remote("s3://b/p", opts), &env_with(vars))
                .unwrap()
                .discover_region
        };
        assert!(s(&[], &[]));
        // AWS_DEFAULT_REGION and the profile's region do not stop it (dvc-s3 looks at
        // AWS_REGION only); an endpoint from the environment does not either (s3fs looks
        // at its own arguments).
        assert!(s(&[], &[("AWS_DEFAULT_REGION", "eu-west-1")]));
        assert!(s(&[], &[("AWS_ENDPOINT_URL", "http://127.0.0.1:1")]));
        assert!(!s(&[("region", "eu-west-1")], &[]));
        assert!(!s(&[], &[("AWS_REGION", "eu-west-1")]));
        assert!(!s(&[], &[("AWS_REGION", "")]));
        assert!(!s(&[("endpointurl", "http://127.0.0.1:1")], &[]));
    }

    #[test]
    fn the_bucket_names_its_region() {
        use std::io::Write;
        let answers = [
            (
                "HTTP/1.1 301 Moved Permanently",
                "x-amz-bucket-region: eu-west-1\r\n",
                Some("eu-west-1"),
            ),
            (
                "HTTP/1.1 403 Forbidden",
                "x-amz-bucket-region: ap-south-1\r\n",
                Some("ap-south-1"),
            ),
            ("HTTP/1.1 200 OK", "", None),
            (
                "HTTP/1.1 200 OK",
                "x-amz-bucket-region: evil.example.com/\r\n",
                None,
            ),
        ];
        for (status, header, want) in answers {
            let (addr, server) = serve_one_connection(move |reader, writer| {
                let head = read_request(reader);
                writer
                    .write_all(format!("{status}\r\n{header}content-length: 0\r\n\r\n").as_bytes())
                    .unwrap();
                head
            });
            let settings = S3Settings {
                bucket: "bkt".into(),
                endpoint: Some(format!("http://{addr}")),
                region: "us-east-1".into(),
                ..S3Settings::default()
            };
            let http = HttpSettings {
                trust: Trust::for_client(Client::Botocore, None, &|_| None, None),
                connect_timeout: std::time::Duration::from_secs(10),
                read_timeout: std::time::Duration::from_secs(10),
            };
            let got = bucket_region(&http, &region_probe_url(&settings)).unwrap();
            assert_eq!(got.as_deref(), want, "{status} {header}");
            let head = server.join().unwrap();
            assert!(head.starts_with("HEAD /bkt HTTP/1.1\r\n"), "{head}");
            assert!(header_values(&head, "authorization").is_empty(), "{head}");
        }
        let aws = S3Settings {
            bucket: "bkt".into(),
            region: "us-west-2".into(),
            ..S3Settings::default()
        };
        assert_eq!(
            region_probe_url(&aws),
            "https://s3.us-west-2.amazonaws.com/bkt"
        );
    }
}
