//! `GIT_CONFIG_PARAMETERS`: the `-c key=value` settings of `git -c … <command>`, which git
//! hands to every command and hook it runs in this variable (gix reads `GIT_CONFIG_COUNT`
//! but not this one). Parsed as git's `parse_config_env_list` parses it: single-quoted
//! words (`'\''` is a quote inside one), either `'key'='value'` (git 2.31 and later),
//! `'key'` (no value: a boolean true) or the older `'key=value'`.

/// The settings in `GIT_CONFIG_PARAMETERS`, as `key=value` (or `key` alone) for
/// [`gix::open::Options::cli_overrides`]; an unreadable variable gives none (git itself
/// refuses to run then, so nothing gets here with one).
pub fn from_env() -> Vec<String> {
    match std::env::var("GIT_CONFIG_PARAMETERS") {
        Ok(text) => parse(&text).unwrap_or_default(),
        Err(_) => Vec::new(),
    }
}

fn parse(text: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        if rest.is_empty() {
            return Some(out);
        }
        let (key, after) = quoted(rest)?;
        rest = after;
        if let Some(after_eq) = rest.strip_prefix('=') {
            let (value, after) = quoted(after_eq)?;
            out.push(format!("{key}={value}"));
            rest = after;
        } else {
            // The old form: the key and value in one word, split at the first `=`.
            out.push(key);
        }
        if !rest.is_empty() && !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            return None;
        }
    }
}

/// One single-quoted word at the start of `text` (with `'\''` and `'\!'` escapes, as
/// git's `sq_quote` writes them), and what follows it.
fn quoted(text: &str) -> Option<(String, &str)> {
    let mut rest = text.strip_prefix('\'')?;
    let mut word = String::new();
    loop {
        let end = rest.find('\'')?;
        word.push_str(&rest[..end]);
        rest = &rest[end + 1..];
        match rest.as_bytes() {
            [b'\\', c @ (b'\'' | b'!'), b'\'', ..] => {
                word.push(*c as char);
                rest = &rest[3..];
            }
            _ => return Some((word, rest)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_what_git_writes() {
        // What `git -c dvc.checkout.fetch=false -c 'a.b=it'\''s' -c flag.on` exports.
        let text = r"'dvc.checkout.fetch'='false' 'a.b'='it'\''s' 'flag.on'";
        assert_eq!(
            parse(text).unwrap(),
            ["dvc.checkout.fetch=false", "a.b=it's", "flag.on"]
        );
        // The form before git 2.31.
        assert_eq!(
            parse("'dvc.maxfilesize=50' 'x.y=1'").unwrap(),
            ["dvc.maxfilesize=50", "x.y=1"]
        );
        assert_eq!(parse("").unwrap(), Vec::<String>::new());
        assert!(parse("'unterminated").is_none());
        assert!(parse("bare").is_none());
    }
}
