//! The AWS shared config file (`~/.aws/config`), read as botocore reads it: a profile's
//! `region`, its configured endpoints, and (with the shared credentials file, same
//! syntax) the values [`super::aws_credentials`] resolves a profile's credentials from.
//!
//! Sections are `[default]` (or `[profile default]`), `[profile NAME]` and
//! `[services NAME]`; a key with an empty value followed by indented `k = v` lines holds
//! those lines as a nested table (`s3 =` then `  endpoint_url = …`).

use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Default)]
struct Section {
    values: HashMap<String, String>,
    nested: HashMap<String, HashMap<String, String>>,
}

#[derive(Debug, Default)]
pub struct AwsConfigFile {
    sections: HashMap<String, Section>,
}

/// botocore's `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS` (or the profile's
/// `ignore_configured_endpoint_urls`): the configured endpoints (variables, config file)
/// are not used, for S3 and STS alike.
pub fn configured_endpoints_ignored(
    env: &dyn Fn(&str) -> Option<String>,
    config: &AwsConfigFile,
    profile: &str,
) -> bool {
    env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .or_else(|| {
            config
                .profile_value(profile, "ignore_configured_endpoint_urls")
                .map(str::to_string)
        })
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

impl AwsConfigFile {
    /// The file at `path`; a missing or unreadable file reads as empty, as in botocore.
    pub fn read(path: &Path) -> AwsConfigFile {
        std::fs::read_to_string(path)
            .map(|text| AwsConfigFile::parse(&text))
            .unwrap_or_default()
    }

    pub fn parse(text: &str) -> AwsConfigFile {
        let mut file = AwsConfigFile::default();
        let mut section: Option<String> = None;
        let mut last_key: Option<String> = None;
        for raw in text.lines() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') && line.ends_with(']') {
                let name = line[1..line.len() - 1].trim().to_string();
                file.sections.entry(name.clone()).or_default();
                section = Some(name);
                last_key = None;
                continue;
            }
            let Some(current) = section.as_ref().and_then(|s| file.sections.get_mut(s)) else {
                continue;
            };
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim().to_string());
            let continuation = raw.starts_with([' ', '\t']);
            match (&last_key, continuation) {
                (Some(parent), true) => {
                    current
                        .nested
                        .entry(parent.clone())
                        .or_default()
                        .insert(key, value);
                }
                _ => {
                    current.values.insert(key.clone(), value);
                    last_key = Some(key);
                }
            }
        }
        file
    }

    fn profile(&self, profile: &str) -> Option<&Section> {
        let named = self.sections.get(&format!("profile {profile}"));
        if profile == "default" {
            self.sections.get("default").or(named)
        } else {
            named
        }
    }

    /// A top-level value of the profile, if set and not empty.
    pub fn profile_value(&self, profile: &str, key: &str) -> Option<&str> {
        self.profile(profile)?
            .values
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The profile's S3 endpoint as botocore finds it in the file: the `s3` table of the
    /// profile's `services` section, then the profile's own `endpoint_url`.
    pub fn s3_endpoint(&self, profile: &str) -> Option<&str> {
        self.service_endpoint(profile, "s3")
    }

    /// The profile's endpoint for `service` (`s3`, `sts`): the service's table in the
    /// profile's `services` section, then the profile's own `endpoint_url`.
    pub fn service_endpoint(&self, profile: &str, service: &str) -> Option<&str> {
        let from_services = self
            .profile_value(profile, "services")
            .and_then(|name| self.sections.get(&format!("services {name}")))
            .and_then(|services| services.nested.get(service))
            .and_then(|table| table.get("endpoint_url"))
            .map(String::as_str)
            .filter(|v| !v.is_empty());
        from_services.or_else(|| self.profile_value(profile, "endpoint_url"))
    }

    /// Every top-level value of the profile (empty values included), as botocore's
    /// profile map holds them.
    pub fn profile_values(&self, profile: &str) -> Option<&HashMap<String, String>> {
        self.profile(profile).map(|s| &s.values)
    }

    /// Every top-level value of a section named exactly `name` (the shared credentials
    /// file names its profiles without the `profile ` prefix).
    pub fn section_values(&self, name: &str) -> Option<&HashMap<String, String>> {
        self.sections.get(name).map(|s| &s.values)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment
[default]
region = us-west-2
endpoint_url = http://default:9000

[profile dev]
region=eu-north-1
services = local
s3 =
  addressing_style = path

[profile Plain]
endpoint_url =

[services local]
s3 =
  endpoint_url = http://127.0.0.1:4566
dynamodb =
  endpoint_url = http://127.0.0.1:8000
";

    #[test]
    fn profiles_and_values() {
        let f = AwsConfigFile::parse(SAMPLE);
        assert_eq!(f.profile_value("default", "region"), Some("us-west-2"));
        assert_eq!(f.profile_value("dev", "region"), Some("eu-north-1"));
        assert_eq!(f.profile_value("plain", "region"), None);
        assert_eq!(f.profile_value("absent", "region"), None);
    }

    #[test]
    fn s3_endpoint_prefers_services_then_profile() {
        let f = AwsConfigFile::parse(SAMPLE);
        assert_eq!(f.s3_endpoint("dev"), Some("http://127.0.0.1:4566"));
        assert_eq!(f.s3_endpoint("default"), Some("http://default:9000"));
        // An empty value is unset.
        assert_eq!(f.s3_endpoint("Plain"), None);
    }

    #[test]
    fn profile_default_section_name() {
        let f = AwsConfigFile::parse("[profile default]\nregion = sa-east-1\n");
        assert_eq!(f.profile_value("default", "region"), Some("sa-east-1"));
    }
}
