//! `azure://container/prefix` remotes (Azure Blob Storage, Azurite) through opendal, with
//! DVC's remote options (`dvc_azure`/adlfs):
//!
//! | option | effect |
//! | --- | --- |
//! | `connection_string` | else `AZURE_STORAGE_CONNECTION_STRING`: endpoint, account and key or SAS |
//! | `account_name` | else `AZURE_STORAGE_ACCOUNT`; the endpoint is `https://<account>.blob.core.windows.net` |
//! | `account_key` | else `AZURE_STORAGE_KEY` |
//! | `sas_token` | else `AZURE_STORAGE_SAS_TOKEN` |
//! | `allow_anonymous_login` | unsigned requests |
//! | `read_timeout`, `connection_timeout` | seconds |
//!
//! Without a key, SAS token or connection string, opendal's default Azure credential chain
//! is used (`AZURE_CLIENT_ID`/`AZURE_TENANT_ID`/`AZURE_CLIENT_SECRET`, workload and
//! managed identity, the Azure CLI). Uploads are block blobs: a streamed upload only
//! becomes visible when its block list is committed.

use opendal::services::Azblob;
use opendal::Operator;

use super::object_store::{
    bucket_and_prefix, root_for, HttpSettings, LargeUploads, ObjectStore, ObjectStoreSpec,
};
use super::{option_bool, option_str, ErrorKind, StorageError};
use crate::dvc::config::RemoteConfig;

/// What opendal needs, resolved from the remote's options and the environment.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AzureSettings {
    pub container: String,
    pub root: String,
    pub connection_string: Option<String>,
    pub endpoint: Option<String>,
    pub account_name: Option<String>,
    pub account_key: Option<String>,
    pub sas_token: Option<String>,
    pub anonymous: bool,
}

impl AzureSettings {
    pub fn from_remote(
        remote: &RemoteConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<AzureSettings, StorageError> {
        let (container, prefix) = bucket_and_prefix(remote, &remote.url)?;
        let opt_or_env = |key: &str, var: &str| {
            option_str(remote, key)
                .map(str::to_string)
                .or_else(|| env(var).filter(|v| !v.is_empty()))
        };
        let connection_string = opt_or_env("connection_string", "AZURE_STORAGE_CONNECTION_STRING");
        let account_name = opt_or_env("account_name", "AZURE_STORAGE_ACCOUNT");
        let endpoint = account_name
            .as_ref()
            .map(|a| format!("https://{a}.blob.core.windows.net"));
        Ok(AzureSettings {
            container: container.to_string(),
            root: root_for(prefix),
            connection_string,
            endpoint,
            account_name,
            account_key: opt_or_env("account_key", "AZURE_STORAGE_KEY"),
            sas_token: opt_or_env("sas_token", "AZURE_STORAGE_SAS_TOKEN")
                .map(|t| t.trim_start_matches('?').to_string()),
            anonymous: option_bool(remote, "allow_anonymous_login")?.unwrap_or(false),
        })
    }

    fn builder(&self, remote: &RemoteConfig) -> Result<Azblob, StorageError> {
        let mut b = match &self.connection_string {
            // A connection string carries the endpoint and the credentials; explicit
            // options still win, as in adlfs.
            Some(cs) => Azblob::from_connection_string(cs).map_err(|e| {
                StorageError::new(
                    ErrorKind::Other,
                    format!(
                        "config file error: remote '{}': the Azure connection string is invalid: {}",
                        remote.name,
                        e.message()
                    ),
                )
            })?,
            None => {
                let mut b = Azblob::default();
                if let Some(e) = &self.endpoint {
                    b = b.endpoint(e);
                }
                b
            }
        };
        b = b.container(&self.container).root(&self.root);
        if let Some(a) = &self.account_name {
            b = b.account_name(a);
        }
        if let Some(k) = &self.account_key {
            b = b.account_key(k);
        }
        if let Some(t) = &self.sas_token {
            b = b.sas_token(t);
        }
        if self.anonymous {
            b = b.skip_signature();
        }
        Ok(b)
    }
}

pub fn open(remote: &RemoteConfig) -> Result<ObjectStore, StorageError> {
    let settings = AzureSettings::from_remote(remote, &|k| std::env::var(k).ok())?;
    if settings.connection_string.is_none() && settings.account_name.is_none() {
        return Err(StorageError::new(
            ErrorKind::Other,
            format!(
                "config file error: remote '{}' ({}): no Azure storage account: set the remote's \
                 `connection_string` or `account_name` option, or AZURE_STORAGE_CONNECTION_STRING",
                remote.name, remote.url
            ),
        ));
    }
    let op = Operator::new(settings.builder(remote)?).map_err(|e| {
        StorageError::new(
            ErrorKind::Other,
            format!(
                "config file error: remote '{}': cannot set up Azure access: {}",
                remote.name,
                e.message()
            ),
        )
    })?;
    let hint = format!(
        "the remote's connection_string, account_name/account_key or sas_token options (or \
         AZURE_STORAGE_CONNECTION_STRING) and that they may read and write container '{}'",
        settings.container
    );
    let mut http = HttpSettings::from_remote(remote, "read_timeout")?;
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
            http,
            extra_headers: Vec::new(),
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

    #[test]
    fn url_and_options() {
        let s = AzureSettings::from_remote(
            &remote(
                "azure://cont/a/b",
                &[
                    ("account_name", "acct"),
                    ("account_key", "a2V5"),
                    ("sas_token", "?sv=1"),
                ],
            ),
            &|_| None,
        )
        .unwrap();
        assert_eq!(s.container, "cont");
        assert_eq!(s.root, "/a/b/");
        assert_eq!(
            s.endpoint.as_deref(),
            Some("https://acct.blob.core.windows.net")
        );
        assert_eq!(s.account_key.as_deref(), Some("a2V5"));
        assert_eq!(s.sas_token.as_deref(), Some("sv=1"));
    }

    #[test]
    fn connection_string_from_env() {
        let env = |k: &str| {
            (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| "AccountName=x;AccountKey=eQ==".into())
        };
        let s = AzureSettings::from_remote(&remote("azure://c", &[]), &env).unwrap();
        assert_eq!(
            s.connection_string.as_deref(),
            Some("AccountName=x;AccountKey=eQ==")
        );
        assert_eq!(s.root, "/");
        // The option wins over the environment.
        let s = AzureSettings::from_remote(
            &remote(
                "azure://c",
                &[("connection_string", "AccountName=y;AccountKey=eQ==")],
            ),
            &env,
        )
        .unwrap();
        assert_eq!(
            s.connection_string.as_deref(),
            Some("AccountName=y;AccountKey=eQ==")
        );
    }
}
