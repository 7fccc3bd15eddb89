//! `.dvc` files (single-stage files written by `dvc add`, `dvc import`, `dvc import-url`).
//!
//! Validation follows DVC 3.67.1's `SINGLE_STAGE_SCHEMA` (`dvc/schema.py`) with output and
//! dependency schemas from `dvc/output.py` and `dvc/dependency/__init__.py`, so a file DVC
//! refuses (a 0.x/1.x file with `cmd:` or `metric:`, say) is refused here with the same words.
//!
//! Choices where DVC itself is not a usable guide (it crashes, or pushes nonsense):
//!
//! * `path:` is required (DVC's schema allows it to be missing, then fails with `KeyError`).
//! * `md5:` must be 32 lower-case hex digits plus optional `.dir`; an unquoted integer is
//!   taken as its exact digits (DVC crashes on it). Upper case is refused: DVC keeps it as
//!   written, so `dvc pull` would look for an object no DVC stores.
//! * `hash: etag` / `hash: checksum` (DVC never writes them for workspace outputs) are read
//!   as DVC reads them: the value of that key, stored under `files/md5/` as written; values
//!   that could form a path are refused. Other `hash:` names give no hash, as in DVC, which
//!   looks the value up under a meta field of that name and finds none.
//! * Paths are posix: `\` is an ordinary character, as for DVC on Linux and macOS. Paths that
//!   are absolute on any platform (`/…`, `\…`, `C:…`) or URLs (`s3://…`, `remote://…`) are
//!   external outputs, which DVC 3 never pushes; they are left out of [`DvcFile::outputs`].
//!
//! The helpers for one output's hash and path are shared with [`super::pipeline`].

use std::collections::HashMap;

use super::dir_manifest;
use super::hash::{DvcHash, HashKind, ObjectId};
use super::output::{DvcOutput, ManifestEntry};
use super::yaml::{self, Field, MapRule, Rule, Yaml};

pub use super::yaml::FormatError;

/// What push needs from a `.dvc` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DvcFile {
    /// Outputs inside the workspace, in file order. External outputs are left out.
    pub outputs: Vec<DvcOutput>,
    /// `dvc import` from a Git/DVC repository: DVC never pushes its output.
    pub is_repo_import: bool,
    /// `dvc import-url --version-aware` (or a dependency otherwise read version-aware): DVC
    /// replaces the output's remote with the read-only source, so never pushes it either.
    pub is_versioned_import: bool,
}

/// Parses and validates a `.dvc` file of at most `max_bytes` (`dvc.maxFileSize`).
pub fn parse_dvc_file(bytes: &[u8], max_bytes: usize) -> Result<DvcFile, FormatError> {
    let mut doc = yaml::parse(bytes, max_bytes)?;
    // DVC loads `yaml.load(text) or {}`: an empty file is an empty stage.
    if doc.is_falsy() {
        doc = Yaml::Map(Vec::new());
    }
    yaml::validate(&doc, &SINGLE_STAGE).map_err(FormatError::Schema)?;

    let wdir = doc.get("wdir").and_then(Yaml::as_str);
    let outs = doc.get("outs").and_then(Yaml::as_seq).unwrap_or_default();
    let deps = doc.get("deps").and_then(Yaml::as_seq).unwrap_or_default();

    let mut outputs = Vec::new();
    for (index, out) in outs.iter().enumerate() {
        let location = format!("outs -> {index}");
        let path = out.get("path").and_then(Yaml::as_str).unwrap_or_default();
        let Some(path) = resolve_path(wdir, path, &location)? else {
            continue;
        };
        let (hash, files) = hash_of(out, &location)?;
        outputs.push(DvcOutput {
            path,
            hash,
            remote: out
                .get("remote")
                .and_then(Yaml::as_str)
                .map(str::to_lowercase),
            push: out.get("push").and_then(Yaml::as_bool).unwrap_or(true),
            cache: out.get("cache").and_then(Yaml::as_bool).unwrap_or(true),
            files,
            stage: None,
            isexec: out.get("isexec").and_then(Yaml::as_bool).unwrap_or(false),
        });
    }

    // `Stage.is_import`: no command (never one in DVC 3 `.dvc` files), one dep, one out.
    let import_dep = match (deps, outs.len()) {
        ([dep], 1) => Some(dep),
        _ => None,
    };
    Ok(DvcFile {
        outputs,
        is_repo_import: import_dep.is_some_and(is_repo_dep),
        is_versioned_import: import_dep.is_some_and(|d| !is_repo_dep(d) && is_version_aware(d)),
    })
}

/// `dvc.dependency._get`: `params` wins, then `db`, then a truthy `repo` makes it a repo dep.
fn is_repo_dep(dep: &Yaml) -> bool {
    let truthy = |key| dep.get(key).is_some_and(|v| !v.is_falsy());
    !truthy("params") && dep.get("db").is_none() && truthy("repo")
}

/// `Output.__init__` reads a dependency version-aware when it has a `version_id` (possibly
/// inside `cloud:`), a `files:` list, or `fs_config: {version_aware: true}`. Version ids in the
/// URL itself (`?versionId=`) are not detected.
fn is_version_aware(dep: &Yaml) -> bool {
    if dep.get("db").is_some() {
        return false;
    }
    let truthy = |v: Option<&Yaml>| v.is_some_and(|v| !v.is_falsy());
    let cloud_version = dep
        .get("cloud")
        .and_then(Yaml::as_map)
        .and_then(|m| m.first())
        .map(|(_, meta)| meta.get("version_id"));
    truthy(dep.get("version_id"))
        || truthy(cloud_version.flatten())
        || truthy(dep.get("files"))
        || dep
            .get("fs_config")
            .and_then(|c| c.get("version_aware"))
            .is_some_and(|v| v.as_bool() == Some(true))
}

/// The hash DVC would push for an output entry (from a `.dvc` file or a `dvc.lock`), and its
/// `files:` list if it has one.
///
/// DVC 3 (`Output._compute_hash_info_from_meta`): no `hash:` means the legacy `md5-dos2unix`
/// layout with the value under `md5`; `hash: md5` the DVC 3 layout. `hash: etag` and
/// `hash: checksum` take the value of that key, which DVC stores as it is in the DVC 3
/// layout (`files/md5/<value>`, see [`ObjectId::parse_named`]). Any other name has no value;
/// for those (and for etag/checksum without a value) an entry with a truthy `nfiles` falls
/// back to its `md5` as a DVC 3 directory (`_compute_meta_hash_info_from_files`).
///
/// A non-empty `files:` list overrides all this: the hash is the digest of the `.dir`
/// manifest built from it, whatever `md5` says. With a hash name other than `md5` DVC builds
/// that manifest from the other key (or crashes); it never writes such a file, so it is
/// refused.
pub(super) fn hash_of(
    entry: &Yaml,
    location: &str,
) -> Result<(Option<DvcHash>, Option<Vec<ManifestEntry>>), FormatError> {
    let name = entry.get("hash").and_then(Yaml::as_str);
    let kind = match name {
        None => Some(HashKind::Md5Dos2Unix),
        Some("md5") => Some(HashKind::Md5),
        // DVC's `Tree.from_list` reads `md5` for an explicit `md5-dos2unix`.
        Some("md5-dos2unix") if entry.get("files").is_some() => Some(HashKind::Md5Dos2Unix),
        Some(_) => None,
    };
    if let Some(files) = entry.get("files").and_then(Yaml::as_seq) {
        if !files.is_empty() {
            let Some(kind) = kind else {
                return Err(FormatError::Value {
                    location: format!("{location} -> hash"),
                    message: format!(
                        "a `files:` list with `hash: {}` is not supported (DVC writes \
                         `hash: md5` with `files:`)",
                        name.unwrap_or_default()
                    ),
                });
            };
            let manifest = manifest_from_files(files, location)?;
            let hash = manifest.as_ref().map(|entries| DvcHash {
                kind,
                oid: dir_manifest::digest(entries),
            });
            return Ok((hash, manifest));
        }
    }
    if let Some(kind) = kind {
        let Some(text) = checksum_text(entry.get("md5")) else {
            return Ok((None, None));
        };
        let oid = parse_md5(text, &format!("{location} -> md5"))?;
        return Ok((Some(DvcHash { kind, oid }), None));
    }
    if let Some(field @ ("etag" | "checksum")) = name {
        if let Some(text) = checksum_text(entry.get(field)) {
            let oid = ObjectId::parse_named(text).map_err(|source| FormatError::Hash {
                location: format!("{location} -> {field}"),
                source,
            })?;
            return Ok((
                Some(DvcHash {
                    kind: HashKind::Md5,
                    oid,
                }),
                None,
            ));
        }
    }
    // `elif self.meta.nfiles …: self.hash_info = HashInfo("md5", md5)`.
    let nfiles = entry.get("nfiles").is_some_and(|n| !n.is_falsy());
    match checksum_text(entry.get("md5")) {
        Some(text) if nfiles => {
            let oid = parse_md5(text, &format!("{location} -> md5"))?;
            Ok((
                Some(DvcHash {
                    kind: HashKind::Md5,
                    oid,
                }),
                None,
            ))
        }
        _ => Ok((None, None)),
    }
}

fn parse_md5(text: &str, location: &str) -> Result<ObjectId, FormatError> {
    ObjectId::parse(text).map_err(|source| FormatError::Hash {
        location: location.to_owned(),
        source,
    })
}

/// Builds the manifest DVC digests from a `files:` list (`Tree.from_list`): relpath and md5
/// only, a later duplicate relpath replacing an earlier one. `None` when an entry has no md5:
/// such a list cannot make a `.dir` object, so the output has nothing to push.
fn manifest_from_files(
    files: &[Yaml],
    location: &str,
) -> Result<Option<Vec<ManifestEntry>>, FormatError> {
    let mut entries: Vec<ManifestEntry> = Vec::with_capacity(files.len());
    let mut positions: HashMap<&str, usize> = HashMap::with_capacity(files.len());
    for (index, file) in files.iter().enumerate() {
        let at = || format!("{location} -> files -> {index}");
        let relpath = file
            .get("relpath")
            .and_then(Yaml::as_str)
            .unwrap_or_default();
        dir_manifest::check_relpath(relpath).map_err(|reason| FormatError::Path {
            location: format!("{} -> relpath", at()),
            reason: format!("{relpath:?}: {reason}"),
        })?;
        let Some(text) = checksum_text(file.get("md5")) else {
            return Ok(None);
        };
        let md5 = ObjectId::parse(text).map_err(|source| FormatError::Hash {
            location: format!("{} -> md5", at()),
            source,
        })?;
        let entry = ManifestEntry {
            relpath: relpath.to_owned(),
            md5,
        };
        match positions.get(relpath) {
            Some(&at) => entries[at] = entry,
            None => {
                positions.insert(relpath, entries.len());
                entries.push(entry);
            }
        }
    }
    Ok(Some(entries))
}

/// A checksum field's text: `None` for a missing, null or empty value. Integers (only possible
/// when written unquoted) keep their exact digits.
fn checksum_text(value: Option<&Yaml>) -> Option<&str> {
    match value? {
        Yaml::Str(s) if !s.is_empty() => Some(s),
        Yaml::Int(digits) => Some(digits),
        _ => None,
    }
}

/// Joins a stage's `wdir` and an output path and normalises the result lexically, as DVC's
/// `normpath(join(wdir, path))` does: `/`-separated, no `.` or empty components, `..` folded
/// into the component before it and kept only as a leading run. `Ok(None)` for an external
/// output. The result is relative to the directory holding the declaring file; `.` when it is
/// that directory.
pub(super) fn resolve_path(
    wdir: Option<&str>,
    path: &str,
    location: &str,
) -> Result<Option<String>, FormatError> {
    let wdir = wdir.unwrap_or("");
    for (value, what) in [(wdir, "wdir"), (path, "path")] {
        if value.contains('\0') {
            return Err(FormatError::Path {
                location: location.to_owned(),
                reason: format!("{what} {value:?} contains NUL"),
            });
        }
    }
    if is_external(path) || is_external(wdir) {
        return Ok(None);
    }
    let mut parts: Vec<&str> = Vec::new();
    for component in wdir.split('/').chain(path.split('/')) {
        match component {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            _ => parts.push(component),
        }
    }
    Ok(Some(if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }))
}

/// Absolute on POSIX or Windows, or a URL. Such outputs are outside the repository.
fn is_external(path: &str) -> bool {
    let bytes = path.as_bytes();
    let drive_letter = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    let url = path.split_once("://").is_some_and(|(scheme, _)| {
        scheme.len() >= 2
            && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
    });
    path.starts_with('/') || path.starts_with('\\') || drive_letter || url
}

// ----------------------------------------------------------------------------------------------
// Schemas, transcribed from DVC 3.67.1. Shared pieces are `pub(super)` for `dvc.lock`.

/// `CHECKSUMS_SCHEMA` + `META_SCHEMA` (`dvc/output.py`). `etag` is case-sensitive in DVC but
/// has the same shape.
pub(super) static HASH_AND_META: [Field; 7] = [
    Field::opt("md5", &Rule::Checksum),
    Field::opt("checksum", &Rule::Checksum),
    Field::opt("etag", &Rule::Checksum),
    Field::opt("size", &Rule::Int),
    Field::opt("nfiles", &Rule::Int),
    Field::opt("isexec", &Rule::Bool),
    Field::opt("version_id", &Rule::Str),
];

/// `CLOUD_SCHEMA`: `{remote_name: {hash and meta}}`, at most one remote.
static CLOUD: Rule = Rule::AtMostOne(&Rule::Map(&MapRule {
    fields: &[],
    other_str_keys: Some(&Rule::Map(&MapRule {
        fields: &[&HASH_AND_META],
        other_str_keys: None,
    })),
}));

/// `DIR_FILES_SCHEMA`: one `files:` entry.
static DIR_FILES: Rule = Rule::Map(&MapRule {
    fields: &[
        &HASH_AND_META,
        &[
            Field::req("relpath", &Rule::Str),
            Field::opt("cloud", &CLOUD),
        ],
    ],
    other_str_keys: None,
});

/// Fields common to outs, deps and `dvc.lock` entries besides hash, meta and `path`.
pub(super) static DATA_FIELDS: [Field; 3] = [
    Field::opt("cloud", &CLOUD),
    Field::opt("hash", &Rule::Str),
    Field::opt("files", &Rule::List(&DIR_FILES)),
];

/// `dvc/output.py:SCHEMA`, with `path` required (DVC crashes with `KeyError` without it).
static OUT: Rule = Rule::Map(&MapRule {
    fields: &[
        &HASH_AND_META,
        &DATA_FIELDS,
        &[
            Field::req("path", &Rule::Str),
            Field::opt("persist", &Rule::Bool),
            Field::opt("desc", &Rule::Str),
            Field::opt("type", &Rule::Str),
            Field::opt("labels", &Rule::List(&Rule::Str)),
            Field::opt("meta", &Rule::Any),
            Field::opt("cache", &Rule::Bool),
            Field::opt("remote", &Rule::Str),
            Field::opt("push", &Rule::Bool),
            Field::opt("fs_config", &Rule::Dict),
        ],
    ],
    other_str_keys: None,
});

static STR_OR_DICT: Rule = Rule::OneOf(&[&Rule::Str, &Rule::Dict]);

/// `dvc/dependency/__init__.py:SCHEMA`, with `RepoDependency.REPO_SCHEMA` and `DB_SCHEMA`.
static DEP: Rule = Rule::Map(&MapRule {
    fields: &[
        &HASH_AND_META,
        &DATA_FIELDS,
        &[
            Field::opt("path", &Rule::Str),
            Field::opt("persist", &Rule::Bool),
            Field::opt("fs_config", &Rule::Dict),
            Field::opt(
                "repo",
                &Rule::Map(&MapRule {
                    fields: &[&[
                        Field::req("url", &Rule::Str),
                        Field::opt("rev", &Rule::Str),
                        Field::opt("rev_lock", &Rule::Str),
                        Field::opt("config", &STR_OR_DICT),
                        Field::opt("remote", &STR_OR_DICT),
                    ]],
                    other_str_keys: None,
                }),
            ),
            Field::opt(
                "db",
                &Rule::Map(&MapRule {
                    fields: &[&[
                        Field::opt("query", &Rule::Str),
                        Field::opt("connection", &Rule::Str),
                        Field::opt("file_format", &Rule::Str),
                        Field::opt("table", &Rule::Str),
                    ]],
                    other_str_keys: None,
                }),
            ),
        ],
    ],
    other_str_keys: None,
});

/// `SINGLE_STAGE_SCHEMA` (`dvc/schema.py`).
static SINGLE_STAGE: Rule = Rule::Map(&MapRule {
    fields: &[&[
        Field::opt("md5", &Rule::Checksum),
        Field::opt("wdir", &Rule::OneOf(&[&Rule::Str, &Rule::Null])),
        Field::opt("deps", &Rule::OneOf(&[&Rule::List(&DEP), &Rule::Null])),
        Field::opt("outs", &Rule::OneOf(&[&Rule::List(&OUT), &Rule::Null])),
        Field::opt("locked", &Rule::Bool),
        Field::opt("frozen", &Rule::Bool),
        Field::opt("meta", &Rule::Any),
        Field::opt("always_changed", &Rule::Bool),
        Field::opt("desc", &Rule::Str),
    ]],
    other_str_keys: None,
});

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = crate::limits::DEFAULT_MAX_FILE_SIZE;

    fn parse(text: &str) -> DvcFile {
        parse_dvc_file(text.as_bytes(), MAX).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn error(text: &str) -> String {
        parse_dvc_file(text.as_bytes(), MAX)
            .unwrap_err()
            .to_string()
    }

    fn hash(kind: HashKind, oid: &str) -> Option<DvcHash> {
        Some(DvcHash {
            kind,
            oid: ObjectId::parse(oid).unwrap(),
        })
    }

    fn only_output(text: &str) -> DvcOutput {
        let mut file = parse(text);
        assert_eq!(file.outputs.len(), 1, "{text}");
        file.outputs.remove(0)
    }

    #[test]
    fn dvc3_add_of_a_file() {
        // `dvc add exec.sh` with DVC 3.67.1.
        let out = only_output(
            "outs:\n- md5: 9dd4e461268c8034f5c8564e155c67a6\n  size: 1\n  isexec: true\n  \
             hash: md5\n  path: exec.sh\n",
        );
        assert_eq!(
            out,
            DvcOutput {
                path: "exec.sh".into(),
                hash: hash(HashKind::Md5, "9dd4e461268c8034f5c8564e155c67a6"),
                remote: None,
                push: true,
                cache: true,
                files: None,
                stage: None,
                isexec: true,
            }
        );
        assert!(out.is_pushable());
    }

    #[test]
    fn dvc3_directory_and_dvc2_legacy_file() {
        let dir = only_output(
            "outs:\n- md5: e3b65558f28f88d8938ad6e1ccba8cdf.dir\n  size: 6\n  nfiles: 3\n  \
             hash: md5\n  path: data\n",
        );
        assert_eq!(
            dir.hash,
            hash(HashKind::Md5, "e3b65558f28f88d8938ad6e1ccba8cdf.dir")
        );
        assert!(dir.hash.unwrap().oid.is_dir());
        let legacy = only_output(
            "outs:\n- md5: 8783532514f22aac812c0f2406264978\n  size: 14\n  path: legacy.txt\n",
        );
        assert_eq!(
            legacy.hash,
            hash(HashKind::Md5Dos2Unix, "8783532514f22aac812c0f2406264978")
        );
    }

    #[test]
    fn old_stage_files_keep_harmless_keys() {
        // A 0.x `dvc add` file with `metric:` removed still loads in DVC 3 (reference §1.4).
        let file = parse(
            "md5: 00582743c193bcba60e7bffb5667adfc\nwdir: .\ndeps: []\nlocked: true\nouts:\n\
             - md5: 8783532514f22aac812c0f2406264978\n  path: a\n  cache: true\n  persist: false\n",
        );
        assert_eq!(file.outputs[0].path, "a");
    }

    #[test]
    fn repo_import_is_flagged() {
        // `dvc import ../src f.txt -o imported.txt`.
        let file = parse(
            "md5: 00582743c193bcba60e7bffb5667adfc\nfrozen: true\ndeps:\n- path: f.txt\n  repo:\n    \
             url: ../src\n    rev_lock: 07bad085b77ba468db805e92b80e32c05d7d6086\nouts:\n\
             - md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: imported.txt\n",
        );
        assert!(file.is_repo_import);
        assert!(!file.is_versioned_import);
        assert_eq!(file.outputs.len(), 1);
    }

    const IMPORT_URL: &str = "md5: ba69f7f464932d011cafbd4439a0b24d\nfrozen: true\ndeps:\n\
         - md5: 6137cde4893c59f76f005a8123d8e8e6\n  size: 5\n  hash: md5\n  path: /tmp/dvcx/ext.txt\n\
         outs:\n- md5: 6137cde4893c59f76f005a8123d8e8e6\n  size: 5\n  hash: md5\n  path: url.txt\n";

    #[test]
    fn import_url_is_pushed_unless_partial_or_version_aware() {
        let file = parse(IMPORT_URL);
        assert!(!file.is_repo_import && !file.is_versioned_import);
        assert!(file.outputs[0].is_pushable());

        // `import-url --no-download`: no hash, so nothing to push.
        let partial = parse(
            "md5: 5398ee3e910d4bac7cd14bd7de538df8\nfrozen: true\ndeps:\n\
             - md5: 6137cde4893c59f76f005a8123d8e8e6\n  size: 5\n  hash: md5\n  path: /tmp/x\n\
             outs:\n- hash: md5\n  path: nodl.txt\n",
        );
        assert_eq!(partial.outputs[0].hash, None);

        let versioned = IMPORT_URL.replace(
            "  path: /tmp/dvcx/ext.txt",
            "  path: s3://b/k\n  version_id: v1",
        );
        assert!(parse(&versioned).is_versioned_import);
        let cloud = IMPORT_URL.replace(
            "  path: /tmp/dvcx/ext.txt",
            "  path: s3://b/k\n  cloud:\n    r:\n      version_id: v1",
        );
        assert!(parse(&cloud).is_versioned_import);
        let fs_config = IMPORT_URL.replace(
            "  path: /tmp/dvcx/ext.txt",
            "  path: s3://b/k\n  fs_config: {version_aware: true}",
        );
        assert!(parse(&fs_config).is_versioned_import);
    }

    #[test]
    fn refuses_legacy_keys_like_dvc() {
        assert_eq!(
            error("cmd: echo\nouts:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  path: a\n"),
            "validation failed: extra keys not allowed, in cmd"
        );
        assert_eq!(
            error("outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  path: b\n  metric: false\n  plot: 3\n"),
            "validation failed: 2 errors: extra keys not allowed, in outs -> 0 -> metric; \
             extra keys not allowed, in outs -> 0 -> plot"
        );
    }

    #[test]
    fn refuses_wrong_types_like_dvc() {
        assert_eq!(
            error("outs:\n- path: 5\n  cache: yes\n"),
            "validation failed: 2 errors: expected str, in outs -> 0 -> path; \
             expected bool, in outs -> 0 -> cache"
        );
        assert_eq!(
            error("outs: x\n"),
            "validation failed: expected a list, in outs"
        );
        assert_eq!(
            error("outs:\n- x\n"),
            "validation failed: expected a dictionary, in outs -> 0"
        );
        assert_eq!(error("- a\n"), "validation failed: expected a dictionary");
        assert_eq!(
            error("outs:\n- path: x\n  labels: [1]\n  cloud: {a: {}, b: {}}\n  fs_config: 3\n  size: 1.5\n"),
            "validation failed: 4 errors: expected str, in outs -> 0 -> labels -> 0; \
             length of value must be at most 1, in outs -> 0 -> cloud; \
             expected dict, in outs -> 0 -> fs_config; expected int, in outs -> 0 -> size"
        );
        assert_eq!(
            error("deps:\n- path: x\n  repo: {rev: 1}\n  foo: 2\nouts:\nwdir: 3\nfrozen: 1\n"),
            "validation failed: 5 errors: expected str, in deps -> 0 -> repo -> rev; \
             required key not provided, in deps -> 0 -> repo -> url; \
             extra keys not allowed, in deps -> 0 -> foo; expected str, in wdir; \
             expected bool, in frozen"
        );
        assert_eq!(
            error("outs:\n- path: x\n  files:\n  - md5: 7ac062d8a84466e70d9b899c0821a51c\n  - relpath: a\n    foo: 1\n"),
            "validation failed: required key not provided, in outs -> 0 -> files -> 0 -> relpath"
        );
        assert_eq!(
            error("outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n"),
            "validation failed: required key not provided, in outs -> 0 -> path"
        );
        assert_eq!(
            error("outs:\n- path: x\n  md5: ab\n"),
            "validation failed: not a valid value, in outs -> 0 -> md5"
        );
    }

    #[test]
    fn empty_or_falsy_files_have_no_outputs() {
        for text in ["", "# comment\n", "[]\n", "{}\n", "outs:\n", "outs: []\n"] {
            assert_eq!(parse(text).outputs, vec![], "{text:?}");
        }
    }

    #[test]
    fn md5_values() {
        // Unquoted all-digit md5: exact digits, never through f64.
        let out = only_output("outs:\n- md5: 12345678901234567890123456789012\n  path: a\n");
        assert_eq!(
            out.hash,
            hash(HashKind::Md5Dos2Unix, "12345678901234567890123456789012")
        );
        let out = only_output("outs:\n- md5: 01234567890123456789012345678901\n  path: a\n");
        assert_eq!(
            out.hash,
            hash(HashKind::Md5Dos2Unix, "01234567890123456789012345678901")
        );
        // Quoted, as ruamel writes numeric-looking hashes.
        let out = only_output(
            "outs:\n- md5: '12345678901234567890123456789e12'\n  hash: md5\n  path: a\n",
        );
        assert_eq!(
            out.hash,
            hash(HashKind::Md5, "12345678901234567890123456789e12")
        );
        // DVC keeps upper case as written, then looks for `files/md5/7A/C06…`: refused.
        let err = error("outs:\n- md5: 7AC062D8A84466E70D9B899C0821A51C\n  hash: md5\n  path: a\n");
        assert!(
            err.starts_with("invalid hash in outs -> 0 -> md5: '7AC062D8A84466E70D9B899C0821A51C'")
                && err.contains("lower-case"),
            "{err}"
        );
        for empty in ["''", "null", "~"] {
            let out = only_output(&format!("outs:\n- md5: {empty}\n  hash: md5\n  path: a\n"));
            assert_eq!(out.hash, None);
        }
        let err = error("outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51\n  path: a\n");
        assert!(
            err.starts_with(
                "invalid hash in outs -> 0 -> md5: '7ac062d8a84466e70d9b899c0821a51' is not"
            ),
            "{err}"
        );
        assert!(error("outs:\n- md5: ../../../etc/passwd\n  path: a\n")
            .contains("'../../../etc/passwd'"));
    }

    #[test]
    fn hash_names_other_than_md5_give_no_hash() {
        for name in ["sha256", "md5-dos2unix"] {
            let out = only_output(&format!(
                "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  etag: 7ac062d8a84466e70d9b899c0821a51c\n  hash: {name}\n  path: a\n"
            ));
            assert_eq!(out.hash, None, "{name}");
        }
        // … unless `nfiles` makes it a directory: DVC then falls back to `md5` (DVC 3 layout).
        let out = only_output(
            "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c.dir\n  nfiles: 2\n  hash: sha256\n  path: a\n",
        );
        assert_eq!(
            out.hash,
            hash(HashKind::Md5, "7ac062d8a84466e70d9b899c0821a51c.dir")
        );
    }

    #[test]
    fn etag_and_checksum_outputs_are_stored_under_their_value() {
        for (name, value) in [
            ("etag", "0123456789abcdef0123456789ABCDEF-3"),
            (
                "checksum",
                "000002000000000000000000a3a6a33f1b0a5b4a0f6d2e9d2a8b3b1c",
            ),
        ] {
            let out = only_output(&format!(
                "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  {name}: {value}\n  hash: {name}\n  path: a\n"
            ));
            let got = out.hash.expect("a hash");
            assert_eq!(got.kind, HashKind::Md5);
            assert_eq!(
                got.relative_key(),
                format!("files/md5/{}/{}", &value[..2], &value[2..])
            );
        }
        // The key alone, without `hash: etag`, is meta data: the legacy md5 is the hash.
        let out = only_output(
            "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  etag: abc-1\n  path: a\n",
        );
        assert_eq!(
            out.hash,
            hash(HashKind::Md5Dos2Unix, "7ac062d8a84466e70d9b899c0821a51c")
        );
        for bad in [
            "../../../etc/passwd",
            "ab/cdef",
            "abc.dir",
            "'\"0x8DC\"'",
            "a b c",
        ] {
            let err = error(&format!("outs:\n- etag: {bad}\n  hash: etag\n  path: a\n"));
            assert!(
                err.starts_with("invalid hash in outs -> 0 -> etag: "),
                "{err}"
            );
        }
        let err =
            error("outs:\n- hash: etag\n  path: a\n  files:\n  - relpath: x\n    etag: abc-1\n");
        assert!(err.contains("`files:` list with `hash: etag`"), "{err}");
    }

    #[test]
    fn flags() {
        let out = only_output(
            "outs:\n- md5: 7ac062d8a84466e70d9b899c0821a51c\n  path: a\n  remote: MyRemote\n  \
             push: false\n  cache: false\n  persist: true\n  desc: d\n  type: model\n  \
             labels: [x]\n  meta: {k: v}\n",
        );
        assert_eq!(out.remote.as_deref(), Some("myremote"));
        assert!(!out.push && !out.cache && !out.is_pushable());
    }

    #[test]
    fn paths_are_joined_with_wdir_and_normalised() {
        // The same file gave these paths in DVC 3.67.1 (relative to the `.dvc` file's dir).
        let file = parse(
            "wdir: ../other\nouts:\n\
             - path: ./x/../y\n\
             - path: /abs/p\n\
             - path: ..\\win\\p\n\
             - path: ../../outside\n\
             - path: C:\\foo\n\
             - path: a//b/./c/\n\
             - path: foo:bar\n\
             - path: s3://bucket/key\n\
             - path: remote://myremote/key\n\
             - path: .\n",
        );
        let paths: Vec<&str> = file.outputs.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "../other/y",
                "../other/..\\win\\p",
                "../../outside",
                "../other/a/b/c",
                "../other/foo:bar",
                "../other"
            ]
        );
        let file = parse("outs:\n- path: .\n- path: a/..\n- path: ../../x/../y\n");
        let paths: Vec<&str> = file.outputs.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(paths, [".", ".", "../../y"]);
        assert_eq!(parse("wdir: /abs\nouts:\n- path: x\n").outputs, vec![]);
        assert_eq!(parse("wdir: null\nouts:\n- path: x\n").outputs[0].path, "x");
    }

    #[test]
    fn nul_in_paths_is_an_error() {
        let err = error("outs:\n- path: \"a\\0b\"\n");
        assert!(
            err.starts_with("invalid path in outs -> 0: path \"a\\0b\" contains NUL"),
            "{err}"
        );
        assert!(error("wdir: \"\\0\"\nouts:\n- path: a\n").contains("wdir"));
    }

    #[test]
    fn files_list_gives_the_dir_digest() {
        // The list of reference §1.8. Real DVC 3.67.1 loads it as a9ecc6c5….dir (the
        // reference's "b803b754…" does not belong to this list).
        let text = "outs:\n- hash: md5\n  path: d\n  files:\n  - relpath: one\n    \
                    md5: b026324c6904b2a9cb4b88d6d61c81d1\n    size: 2\n    cloud:\n      v:\n        \
                    etag: b026324c6904b2a9cb4b88d6d61c81d1\n";
        let out = only_output(text);
        let h = out.hash.clone().unwrap();
        assert_eq!(h.kind, HashKind::Md5);
        assert_eq!(h.oid.to_string(), "a9ecc6c5a3183525512e1e43358af51e.dir");
        let files = out.files.unwrap();
        assert_eq!(files[0].relpath, "one");
        assert_eq!(dir_manifest::digest(&files), h.oid);

        // No `hash:` → legacy layout; an own `md5` is overridden by the list, as in DVC.
        let legacy = only_output(&text.replace(
            "- hash: md5\n",
            "- md5: d751713988987e9331980363e24189ce.dir\n",
        ));
        assert_eq!(
            legacy.hash,
            Some(DvcHash {
                kind: HashKind::Md5Dos2Unix,
                oid: h.oid.clone()
            })
        );

        // An empty list is ignored (falsy in DVC); the own md5 counts.
        let empty = only_output("outs:\n- md5: d751713988987e9331980363e24189ce.dir\n  hash: md5\n  path: d\n  files: []\n");
        assert_eq!(
            empty.hash,
            hash(HashKind::Md5, "d751713988987e9331980363e24189ce.dir")
        );
    }

    #[test]
    fn files_list_duplicates_missing_md5_and_bad_paths() {
        // Letters: unquoted all-digit values would be YAML integers.
        // `a111…`, `b222…`, `c333…`, as in the real DVC run below.
        let md5 = |c: char| {
            format!(
                "{c}{}",
                char::from(c as u8 - b'a' + b'1').to_string().repeat(31)
            )
        };
        let dup = only_output(&format!(
            "outs:\n- hash: md5\n  path: d\n  files:\n  - {{relpath: a, md5: {}}}\n  - {{relpath: b, md5: {}}}\n  - {{relpath: a, md5: {}}}\n",
            md5('a'), md5('b'), md5('c')
        ));
        // A later duplicate wins, as in DVC's `Tree.from_list` (checked: 8c2df71b….dir).
        let files = dup.files.unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            (files[0].relpath.as_str(), files[0].md5.hex()),
            ("a", md5('c'))
        );
        assert_eq!(
            dup.hash.unwrap().oid.to_string(),
            "8c2df71bfe91b351fca3ac33746f1fd7.dir"
        );

        let missing = only_output(&format!(
            "outs:\n- hash: md5\n  path: d\n  files:\n  - {{relpath: a, md5: {}}}\n  - {{relpath: b, etag: xyz}}\n",
            md5('a')
        ));
        assert_eq!((missing.hash, missing.files), (None, None));

        let err = error(&format!(
            "outs:\n- hash: md5\n  path: d\n  files:\n  - {{relpath: ../a, md5: {}}}\n",
            md5('a')
        ));
        assert_eq!(err, "invalid path in outs -> 0 -> files -> 0 -> relpath: \"../a\": contains a '..' component");
    }

    #[test]
    fn yaml_level_errors_pass_through() {
        assert!(matches!(
            parse_dvc_file(b"\xff", MAX),
            Err(FormatError::Yaml(_))
        ));
        assert!(matches!(
            parse_dvc_file(b"outs: [\n", MAX),
            Err(FormatError::Yaml(_))
        ));
        let dup = "outs:\n- path: x\n  md5: 7ac062d8a84466e70d9b899c0821a51c\n  md5: 7ac062d8a84466e70d9b899c0821a51c\n";
        assert!(matches!(
            parse_dvc_file(dup.as_bytes(), MAX),
            Err(FormatError::Yaml(_))
        ));
    }
}
