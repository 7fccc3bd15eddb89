//! Bounded YAML loading and DVC-style schema checks, shared by the `.dvc`, `dvc.yaml` and
//! `dvc.lock` parsers.
//!
//! Files come from any revision of any repository, so loading is defensive:
//!
//! * input larger than a caller-given cap is refused before parsing;
//! * bytes must be UTF-8, as DVC opens these files with `encoding="utf-8"`;
//! * nesting deeper than [`MAX_DEPTH`] is refused (serde_yaml_ng alone allows 128). Flow
//!   nesting (`[[[…` or `{a: {a: …`) is also estimated before parsing, because libyaml's
//!   scanner does work proportional to the flow depth for every token: 400 kB of `{a: ` took
//!   about 40 s in a release build, growing quadratically;
//! * alias expansion is bounded by a node budget proportional to the input size, which stops
//!   "billion laughs" documents long before serde_yaml_ng's own repetition limit (100 × the
//!   event count, far too generous for a 16 MiB input);
//! * duplicate mapping keys are an error, as in ruamel (DVC's parser); merge keys (`<<`) are
//!   applied, as ruamel's safe loader does;
//! * tags DVC's safe loader refuses (`!foo`, `!!python/…`) are errors, and so are the
//!   non-string core types (`!!binary`, `!!set`, …) it would load as other Python types
//!   ([`super::yaml_tags`]);
//! * a leading UTF-8 byte-order mark is skipped, as DVC does.
//!
//! Time is linear in the input once these checks pass. Memory is not small: serde_yaml_ng
//! holds every event of the document, so peak use is about 20× the input for block-style
//! files and up to about 100× for flow lists of one-letter scalars (1.5 GB for 16 MiB of
//! `[a,a,…]`). Choose the cap with that in mind.
//!
//! Values load into [`Yaml`] rather than `serde_yaml_ng::Value` because DVC's checksums may be
//! written as unquoted integers: a 32-digit decimal md5 exceeds `u64`, which `Value` cannot hold
//! (it fails on `u128`), and going through `f64` would mangle the digits. [`Yaml::Int`] keeps the
//! exact decimal text. Scalars written with leading zeros (`0123…`) stay strings, as YAML 1.2
//! and serde_yaml_ng resolve them.
//!
//! The second half of the module is a small re-implementation of the parts of `voluptuous` that
//! DVC's schemas use ([`Rule`], [`validate`]), so that error messages read like DVC's:
//! `extra keys not allowed, in outs -> 0 -> metric`.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::hash::InvalidObjectId;

/// Deepest nesting of sequences and mappings accepted. DVC files need fewer than ten levels.
pub const MAX_DEPTH: usize = 64;
/// Nodes allowed on top of one per input byte, for legitimate alias use. An alias-free document
/// has at most about one node per byte, so only alias expansion can reach the budget.
const ALIAS_NODE_SLACK: usize = 100_000;

/// A loaded YAML value. Mappings keep document order, which error messages follow.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    /// An integer scalar, as exact decimal text (`0x1f` becomes `31`, like Python's `str(int)`).
    Int(String),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(Yaml, Yaml)>),
}

impl Yaml {
    /// Looks a string key up in a mapping; `None` for a missing key or a non-mapping.
    pub fn get(&self, key: &str) -> Option<&Yaml> {
        match self {
            Yaml::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Yaml::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Yaml::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Yaml]> {
        match self {
            Yaml::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&[(Yaml, Yaml)]> {
        match self {
            Yaml::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Python truthiness. DVC loads files with `yaml.load(text) or {}`, so a falsy document
    /// (empty, `null`, `[]`, `0`, `''`, …) counts as an empty mapping.
    pub fn is_falsy(&self) -> bool {
        match self {
            Yaml::Null => true,
            Yaml::Bool(b) => !b,
            Yaml::Int(s) => s == "0",
            Yaml::Float(f) => *f == 0.0,
            Yaml::Str(s) => s.is_empty(),
            Yaml::Seq(items) => items.is_empty(),
            Yaml::Map(entries) => entries.is_empty(),
        }
    }
}

/// Why a document could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlError {
    #[error("file is {size} bytes, more than the {limit}-byte limit for DVC files (git config dvc.maxFileSize)")]
    TooLarge { size: usize, limit: usize },
    #[error("file is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("YAML nesting is deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("YAML document expands to more than {limit} nodes (alias bomb?)")]
    TooManyNodes { limit: usize },
    #[error("YAML file holds more than one document")]
    MultipleDocuments,
    /// DVC's loader refuses the tag too ([`super::yaml_tags`]).
    #[error("YAML tag '{tag}' at line {line} is not allowed (DVC cannot load it either)")]
    Tag { tag: String, line: u64 },
    #[error("invalid YAML: {0}")]
    Syntax(String),
}

/// Loads a single YAML document of at most `max_bytes` bytes (for DVC files,
/// `dvc.maxFileSize`: [`crate::limits::Limits::dvc_file`]). An empty document (or one
/// holding only comments) loads as [`Yaml::Null`].
pub fn parse(bytes: &[u8], max_bytes: usize) -> Result<Yaml, YamlError> {
    if bytes.len() > max_bytes {
        return Err(YamlError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| YamlError::NotUtf8 {
        offset: e.valid_up_to(),
    })?;
    // A leading byte-order mark is read by DVC's YAML reader (ruamel) as part of no document;
    // libyaml here would start a second document after it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if flow_nesting_exceeds(text.as_bytes(), MAX_DEPTH) {
        return Err(YamlError::TooDeep);
    }
    load(text)
}

/// Parses one document with the node budget and depth limit, without the pre-scan.
fn load(text: &str) -> Result<Yaml, YamlError> {
    let limit = text.len().saturating_add(ALIAS_NODE_SLACK);
    let budget = Budget {
        nodes_left: Cell::new(limit),
        limit,
        failure: Cell::new(None),
    };
    let mut documents = serde_yaml_ng::Deserializer::from_str(text);
    let Some(document) = documents.next() else {
        return Ok(Yaml::Null);
    };
    let value = NodeSeed {
        budget: &budget,
        depth: 0,
    }
    .deserialize(document)
    // Our own limit errors travel through serde as strings; report the typed cause instead.
    .map_err(|e| {
        budget
            .failure
            .take()
            .unwrap_or(YamlError::Syntax(e.to_string()))
    })?;
    if documents.next().is_some() {
        return Err(YamlError::MultipleDocuments);
    }
    // Only now: the document is known to be bounded, and a local tag (`!foo`) has already
    // failed the load above with the position serde_yaml_ng gives. Every tag starts with
    // `!`: a document without one has none (most DVC files), and needs no second pass.
    let refused = match text.contains('!') {
        true => super::yaml_tags::first_refused_tag(text),
        false => None,
    };
    if let Some(refused) = refused {
        return Err(YamlError::Tag {
            tag: refused.tag.chars().take(100).collect(),
            line: refused.line,
        });
    }
    Ok(value)
}

/// Whether flow collections (`[…]`, `{…}`) may nest deeper than `limit`, estimated by a
/// small scan that follows libyaml's tokenisation where it decides what a bracket is.
///
/// Inside flow collections it is close to exact: brackets always count there, except in
/// comments and in quoted scalars, which (like libyaml) it recognises only where a token may
/// start, not inside plain scalars. In block context it is approximate: a bracket counts where
/// a node may start (line start, after `- `, `? `, `: `, `---` or a property). It does not
/// track block scalars or multi-line scalars, so text in those can look like flow syntax;
/// that errs towards counting too much. A crafted document could still hide flow collections
/// from it behind a multi-line scalar, so this is a guard against plain nesting bombs, not a
/// YAML parser.
fn flow_nesting_exceeds(text: &[u8], limit: usize) -> bool {
    let is_blank = |c: u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let blank_or_end = |i: usize| text.get(i).is_none_or(|c| is_blank(*c));
    let skip_while = |i: usize, keep: &dyn Fn(u8) -> bool| {
        text[i..]
            .iter()
            .position(|c| !keep(*c))
            .map_or(text.len(), |p| i + p)
    };
    let line_end = |c: u8| c != b'\n' && c != b'\r';
    // libyaml: anchor and alias names are `[0-9A-Za-z_-]`; tags end at a blank (or `,`).
    let name_char = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
    let tag_char = |c: u8| !is_blank(c) && !b",[]{}".contains(&c);

    let mut depth = 0usize;
    // Block context: whether a node (so a flow collection) may start here.
    let mut node_start = true;
    // Flow context: whether we are inside a plain scalar (else at a token start).
    let mut in_plain = false;
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        let after_blank = i == 0 || is_blank(text[i - 1]);
        if depth == 0 {
            let line_start = i == 0 || matches!(text[i - 1], b'\n' | b'\r');
            match c {
                b'\n' | b'\r' => node_start = true,
                b' ' | b'\t' => {}
                b'#' if node_start || after_blank => {
                    i = skip_while(i, &line_end);
                    continue;
                }
                b'-' | b'.'
                    if line_start && text[i..].starts_with(&[c; 3]) && blank_or_end(i + 3) =>
                {
                    node_start = true;
                    i += 3;
                    continue;
                }
                b'-' | b'?' | b':' if blank_or_end(i + 1) && (node_start || c == b':') => {
                    node_start = true;
                }
                b'&' if node_start => {
                    i = skip_while(i + 1, &name_char);
                    continue;
                }
                b'!' if node_start => {
                    i = skip_while(i + 1, &tag_char);
                    continue;
                }
                b'[' | b'{' if node_start => {
                    depth = 1;
                    in_plain = false;
                    if depth > limit {
                        return true;
                    }
                }
                _ => node_start = false,
            }
            i += 1;
            continue;
        }
        match c {
            b'[' | b'{' => {
                depth += 1;
                in_plain = false;
                if depth > limit {
                    return true;
                }
            }
            b']' | b'}' => {
                depth -= 1;
                in_plain = false;
                node_start = false;
            }
            b',' => in_plain = false,
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'#' if !in_plain || after_blank => {
                in_plain = false;
                i = skip_while(i, &line_end);
                continue;
            }
            // At a token start `?` and `:` are always indicators in flow context; inside a
            // plain scalar only `: ` ends it.
            b'?' if !in_plain => {}
            b':' if !in_plain || blank_or_end(i + 1) => in_plain = false,
            b'\'' | b'"' if !in_plain => {
                i = skip_quoted(text, i);
                continue;
            }
            b'&' | b'*' if !in_plain => {
                i = skip_while(i + 1, &name_char);
                continue;
            }
            b'!' if !in_plain => {
                i = skip_while(i + 1, &tag_char);
                continue;
            }
            _ => in_plain = true,
        }
        i += 1;
    }
    depth > limit
}

/// The index after the quoted scalar starting at `start` (or the end of text if unterminated).
fn skip_quoted(text: &[u8], start: usize) -> usize {
    let quote = text[start];
    let mut i = start + 1;
    while i < text.len() {
        match text[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && text.get(i + 1) == Some(&b'\'') => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

struct Budget {
    nodes_left: Cell<usize>,
    limit: usize,
    failure: Cell<Option<YamlError>>,
}

impl Budget {
    fn fail<E: de::Error>(&self, err: YamlError) -> E {
        let message = err.to_string();
        self.failure.set(Some(err));
        E::custom(message)
    }

    fn take_node<E: de::Error>(&self) -> Result<(), E> {
        match self.nodes_left.get().checked_sub(1) {
            Some(left) => {
                self.nodes_left.set(left);
                Ok(())
            }
            None => Err(self.fail(YamlError::TooManyNodes { limit: self.limit })),
        }
    }
}

#[derive(Clone, Copy)]
struct NodeSeed<'b> {
    budget: &'b Budget,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed<'_> {
    type Value = Yaml;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Yaml, D::Error> {
        self.budget.take_node()?;
        deserializer.deserialize_any(self)
    }
}

impl NodeSeed<'_> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.budget.fail(YamlError::TooDeep));
        }
        Ok(NodeSeed {
            budget: self.budget,
            depth: self.depth + 1,
        })
    }
}

impl<'de> Visitor<'de> for NodeSeed<'_> {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a plain YAML value (custom tags are not supported)")
    }

    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v.to_string()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v.to_string()))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Yaml, E> {
        Ok(Yaml::Int(v.to_string()))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Yaml, E> {
        Ok(Yaml::Int(v.to_string()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Yaml::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let inner = self.nested()?;
        let mut entries: Vec<(Yaml, Yaml)> = Vec::new();
        let mut seen = KeySet::default();
        let mut merges = Vec::new();
        while let Some(key) = map.next_key_seed(inner)? {
            let value = map.next_value_seed(inner)?;
            // A quoted '<<' is indistinguishable here; it merges too.
            if matches!(&key, Yaml::Str(k) if k == "<<") {
                merges.push(value);
                continue;
            }
            if !seen.insert(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate mapping key {}",
                    describe_key(&key)
                )));
            }
            entries.push((key, value));
        }
        for merge in merges {
            apply_merge(&mut entries, &mut seen, merge).map_err(de::Error::custom)?;
        }
        Ok(Yaml::Map(entries))
    }
}

/// The keys of one mapping, for duplicate detection in linear time: scalars are hashed,
/// collection keys (rare) compared one by one.
#[derive(Default)]
struct KeySet {
    scalars: HashSet<ScalarKey>,
    collections: Vec<Yaml>,
}

#[derive(PartialEq, Eq, Hash)]
enum ScalarKey {
    Null,
    Bool(bool),
    Int(String),
    Float(u64),
    Str(String),
}

impl KeySet {
    /// Records `key`; `false` if it was already there.
    fn insert(&mut self, key: &Yaml) -> bool {
        let scalar = match key {
            Yaml::Null => ScalarKey::Null,
            Yaml::Bool(b) => ScalarKey::Bool(*b),
            Yaml::Int(s) => ScalarKey::Int(s.clone()),
            // `+ 0.0` folds -0.0 into 0.0, which compare equal.
            Yaml::Float(f) => ScalarKey::Float((f + 0.0).to_bits()),
            Yaml::Str(s) => ScalarKey::Str(s.clone()),
            Yaml::Seq(_) | Yaml::Map(_) => {
                if self.collections.contains(key) {
                    return false;
                }
                self.collections.push(key.clone());
                return true;
            }
        };
        self.scalars.insert(scalar)
    }
}

/// YAML merge keys: keys written in the mapping win, then earlier merged mappings.
fn apply_merge(
    entries: &mut Vec<(Yaml, Yaml)>,
    seen: &mut KeySet,
    merge: Yaml,
) -> Result<(), &'static str> {
    let sources = match merge {
        Yaml::Map(m) => vec![m],
        Yaml::Seq(items) => items
            .into_iter()
            .map(|item| match item {
                Yaml::Map(m) => Ok(m),
                _ => Err("expected a mapping for merging"),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("expected a mapping or list of mappings for merging"),
    };
    for source in sources {
        for (key, value) in source {
            if seen.insert(&key) {
                entries.push((key, value));
            }
        }
    }
    Ok(())
}

/// A key as it appears in messages, like Python's `str()` of it.
fn describe_key(key: &Yaml) -> String {
    match key {
        Yaml::Null => "None".into(),
        Yaml::Bool(true) => "True".into(),
        Yaml::Bool(false) => "False".into(),
        Yaml::Int(s) | Yaml::Str(s) => s.clone(),
        Yaml::Float(f) => f.to_string(),
        Yaml::Seq(_) => "[…]".into(),
        Yaml::Map(_) => "{…}".into(),
    }
}

// ----------------------------------------------------------------------------------------------
// Errors shared by the `.dvc` and pipeline parsers.

/// Why a `.dvc`, `dvc.yaml` or `dvc.lock` file was rejected. The message is meant to be printed
/// after `path@revision: ` by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The file does not match DVC's schema; DVC refuses it with the same messages.
    #[error("validation failed: {0}")]
    Schema(SchemaErrors),
    #[error("invalid hash in {location}: {source}")]
    Hash {
        location: String,
        source: InvalidObjectId,
    },
    #[error("invalid path in {location}: {reason}")]
    Path { location: String, reason: String },
    /// A value the schema allows but DVC then refuses to load.
    #[error("{message}, in {location}")]
    Value { location: String, message: String },
    /// `dvc.yaml` templating failed (DVC's `ResolveError`), with DVC's message.
    #[error("{0}")]
    Template(String),
    /// An error in the `dvc.lock` next to the `dvc.yaml` being parsed.
    #[error("dvc.lock: {0}")]
    Lock(Box<FormatError>),
}

/// One schema violation, as voluptuous reports it: a message and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaIssue {
    pub message: String,
    pub path: Vec<String>,
}

impl fmt::Display for SchemaIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if !self.path.is_empty() {
            write!(f, ", in {}", self.path.join(" -> "))?;
        }
        Ok(())
    }
}

/// All violations found, in document order (required keys after the keys present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaErrors(pub Vec<SchemaIssue>);

impl fmt::Display for SchemaErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 10;
        if self.0.len() > 1 {
            write!(f, "{} errors: ", self.0.len())?;
        }
        for (i, issue) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{issue}")?;
        }
        if self.0.len() > SHOWN {
            write!(f, "; …")?;
        }
        Ok(())
    }
}

// ----------------------------------------------------------------------------------------------
// A voluptuous subset.

/// A schema node, mirroring the voluptuous constructs DVC's `schema.py` uses.
pub enum Rule {
    /// `object`: anything.
    Any,
    /// `str`.
    Str,
    /// `bool`.
    Bool,
    /// `int` (Python's `bool` is an `int`, so booleans pass too).
    Int,
    /// The `dict` type: any mapping, contents unchecked.
    Dict,
    /// `None` as a literal.
    Null,
    /// `[rule]`: a list whose items each match `rule`.
    List(&'static Rule),
    /// The `list` type: any list, contents unchecked.
    ListType,
    /// A mapping schema `{key: rule, …}`.
    Map(&'static MapRule),
    /// `vol.Any(a, b, …)`: the first alternative that matches.
    OneOf(&'static [&'static Rule]),
    /// `vol.All(rule, vol.Length(max=1))`.
    AtMostOne(&'static Rule),
    /// `vol.Equal(value, msg=message)`.
    Equal(&'static str, &'static str),
    /// DVC's `CHECKSUM_SCHEMA`: `None`, `''`, or a str/int of at least 3 characters.
    Checksum,
    /// DVC's `either_or(primary, fallback, keys)`: `fallback` for a mapping holding any of
    /// `keys`, else `primary`.
    EitherOr(&'static Rule, &'static Rule, &'static [&'static str]),
}

/// A mapping schema: named fields, optionally any other string key (`{str: rule}`). Fields
/// come in groups so that shared pieces can be spliced in, like Python's `{**A, **B}`.
pub struct MapRule {
    pub fields: &'static [&'static [Field]],
    pub other_str_keys: Option<&'static Rule>,
}

impl MapRule {
    fn fields(&self) -> impl Iterator<Item = &'static Field> {
        self.fields.iter().flat_map(|group| group.iter())
    }
}

pub struct Field {
    pub key: &'static str,
    pub required: bool,
    pub rule: &'static Rule,
}

impl Field {
    pub const fn opt(key: &'static str, rule: &'static Rule) -> Field {
        Field {
            key,
            required: false,
            rule,
        }
    }

    pub const fn req(key: &'static str, rule: &'static Rule) -> Field {
        Field {
            key,
            required: true,
            rule,
        }
    }
}

/// Checks `value` against `rule`, collecting every violation like voluptuous does.
pub fn validate(value: &Yaml, rule: &Rule) -> Result<(), SchemaErrors> {
    let mut issues = Vec::new();
    check(value, rule, &mut Vec::new(), &mut issues);
    if issues.is_empty() {
        Ok(())
    } else {
        Err(SchemaErrors(issues))
    }
}

fn issue(path: &[String], message: &str) -> SchemaIssue {
    SchemaIssue {
        message: message.to_owned(),
        path: path.to_vec(),
    }
}

fn check(value: &Yaml, rule: &Rule, path: &mut Vec<String>, out: &mut Vec<SchemaIssue>) {
    let type_error = |expected: &str| issue(path, &format!("expected {expected}"));
    match rule {
        Rule::Any => {}
        Rule::Str if !matches!(value, Yaml::Str(_)) => out.push(type_error("str")),
        Rule::Bool if !matches!(value, Yaml::Bool(_)) => out.push(type_error("bool")),
        Rule::Int if !matches!(value, Yaml::Int(_) | Yaml::Bool(_)) => out.push(type_error("int")),
        Rule::Dict if !matches!(value, Yaml::Map(_)) => out.push(type_error("dict")),
        Rule::ListType if !matches!(value, Yaml::Seq(_)) => out.push(type_error("list")),
        Rule::Null if *value != Yaml::Null => out.push(issue(path, "not a valid value")),
        Rule::Str | Rule::Bool | Rule::Int | Rule::Dict | Rule::ListType | Rule::Null => {}
        Rule::Checksum => {
            let ok = match value {
                Yaml::Null => true,
                Yaml::Str(s) => s.is_empty() || s.chars().count() >= 3,
                Yaml::Int(digits) => digits.len() >= 3,
                _ => false,
            };
            if !ok {
                out.push(issue(path, "not a valid value"));
            }
        }
        Rule::Equal(expected, message) => {
            if value.as_str() != Some(*expected) {
                out.push(issue(path, message));
            }
        }
        Rule::AtMostOne(inner) => {
            let before = out.len();
            check(value, inner, path, out);
            let too_long = match value {
                Yaml::Map(m) => m.len() > 1,
                Yaml::Seq(s) => s.len() > 1,
                _ => false,
            };
            if out.len() == before && too_long {
                out.push(issue(path, "length of value must be at most 1"));
            }
        }
        Rule::OneOf(alternatives) => check_one_of(value, alternatives, path, out),
        Rule::EitherOr(primary, fallback, keys) => {
            let use_fallback = keys.iter().any(|k| value.get(k).is_some());
            check(
                value,
                if use_fallback { fallback } else { primary },
                path,
                out,
            )
        }
        Rule::List(item_rule) => check_list(value, item_rule, path, out),
        Rule::Map(map_rule) => check_map(value, map_rule, path, out),
    }
}

/// `vol.Any`: on failure, re-raise the errors of the alternative whose first error is deepest
/// (the first such alternative on ties), as voluptuous does.
fn check_one_of(
    value: &Yaml,
    alternatives: &[&Rule],
    path: &mut Vec<String>,
    out: &mut Vec<SchemaIssue>,
) {
    let mut best: Option<Vec<SchemaIssue>> = None;
    for alternative in alternatives {
        let mut issues = Vec::new();
        check(value, alternative, path, &mut issues);
        let Some(first) = issues.first() else {
            return;
        };
        if best
            .as_ref()
            .is_none_or(|b| first.path.len() > b[0].path.len())
        {
            best = Some(issues);
        }
    }
    out.extend(best.into_iter().flatten());
}

/// voluptuous validates list items in order; an error from inside an item stops the list.
fn check_list(value: &Yaml, item_rule: &Rule, path: &mut Vec<String>, out: &mut Vec<SchemaIssue>) {
    let Yaml::Seq(items) = value else {
        out.push(issue(path, "expected a list"));
        return;
    };
    for (index, item) in items.iter().enumerate() {
        path.push(index.to_string());
        let before = out.len();
        check(item, item_rule, path, out);
        let deeper = out.get(before).is_some_and(|e| e.path.len() > path.len());
        path.pop();
        if deeper {
            return;
        }
    }
}

fn check_map(value: &Yaml, rule: &MapRule, path: &mut Vec<String>, out: &mut Vec<SchemaIssue>) {
    let Yaml::Map(entries) = value else {
        out.push(issue(path, "expected a dictionary"));
        return;
    };
    for (key, item) in entries {
        path.push(describe_key(key));
        let field = key
            .as_str()
            .and_then(|k| rule.fields().find(|f| f.key == k));
        match (field, rule.other_str_keys) {
            (Some(field), _) => check(item, field.rule, path, out),
            (None, Some(other)) if key.as_str().is_some() => check(item, other, path, out),
            _ => out.push(issue(path, "extra keys not allowed")),
        }
        path.pop();
    }
    for field in rule.fields().filter(|f| f.required) {
        if value.get(field.key).is_none() {
            path.push(field.key.to_owned());
            out.push(issue(path, "required key not provided"));
            path.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A document under the default DVC-file cap.
    fn parse(bytes: &[u8]) -> Result<Yaml, YamlError> {
        super::parse(bytes, crate::limits::DEFAULT_MAX_FILE_SIZE)
    }

    #[test]
    fn loads_scalars_with_yaml_1_2_typing() {
        let doc = parse(
            b"a: 12345678901234567890123456789012\nb: 01234567890123456789012345678901\n\
              c: '99'\nd: yes\ne: true\nf: 1.5\ng: ~\nh: 0x1F\ni: -7\n",
        )
        .unwrap();
        let get = |k| doc.get(k).unwrap().clone();
        // 32 digits exceed u64: kept exactly, never through f64.
        assert_eq!(
            get("a"),
            Yaml::Int("12345678901234567890123456789012".into())
        );
        // A leading zero makes it a string in YAML 1.2: the digits survive as written.
        assert_eq!(
            get("b"),
            Yaml::Str("01234567890123456789012345678901".into())
        );
        assert_eq!(get("c"), Yaml::Str("99".into()));
        assert_eq!(get("d"), Yaml::Str("yes".into()));
        assert_eq!(get("e"), Yaml::Bool(true));
        assert_eq!(get("f"), Yaml::Float(1.5));
        assert_eq!(get("g"), Yaml::Null);
        assert_eq!(get("h"), Yaml::Int("31".into()));
        assert_eq!(get("i"), Yaml::Int("-7".into()));
    }

    #[test]
    fn empty_and_comment_only_documents_are_null() {
        assert_eq!(parse(b"").unwrap(), Yaml::Null);
        assert_eq!(parse(b"# nothing\n").unwrap(), Yaml::Null);
        assert_eq!(parse(b"---\n").unwrap(), Yaml::Null);
        assert!(parse(b"[]").unwrap().is_falsy());
    }

    #[test]
    fn refuses_oversized_input() {
        assert_eq!(
            super::parse(b"a: 1\n", 4),
            Err(YamlError::TooLarge { size: 5, limit: 4 })
        );
        assert!(super::parse(b"a: 1\n", 5).is_ok());
    }

    #[test]
    fn refuses_invalid_utf8() {
        assert_eq!(parse(b"a: \xff\n"), Err(YamlError::NotUtf8 { offset: 3 }));
        // UTF-16 with a BOM is not UTF-8 either; DVC would fail to decode it too.
        assert!(matches!(
            parse(b"\xff\xfea\x00"),
            Err(YamlError::NotUtf8 { .. })
        ));
    }

    #[test]
    fn refuses_deep_nesting() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(ok.as_bytes()).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(deep.as_bytes()), Err(YamlError::TooDeep));
        let very_deep = "[".repeat(100_000);
        assert!(parse(very_deep.as_bytes()).is_err());
    }

    #[test]
    fn refuses_deep_flow_nesting_before_parsing() {
        // Quadratic in libyaml: this must be refused by the pre-scan, quickly.
        let maps = "{a: ".repeat(1_000_000);
        let started = std::time::Instant::now();
        assert_eq!(parse(maps.as_bytes()), Err(YamlError::TooDeep));
        assert!(started.elapsed().as_secs() < 5);
        let deep = |open: &str, close: &str, n: usize| {
            format!("k: {}{}\n", open.repeat(n), close.repeat(n))
        };
        assert!(flow_nesting_exceeds(deep("[", "]", 65).as_bytes(), 64));
        assert!(!flow_nesting_exceeds(deep("[", "]", 64).as_bytes(), 64));
        assert!(flow_nesting_exceeds(deep("{a: ", "}", 65).as_bytes(), 64));
        assert!(flow_nesting_exceeds(
            format!("--- {}", "[".repeat(65)).as_bytes(),
            64
        ));
        assert!(flow_nesting_exceeds(
            format!("- &a !t {}", "[".repeat(65)).as_bytes(),
            64
        ));
        // Quoted closers inside flow collections do not close anything.
        let quoted = format!("k: {}", "[\"]\", ']', '\\\"]', ".repeat(65));
        assert!(flow_nesting_exceeds(quoted.as_bytes(), 64));
        // A quote inside a plain scalar does not start a quoted scalar, even across lines.
        let plain = format!("k: [a'b\n {}", "[".repeat(65));
        assert!(flow_nesting_exceeds(plain.as_bytes(), 64));
        // `?` at a token start is an indicator, so the quote after it is a real one.
        let key = format!("k: [? ']]]]', {}", "[".repeat(65));
        assert!(flow_nesting_exceeds(key.as_bytes(), 64));
        // Anchors end at the first character outside `[0-9A-Za-z_-]`.
        let anchor = format!("k: [[&a], {}", "[".repeat(64));
        assert!(flow_nesting_exceeds(anchor.as_bytes(), 64));
        let alias = format!("k: [*a, &b {}", "[".repeat(65));
        assert!(flow_nesting_exceeds(alias.as_bytes(), 64));
    }

    fn depth(value: &Yaml) -> usize {
        match value {
            Yaml::Seq(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
            Yaml::Map(entries) => {
                1 + entries
                    .iter()
                    .map(|(k, v)| depth(k).max(depth(v)))
                    .max()
                    .unwrap_or(0)
            }
            _ => 0,
        }
    }

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: usize) -> usize {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) as usize % n
        }
    }

    /// A random valid flow node, with separators and scalars chosen to trip a naive scanner.
    fn flow_node(rng: &mut Lcg, depth: usize, out: &mut String) {
        const SEPARATORS: [&str; 6] = [" ", "", "\n  ", " # ]]} '\"\n  ", "\t", "\n\n   "];
        const SCALARS: [&str; 12] = [
            "a",
            "\"]\"",
            "'['",
            "a'b",
            "\"\\\"]\"",
            "'it''s]'",
            "x:y",
            "-a",
            "&n a",
            "!t b",
            "'multi\n  line ]'",
            "a #b",
        ];
        let sep = |rng: &mut Lcg, out: &mut String| out.push_str(SEPARATORS[rng.next(6)]);
        let kind = if depth > 6 { 0 } else { rng.next(3) };
        match kind {
            0 => {
                let scalar = SCALARS[rng.next(SCALARS.len())];
                out.push_str(scalar);
                if scalar.ends_with("#b") {
                    out.push('\n');
                }
            }
            _ => {
                let (open, close) = if kind == 1 { ('[', ']') } else { ('{', '}') };
                out.push(open);
                for i in 0..rng.next(4) {
                    if i > 0 {
                        out.push(',');
                    }
                    sep(rng, out);
                    if kind == 2 {
                        out.push_str(["k", "\"k\"", "'k'"][rng.next(3)]);
                        out.push_str([": ", ":"][rng.next(2)]);
                        if out.ends_with("k:") {
                            out.push(' ');
                        }
                    }
                    flow_node(rng, depth + 1, out);
                    sep(rng, out);
                }
                out.push(close);
            }
        }
    }

    /// Whenever libyaml accepts a document, the pre-scan must not have estimated a shallower
    /// flow nesting than the real one.
    #[test]
    fn flow_prescan_never_underestimates() {
        let mut rng = Lcg(0x2545_f491_4f6c_dd1d);
        let mut accepted = 0;
        let mut deepest = 0;
        let runs = 20_000;
        for _ in 0..runs {
            let mut text = String::from("k: ");
            flow_node(&mut rng, 0, &mut text);
            text.push('\n');
            let Ok(value) = load(&text) else { continue };
            accepted += 1;
            // Nesting below the top-level mapping is all flow here.
            let flow_depth = depth(&value).saturating_sub(1);
            deepest = deepest.max(flow_depth);
            if flow_depth > 0 {
                assert!(
                    flow_nesting_exceeds(text.as_bytes(), flow_depth - 1),
                    "{text:?}"
                );
            }
        }
        assert!(accepted > runs / 2 && deepest >= 6, "{accepted} {deepest}");
    }

    #[test]
    fn flow_prescan_ignores_brackets_that_are_text() {
        let many = "[".repeat(100);
        for text in [
            format!("cmd: echo {many}\n"),
            format!("cmd: \"{many}\"\n"),
            format!("# {many}\nk: v # {many}\n"),
            format!("k: [\"{many}\", '{many}', \"a'b\"]\n"),
            format!("k: [a, b] # {many}\n"),
            format!("k: a:b{many}\n"),
            format!("k: -{many}\n"),
        ] {
            assert!(!flow_nesting_exceeds(text.as_bytes(), 64), "{text}");
            assert!(parse(text.as_bytes()).is_ok(), "{text}");
        }
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped() {
        assert_eq!(
            parse(b"\xef\xbb\xbfa: 1\n").unwrap(),
            Yaml::Map(vec![(Yaml::Str("a".into()), Yaml::Int("1".into()))])
        );
        assert_eq!(parse(b"\xef\xbb\xbf").unwrap(), Yaml::Null);
    }

    #[test]
    fn refuses_tags_dvc_refuses_on_any_node() {
        for (text, tag) in [
            (
                "a: !!python/object:os.system {x: 1}\n",
                "!!python/object:os.system",
            ),
            (
                "a: !!python/object/apply:os.system [ls]\n",
                "!!python/object/apply:os.system",
            ),
            ("a: !!python/name:os.system\n", "!!python/name:os.system"),
        ] {
            assert_eq!(
                parse(text.as_bytes()),
                Err(YamlError::Tag {
                    tag: tag.into(),
                    line: 1
                }),
                "{text}"
            );
        }
        assert!(parse(b"a: !foo {x: 1}\n").is_err());
        assert_eq!(
            parse(b"a: !!str 1\n").unwrap(),
            Yaml::Map(vec![(Yaml::Str("a".into()), Yaml::Str("1".into()))])
        );
    }

    #[test]
    fn refuses_alias_bombs() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            doc.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
        }
        assert!(matches!(
            parse(doc.as_bytes()),
            Err(YamlError::TooManyNodes { .. })
        ));
    }

    #[test]
    fn small_alias_use_is_fine_and_merge_keys_apply() {
        let doc =
            parse(b"base: &b {cache: false, push: true}\nout: {<<: *b, push: false}\n").unwrap();
        let out = doc.get("out").unwrap();
        assert_eq!(out.get("cache"), Some(&Yaml::Bool(false)));
        assert_eq!(out.get("push"), Some(&Yaml::Bool(false)));
    }

    #[test]
    fn refuses_duplicate_keys_and_multiple_documents() {
        let dup = parse(b"a: 1\na: 2\n").unwrap_err();
        assert!(dup.to_string().contains("duplicate mapping key a"), "{dup}");
        assert_eq!(
            parse(b"a: 1\n---\nb: 2\n"),
            Err(YamlError::MultipleDocuments)
        );
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse(b"a: b: c\n").unwrap_err();
        assert!(
            matches!(err, YamlError::Syntax(ref m) if m.contains("line 1")),
            "{err}"
        );
    }

    static INNER: MapRule = MapRule {
        fields: &[
            &[Field::req("path", &Rule::Str)],
            &[Field::opt("cache", &Rule::Bool)],
        ],
        other_str_keys: None,
    };
    static OUTER: Rule = Rule::Map(&MapRule {
        fields: &[&[
            Field::opt("outs", &Rule::List(&Rule::Map(&INNER))),
            Field::opt("wdir", &Rule::OneOf(&[&Rule::Str, &Rule::Null])),
        ]],
        other_str_keys: None,
    });

    fn messages(doc: &str) -> Vec<String> {
        match validate(&parse(doc.as_bytes()).unwrap(), &OUTER) {
            Ok(()) => vec![],
            Err(errors) => errors.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn schema_messages_follow_voluptuous() {
        assert_eq!(
            messages("outs: [{path: a}]\nwdir: null\n"),
            Vec::<String>::new()
        );
        assert_eq!(messages("cmd: x\n"), ["extra keys not allowed, in cmd"]);
        assert_eq!(
            messages("outs:\n- path: 5\n  cache: yes\n  metric: false\n- path: [b]\n"),
            [
                "expected str, in outs -> 0 -> path",
                "expected bool, in outs -> 0 -> cache",
                "extra keys not allowed, in outs -> 0 -> metric",
            ]
        );
        assert_eq!(
            messages("outs: [x, {cache: true}]\n"),
            [
                "expected a dictionary, in outs -> 0",
                "required key not provided, in outs -> 1 -> path"
            ]
        );
        assert_eq!(messages("wdir: 3\n"), ["expected str, in wdir"]);
        assert_eq!(messages("- a\n"), ["expected a dictionary"]);
        assert_eq!(messages("1: 2\n"), ["extra keys not allowed, in 1"]);
    }

    #[test]
    fn schema_errors_display() {
        let errors = SchemaErrors(vec![
            issue(&["cmd".into()], "extra keys not allowed"),
            issue(&["outs".into(), "0".into()], "expected a dictionary"),
        ]);
        assert_eq!(
            errors.to_string(),
            "2 errors: extra keys not allowed, in cmd; expected a dictionary, in outs -> 0"
        );
        let err = FormatError::Schema(SchemaErrors(vec![issue(
            &["cmd".into()],
            "extra keys not allowed",
        )]));
        assert_eq!(
            err.to_string(),
            "validation failed: extra keys not allowed, in cmd"
        );
    }
}
