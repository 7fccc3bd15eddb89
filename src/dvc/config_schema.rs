//! DVC's config schema (`dvc/config_schema.py` of DVC 3.67.1): which sections and keys
//! exist and what values they take. DVC checks the merged configuration against it when a
//! repository is opened and stops with `config file error: <problem>` (exit 251) on the
//! first problem; so does git-dvc, with the same words, so that a misspelt option
//! (`sse_kms_keyid`) stops a push instead of uploading without what it asked for.
//!
//! The checks are voluptuous's, applied to what ConfigObj gives (strings, or lists for
//! unquoted values with commas):
//!
//! | rule | accepts | message |
//! | --- | --- | --- |
//! | `str` | any string, not a list | `expected str` |
//! | `Bool` | `true`/`false`, any case | `expected true or false` |
//! | `Coerce(int)` (+ `Range`) | what Python's `int()` parses | `expected int`, `value must be at least N` |
//! | `Coerce(float)` (+ `Range`) | what Python's `float()` parses | `expected float` |
//! | `Choices` | one of the values, lower-cased first | `expected one of a, b` |
//! | `bool`, `int` (Python types) | nothing a file can hold | `expected bool`, `expected int` |
//!
//! Problems are reported as voluptuous words them: `extra keys not allowed @
//! data['remote']['r']['sse_kms_keyid']`, or `expected int for dictionary value @
//! data['remote']['r']['jobs']`. The first one in DVC's order is reported: sections in
//! the schema's order (`core`, `cache`, `remote`, …, then unknown ones), remotes and keys
//! in the order they first appear in the files. A remote's options are checked against
//! the schema of its URL's scheme (`s3://` → the S3 options, a path → the local ones).
//!
//! The `feature` section drops keys it does not know (DVC warns and ignores them); every
//! other section refuses them.

use std::fmt::Write as _;

/// How one value is checked.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Python `str`.
    Str,
    /// `Lower`: any value (a list becomes its Python repr, still accepted).
    Lower,
    /// DVC's `Bool`.
    Bool,
    /// `Coerce(int)` with an optional `Range(min, max)`.
    Int(Option<i64>, Option<i64>),
    /// `Coerce(float)` with an optional `Range(min)`.
    Float(Option<i64>),
    /// `All(Lower, Choices(...))`.
    Choice(&'static [&'static str]),
    /// `supported_cache_type`.
    CacheTypes,
    /// `Any(Bool, str)`.
    BoolOrStr,
    /// The Python type `bool` (`cache_regions`): no file value passes.
    PyBool,
    /// The Python type `int` (`hdfs` `replication`): no file value passes.
    PyInt,
}

use Rule::*;

type Keys = &'static [(&'static str, Rule)];

const REMOTE_COMMON: Keys = &[
    ("url", Str),
    ("checksum_jobs", Int(Some(1), None)),
    ("jobs", Int(Some(1), None)),
    ("worktree", Bool),
    ("no_traverse", Bool),
    ("version_aware", Bool),
];
const LOCAL_COMMON: Keys = &[
    ("type", CacheTypes),
    ("protected", Bool),
    ("shared", Choice(&["group"])),
    ("slow_link_warning", Bool),
    ("verify", Bool),
];
const HTTP_COMMON: Keys = &[
    ("auth", Choice(&["basic", "digest", "custom"])),
    ("custom_auth_header", Str),
    ("user", Str),
    ("password", Str),
    ("ask_password", Bool),
    ("ssl_verify", BoolOrStr),
    ("method", Str),
    ("connect_timeout", Float(Some(0))),
    ("read_timeout", Float(Some(0))),
    ("verify", Bool),
];
const WEBDAV_COMMON: Keys = &[
    ("user", Str),
    ("password", Str),
    ("ask_password", Bool),
    ("token", Str),
    ("bearer_token_command", Str),
    ("custom_auth_header", Str),
    ("cert_path", Str),
    ("key_path", Str),
    ("timeout", Int(None, None)),
    ("ssl_verify", BoolOrStr),
    ("verify", Bool),
];
const S3: Keys = &[
    ("region", Str),
    ("profile", Str),
    ("credentialpath", Str),
    ("configpath", Str),
    ("endpointurl", Str),
    ("access_key_id", Str),
    ("secret_access_key", Str),
    ("session_token", Str),
    ("listobjects", Bool),
    ("use_ssl", Bool),
    ("allow_anonymous_login", Bool),
    ("ssl_verify", BoolOrStr),
    ("sse", Str),
    ("sse_kms_key_id", Str),
    ("sse_customer_algorithm", Str),
    ("sse_customer_key", Str),
    ("acl", Str),
    ("grant_read", Str),
    ("grant_read_acp", Str),
    ("grant_write_acp", Str),
    ("grant_full_control", Str),
    ("cache_regions", PyBool),
    ("read_timeout", Int(None, None)),
    ("connect_timeout", Int(None, None)),
    ("verify", Bool),
];
const GS: Keys = &[
    ("projectname", Str),
    ("credentialpath", Str),
    ("endpointurl", Str),
    ("verify", Bool),
    ("allow_anonymous_login", Bool),
];
const SSH: Keys = &[
    ("type", CacheTypes),
    ("port", Int(None, None)),
    ("user", Str),
    ("password", Str),
    ("ask_password", Bool),
    ("passphrase", Str),
    ("ask_passphrase", Bool),
    ("keyfile", Str),
    ("timeout", Int(None, None)),
    ("gss_auth", Bool),
    ("allow_agent", Bool),
    ("max_sessions", Int(None, None)),
    ("verify", Bool),
];
const HDFS: Keys = &[("user", Str), ("kerb_ticket", Str), ("replication", PyInt)];
const WEBHDFS: Keys = &[
    ("kerberos", Bool),
    ("kerberos_principal", Str),
    ("proxy_to", Str),
    ("ssl_verify", BoolOrStr),
    ("token", Str),
    ("use_https", Bool),
    ("user", Str),
    ("password", Str),
    ("data_proxy_target", Str),
    ("verify", Bool),
];
const AZURE: Keys = &[
    ("connection_string", Str),
    ("sas_token", Str),
    ("account_name", Str),
    ("account_key", Str),
    ("tenant_id", Str),
    ("client_id", Str),
    ("client_secret", Str),
    ("allow_anonymous_login", Bool),
    ("exclude_environment_credential", Bool),
    ("exclude_visual_studio_code_credential", Bool),
    ("exclude_shared_token_cache_credential", Bool),
    ("exclude_managed_identity_credential", Bool),
    ("verify", Bool),
    ("timeout", Int(None, None)),
    ("read_timeout", Int(None, None)),
    ("connection_timeout", Int(None, None)),
];
const OSS: Keys = &[
    ("oss_key_id", Str),
    ("oss_key_secret", Str),
    ("oss_endpoint", Str),
    ("verify", Bool),
];
const GDRIVE: Keys = &[
    ("profile", Str),
    ("gdrive_use_service_account", Bool),
    ("gdrive_client_id", Str),
    ("gdrive_client_secret", Str),
    ("gdrive_user_credentials_file", Str),
    ("gdrive_service_account_user_email", Str),
    ("gdrive_service_account_json_file_path", Str),
    ("gdrive_trash_only", Bool),
    ("gdrive_acknowledge_abuse", Bool),
    ("verify", Bool),
];

/// The option sets of a remote whose URL has `scheme` (`""` for a local path): DVC's
/// `REMOTE_SCHEMAS`. `None` for a scheme DVC does not know. `remote://` takes anything.
fn remote_keys(scheme: &str) -> Option<&'static [Keys]> {
    Some(match scheme {
        "" => &[LOCAL_COMMON, REMOTE_COMMON],
        "s3" => &[S3, REMOTE_COMMON],
        "gs" => &[GS, REMOTE_COMMON],
        "ssh" => &[SSH, REMOTE_COMMON],
        "hdfs" => &[HDFS, REMOTE_COMMON],
        "webhdfs" => &[WEBHDFS, REMOTE_COMMON],
        "azure" => &[AZURE, REMOTE_COMMON],
        "oss" => &[OSS, REMOTE_COMMON],
        "gdrive" => &[GDRIVE, REMOTE_COMMON],
        "http" | "https" => &[HTTP_COMMON, REMOTE_COMMON],
        "webdav" | "webdavs" => &[WEBDAV_COMMON, REMOTE_COMMON],
        _ => return None,
    })
}

/// Every option any remote type knows: what a remote whose URL is set elsewhere (a
/// committed file checked alone) may hold.
const ALL_REMOTE_KEYS: &[Keys] = &[
    REMOTE_COMMON,
    LOCAL_COMMON,
    HTTP_COMMON,
    WEBDAV_COMMON,
    S3,
    GS,
    SSH,
    HDFS,
    WEBHDFS,
    AZURE,
    OSS,
    GDRIVE,
];

const CORE: Keys = &[
    ("remote", Lower),
    ("checksum_jobs", Int(Some(1), None)),
    ("interactive", Bool),
    ("analytics", Bool),
    ("hardlink_lock", Bool),
    ("no_scm", Bool),
    ("autostage", Bool),
    ("experiments", Bool),
    ("check_update", Bool),
    ("site_cache_dir", Str),
    ("machine", Lower),
];
const CACHE: Keys = &[
    ("local", Str),
    ("s3", Str),
    ("gs", Str),
    ("hdfs", Str),
    ("webhdfs", Str),
    ("ssh", Str),
    ("azure", Str),
    ("dir", Str),
];
const STATE: Keys = &[
    ("dir", Str),
    ("row_limit", Int(Some(1), None)),
    ("row_cleanup_quota", Int(Some(0), Some(100))),
];
const INDEX: Keys = &[("dir", Str)];
const MACHINE: Keys = &[
    ("cloud", Choice(&["aws", "azure"])),
    (
        "region",
        Choice(&["us-west", "us-east", "eu-west", "eu-north"]),
    ),
    ("image", Str),
    ("spot", Bool),
    ("spot_price", Float(None)),
    ("instance_hdd_size", Int(None, None)),
    ("instance_type", Lower),
    ("instance_gpu", Lower),
    ("ssh_private", Str),
    ("startup_script", Str),
    ("setup_script", Str),
];
const FEATURE: Keys = &[("machine", Bool)];
const PLOTS: Keys = &[
    ("html_template", Str),
    ("auto_open", Bool),
    ("out_dir", Str),
];
const EXP: Keys = &[
    ("code", Str),
    ("data", Str),
    ("models", Str),
    ("metrics", Str),
    ("params", Str),
    ("plots", Str),
    ("live", Str),
    ("auto_push", Bool),
    ("git_remote", Str),
];
const PARSING: Keys = &[
    ("bool", Choice(&["store_true", "boolean_optional"])),
    ("list", Choice(&["nargs", "append"])),
];
const HYDRA: Keys = &[
    ("enabled", Bool),
    ("config_dir", Str),
    ("config_module", Str),
    ("config_name", Str),
    ("plugins_path", Str),
];
const STUDIO: Keys = &[
    ("token", Str),
    ("url", Str),
    ("repo_url", Str),
    ("offline", Bool),
];
const DB: Keys = &[("url", Str), ("username", Str), ("password", Str)];

/// What a top-level section holds.
enum SectionKind {
    Plain(&'static [Keys]),
    /// `feature`: unknown keys are dropped, not refused.
    Lenient(Keys),
    /// `remote "name"`, `machine "name"`, `db "name"` sections.
    Named,
}

/// DVC's `SCHEMA`, in its order (which is the order problems are found in).
const SECTIONS: &[(&str, SectionKind)] = &[
    ("core", SectionKind::Plain(&[CORE])),
    ("cache", SectionKind::Plain(&[CACHE, LOCAL_COMMON])),
    ("remote", SectionKind::Named),
    ("state", SectionKind::Plain(&[STATE])),
    ("index", SectionKind::Plain(&[INDEX])),
    ("machine", SectionKind::Named),
    ("feature", SectionKind::Lenient(FEATURE)),
    ("plots", SectionKind::Plain(&[PLOTS])),
    ("exp", SectionKind::Plain(&[EXP])),
    ("parsing", SectionKind::Plain(&[PARSING])),
    ("hydra", SectionKind::Plain(&[HYDRA])),
    ("studio", SectionKind::Plain(&[STUDIO])),
    ("db", SectionKind::Named),
];

/// The names of DVC's top-level sections, in the schema's order.
pub fn known_sections() -> impl Iterator<Item = &'static str> {
    SECTIONS.iter().map(|(name, _)| *name)
}

/// One value as ConfigObj gave it.
#[derive(Debug, Clone, Copy)]
pub struct RawValue<'a> {
    /// The string, or a list's items joined with `,`.
    pub text: &'a str,
    /// Whether ConfigObj read it as a list (an unquoted value with commas).
    pub list: bool,
}

/// A section's keys in the order DVC sees them, with their values.
pub type OrderedSection<'a> = Vec<(&'a str, RawValue<'a>)>;

/// The merged configuration as the validator walks it: every section and named section
/// in first-appearance order.
#[derive(Debug, Default)]
pub struct OrderedConfig<'a> {
    /// Plain sections (`core`, `cache`, unknown ones), in first-appearance order.
    pub sections: Vec<(&'a str, OrderedSection<'a>)>,
    /// Named sections: kind → (name, keys), names in first-appearance order.
    pub named: Vec<(&'a str, Vec<(&'a str, OrderedSection<'a>)>)>,
}

/// How strictly remotes are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The configuration DVC would merge: every remote needs its `url`.
    Merged,
    /// One file read alone (a pushed `.dvc/config` on the server): a remote's `url` may
    /// come from a file the server cannot see (`config.local`), so a remote without one
    /// is checked against every remote type's options.
    FileAlone,
}

/// A problem DVC's schema finds: the message as DVC prints it after `config file error: `,
/// and the path of the value (section, name, key) it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaProblem {
    pub message: String,
    pub path: Vec<String>,
}

/// Checks `config` against DVC's schema; the first problem in DVC's order, if any.
pub fn validate(config: &OrderedConfig<'_>, scope: Scope) -> Option<SchemaProblem> {
    let plain = |name: &str| config.sections.iter().find(|(n, _)| *n == name);
    let named = |kind: &str| config.named.iter().find(|(k, _)| *k == kind);
    for (name, kind) in SECTIONS {
        if *name == "hydra" {
            if let Some(problem) = plain(name).and_then(|(_, s)| hydra_exclusive(s)) {
                return Some(problem);
            }
        }
        let problem = match kind {
            SectionKind::Plain(keys) => plain(name).and_then(|(_, s)| check_keys(&[name], s, keys)),
            SectionKind::Lenient(keys) => plain(name).and_then(|(_, s)| {
                let known: OrderedSection<'_> = s
                    .iter()
                    .filter(|(k, _)| keys.iter().any(|(n, _)| n == k))
                    .cloned()
                    .collect();
                check_keys(&[name], &known, &[keys])
            }),
            SectionKind::Named => named(name).and_then(|(_, entries)| {
                entries.iter().find_map(|(entry, keys)| match *name {
                    "remote" => check_remote(entry, keys, scope),
                    "machine" => check_keys(&[name, entry], keys, &[MACHINE]),
                    _ => check_keys(&[name, entry], keys, &[DB]),
                })
            }),
        };
        if problem.is_some() {
            return problem;
        }
    }
    // Sections the schema does not have: after the known ones, as DVC's merged dict
    // holds them.
    config
        .sections
        .iter()
        .find(|(name, _)| !SECTIONS.iter().any(|(n, _)| n == name))
        .map(|(name, _)| extra_key(&[name]))
}

/// `hydra`: `config_dir` and `config_module` exclude each other. Voluptuous checks this
/// before the keys, so it comes first within the section.
fn hydra_exclusive(section: &OrderedSection<'_>) -> Option<SchemaProblem> {
    let has = |key: &str| section.iter().any(|(k, _)| *k == key);
    (has("config_dir") && has("config_module")).then(|| SchemaProblem {
        message: "two or more values in the same group of exclusion 'config_source' @ \
                  data['hydra'][<config_source>]"
            .to_string(),
        path: vec!["hydra".to_string()],
    })
}

fn check_remote(name: &str, section: &OrderedSection<'_>, scope: Scope) -> Option<SchemaProblem> {
    let path = ["remote", name];
    let url = section.iter().find(|(k, _)| *k == "url").map(|(_, v)| v);
    let keys: &[Keys] = match url {
        None if scope == Scope::FileAlone => ALL_REMOTE_KEYS,
        None => return Some(section_problem(&path, "expected 'url'")),
        Some(url) => {
            let scheme = schema_scheme(url.text);
            if scheme == "remote" {
                return None; // `{str: object}`: options of the remote it refers to
            }
            match remote_keys(&scheme) {
                Some(keys) => keys,
                None => {
                    return Some(section_problem(
                        &path,
                        &format!("Unsupported URL type {scheme}://"),
                    ))
                }
            }
        }
    };
    check_keys(&path, section, keys)
}

/// Which remote schema DVC's `ByUrl` picks for a URL: its scheme (lower-cased, as
/// `urlparse` gives it) when it has a network location, else the local one (`""`).
pub fn schema_scheme(url: &str) -> String {
    let (scheme, netloc) = split_scheme_netloc(url);
    if netloc.is_empty() {
        String::new()
    } else {
        scheme.to_ascii_lowercase()
    }
}

/// Python's `urlsplit` scheme and netloc: the scheme must start with a letter and hold
/// only letters, digits, `+`, `-` and `.`.
fn split_scheme_netloc(url: &str) -> (&str, &str) {
    let (scheme, rest) = match url.find(':') {
        Some(i)
            if i > 0
                && url.as_bytes()[0].is_ascii_alphabetic()
                && url[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
        {
            (&url[..i], &url[i + 1..])
        }
        _ => ("", url),
    };
    let netloc = match rest.strip_prefix("//") {
        Some(r) => &r[..r.find(['/', '?', '#']).unwrap_or(r.len())],
        None => "",
    };
    (scheme, netloc)
}

fn check_keys(path: &[&str], section: &OrderedSection<'_>, keys: &[Keys]) -> Option<SchemaProblem> {
    for (key, value) in section {
        let rule = keys
            .iter()
            .flat_map(|set| set.iter())
            .find(|(name, _)| name == key)
            .map(|(_, rule)| *rule);
        let mut full: Vec<&str> = path.to_vec();
        full.push(key);
        let Some(rule) = rule else {
            return Some(extra_key(&full));
        };
        if let Err(message) = check_value(rule, *value) {
            return Some(SchemaProblem {
                message: format!("{message} for dictionary value @ data{}", py_path(&full)),
                path: full.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    None
}

fn extra_key(path: &[&str]) -> SchemaProblem {
    SchemaProblem {
        message: format!("extra keys not allowed @ data{}", py_path(path)),
        path: path.iter().map(|s| s.to_string()).collect(),
    }
}

fn section_problem(path: &[&str], what: &str) -> SchemaProblem {
    SchemaProblem {
        message: format!("{what} for dictionary value @ data{}", py_path(path)),
        path: path.iter().map(|s| s.to_string()).collect(),
    }
}

fn check_value(rule: Rule, value: RawValue<'_>) -> Result<(), String> {
    let text = value.text;
    match rule {
        Lower => Ok(()),
        Str if value.list => Err("expected str".to_string()),
        Str => Ok(()),
        Bool | BoolOrStr if value.list => Err("expected true or false".to_string()),
        Bool if !is_bool(text) => Err("expected true or false".to_string()),
        Bool | BoolOrStr => Ok(()),
        PyBool => Err("expected bool".to_string()),
        PyInt => Err("expected int".to_string()),
        Int(min, max) => {
            let n = (!value.list)
                .then(|| py_int(text))
                .flatten()
                .ok_or_else(|| "expected int".to_string())?;
            in_range(n as f64, min, max)
        }
        Float(min) => {
            let n = (!value.list)
                .then(|| py_float(text))
                .flatten()
                .ok_or_else(|| "expected float".to_string())?;
            in_range(n, min, None)
        }
        Choice(choices) => {
            let lowered = if value.list {
                py_list_repr(text).to_lowercase()
            } else {
                text.to_lowercase()
            };
            if choices.contains(&lowered.as_str()) {
                Ok(())
            } else {
                Err(format!("expected one of {}", choices.join(", ")))
            }
        }
        CacheTypes => {
            let types: Vec<&str> = if value.list {
                text.split(',').collect()
            } else {
                text.split(',').map(str::trim).collect()
            };
            let mut unsupported: Vec<&str> = Vec::new();
            for t in types {
                if !["reflink", "hardlink", "symlink", "copy"].contains(&t)
                    && !unsupported.contains(&t)
                {
                    unsupported.push(t);
                }
            }
            if unsupported.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "Unsupported cache type(s): {}",
                    unsupported.join(", ")
                ))
            }
        }
    }
}

fn is_bool(text: &str) -> bool {
    text.eq_ignore_ascii_case("true") || text.eq_ignore_ascii_case("false")
}

fn in_range(n: f64, min: Option<i64>, max: Option<i64>) -> Result<(), String> {
    // `not v >= min`: NaN fails too, as in Python.
    if let Some(min) = min {
        if n.partial_cmp(&(min as f64)).is_none_or(|o| o.is_lt()) {
            return Err(format!("value must be at least {min}"));
        }
    }
    if let Some(max) = max {
        if n.partial_cmp(&(max as f64)).is_none_or(|o| o.is_gt()) {
            return Err(format!("value must be at most {max}"));
        }
    }
    Ok(())
}

/// Python's `int(str)`: surrounding whitespace (what `str.isspace` calls whitespace), a
/// sign, decimal digits of any script (Unicode category Nd: `٤`, `４`) with single
/// underscores between them. (Values too big for i64 are treated as not numbers: DVC would
/// accept them, and then no count or timeout could use them.)
pub fn py_int(text: &str) -> Option<i64> {
    // CPython first maps each decimal digit to its ASCII one and each space to ' '
    // (`_PyUnicode_TransformDecimalAndSpaceToASCII`), then parses ASCII.
    let ascii: String = text
        .chars()
        .map(|c| match decimal_value(c) {
            Some(d) => char::from(b'0' + d),
            None if py_isspace(c) => ' ',
            None => c,
        })
        .collect();
    let t = ascii.trim_matches(|c: char| c == ' ' || ('\t'..='\r').contains(&c));
    let (negative, digits) = match t.as_bytes().first()? {
        b'+' => (false, &t[1..]),
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    if !valid_underscores(digits) || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    Some(if negative { -n } else { n })
}

/// The first code point (digit zero) of each run of ten Unicode decimal digits
/// (category Nd), as in the Unicode 14.0 database of DVC's Python 3.11.
const DECIMAL_ZEROS: &[u32] = &[
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0, 0x16B50,
    0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// Python's `unicodedata.decimal(c)`.
fn decimal_value(c: char) -> Option<u8> {
    let cp = u32::from(c);
    let i = DECIMAL_ZEROS
        .partition_point(|&zero| zero <= cp)
        .checked_sub(1)?;
    let d = cp - DECIMAL_ZEROS[i];
    (d < 10).then_some(d as u8)
}

/// Python's `str.isspace` for a non-ASCII character (CPython maps those to ' '; of the
/// ASCII ones, `int()` then skips only `\t`..`\r` and ' ', not `\x1c`..`\x1f`).
fn py_isspace(c: char) -> bool {
    matches!(
        c,
        '\u{85}' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}' | '\u{2028}' | '\u{2029}' | '\u{202f}' | '\u{205f}' | '\u{3000}'
    )
}

/// Python's `float(str)`: whitespace, `inf`/`nan` in any case, exponents, underscores
/// between digits.
pub fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let unsigned = t.trim_start_matches(['+', '-']);
    if unsigned.len() + 1 < t.len() {
        return None; // two signs
    }
    let lower = unsigned.to_ascii_lowercase();
    if ["inf", "infinity", "nan"].contains(&lower.as_str()) {
        return t.to_ascii_lowercase().parse::<f64>().ok();
    }
    if lower.is_empty()
        || !lower
            .bytes()
            .all(|b| b.is_ascii_digit() || b"._e+-".contains(&b))
    {
        return None;
    }
    // Underscores only between digits.
    let bytes = t.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'_' {
            let before = i > 0 && bytes[i - 1].is_ascii_digit();
            let after = bytes.get(i + 1).is_some_and(|c| c.is_ascii_digit());
            if !(before && after) {
                return None;
            }
        }
    }
    t.replace('_', "").parse::<f64>().ok()
}

fn valid_underscores(digits: &str) -> bool {
    !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
}

/// How Python shows a list of strings (`Lower` turns a list into this).
fn py_list_repr(joined: &str) -> String {
    let items: Vec<String> = joined.split(',').map(py_repr).collect();
    format!("[{}]", items.join(", "))
}

/// `['a']['b']`: a voluptuous path, each part as Python's `repr` shows a string.
fn py_path(path: &[&str]) -> String {
    let mut out = String::new();
    for part in path {
        let _ = write!(out, "[{}]", py_repr(part));
    }
    out
}

/// Python's `repr` of a string.
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::new();
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if (0x80..0xa0).contains(&(c as u32)) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> RawValue<'_> {
        RawValue { text, list: false }
    }

    fn remote<'a>(name: &'a str, keys: &[(&'a str, &'a str)]) -> OrderedConfig<'a> {
        OrderedConfig {
            sections: Vec::new(),
            named: vec![(
                "remote",
                vec![(name, keys.iter().map(|(k, val)| (*k, v(val))).collect())],
            )],
        }
    }

    fn problem(config: &OrderedConfig<'_>) -> Option<String> {
        validate(config, Scope::Merged).map(|p| p.message)
    }

    /// Each message below is what DVC 3.67.1 printed for the same file.
    #[test]
    fn remote_options_as_dvc_checks_them() {
        type Case<'a> = (&'a [(&'a str, &'a str)], Option<&'a str>);
        let cases: &[Case] = &[
            (
                &[("url", "s3://b/p"), ("sse_kms_keyid", "abc"), ("jobs", "x")],
                Some("extra keys not allowed @ data['remote']['r']['sse_kms_keyid']"),
            ),
            (
                &[("url", "s3://b/p"), ("jobs", "x"), ("sse_kms_keyid", "abc")],
                Some("expected int for dictionary value @ data['remote']['r']['jobs']"),
            ),
            (
                &[("url", "s3:///p"), ("sse", "x")],
                Some("extra keys not allowed @ data['remote']['r']['sse']"),
            ),
            (
                &[("url", "foo://b/p")],
                Some("Unsupported URL type foo:// for dictionary value @ data['remote']['r']"),
            ),
            (
                &[("url", "s3://b/p"), ("use_ssl", "maybe")],
                Some("expected true or false for dictionary value @ data['remote']['r']['use_ssl']"),
            ),
            (
                &[("url", "s3://b/p"), ("cache_regions", "true")],
                Some("expected bool for dictionary value @ data['remote']['r']['cache_regions']"),
            ),
            (&[("url", "s3://b/p"), ("listobjects", "true")], None),
            (
                &[("jobs", "1")],
                Some("expected 'url' for dictionary value @ data['remote']['r']"),
            ),
            (
                &[
                    ("url", "/tmp/x"),
                    ("shared", "group"),
                    ("type", "copy"),
                    ("verify", "true"),
                    ("protected", "true"),
                    ("slow_link_warning", "false"),
                ],
                None,
            ),
            (
                &[("url", "/tmp/x"), ("sse", "x")],
                Some("extra keys not allowed @ data['remote']['r']['sse']"),
            ),
            (&[("url", "remote://x/y"), ("sse", "x"), ("foo", "1")], None),
            (
                &[("url", "http://h/x"), ("connect_timeout", "-1")],
                Some("value must be at least 0 for dictionary value @ data['remote']['r']['connect_timeout']"),
            ),
            (
                &[("url", "http://h/x"), ("connect_timeout", "abc")],
                Some("expected float for dictionary value @ data['remote']['r']['connect_timeout']"),
            ),
            (
                &[("url", "https://h/x"), ("auth", "Digest"), ("method", "weird")],
                None,
            ),
            (
                &[("url", "webdav://h/x"), ("timeout", "1.5")],
                Some("expected int for dictionary value @ data['remote']['r']['timeout']"),
            ),
            (
                &[("url", "s3://b/x"), ("read_timeout", "1.5")],
                Some("expected int for dictionary value @ data['remote']['r']['read_timeout']"),
            ),
            (
                &[("url", "S3://b/x"), ("jobs", "0")],
                Some("value must be at least 1 for dictionary value @ data['remote']['r']['jobs']"),
            ),
            (&[("url", "file:///x"), ("shared", "GROUP")], None),
            (
                &[("url", "file://host/x")],
                Some("Unsupported URL type file:// for dictionary value @ data['remote']['r']"),
            ),
        ];
        for (keys, want) in cases {
            assert_eq!(problem(&remote("r", keys)).as_deref(), *want, "{keys:?}");
        }
    }

    #[test]
    fn sections_in_schema_order_then_unknown_ones() {
        let config = OrderedConfig {
            sections: vec![
                ("foo", vec![("x", v("1"))]),
                ("core", vec![("remote", v("r")), ("foo", v("1"))]),
            ],
            named: vec![(
                "remote",
                vec![("r", vec![("url", v("s3://b")), ("bar", v("x"))])],
            )],
        };
        assert_eq!(
            problem(&config).as_deref(),
            Some("extra keys not allowed @ data['core']['foo']")
        );
        let config = OrderedConfig {
            sections: vec![("foo", vec![]), ("core", vec![("remote", v("r"))])],
            named: vec![],
        };
        assert_eq!(
            problem(&config).as_deref(),
            Some("extra keys not allowed @ data['foo']")
        );
    }

    #[test]
    fn cache_and_lenient_feature() {
        let cache = |keys: Vec<(&'static str, RawValue<'static>)>| OrderedConfig {
            sections: vec![("cache", keys)],
            named: vec![],
        };
        assert_eq!(
            problem(&cache(vec![("shared", v("Group")), ("type", v("foo"))])).as_deref(),
            Some("Unsupported cache type(s): foo for dictionary value @ data['cache']['type']")
        );
        assert_eq!(
            problem(&cache(vec![("type", v("foo, reflink"))])).as_deref(),
            Some("Unsupported cache type(s): foo for dictionary value @ data['cache']['type']")
        );
        let list = RawValue {
            text: "reflink,copy",
            list: true,
        };
        assert_eq!(problem(&cache(vec![("type", list)])), None);
        let feature = OrderedConfig {
            sections: vec![("feature", vec![("foo", v("1")), ("machine", v("true"))])],
            named: vec![],
        };
        assert_eq!(problem(&feature), None);
    }

    #[test]
    fn lists_where_strings_belong() {
        let list = RawValue {
            text: "a,b",
            list: true,
        };
        let config = OrderedConfig {
            sections: vec![],
            named: vec![(
                "remote",
                vec![("r", vec![("url", v("s3://b")), ("region", list)])],
            )],
        };
        assert_eq!(
            problem(&config).as_deref(),
            Some("expected str for dictionary value @ data['remote']['r']['region']")
        );
    }

    #[test]
    fn a_file_alone_may_leave_the_url_to_another() {
        let config = remote("r", &[("profile", "p"), ("sse_kms_key_id", "k")]);
        assert_eq!(validate(&config, Scope::FileAlone), None);
        let config = remote("r", &[("profile", "p"), ("sse_kms_keyid", "k")]);
        assert_eq!(
            validate(&config, Scope::FileAlone)
                .map(|p| p.message)
                .as_deref(),
            Some("extra keys not allowed @ data['remote']['r']['sse_kms_keyid']")
        );
    }

    #[test]
    fn python_numbers_and_reprs() {
        assert_eq!(py_int(" 12 "), Some(12));
        assert_eq!(py_int("-1_000"), Some(-1000));
        assert_eq!(py_int("1__0"), None);
        // Any script's decimal digits and any Python whitespace, as `int()` takes them.
        assert_eq!(py_int("\u{664}"), Some(4));
        assert_eq!(py_int("\u{ff14}\u{ff12}"), Some(42));
        assert_eq!(py_int("\u{3000}-1_\u{1d7ce}\u{2003}"), Some(-10));
        assert_eq!(py_int("\u{a0}7\u{85}"), Some(7));
        assert_eq!(py_int("\u{1c}7"), None);
        assert_eq!(py_int("\u{b2}"), None); // superscript two: No, not Nd
        assert_eq!(py_int("\u{2160}"), None); // Roman numeral one: Nl
        assert_eq!(py_int("\u{200b}1"), None); // zero-width space is not whitespace
        assert_eq!(py_int("\u{669}\u{66a}"), None);
        assert_eq!(py_int("1.5"), None);
        assert_eq!(py_int(""), None);
        assert_eq!(py_float("1e3"), Some(1000.0));
        assert_eq!(py_float(" 2.5 "), Some(2.5));
        assert!(py_float("NaN").unwrap().is_nan());
        assert_eq!(py_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(py_float("1_0.5"), Some(10.5));
        assert_eq!(py_float("abc"), None);
        assert_eq!(py_float("--1"), None);
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a\"b'c"), "'a\"b\\'c'");
        assert_eq!(py_repr("x\ny"), "'x\\ny'");
        assert_eq!(schema_scheme("//host/p"), "");
        assert_eq!(schema_scheme("HTTPS://h/p"), "https");
        assert_eq!(schema_scheme("c:/x"), "");
    }
}
