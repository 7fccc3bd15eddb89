//! `azure://container/prefix` remotes (Azure Blob Storage, Azurite) through opendal, with
//! DVC's remote options (`dvc_azure` over adlfs), read as DVC reads them:
//!
//! | option | effect |
//! | --- | --- |
//! | `connection_string` | else `AZURE_STORAGE_CONNECTION_STRING`, else `[storage] connection_string` of the Azure CLI's config: endpoint and credentials, and nothing else is used (as in adlfs) |
//! | `account_name` | else `AZURE_STORAGE_ACCOUNT`, the CLI config's `account`, `AZURE_STORAGE_ACCOUNT_NAME`; the endpoint is `https://<account>.blob.core.windows.net` |
//! | `account_key` | else `AZURE_STORAGE_KEY`, the CLI config's `key`, `AZURE_STORAGE_ACCOUNT_KEY` |
//! | `sas_token` | else `AZURE_STORAGE_SAS_TOKEN`, the CLI config's `sas_token` |
//! | `tenant_id`, `client_id`, `client_secret` | a service principal (all three; else `AZURE_STORAGE_TENANT_ID`, `AZURE_STORAGE_CLIENT_ID`, `AZURE_STORAGE_CLIENT_SECRET`), when there is no key or SAS token; the token comes from `AZURE_AUTHORITY_HOST` (default `https://login.microsoftonline.com`) |
//! | `exclude_environment_credential`, `exclude_managed_identity_credential` | leave that source out of the default chain |
//! | `exclude_visual_studio_code_credential`, `exclude_shared_token_cache_credential` | accepted: git-dvc never uses those sources |
//! | `allow_anonymous_login` | unsigned requests |
//! | `read_timeout`, `connection_timeout` | seconds; `timeout` (Azure's server-side limit per operation) is accepted and not sent |
//!
//! Which credential signs, in adlfs's order: a connection string; else the account's key;
//! else its SAS token; else the service principal; else (unless anonymous) the default
//! chain in `DefaultAzureCredential`'s order: the `AZURE_TENANT_ID`/`AZURE_CLIENT_ID`/
//! `AZURE_CLIENT_SECRET` (or certificate) environment, workload identity, managed
//! identity, the Azure CLI. (DVC's chain also asks Visual Studio Code, the shared token
//! cache, PowerShell and a browser, which git-dvc cannot.) Uploads are block blobs: a
//! streamed upload only becomes visible when its block list is committed.

use std::path::Path;

use opendal::services::Azblob;
use opendal::Operator;
use reqsign_azure_storage as azure_auth;

use super::object_store::{
    bucket_and_prefix, root_for, HttpSettings, LargeUploads, ObjectStore, ObjectStoreSpec,
};
use super::{option_bool, option_str, StorageError};
use crate::dvc::config::RemoteConfig;

/// How requests to the account are authorised, chosen as adlfs chooses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureAuth {
    /// Everything comes from the connection string.
    ConnectionString(String),
    SharedKey(String),
    Sas(String),
    ServicePrincipal {
        tenant_id: String,
        client_id: String,
        client_secret: String,
    },
    Anonymous,
    /// `DefaultAzureCredential`, minus the sources the remote excludes.
    Default {
        exclude_environment: bool,
        exclude_managed_identity: bool,
    },
}

/// What opendal needs, resolved from the remote's options and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureSettings {
    pub container: String,
    pub root: String,
    pub endpoint: Option<String>,
    pub account_name: Option<String>,
    pub auth: AzureAuth,
    /// Where service principal tokens come from (`AZURE_AUTHORITY_HOST`).
    pub authority_host: Option<String>,
}

impl AzureSettings {
    /// Maps a remote's URL and options; `env` reads environment variables, `cli_config`
    /// the `[storage]` values of the Azure CLI's config file.
    pub fn from_remote(
        remote: &RemoteConfig,
        env: &dyn Fn(&str) -> Option<String>,
        cli_config: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AzureSettings, StorageError> {
        let (container, prefix) = bucket_and_prefix(remote, &remote.url)?;
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        // dvc-azure: the option, else knack's `AZURE_STORAGE_*` variable or CLI config;
        // adlfs then falls back to its own variables.
        let pick = |key: &str, knack_var: &str, cli_key: &str, adlfs_var: Option<&str>| {
            option_str(remote, key)
                .map(str::to_string)
                .or_else(|| var(knack_var))
                .or_else(|| cli_config(cli_key).filter(|v| !v.is_empty()))
                .or_else(|| adlfs_var.and_then(var))
        };
        let connection_string = pick(
            "connection_string",
            "AZURE_STORAGE_CONNECTION_STRING",
            "connection_string",
            None,
        );
        let account_name = pick(
            "account_name",
            "AZURE_STORAGE_ACCOUNT",
            "account",
            Some("AZURE_STORAGE_ACCOUNT_NAME"),
        );
        let account_key = pick(
            "account_key",
            "AZURE_STORAGE_KEY",
            "key",
            Some("AZURE_STORAGE_ACCOUNT_KEY"),
        );
        let sas_token = pick("sas_token", "AZURE_STORAGE_SAS_TOKEN", "sas_token", None)
            .map(|t| t.trim_start_matches('?').to_string());
        let principal = |key: &str, adlfs_var: &str| {
            option_str(remote, key)
                .map(str::to_string)
                .or_else(|| var(adlfs_var))
        };
        let tenant_id = principal("tenant_id", "AZURE_STORAGE_TENANT_ID");
        let client_id = principal("client_id", "AZURE_STORAGE_CLIENT_ID");
        let client_secret = principal("client_secret", "AZURE_STORAGE_CLIENT_SECRET");
        let anonymous = option_bool(remote, "allow_anonymous_login")?.unwrap_or(false);
        if connection_string.is_none() && account_name.is_none() {
            return Err(StorageError::config(
                &remote.name,
                format!(
                    "({}): Authentication to Azure Blob Storage requires either account_name \
                     or connection_string: set the remote's `connection_string` or \
                     `account_name` option, or AZURE_STORAGE_CONNECTION_STRING",
                    remote.url
                ),
            ));
        }
        let auth = if let Some(cs) = connection_string {
            AzureAuth::ConnectionString(cs)
        } else if let Some(key) = account_key {
            AzureAuth::SharedKey(key)
        } else if let Some(sas) = sas_token {
            AzureAuth::Sas(sas)
        } else if let Some(client_id) = client_id {
            match (tenant_id, client_secret) {
                (Some(tenant_id), Some(client_secret)) => AzureAuth::ServicePrincipal {
                    tenant_id,
                    client_id,
                    client_secret,
                },
                _ => {
                    return Err(StorageError::config(
                        &remote.name,
                        "a service principal needs tenant_id, client_id and client_secret \
                         together",
                    ))
                }
            }
        } else if anonymous {
            AzureAuth::Anonymous
        } else {
            AzureAuth::Default {
                exclude_environment: option_bool(remote, "exclude_environment_credential")?
                    .unwrap_or(false),
                exclude_managed_identity: option_bool(
                    remote,
                    "exclude_managed_identity_credential",
                )?
                .unwrap_or(false),
            }
        };
        Ok(AzureSettings {
            container: container.to_string(),
            root: root_for(prefix),
            endpoint: account_name
                .as_ref()
                .map(|a| format!("https://{a}.blob.core.windows.net")),
            account_name,
            auth,
            authority_host: var("AZURE_AUTHORITY_HOST"),
        })
    }

    fn builder(&self, remote: &RemoteConfig) -> Result<Azblob, StorageError> {
        let mut b = match &self.auth {
            AzureAuth::ConnectionString(cs) => Azblob::from_connection_string(cs).map_err(|e| {
                StorageError::config(
                    &remote.name,
                    format!("the Azure connection string is invalid: {}", e.message()),
                )
            })?,
            _ => {
                let mut b = Azblob::default();
                if let Some(e) = &self.endpoint {
                    b = b.endpoint(e);
                }
                if let Some(a) = &self.account_name {
                    b = b.account_name(a);
                }
                b
            }
        };
        b = b.container(&self.container).root(&self.root);
        match &self.auth {
            AzureAuth::ConnectionString(_) => {}
            AzureAuth::SharedKey(key) => b = b.account_key(key),
            AzureAuth::Sas(token) => b = b.sas_token(token),
            AzureAuth::Anonymous => b = b.skip_signature(),
            AzureAuth::ServicePrincipal { .. } | AzureAuth::Default { .. } => {
                b = b.credential_provider_chain(self.token_chain());
            }
        }
        Ok(b)
    }

    /// The token sources for a service principal or the default chain.
    fn token_chain(&self) -> reqsign_core::ProvideCredentialChain<azure_auth::Credential> {
        let chain = reqsign_core::ProvideCredentialChain::new();
        match &self.auth {
            AzureAuth::ServicePrincipal {
                tenant_id,
                client_id,
                client_secret,
            } => {
                let mut sp = azure_auth::ClientSecretCredentialProvider::new()
                    .with_tenant_id(tenant_id)
                    .with_client_id(client_id)
                    .with_client_secret(client_secret);
                if let Some(host) = &self.authority_host {
                    sp = sp.with_authority_host(host);
                }
                chain.push(sp)
            }
            AzureAuth::Default {
                exclude_environment,
                exclude_managed_identity,
            } => {
                // DefaultAzureCredential's order (azure-identity), as far as git-dvc has
                // the sources.
                let mut chain = chain;
                if !exclude_environment {
                    chain = chain
                        .push(azure_auth::ClientSecretCredentialProvider::new())
                        .push(azure_auth::ClientCertificateCredentialProvider::new());
                }
                chain = chain.push(azure_auth::WorkloadIdentityCredentialProvider::new());
                if !exclude_managed_identity {
                    chain = chain.push(azure_auth::ImdsCredentialProvider::new());
                }
                chain.push(azure_auth::AzureCliCredentialProvider::new())
            }
            _ => chain,
        }
    }
}

/// The `[storage]` section of the Azure CLI's config file (`$AZURE_CONFIG_DIR/config`,
/// else `~/.azure/config`), which DVC reads through knack.
fn cli_storage_config() -> impl Fn(&str) -> Option<String> {
    let dir = std::env::var_os("AZURE_CONFIG_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".azure")));
    let text = dir
        .and_then(|d| std::fs::read_to_string(d.join("config")).ok())
        .unwrap_or_default();
    let values = storage_section(&text);
    move |key: &str| {
        values
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }
}

/// `key = value` lines of the `[storage]` section of an INI text (keys lower-cased).
fn storage_section(text: &str) -> Vec<(String, String)> {
    let mut in_storage = false;
    let mut values = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') && line.ends_with(']') {
            in_storage = line[1..line.len() - 1]
                .trim()
                .eq_ignore_ascii_case("storage");
        } else if in_storage && !line.starts_with(['#', ';']) {
            if let Some((k, v)) = line.split_once(['=', ':']) {
                values.push((k.trim().to_lowercase(), v.trim().to_string()));
            }
        }
    }
    values
}

pub fn open(remote: &RemoteConfig) -> Result<ObjectStore, StorageError> {
    let settings =
        AzureSettings::from_remote(remote, &|k| std::env::var(k).ok(), &cli_storage_config())?;
    let op = Operator::new(settings.builder(remote)?).map_err(|e| {
        StorageError::config(
            &remote.name,
            format!("cannot set up Azure access: {}", e.message()),
        )
    })?;
    let hint = format!(
        "the remote's connection_string, account_name/account_key, sas_token or \
         tenant_id/client_id/client_secret options (or AZURE_STORAGE_CONNECTION_STRING) and \
         that they may read and write container '{}'",
        settings.container
    );
    let mut http = HttpSettings::from_remote(remote, "read_timeout", super::tls::Client::Aiohttp)?;
    if let Some(t) = super::option_seconds(remote, "connection_timeout", false)? {
        http.connect_timeout = t;
    }
    ObjectStore::new(
        ObjectStoreSpec {
            remote: remote.name.clone(),
            url: remote.url.clone(),
            denied_hint: hint,
            prefix_len: Some(3),
            through_temporary_name: false,
            large_uploads: LargeUploads::Parts,
            name_as_content_md5: false,
            content_types: super::object_store::ContentTypes::None,
            http,
            extra_headers: Vec::new(),
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
            name: "az".into(),
            url: url.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    fn settings(
        opts: &[(&str, &str)],
        vars: &[(&str, &str)],
    ) -> Result<AzureSettings, StorageError> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let env = move |k: &str| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        AzureSettings::from_remote(&remote("azure://cont/a/b", opts), &env, &|_| None)
    }

    #[test]
    fn url_and_options() {
        let s = settings(
            &[
                ("account_name", "acct"),
                ("account_key", "a2V5"),
                ("sas_token", "?sv=1"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(s.container, "cont");
        assert_eq!(s.root, "/a/b/");
        assert_eq!(
            s.endpoint.as_deref(),
            Some("https://acct.blob.core.windows.net")
        );
        // A key wins over a SAS token, as in adlfs.
        assert_eq!(s.auth, AzureAuth::SharedKey("a2V5".into()));
        let s = settings(&[("account_name", "acct"), ("sas_token", "?sv=1")], &[]).unwrap();
        assert_eq!(s.auth, AzureAuth::Sas("sv=1".into()));
    }

    #[test]
    fn connection_string_from_env_and_nothing_else() {
        let env = [(
            "AZURE_STORAGE_CONNECTION_STRING",
            "AccountName=x;AccountKey=eQ==",
        )];
        let s = settings(&[("account_key", "b3RoZXI=")], &env).unwrap();
        assert_eq!(
            s.auth,
            AzureAuth::ConnectionString("AccountName=x;AccountKey=eQ==".into())
        );
        // The option wins over the environment.
        let s = settings(
            &[("connection_string", "AccountName=y;AccountKey=eQ==")],
            &env,
        )
        .unwrap();
        assert_eq!(
            s.auth,
            AzureAuth::ConnectionString("AccountName=y;AccountKey=eQ==".into())
        );
    }

    #[test]
    fn service_principal_and_default_chain() {
        let sp = [
            ("account_name", "acct"),
            ("tenant_id", "t"),
            ("client_id", "c"),
            ("client_secret", "s"),
        ];
        assert_eq!(
            settings(&sp, &[]).unwrap().auth,
            AzureAuth::ServicePrincipal {
                tenant_id: "t".into(),
                client_id: "c".into(),
                client_secret: "s".into()
            }
        );
        // Half a service principal is refused, not replaced by another identity.
        let e = settings(&[("account_name", "acct"), ("client_id", "c")], &[]).unwrap_err();
        assert!(e.config && e.message.contains("tenant_id"), "{}", e.message);
        let d = settings(
            &[
                ("account_name", "acct"),
                ("exclude_environment_credential", "true"),
                ("exclude_managed_identity_credential", "true"),
            ],
            &[("AZURE_AUTHORITY_HOST", "http://127.0.0.1:1")],
        )
        .unwrap();
        assert_eq!(
            d.auth,
            AzureAuth::Default {
                exclude_environment: true,
                exclude_managed_identity: true
            }
        );
        assert_eq!(d.authority_host.as_deref(), Some("http://127.0.0.1:1"));
        let anon = settings(
            &[("account_name", "acct"), ("allow_anonymous_login", "true")],
            &[],
        )
        .unwrap();
        assert_eq!(anon.auth, AzureAuth::Anonymous);
        let e = settings(&[], &[]).unwrap_err();
        assert!(e.config, "{}", e.message);
    }

    #[test]
    fn cli_config_storage_section() {
        let text = "[core]\noutput = json\n[storage]\naccount = fromcli\nkey = a2V5\n";
        let values = storage_section(text);
        assert_eq!(
            values,
            vec![
                ("account".to_string(), "fromcli".to_string()),
                ("key".to_string(), "a2V5".to_string())
            ]
        );
        let cli = move |k: &str| values.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let s = AzureSettings::from_remote(&remote("azure://c", &[]), &|_| None, &cli).unwrap();
        assert_eq!(s.account_name.as_deref(), Some("fromcli"));
        assert_eq!(s.auth, AzureAuth::SharedKey("a2V5".into()));
    }

    /// A service principal's token comes from the authority host and signs the blob
    /// requests as a bearer token, on loopback servers standing in for Entra ID and the
    /// blob service.
    #[test]
    fn service_principal_token_signs_requests() {
        use crate::storage::loopback::{header_values, read_request, serve_one_connection};
        use crate::storage::Storage;
        use std::io::Write;
        let (entra, token_server) = serve_one_connection(|reader, writer| {
            let head = read_request(reader);
            let body = r#"{"token_type":"Bearer","expires_in":3600,"access_token":"sp-token-123"}"#;
            write!(
                writer,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            head
        });
        let (blob, blob_server) = serve_one_connection(|reader, writer| {
            let head = read_request(reader);
            writer
                .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
            head
        });
        let r = remote(
            "azure://cont/p",
            &[
                ("account_name", "acct"),
                ("tenant_id", "tenant-1"),
                ("client_id", "client-1"),
                ("client_secret", "secret-1"),
            ],
        );
        let mut s = AzureSettings::from_remote(&r, &|_| None, &|_| None).unwrap();
        s.endpoint = Some(format!("http://{blob}"));
        s.authority_host = Some(format!("http://{entra}"));
        let op = Operator::new(s.builder(&r).unwrap()).unwrap();
        let store = ObjectStore::new(
            ObjectStoreSpec {
                remote: "az".into(),
                url: r.url.clone(),
                denied_hint: String::new(),
                prefix_len: Some(3),
                through_temporary_name: false,
                large_uploads: LargeUploads::Parts,
                name_as_content_md5: false,
                content_types: crate::storage::object_store::ContentTypes::None,
                http: HttpSettings::from_remote(
                    &r,
                    "read_timeout",
                    crate::storage::tls::Client::Aiohttp,
                )
                .unwrap(),
                extra_headers: Vec::new(),
                s3_signer: None,
            },
            op,
            None,
        )
        .unwrap();
        assert!(!store.exists("files/md5/aa/bb").unwrap());
        let token_request = token_server.join().unwrap();
        assert!(
            token_request.starts_with("POST /tenant-1/oauth2/v2.0/token "),
            "{token_request}"
        );
        let blob_request = blob_server.join().unwrap();
        assert_eq!(
            header_values(&blob_request, "authorization"),
            vec!["Bearer sp-token-123".to_string()]
        );
    }
}
