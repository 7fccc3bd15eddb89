//! `gs://bucket/prefix` remotes (Google Cloud Storage) through opendal, with DVC's remote
//! options (`dvc_gs`/gcsfs):
//!
//! | option | effect |
//! | --- | --- |
//! | `credentialpath` | a service-account (or authorized-user) JSON file; else `GOOGLE_APPLICATION_CREDENTIALS` |
//! | `projectname` | accepted; object uploads do not need it |
//! | `endpointurl` | another server (an emulator) |
//! | `allow_anonymous_login` | unsigned requests |
//!
//! Without a credentials file, opendal's default Google chain is used (gcloud's
//! application-default credentials, the VM metadata server). Streamed uploads use a
//! resumable session: the object appears only when it is finalised.

use opendal::services::Gcs;
use opendal::Operator;

use super::object_store::{
    bucket_and_prefix, root_for, HttpSettings, LargeUploads, ObjectStore, ObjectStoreSpec,
};
use super::{option_bool, option_str, StorageError};
use crate::dvc::config::RemoteConfig;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GcsSettings {
    pub bucket: String,
    pub root: String,
    pub endpoint: Option<String>,
    pub credential_path: Option<String>,
    pub project: Option<String>,
    pub anonymous: bool,
}

impl GcsSettings {
    pub fn from_remote(
        remote: &RemoteConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<GcsSettings, StorageError> {
        let (bucket, prefix) = bucket_and_prefix(remote, &remote.url)?;
        Ok(GcsSettings {
            bucket: bucket.to_string(),
            root: root_for(prefix),
            endpoint: option_str(remote, "endpointurl")
                .map(|e| e.trim_end_matches('/').to_string()),
            credential_path: option_str(remote, "credentialpath")
                .map(str::to_string)
                .or_else(|| env("GOOGLE_APPLICATION_CREDENTIALS").filter(|v| !v.is_empty())),
            project: option_str(remote, "projectname").map(str::to_string),
            anonymous: option_bool(remote, "allow_anonymous_login")?.unwrap_or(false),
        })
    }

    fn builder(&self) -> Gcs {
        let mut b = Gcs::default().bucket(&self.bucket).root(&self.root);
        if let Some(e) = &self.endpoint {
            b = b.endpoint(e);
        }
        if let Some(p) = &self.credential_path {
            b = b.credential_path(p);
        }
        if self.anonymous {
            b = b.skip_signature();
        }
        b
    }
}

pub fn open(remote: &RemoteConfig) -> Result<ObjectStore, StorageError> {
    let settings = GcsSettings::from_remote(remote, &|k| std::env::var(k).ok())?;
    let op = Operator::new(settings.builder()).map_err(|e| {
        StorageError::config(
            &remote.name,
            format!("cannot set up Google Cloud Storage access: {}", e.message()),
        )
    })?;
    let hint = format!(
        "the remote's credentialpath option (or GOOGLE_APPLICATION_CREDENTIALS, or gcloud's \
         application-default credentials) and that the account may read and write bucket '{}'",
        settings.bucket
    );
    ObjectStore::new(
        ObjectStoreSpec {
            remote: remote.name.clone(),
            url: remote.url.clone(),
            denied_hint: hint,
            prefix_len: Some(3),
            through_temporary_name: false,
            large_uploads: LargeUploads::ResumableIfAbsent,
            name_as_content_md5: false,
            content_types: super::object_store::ContentTypes::GuessedElseOctetStream,
            http: HttpSettings::from_remote(remote, "read_timeout", super::tls::Client::Aiohttp)?,
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
            name: "g".into(),
            url: url.into(),
            options: opts
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn url_and_options() {
        let s = GcsSettings::from_remote(
            &remote(
                "gs://bkt/dvc/store",
                &[
                    ("credentialpath", "/k/sa.json"),
                    ("projectname", "proj"),
                    ("endpointurl", "http://127.0.0.1:4443/"),
                ],
            ),
            &|_| Some("/env/creds.json".into()),
        )
        .unwrap();
        assert_eq!(s.bucket, "bkt");
        assert_eq!(s.root, "/dvc/store/");
        assert_eq!(s.credential_path.as_deref(), Some("/k/sa.json"));
        assert_eq!(s.project.as_deref(), Some("proj"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:4443"));
    }

    #[test]
    fn credentials_from_environment() {
        let env = |k: &str| (k == "GOOGLE_APPLICATION_CREDENTIALS").then(|| "/env/c.json".into());
        let s = GcsSettings::from_remote(&remote("gs://b", &[]), &env).unwrap();
        assert_eq!(s.credential_path.as_deref(), Some("/env/c.json"));
        assert_eq!(s.root, "/");
    }

    #[test]
    fn opens_without_network() {
        // Building the operator does not contact Google.
        let r = remote("gs://b/p", &[("allow_anonymous_login", "true")]);
        let store = open(&r).unwrap();
        use crate::storage::Storage;
        assert_eq!(store.describe(), "gs://b/p");
        assert_eq!(store.requests(), 0);
    }
}
