//! The credentials of a named AWS profile, resolved as botocore resolves them (and so as
//! `dvc push` signs), for the S3 remote's credential chain ([`super::s3`]).
//!
//! botocore's chain, after the remote's own keys and the `AWS_*` key variables:
//!
//! 1. **assume role**: the profile has `role_arn` (and no `web_identity_token_file`): STS
//!    `AssumeRole` with the credentials of its `source_profile` (that profile's static
//!    keys, its `credential_process`, or, when it has no static keys and a `role_arn` of
//!    its own, the role it assumes, recursively) or of its `credential_source`
//!    (`Environment`, `Ec2InstanceMetadata`, `EcsContainer`); `role_session_name`,
//!    `external_id`, `duration_seconds` and `mfa_serial` (a code typed on the terminal)
//!    are sent. This comes *before* the profile's own static keys;
//! 2. web identity and SSO (reqsign's providers);
//! 3. the shared credentials file's keys for the profile;
//! 4. `credential_process`: the command (split as a shell would, run without one), whose
//!    standard output is botocore's JSON (`Version` 1, `AccessKeyId`, `SecretAccessKey`,
//!    `SessionToken`, `Expiration`; credentials are fetched again when they expire);
//! 5. the config file's keys for the profile;
//! 6. container and instance metadata.
//!
//! A profile is read from the config file (`[profile NAME]`, `[default]`) with the
//! credentials file's `[NAME]` values over it, as botocore merges them.
//!
//! What the profile asks for and git-dvc cannot do is refused with an error naming the
//! profile and the option, never replaced by other credentials: a cycle of source
//! profiles, a missing source profile, an unknown `credential_source`, `mfa_serial`
//! without a terminal (in a hook), a source profile that needs web identity or SSO.
//! The profile's structure is checked before any request ([`plan`]); commands and STS
//! run when a request is first signed.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use reqsign_aws_v4::Credential;
use reqsign_core::{Context, Error, ProvideCredential, Result, SignRequest};

use super::aws_config::AwsConfigFile;

/// How deep `source_profile` chains may go (botocore has no limit but its cycle check).
pub const MAX_ROLE_DEPTH: usize = 8;

/// The regions where botocore's `sts_regional_endpoints = legacy` uses the global
/// endpoint.
const LEGACY_GLOBAL_STS_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "aws-global",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

/// The shared config and credentials files.
#[derive(Debug, Default)]
pub struct SharedFiles {
    pub config: AwsConfigFile,
    pub credentials: AwsConfigFile,
}

impl SharedFiles {
    /// The profile as botocore's merged profile map holds it: the config file's values,
    /// the credentials file's over them; `None` when neither file has it.
    fn merged(&self, profile: &str) -> Option<HashMap<String, String>> {
        let config = self.config.profile_values(profile);
        let creds = self.credentials.section_values(profile);
        if config.is_none() && creds.is_none() {
            return None;
        }
        let mut out = config.cloned().unwrap_or_default();
        out.extend(creds.cloned().unwrap_or_default());
        Some(out)
    }

    /// Whether botocore's profile map has `profile` (a section of either file).
    pub fn has_profile(&self, profile: &str) -> bool {
        self.merged(profile).is_some()
    }

    fn keys_in(values: Option<&HashMap<String, String>>) -> Option<Credential> {
        let values = values?;
        let get = |k: &str| values.get(k).filter(|v| !v.is_empty()).cloned();
        Some(Credential {
            access_key_id: get("aws_access_key_id")?,
            secret_access_key: get("aws_secret_access_key")?,
            session_token: get("aws_session_token"),
            expires_in: None,
        })
    }
}

/// A credential source for `role_arn` profiles (botocore's canonical names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CanonicalSource {
    Environment,
    Ec2InstanceMetadata,
    EcsContainer,
}

/// What a profile's credentials come from, checked without I/O.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Keys written in one of the files.
    Static {
        profile: String,
        access_key_id: String,
        secret_access_key: String,
        session_token: Option<String>,
    },
    /// The profile's `credential_process`.
    Process { profile: String, command: String },
    /// `role_arn` with `credential_source`.
    Sourced {
        profile: String,
        source: CanonicalSource,
    },
    /// STS AssumeRole.
    AssumeRole(Box<RolePlan>),
    /// Nothing in the profile: the chain goes on (container, instance metadata).
    Nothing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolePlan {
    pub profile: String,
    pub role_arn: String,
    pub role_session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
    pub mfa_serial: Option<String>,
    pub source: Plan,
}

/// Whether resolving `plan` runs a `credential_process` command.
fn runs_a_command(plan: &Plan) -> bool {
    match plan {
        Plan::Process { .. } => true,
        Plan::AssumeRole(role) => runs_a_command(&role.source),
        _ => false,
    }
}

/// `plan`, unless it runs a `credential_process` written in an AWS file that sits in the
/// git work tree git-dvc runs in. Any branch can change such a file (a committed
/// `.dvc/config` can name it as `configpath`), and git-dvc's checkout and pre-push hooks
/// run by themselves on `git checkout` and `git push`: a command from there would run
/// whatever a branch's author wrote. DVC runs it on `dvc pull`; git-dvc refuses it and
/// says how to keep the command (in a file outside the repository).
pub fn refuse_commands_from_the_repository(
    plan: Plan,
    files: &[Option<String>],
) -> std::result::Result<Plan, String> {
    if !runs_a_command(&plan) {
        return Ok(plan);
    }
    let Some(top) = std::env::current_dir().ok().and_then(|d| work_tree_top(&d)) else {
        return Ok(plan);
    };
    for file in files.iter().flatten() {
        let Ok(real) = std::path::Path::new(file).canonicalize() else {
            continue;
        };
        if real.starts_with(&top) {
            let profile = match &plan {
                Plan::Process { profile, .. } => profile.clone(),
                Plan::AssumeRole(role) => role.profile.clone(),
                _ => String::new(),
            };
            return Err(refuse(
                &profile,
                format!(
                    "its `credential_process` comes from {}, inside the git work tree {}: a \
                     branch can change that file, and git-dvc's hooks would run its command by \
                     themselves; keep the AWS config file outside the repository (set \
                     `configpath`/`credentialpath` with `dvc remote modify --local`)",
                    real.display(),
                    top.display()
                ),
            ));
        }
    }
    Ok(plan)
}

/// The top of the git work tree holding `dir` (the nearest directory with a `.git`).
fn work_tree_top(dir: &std::path::Path) -> Option<std::path::PathBuf> {
    let dir = dir.canonicalize().ok()?;
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(std::path::Path::to_path_buf)
}

fn refuse(profile: &str, message: impl std::fmt::Display) -> String {
    format!("AWS profile '{profile}': {message}")
}

fn value<'a>(values: &'a HashMap<String, String>, key: &str) -> Option<&'a str> {
    values.get(key).map(String::as_str)
}

/// The plan for the selected profile (the remote's `profile`, else `AWS_PROFILE`, else
/// `default`); `mfa_allowed` says whether a code can be asked for on the terminal.
pub fn plan(
    files: &SharedFiles,
    profile: &str,
    mfa_allowed: &dyn Fn() -> std::result::Result<(), String>,
) -> std::result::Result<Plan, String> {
    let values = files.merged(profile).unwrap_or_default();
    if values.contains_key("role_arn") && !values.contains_key("web_identity_token_file") {
        let mut visited = vec![profile.to_string()];
        return plan_role(files, profile, &mut visited, mfa_allowed);
    }
    profile_chain(files, profile, true)
}

/// Static keys in the credentials file, `credential_process`, static keys in the config
/// file (botocore's profile providers, web identity and SSO apart: `top` is the selected
/// profile, whose web identity and SSO reqsign's providers handle; a source profile
/// needing them is refused).
fn profile_chain(
    files: &SharedFiles,
    profile: &str,
    top: bool,
) -> std::result::Result<Plan, String> {
    let values = files.merged(profile).unwrap_or_default();
    if values.contains_key("web_identity_token_file") {
        return Err(refuse(
            profile,
            "`web_identity_token_file` in a profile is not supported by git-dvc (use the \
             AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN variables, or `dvc push`)",
        ));
    }
    let static_plan = |c: Credential| Plan::Static {
        profile: profile.to_string(),
        access_key_id: c.access_key_id,
        secret_access_key: c.secret_access_key,
        session_token: c.session_token,
    };
    if let Some(c) = SharedFiles::keys_in(files.credentials.section_values(profile)) {
        return Ok(static_plan(c));
    }
    if !top
        && ["sso_session", "sso_start_url"]
            .iter()
            .any(|k| values.contains_key(*k))
    {
        return Err(refuse(
            profile,
            "SSO in a `source_profile` is not supported by git-dvc (use `dvc push`)",
        ));
    }
    if let Some(command) = value(&values, "credential_process").filter(|c| !c.trim().is_empty()) {
        return Ok(Plan::Process {
            profile: profile.to_string(),
            command: command.to_string(),
        });
    }
    if let Some(c) = SharedFiles::keys_in(files.config.profile_values(profile)) {
        return Ok(static_plan(c));
    }
    Ok(Plan::Nothing)
}

fn has_static(values: &HashMap<String, String>) -> bool {
    values.contains_key("aws_access_key_id") || values.contains_key("aws_secret_access_key")
}

fn plan_role(
    files: &SharedFiles,
    profile: &str,
    visited: &mut Vec<String>,
    mfa_allowed: &dyn Fn() -> std::result::Result<(), String>,
) -> std::result::Result<Plan, String> {
    if visited.len() > MAX_ROLE_DEPTH {
        return Err(refuse(
            profile,
            format!("more than {MAX_ROLE_DEPTH} profiles chained by `source_profile`"),
        ));
    }
    let values = files.merged(profile).unwrap_or_default();
    let role_arn = value(&values, "role_arn").unwrap_or_default().to_string();
    let source = match (
        value(&values, "source_profile"),
        value(&values, "credential_source"),
    ) {
        (Some(_), Some(_)) => {
            return Err(refuse(
                profile,
                "it contains both `source_profile` and `credential_source`",
            ))
        }
        (None, None) => {
            return Err(refuse(
                profile,
                "`role_arn` needs `source_profile` or `credential_source`",
            ))
        }
        (None, Some(source)) => {
            let source = match source {
                "Environment" => CanonicalSource::Environment,
                "Ec2InstanceMetadata" => CanonicalSource::Ec2InstanceMetadata,
                "EcsContainer" => CanonicalSource::EcsContainer,
                other => {
                    return Err(refuse(
                        profile,
                        format!(
                            "`credential_source = {other}` is not one of Environment, \
                             Ec2InstanceMetadata, EcsContainer"
                        ),
                    ))
                }
            };
            Plan::Sourced {
                profile: profile.to_string(),
                source,
            }
        }
        (Some(source), None) => {
            let Some(source_values) = files.merged(source) else {
                return Err(refuse(
                    profile,
                    format!("`source_profile = {source}`: no such profile in the shared files"),
                ));
            };
            let self_with_keys = source == profile && has_static(&source_values);
            if visited.iter().any(|v| v == source) && !self_with_keys {
                return Err(refuse(
                    profile,
                    format!(
                        "`source_profile = {source}` makes a cycle ({} -> {source})",
                        visited.join(" -> ")
                    ),
                ));
            }
            if has_static(&source_values) || !source_values.contains_key("role_arn") {
                match profile_chain(files, source, false)? {
                    Plan::Nothing => {
                        return Err(refuse(
                            source,
                            "used as `source_profile`, it must have static credentials, a \
                             `credential_process` or a `role_arn`",
                        ))
                    }
                    plan => plan,
                }
            } else {
                visited.push(source.to_string());
                plan_role(files, source, visited, mfa_allowed)?
            }
        }
    };
    let mfa_serial = value(&values, "mfa_serial").map(str::to_string);
    if mfa_serial.is_some() {
        mfa_allowed().map_err(|why| {
            refuse(
                profile,
                format!(
                    "`mfa_serial` needs an MFA code typed on the terminal, and git-dvc does not \
                     prompt {why}: run the command in a terminal, or use a profile without \
                     `mfa_serial` (temporary keys from `aws sts get-session-token`, or a \
                     `credential_process`)"
                ),
            )
        })?;
    }
    Ok(Plan::AssumeRole(Box::new(RolePlan {
        profile: profile.to_string(),
        role_arn,
        role_session_name: value(&values, "role_session_name").map(str::to_string),
        external_id: value(&values, "external_id").map(str::to_string),
        // botocore: a value that is not an integer is left out.
        duration_seconds: value(&values, "duration_seconds").and_then(|d| d.trim().parse().ok()),
        mfa_serial,
        source,
    })))
}

/// Where STS requests go and the region they are signed for, as botocore's STS client
/// of the session finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsSettings {
    pub endpoint: String,
    pub region: String,
}

impl StsSettings {
    /// `region`: the client's region (the remote's `region`, else `AWS_DEFAULT_REGION`,
    /// else the profile's); the endpoint: `AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`,
    /// the profile's configured `sts` endpoint (unless configured endpoints are ignored),
    /// else the regional endpoint, or the global one for `sts_regional_endpoints =
    /// legacy` in the regions botocore keeps global and without a region.
    pub fn resolve(
        env: &dyn Fn(&str) -> Option<String>,
        config: &AwsConfigFile,
        profile: &str,
        region: Option<&str>,
    ) -> std::result::Result<StsSettings, String> {
        let set = |k: &str| env(k).filter(|v| !v.is_empty());
        let ignore = super::aws_config::configured_endpoints_ignored(env, config, profile);
        let configured = (!ignore)
            .then(|| {
                set("AWS_ENDPOINT_URL_STS")
                    .or_else(|| set("AWS_ENDPOINT_URL"))
                    .or_else(|| config.service_endpoint(profile, "sts").map(str::to_string))
            })
            .flatten();
        let mode = set("AWS_STS_REGIONAL_ENDPOINTS")
            .or_else(|| {
                config
                    .profile_value(profile, "sts_regional_endpoints")
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "regional".to_string());
        if mode != "regional" && mode != "legacy" {
            return Err(refuse(
                profile,
                format!("`sts_regional_endpoints = {mode}` is not `legacy` or `regional`"),
            ));
        }
        let endpoint = match (configured, region) {
            (Some(e), _) => e.trim_end_matches('/').to_string(),
            (None, Some(r)) if mode == "regional" || !LEGACY_GLOBAL_STS_REGIONS.contains(&r) => {
                let suffix = if r.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("https://sts.{r}.{suffix}")
            }
            (None, _) => "https://sts.amazonaws.com".to_string(),
        };
        Ok(StsSettings {
            endpoint,
            region: region.unwrap_or("us-east-1").to_string(),
        })
    }
}

/// Runs a [`Plan`] when a request is first signed (and again when its credentials
/// expire). Errors stop the chain: no other credentials are tried.
#[derive(Debug)]
pub struct PlanProvider {
    pub plan: std::result::Result<Plan, String>,
    pub sts: std::result::Result<StsSettings, String>,
}

type Boxed<'a> = Pin<Box<dyn Future<Output = Result<Option<Credential>>> + Send + 'a>>;

impl PlanProvider {
    fn run<'a>(&'a self, plan: &'a Plan, ctx: &'a Context) -> Boxed<'a> {
        Box::pin(async move {
            match plan {
                Plan::Nothing => Ok(None),
                Plan::Static {
                    access_key_id,
                    secret_access_key,
                    session_token,
                    ..
                } => Ok(Some(Credential {
                    access_key_id: access_key_id.clone(),
                    secret_access_key: secret_access_key.clone(),
                    session_token: session_token.clone(),
                    expires_in: None,
                })),
                Plan::Process { profile, command } => {
                    let (profile, command) = (profile.clone(), command.clone());
                    tokio::task::spawn_blocking(move || run_process(&profile, &command))
                        .await
                        .map_err(|e| Error::unexpected(format!("credential_process: {e}")))?
                        .map(Some)
                        .map_err(Error::config_invalid)
                }
                Plan::Sourced { profile, source } => {
                    let found = match source {
                        CanonicalSource::Environment => {
                            reqsign_aws_v4::EnvCredentialProvider::new()
                                .provide_credential(ctx)
                                .await
                        }
                        CanonicalSource::Ec2InstanceMetadata => {
                            reqsign_aws_v4::IMDSv2CredentialProvider::default()
                                .provide_credential(ctx)
                                .await
                        }
                        CanonicalSource::EcsContainer => {
                            reqsign_aws_v4::ECSCredentialProvider::default()
                                .provide_credential(ctx)
                                .await
                        }
                    };
                    match found {
                        Ok(Some(c)) => Ok(Some(c)),
                        other => Err(Error::config_invalid(refuse(
                            profile,
                            format!(
                                "no credentials from `credential_source = {source:?}`{}",
                                other.err().map(|e| format!(": {e}")).unwrap_or_default()
                            ),
                        ))),
                    }
                }
                Plan::AssumeRole(role) => {
                    let Some(source) = self.run(&role.source, ctx).await? else {
                        return Err(Error::config_invalid(refuse(
                            &role.profile,
                            "its source gave no credentials",
                        )));
                    };
                    let sts = self
                        .sts
                        .as_ref()
                        .map_err(|e| Error::config_invalid(e.clone()))?;
                    assume_role(ctx, sts, role, &source).await.map(Some)
                }
            }
        })
    }
}

impl ProvideCredential for PlanProvider {
    type Credential = Credential;

    async fn provide_credential(&self, ctx: &Context) -> Result<Option<Credential>> {
        match &self.plan {
            Ok(plan) => self.run(plan, ctx).await,
            Err(message) => Err(Error::config_invalid(message.clone())),
        }
    }
}

/// The most of a `credential_process`'s output read as JSON.
const MAX_PROCESS_OUTPUT: usize = 64 * 1024;

/// Runs `command` (split as a POSIX shell would, as botocore does) and reads botocore's
/// JSON from its standard output.
pub fn run_process(profile: &str, command: &str) -> std::result::Result<Credential, String> {
    let fail = |m: String| refuse(profile, format!("`credential_process`: {m}"));
    let argv = shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(format!("cannot split the command line {command:?}")))?;
    let output = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot run {:?}: {e}", argv[0])))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let stderr: String = stderr.trim().chars().take(2000).collect();
        return Err(fail(format!(
            "{:?} failed ({}): {stderr}",
            argv[0], output.status
        )));
    }
    if output.stdout.len() > MAX_PROCESS_OUTPUT {
        return Err(fail(format!(
            "its output is larger than {MAX_PROCESS_OUTPUT} bytes"
        )));
    }
    parse_process_output(&output.stdout).map_err(fail)
}

/// botocore's `credential_process` format, version 1.
pub fn parse_process_output(bytes: &[u8]) -> std::result::Result<Credential, String> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("its output is not JSON: {e}"))?;
    let version = json.get("Version");
    if version.and_then(serde_json::Value::as_f64) != Some(1.0) {
        return Err(format!(
            "unsupported Version {}, supported versions: 1",
            version.map_or("<Version key not provided>".to_string(), |v| v.to_string())
        ));
    }
    let text = |k: &str| json.get(k).and_then(serde_json::Value::as_str);
    let required = |k: &str| {
        text(k)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .ok_or_else(|| format!("missing required key in its output: '{k}'"))
    };
    let expires_in = match text("Expiration") {
        None => None,
        Some(e) => Some(
            e.parse::<reqsign_core::time::Timestamp>()
                .map_err(|_| format!("its Expiration {e:?} is not an ISO 8601 time"))?,
        ),
    };
    Ok(Credential {
        access_key_id: required("AccessKeyId")?,
        secret_access_key: required("SecretAccessKey")?,
        session_token: text("SessionToken").map(str::to_string),
        expires_in,
    })
}

/// SigV4's URI encoding, used for the form body.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The form body of an `AssumeRole` call.
pub fn assume_role_body(role: &RolePlan, session_name: &str, token_code: Option<&str>) -> String {
    let mut fields: Vec<(&str, String)> = vec![
        ("Action", "AssumeRole".into()),
        ("Version", "2011-06-15".into()),
        ("RoleArn", role.role_arn.clone()),
        ("RoleSessionName", session_name.to_string()),
    ];
    if let Some(d) = role.duration_seconds {
        fields.push(("DurationSeconds", d.to_string()));
    }
    if let Some(id) = &role.external_id {
        fields.push(("ExternalId", id.clone()));
    }
    if let (Some(serial), Some(code)) = (&role.mfa_serial, token_code) {
        fields.push(("SerialNumber", serial.clone()));
        fields.push(("TokenCode", code.to_string()));
    }
    fields
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

async fn assume_role(
    ctx: &Context,
    sts: &StsSettings,
    role: &RolePlan,
    source: &Credential,
) -> Result<Credential> {
    let fail = |m: String| {
        Error::credential_invalid(refuse(
            &role.profile,
            format!(
                "STS AssumeRole of {} at {}: {m}",
                role.role_arn, sts.endpoint
            ),
        ))
    };
    let session_name = role.role_session_name.clone().unwrap_or_else(|| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        format!("botocore-session-{now}")
    });
    let token_code = match &role.mfa_serial {
        None => None,
        Some(serial) => {
            let prompt = format!("Enter MFA code for {serial}: ");
            let code = tokio::task::spawn_blocking(move || super::prompt::secret(&prompt))
                .await
                .map_err(|e| fail(e.to_string()))?
                .map_err(|why| fail(format!("`mfa_serial` needs a code; not prompting {why}")))?;
            Some(code.trim().to_string())
        }
    };
    let body = assume_role_body(role, &session_name, token_code.as_deref());
    let request = http::Request::post(format!("{}/", sts.endpoint))
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header(
            "x-amz-content-sha256",
            reqsign_core::hash::hex_sha256(body.as_bytes()),
        )
        .body(bytes::Bytes::from(body))
        .map_err(|e| fail(e.to_string()))?;
    let (mut parts, body) = request.into_parts();
    reqsign_aws_v4::RequestSigner::new("sts", &sts.region)
        .sign_request(ctx, &mut parts, Some(source), None)
        .await
        .map_err(|e| fail(format!("cannot sign: {e}")))?;
    let response = ctx
        .http_send(http::Request::from_parts(parts, body))
        .await
        .map_err(|e| fail(format!("{e}")))?;
    let status = response.status();
    let text = String::from_utf8_lossy(response.body()).into_owned();
    if !status.is_success() {
        let code = xml_text(&text, "Code").unwrap_or_default();
        let message = xml_text(&text, "Message").unwrap_or_default();
        return Err(fail(format!("HTTP {status}: {code}: {message}")));
    }
    parse_assume_role_result(&text).map_err(fail)
}

/// The temporary credentials in an `AssumeRoleResponse`.
pub fn parse_assume_role_result(xml: &str) -> std::result::Result<Credential, String> {
    let start = xml
        .find("<Credentials>")
        .ok_or("no <Credentials> in the answer")?;
    let creds = &xml[start..];
    let field = |k: &str| {
        xml_text(creds, k)
            .filter(|v| !v.is_empty())
            .ok_or(format!("no <{k}> in the answer"))
    };
    let expiration = field("Expiration")?;
    Ok(Credential {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
        expires_in: Some(
            expiration
                .parse()
                .map_err(|_| format!("its Expiration {expiration:?} is not a time"))?,
        ),
    })
}

/// The text of the first `<tag>…</tag>` in `xml`, its entities decoded.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(
        xml[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(config: &str, credentials: &str) -> SharedFiles {
        SharedFiles {
            config: AwsConfigFile::parse(config),
            credentials: AwsConfigFile::parse(credentials),
        }
    }

    fn no_mfa() -> std::result::Result<(), String> {
        Err("in a hook".to_string())
    }

    fn role_of(plan: &Plan) -> &RolePlan {
        match plan {
            Plan::AssumeRole(r) => r,
            other => panic!("not a role: {other:?}"),
        }
    }

    #[test]
    fn role_comes_before_the_profiles_own_keys() {
        let f = files(
            "[profile both]\nrole_arn = arn:aws:iam::123456789012:role/r\nsource_profile = src\n\
             role_session_name = s1\nexternal_id = x\nduration_seconds = 900\n",
            "[both]\naws_access_key_id = AKSTATIC\naws_secret_access_key = s\n\
             [src]\naws_access_key_id = AKSRC\naws_secret_access_key = s\n",
        );
        let plan = plan(&f, "both", &no_mfa).unwrap();
        let role = role_of(&plan);
        assert_eq!(role.role_arn, "arn:aws:iam::123456789012:role/r");
        assert_eq!(role.role_session_name.as_deref(), Some("s1"));
        assert_eq!(role.external_id.as_deref(), Some("x"));
        assert_eq!(role.duration_seconds, Some(900));
        assert!(
            matches!(&role.source, Plan::Static { access_key_id, .. } if access_key_id == "AKSRC")
        );
    }

    #[test]
    fn source_profiles_chain_and_cycles_are_refused() {
        let f = files(
            "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = b\n\
             [profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = c\n\
             [profile c]\ncredential_process = /bin/echo hi\n\
             [profile self]\nrole_arn = arn:aws:iam::1:role/s\nsource_profile = self\n\
             aws_access_key_id = AKSELF\naws_secret_access_key = s\n\
             [profile loop1]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = arn:aws:iam::1:role/l\nsource_profile = loop1\n\
             [profile missing]\nrole_arn = arn:aws:iam::1:role/m\nsource_profile = nope\n\
             [profile neither]\nrole_arn = arn:aws:iam::1:role/n\n\
             [profile both]\nrole_arn = arn:aws:iam::1:role/n\nsource_profile = c\n\
             credential_source = Environment\n\
             [profile odd]\nrole_arn = arn:aws:iam::1:role/n\ncredential_source = Moon\n\
             [profile env]\nrole_arn = arn:aws:iam::1:role/n\ncredential_source = Environment\n\
             [profile empty]\nregion = x\n\
             [profile bare]\nrole_arn = arn:aws:iam::1:role/n\nsource_profile = empty\n",
            "",
        );
        let a = plan(&f, "a", &no_mfa).unwrap();
        let b = role_of(&role_of(&a).source);
        assert_eq!(b.profile, "b");
        assert!(matches!(&b.source, Plan::Process { command, .. } if command == "/bin/echo hi"));
        // A profile may name itself when it has keys: they are the source.
        let s = plan(&f, "self", &no_mfa).unwrap();
        assert!(
            matches!(&role_of(&s).source, Plan::Static { access_key_id, .. } if access_key_id == "AKSELF")
        );
        let err = |p: &str| plan(&f, p, &no_mfa).unwrap_err();
        assert!(
            err("loop1").contains("cycle (loop1 -> loop2 -> loop1)"),
            "{}",
            err("loop1")
        );
        assert!(err("missing").contains("`source_profile = nope`: no such profile"));
        assert!(err("neither").contains("needs `source_profile` or `credential_source`"));
        assert!(err("both").contains("both `source_profile` and `credential_source`"));
        assert!(err("odd").contains("`credential_source = Moon`"));
        assert!(err("bare").contains("AWS profile 'empty': used as `source_profile`"));
        assert!(matches!(
            role_of(&plan(&f, "env", &no_mfa).unwrap()).source,
            Plan::Sourced {
                source: CanonicalSource::Environment,
                ..
            }
        ));
    }

    #[test]
    fn depth_is_bounded() {
        let mut config = String::new();
        for i in 0..20 {
            config.push_str(&format!(
                "[profile p{i}]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = p{}\n",
                i + 1
            ));
        }
        config.push_str("[profile p20]\naws_access_key_id = a\naws_secret_access_key = s\n");
        let e = plan(&files(&config, ""), "p0", &no_mfa).unwrap_err();
        assert!(e.contains("more than 8 profiles"), "{e}");
    }

    #[test]
    fn mfa_needs_a_terminal() {
        let f = files(
            "[profile m]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = m\n\
             mfa_serial = arn:aws:iam::1:mfa/me\n",
            "[m]\naws_access_key_id = a\naws_secret_access_key = s\n",
        );
        let e = plan(&f, "m", &no_mfa).unwrap_err();
        assert!(
            e.contains("AWS profile 'm': `mfa_serial` needs an MFA code")
                && e.contains("in a hook"),
            "{e}"
        );
        let ok = plan(&f, "m", &|| Ok(())).unwrap();
        assert_eq!(
            role_of(&ok).mfa_serial.as_deref(),
            Some("arn:aws:iam::1:mfa/me")
        );
    }

    #[test]
    fn profile_chain_order() {
        // Credentials file keys, then credential_process, then config file keys.
        let f = files(
            "[profile p]\ncredential_process = cmd\naws_access_key_id = AKCONF\n\
             aws_secret_access_key = s\n[profile q]\naws_access_key_id = AKCONF\n\
             aws_secret_access_key = s\n[profile w]\nweb_identity_token_file = /t\n",
            "[p]\naws_access_key_id = AKCREDS\naws_secret_access_key = s\n\
             [r]\ncredential_process = other\n",
        );
        assert!(
            matches!(plan(&f, "p", &no_mfa).unwrap(), Plan::Static { access_key_id, .. } if access_key_id == "AKCREDS")
        );
        assert!(
            matches!(plan(&f, "q", &no_mfa).unwrap(), Plan::Static { access_key_id, .. } if access_key_id == "AKCONF")
        );
        assert!(
            matches!(plan(&f, "r", &no_mfa).unwrap(), Plan::Process { command, .. } if command == "other")
        );
        assert_eq!(plan(&f, "absent", &no_mfa).unwrap(), Plan::Nothing);
        assert!(plan(&f, "w", &no_mfa)
            .unwrap_err()
            .contains("web_identity_token_file"));
    }

    #[test]
    fn process_output_as_botocore_reads_it() {
        let c = parse_process_output(
            br#"{"Version": 1, "AccessKeyId": "AKP", "SecretAccessKey": "s",
                "SessionToken": "t", "Expiration": "2099-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(c.access_key_id, "AKP");
        assert_eq!(c.session_token.as_deref(), Some("t"));
        assert!(c.expires_in.is_some());
        let e = parse_process_output(br#"{"Version": 2, "AccessKeyId": "a"}"#).unwrap_err();
        assert!(e.contains("unsupported Version 2"), "{e}");
        let e = parse_process_output(br#"{"Version": 1, "AccessKeyId": "a"}"#).unwrap_err();
        assert!(e.contains("'SecretAccessKey'"), "{e}");
        assert!(parse_process_output(b"not json").is_err());
        let e = run_process("p", "/bin/sh -c 'echo nope >&2; exit 3'").unwrap_err();
        assert!(
            e.contains("AWS profile 'p': `credential_process`") && e.contains("nope"),
            "{e}"
        );
        let c = run_process(
            "p",
            r#"/bin/sh -c 'echo "{\"Version\": 1, \"AccessKeyId\": \"AKRUN\", \"SecretAccessKey\": \"s\"}"'"#,
        )
        .unwrap();
        assert_eq!(c.access_key_id, "AKRUN");
        assert_eq!(c.expires_in, None);
    }

    #[test]
    fn sts_endpoint_as_botocore() {
        let cfg = AwsConfigFile::parse(
            "[profile s]\nservices = local\n[services local]\nsts =\n  endpoint_url = http://sts-local:1\n\
             [profile legacy]\nsts_regional_endpoints = legacy\n",
        );
        let env_none = |_: &str| None;
        let r = |env: &dyn Fn(&str) -> Option<String>, p: &str, region: Option<&str>| {
            StsSettings::resolve(env, &cfg, p, region).unwrap().endpoint
        };
        assert_eq!(
            r(&env_none, "x", Some("eu-west-1")),
            "https://sts.eu-west-1.amazonaws.com"
        );
        assert_eq!(r(&env_none, "x", None), "https://sts.amazonaws.com");
        assert_eq!(
            r(&env_none, "legacy", Some("eu-west-1")),
            "https://sts.amazonaws.com"
        );
        assert_eq!(
            r(&env_none, "legacy", Some("af-south-1")),
            "https://sts.af-south-1.amazonaws.com"
        );
        assert_eq!(r(&env_none, "s", Some("eu-west-1")), "http://sts-local:1");
        let env = |k: &str| (k == "AWS_ENDPOINT_URL_STS").then(|| "http://env-sts:2/".to_string());
        assert_eq!(r(&env, "s", None), "http://env-sts:2");
        let bad = |k: &str| (k == "AWS_STS_REGIONAL_ENDPOINTS").then(|| "nope".to_string());
        assert!(StsSettings::resolve(&bad, &cfg, "x", None).is_err());
    }

    #[test]
    fn assume_role_request_and_answer() {
        let role = RolePlan {
            profile: "p".into(),
            role_arn: "arn:aws:iam::1:role/r".into(),
            role_session_name: None,
            external_id: Some("ext id".into()),
            duration_seconds: Some(900),
            mfa_serial: None,
            source: Plan::Nothing,
        };
        assert_eq!(
            assume_role_body(&role, "s", None),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr&\
             RoleSessionName=s&DurationSeconds=900&ExternalId=ext%20id"
        );
        let xml = "<AssumeRoleResponse><AssumeRoleResult><Credentials>\
                   <AccessKeyId>ASIAXX</AccessKeyId><SecretAccessKey>a/b+c</SecretAccessKey>\
                   <SessionToken>tok&amp;en</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration>\
                   </Credentials></AssumeRoleResult></AssumeRoleResponse>";
        let c = parse_assume_role_result(xml).unwrap();
        assert_eq!(c.access_key_id, "ASIAXX");
        assert_eq!(c.secret_access_key, "a/b+c");
        assert_eq!(c.session_token.as_deref(), Some("tok&en"));
        assert!(parse_assume_role_result("<Error/>").is_err());
    }
}
