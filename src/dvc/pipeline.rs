//! Pipeline outputs: a `dvc.yaml` for the flags, its `dvc.lock` for the hashes.
//!
//! DVC (`dvc/stage/loader.py`) interpolates `${…}`, expands `foreach`/`matrix`, takes each
//! stage's `outs:`, `metrics:` and `plots:` with their flags from `dvc.yaml`, then fills hashes
//! from the lock entry of the same stage and exact same `path`. Flags live only in `dvc.yaml`
//! (the lock also lists `cache: false` outputs), so both files are needed.
//!
//! Rather than re-implement DVC's template engine, outputs are matched on names DVC generated:
//!
//! * a lock stage `name` belongs to the `dvc.yaml` stage `name`, and `name@<anything>` to a
//!   `foreach`/`matrix` stage `name`;
//! * a lock out matches a `dvc.yaml` out with the same path, else one whose `${…}` parts, taken
//!   as wildcards, match it. The output then takes the lock's (concrete) path.
//!
//! Lock entries matching nothing are ignored, as in DVC. A `dvc.yaml` output without a lock
//! entry has no hash; a templated one keeps its template text as path. A templated `wdir` is
//! kept as literal text too, since resolving it would need the template engine.
//!
//! Both files are validated against DVC 3.67.1's `MULTI_STAGE_SCHEMA` and `LOCKFILE_SCHEMA`
//! (`dvc/schema.py`), on the raw, uninterpolated data as DVC does. The 1.x lock format (stages
//! at the top level, no `schema: '2.0'`) fails as in DVC: `required key not provided, in
//! schema`.

use std::collections::{BTreeMap, HashMap};

use super::dvcfile::{hash_of, resolve_path, DATA_FIELDS, HASH_AND_META};
use super::hash::DvcHash;
use super::output::{DvcOutput, ManifestEntry};
use super::yaml::{self, Field, FormatError, MapRule, Rule, Yaml};

/// Outputs of every stage in `dvc_yaml`, hashed from `dvc_lock` when given. External outputs
/// are left out.
pub fn parse_pipeline(
    dvc_yaml: &[u8],
    dvc_lock: Option<&[u8]>,
) -> Result<Vec<DvcOutput>, FormatError> {
    let pipeline = load(dvc_yaml, &MULTI_STAGE)?;
    let lock = match dvc_lock {
        Some(bytes) => load(bytes, &LOCKFILE).map_err(|e| FormatError::Lock(Box::new(e)))?,
        None => Yaml::Map(Vec::new()),
    };
    let lock_stages: Vec<(&str, &Yaml)> = lock
        .get("stages")
        .and_then(Yaml::as_map)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?, v)))
        .collect();
    // Lock stage names, sorted for prefix lookups, with their position in the file.
    let by_name: BTreeMap<&str, usize> = lock_stages
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (*name, i))
        .collect();

    let mut outputs = Vec::new();
    let stages = pipeline
        .get("stages")
        .and_then(Yaml::as_map)
        .unwrap_or_default();
    for (name, definition) in stages {
        let name = name.as_str().unwrap_or_default();
        let generated = definition.get("foreach").is_some() || definition.get("do").is_some();
        let body = if generated {
            definition.get("do").unwrap_or(definition)
        } else {
            definition
        };
        let generated = generated || definition.get("matrix").is_some();
        let templates = stage_templates(name, body)?;
        let wdir = body.get("wdir").and_then(Yaml::as_str);

        let instances: Vec<(&str, &Yaml)> = instances_of(&by_name, name, generated)
            .into_iter()
            .map(|i| lock_stages[i])
            .collect();
        // A template lacking a lock entry (in some instance, or with no instance at all) gives
        // one hash-less output per stage, however many instances there are.
        let mut unmatched = vec![instances.is_empty(); templates.len()];
        for (lock_name, lock_stage) in instances {
            let lock_outs = lock_stage
                .get("outs")
                .and_then(Yaml::as_seq)
                .unwrap_or_default();
            for (index, found) in match_outs(&templates, lock_outs).into_iter().enumerate() {
                let Some(out_index) = found else {
                    unmatched[index] = true;
                    continue;
                };
                let entry = &lock_outs[out_index];
                let location = format!("stages -> {lock_name} -> outs -> {out_index}");
                let path = entry.get("path").and_then(Yaml::as_str).unwrap_or_default();
                let output = hash_of(entry, &location).and_then(|(hash, files)| {
                    output(
                        &templates[index],
                        wdir,
                        path,
                        hash,
                        files,
                        lock_name,
                        &location,
                    )
                });
                outputs.extend(output.map_err(|e| FormatError::Lock(Box::new(e)))?);
            }
        }
        let location = format!("stages -> {name}");
        for (template, _) in templates.iter().zip(unmatched).filter(|(_, u)| *u) {
            let output = output(template, wdir, &template.path, None, None, name, &location);
            outputs.extend(output?);
        }
    }
    Ok(outputs)
}

fn load(bytes: &[u8], schema: &Rule) -> Result<Yaml, FormatError> {
    let mut doc = yaml::parse(bytes)?;
    // DVC loads `yaml.load(text) or {}`.
    if doc.is_falsy() {
        doc = Yaml::Map(Vec::new());
    }
    yaml::validate(&doc, schema).map_err(FormatError::Schema)?;
    Ok(doc)
}

/// Positions of the lock stages generated from `stage`: the one named `stage`, or for
/// `foreach`/`matrix` stages all named `stage@…`, in lock file order.
fn instances_of(by_name: &BTreeMap<&str, usize>, stage: &str, generated: bool) -> Vec<usize> {
    if !generated {
        return by_name.get(stage).copied().into_iter().collect();
    }
    let prefix = format!("{stage}@");
    let mut found: Vec<usize> = by_name
        .range(prefix.as_str()..)
        .take_while(|(name, _)| name.starts_with(&prefix))
        .map(|(_, i)| *i)
        .collect();
    found.sort_unstable();
    found
}

/// The output for `template` at `path`; `None` if external. `stage` is the lock stage it was
/// matched in (`train`, `each@x`), or the `dvc.yaml` stage name when it has no lock entry.
fn output(
    template: &Template,
    wdir: Option<&str>,
    path: &str,
    hash: Option<DvcHash>,
    files: Option<Vec<ManifestEntry>>,
    stage: &str,
    location: &str,
) -> Result<Option<DvcOutput>, FormatError> {
    let Some(path) = resolve_path(wdir, path, location)? else {
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
                let path = path.as_str().unwrap_or_default();
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

fn python_type(value: &Yaml) -> &'static str {
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

/// For each template, the index of the lock out it matches. Exact paths claim their entries
/// first; then each templated path takes the first unclaimed entry its pattern matches.
fn match_outs(templates: &[Template], lock_outs: &[Yaml]) -> Vec<Option<usize>> {
    let lock_paths: Vec<&str> = lock_outs
        .iter()
        .map(|o| o.get("path").and_then(Yaml::as_str).unwrap_or_default())
        .collect();
    let mut first_with_path: HashMap<&str, usize> = HashMap::with_capacity(lock_paths.len());
    for (i, path) in lock_paths.iter().enumerate().rev() {
        first_with_path.insert(path, i);
    }
    let mut claimed = vec![false; lock_outs.len()];
    let mut found: Vec<Option<usize>> = vec![None; templates.len()];
    for (t, template) in templates.iter().enumerate() {
        if let Some(&i) = first_with_path.get(template.path.as_str()) {
            found[t] = Some(i);
            claimed[i] = true;
        }
    }
    for (t, template) in templates.iter().enumerate() {
        if found[t].is_some() || !template.path.contains("${") {
            continue;
        }
        let pattern = wildcard_pattern(&template.path);
        if let Some(i) =
            (0..lock_paths.len()).find(|&i| !claimed[i] && matches(&pattern, lock_paths[i]))
        {
            found[t] = Some(i);
            claimed[i] = true;
        }
    }
    found
}

/// The literal pieces of a templated path, split at each `${…}`.
fn wildcard_pattern(template: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        pieces.push(&rest[..start]);
        rest = &rest[start + len + 1..];
    }
    pieces.push(rest);
    pieces
}

/// Whether `text` matches literal `pieces` with anything (maybe nothing) between them. With
/// only "match anything" wildcards, taking each middle piece at its first occurrence is exact.
fn matches(pieces: &[&str], text: &str) -> bool {
    let (first, last) = (pieces[0], pieces[pieces.len() - 1]);
    if pieces.len() == 1 {
        return text == first;
    }
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for piece in &pieces[1..pieces.len() - 1] {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
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

    fn parse(yaml: &str, lock: Option<&str>) -> Vec<DvcOutput> {
        parse_pipeline(yaml.as_bytes(), lock.map(str::as_bytes)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn error(yaml: &str, lock: Option<&str>) -> String {
        parse_pipeline(yaml.as_bytes(), lock.map(str::as_bytes))
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
                // A templated wdir stays literal: the hash is right, the path is not resolved.
                "${item.d}/k_a.txt md5:60b725f10c9c85c70d97880dfe8191b3 cache=true push=true remote=-",
                "${item.d}/k_b.txt md5:3b5d5c3712955042212316173ccf37be cache=true push=true remote=-",
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
        // Without a lock entry, the `dvc.yaml` stage name.
        assert_eq!(
            stages(parse(DVC_YAML, None)),
            ["gen", "gen", "gen", "gen", "gen", "gen", "each", "mat", "insub", "insub", "dictfe"]
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
                "f_${item}.${suffix}",
                "m_${item.n}_${item.p}.txt",
                "sub/s.txt",
                "up.txt",
                "${item.d}/k_${key}.txt",
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
    fn wildcard_matching() {
        let m = |template: &str, text: &str| matches(&wildcard_pattern(template), text);
        assert!(m("f_${item}.${suffix}", "f_x.txt"));
        assert!(m("${a}", ""));
        assert!(m("${a}${b}", "anything/at/all"));
        assert!(m("a${x}a", "aa"));
        assert!(!m("a${x}a", "a"));
        assert!(m("x/${a}/y/${b}.txt", "x/1/y/y/2.txt"));
        assert!(!m("f_${item}.txt", "g_x.txt"));
        assert!(!m("f_${item}.txt", "f_x.csv"));
        // Regex metacharacters are literal.
        assert!(m("a.(b)+${x}", "a.(b)+c"));
        assert!(!m("a.(b)+${x}", "aX(b)+c"));
        // An unterminated `${` is literal text.
        assert!(m("a${b", "a${b"));
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
            parse_pipeline(yaml.as_bytes(), Some(b"\xff")),
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
                "stages:\n  a:\n    cmd: x\n    outs: [\"${x}\"]\n",
                Some("schema: '2.0'\nstages:\n  a:\n    cmd: x\n    outs:\n    - path: \"\\0\"\n")
            ),
            "dvc.lock: invalid path in stages -> a -> outs -> 0: path \"\\0\" contains NUL"
        );
    }
}
