//! DVC's `dvc.yaml` templating (`dvc/parsing/context.py`, `interpolate.py`), for the values
//! that decide which data is pushed: a [`Context`] of variables loaded from `vars` files and
//! inline `vars` mappings, and `${…}` resolution with DVC's rules:
//!
//! * `${a.b}`, `${a[0]}`, `${a[0].b}`: dotted and indexed access (a negative index counts from
//!   the end, as in Python); `\${` escapes.
//! * A string that is exactly one `${…}` takes the variable's value and type; embedded ones are
//!   rendered as DVC renders them: `true`/`false`, integers as written, floats as Python's
//!   `repr`, null as `None`. Lists and mappings cannot be embedded (except in `foreach`,
//!   `matrix` and `cmd`).
//! * Merging a vars file into the context never overwrites: a key defined twice is an error.
//!
//! Everything is charged to a [`Budget`], so a `foreach` over a huge list or a matrix product
//! cannot make a small file cost unbounded time or memory.

use std::collections::HashMap;

use super::yaml::Yaml;

/// Work allowed for one `dvc.yaml`: one unit per node visited and per byte rendered.
pub struct Budget {
    left: usize,
    limit: usize,
}

impl Budget {
    pub fn new(limit: usize) -> Budget {
        Budget { left: limit, limit }
    }

    pub fn charge(&mut self, units: usize) -> Result<(), String> {
        match self.left.checked_sub(units) {
            Some(left) => {
                self.left = left;
                Ok(())
            }
            None => Err(format!(
                "templating expands to more than {} units of work (one per generated stage, \
                 value and byte; the cap is git config dvc.maxFileSize)",
                self.limit
            )),
        }
    }
}

/// The variables in force: a mapping with string keys, and which files it was loaded from.
#[derive(Clone, Default)]
pub struct Context {
    data: Vec<(String, Yaml)>,
    /// Loaded vars files (normalized path) and the keys taken from them (`None`: all).
    imports: HashMap<String, Option<Vec<String>>>,
    /// `item` and `key` while a `foreach`/`matrix` stage resolves: vars may not redefine them.
    reserved: Vec<String>,
}

impl Context {
    /// Merges a mapping in, as DVC's `merge_update`: nested mappings merge, anything else
    /// already defined is an error. `source` names it in messages.
    pub fn merge(&mut self, other: &Yaml, source: &str, budget: &mut Budget) -> Result<(), String> {
        let Yaml::Map(entries) = context_value(other) else {
            return Ok(());
        };
        let reserved: Vec<&str> = entries
            .iter()
            .filter_map(|(k, _)| k.as_str())
            .filter(|k| self.reserved.iter().any(|r| r == k))
            .collect();
        if !reserved.is_empty() {
            let n = if reserved.len() > 1 { "keys" } else { "key" };
            return Err(format!(
                "attempted to modify reserved {n} {} in '{source}'",
                reserved.join(" and ")
            ));
        }
        let mut into = Yaml::Map(
            std::mem::take(&mut self.data)
                .into_iter()
                .map(|(k, v)| (Yaml::Str(k), v))
                .collect(),
        );
        let result = merge_into(&mut into, entries, "", source, budget);
        if let Yaml::Map(entries) = into {
            self.data = entries
                .into_iter()
                .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v)))
                .collect();
        }
        result
    }

    /// Loads a vars file (`path` as DVC normalized it, `keys` from `path:k1,k2`) unless it is
    /// loaded already; `data` is its parsed content. DVC's `Context.merge_from`.
    pub fn merge_file(
        &mut self,
        path: &str,
        item: &str,
        keys: Option<Vec<String>>,
        data: &Yaml,
        budget: &mut Budget,
    ) -> Result<(), String> {
        if let Some(imported) = self.imports.get(path) {
            match (&keys, imported) {
                (None, None) => return Ok(()),
                (None, Some(_)) => {
                    return Err(format!(
                        "cannot load '{item}' as it's partially loaded already"
                    ))
                }
                (Some(_), None) => {
                    return Err(format!(
                        "cannot partially load '{item}' as it's already loaded."
                    ))
                }
                (Some(new), Some(old)) if new.iter().any(|k| old.contains(k)) => {
                    return Err(format!(
                        "cannot load '{item}' as it's partially loaded already"
                    ))
                }
                _ => {}
            }
        }
        let Yaml::Map(entries) = data else {
            let typ = super::pipeline::python_type(data);
            return Err(format!(
                "expected a dictionary, got '{typ}' in file '{path}'"
            ));
        };
        let selected = match &keys {
            None => data.clone(),
            Some(keys) => {
                let mut picked = Vec::new();
                for key in keys {
                    let value = entries
                        .iter()
                        .find(|(k, _)| k.as_str() == Some(key))
                        .map(|(_, v)| v)
                        .ok_or_else(|| format!("could not find '{key}' in '{path}'"))?;
                    picked.push((Yaml::Str(key.clone()), value.clone()));
                }
                Yaml::Map(picked)
            }
        };
        self.merge(&selected, path, budget)
            .map_err(|e| e.replace(&format!("in '{path}'"), &format!("in '{item}'")))?;
        match (self.imports.get_mut(path), keys) {
            (Some(Some(old)), Some(new)) => old.extend(new),
            (None, keys) => {
                self.imports.insert(path.to_owned(), keys);
            }
            _ => {}
        }
        Ok(())
    }

    /// Sets `item` (and `key`) for one generated stage, reserved against redefinition.
    pub fn with_iteration(&self, vars: Vec<(&str, Yaml)>) -> Context {
        let mut ctx = self.clone();
        for (name, value) in vars {
            let value = context_value(&value);
            match ctx.data.iter_mut().find(|(k, _)| k == name) {
                Some(slot) => slot.1 = value,
                None => ctx.data.push((name.to_owned(), value)),
            }
            ctx.reserved.push(name.to_owned());
        }
        ctx
    }

    pub fn contains(&self, name: &str) -> bool {
        self.data.iter().any(|(k, _)| k == name)
    }

    /// `Context.select`: `a.b`, `a[0]`, `a[-1].b`.
    fn select(&self, expr: &str) -> Result<&Yaml, String> {
        let normalized = expr.replace('[', ".").replace(']', "");
        let not_found = || format!("Could not find '{expr}'");
        let mut parts = normalized.split('.');
        let first = parts.next().unwrap_or_default().trim();
        let mut node = self
            .data
            .iter()
            .find(|(k, _)| k == first)
            .map(|(_, v)| v)
            .ok_or_else(not_found)?;
        for part in parts {
            let part = part.trim();
            node = match node {
                Yaml::Map(entries) => entries
                    .iter()
                    .find(|(k, _)| k.as_str() == Some(part))
                    .map(|(_, v)| v)
                    .ok_or_else(not_found)?,
                Yaml::Seq(items) => {
                    let index: i64 = part.parse().map_err(|_| not_found())?;
                    let at = if index < 0 {
                        items.len() as i64 + index
                    } else {
                        index
                    };
                    usize::try_from(at)
                        .ok()
                        .and_then(|i| items.get(i))
                        .ok_or_else(not_found)?
                }
                _ => return Err(not_found()),
            };
        }
        Ok(node)
    }

    /// Resolves every string in `value` (mapping keys too), as `Context.resolve`. `field` is
    /// the stage field being resolved (`outs`, `cmd`…), `None` for `foreach`/`matrix` data.
    pub fn resolve(
        &self,
        value: &Yaml,
        field: Option<&str>,
        budget: &mut Budget,
    ) -> Result<Yaml, String> {
        budget.charge(1)?;
        Ok(match value {
            Yaml::Str(s) => self.resolve_str(s, field, budget)?,
            Yaml::Seq(items) => Yaml::Seq(
                items
                    .iter()
                    .map(|v| self.resolve(v, field, budget))
                    .collect::<Result<_, _>>()?,
            ),
            Yaml::Map(entries) => {
                let mut out: Vec<(Yaml, Yaml)> = Vec::with_capacity(entries.len());
                for (k, v) in entries {
                    let k = self.resolve(k, field, budget)?;
                    let v = self.resolve(v, field, budget)?;
                    // A Python dict: a key resolved twice keeps its first place, last value.
                    match out.iter_mut().find(|(old, _)| *old == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Yaml::Map(out)
            }
            other => other.clone(),
        })
    }

    /// `Context.resolve_str`.
    pub fn resolve_str(
        &self,
        src: &str,
        field: Option<&str>,
        budget: &mut Budget,
    ) -> Result<Yaml, String> {
        let matches = find_matches(src);
        if matches.len() == 1 && matches[0].0 == 0 && matches[0].1 == src.len() {
            let expr = check_expression(&src[2..src.len() - 1])?;
            let value = self.select(expr)?;
            validate_value(value, field)?;
            budget.charge(approximate_size(value))?;
            return Ok(value.clone());
        }
        let mut out = String::new();
        let mut at = 0;
        for (start, end) in matches {
            let expr = check_expression(&src[start + 2..end - 1])?;
            let value = self.select(expr)?;
            validate_value(value, field)?;
            out.push_str(&src[at..start]);
            out.push_str(&to_str(value)?);
            at = end;
            budget.charge(out.len())?;
        }
        out.push_str(&src[at..]);
        budget.charge(out.len())?;
        Ok(Yaml::Str(out.replace("\\${", "${")))
    }
}

/// Whether DVC would treat `s` as templated (`is_interpolated_string`).
pub fn is_interpolated(s: &str) -> bool {
    !find_matches(s).is_empty()
}

/// Spans of `${…}` in `s`, as DVC's `(?<!\\)\${(?P<inner>.*?)}` finds them.
fn find_matches(s: &str) -> Vec<(usize, usize)> {
    let bytes = s.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b'$' && bytes[i + 1] == b'{' && (i == 0 || bytes[i - 1] != b'\\') {
            // `.` does not match a newline: the closing brace must come first.
            let rest = &s[i + 2..];
            let close = rest.find('}');
            let newline = rest.find('\n');
            if let Some(close) = close.filter(|c| newline.is_none_or(|n| n > *c)) {
                let end = i + 2 + close + 1;
                found.push((i, end));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    found
}

/// DVC's expression grammar: a word, then `.word` or `[word]`, where a word has no `.`,
/// `[` or `]`.
fn check_expression(inner: &str) -> Result<&str, String> {
    let bad = || format!("failed to parse expression '${{{inner}}}'");
    let trimmed = inner.trim_start();
    let mut rest = trimmed;
    let word = |rest: &mut &str| -> bool {
        let len = rest.find(['.', '[', ']']).unwrap_or(rest.len());
        let ok = len > 0;
        *rest = &rest[len..];
        ok
    };
    if !word(&mut rest) {
        return Err(bad());
    }
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            rest = r;
            if !word(&mut rest) {
                return Err(bad());
            }
        } else if let Some(r) = rest.strip_prefix('[') {
            rest = r;
            if !word(&mut rest) {
                return Err(bad());
            }
            rest = rest.strip_prefix(']').ok_or_else(bad)?;
        } else {
            return Err(bad());
        }
    }
    Ok(trimmed)
}

/// `validate_value`: only primitives are interpolated, except in `foreach`/`matrix` data and
/// mappings in `cmd`.
fn validate_value(value: &Yaml, field: Option<&str>) -> Result<(), String> {
    let Some(field) = field else { return Ok(()) };
    match value {
        Yaml::Map(_) if field == "cmd" => Ok(()),
        Yaml::Map(_) | Yaml::Seq(_) if !field.contains("foreach") => Err(format!(
            "Cannot interpolate data of type '{}'",
            super::pipeline::python_type(value)
        )),
        _ => Ok(()),
    }
}

/// DVC's `to_str` for values embedded in a string.
pub fn to_str(value: &Yaml) -> Result<String, String> {
    Ok(match value {
        Yaml::Null => "None".to_owned(),
        Yaml::Bool(b) => (if *b { "true" } else { "false" }).to_owned(),
        Yaml::Int(text) => text.clone(),
        Yaml::Float(f) => python_float_repr(*f),
        Yaml::Str(s) => s.clone(),
        // Only `cmd` embeds a mapping (as command-line flags); no output path can.
        Yaml::Map(_) | Yaml::Seq(_) => {
            return Err(format!(
                "git-dvc cannot render a {} inside a string",
                super::pipeline::python_type(value)
            ))
        }
    })
}

/// Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16.
pub fn python_float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // `{:e}` gives the shortest digits: `1.5e-7`, `1e16`.
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').expect("`{:e}` has an exponent");
    let exp: i32 = exp.parse().expect("`{:e}` exponent is an integer");
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if negative { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let mut m = digits[..1].to_owned();
        if digits.len() > 1 {
            m.push('.');
            m.push_str(&digits[1..]);
        }
        return format!(
            "{sign}{m}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let point = exp + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}.0", "0".repeat(point as usize - digits.len()))
    } else {
        format!(
            "{}.{}",
            &digits[..point as usize],
            &digits[point as usize..]
        )
    };
    format!("{sign}{body}")
}

/// Context data as DVC's `CtxDict` keeps it: mappings lose their non-string keys.
fn context_value(value: &Yaml) -> Yaml {
    match value {
        Yaml::Map(entries) => Yaml::Map(
            entries
                .iter()
                .filter(|(k, _)| matches!(k, Yaml::Str(_)))
                .map(|(k, v)| (k.clone(), context_value(v)))
                .collect(),
        ),
        Yaml::Seq(items) => Yaml::Seq(items.iter().map(context_value).collect()),
        other => other.clone(),
    }
}

fn merge_into(
    into: &mut Yaml,
    update: Vec<(Yaml, Yaml)>,
    prefix: &str,
    source: &str,
    budget: &mut Budget,
) -> Result<(), String> {
    let Yaml::Map(target) = into else {
        unreachable!("merge_into is only called on mappings");
    };
    for (key, value) in update {
        budget.charge(1)?;
        let name = key.as_str().unwrap_or_default().to_owned();
        let path = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}.{name}")
        };
        match target.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => match (existing, value) {
                (existing @ Yaml::Map(_), Yaml::Map(entries)) => {
                    merge_into(existing, entries, &path, source, budget)?
                }
                _ => {
                    return Err(format!(
                        "cannot redefine '{path}' from '{source}' as it already exists"
                    ))
                }
            },
            None => {
                budget.charge(approximate_size(&value))?;
                target.push((key, value));
            }
        }
    }
    Ok(())
}

/// Nodes plus string bytes: what copying `value` costs.
fn approximate_size(value: &Yaml) -> usize {
    match value {
        Yaml::Str(s) | Yaml::Int(s) => 1 + s.len(),
        Yaml::Seq(items) => 1 + items.iter().map(approximate_size).sum::<usize>(),
        Yaml::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| approximate_size(k) + approximate_size(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dvc::yaml;

    fn ctx(text: &str) -> Context {
        let mut c = Context::default();
        c.merge(
            &yaml::parse(text.as_bytes(), usize::MAX).unwrap(),
            "vars",
            &mut Budget::new(1 << 20),
        )
        .unwrap();
        c
    }

    fn render(c: &Context, s: &str) -> Result<Yaml, String> {
        c.resolve_str(s, Some("outs"), &mut Budget::new(1 << 20))
    }

    #[test]
    fn values_render_as_dvc_renders_them() {
        let c = ctx("b: true\nn: 3\nf: 0.5\ng: 1.0e-5\nh: 1e16\nz: null\ns: x\nl: [a, {k: v}]\nd: {e: {f: 2}}\n");
        let s = |t: &str| match render(&c, t).unwrap() {
            Yaml::Str(s) => s,
            other => panic!("{other:?}"),
        };
        assert_eq!(s("a_${b}"), "a_true");
        assert_eq!(s("${n}-${f}-${g}-${h}-${z}"), "3-0.5-1e-05-1e+16-None");
        assert_eq!(
            s("${l[0]}/${l[1].k}/${l[-1].k}/${d.e.f}/${d[e][f]}"),
            "a/v/v/2/2"
        );
        assert_eq!(s("\\${s}-${s}"), "${s}-x");
        // Exactly one `${…}` keeps its type.
        assert_eq!(render(&c, "${b}").unwrap(), Yaml::Bool(true));
        assert_eq!(render(&c, "${n}").unwrap(), Yaml::Int("3".into()));
        assert_eq!(
            render(&c, "${missing}").unwrap_err(),
            "Could not find 'missing'"
        );
        assert_eq!(
            render(&c, "x${d}").unwrap_err(),
            "Cannot interpolate data of type 'dict'"
        );
        assert!(render(&c, "${}").is_err());
        assert!(render(&c, "${a..b}").is_err());
    }

    #[test]
    fn float_repr_matches_python() {
        for (f, text) in [
            (0.1, "0.1"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (1e-4, "0.0001"),
            (1.5e-5, "1.5e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (-2.5, "-2.5"),
            (123.456, "123.456"),
        ] {
            assert_eq!(python_float_repr(f), text);
        }
    }

    #[test]
    fn merging_never_overwrites() {
        let mut c = ctx("a: {b: 1}\n");
        let more = yaml::parse(b"a: {c: 2}\n", usize::MAX).unwrap();
        c.merge(&more, "x.yaml", &mut Budget::new(100)).unwrap();
        let again = yaml::parse(b"a: {b: 3}\n", usize::MAX).unwrap();
        assert_eq!(
            c.merge(&again, "y.yaml", &mut Budget::new(100))
                .unwrap_err(),
            "cannot redefine 'a.b' from 'y.yaml' as it already exists"
        );
    }

    #[test]
    fn budget_is_enforced() {
        let c = ctx("s: xxxxxxxxxx\n");
        assert!(c
            .resolve_str("${s}${s}${s}", Some("outs"), &mut Budget::new(10))
            .is_err());
    }
}
