//! Reader for the part of the ConfigObj 5 syntax that DVC config files use.
//!
//! DVC loads each config file with Python's `configobj` (`ConfigObj(fobj).dict()`).
//! ConfigObj's line syntax is defined by a few regular expressions with surprising
//! corners, for example:
//!
//! * a `#` anywhere in an unquoted value starts a comment (`pass = a#b` is `a`);
//! * an unquoted value with a comma is a list (`type = reflink,copy`), `key = ,` is an
//!   empty list and `key = a,` a one-item list;
//! * quotes are removed only when a value is entirely quoted, with no escapes
//!   (`'a"b'` is `a"b`, `x'y` stays `x'y`), and a quoted string stretches over inner
//!   quotes when that is the only way the line parses;
//! * `%(name)s` in a value is replaced by the value of `name` from the same section or
//!   the top level (ConfigParser-style interpolation, on by default). A missing name
//!   is an error, and DVC itself then fails with "missing option".
//!
//! Rather than re-deriving those rules, this module copies configobj's regexes
//! (`_keyword`, `_sectionmarker`, `_valueexp`, `_listvalueexp`, the triple-quote ones and
//! the interpolation `_KEYCRE`) and matches them with a small backtracking matcher.
//! It tries alternatives and repetitions in the same order as Python's `re`, so
//! every line splits the way configobj splits it.
//!
//! Supported: `[section]` headers with configobj's quoting (`['remote "r"']`,
//! `[remote "r"]`, `[ core ]`, `["remote "r""]`), `key = value` lines (key and value
//! quoted or not), inline and full-line comments, blank lines, lists, empty values,
//! single- and multi-line triple-quoted values (`'''…'''`, `"""…"""`, which DVC writes
//! for values containing both quote characters or a newline), interpolation, and
//! configobj's errors ("Invalid line", "Duplicate keyword name", …) with configobj's
//! wording and line numbers.
//!
//! Not supported:
//!
//! * nested sections (`[[sub]]`) are an error, reported after configobj's own errors.
//!   DVC's schema rejects them anyway;
//! * a line with more than 100 commas and brackets in all is an error, because the
//!   matcher recurses once per list item. configobj has no such limit;
//! * `unrepr` mode and configspecs, which DVC does not use.
//!
//! Input is text. DVC opens the file in text mode (UTF-8 in practice), so a UTF-8 BOM
//! is not removed and gives configobj's "Invalid line" error on line 1, as in DVC.
//! Lines break where Python's `str.splitlines` breaks them, which includes `\f` and `\v`.
//!
//! Checked against configobj 5.0.9 (as installed with DVC 3.67.1) on some 170,000 random
//! inputs, with identical values and errors.
//!
//! Names are returned exactly as written. DVC's lower-casing and `remote "name"` parsing
//! are done in [`super::config`].

use std::fmt::Write as _;
use std::sync::LazyLock;

/// A parsed value: configobj gives either a string or a list of strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Str(String),
    List(Vec<String>),
}

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: Value,
    /// 1-based line of the key (the first line of a multi-line value).
    pub line: usize,
}

/// A `[name]` section with its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name with its outer quotes removed, case as written.
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

/// What `ConfigObj(text).dict()` returns, in file order, after interpolation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// `key = value` lines before the first section.
    pub scalars: Vec<Entry>,
    pub sections: Vec<Section>,
}

/// A syntax error, worded like configobj's (`... at line N.`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// 1-based line number.
    pub line: usize,
    pub message: String,
    /// configobj's own error (DVC prints it, twice); false for what git-dvc refuses
    /// beyond configobj (nested sections, interpolation, limits).
    pub configobj: bool,
}

/// The matcher recurses once per list item or bracket: a line may have at most this
/// many commas and brackets in all, which keeps the stack use far below the 2 MiB of
/// a spawned thread.
const MAX_REPEATS: usize = 100;

/// Parses `text` like `ConfigObj(io.StringIO(text)).dict()`.
///
/// As in configobj, parsing continues after a bad line, and then the first error is
/// returned. When there were several, the message is configobj's "Parsing failed with
/// several errors".
pub fn parse(text: &str) -> Result<Document, ParseError> {
    let lines: Vec<Vec<char>> = split_lines(text)
        .into_iter()
        .map(|l| l.chars().collect())
        .collect();
    let mut doc = Document::default();
    let mut errors: Vec<ParseError> = Vec::new();
    let error = |errors: &mut Vec<ParseError>, idx: usize, text: &str| {
        errors.push(ParseError {
            line: idx + 1,
            message: format!("{text} at line {}.", idx + 1),
            configobj: true,
        })
    };
    // configobj's section tree, as far as its errors need it: for each open level
    // (0 = top, 1 = a `[section]`, 2+ = nested), the names of its keys and
    // sub-sections. Only levels 0 and 1 are kept in `doc`; nested sections are parsed
    // for errors, dropped, and reported at the end.
    let mut open: Vec<Vec<String>> = vec![Vec::new()];
    let mut first_nested: Option<usize> = None;
    let mut idx = 0;
    while idx < lines.len() {
        let line = &lines[idx];
        let sline = strip(line);
        if sline.is_empty() || sline[0] == '#' {
            idx += 1;
            continue;
        }
        if line.iter().filter(|c| matches!(c, ',' | '[' | ']')).count() > MAX_REPEATS {
            // Each list item or bracket is one level of recursion in the matcher.
            let message = format!(
                "Line {} has more than {MAX_REPEATS} commas and brackets, which is not supported.",
                idx + 1
            );
            return Err(ParseError {
                line: idx + 1,
                message,
                configobj: false,
            });
        }
        if let Some(caps) = PATTERNS.section.match_at(line) {
            let depth = caps.count(line, 2, '[');
            if depth != caps.count(line, 4, ']') {
                error(&mut errors, idx, "Cannot compute the section depth");
            } else if depth > open.len() {
                error(&mut errors, idx, "Section too nested");
            } else {
                // A child of the current section, a sibling, or back up to a parent.
                let parent = &mut open[depth - 1];
                let name = unquote(&caps.text(line, 3).unwrap_or_default());
                if parent.contains(&name) {
                    error(&mut errors, idx, "Duplicate section name");
                } else {
                    parent.push(name.clone());
                    open.truncate(depth);
                    open.push(Vec::new());
                    if depth == 1 {
                        doc.sections.push(Section {
                            name,
                            line: idx + 1,
                            entries: Vec::new(),
                        });
                    } else {
                        first_nested.get_or_insert(idx + 1);
                    }
                }
            }
            idx += 1;
            continue;
        }
        let Some(caps) = PATTERNS.keyword.match_at(line) else {
            let line: String = line.iter().collect();
            let text = format!(
                "Invalid line ({}) (matched as neither section nor keyword)",
                py_repr(&line)
            );
            error(&mut errors, idx, &text);
            idx += 1;
            continue;
        };
        let key_line = idx + 1;
        let raw_value = caps.text(line, 3).unwrap_or_default();
        let value = if raw_value.starts_with("'''") || raw_value.starts_with("\"\"\"") {
            match multiline(&raw_value, &lines, idx) {
                Some((value, last)) => {
                    idx = last;
                    Value::Str(value)
                }
                None => {
                    // The continuation lines are then parsed as ordinary lines.
                    error(&mut errors, idx, "Parse error in multiline value");
                    idx += 1;
                    continue;
                }
            }
        } else {
            match handle_value(&raw_value) {
                Some(value) => value,
                None => {
                    error(&mut errors, idx, "Parse error in value");
                    idx += 1;
                    continue;
                }
            }
        };
        let key = unquote(&caps.text(line, 2).unwrap_or_default());
        let names = open.last_mut().expect("the top level is always open");
        if names.contains(&key) {
            // configobj reports the last line of a multi-line value.
            error(&mut errors, idx, "Duplicate keyword name");
        } else {
            names.push(key.clone());
            let entry = Entry {
                key,
                value,
                line: key_line,
            };
            match open.len() {
                1 => doc.scalars.push(entry),
                2 => doc.sections.last_mut().expect("open").entries.push(entry),
                _ => {}
            }
        }
        idx += 1;
    }
    match errors.len() {
        0 => {}
        1 => return Err(errors.remove(0)),
        _ => {
            let line = errors[0].line;
            return Err(ParseError {
                line,
                message: format!(
                    "Parsing failed with several errors.\nFirst error at line {line}."
                ),
                configobj: true,
            });
        }
    }
    if let Some(line) = first_nested {
        // Valid for configobj, but DVC's schema has no sub-sections anywhere.
        return Err(ParseError {
            line,
            message: format!("Nested sections are not supported at line {line}."),
            configobj: false,
        });
    }
    interpolate(&mut doc)?;
    Ok(doc)
}

/// Splits like Python's `str.splitlines(True)` followed by `rstrip('\r\n')`, which is
/// how configobj gets its lines. Python also breaks lines at `\v`, `\f`, `\x1c`-`\x1e`,
/// `\x85`, U+2028 and U+2029; those terminators stay at the end of the line.
fn split_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => lines.push(std::mem::take(&mut line)),
            '\r' => {
                chars.next_if_eq(&'\n');
                lines.push(std::mem::take(&mut line));
            }
            '\x0b' | '\x0c' | '\x1c' | '\x1d' | '\x1e' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                line.push(c);
                lines.push(std::mem::take(&mut line));
            }
            c => line.push(c),
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Python's `\s` for `str` patterns (also `str.isspace`).
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

fn strip(line: &[char]) -> &[char] {
    let start = line
        .iter()
        .position(|&c| !is_space(c))
        .unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|&c| !is_space(c))
        .map_or(start, |i| i + 1);
    &line[start..end]
}

/// configobj's `_unquote`: drop one pair of matching outer quotes, nothing else.
fn unquote(value: &str) -> String {
    let mut chars = value.chars();
    match (chars.next(), chars.next_back()) {
        (Some(a), Some(b)) if a == b && (a == '"' || a == '\'') => chars.collect(),
        // A lone quote character is its own first and last character.
        (Some('"' | '\''), None) => String::new(),
        _ => value.to_string(),
    }
}

/// configobj's `_handle_value`: comment removal, unquoting and lists. `None` is its
/// `SyntaxError` ("Parse error in value").
fn handle_value(value: &str) -> Option<Value> {
    let chars: Vec<char> = value.chars().collect();
    let caps = PATTERNS.value.match_at(&chars)?;
    let list_values = caps.text(&chars, 1);
    let single = caps.text(&chars, 2);
    if list_values.as_deref() == Some("") && single.is_none() {
        return None;
    }
    if caps.text(&chars, 3).is_some() {
        return Some(Value::List(Vec::new()));
    }
    let list_values = list_values.unwrap_or_default();
    let single = match single {
        // A trailing comma: the empty last item is not an item.
        Some(s) if s.is_empty() && !list_values.is_empty() => None,
        Some(s) if s.is_empty() => Some(String::new()),
        Some(s) => Some(unquote(&s)),
        None => None,
    };
    if list_values.is_empty() {
        return single.map(Value::Str);
    }
    let list_chars: Vec<char> = list_values.chars().collect();
    let mut items = Vec::new();
    let mut pos = 0;
    while pos < list_chars.len() {
        // `re.findall`: take each match in turn, skipping positions that do not match.
        match PATTERNS.list_item.match_from(&list_chars, pos) {
            Some((end, caps)) => {
                let item = caps.text(&list_chars, 1).unwrap_or_default();
                if item.is_empty() {
                    return None; // `_unquote('')` raises SyntaxError
                }
                items.push(unquote(&item));
                pos = end.max(pos + 1);
            }
            None => pos += 1,
        }
    }
    items.extend(single);
    Some(Value::List(items))
}

/// configobj's `_multiline`. Returns the value and the index of its last line, or
/// `None` for its `SyntaxError`. Comments after the closing quotes are dropped.
fn multiline(value: &str, lines: &[Vec<char>], idx: usize) -> Option<(String, usize)> {
    let double = value.starts_with("\"\"\"");
    let (single_line, multi_line, quote) = if double {
        (
            &PATTERNS.single_line_double,
            &PATTERNS.multi_line_double,
            "\"\"\"",
        )
    } else {
        (
            &PATTERNS.single_line_single,
            &PATTERNS.multi_line_single,
            "'''",
        )
    };
    let chars: Vec<char> = value.chars().collect();
    if let Some(caps) = single_line.match_at(&chars) {
        return Some((caps.text(&chars, 1).unwrap_or_default(), idx));
    }
    let mut new_value = value[3..].to_string();
    if new_value.contains(quote) {
        return None;
    }
    for (last, line) in lines.iter().enumerate().skip(idx + 1) {
        new_value.push('\n');
        let text: String = line.iter().collect();
        if !text.contains(quote) {
            new_value.push_str(&text);
            continue;
        }
        let caps = multi_line.match_at(line)?;
        new_value.push_str(&caps.text(line, 1).unwrap_or_default());
        return Some((new_value, last));
    }
    None // end of file before the closing quotes
}

/// ConfigParser-style `%(name)s` interpolation, which `ConfigObj.dict()` applies to
/// every string. A name is looked up in the value's own section, then among the
/// top-level keys, then in a top-level `[DEFAULT]` section.
fn interpolate(doc: &mut Document) -> Result<(), ParseError> {
    let raw = doc.clone();
    let scopes = std::iter::once((None, &mut doc.scalars)).chain(
        doc.sections
            .iter_mut()
            .enumerate()
            .map(|(i, s)| (Some(i), &mut s.entries)),
    );
    for (scope, entries) in scopes {
        for entry in entries {
            let fail = |message: String| ParseError {
                line: entry.line,
                message: format!(
                    "{message} (in the value of '{}' at line {}).",
                    entry.key, entry.line
                ),
                configobj: false,
            };
            let strings = match &mut entry.value {
                Value::Str(s) => std::slice::from_mut(s),
                Value::List(items) => items.as_mut_slice(),
            };
            for s in strings {
                if s.contains('%') {
                    let mut trail = Vec::new();
                    let value = Value::Str(std::mem::take(s));
                    *s = interpolate_one(&raw, &entry.key, &value, scope, &mut trail)
                        .map_err(fail)?;
                }
            }
        }
    }
    Ok(())
}

fn interpolate_one(
    doc: &Document,
    key: &str,
    value: &Value,
    scope: Option<usize>,
    trail: &mut Vec<(String, Option<usize>)>,
) -> Result<String, String> {
    if trail.iter().any(|(k, s)| k == key && *s == scope) {
        return Err(format!("interpolation loop detected in value \"{key}\""));
    }
    let Value::Str(value) = value else {
        // Python fails here with a TypeError.
        return Err(format!("cannot interpolate the list value of \"{key}\""));
    };
    trail.push((key.to_string(), scope));
    let mut value: Vec<char> = value.chars().collect();
    let mut pos = 0;
    while let Some((start, end, caps)) = PATTERNS.interpolation.search(&value, pos) {
        let name = caps.text(&value, 1).unwrap_or_default();
        let (found, found_scope) = fetch(doc, scope, &name)
            .ok_or_else(|| format!("missing option \"{name}\" in interpolation"))?;
        let replacement: Vec<char> = interpolate_one(doc, &name, found, found_scope, trail)?
            .chars()
            .collect();
        pos = start + replacement.len();
        value.splice(start..end, replacement);
    }
    trail.pop();
    Ok(value.into_iter().collect())
}

fn fetch<'d>(
    doc: &'d Document,
    scope: Option<usize>,
    key: &str,
) -> Option<(&'d Value, Option<usize>)> {
    let find = |entries: &'d [Entry]| entries.iter().find(|e| e.key == key).map(|e| &e.value);
    if let Some(i) = scope {
        if let Some(v) = find(&doc.sections[i].entries) {
            return Some((v, scope));
        }
    }
    let default = doc.sections.iter().find(|s| s.name == "DEFAULT");
    find(&doc.scalars)
        .or_else(|| default.and_then(|s| find(&s.entries)))
        .map(|v| (v, None))
}

/// Python's `repr()` of a string, as configobj puts it in "Invalid line" errors.
/// Non-printable characters are approximated (Rust has no Unicode category table).
fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if c != ' '
                && (c.is_control()
                    || c.is_whitespace()
                    || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')) =>
            {
                let n = c as u32;
                let _ = match n {
                    0..=0xff => write!(out, "\\x{n:02x}"),
                    0x100..=0xffff => write!(out, "\\u{n:04x}"),
                    _ => write!(out, "\\U{n:08x}"),
                };
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

// ---------------------------------------------------------------------------------
// The regexes, and a backtracking matcher for the constructs they use.

struct Patterns {
    keyword: Re,
    section: Re,
    value: Re,
    list_item: Re,
    single_line_single: Re,
    single_line_double: Re,
    multi_line_single: Re,
    multi_line_double: Re,
    interpolation: Re,
}

static PATTERNS: LazyLock<Patterns> = LazyLock::new(|| {
    use Re::*;
    let dot = || class(|c| c != '\n');
    let space = || star(class(is_space));
    let quoted = |q: char| Seq(vec![lit(q), lazy_star(dot()), lit(q)]);
    let comment = |n: usize| opt(group(n, Seq(vec![lit('#'), star(dot())])));
    let three = |q: char| Seq(vec![lit(q), lit(q), lit(q)]);
    let single_line = |q: char| {
        Seq(vec![
            three(q),
            group(1, lazy_star(dot())),
            three(q),
            space(),
            comment(2),
            End,
        ])
    };
    let multi_line = |q: char| {
        Seq(vec![
            group(1, lazy_star(dot())),
            three(q),
            space(),
            comment(2),
            End,
        ])
    };
    Patterns {
        // ^(\s*)((?:".*?")|(?:'.*?')|(?:[^'"=].*?))\s*=\s*(.*)$
        keyword: Seq(vec![
            group(1, space()),
            group(
                2,
                Alt(vec![
                    quoted('"'),
                    quoted('\''),
                    Seq(vec![
                        class(|c| !matches!(c, '\'' | '"' | '=')),
                        lazy_star(dot()),
                    ]),
                ]),
            ),
            space(),
            lit('='),
            space(),
            group(3, star(dot())),
            End,
        ]),
        // ^(\s*)((?:\[\s*)+)((?:"\s*\S.*?\s*")|(?:'\s*\S.*?\s*')|(?:[^'"\s].*?))
        //   ((?:\s*\])+)\s*(\#.*)?$
        section: {
            let quoted_name = |q: char| {
                Seq(vec![
                    lit(q),
                    space(),
                    class(|c| !is_space(c)),
                    lazy_star(dot()),
                    space(),
                    lit(q),
                ])
            };
            Seq(vec![
                group(1, space()),
                group(2, plus(Seq(vec![lit('['), space()]))),
                group(
                    3,
                    Alt(vec![
                        quoted_name('"'),
                        quoted_name('\''),
                        Seq(vec![
                            class(|c| !matches!(c, '\'' | '"') && !is_space(c)),
                            lazy_star(dot()),
                        ]),
                    ]),
                ),
                group(4, plus(Seq(vec![space(), lit(']')]))),
                space(),
                comment(5),
                End,
            ])
        },
        // ^(?:(?:((?:(?:(?:".*?")|(?:'.*?')|(?:[^'",\#][^,\#]*?))\s*,\s*)*)
        //   ((?:".*?")|(?:'.*?')|(?:[^'",\#\s][^,]*?)|(?:(?<!,)))?)|(,))\s*(\#.*)?$
        value: Seq(vec![
            Alt(vec![
                Seq(vec![
                    group(
                        1,
                        star(Seq(vec![
                            Alt(vec![
                                quoted('"'),
                                quoted('\''),
                                Seq(vec![
                                    class(|c| !matches!(c, '\'' | '"' | ',' | '#')),
                                    lazy_star(class(|c| c != ',' && c != '#')),
                                ]),
                            ]),
                            space(),
                            lit(','),
                            space(),
                        ])),
                    ),
                    opt(group(
                        2,
                        Alt(vec![
                            quoted('"'),
                            quoted('\''),
                            Seq(vec![
                                class(|c| !matches!(c, '\'' | '"' | ',' | '#') && !is_space(c)),
                                lazy_star(class(|c| c != ',')),
                            ]),
                            NotAfter(','),
                        ]),
                    )),
                ]),
                group(3, lit(',')),
            ]),
            space(),
            comment(4),
            End,
        ]),
        // ((?:".*?")|(?:'.*?')|(?:[^'",\#]?.*?))\s*,\s*   (used with findall)
        list_item: Seq(vec![
            group(
                1,
                Alt(vec![
                    quoted('"'),
                    quoted('\''),
                    Seq(vec![
                        opt(class(|c| !matches!(c, '\'' | '"' | ',' | '#'))),
                        lazy_star(dot()),
                    ]),
                ]),
            ),
            space(),
            lit(','),
            space(),
        ]),
        // ^'''(.*?)'''\s*(#.*)?$ and ^(.*?)'''\s*(#.*)?$, and the same with """
        single_line_single: single_line('\''),
        single_line_double: single_line('"'),
        multi_line_single: multi_line('\''),
        multi_line_double: multi_line('"'),
        // %\(([^)]*)\)s
        interpolation: Seq(vec![
            lit('%'),
            lit('('),
            group(1, star(class(|c| c != ')'))),
            lit(')'),
            lit('s'),
        ]),
    }
});

/// A regex node. Only what the patterns above need.
enum Re {
    Lit(char),
    Class(fn(char) -> bool),
    /// Repetition of a one-character node, matched without recursion.
    RepeatChar {
        node: Box<Re>,
        min: usize,
        max: usize,
        lazy: bool,
    },
    Repeat {
        node: Box<Re>,
        min: usize,
        max: usize,
        lazy: bool,
    },
    Seq(Vec<Re>),
    /// Tried left to right, like `a|b`.
    Alt(Vec<Re>),
    Group(usize, Box<Re>),
    /// `(?<!c)`
    NotAfter(char),
    /// `$` (our lines never end in a newline).
    End,
}

fn lit(c: char) -> Re {
    Re::Lit(c)
}
fn class(f: fn(char) -> bool) -> Re {
    Re::Class(f)
}
fn group(n: usize, re: Re) -> Re {
    Re::Group(n, Box::new(re))
}
fn repeat(node: Re, min: usize, max: usize, lazy: bool) -> Re {
    let node = Box::new(node);
    match *node {
        Re::Lit(_) | Re::Class(_) => Re::RepeatChar {
            node,
            min,
            max,
            lazy,
        },
        _ => Re::Repeat {
            node,
            min,
            max,
            lazy,
        },
    }
}
fn star(re: Re) -> Re {
    repeat(re, 0, usize::MAX, false)
}
fn lazy_star(re: Re) -> Re {
    repeat(re, 0, usize::MAX, true)
}
fn plus(re: Re) -> Re {
    repeat(re, 1, usize::MAX, false)
}
fn opt(re: Re) -> Re {
    repeat(re, 0, 1, false)
}

const GROUPS: usize = 6;

/// Capture groups of a match, as char ranges.
struct Caps([Option<(usize, usize)>; GROUPS]);

impl Caps {
    fn text(&self, text: &[char], n: usize) -> Option<String> {
        self.0[n].map(|(a, b)| text[a..b].iter().collect())
    }
    fn count(&self, text: &[char], n: usize, c: char) -> usize {
        self.0[n].map_or(0, |(a, b)| text[a..b].iter().filter(|&&x| x == c).count())
    }
}

type Slots = [Option<(usize, usize)>; GROUPS];
/// The rest of the pattern: called with the position reached, true to accept.
type Cont<'a> = &'a mut dyn FnMut(usize, &mut Slots) -> bool;

impl Re {
    /// `re.match`: a match starting at the beginning of `text`.
    fn match_at(&self, text: &[char]) -> Option<Caps> {
        self.match_from(text, 0).map(|(_, caps)| caps)
    }

    /// A match starting at `start`, with its end.
    fn match_from(&self, text: &[char], start: usize) -> Option<(usize, Caps)> {
        let mut slots = [None; GROUPS];
        let mut found = None;
        let matched = Matcher { text }.run(self, start, &mut slots, &mut |end, slots| {
            found = Some((end, Caps(*slots)));
            true
        });
        if matched {
            found
        } else {
            None
        }
    }

    /// `re.search` from `start`: the leftmost match as (start, end, groups).
    fn search(&self, text: &[char], start: usize) -> Option<(usize, usize, Caps)> {
        (start..=text.len())
            .find_map(|s| self.match_from(text, s).map(|(end, caps)| (s, end, caps)))
    }
}

struct Matcher<'t> {
    text: &'t [char],
}

impl Matcher<'_> {
    fn one(&self, re: &Re, pos: usize) -> bool {
        match (re, self.text.get(pos)) {
            (Re::Lit(l), Some(c)) => c == l,
            (Re::Class(f), Some(&c)) => f(c),
            _ => false,
        }
    }

    fn run(&self, re: &Re, pos: usize, slots: &mut Slots, k: Cont<'_>) -> bool {
        match re {
            Re::Lit(_) | Re::Class(_) => self.one(re, pos) && k(pos + 1, slots),
            Re::RepeatChar {
                node,
                min,
                max,
                lazy,
            } => {
                let mut n = 0;
                while n < *max && self.one(node, pos + n) {
                    n += 1;
                }
                if n < *min {
                    false
                } else if *lazy {
                    (*min..=n).any(|i| k(pos + i, slots))
                } else {
                    (*min..=n).rev().any(|i| k(pos + i, slots))
                }
            }
            Re::Repeat {
                node,
                min,
                max,
                lazy,
            } => self.repeat(node, *min, *max, *lazy, pos, slots, k),
            Re::Seq(items) => self.seq(items, pos, slots, k),
            Re::Alt(alts) => alts.iter().any(|alt| self.run(alt, pos, slots, k)),
            Re::Group(n, node) => {
                let n = *n;
                self.run(node, pos, slots, &mut |end, slots| {
                    let saved = slots[n].replace((pos, end));
                    k(end, slots) || {
                        slots[n] = saved;
                        false
                    }
                })
            }
            Re::NotAfter(c) => (pos == 0 || self.text[pos - 1] != *c) && k(pos, slots),
            Re::End => pos == self.text.len() && k(pos, slots),
        }
    }

    fn seq(&self, items: &[Re], pos: usize, slots: &mut Slots, k: Cont<'_>) -> bool {
        match items.split_first() {
            None => k(pos, slots),
            Some((first, rest)) => self.run(first, pos, slots, &mut |p, slots| {
                self.seq(rest, p, slots, k)
            }),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn repeat(
        &self,
        node: &Re,
        min: usize,
        max: usize,
        lazy: bool,
        pos: usize,
        slots: &mut Slots,
        k: Cont<'_>,
    ) -> bool {
        if lazy && min == 0 && k(pos, slots) {
            return true;
        }
        if max > 0 {
            // Like Python's `re`, an iteration that matched nothing ends the loop (only
            // `(?<!,)` in `_valueexp` can do that).
            let mut more = |end: usize, slots: &mut Slots| {
                if end == pos {
                    k(end, slots)
                } else {
                    self.repeat(node, min.saturating_sub(1), max - 1, lazy, end, slots, k)
                }
            };
            if self.run(node, pos, slots, &mut more) {
                return true;
            }
        }
        !lazy && min == 0 && k(pos, slots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }
    fn l(v: &[&str]) -> Value {
        Value::List(v.iter().map(|x| x.to_string()).collect())
    }
    /// The value of `key` in the first section of `text`.
    fn value(line: &str) -> Value {
        let doc = parse(&format!("[s]\nk = {line}\n")).unwrap();
        doc.sections[0].entries[0].value.clone()
    }
    fn err(text: &str) -> String {
        parse(text).unwrap_err().message
    }

    #[test]
    fn values_split_like_configobj() {
        assert_eq!(value("s3://b/p"), s("s3://b/p"));
        assert_eq!(value("a b  # comment"), s("a b"));
        assert_eq!(
            value("pa#ss"),
            s("pa"),
            "# starts a comment even without a space"
        );
        assert_eq!(value("\"s3cr#t,x\""), s("s3cr#t,x"));
        assert_eq!(value("'a\"b#c'"), s("a\"b#c"));
        assert_eq!(value("x'y"), s("x'y"));
        assert_eq!(value("\" lead trail \""), s(" lead trail "));
        assert_eq!(value("\"\""), s(""));
        assert_eq!(value(""), s(""));
        assert_eq!(value("# only a comment"), s(""));
        assert_eq!(value("reflink,copy"), l(&["reflink", "copy"]));
        assert_eq!(value("reflink , copy # c"), l(&["reflink", "copy"]));
        assert_eq!(value("\"a,b\", 'c'"), l(&["a,b", "c"]));
        assert_eq!(value("a,"), l(&["a"]));
        assert_eq!(value(","), l(&[]));
        assert_eq!(value("a\"b,c"), l(&["a\"b", "c"]));
        assert_eq!(value("'it''s'"), s("it''s"));
        assert_eq!(value("%d%%"), s("%d%%"));
    }

    #[test]
    fn bad_values() {
        assert_eq!(err("[s]\nk = \"a\" b\n"), "Parse error in value at line 2.");
        assert_eq!(err("[s]\nk = a,,b\n"), "Parse error in value at line 2.");
    }

    #[test]
    fn section_headers() {
        let doc =
            parse("['remote \"a\"']\n[remote \"b\"]\n[ core ] # c\n[\"remote \"c\"\"]\n[x # y]\n")
                .unwrap();
        let names: Vec<_> = doc.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "remote \"a\"",
                "remote \"b\"",
                "core",
                "remote \"c\"",
                "x # y"
            ]
        );
        assert_eq!(err("[a]]\n"), "Cannot compute the section depth at line 1.");
        assert_eq!(err("[[a]]\n"), "Section too nested at line 1.");
        assert_eq!(
            err("[a]\n[[b]]\n"),
            "Nested sections are not supported at line 2."
        );
        assert_eq!(err("[a]\n[a]\n"), "Duplicate section name at line 2.");
        assert_eq!(
            err("[a] x\n"),
            "Invalid line ('[a] x') (matched as neither section nor keyword) at line 1."
        );
    }

    #[test]
    fn keys() {
        let doc = parse("top = 1\n[s]\n  \"a=b\" = 1\n'q' = 2\nx y=3\nK = \n").unwrap();
        assert_eq!(doc.scalars[0].key, "top");
        let keys: Vec<_> = doc.sections[0]
            .entries
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["a=b", "q", "x y", "K"]);
        assert_eq!(doc.sections[0].entries[3].line, 6);
        assert_eq!(
            err("[s]\nk = 1\nk = 2\n"),
            "Duplicate keyword name at line 3."
        );
        // Keys are compared as written; DVC lower-cases afterwards.
        assert!(parse("[s]\nk = 1\nK = 2\n").is_ok());
    }

    #[test]
    fn invalid_lines_and_several_errors() {
        assert_eq!(
            err("[core]\nremote = x\nfoo\n"),
            "Invalid line ('foo') (matched as neither section nor keyword) at line 3."
        );
        let e = parse("foo\n[s]\nbar's\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert_eq!(
            e.message,
            "Parsing failed with several errors.\nFirst error at line 1."
        );
        assert_eq!(
            err("\u{feff}[core]\n"),
            "Invalid line ('\\ufeff[core]') (matched as neither section nor keyword) at line 1."
        );
        assert_eq!(
            err("[s]\nit's\n"),
            "Invalid line (\"it's\") (matched as neither section nor keyword) at line 2."
        );
    }

    #[test]
    fn comments_blank_lines_and_line_endings() {
        let doc = parse("# c\r\n\r\n[core]\r\n  # c\r\n\tremote = r\r\n").unwrap();
        assert_eq!(doc.sections[0].entries[0].value, s("r"));
        assert_eq!(doc.sections[0].entries[0].line, 5);
        assert_eq!(parse("").unwrap(), Document::default());
    }

    #[test]
    fn triple_quotes() {
        assert_eq!(value("'''it's \"q\"'''"), s("it's \"q\""));
        assert_eq!(value("\"\"\"a'''b\"\"\" # c"), s("a'''b"));
        let doc = parse("[w]\n    token = '''multi\nline'''\n    user = u\n").unwrap();
        assert_eq!(doc.sections[0].entries[0].value, s("multi\nline"));
        assert_eq!(doc.sections[0].entries[1].line, 4);
        let doc = parse("[w]\nt = \"\"\"a\n  b\nc\"\"\"  # x\n").unwrap();
        assert_eq!(doc.sections[0].entries[0].value, s("a\n  b\nc"));
        assert_eq!(
            err("[w]\nt = '''a\n  b = 1\n"),
            "Parse error in multiline value at line 2."
        );
        // After that error configobj goes on with the next line, as an ordinary line.
        assert_eq!(
            err("[w]\nt = '''a\nb\n"),
            "Parsing failed with several errors.\nFirst error at line 2."
        );
        // The lazy `(.*?)` stretches past inner quotes when that is the only way to match.
        assert_eq!(value("'''a''' b '''"), s("a''' b "));
        assert_eq!(
            err("[w]\nt = '''a''' b\n"),
            "Parse error in multiline value at line 2."
        );
    }

    #[test]
    fn interpolation() {
        let doc = parse("[s]\na = x\nb = %(a)s-%(a)s,%(c)s\nc = 1%\n").unwrap();
        assert_eq!(doc.sections[0].entries[1].value, l(&["x-x", "1%"]));
        let doc = parse("top = T\n[DEFAULT]\nd = D\n[s]\nb = %(top)s%(d)s\n").unwrap();
        assert_eq!(doc.sections[1].entries[0].value, s("TD"));
        let e = parse("[s]\nk = ab%(x)s\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(
            e.message
                .starts_with("missing option \"x\" in interpolation"),
            "{e}"
        );
        let e = parse("[s]\na = %(b)s\nb = %(a)s\n").unwrap_err();
        assert!(e.message.starts_with("interpolation loop detected"), "{e}");
    }

    #[test]
    fn long_lists_are_refused_not_overflowing() {
        let ok = format!("[s]\nk = {}b\n", "a,".repeat(MAX_REPEATS));
        assert!(matches!(&value_of(&ok), Value::List(l) if l.len() == MAX_REPEATS + 1));
        let e = parse(&format!("[s]\nk = {}b\n", "a,".repeat(MAX_REPEATS + 1))).unwrap_err();
        assert_eq!(e.line, 2);
        let e = parse(&format!("{}a{}", "[".repeat(60), "]".repeat(60))).unwrap_err();
        assert_eq!(e.line, 1);
        // Commas in comments do not count.
        assert!(parse(&format!("# {}\n", ",".repeat(1000))).is_ok());
    }

    fn value_of(text: &str) -> Value {
        parse(text).unwrap().sections[0].entries[0].value.clone()
    }

    #[test]
    fn python_line_breaks() {
        // \f ends a line for Python's splitlines and stays at its end.
        let doc = parse("[s]\na = 1\x0cb = 2\n").unwrap();
        assert_eq!(doc.sections[0].entries[0].value, s("1"));
        assert_eq!(doc.sections[0].entries[1].key, "b");
    }
}
