//! The command line as DVC's argparse splits it, where clap would split it otherwise.
//!
//! `dvc add` takes `- x` (a dash, then a space) and `-1` as paths: argparse treats an
//! argument as an option only when it looks like one (no space, not a negative number, not
//! a lone `-`). clap takes every `-…` word for an option. For `add`, whose options are all
//! flags, the words are sorted the way argparse sorts them and the paths are put after a
//! `--`, so clap sees exactly the paths DVC would see, in their order.
//!
//! ```
//! use git_dvc::cli::argv::as_dvc_splits;
//! let split = as_dvc_splits(["git-dvc", "add", "- x", "-q", "-1", "data"].map(Into::into).to_vec());
//! assert_eq!(split, ["git-dvc", "add", "-q", "--", "- x", "-1", "data"].map(std::ffi::OsString::from));
//! ```

use std::ffi::OsString;

/// `add`'s options, short and long (all flags).
const ADD_SHORT: &[&str] = &["-q", "-h"];
const ADD_LONG: &[&str] = &["--quiet", "--help"];

/// `args` (program first) with `add`'s paths moved behind a `--`; other commands as given.
pub fn as_dvc_splits(args: Vec<OsString>) -> Vec<OsString> {
    if args.get(1).is_none_or(|a| a != "add") {
        return args;
    }
    let mut options = Vec::new();
    let mut paths = Vec::new();
    let mut rest = args.into_iter();
    let head: Vec<OsString> = rest.by_ref().take(2).collect();
    let mut after_separator = false;
    for arg in rest {
        if after_separator {
            paths.push(arg);
        } else if arg == "--" {
            after_separator = true;
        } else if is_option(&arg) {
            options.push(arg);
        } else {
            paths.push(arg);
        }
    }
    let mut out = head;
    out.extend(options);
    if !paths.is_empty() {
        out.push("--".into());
        out.extend(paths);
    }
    out
}

/// argparse's `_parse_optional` for a parser whose options are `add`'s.
fn is_option(arg: &OsString) -> bool {
    // Not UTF-8: argparse would see surrogate escapes, never a known option; only a
    // leading dash decides, as below.
    let text = arg.to_string_lossy();
    if !text.starts_with('-') || text == "-" {
        return false;
    }
    if let Some(long) = text.strip_prefix("--") {
        let name = long.split('=').next().unwrap_or_default();
        if ADD_LONG.iter().any(|o| o[2..] == *name) {
            return true;
        }
    } else if ADD_SHORT.iter().any(|o| text.starts_with(o)) {
        // `-q…`: the flag with an attached value (an error, as in argparse) or more flags.
        return true;
    }
    !(is_negative_number(&text) || text.contains(' '))
}

/// argparse's `^-\d+$|^-\d*\.\d+$`.
fn is_negative_number(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('-') else {
        return false;
    };
    let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    match digits.split_once('.') {
        None => !digits.is_empty() && all_digits(digits),
        Some((whole, fraction)) => {
            all_digits(whole) && !fraction.is_empty() && all_digits(fraction)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(args: &[&str]) -> Vec<String> {
        let mut full = vec!["git-dvc".to_string()];
        full.extend(args.iter().map(|a| a.to_string()));
        as_dvc_splits(full.into_iter().map(OsString::from).collect())
            .into_iter()
            .skip(1)
            .map(|a| a.into_string().unwrap())
            .collect()
    }

    #[test]
    fn paths_go_behind_a_separator_in_their_order() {
        assert_eq!(
            split(&["add", "a", "-q", "b"]),
            ["add", "-q", "--", "a", "b"]
        );
        assert_eq!(
            split(&["add", "- x", "-", "-1", "-.5", "-2.0"]),
            ["add", "--", "- x", "-", "-1", "-.5", "-2.0"]
        );
        assert_eq!(
            split(&["add", "a", "--", "-q", "--"]),
            ["add", "--", "a", "-q", "--"]
        );
    }

    #[test]
    fn options_stay_options() {
        // Unknown options stay options, for clap to refuse as argparse refuses them.
        assert_eq!(split(&["add", "-y", "a"]), ["add", "-y", "--", "a"]);
        assert_eq!(split(&["add", "--quiet=a b"]), ["add", "--quiet=a b"]);
        assert_eq!(split(&["add", "-q x"]), ["add", "-q x"]);
        assert_eq!(split(&["add", "--bogus x"]), ["add", "--", "--bogus x"]);
        assert_eq!(split(&["add", "-1x"]), ["add", "-1x"]);
        assert_eq!(split(&["add"]), ["add"]);
    }

    #[test]
    fn other_commands_are_left_alone() {
        assert_eq!(split(&["push", "- x"]), ["push", "- x"]);
        assert_eq!(split(&[]), Vec::<String>::new());
    }
}
