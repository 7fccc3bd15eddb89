//! DVC configuration: the config files DVC reads, merged as DVC merges them, and the
//! queries git-dvc needs (default remote, remote settings, cache directory).
//!
//! This follows `dvc/config.py`, `dvc/config_schema.py` and `dvc/fs/__init__.py` of
//! DVC 3.67.1.
//!
//! # Files and precedence
//!
//! DVC reads up to four files. Later ones win, key by key inside each section and
//! inside each remote:
//!
//! 1. system: [`system_config_path`], i.e. `$DVC_SYSTEM_CONFIG_DIR/config`, else
//!    `<first absolute entry of $XDG_CONFIG_DIRS, else /etc/xdg>/dvc/config`;
//! 2. global: [`global_config_path`], i.e. `$DVC_GLOBAL_CONFIG_DIR/config`, else
//!    `$XDG_CONFIG_HOME/dvc/config` (if absolute), else `$HOME/.config/dvc/config`;
//! 3. repo: `<dvc_dir>/config` ([`repo_config_path`]);
//! 4. local: `<dvc_dir>/config.local` ([`local_config_path`]).
//!
//! [`DvcConfig::from_levels`] merges levels in the order given. [`DvcConfig::load`] reads
//! the four standard files. For a push of an older revision, DVC uses that revision's
//! committed `.dvc/config` in place of the workspace one (and the workspace
//! `config.local`): parse it with [`ConfigLevel::parse`], giving the source (e.g.
//! `v1.0:.dvc/config`) and the origin directory. DVC 3.67.1 resolves relative paths in a
//! committed config against `/.dvc` (the root of its git tree view), so
//! `url = ../../rem` becomes `/rem`. Passing the real `.dvc` directory as `origin_dir`
//! avoids that bug.
//!
//! # What a file may contain
//!
//! The syntax is ConfigObj's (see [`super::configobj`]). On top of that, DVC:
//!
//! * lower-cases section names, keys **and remote names**
//!   (`['remote "MyRemote"']` defines remote `myremote`). When two spellings of the
//!   same section occur in one file, the later one replaces the earlier one entirely.
//!   Files from different levels are merged key by key;
//! * reads `['remote "name"']`, `[remote "name"]` and other spellings matching
//!   `^\s*(remote|machine|db)\s*"(.*)"\s*$` as named sections;
//! * lower-cases `core.remote`;
//! * gets `%(name)s` replaced by configobj's interpolation. A missing name is an error.
//!   DVC writes such values as given and then cannot read its own file.
//!
//! # Values
//!
//! All values are strings. A ConfigObj list (an unquoted value with commas, such as
//! `type = reflink,copy`) is joined back with `,`. For `cache.type`, the only list DVC
//! uses, that is equivalent: DVC splits the string on commas. Every other DVC option is
//! a plain string, and DVC rejects a list there, so joining loses nothing in a valid
//! file. Path options and `core.remote` given as a list are an error.
//!
//! # Paths
//!
//! As in DVC's `Config._resolve`, these options are resolved when a file is read, against
//! the `origin_dir` of the [`ConfigLevel`] (the directory of the file that sets them):
//! `cache.dir`, and the remote options `url`, `keyfile`, `credentialpath`, `configpath`,
//! `cert_path`, `key_path`, `gdrive_user_credentials_file` and
//! `gdrive_service_account_json_file_path`. (`machine` sections also get
//! `startup_script` and `setup_script` resolved.) A value matching `^\w+://` is kept as
//! it is, and so is an absolute path. A leading `~` or `~/` is expanded with `$HOME`.
//! Anything else is joined to `origin_dir` and normalised lexically (`..` removed, like
//! `os.path.abspath`). So `url = ../../remote` in `/repo/.dvc/config` is `/remote`, and
//! the empty `url =` is the `.dvc` directory itself.
//!
//! `remote://base/sub` is resolved by [`DvcConfig::remote`]: it takes the base remote's
//! settings, lets this remote's own settings override them, and sets the URL to
//! `<base url>/sub`. The URL is built like DVC builds it, by joining the two strings with
//! `/` without normalising (a base URL ending in `/` gives `//`). Chains are followed, and
//! a loop is an error, where DVC would hit `RecursionError`.
//!
//! # Differences from DVC
//!
//! * No schema validation. Unknown sections and keys are kept, not rejected, and a remote
//!   without `url` is an error only when it is looked up.
//! * A `key = value` line before the first section is an error here. DVC also rejects
//!   it, with "extra keys not allowed". A plain `[remote]` (or `[machine]`, `[db]`)
//!   section with keys is an error too, as it is in DVC. An empty one replaces DVC's
//!   dict of remotes, so it drops the remotes defined above it in the same file. That
//!   is reproduced.
//! * `~user/...` is not expanded (DVC looks the user up in the password database), and
//!   neither is `~` when `$HOME` is unset. Such a value is then a relative path.
//! * Paths are handled as UTF-8 strings. A non-UTF-8 `origin_dir` is converted lossily.
//! * Error messages add the file name to DVC's wording, except the two remote lookup
//!   errors, which are worded exactly as in DVC.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

use super::config_schema::{self, OrderedConfig, OrderedSection, RawValue, Scope};
use super::configobj::{self, Value};

/// Settings of one section or one named section: lower-cased key → value.
pub type Settings = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file that cannot be parsed. `message` is configobj's wording (`configobj`:
    /// printed as DVC does, which repeats it, the file going on a hint line), or ours
    /// for things DVC rejects later (printed with the file).
    #[error("config file error: {}", syntax_text(.file, .message, *.configobj))]
    Syntax {
        file: String,
        line: usize,
        message: String,
        configobj: bool,
    },
    #[error("config file error: {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// DVC's `RemoteNotFoundError`. Holds the name as the caller or the `remote://`
    /// URL spelled it.
    #[error("config file error: remote '{0}' doesn't exist")]
    RemoteNotFound(String),
    /// DVC's schema error for a remote without `url` (lower-cased name).
    #[error("config file error: expected 'url' for dictionary value @ data['remote']['{0}']")]
    MissingUrl(String),
    /// `remote://` URLs that lead back to a remote already on the path.
    #[error("config file error: remote:// URLs form a loop: {}", .0.join(" -> "))]
    RemoteLoop(Vec<String>),
    /// What DVC's schema refuses (an unknown or misspelt key, a value of the wrong
    /// kind), in DVC's words; `file` is the config file that set it.
    #[error("config file error: {message}")]
    Invalid { message: String, file: String },
}

/// DVC's `config file error: <configobj's message>: <the same>` (its `ConfigError`
/// wraps configobj's and prints both); ours name the file.
fn syntax_text(file: &str, message: &str, configobj: bool) -> String {
    if configobj {
        format!("{message}: {message}")
    } else {
        format!("{file}: {message}")
    }
}

impl ConfigError {
    /// Whether DVC stops with this error as it opens the repository ("configuration
    /// error", exit 251), rather than when a command looks a remote up.
    pub fn stops_loading(&self) -> bool {
        matches!(
            self,
            ConfigError::Syntax { .. }
                | ConfigError::Io { .. }
                | ConfigError::Invalid { .. }
                | ConfigError::MissingUrl(_)
        )
    }

    /// The file to fix, when the error is about one.
    pub fn file(&self) -> Option<String> {
        match self {
            ConfigError::Syntax { file, .. } | ConfigError::Invalid { file, .. } => {
                Some(file.clone())
            }
            ConfigError::Io { path, .. } => Some(path.display().to_string()),
            _ => None,
        }
    }
}

/// The contents of one config file, with names lower-cased and paths resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigData {
    /// Plain sections: `core`, `cache`, … → settings.
    pub sections: BTreeMap<String, Settings>,
    /// Named sections: kind (`remote`, `machine`, `db`) → lower-cased name → settings.
    pub named: BTreeMap<String, BTreeMap<String, Settings>>,
}

/// One config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigLevel {
    /// The directory relative paths in this file were resolved against.
    pub origin_dir: PathBuf,
    /// Where the text came from, for messages: a path, or e.g. `v1.0:.dvc/config`.
    pub source: String,
    pub data: ConfigData,
    /// The sections and keys of `data` in the order DVC's dicts hold them, and which
    /// values were lists: what the schema check walks.
    pub layout: Layout,
}

/// Sections and keys in first-appearance order (DVC reports the first problem its
/// schema finds in that order), with which values ConfigObj read as lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Plain sections (`core`, `cache`, unknown ones) and their keys.
    pub sections: Vec<(String, Vec<LayoutKey>)>,
    /// Named sections: kind (`remote`, …), name, keys.
    pub named: Vec<(String, String, Vec<LayoutKey>)>,
}

/// One key of a section, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutKey {
    pub key: String,
    /// ConfigObj read the value as a list (unquoted, with commas).
    pub list: bool,
}

/// A remote's settings, after following `remote://` references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteConfig {
    /// Lower-cased name.
    pub name: String,
    /// Resolved URL: a URL, or an absolute local path.
    pub url: String,
    /// Every other option (lower-cased key → value; lists joined with `,`). Path options
    /// are already resolved.
    pub options: Settings,
}

/// The merged configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DvcConfig {
    levels: Vec<ConfigLevel>,
    merged: ConfigData,
    /// The first problem DVC's schema finds in the merged levels, if any.
    invalid: Option<(String, String)>,
}

/// Options holding paths, resolved relative to the file that sets them
/// (`Config._map_dirs`).
const REMOTE_PATH_OPTIONS: &[&str] = &[
    "url",
    "gdrive_user_credentials_file",
    "gdrive_service_account_json_file_path",
    "credentialpath",
    "configpath",
    "keyfile",
    "cert_path",
    "key_path",
];
const MACHINE_PATH_OPTIONS: &[&str] = &["startup_script", "setup_script"];
const NAMED_KINDS: &[&str] = &["remote", "machine", "db"];

impl ConfigLevel {
    /// Parses one config file's text. `origin_dir` should be absolute: it is the
    /// directory relative paths are resolved against (normally the file's directory).
    pub fn parse(
        text: &str,
        origin_dir: impl Into<PathBuf>,
        source: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let origin_dir = origin_dir.into();
        let source = source.into();
        let syntax = |line: usize, message: String| ConfigError::Syntax {
            file: source.clone(),
            line,
            message,
            configobj: false,
        };
        let doc = configobj::parse(text).map_err(|e| ConfigError::Syntax {
            file: source.clone(),
            line: e.line,
            message: e.message,
            configobj: e.configobj,
        })?;
        if let Some(entry) = doc.scalars.first() {
            return Err(syntax(
                entry.line,
                format!(
                    "key '{}' at line {} is outside any section.",
                    entry.key, entry.line
                ),
            ));
        }

        // `_lower_keys`: a dict keyed by the lower-cased name, so a later spelling
        // replaces an earlier one but keeps its position.
        let mut lowered: Vec<(String, &configobj::Section)> = Vec::new();
        for section in &doc.sections {
            let name = section.name.to_lowercase();
            match lowered.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = section,
                None => lowered.push((name, section)),
            }
        }

        // `_parse_named`, in that order: a later section for the same remote replaces
        // the earlier one.
        let mut plain = BTreeMap::new();
        let mut named: BTreeMap<&str, BTreeMap<&str, &configobj::Section>> = BTreeMap::new();
        // Named sections in the order DVC's dict of each kind holds them.
        let mut named_order: Vec<(&str, &str)> = Vec::new();
        for (name, section) in &lowered {
            if let Some((kind, remote)) = parse_named(name) {
                named.entry(kind).or_default().insert(remote, section);
                if !named_order.contains(&(kind, remote)) {
                    named_order.push((kind, remote));
                }
            } else if let Some(&kind) = NAMED_KINDS.iter().find(|&&kind| kind == name) {
                named_order.retain(|(k, _)| *k != kind);
                // A plain `[remote]` replaces DVC's whole dict of remotes: an empty one
                // forgets the remotes above it, a non-empty one fails DVC's schema.
                if !section.entries.is_empty() {
                    let message = format!(
                        "section [{name}] at line {} needs a name, as in ['{name} \"name\"'].",
                        section.line
                    );
                    return Err(syntax(section.line, message));
                }
                named.insert(kind, BTreeMap::new());
            } else {
                plain.insert(name.as_str(), *section);
            }
        }

        let mut data = ConfigData::default();
        for (&name, &section) in &plain {
            let path_options: &[&str] = if name == "cache" { &["dir"] } else { &[] };
            let settings = settings(section, path_options, name == "core", &origin_dir)
                .map_err(|(line, message)| syntax(line, message))?;
            data.sections.insert(name.to_string(), settings);
        }
        for (&kind, sections) in named.iter().filter(|(_, s)| !s.is_empty()) {
            let path_options = match kind {
                "remote" => REMOTE_PATH_OPTIONS,
                "machine" => MACHINE_PATH_OPTIONS,
                _ => &[],
            };
            let into = data.named.entry(kind.to_string()).or_default();
            for (&name, &section) in sections {
                let settings = settings(section, path_options, false, &origin_dir)
                    .map_err(|(line, message)| syntax(line, message))?;
                into.insert(name.to_string(), settings);
            }
        }
        let layout = Layout {
            sections: lowered
                .iter()
                .filter(|(name, _)| plain.contains_key(name.as_str()))
                .map(|(name, section)| (name.clone(), layout_keys(section)))
                .collect(),
            named: named_order
                .iter()
                .filter_map(|&(kind, name)| {
                    let section = named.get(kind)?.get(name)?;
                    Some((kind.to_string(), name.to_string(), layout_keys(section)))
                })
                .collect(),
        };
        Ok(ConfigLevel {
            origin_dir,
            source,
            data,
            layout,
        })
    }

    /// DVC's schema check of this file read alone, as the server checks a pushed
    /// `.dvc/config`: a remote's `url` may be set in a file it cannot see (the clone's
    /// `config.local`), so a remote without one may hold any remote option; anything
    /// else DVC would refuse is refused.
    pub fn check_schema_alone(&self) -> Result<(), ConfigError> {
        match schema_problem(std::slice::from_ref(self), Scope::FileAlone) {
            None => Ok(()),
            Some((message, file)) => Err(ConfigError::Invalid { message, file }),
        }
    }

    /// Reads and parses a config file. A missing file is `Ok(None)`, as in DVC.
    /// Relative paths in it resolve against the file's directory, made absolute.
    pub fn load_file(path: &Path) -> Result<Option<Self>, ConfigError> {
        let io_error = |source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error(e)),
        };
        let source = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = 1 + valid.iter().filter(|&&b| b == b'\n').count();
            ConfigError::Syntax {
                file: source.clone(),
                line,
                message: format!("invalid UTF-8 at line {line}."),
                configobj: false,
            }
        })?;
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            std::env::current_dir().map_err(io_error)?.join(path)
        };
        let origin_dir = normalize(absolute.parent().unwrap_or(Path::new("/")));
        Self::parse(&text, origin_dir, source).map(Some)
    }
}

impl DvcConfig {
    /// Merges levels in the order given (system, global, repo, local): a later level
    /// overrides single keys of a section or remote, not whole sections.
    pub fn from_levels(levels: Vec<ConfigLevel>) -> Self {
        let mut merged = ConfigData::default();
        for level in &levels {
            for (name, settings) in &level.data.sections {
                let into = merged.sections.entry(name.clone()).or_default();
                into.extend(settings.clone());
            }
            for (kind, by_name) in &level.data.named {
                let into = merged.named.entry(kind.clone()).or_default();
                for (name, settings) in by_name {
                    into.entry(name.clone())
                        .or_default()
                        .extend(settings.clone());
                }
            }
        }
        let invalid = schema_problem(&levels, Scope::Merged);
        DvcConfig {
            levels,
            merged,
            invalid,
        }
    }

    /// A configuration that cannot be read (a committed `.dvc/config` with a syntax
    /// error): it routes nothing, and [`Self::check_schema`] reports `error`, so that
    /// the revision holding it fails to collect as in DVC.
    pub fn unreadable(error: &ConfigError) -> DvcConfig {
        let text = error.to_string();
        let message = text
            .strip_prefix("config file error: ")
            .unwrap_or(&text)
            .to_string();
        DvcConfig {
            invalid: Some((message, error.file().unwrap_or_default())),
            ..DvcConfig::default()
        }
    }

    /// DVC's schema check of the merged levels: the first problem DVC would stop on
    /// (an unknown key, a value of the wrong kind, a remote without `url`), naming the
    /// file that set it.
    pub fn check_schema(&self) -> Result<(), ConfigError> {
        match &self.invalid {
            None => Ok(()),
            Some((message, file)) => Err(ConfigError::Invalid {
                message: message.clone(),
                file: file.clone(),
            }),
        }
    }

    /// Reads the system, global, repo and local config files of the repository whose
    /// `.dvc` directory is `dvc_dir`. Missing files are skipped.
    pub fn load(dvc_dir: &Path) -> Result<Self, ConfigError> {
        let paths = [
            Some(system_config_path()),
            global_config_path(),
            Some(repo_config_path(dvc_dir)),
            Some(local_config_path(dvc_dir)),
        ];
        let mut levels = Vec::new();
        for path in paths.iter().flatten() {
            levels.extend(ConfigLevel::load_file(path)?);
        }
        Ok(Self::from_levels(levels))
    }

    /// The levels this config was merged from.
    pub fn levels(&self) -> &[ConfigLevel] {
        &self.levels
    }

    /// The merged contents.
    pub fn data(&self) -> &ConfigData {
        &self.merged
    }

    /// A plain section's value, e.g. `get("cache", "type")`. Names are matched
    /// case-insensitively. Path options come back resolved.
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let settings = self.merged.sections.get(&section.to_lowercase())?;
        settings.get(&key.to_lowercase()).map(String::as_str)
    }

    /// `core.remote`, lower-cased. An empty value counts as unset, as in DVC.
    pub fn core_remote(&self) -> Option<String> {
        self.get("core", "remote")
            .filter(|name| !name.is_empty())
            .map(str::to_string)
    }

    /// The names of all remotes (lower-cased, sorted).
    pub fn remote_names(&self) -> Vec<&str> {
        self.merged
            .named
            .get("remote")
            .map(|remotes| remotes.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    /// A remote's settings, looked up by name case-insensitively, with `remote://`
    /// references followed.
    pub fn remote(&self, name: &str) -> Result<RemoteConfig, ConfigError> {
        let mut settings = self.remote_settings(name, &mut Vec::new())?;
        let url = settings.remove("url").unwrap_or_default();
        Ok(RemoteConfig {
            name: name.to_lowercase(),
            url,
            options: settings,
        })
    }

    /// `dvc/fs/__init__.py: get_fs_config` and `_resolve_remote_refs`. `chain` holds
    /// the remotes whose `remote://` URL led here, for loop detection.
    fn remote_settings(
        &self,
        name: &str,
        chain: &mut Vec<String>,
    ) -> Result<Settings, ConfigError> {
        let key = name.to_lowercase();
        let settings = self
            .merged
            .named
            .get("remote")
            .and_then(|remotes| remotes.get(&key))
            .ok_or_else(|| ConfigError::RemoteNotFound(name.to_string()))?;
        let url = settings
            .get("url")
            .ok_or_else(|| ConfigError::MissingUrl(key.clone()))?;
        let Some((base, path)) = split_remote_url(url) else {
            return Ok(settings.clone());
        };
        let looped = chain.contains(&key);
        chain.push(key);
        if looped {
            return Err(ConfigError::RemoteLoop(chain.clone()));
        }
        let mut merged = self.remote_settings(base, chain)?;
        chain.pop();
        let url = format!(
            "{}/{}",
            merged.get("url").map_or("", String::as_str),
            path.trim_start_matches('/')
        );
        merged.extend(settings.clone());
        merged.insert("url".to_string(), url);
        Ok(merged)
    }

    /// `cache.dir`, resolved against the directory of the file that set it.
    /// `None` means the default, `<dvc_dir>/cache`.
    pub fn cache_dir(&self) -> Option<PathBuf> {
        self.get("cache", "dir").map(PathBuf::from)
    }
}

/// One section's settings: keys lower-cased (a later spelling wins), lists joined,
/// path options resolved, and `core.remote` lower-cased. Errors are (line, message).
fn settings(
    section: &configobj::Section,
    path_options: &[&str],
    is_core: bool,
    origin_dir: &Path,
) -> Result<Settings, (usize, String)> {
    let mut values = BTreeMap::new();
    for entry in &section.entries {
        values.insert(entry.key.to_lowercase(), entry);
    }
    let mut settings = Settings::new();
    for (key, entry) in values {
        let is_path = path_options.contains(&key.as_str());
        let is_remote_name = is_core && key == "remote";
        let text = match &entry.value {
            Value::Str(s) => s.clone(),
            Value::List(_) if is_path || is_remote_name => {
                let line = entry.line;
                return Err((
                    line,
                    format!(
                        "'{key}' at line {line} must be a single value; quote values that \
                         contain commas."
                    ),
                ));
            }
            Value::List(items) => items.join(","),
        };
        let text = if is_path {
            resolve_path(origin_dir, &text)
        } else if is_remote_name {
            text.to_lowercase()
        } else {
            text
        };
        settings.insert(key, text);
    }
    Ok(settings)
}

/// The first problem DVC's schema finds in `levels` merged (see [`config_schema`]), and
/// the source of the level that set the value it is about.
fn schema_problem(levels: &[ConfigLevel], scope: Scope) -> Option<(String, String)> {
    fn upsert<'l, 'a, T: Default>(list: &'l mut Vec<(&'a str, T)>, name: &'a str) -> &'l mut T {
        let i = match list.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                list.push((name, T::default()));
                list.len() - 1
            }
        };
        &mut list[i].1
    }
    fn set<'a>(section: &mut OrderedSection<'a>, keys: &'a [LayoutKey], values: &'a Settings) {
        for k in keys {
            let Some(text) = values.get(&k.key) else {
                continue;
            };
            let value = RawValue { text, list: k.list };
            match section.iter_mut().find(|(n, _)| *n == k.key) {
                Some(slot) => slot.1 = value,
                None => section.push((&k.key, value)),
            }
        }
    }
    let mut ordered = OrderedConfig::default();
    for level in levels {
        for (name, keys) in &level.layout.sections {
            let Some(values) = level.data.sections.get(name) else {
                continue;
            };
            set(upsert(&mut ordered.sections, name), keys, values);
        }
        for (kind, name, keys) in &level.layout.named {
            let Some(values) = level.data.named.get(kind).and_then(|n| n.get(name)) else {
                continue;
            };
            let of_kind = upsert(&mut ordered.named, kind);
            set(upsert(of_kind, name), keys, values);
        }
    }
    let problem = config_schema::validate(&ordered, scope)?;
    // The last level that holds the value (for a remote, its url; else the section).
    let path: Vec<&str> = problem.path.iter().map(String::as_str).collect();
    let is_named = path.len() >= 2 && NAMED_KINDS.contains(&path[0]);
    let (section_path, key) = match (is_named, path.as_slice()) {
        (true, [kind, name, key, ..]) => ((*kind, Some(*name)), Some(*key)),
        (true, [kind, name]) => ((*kind, Some(*name)), (*kind == "remote").then_some("url")),
        (false, [section, key, ..]) => ((*section, None), Some(*key)),
        (_, [section, ..]) => ((*section, None), None),
        (_, []) => (("", None), None),
    };
    fn settings_at<'l>(level: &'l ConfigLevel, at: (&str, Option<&str>)) -> Option<&'l Settings> {
        match at {
            (kind, Some(name)) => level.data.named.get(kind)?.get(name),
            (section, None) => level.data.sections.get(section),
        }
    }
    let settings = |level| settings_at(level, section_path);
    let file = levels
        .iter()
        .rev()
        .find(|l| key.is_some_and(|k| settings(l).is_some_and(|s| s.contains_key(k))))
        .or_else(|| levels.iter().rev().find(|l| settings(l).is_some()))
        .or(levels.last())
        .map(|l| l.source.clone())
        .unwrap_or_default();
    Some((problem.message, file))
}

/// A section's keys, lower-cased, where each first appears; the list flag of the value
/// that wins (the last spelling).
fn layout_keys(section: &configobj::Section) -> Vec<LayoutKey> {
    let mut keys: Vec<LayoutKey> = Vec::new();
    for entry in &section.entries {
        let key = entry.key.to_lowercase();
        let list = matches!(entry.value, Value::List(_));
        match keys.iter_mut().find(|k| k.key == key) {
            Some(k) => k.list = list,
            None => keys.push(LayoutKey { key, list }),
        }
    }
    keys
}

/// `_parse_named`: `remote "name"` (already lower-cased) → `("remote", "name")`, for
/// the regex `^\s*(remote|machine|db)\s*"(.*)"\s*$`.
fn parse_named(section: &str) -> Option<(&'static str, &str)> {
    let is_space = |c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c);
    let section = section.trim_start_matches(is_space);
    NAMED_KINDS.iter().find_map(|&kind| {
        let rest = section.strip_prefix(kind)?.trim_start_matches(is_space);
        let quoted = rest.strip_prefix('"')?.trim_end_matches(is_space);
        Some((kind, quoted.strip_suffix('"')?))
    })
}

/// The base remote name and path of a `remote://name/path` URL, split like Python's
/// `urlsplit` (scheme compared case-insensitively, query and fragment dropped).
fn split_remote_url(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    if !scheme.eq_ignore_ascii_case("remote") {
        return None;
    }
    let (netloc, path) = match rest.strip_prefix("//") {
        Some(rest) => rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len())),
        None => ("", rest),
    };
    Some((netloc, &path[..path.find(['?', '#']).unwrap_or(path.len())]))
}

/// `Config._resolve`: URLs and absolute paths as they are, `~` expanded, anything
/// else joined to `dir` and normalised.
fn resolve_path(dir: &Path, value: &str) -> String {
    let scheme_len = value
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(value.len());
    if (scheme_len > 0 && value[scheme_len..].starts_with("://")) || value.starts_with('/') {
        return value.to_string();
    }
    let expanded = expand_user(value);
    if expanded.starts_with('/') {
        return expanded; // DVC does not normalise these
    }
    // DVC joins the original value, not a non-absolute expansion.
    normalize(&dir.join(value)).to_string_lossy().into_owned()
}

/// `os.path.expanduser` for `~` and `~/...` when `$HOME` is set.
fn expand_user(path: &str) -> String {
    let Some(rest) = path.strip_prefix('~') else {
        return path.to_string();
    };
    let home = match std::env::var_os("HOME") {
        Some(home) if rest.is_empty() || rest.starts_with('/') => home,
        _ => return path.to_string(),
    };
    let home = home.to_string_lossy();
    let expanded = format!("{}{rest}", home.trim_end_matches('/'));
    if expanded.is_empty() {
        "/".to_string()
    } else {
        expanded
    }
}

/// Lexical normalisation like `os.path.normpath`: drops `.` and resolves `..`
/// without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    let mut depth = 0; // normal components in `out` that `..` may remove
    for component in path.components() {
        match component {
            Component::Prefix(_) | Component::RootDir => out.push(component),
            Component::CurDir => {}
            Component::ParentDir if depth > 0 => {
                out.pop();
                depth -= 1;
            }
            Component::ParentDir if out.has_root() => {}
            Component::ParentDir => out.push(".."),
            Component::Normal(name) => {
                out.push(name);
                depth += 1;
            }
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The system config file: `$DVC_SYSTEM_CONFIG_DIR/config`, else platformdirs'
/// `site_config_dir("dvc")/config`, which is `<first absolute entry of
/// $XDG_CONFIG_DIRS>/dvc/config`, else `/etc/xdg/dvc/config`.
pub fn system_config_path() -> PathBuf {
    system_config_path_from(|name| std::env::var_os(name))
}

fn system_config_path_from(env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let env = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(dir) = env("DVC_SYSTEM_CONFIG_DIR") {
        return PathBuf::from(dir).join("config");
    }
    let xdg = env("XDG_CONFIG_DIRS")
        .and_then(|dirs| std::env::split_paths(&dirs).find(|dir| dir.is_absolute()));
    xdg.unwrap_or_else(|| PathBuf::from("/etc/xdg"))
        .join("dvc")
        .join("config")
}

/// The global (per-user) config file: `$DVC_GLOBAL_CONFIG_DIR/config`, else
/// platformdirs' `user_config_dir("dvc")/config`, which is
/// `$XDG_CONFIG_HOME/dvc/config` if that is absolute, else `$HOME/.config/dvc/config`.
/// `None` when `$HOME` is unset or relative (platformdirs would then ask the password
/// database).
pub fn global_config_path() -> Option<PathBuf> {
    global_config_path_from(|name| std::env::var_os(name))
}

fn global_config_path_from(env: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = env("DVC_GLOBAL_CONFIG_DIR").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir).join("config"));
    }
    let absolute = |name: &str| env(name).map(PathBuf::from).filter(|p| p.is_absolute());
    let base = match absolute("XDG_CONFIG_HOME") {
        Some(dir) => dir,
        None => absolute("HOME")?.join(".config"),
    };
    Some(base.join("dvc").join("config"))
}

/// `<dvc_dir>/config`, the committed repo config.
pub fn repo_config_path(dvc_dir: &Path) -> PathBuf {
    dvc_dir.join("config")
}

/// `<dvc_dir>/config.local`, the untracked local config.
pub fn local_config_path(dvc_dir: &Path) -> PathBuf {
    dvc_dir.join("config.local")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `.dvc/config` exactly as DVC 3.67.1 wrote it for:
    /// `dvc remote add -d MyRemote ../remote`, `dvc remote add s3r s3://…`,
    /// `dvc remote modify s3r endpointurl …`, `dvc config cache.dir ../mycache`,
    /// `dvc config cache.type reflink,copy`, `dvc remote modify h password " lead trail "`,
    /// `… custom_auth_header 'a"b#c'`, `… user "x'y"`, `… ssl_verify ""`,
    /// `dvc remote add sub remote://MyRemote/sub/dir`, `… keyfile '~/k'`,
    /// `… credentialpath keys/c.json`, all run in /tmp/cfgx/r1.
    const REPO: &str = r#"[core]
    remote = myremote
[cache]
    dir = ../../mycache
    type = "reflink,copy"
['remote "myremote"']
    url = ../../remote
['remote "s3r"']
    url = s3://mybucket/some/prefix
    endpointurl = http://127.0.0.1:9000
['remote "h"']
    url = https://example.com/dvc
    method = PUT
    password = " lead trail "
    custom_auth_header = 'a"b#c'
    user = x'y
    ssl_verify = ""
['remote "sub"']
    url = remote://MyRemote/sub/dir
    keyfile = ~/k
    credentialpath = ../keys/c.json
"#;

    /// `.dvc/config.local` as DVC wrote it for `dvc remote modify --local s3r
    /// access_key_id AKIA`, `… secret_access_key 's3cr#t,x'`,
    /// `… session_token "it's \"q\""` and `dvc remote add --local loc ./rel/path`.
    const LOCAL: &str = r#"['remote "s3r"']
    access_key_id = AKIA
    secret_access_key = "s3cr#t,x"
    session_token = '''it's "q"'''
['remote "loc"']
    url = ../rel/path
"#;

    /// `dvc remote add --local w webdavs://…` then `modify --local` of `token`
    /// (with a newline), `password "a'''b"`, `user "  "`, `custom_auth_header "#x"`,
    /// `cert_path "a,b"`.
    const LOCAL_WEBDAV: &str = "['remote \"w\"']
    url = webdavs://example.com/x
    token = '''multi
line'''
    password = a'''b
    user = \"  \"
    custom_auth_header = \"#x\"
    cert_path = \"../a,b\"
";

    fn level(text: &str, dir: &str) -> ConfigLevel {
        ConfigLevel::parse(text, dir, format!("{dir}/config")).unwrap()
    }

    fn repo_and_local() -> DvcConfig {
        DvcConfig::from_levels(vec![
            level(REPO, "/tmp/cfgx/r1/.dvc"),
            level(LOCAL, "/tmp/cfgx/r1/.dvc"),
        ])
    }

    fn opts(pairs: &[(&str, &str)]) -> Settings {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn reads_files_written_by_dvc() {
        let config = repo_and_local();
        assert_eq!(config.core_remote().as_deref(), Some("myremote"));
        assert_eq!(
            config.remote_names(),
            ["h", "loc", "myremote", "s3r", "sub"]
        );
        // Values match `dvc config -l --show-origin`.
        assert_eq!(config.cache_dir(), Some(PathBuf::from("/tmp/cfgx/mycache")));
        assert_eq!(config.get("cache", "type"), Some("reflink,copy"));
        let myremote = config.remote("myremote").unwrap();
        assert_eq!(myremote.url, "/tmp/cfgx/remote");
        assert!(myremote.options.is_empty());

        let s3r = config.remote("s3r").unwrap();
        assert_eq!(s3r.url, "s3://mybucket/some/prefix");
        assert_eq!(
            s3r.options,
            opts(&[
                ("access_key_id", "AKIA"),
                ("endpointurl", "http://127.0.0.1:9000"),
                ("secret_access_key", "s3cr#t,x"),
                ("session_token", "it's \"q\""),
            ])
        );

        let h = config.remote("h").unwrap();
        assert_eq!(
            h.options,
            opts(&[
                ("custom_auth_header", "a\"b#c"),
                ("method", "PUT"),
                ("password", " lead trail "),
                ("ssl_verify", ""),
                ("user", "x'y"),
            ])
        );
        assert_eq!(config.remote("loc").unwrap().url, "/tmp/cfgx/r1/rel/path");
    }

    #[test]
    fn multi_line_and_quoted_values() {
        let config = DvcConfig::from_levels(vec![level(LOCAL_WEBDAV, "/r/.dvc")]);
        let w = config.remote("w").unwrap();
        assert_eq!(w.url, "webdavs://example.com/x");
        assert_eq!(w.options["token"], "multi\nline");
        assert_eq!(w.options["password"], "a'''b");
        assert_eq!(w.options["user"], "  ");
        assert_eq!(w.options["custom_auth_header"], "#x");
        assert_eq!(w.options["cert_path"], "/r/a,b");
    }

    #[test]
    fn remote_refs() {
        let config = repo_and_local();
        let sub = config.remote("sub").unwrap();
        assert_eq!(sub.name, "sub");
        assert_eq!(sub.url, "/tmp/cfgx/remote/sub/dir");
        assert_eq!(sub.options["credentialpath"], "/tmp/cfgx/r1/keys/c.json");
        match std::env::var("HOME") {
            Ok(home) if home.starts_with('/') => assert_eq!(
                sub.options["keyfile"],
                format!("{}/k", home.trim_end_matches('/'))
            ),
            _ => {}
        }

        // Options of the base are inherited and shadowed; chains are followed.
        let text = r#"
['remote "server"']
    url = ssh://localhost
    user = root
    ask_password = true
['remote "images"']
    url = remote://server/tmp/pictures
    user = alice
    password = asdf1234
['remote "Thumbs"']
    url = remote://IMAGES//small?ignored
    port = 2222
['remote "top"']
    url = remote://server
"#;
        let config = DvcConfig::from_levels(vec![level(text, "/r/.dvc")]);
        let images = config.remote("images").unwrap();
        assert_eq!(images.url, "ssh://localhost/tmp/pictures");
        assert_eq!(
            images.options,
            opts(&[
                ("ask_password", "true"),
                ("password", "asdf1234"),
                ("user", "alice")
            ])
        );
        let thumbs = config.remote("THUMBS").unwrap();
        assert_eq!(thumbs.url, "ssh://localhost/tmp/pictures/small");
        assert_eq!(thumbs.options["port"], "2222");
        assert_eq!(thumbs.options["user"], "alice");
        // DVC joins with "/" even when the path is empty.
        assert_eq!(config.remote("top").unwrap().url, "ssh://localhost/");
    }

    #[test]
    fn remote_ref_errors() {
        let text = r#"
['remote "a"']
    url = remote://b/x
['remote "b"']
    url = remote://A/y
['remote "c"']
    url = remote://Missing/z
"#;
        let config = DvcConfig::from_levels(vec![level(text, "/r/.dvc")]);
        let err = config.remote("a").unwrap_err();
        assert!(matches!(&err, ConfigError::RemoteLoop(chain) if chain == &["a", "b", "a"]));
        assert_eq!(
            err.to_string(),
            "config file error: remote:// URLs form a loop: a -> b -> a"
        );
        assert_eq!(
            config.remote("c").unwrap_err().to_string(),
            "config file error: remote 'Missing' doesn't exist"
        );
    }

    #[test]
    fn unknown_remote_and_missing_url() {
        let config = repo_and_local();
        assert_eq!(
            config.remote("NoSuch").unwrap_err().to_string(),
            "config file error: remote 'NoSuch' doesn't exist"
        );
        let config = DvcConfig::from_levels(vec![level("[remote \"NoURL\"]\nfoo = 1\n", "/r")]);
        assert_eq!(
            config.remote("nourl").unwrap_err().to_string(),
            "config file error: expected 'url' for dictionary value @ data['remote']['nourl']"
        );
        assert_eq!(DvcConfig::default().core_remote(), None);
        assert!(DvcConfig::default().remote_names().is_empty());
    }

    #[test]
    fn names_are_case_insensitive() {
        let text = "[CORE]\nRemote = MyRemote\n['Remote \"MyRemote\"']\nURL = s3://b\n";
        let config = DvcConfig::from_levels(vec![level(text, "/r/.dvc")]);
        assert_eq!(config.core_remote().as_deref(), Some("myremote"));
        assert_eq!(config.get("Core", "REMOTE"), Some("myremote"));
        assert_eq!(config.remote_names(), ["myremote"]);
        let remote = config.remote("MYREMOTE").unwrap();
        assert_eq!(
            (remote.name.as_str(), remote.url.as_str()),
            ("myremote", "s3://b")
        );
        // Within one file a later spelling of a section replaces the earlier one.
        let config = DvcConfig::from_levels(vec![level("[core]\na = 1\n[Core]\nb = 2\n", "/r")]);
        assert_eq!(
            (config.get("core", "a"), config.get("core", "b")),
            (None, Some("2"))
        );
    }

    #[test]
    fn section_spellings() {
        let text = "[remote \"a\"]\nurl = s3://a\n[ remote\"b\" ]\nurl = s3://b\n\
                    [\"remote \"c\"\"]\nurl = s3://c\n['remote \"d\" ']\nurl = s3://d\n";
        let config = DvcConfig::from_levels(vec![level(text, "/r")]);
        assert_eq!(config.remote_names(), ["a", "b", "c", "d"]);
        // Backslash escapes do not exist: this is a plain section, not a remote.
        let config = DvcConfig::from_levels(vec![level("[\"remote \\\"e\\\"\"]\n", "/r")]);
        assert!(config.remote_names().is_empty());
        assert!(config.data().sections.contains_key("remote \\\"e\\\""));
    }

    #[test]
    fn precedence_is_per_key() {
        let system = level(
            "[core]\nremote = sys\nchecksum_jobs = 2\n[cache]\ntype = copy\n",
            "/etc/xdg/dvc",
        );
        let global = level(
            "[core]\nremote = glob\n['remote \"r\"']\nurl = /g\nregion = eu\n",
            "/home/u/.config/dvc",
        );
        let repo = level(
            "['remote \"r\"']\nurl = s3://repo\nprofile = p\n",
            "/repo/.dvc",
        );
        let local = level(
            "[core]\nremote = R\n['remote \"r\"']\nprofile = local\n",
            "/repo/.dvc",
        );
        let config = DvcConfig::from_levels(vec![system, global, repo, local]);
        assert_eq!(config.core_remote().as_deref(), Some("r"));
        assert_eq!(config.get("core", "checksum_jobs"), Some("2"));
        assert_eq!(config.get("cache", "type"), Some("copy"));
        let r = config.remote("r").unwrap();
        assert_eq!(r.url, "s3://repo");
        assert_eq!(r.options, opts(&[("profile", "local"), ("region", "eu")]));
        assert_eq!(config.levels().len(), 4);
    }

    #[test]
    fn relative_paths_resolve_per_level() {
        let global = level(
            "[cache]\ndir = cache\n['remote \"g\"']\nurl = ../store\nkeyfile = ./id\n",
            "/home/u/.config/dvc",
        );
        let repo = level("['remote \"r\"']\nurl = ../../rem/\n", "/w/repo/.dvc");
        let local = level(
            "['remote \"g\"']\nurl = up/./x/../y\n['remote \"e\"']\nurl =\n",
            "/w/repo/.dvc",
        );
        let config = DvcConfig::from_levels(vec![global, repo, local]);
        assert_eq!(
            config.cache_dir(),
            Some(PathBuf::from("/home/u/.config/dvc/cache"))
        );
        assert_eq!(config.remote("r").unwrap().url, "/w/rem");
        let g = config.remote("g").unwrap();
        // The url was overridden by the local file, so it resolves there; keyfile
        // still comes from (and resolves against) the global file.
        assert_eq!(g.url, "/w/repo/.dvc/up/y");
        assert_eq!(g.options["keyfile"], "/home/u/.config/dvc/id");
        assert_eq!(config.remote("e").unwrap().url, "/w/repo/.dvc");

        // URLs and absolute paths are kept verbatim; only path options are resolved.
        let text = "['remote \"x\"']\nurl = /a/../b\nregion = ../not/a/path\n\
                    configpath = gs_x://y\ncert_path = c:d\n";
        let x = DvcConfig::from_levels(vec![level(text, "/r/.dvc")])
            .remote("x")
            .unwrap();
        assert_eq!(x.url, "/a/../b");
        assert_eq!(x.options["region"], "../not/a/path");
        assert_eq!(x.options["configpath"], "gs_x://y");
        assert_eq!(x.options["cert_path"], "/r/.dvc/c:d");

        // A committed config read from git: the caller picks the origin.
        let old = ConfigLevel::parse(
            "['remote \"r\"']\nurl = ../../rem\n",
            "/w/repo/.dvc",
            "v1.0:.dvc/config",
        )
        .unwrap();
        assert_eq!(old.source, "v1.0:.dvc/config");
        assert_eq!(
            DvcConfig::from_levels(vec![old]).remote("r").unwrap().url,
            "/w/rem"
        );
    }

    #[test]
    fn later_sections_replace_earlier_ones_in_a_file() {
        // `remote"a"` and `remote "A"` are different configobj sections naming the same
        // remote: the second wins whole, so the first one's list URL does not matter.
        let text = "[remote\"a\"]\nurl = a,b\njobs = 4\n[remote \"A\"]\nurl = s3://x\n";
        let config = DvcConfig::from_levels(vec![level(text, "/r")]);
        let a = config.remote("a").unwrap();
        assert_eq!((a.url.as_str(), a.options.len()), ("s3://x", 0));
        // An empty plain `[remote]` drops the remotes above it.
        let text = "['remote \"a\"']\nurl = /a\n[remote]\n['remote \"b\"']\nurl = /b\n";
        let config = DvcConfig::from_levels(vec![level(text, "/r")]);
        assert_eq!(config.remote_names(), ["b"]);
    }

    #[test]
    fn lists() {
        let text =
            "[cache]\ntype = reflink, copy # both\n['remote \"r\"']\nurl = s3://b\nx = a,b,\n";
        let config = DvcConfig::from_levels(vec![level(text, "/r")]);
        assert_eq!(config.get("cache", "type"), Some("reflink,copy"));
        assert_eq!(config.remote("r").unwrap().options["x"], "a,b");
        for bad in [
            "['remote \"r\"']\nurl = a,b\n",
            "[core]\nremote = a,b\n",
            "[cache]\ndir = a,b\n",
        ] {
            let err = ConfigLevel::parse(bad, "/r", "f").unwrap_err();
            assert!(matches!(err, ConfigError::Syntax { line: 2, .. }), "{err}");
        }
    }

    #[test]
    fn parse_errors_carry_file_and_line() {
        let err = ConfigLevel::parse("[core]\nremote = x\nfoo\n", "/r", ".dvc/config").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { line: 3, .. }));
        assert_eq!(
            err.to_string(),
            "config file error: Invalid line ('foo') (matched as neither section nor keyword) \
             at line 3.: Invalid line ('foo') (matched as neither section nor keyword) at line 3."
        );
        assert_eq!(err.file().as_deref(), Some(".dvc/config"));
        let err = ConfigLevel::parse("# c\nremote = x\n", "/r", "f").unwrap_err();
        assert_eq!(
            err.to_string(),
            "config file error: f: key 'remote' at line 2 is outside any section."
        );
        let err = ConfigLevel::parse("[remote]\nurl = x\n", "/r", "f").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { line: 1, .. }), "{err}");
        // DVC writes `%(x)s` unchanged and then cannot read its own file.
        let err = ConfigLevel::parse(
            "['remote \"r\"']\nurl = s3://b\nsse_customer_key = ab%(x)s\n",
            "/r",
            "f",
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { line: 3, .. }), "{err}");
        assert!(err
            .to_string()
            .contains("missing option \"x\" in interpolation"));
    }

    #[test]
    fn load_file() {
        let dir = std::env::temp_dir().join(format!("git-dvc-config-test-{}", std::process::id()));
        let dvc_dir = dir.join("repo").join(".dvc");
        std::fs::create_dir_all(&dvc_dir).unwrap();
        assert!(ConfigLevel::load_file(&dvc_dir.join("config"))
            .unwrap()
            .is_none());

        std::fs::write(
            repo_config_path(&dvc_dir),
            "[core]\n    remote = r\n['remote \"r\"']\n    url = ../../store\n",
        )
        .unwrap();
        std::fs::write(local_config_path(&dvc_dir), "[cache]\n    dir = ../c\n").unwrap();
        // Through a `..` in the path: the origin is normalised as os.path.abspath does.
        let level = ConfigLevel::load_file(&dvc_dir.join("../.dvc/config"))
            .unwrap()
            .unwrap();
        assert_eq!(level.origin_dir, dvc_dir);
        let local = ConfigLevel::load_file(&local_config_path(&dvc_dir))
            .unwrap()
            .unwrap();
        let config = DvcConfig::from_levels(vec![level, local]);
        assert_eq!(
            config.remote("r").unwrap().url,
            dir.join("store").to_str().unwrap()
        );
        assert_eq!(config.cache_dir(), Some(dir.join("repo").join("c")));

        std::fs::write(local_config_path(&dvc_dir), b"[core]\n\xff\n").unwrap();
        let err = ConfigLevel::load_file(&local_config_path(&dvc_dir)).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { line: 2, .. }), "{err}");
        let err = ConfigLevel::load_file(&dvc_dir).unwrap_err();
        assert!(matches!(err, ConfigError::Io { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn standard_paths() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        assert_eq!(
            system_config_path_from(env(&[])),
            PathBuf::from("/etc/xdg/dvc/config")
        );
        assert_eq!(
            system_config_path_from(env(&[("XDG_CONFIG_DIRS", "rel:/a/b:/c")])),
            PathBuf::from("/a/b/dvc/config")
        );
        assert_eq!(
            system_config_path_from(env(&[
                ("DVC_SYSTEM_CONFIG_DIR", "/s"),
                ("XDG_CONFIG_DIRS", "/a")
            ])),
            PathBuf::from("/s/config")
        );
        assert_eq!(
            system_config_path_from(env(&[("DVC_SYSTEM_CONFIG_DIR", "")])),
            PathBuf::from("/etc/xdg/dvc/config")
        );
        assert_eq!(
            global_config_path_from(env(&[("HOME", "/home/u")])),
            Some(PathBuf::from("/home/u/.config/dvc/config"))
        );
        assert_eq!(
            global_config_path_from(env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "rel")])),
            Some(PathBuf::from("/home/u/.config/dvc/config"))
        );
        assert_eq!(
            global_config_path_from(env(&[("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/x/")])),
            Some(PathBuf::from("/x/dvc/config"))
        );
        assert_eq!(
            global_config_path_from(env(&[("DVC_GLOBAL_CONFIG_DIR", "/g"), ("HOME", "/h")])),
            Some(PathBuf::from("/g/config"))
        );
        assert_eq!(global_config_path_from(env(&[("HOME", "rel")])), None);
        assert_eq!(
            local_config_path(Path::new("/r/.dvc")),
            PathBuf::from("/r/.dvc/config.local")
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_named("remote \"a b\""), Some(("remote", "a b")));
        assert_eq!(parse_named("  db\"x\"  "), Some(("db", "x")));
        assert_eq!(
            parse_named("remote \"a\" \"b\""),
            Some(("remote", "a\" \"b"))
        );
        assert_eq!(parse_named("remote \"\""), Some(("remote", "")));
        assert_eq!(parse_named("remotes \"a\""), None);
        assert_eq!(parse_named("remote 'a'"), None);
        assert_eq!(split_remote_url("remote://b/x/y"), Some(("b", "/x/y")));
        assert_eq!(split_remote_url("REMOTE://b"), Some(("b", "")));
        assert_eq!(split_remote_url("s3://b/x"), None);
        assert_eq!(
            normalize(Path::new("/a/../../b/./c/")),
            PathBuf::from("/b/c")
        );
        assert_eq!(normalize(Path::new("a/../../b")), PathBuf::from("../b"));
    }
}
