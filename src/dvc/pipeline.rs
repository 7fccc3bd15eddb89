//! Pipeline outputs: a `dvc.yaml` for the flags, its `dvc.lock` for the hashes.
//!
//! DVC (`dvc/parsing/`, `dvc/stage/loader.py`) interpolates `${…}`, expands `foreach`/`matrix`,
//! takes each stage's `outs:`, `metrics:` and `plots:` with their flags from `dvc.yaml`, then
//! fills hashes from the lock entry of the same stage and exact same `path`. Flags live only in
//! `dvc.yaml` (the lock also lists `cache: false` outputs), so both files are needed.
//!
//! Templating is resolved as DVC resolves it ([`super::interpolate`]), never guessed: the
//! context is the `params.yaml` beside `dvc.yaml` (when it exists), then the top-level `vars`
//! (files, `file:key1,key2`, inline mappings), then each stage's own `vars` (relative to its
//! `wdir`); `foreach` over a list, a mapping or a `${var}` gives stages `name@key` with
//! `${item}`/`${key}`, `matrix` gives `name@a-b` with `${item.<name>}`. Every stage field is
//! resolved (an unknown variable anywhere fails the file, as in DVC); output paths, `remote`
//! and `wdir` then decide what is pushed. Each output takes its hash from the lock entry of
//! its generated stage with the same resolved path; lock entries matching nothing are ignored,
//! as in DVC, and an output without one has no hash.
//!
//! Vars files come from a [`VarsFiles`]: the caller reads them from the same revision as the
//! `dvc.yaml` (git objects for a commit, files for the work tree) and records what was read,
//! since the result depends on them. `.toml` and `.py` vars files are refused (git-dvc does not
//! parse them); `.json` is checked as JSON and read as YAML; anything else is YAML. When
//! templating fails (a missing file, an unknown variable, a key defined twice, more work than
//! the [`Budget`](super::interpolate::Budget) allows), the file fails to parse with DVC's
//! reason, so its revision cannot be collected.
//!
//! Both files are validated against DVC 3.67.1's `MULTI_STAGE_SCHEMA` and `LOCKFILE_SCHEMA`
//! (`dvc/schema.py`), on the raw, uninterpolated data as DVC does. The 1.x lock format (stages
//! at the top level, no `schema: '2.0'`) fails as in DVC: `required key not provided, in
//! schema`.
//!
//! ```text
//! let outputs = parse_pipeline(dvc_yaml, Some(dvc_lock), &files, limits.dvc_file)?;
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use super::dvcfile::{hash_of, resolve_path, DATA_FIELDS, HASH_AND_META};
use super::hash::DvcHash;
use super::interpolate::{self, Budget, Context};
use super::output::{DvcOutput, ManifestEntry};
use super::yaml::{self, Field, FormatError, MapRule, Rule, Yaml};

/// Where a `dvc.yaml`'s vars files come from. `path` is relative to the `dvc.yaml`'s directory
/// and normalized (it may start with `../`).
pub trait VarsFiles {
    /// The file's bytes; `Ok(None)` when there is no such file; `Err` when it cannot be used
    /// (a directory, a link, outside the repository, too big), with the reason.
    fn read(&self, path: &str) -> Result<Option<Arc<Vec<u8>>>, String>;
}

/// No vars files at all: a `dvc.yaml` read on its own.
pub struct NoVarsFiles;

impl VarsFiles for NoVarsFiles {
    fn read(&self, _: &str) -> Result<Option<Arc<Vec<u8>>>, String> {
        Ok(None)
    }
}

/// One stage after templating: its (generated) name, resolved `wdir` and outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedStage {
    pub name: String,
    wdir: Option<String>,
    templates: Vec<Template>,
}

/// Outputs of every stage in `dvc_yaml`, hashed from `dvc_lock` when given. External outputs
/// are left out.
/// `max_bytes` (`dvc.maxFileSize`) caps each file read and what templating may produce.
pub fn parse_pipeline(
    dvc_yaml: &[u8],
    dvc_lock: Option<&[u8]>,
    files: &dyn VarsFiles,
    max_bytes: usize,
) -> Result<Vec<DvcOutput>, FormatError> {
    let doc = load_pipeline(dvc_yaml, max_bytes)?;
    let stages = resolve_stages(&doc, files, max_bytes)?;
    pair_with_lock(&stages, dvc_lock, max_bytes)
}

/// A `dvc.yaml` of at most `max_bytes`, parsed and validated, not yet templated.
pub fn load_pipeline(dvc_yaml: &[u8], max_bytes: usize) -> Result<Yaml, FormatError> {
    load(dvc_yaml, &MULTI_STAGE, max_bytes)
}

/// Every stage of `doc` with templating resolved, `foreach`/`matrix` expanded; vars files
/// and what templating produces are capped at `max_bytes`.
pub fn resolve_stages(
    doc: &Yaml,
    files: &dyn VarsFiles,
    max_bytes: usize,
) -> Result<Vec<ResolvedStage>, FormatError> {
    let mut resolver = Resolver {
        files,
        max_bytes,
        budget: Budget::new(max_bytes),
        parsed: HashMap::new(),
        stages: Vec::new(),
    };
    let vars = doc.get("vars").cloned().unwrap_or(Yaml::Seq(Vec::new()));
    check_interpolations(&vars, "vars")?;
    let mut context = Context::default();
    resolver
        .load_vars(&mut context, &vars, "", Some("params.yaml"), None)
        .map_err(|e| template_error("'vars'", e))?;
    let stages = doc.get("stages").and_then(Yaml::as_map).unwrap_or_default();
    for (name, definition) in stages {
        let name = name.as_str().unwrap_or_default();
        if definition.get("matrix").is_some() {
            resolver.matrix(&context, name, definition)?;
        } else if definition.get("foreach").is_some() {
            resolver.foreach(&context, name, definition)?;
        } else {
            resolver.entry(&context, name, definition)?;
        }
    }
    Ok(resolver.stages)
}

/// Each resolved output with the hash of its lock entry (a `dvc.lock` of at most
/// `max_bytes`).
pub fn pair_with_lock(
    stages: &[ResolvedStage],
    dvc_lock: Option<&[u8]>,
    max_bytes: usize,
) -> Result<Vec<DvcOutput>, FormatError> {
    let lock = match dvc_lock {
        Some(bytes) => {
            load(bytes, &LOCKFILE, max_bytes).map_err(|e| FormatError::Lock(Box::new(e)))?
        }
        None => Yaml::Map(Vec::new()),
    };
    let lock_stages: HashMap<&str, &Yaml> = lock
        .get("stages")
        .and_then(Yaml::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    let mut outputs = Vec::new();
    for stage in stages {
        let lock_outs = lock_stages
            .get(stage.name.as_str())
            .and_then(|s| s.get("outs"))
            .and_then(Yaml::as_seq)
            .unwrap_or_default();
        // `{item["path"]: item for item in outs}`: the last entry of a path wins.
        let mut by_path: HashMap<&str, usize> = HashMap::new();
        for (i, entry) in lock_outs.iter().enumerate() {
            by_path.insert(
                entry.get("path").and_then(Yaml::as_str).unwrap_or_default(),
                i,
            );
        }
        for template in &stage.templates {
            let wdir = stage.wdir.as_deref();
            let found = match by_path.get(template.path.as_str()) {
                Some(&i) => {
                    let location = format!("stages -> {} -> outs -> {i}", stage.name);
                    let (hash, files) = hash_of(&lock_outs[i], &location)
                        .map_err(|e| FormatError::Lock(Box::new(e)))?;
                    let isexec = lock_outs[i]
                        .get("isexec")
                        .and_then(Yaml::as_bool)
                        .unwrap_or(false);
                    output(template, wdir, hash, files, &stage.name, &location)
                        .map_err(|e| FormatError::Lock(Box::new(e)))?
                        .map(|o| DvcOutput { isexec, ..o })
                }
                None => {
                    let location = format!("stages -> {}", stage.name);
                    output(template, wdir, None, None, &stage.name, &location)?
                }
            };
            outputs.extend(found);
        }
    }
    Ok(outputs)
}

fn load(bytes: &[u8], schema: &Rule, max_bytes: usize) -> Result<Yaml, FormatError> {
    let mut doc = yaml::parse(bytes, max_bytes)?;
    // DVC loads `yaml.load(text) or {}`.
    if doc.is_falsy() {
        doc = Yaml::Map(Vec::new());
    }
    yaml::validate(&doc, schema).map_err(FormatError::Schema)?;
    Ok(doc)
}

/// DVC's `format_and_raise`: `failed to parse <what> in 'dvc.yaml': <reason>`.
fn template_error(what: &str, reason: String) -> FormatError {
    FormatError::Template(format!("failed to parse {what} in 'dvc.yaml': {reason}"))
}

/// `vars` are never templated themselves.
fn check_interpolations(value: &Yaml, where_: &str) -> Result<(), FormatError> {
    let templated = match value {
        Yaml::Str(s) => interpolate::is_interpolated(s),
        Yaml::Seq(items) => {
            return items
                .iter()
                .try_for_each(|v| check_interpolations(v, where_))
        }
        Yaml::Map(entries) => {
            return entries.iter().try_for_each(|(k, v)| {
                check_interpolations(k, where_)?;
                check_interpolations(v, where_)
            })
        }
        _ => false,
    };
    if templated {
        return Err(template_error(
            &format!("'{where_}'"),
            "interpolating is not allowed".to_owned(),
        ));
    }
    Ok(())
}

struct Resolver<'a> {
    files: &'a dyn VarsFiles,
    /// The cap on each vars file (`dvc.maxFileSize`).
    max_bytes: usize,
    budget: Budget,
    /// Vars files already parsed, by normalized path: each is read and charged once.
    parsed: HashMap<String, Arc<Yaml>>,
    stages: Vec<ResolvedStage>,
}

impl Resolver<'_> {
    /// `Context.load_from_vars`: the default file if it exists, then each `vars` entry.
    fn load_vars(
        &mut self,
        context: &mut Context,
        vars: &Yaml,
        wdir: &str,
        default: Option<&str>,
        stage: Option<&str>,
    ) -> Result<(), String> {
        if let Some(default) = default {
            let path = normpath(&join(wdir, default));
            if self.file(&path)?.is_some() {
                self.merge_from(context, default, wdir)?;
            }
        }
        for (index, item) in vars.as_seq().unwrap_or_default().iter().enumerate() {
            match item {
                Yaml::Str(item) => self.merge_from(context, item, wdir)?,
                mapping => {
                    let source = match stage {
                        Some(stage) => format!("{stage}.vars[{index}]"),
                        None => format!("vars[{index}]"),
                    };
                    context.merge(mapping, &source, &mut self.budget)?;
                }
            }
        }
        Ok(())
    }

    /// `Context.merge_from` for one `path[:key1,key2]` entry.
    fn merge_from(&mut self, context: &mut Context, item: &str, wdir: &str) -> Result<(), String> {
        let (path, keys) = match item.split_once(':') {
            Some((path, keys)) => (path, keys),
            None => (item, ""),
        };
        let path = normpath(&join(wdir, path));
        let keys: Option<Vec<String>> = (!keys.is_empty()).then(|| {
            keys.split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        });
        let keys = keys.filter(|k| !k.is_empty());
        let data = self
            .file(&path)?
            .ok_or_else(|| format!("'{path}' does not exist"))?;
        context.merge_file(&path, item, keys, &data, &mut self.budget)
    }

    /// A vars file, parsed by its extension as DVC's `load_path` does; `None` if missing.
    fn file(&mut self, path: &str) -> Result<Option<Arc<Yaml>>, String> {
        if let Some(parsed) = self.parsed.get(path) {
            return Ok(Some(parsed.clone()));
        }
        let Some(bytes) = self.files.read(path)? else {
            return Ok(None);
        };
        self.budget.charge(bytes.len())?;
        let suffix = path
            .rsplit('/')
            .next()
            .and_then(|name| name.rfind('.').filter(|i| *i > 0).map(|i| &name[i..]))
            .unwrap_or_default()
            .to_ascii_lowercase();
        let data = match suffix.as_str() {
            ".toml" | ".py" => {
                return Err(format!(
                    "'{path}': git-dvc reads vars files in YAML or JSON only, not '{suffix}'; \
                     convert it to YAML to push this revision with git-dvc"
                ))
            }
            ".json" => {
                serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).map_err(|e| {
                    format!("unable to read: '{path}', JSON file structure is corrupted: {e}")
                })?;
                let data =
                    yaml::parse(&bytes, self.max_bytes).map_err(|e| format!("'{path}': {e}"))?;
                data
            }
            _ => {
                let data = yaml::parse(&bytes, self.max_bytes).map_err(|e| {
                    format!("unable to read: '{path}', YAML file structure is corrupted: {e}")
                })?;
                // `yaml.load(text) or {}`
                if data.is_falsy() {
                    Yaml::Map(Vec::new())
                } else {
                    data
                }
            }
        };
        let data = Arc::new(data);
        self.parsed.insert(path.to_owned(), data.clone());
        Ok(Some(data))
    }

    /// `EntryDefinition.resolve_stage`: one stage (plain or generated) in `context`.
    fn entry(
        &mut self,
        context: &Context,
        name: &str,
        definition: &Yaml,
    ) -> Result<(), FormatError> {
        self.budget
            .charge(64 + name.len())
            .map_err(|e| template_error(&format!("stage '{name}'"), e))?;
        let field_error =
            |key: &str, e: String| template_error(&format!("'stages.{name}.{key}'"), e);
        let wdir = match definition
            .get("wdir")
            .and_then(Yaml::as_str)
            .filter(|w| !w.is_empty())
        {
            Some(w) => {
                let resolved = context
                    .resolve_str(w, Some("wdir"), &mut self.budget)
                    .and_then(|v| interpolate::to_str(&v))
                    .map_err(|e| field_error("wdir", e))?;
                Some(resolved)
            }
            None => None,
        };
        let mut context = context.clone();
        if let Some(vars) = definition.get("vars") {
            check_interpolations(vars, &format!("stages.{name}.vars"))?;
            let vars_wdir = normpath(wdir.as_deref().unwrap_or(""));
            let vars_wdir = if vars_wdir == "." {
                ""
            } else {
                vars_wdir.as_str()
            };
            self.load_vars(&mut context, vars, vars_wdir, None, Some(name))
                .map_err(|e| template_error(&format!("stage '{name}'"), e))?;
        }
        let mut body = Vec::new();
        for (key, value) in definition.as_map().unwrap_or_default() {
            let field = key.as_str().unwrap_or_default();
            if field == "vars" {
                continue;
            }
            let value = context
                .resolve(value, Some(field), &mut self.budget)
                .map_err(|e| field_error(field, e))?;
            body.push((key.clone(), value));
        }
        let templates = stage_templates(name, &Yaml::Map(body))?;
        self.stages.push(ResolvedStage {
            name: name.to_owned(),
            wdir,
            templates,
        });
        Ok(())
    }

    /// `ForeachDefinition`: one stage per list element or mapping entry.
    fn foreach(
        &mut self,
        context: &Context,
        name: &str,
        definition: &Yaml,
    ) -> Result<(), FormatError> {
        let data = definition.get("foreach").unwrap_or(&Yaml::Null);
        let template = definition.get("do").unwrap_or(&Yaml::Null);
        let iterable = context
            .resolve(data, None, &mut self.budget)
            .map_err(|e| template_error(&format!("'stages.{name}.foreach'"), e))?;
        let is_map = matches!(iterable, Yaml::Map(_));
        let members: Vec<(String, Yaml)> = match &iterable {
            Yaml::Map(entries) => entries
                .iter()
                .map(|(k, v)| Ok((interpolate::to_str(k)?, v.clone())))
                .collect::<Result<_, String>>(),
            Yaml::Seq(items) if items.iter().any(is_map_or_seq) => Ok(items
                .iter()
                .enumerate()
                .map(|(i, v)| (i.to_string(), v.clone()))
                .collect()),
            Yaml::Seq(items) => items
                .iter()
                .map(|v| Ok((interpolate::to_str(v)?, v.clone())))
                .collect::<Result<_, String>>(),
            other => Err(format!(
                "expected list/dictionary, got {}",
                python_type(other)
            )),
        }
        .map_err(|e| {
            FormatError::Template(format!(
                "failed to resolve 'stages.{name}.foreach' in 'dvc.yaml': {e}"
            ))
        })?;
        for (key, item) in dedup_keys(members) {
            let mut vars = vec![("item", item)];
            if is_map {
                vars.push(("key", Yaml::Str(key.clone())));
            }
            let context = context.with_iteration(vars);
            self.entry(&context, &format!("{name}@{key}"), template)?;
        }
        Ok(())
    }

    /// `MatrixDefinition`: one stage per combination, named by its values joined with `-`.
    fn matrix(
        &mut self,
        context: &Context,
        name: &str,
        definition: &Yaml,
    ) -> Result<(), FormatError> {
        let error = |e: String| template_error(&format!("'stages.{name}.matrix'"), e);
        let data = definition.get("matrix").unwrap_or(&Yaml::Null);
        let resolved = context
            .resolve(data, None, &mut self.budget)
            .map_err(error)?;
        let mut axes: Vec<(String, Vec<Yaml>)> = Vec::new();
        for (k, v) in resolved.as_map().unwrap_or_default() {
            let values = match v {
                Yaml::Seq(items) => items.clone(),
                // Python iterates a string's characters and a mapping's keys.
                Yaml::Str(s) => s.chars().map(|c| Yaml::Str(c.to_string())).collect(),
                Yaml::Map(entries) => entries.iter().map(|(k, _)| k.clone()).collect(),
                other => {
                    return Err(error(format!(
                        "'{}' object is not iterable",
                        python_type(other)
                    )))
                }
            };
            axes.push((k.as_str().unwrap_or_default().to_owned(), values));
        }
        // Refuse a product too big to enumerate before enumerating it.
        let count = axes
            .iter()
            .try_fold(1usize, |n, (_, v)| n.checked_mul(v.len()))
            .unwrap_or(usize::MAX);
        self.budget.charge(count).map_err(error)?;
        let mut members: Vec<(String, Yaml)> = Vec::new();
        let mut index = vec![0usize; axes.len()];
        for _ in 0..count {
            let mut fragments = Vec::with_capacity(axes.len());
            let mut item = Vec::with_capacity(axes.len());
            for ((k, values), &i) in axes.iter().zip(&index) {
                let v = &values[i];
                fragments.push(if is_map_or_seq(v) {
                    format!("{k}{i}")
                } else {
                    interpolate::to_str(v).map_err(error)?
                });
                item.push((Yaml::Str(k.clone()), v.clone()));
            }
            members.push((fragments.join("-"), Yaml::Map(item)));
            // Odometer, last axis fastest, as `itertools.product`.
            for axis in (0..axes.len()).rev() {
                index[axis] += 1;
                if index[axis] < axes[axis].1.len() {
                    break;
                }
                index[axis] = 0;
            }
        }
        let template = Yaml::Map(
            definition
                .as_map()
                .unwrap_or_default()
                .iter()
                .filter(|(k, _)| k.as_str() != Some("matrix"))
                .cloned()
                .collect(),
        );
        for (key, item) in dedup_keys(members) {
            let context =
                context.with_iteration(vec![("key", Yaml::Str(key.clone())), ("item", item)]);
            self.entry(&context, &format!("{name}@{key}"), &template)?;
        }
        Ok(())
    }
}

/// A Python dict built from `(key, value)` pairs: a repeated key keeps its first place and
/// takes the last value.
fn dedup_keys(members: Vec<(String, Yaml)>) -> Vec<(String, Yaml)> {
    let mut out: Vec<(String, Yaml)> = Vec::with_capacity(members.len());
    let mut at: HashMap<String, usize> = HashMap::new();
    for (k, v) in members {
        match at.get(&k) {
            Some(&i) => out[i].1 = v,
            None => {
                at.insert(k.clone(), out.len());
                out.push((k, v));
            }
        }
    }
    out
}

fn is_map_or_seq(value: &Yaml) -> bool {
    matches!(value, Yaml::Map(_) | Yaml::Seq(_))
}

/// `os.path.join` for repository paths: an absolute `path` replaces `base`.
fn join(base: &str, path: &str) -> String {
    if base.is_empty() || path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    }
}

/// `posixpath.normpath`.
pub fn normpath(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (absolute, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// The output for `template`; `None` if external. `stage` is its (generated) stage name.
fn output(
    template: &Template,
    wdir: Option<&str>,
    hash: Option<DvcHash>,
    files: Option<Vec<ManifestEntry>>,
    stage: &str,
    location: &str,
) -> Result<Option<DvcOutput>, FormatError> {
    let Some(path) = resolve_path(wdir, &template.path, location)? else {
        return Ok(None);
    };
    Ok(Some(DvcOutput {
        path,
        hash,
        remote: template.remote.clone(),
        push: template.push,
        cache: template.cache,
        files,
        stage: Some(stage.to_owned()),
        isexec: false,
    }))
}

/// One output as `dvc.yaml` declares it: a path (maybe templated) and its flags.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    path: String,
    cache: bool,
    push: bool,
    remote: Option<String>,
}

/// An output's flags mapping as written in `dvc.yaml`.
type Flags<'a> = &'a [(Yaml, Yaml)];

/// A stage's outputs in DVC's order: `outs`, `metrics`, `plots`, each list merged by path
/// (`dvc/output.py:_merge_data`: a repeated path updates the flags of its first mention).
/// Metrics and plots are cached and pushed by default, like outs.
fn stage_templates(stage: &str, body: &Yaml) -> Result<Vec<Template>, FormatError> {
    let mut templates = Vec::new();
    for key in ["outs", "metrics", "plots"] {
        let mut merged: Vec<(&str, Vec<Flags>)> = Vec::new();
        let mut positions: HashMap<&str, usize> = HashMap::new();
        let items = body.get(key).and_then(Yaml::as_seq).unwrap_or_default();
        for (index, item) in items.iter().enumerate() {
            let entries: Vec<(&Yaml, &Yaml)> = match item {
                Yaml::Map(paths) => paths.iter().map(|(k, v)| (k, v)).collect(),
                path => vec![(path, &Yaml::Null)],
            };
            for (path, flags) in entries {
                // After templating a path may be any scalar: DVC's `_merge_data` refuses it.
                let Some(path) = path.as_str() else {
                    return Err(FormatError::Value {
                        location: format!("stages -> {stage} -> {key} -> {index}"),
                        message: format!("'{}' not supported", python_type(path)),
                    });
                };
                let flags = match flags {
                    Yaml::Null if item.as_str().is_some() => &[][..],
                    Yaml::Map(flags) => flags,
                    // The schema allows a list of plot properties, but DVC then fails on it.
                    other => {
                        return Err(FormatError::Value {
                            location: format!("stages -> {stage} -> {key} -> {index}"),
                            message: format!(
                                "Expected dict for '{path}', got: '{}'",
                                python_type(other)
                            ),
                        })
                    }
                };
                match positions.get(path) {
                    Some(&at) => merged[at].1.push(flags),
                    None => {
                        positions.insert(path, merged.len());
                        merged.push((path, vec![flags]));
                    }
                }
            }
        }
        for (path, flag_maps) in merged {
            // The last mention of a flag wins, as with `dict.update`.
            let flag = |name: &str| {
                flag_maps.iter().rev().find_map(|m| {
                    m.iter()
                        .find(|(k, _)| k.as_str() == Some(name))
                        .map(|(_, v)| v)
                })
            };
            templates.push(Template {
                path: path.to_owned(),
                cache: flag("cache").and_then(Yaml::as_bool).unwrap_or(true),
                push: flag("push").and_then(Yaml::as_bool).unwrap_or(true),
                remote: flag("remote").and_then(Yaml::as_str).map(str::to_lowercase),
            });
        }
    }
    Ok(templates)
}

pub(super) fn python_type(value: &Yaml) -> &'static str {
    match value {
        Yaml::Null => "NoneType",
        Yaml::Bool(_) => "bool",
        Yaml::Int(_) => "int",
        Yaml::Float(_) => "float",
        Yaml::Str(_) => "str",
        Yaml::Seq(_) => "list",
        Yaml::Map(_) => "dict",
    }
}

// ----------------------------------------------------------------------------------------------
// Schemas, transcribed from DVC 3.67.1 `dvc/schema.py`.

static STR_OR_LIST: Rule = Rule::OneOf(&[&Rule::Str, &Rule::ListType]);

/// `ANNOTATION_SCHEMA`.
static ANNOTATIONS: [Field; 4] = [
    Field::opt("desc", &Rule::Str),
    Field::opt("type", &Rule::Str),
    Field::opt("labels", &Rule::List(&Rule::Str)),
    Field::opt("meta", &Rule::Any),
];

/// Output flags: `OUT_PSTAGE_DETAILED_SCHEMA[str]`.
static OUT_FLAGS: [Field; 5] = [
    Field::opt("cache", &Rule::Bool),
    Field::opt("persist", &Rule::Bool),
    Field::opt("checkpoint", &Rule::Bool),
    Field::opt("remote", &Rule::Str),
    Field::opt("push", &Rule::Bool),
];

/// `PLOT_PROPS`.
static PLOT_PROPS: [Field; 7] = [
    Field::opt("template", &Rule::Str),
    Field::opt("x", &Rule::Str),
    Field::opt("y", &Rule::Str),
    Field::opt("x_label", &Rule::Str),
    Field::opt("y_label", &Rule::Str),
    Field::opt("title", &Rule::Str),
    Field::opt("header", &Rule::Bool),
];

/// `[vol.Any(str, OUT_PSTAGE_DETAILED_SCHEMA)]`.
static OUT_LIST: Rule = Rule::List(&Rule::OneOf(&[
    &Rule::Str,
    &Rule::Map(&MapRule {
        fields: &[],
        other_str_keys: Some(&Rule::Map(&MapRule {
            fields: &[&ANNOTATIONS, &OUT_FLAGS],
            other_str_keys: None,
        })),
    }),
]));

/// `PLOT_PROPS_SCHEMA`.
static PLOT_PROPS_SCHEMA: Rule = Rule::Map(&MapRule {
    fields: &[&ANNOTATIONS, &OUT_FLAGS, &PLOT_PROPS],
    other_str_keys: None,
});

/// `[vol.Any(str, PLOT_PSTAGE_SCHEMA)]`.
static PLOT_LIST: Rule = Rule::List(&Rule::OneOf(&[
    &Rule::Str,
    &Rule::Map(&MapRule {
        fields: &[],
        other_str_keys: Some(&Rule::OneOf(&[
            &PLOT_PROPS_SCHEMA,
            &Rule::List(&PLOT_PROPS_SCHEMA),
        ])),
    }),
]));

/// `VARS_SCHEMA`: a list of file names and mappings.
static VARS: Rule = Rule::List(&Rule::OneOf(&[&Rule::Str, &Rule::Dict]));

/// `STAGE_DEFINITION`.
static STAGE_DEFINITION: Rule = Rule::Map(&MapRule {
    fields: &[&[
        Field::opt(
            "matrix",
            &Rule::Map(&MapRule {
                fields: &[],
                other_str_keys: Some(&STR_OR_LIST),
            }),
        ),
        Field::req("cmd", &STR_OR_LIST),
        Field::opt("wdir", &Rule::Str),
        Field::opt("deps", &Rule::List(&Rule::Str)),
        Field::opt(
            "params",
            &Rule::List(&Rule::OneOf(&[&Rule::Str, &Rule::Dict])),
        ),
        Field::opt("vars", &VARS),
        Field::opt("frozen", &Rule::Bool),
        Field::opt("meta", &Rule::Any),
        Field::opt("desc", &Rule::Str),
        Field::opt("always_changed", &Rule::Bool),
        Field::opt("outs", &OUT_LIST),
        Field::opt("metrics", &OUT_LIST),
        Field::opt("plots", &PLOT_LIST),
    ]],
    other_str_keys: None,
});

/// `FOREACH_IN`.
static FOREACH_IN: Rule = Rule::Map(&MapRule {
    fields: &[&[
        Field::req(
            "foreach",
            &Rule::OneOf(&[&Rule::Dict, &Rule::ListType, &Rule::Str]),
        ),
        Field::req("do", &STAGE_DEFINITION),
    ]],
    other_str_keys: None,
});

/// `PLOT_DEFINITION`, for top-level `plots:`.
static PLOT_DEFINITION: Rule = Rule::Map(&MapRule {
    fields: &[&[
        Field::opt(
            "x",
            &Rule::OneOf(&[
                &Rule::Str,
                &Rule::Map(&MapRule {
                    fields: &[],
                    other_str_keys: Some(&Rule::Str),
                }),
            ]),
        ),
        Field::opt(
            "y",
            &Rule::OneOf(&[
                &Rule::Str,
                &Rule::List(&Rule::Str),
                &Rule::Map(&MapRule {
                    fields: &[],
                    other_str_keys: Some(&Rule::OneOf(&[&Rule::Str, &Rule::List(&Rule::Str)])),
                }),
            ]),
        ),
        Field::opt("x_label", &Rule::Str),
        Field::opt("y_label", &Rule::Str),
        Field::opt("title", &Rule::Str),
        Field::opt("template", &Rule::Str),
    ]],
    other_str_keys: None,
});

/// `MULTI_STAGE_SCHEMA`: a whole `dvc.yaml`.
static MULTI_STAGE: Rule = Rule::Map(&MapRule {
    fields: &[&[
        Field::opt("datasets", &Rule::Any),
        Field::opt(
            "plots",
            &Rule::List(&Rule::OneOf(&[
                &Rule::Str,
                &Rule::Map(&MapRule {
                    fields: &[],
                    other_str_keys: Some(&Rule::OneOf(&[&PLOT_DEFINITION, &Rule::Null])),
                }),
            ])),
        ),
        Field::opt(
            "stages",
            &Rule::Map(&MapRule {
                fields: &[],
                other_str_keys: Some(&Rule::EitherOr(
                    &STAGE_DEFINITION,
                    &FOREACH_IN,
                    &["foreach", "do"],
                )),
            }),
        ),
        Field::opt("vars", &VARS),
        Field::opt("params", &Rule::List(&Rule::Str)),
        Field::opt("metrics", &Rule::List(&Rule::Str)),
        Field::opt(
            "artifacts",
            &Rule::Map(&MapRule {
                fields: &[],
                other_str_keys: Some(&Rule::Map(&MapRule {
                    fields: &[&ANNOTATIONS, &[Field::req("path", &Rule::Str)]],
                    other_str_keys: None,
                })),
            }),
        ),
    ]],
    other_str_keys: None,
});

/// `DATA_SCHEMA`: one lock `deps`/`outs` entry.
static LOCK_DATA: Rule = Rule::Map(&MapRule {
    fields: &[
        &HASH_AND_META,
        &DATA_FIELDS,
        &[
            Field::req("path", &Rule::Str),
            Field::opt("dataset", &Rule::Dict),
        ],
    ],
    other_str_keys: None,
});

/// `LOCKFILE_SCHEMA`: a whole `dvc.lock`.
static LOCKFILE: Rule = Rule::Map(&MapRule {
    fields: &[&[
        Field::req("schema", &Rule::Equal("2.0", "invalid schema version")),
        Field::opt("datasets", &Rule::Any),
        Field::opt(
            "stages",
            &Rule::Map(&MapRule {
                fields: &[],
                other_str_keys: Some(&Rule::Map(&MapRule {
                    fields: &[&[
                        Field::req("cmd", &STR_OR_LIST),
                        Field::opt("deps", &Rule::List(&LOCK_DATA)),
                        Field::opt(
                            "params",
                            &Rule::Map(&MapRule {
                                fields: &[],
                                other_str_keys: Some(&Rule::Map(&MapRule {
                                    fields: &[],
                                    other_str_keys: Some(&Rule::Any),
                                })),
                            }),
                        ),
                        Field::opt("outs", &Rule::List(&LOCK_DATA)),
                    ]],
                    other_str_keys: None,
                })),
            }),
        ),
    ]],
    other_str_keys: None,
});

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = crate::limits::DEFAULT_MAX_FILE_SIZE;
    use crate::dvc::hash::{HashKind, ObjectId};

    /// A pipeline run with `dvc repro` (DVC 3.67.1): plain outs with flags, metrics, plots,
    /// `foreach` over vars, `matrix`, a `wdir`, and a `foreach` with a templated `wdir`.
    const DVC_YAML: &str = r#"vars:
  - params.yaml
  - suffix: txt
stages:
  gen:
    cmd: sh gen.sh
    outs:
    - out
    - nocache.txt:
        cache: false
    - nopush.txt:
        push: false
    - other.txt:
        remote: R2
    metrics:
    - metrics.json
    plots:
    - plot.csv:
        x: x
  each:
    foreach: ${items}
    do:
      cmd: echo ${item} > f_${item}.${suffix}
      outs:
      - f_${item}.${suffix}
  mat:
    matrix:
      n: [1, 2]
      p: [p]
    cmd: echo ${item.n} > m_${item.n}_${item.p}.txt
    outs:
    - m_${item.n}_${item.p}.txt
  insub:
    wdir: sub
    cmd: echo s > s.txt && echo u > ../up.txt
    outs:
    - s.txt
    - ../up.txt
  dictfe:
    foreach:
      a: {d: sub}
      b: {d: sub2}
    do:
      wdir: ${item.d}
      cmd: mkdir -p ../${item.d} && echo ${key} > k_${key}.txt
      outs:
      - k_${key}.txt
metrics:
- metrics.json
plots:
- plot.csv
"#;

    const DVC_LOCK: &str = r#"schema: '2.0'
stages:
  gen:
    cmd: sh gen.sh
    outs:
    - path: metrics.json
      hash: md5
      md5: a01637863c1f9585c3e38cde6ce20940
      size: 9
    - path: nocache.txt
      hash: md5
      md5: fe13119fb084fe8bbf5fe3ab7cc89b3b
      size: 2
    - path: nopush.txt
      hash: md5
      md5: 9d7bf075372908f55e2d945c39e0a613
      size: 2
    - path: other.txt
      hash: md5
      md5: e73af36376314c7c0022cb1d204f76b3
      size: 2
    - path: out
      hash: md5
      md5: 902c1837b615c57e919882031a5e8c11.dir
      size: 2
      nfiles: 1
    - path: plot.csv
      hash: md5
      md5: 344fd2323dd33d5c058b7cf27de029e8
      size: 8
  each@x:
    cmd: echo x > f_x.txt
    outs:
    - path: f_x.txt
      hash: md5
      md5: 401b30e3b8b5d629635a5c613cdb7919
      size: 2
  each@y:
    cmd: echo y > f_y.txt
    outs:
    - path: f_y.txt
      hash: md5
      md5: 009520053b00386d1173f3988c55d192
      size: 2
  mat@1-p:
    cmd: echo 1 > m_1_p.txt
    outs:
    - path: m_1_p.txt
      hash: md5
      md5: b026324c6904b2a9cb4b88d6d61c81d1
      size: 2
  mat@2-p:
    cmd: echo 2 > m_2_p.txt
    outs:
    - path: m_2_p.txt
      hash: md5
      md5: 26ab0db90d72e28ad0ba1e22ee510510
      size: 2
  insub:
    cmd: echo s > s.txt && echo u > ../up.txt
    outs:
    - path: ../up.txt
      hash: md5
      md5: e85dde330c34efb0e526ee3082e4353b
      size: 2
    - path: s.txt
      hash: md5
      md5: f4d5d0c0671be202bc241807c243e80b
      size: 2
  dictfe@a:
    cmd: mkdir -p ../sub && echo a > k_a.txt
    outs:
    - path: k_a.txt
      hash: md5
      md5: 60b725f10c9c85c70d97880dfe8191b3
      size: 2
  dictfe@b:
    cmd: mkdir -p ../sub2 && echo b > k_b.txt
    outs:
    - path: k_b.txt
      hash: md5
      md5: 3b5d5c3712955042212316173ccf37be
      size: 2
"#;

    /// Vars files by path, as a revision would hold them.
    struct Files(Vec<(&'static str, &'static str)>);

    impl VarsFiles for Files {
        fn read(&self, path: &str) -> Result<Option<Arc<Vec<u8>>>, String> {
            Ok(self
                .0
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, text)| Arc::new(text.as_bytes().to_vec())))
        }
    }

    /// The `params.yaml` the real pipeline was run with.
    fn params() -> Files {
        Files(vec![("params.yaml", "items: [x, y]\n")])
    }

    fn parse(yaml: &str, lock: Option<&str>) -> Vec<DvcOutput> {
        parse_with(yaml, lock, &params())
    }

    fn parse_with(yaml: &str, lock: Option<&str>, files: &dyn VarsFiles) -> Vec<DvcOutput> {
        parse_pipeline(yaml.as_bytes(), lock.map(str::as_bytes), files, MAX)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(yaml: &str, lock: Option<&str>) -> String {
        error_with(yaml, lock, &params())
    }

    fn error_with(yaml: &str, lock: Option<&str>, files: &dyn VarsFiles) -> String {
        parse_pipeline(yaml.as_bytes(), lock.map(str::as_bytes), files, MAX)
            .unwrap_err()
            .to_string()
    }

    fn summary(outputs: &[DvcOutput]) -> Vec<String> {
        outputs
            .iter()
            .map(|o| {
                let hash = o
                    .hash
                    .as_ref()
                    .map_or("-".into(), |h| format!("{}:{h}", h.kind.name()));
                let remote = o.remote.as_deref().unwrap_or("-");
                format!(
                    "{} {hash} cache={} push={} remote={remote}",
                    o.path, o.cache, o.push
                )
            })
            .collect()
    }

    #[test]
    fn real_pipeline_matches_what_dvc_loads() {
        assert_eq!(
            summary(&parse(DVC_YAML, Some(DVC_LOCK))),
            [
                "out md5:902c1837b615c57e919882031a5e8c11.dir cache=true push=true remote=-",
                "nocache.txt md5:fe13119fb084fe8bbf5fe3ab7cc89b3b cache=false push=true remote=-",
                "nopush.txt md5:9d7bf075372908f55e2d945c39e0a613 cache=true push=false remote=-",
                "other.txt md5:e73af36376314c7c0022cb1d204f76b3 cache=true push=true remote=r2",
                "metrics.json md5:a01637863c1f9585c3e38cde6ce20940 cache=true push=true remote=-",
                "plot.csv md5:344fd2323dd33d5c058b7cf27de029e8 cache=true push=true remote=-",
                "f_x.txt md5:401b30e3b8b5d629635a5c613cdb7919 cache=true push=true remote=-",
                "f_y.txt md5:009520053b00386d1173f3988c55d192 cache=true push=true remote=-",
                "m_1_p.txt md5:b026324c6904b2a9cb4b88d6d61c81d1 cache=true push=true remote=-",
                "m_2_p.txt md5:26ab0db90d72e28ad0ba1e22ee510510 cache=true push=true remote=-",
                "sub/s.txt md5:f4d5d0c0671be202bc241807c243e80b cache=true push=true remote=-",
                "up.txt md5:e85dde330c34efb0e526ee3082e4353b cache=true push=true remote=-",
                // A templated wdir is resolved per generated stage.
                "sub/k_a.txt md5:60b725f10c9c85c70d97880dfe8191b3 cache=true push=true remote=-",
                "sub2/k_b.txt md5:3b5d5c3712955042212316173ccf37be cache=true push=true remote=-",
            ]
        );
    }

    #[test]
    fn outputs_name_their_lock_stage() {
        let stages = |outputs: Vec<DvcOutput>| -> Vec<String> {
            outputs.into_iter().map(|o| o.stage.unwrap()).collect()
        };
        assert_eq!(
            stages(parse(DVC_YAML, Some(DVC_LOCK))),
            [
                "gen", "gen", "gen", "gen", "gen", "gen", "each@x", "each@y", "mat@1-p", "mat@2-p",
                "insub", "insub", "dictfe@a", "dictfe@b",
            ]
        );
        // Without a lock entry, the same generated names.
        assert_eq!(
            stages(parse(DVC_YAML, None)),
            stages(parse(DVC_YAML, Some(DVC_LOCK)))
        );
    }

    #[test]
    fn without_lock_nothing_has_a_hash() {
        let outputs = parse(DVC_YAML, None);
        assert!(outputs.iter().all(|o| o.hash.is_none()));
        let paths: Vec<&str> = outputs.iter().map(|o| o.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "out",
                "nocache.txt",
                "nopush.txt",
                "other.txt",
                "metrics.json",
                "plot.csv",
                "f_x.txt",
                "f_y.txt",
                "m_1_p.txt",
                "m_2_p.txt",
                "sub/s.txt",
                "up.txt",
                "sub/k_a.txt",
                "sub2/k_b.txt",
            ]
        );
    }

    #[test]
    fn dvc2_lock_entries_are_legacy_and_unknown_entries_ignored() {
        let yaml = "stages:\n  train:\n    cmd: python train.py\n    outs:\n    - model.pkl\n    - missing.pkl\n";
        let lock = "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n    \
                    - path: model.pkl\n      md5: 8783532514f22aac812c0f2406264978\n      size: 3\n    \
                    - path: stale.pkl\n      md5: 8783532514f22aac812c0f2406264978\n  \
                    gone:\n    cmd: x\n    outs:\n    - path: g\n      md5: 8783532514f22aac812c0f2406264978\n";
        let outputs = parse(yaml, Some(lock));
        assert_eq!(
            summary(&outputs),
            [
                "model.pkl md5-dos2unix:8783532514f22aac812c0f2406264978 cache=true push=true remote=-",
                "missing.pkl - cache=true push=true remote=-",
            ]
        );
        assert_eq!(
            outputs[0].hash.as_ref().unwrap().kind,
            HashKind::Md5Dos2Unix
        );
    }

    #[test]
    fn templated_outs_in_plain_stages_and_exact_matches_first() {
        let yaml =
            "vars: [{n: a}]\nstages:\n  s:\n    cmd: x\n    outs:\n    - ${n}.txt:\n        \
                    cache: false\n    - b.txt\n    - data/${n}/${n}.bin\n";
        let lock = "schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n    \
                    - {path: a.txt, hash: md5, md5: 11111111111111111111111111111111}\n    \
                    - {path: b.txt, hash: md5, md5: 22222222222222222222222222222222}\n    \
                    - {path: data/a/a.bin, hash: md5, md5: 33333333333333333333333333333333}\n";
        assert_eq!(
            summary(&parse(yaml, Some(lock))),
            [
                "a.txt md5:11111111111111111111111111111111 cache=false push=true remote=-",
                "b.txt md5:22222222222222222222222222222222 cache=true push=true remote=-",
                "data/a/a.bin md5:33333333333333333333333333333333 cache=true push=true remote=-",
            ]
        );
    }

    #[test]
    fn flags_pair_by_interpolated_path_not_by_pattern() {
        // `push: false` sits on the first generated output only; the lock lists `b` first.
        let yaml =
            "stages:\n  s:\n    foreach: ${names}\n    do:\n      cmd: x\n      outs:\n      \
                    - ${item}.txt:\n          push: ${flags.${item}}\n";
        let yaml = yaml.replace("push: ${flags.${item}}", "remote: ${remotes[${idx}]}");
        let _ = yaml; // (flags cannot be templated: DVC's schema wants a bool)
        let yaml = "vars: [{first: a, second: b}]\nstages:\n  one:\n    cmd: x\n    outs:\n    \
                    - ${first}.txt: {push: false}\n    - ${second}.txt\n";
        let lock = "schema: '2.0'\nstages:\n  one:\n    cmd: x\n    outs:\n    \
                    - {path: b.txt, hash: md5, md5: 22222222222222222222222222222222}\n    \
                    - {path: a.txt, hash: md5, md5: 11111111111111111111111111111111}\n";
        assert_eq!(
            summary(&parse_with(yaml, Some(lock), &NoVarsFiles)),
            [
                "a.txt md5:11111111111111111111111111111111 cache=true push=false remote=-",
                "b.txt md5:22222222222222222222222222222222 cache=true push=true remote=-",
            ]
        );
    }

    #[test]
    fn foreach_matrix_and_vars_files() {
        let files = Files(vec![
            (
                "params.yaml",
                "models: {big: {n: 2}, small: {n: 1}}\nlr: 0.001\n",
            ),
            (
                "conf/extra.json",
                "{\"sets\": [\"tr\", \"te\"], \"unused\": 1}",
            ),
            ("conf/stage.yaml", "local: L\n"),
        ]);
        let yaml = "vars: [conf/extra.json:sets]\nstages:\n  fe:\n    foreach: ${models}\n    do:\n      \
                    cmd: x\n      outs: [\"${key}_${item.n}_${lr}.bin\"]\n  mx:\n    matrix:\n      \
                    s: ${sets}\n      f: [true, 1.5]\n    cmd: x\n    outs: [\"${item.s}-${item.f}.out\"]\n  \
                    st:\n    wdir: conf\n    vars: [stage.yaml]\n    cmd: x\n    outs: [\"${local}.txt\"]\n";
        let outputs = parse_with(yaml, None, &files);
        let got: Vec<String> = outputs
            .iter()
            .map(|o| format!("{}:{}", o.stage.as_deref().unwrap(), o.path))
            .collect();
        assert_eq!(
            got,
            [
                "fe@big:big_2_0.001.bin",
                "fe@small:small_1_0.001.bin",
                "mx@tr-true:tr-true.out",
                "mx@tr-1.5:tr-1.5.out",
                "mx@te-true:te-true.out",
                "mx@te-1.5:te-1.5.out",
                "st:conf/L.txt",
            ]
        );
    }

    #[test]
    fn templating_fails_as_dvc_fails() {
        let none = &NoVarsFiles;
        assert_eq!(
            error_with("vars: [p.yaml]\nstages: {}\n", None, none),
            "failed to parse 'vars' in 'dvc.yaml': 'p.yaml' does not exist"
        );
        assert_eq!(
            error_with(
                "stages:\n  a:\n    cmd: x\n    outs: [\"${nope}\"]\n",
                None,
                none
            ),
            "failed to parse 'stages.a.outs' in 'dvc.yaml': Could not find 'nope'"
        );
        let both = Files(vec![("params.yaml", "a: 1\n"), ("b.yaml", "a: 2\n")]);
        assert_eq!(
            error_with("vars: [b.yaml]\nstages: {}\n", None, &both),
            "failed to parse 'vars' in 'dvc.yaml': cannot redefine 'a' from 'b.yaml' as it already exists"
        );
        let toml = Files(vec![("p.toml", "a = 1\n")]);
        assert!(
            error_with("vars: [p.toml]\nstages: {}\n", None, &toml).contains("YAML or JSON only")
        );
        assert!(
            error_with("vars: [\"${x}\"]\n", None, none).contains("interpolating is not allowed")
        );
    }

    #[test]
    fn expansion_is_bounded() {
        // A 1000^3 matrix is refused before it is enumerated.
        let axis: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let list = format!("[{}]", axis.join(", "));
        let yaml = format!(
            "vars: [{{l: {list}}}]\nstages:\n  m:\n    matrix: {{a: '${{l}}', b: '${{l}}', c: '${{l}}'}}\n    cmd: x\n    outs: [o]\n"
        );
        let e = error_with(&yaml, None, &NoVarsFiles);
        assert!(e.contains("units of work"), "{e}");
    }

    #[test]
    fn merged_and_multi_path_items() {
        let yaml = "stages:\n  s:\n    cmd: x\n    outs:\n    - a: {cache: false}\n      b: {remote: Up}\n    \
                    - a: {push: false}\n    - c\n    plots:\n    - p.csv: {x: a, y: b, cache: false}\n";
        assert_eq!(
            summary(&parse(yaml, None)),
            [
                "a - cache=false push=false remote=-",
                "b - cache=true push=true remote=up",
                "c - cache=true push=true remote=-",
                "p.csv - cache=false push=true remote=-",
            ]
        );
        // DVC 3.67.1: "ValueError: Expected dict for 'q.json', got: 'list'".
        assert_eq!(
            error(&format!("{yaml}    - q.json: [{{x: a}}]\n"), None),
            "Expected dict for 'q.json', got: 'list', in stages -> s -> plots -> 1"
        );
    }

    #[test]
    fn external_outputs_are_left_out() {
        let yaml =
            "stages:\n  s:\n    cmd: x\n    outs:\n    - /abs/out\n    - s3://b/k\n    - rel\n";
        assert_eq!(
            summary(&parse(yaml, None)),
            ["rel - cache=true push=true remote=-"]
        );
    }

    #[test]
    fn files_lists_in_the_lock() {
        let yaml = "stages:\n  s:\n    cmd: x\n    outs:\n    - d\n";
        let lock = "schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: d\n      hash: md5\n      \
                    files:\n      - relpath: one\n        md5: b026324c6904b2a9cb4b88d6d61c81d1\n";
        let outputs = parse(yaml, Some(lock));
        assert_eq!(
            outputs[0].hash.as_ref().unwrap().oid,
            ObjectId::parse("a9ecc6c5a3183525512e1e43358af51e.dir").unwrap()
        );
        assert_eq!(outputs[0].files.as_ref().unwrap().len(), 1);
    }

    #[test]
    fn no_stages_means_no_outputs() {
        for yaml in [
            "",
            "metrics: [m.json]\nplots: [p.csv]\nparams: [p.yaml]\nartifacts:\n  m: {path: m.pkl}\n",
            "vars: [a.yaml]\n",
        ] {
            let params = Files(vec![("a.yaml", "a: 1\n")]);
            assert_eq!(
                parse_with(yaml, Some("schema: '2.0'\n"), &params),
                vec![],
                "{yaml:?}"
            );
        }
        for yaml in [
            "",
            "metrics: [m.json]\nplots: [p.csv]\nparams: [p.yaml]\nartifacts:\n  m: {path: m.pkl}\n",
        ] {
            assert_eq!(parse(yaml, Some("schema: '2.0'\n")), vec![], "{yaml:?}");
        }
    }

    #[test]
    fn lock_errors_match_dvc() {
        let yaml = "stages:\n  a:\n    cmd: x\n    outs: [o]\n";
        // DVC 1.x lock format.
        assert_eq!(
            error(yaml, Some("a:\n  cmd: x\n  outs:\n  - path: o\n    md5: 7ac062d8a84466e70d9b899c0821a51c\n")),
            "dvc.lock: validation failed: 2 errors: extra keys not allowed, in a; \
             required key not provided, in schema"
        );
        // An existing but empty lock is refused by DVC too.
        assert_eq!(
            error(yaml, Some("")),
            "dvc.lock: validation failed: required key not provided, in schema"
        );
        assert_eq!(
            error(yaml, Some("schema: 2.0\nstages: {}\n")),
            "dvc.lock: validation failed: invalid schema version, in schema"
        );
        assert_eq!(
            error(yaml, Some("schema: '2.0'\nstages:\n  a:\n    outs:\n    - md5: 7ac062d8a84466e70d9b899c0821a51c\n      foo: 1\n    extra: 1\n")),
            "dvc.lock: validation failed: 4 errors: extra keys not allowed, in stages -> a -> outs -> 0 -> foo; \
             required key not provided, in stages -> a -> outs -> 0 -> path; \
             extra keys not allowed, in stages -> a -> extra; required key not provided, in stages -> a -> cmd"
        );
        assert_eq!(
            error(yaml, Some("schema: '2.0'\nstages:\n  a:\n    cmd: x\n    outs:\n    - path: o\n      md5: nothex-nothex-nothex-nothex-nothe\n")),
            "dvc.lock: invalid hash in stages -> a -> outs -> 0 -> md5: 'nothex-nothex-nothex-nothex-nothe' \
             is not a DVC md5 hash (expected 32 hex characters, optionally followed by '.dir')"
        );
        assert!(matches!(
            parse_pipeline(yaml.as_bytes(), Some(b"\xff"), &NoVarsFiles, MAX),
            Err(FormatError::Lock(inner)) if matches!(*inner, FormatError::Yaml(_))
        ));
    }

    #[test]
    fn pipeline_errors_match_dvc() {
        assert_eq!(
            error("stages: [a]\n", None),
            "validation failed: expected a dictionary, in stages"
        );
        assert_eq!(
            error("stages:\n", None),
            "validation failed: expected a dictionary, in stages"
        );
        assert_eq!(
            error("stages:\n  a: 3\n", None),
            "validation failed: expected a dictionary, in stages -> a"
        );
        assert_eq!(
            error("stages:\n  a:\n    cmd: x\n    outs:\n    - a: {cache: \"${x}\"}\n    out: [x]\n", None),
            "validation failed: 2 errors: expected bool, in stages -> a -> outs -> 0 -> a -> cache; \
             extra keys not allowed, in stages -> a -> out"
        );
        assert_eq!(
            error(
                "stages:\n  a:\n    foreach: [1]\n    do:\n      outs: [x]\n    cmd: y\n",
                None
            ),
            "validation failed: 2 errors: required key not provided, in stages -> a -> do -> cmd; \
             extra keys not allowed, in stages -> a -> cmd"
        );
        assert_eq!(
            error("stages:\n  a:\n    foreach: [1]\n    cmd: y\n", None),
            "validation failed: 2 errors: extra keys not allowed, in stages -> a -> cmd; \
             required key not provided, in stages -> a -> do"
        );
        assert_eq!(
            error("stages:\n  a:\n    cmd: x\n    wdir: ${x}\n    plots:\n    - p: [{x: 1}]\n    \
                   - q: {x: a, cache: false, foo: 1}\n    metrics:\n    - m: {persist: true, checkpoint: true}\nfoo: 1\n", None),
            "validation failed: 2 errors: expected str, in stages -> a -> plots -> 0 -> p -> 0 -> x; \
             extra keys not allowed, in foo"
        );
        assert_eq!(
            error("stages:\n  a:\n    cmd: x\n    matrix:\n      n: 3\n", None),
            "validation failed: expected str, in stages -> a -> matrix -> n"
        );
        assert_eq!(
            error("stages:\n  a:\n    cmd: x\n    outs: ${outs}\n", None),
            "validation failed: expected a list, in stages -> a -> outs"
        );
        assert_eq!(
            error("stages:\n  a:\n    cmd: x\n    outs: [\"\\0\"]\n", None),
            "invalid path in stages -> a: path \"\\0\" contains NUL"
        );
        assert_eq!(
            error(
                "stages:\n  a:\n    cmd: x\n    outs: [\"\\0\"]\n",
                Some("schema: '2.0'\nstages:\n  a:\n    cmd: x\n    outs:\n    - path: \"\\0\"\n")
            ),
            "dvc.lock: invalid path in stages -> a -> outs -> 0: path \"\\0\" contains NUL"
        );
    }
}
