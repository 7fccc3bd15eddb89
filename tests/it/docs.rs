//! The man pages in `man/` and the shell completions in `completions/` are generated from the
//! clap definitions in `src/cli/` (the one source of truth that also produces `--help`), and
//! checked in so that an install needs no build step to place them. This test regenerates
//! them in memory and fails when the checked-in copies differ.
//!
//! To update them after changing a command, flag or doc comment:
//!
//! ```sh
//! GIT_DVC_UPDATE_DOCS=1 cargo test --test it docs::
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

const UPDATE_ENV: &str = "GIT_DVC_UPDATE_DOCS";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The command as the docs present it: `git dvc …` in usage lines, each page named as git
/// looks it up (`git help dvc` opens `git-dvc(1)`, `git dvc push --help`-style pages are
/// `git-dvc-push(1)`).
fn command() -> clap::Command {
    let mut cmd = git_dvc::cli::Cli::command();
    cmd.build();
    cmd
}

fn render_man(cmd: clap::Command) -> Vec<u8> {
    // clap_mangen would put the closing text of `--help` under a heading "EXTRA"; it is
    // rendered here as the sections it is made of.
    let after = cmd.get_after_long_help().map(|t| t.to_string());
    let cmd = cmd.after_long_help(None::<&str>);
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .manual("Git Manual")
        .source(format!("git-dvc {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)
        .expect("rendering a man page into memory cannot fail");
    let mut page = String::from_utf8(out).expect("clap_mangen writes UTF-8");
    if let Some(text) = after {
        let sections = sections_roff(&text);
        match page.find(".SH VERSION") {
            Some(at) => page.insert_str(at, &sections),
            None => page.push_str(&sections),
        }
    }
    page.into_bytes()
}

/// `Heading:` blocks of a help text as man sections: each indented `term  text` line a tagged
/// paragraph (`.TP`), a line indented past its block's terms continuing the paragraph above,
/// other blocks plain paragraphs.
fn sections_roff(text: &str) -> String {
    use clap_mangen::roff::{bold, roman, Roff};
    let mut roff = Roff::new();
    for block in text.split("\n\n") {
        let mut lines = block.lines();
        let first = lines.next().unwrap_or_default();
        match first.strip_suffix(':').filter(|t| !t.starts_with(' ')) {
            Some(title) => {
                roff.control("SH", [title.to_uppercase().as_str()]);
                for line in lines {
                    let indent = line.len() - line.trim_start().len();
                    let line = line.trim_start();
                    if indent > 4 {
                        roff.text([roman(line)]);
                        continue;
                    }
                    roff.control("TP", []);
                    match line.split_once("  ") {
                        Some((term, desc)) => {
                            roff.text([bold(term)]);
                            roff.text([roman(desc.trim_start())]);
                        }
                        None => {
                            roff.text([bold(line)]);
                        }
                    }
                }
            }
            None => {
                roff.control("PP", []);
                roff.text([roman(block.replace('\n', " "))]);
            }
        }
    }
    let rendered = roff.render();
    // Keep the sections only: the page already starts with roff's preamble.
    let start = rendered
        .find(".SH")
        .or_else(|| rendered.find(".PP"))
        .unwrap_or(0);
    rendered[start..].to_string()
}

/// Every generated file, by path relative to the repository root.
fn generated() -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let cmd = command();
    files.insert("man/git-dvc.1".to_string(), render_man(cmd.clone()));
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        // clap names are `&'static str`; these few leak for the life of the test.
        let page: &'static str = Box::leak(format!("git-dvc-{}", sub.get_name()).into_boxed_str());
        let sub = sub
            .clone()
            .name(page)
            .display_name(page)
            .bin_name(format!("git dvc {}", sub.get_name()));
        files.insert(format!("man/{page}.1"), render_man(sub));
    }

    // Completions are for the program `git-dvc`: zsh's and fish's git completions hand
    // `git dvc …` to it, and bash's calls `_git_dvc` (see `bash_completion`).
    for (shell, path) in [
        (Shell::Zsh, "completions/_git-dvc"),
        (Shell::Fish, "completions/git-dvc.fish"),
    ] {
        let mut cmd = git_dvc::cli::Cli::command();
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut cmd, "git-dvc", &mut out);
        files.insert(path.to_string(), out);
    }
    files.insert("completions/git-dvc.bash".to_string(), bash_completion());
    files
}

/// clap_complete's bash script for `git-dvc`, adapted to git's completion.
///
/// git completes `git dvc …` by loading the completion file named `git-dvc` and calling a
/// function `_git_dvc` with no arguments and its own `words`/`cword`. clap_complete names
/// its function after the binary, and for a name with a `-` it also writes case labels that
/// do not match each other (`git__dvc` vs `git__subcmd__dvc…`), so subcommand options never
/// complete. Generating for `git_dvc` gives consistent labels; the function is then renamed
/// and `_git_dvc` becomes a wrapper that serves both `git-dvc …` (bash passes arguments) and
/// `git dvc …` (git passes none).
fn bash_completion() -> Vec<u8> {
    let mut cmd = git_dvc::cli::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(Shell::Bash, &mut cmd, "git_dvc", &mut out);
    let script = String::from_utf8(out).expect("clap_complete writes UTF-8");
    let replace_exactly = |text: String, from: &str, to: &str, times: usize| -> String {
        let found = text.matches(from).count();
        assert_eq!(
            found, times,
            "clap_complete's bash output changed: expected {from:?} {times} time(s), found it \
             {found} time(s); update bash_completion() in tests/it/docs.rs"
        );
        text.replace(from, to)
    };
    let script = replace_exactly(script, "\n_git_dvc() {\n", "\n_git_dvc_words() {\n", 0);
    let script = replace_exactly(script, "_git_dvc() {\n", "_git_dvc_words() {\n", 1);
    let script = replace_exactly(script, " -o default git_dvc\n", " -o default git-dvc\n", 2);
    let mut script = script;
    script.push_str(BASH_GIT_BRIDGE);
    script.into_bytes()
}

/// `_git_dvc` for both callers: bash's `complete -F` (with arguments) and git's completion
/// (without, for `git dvc …`; its `words` start with `git`, and `__git_cmd_idx` is where
/// `dvc` sits, after options such as `-C dir`).
const BASH_GIT_BRIDGE: &str = r#"
_git_dvc() {
    if [[ $# -gt 0 ]]; then
        _git_dvc_words "$@"
        return
    fi
    local start=${__git_cmd_idx:-1}
    local COMP_WORDS=("git-dvc" "${words[@]:start+1}")
    local COMP_CWORD=$((cword - start))
    _git_dvc_words git-dvc "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

#[test]
fn man_pages_and_completions_are_current() {
    let files = generated();
    let update = std::env::var_os(UPDATE_ENV).is_some_and(|v| !v.is_empty() && v != "0");
    let mut stale = Vec::new();
    for (rel, bytes) in &files {
        let path = root().join(rel);
        if fs::read(&path).ok().as_deref() == Some(bytes.as_slice()) {
            continue;
        }
        if update {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            eprintln!("updated {rel}");
        } else {
            stale.push(rel.clone());
        }
    }
    // Pages of removed commands must go too.
    for dir in ["man", "completions"] {
        for entry in fs::read_dir(root().join(dir)).into_iter().flatten() {
            let entry = entry.unwrap();
            let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
            if !files.contains_key(&rel) {
                if update {
                    fs::remove_file(entry.path()).unwrap();
                    eprintln!("removed {rel}");
                } else {
                    stale.push(format!("{rel} (no longer generated)"));
                }
            }
        }
    }
    assert!(
        stale.is_empty(),
        "the generated docs are out of date with the clap definitions in src/cli/:\n  {}\n\
         Regenerate them with:\n    {UPDATE_ENV}=1 cargo test --test it docs::\nand commit the result.",
        stale.join("\n  ")
    );
}

#[test]
fn every_command_has_a_page_that_man_can_read() {
    let files = generated();
    for sub in command()
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
    {
        let rel = format!("man/git-dvc-{}.1", sub.get_name());
        assert!(files.contains_key(&rel), "no page {rel}");
    }
    let main = String::from_utf8(files["man/git-dvc.1"].clone()).unwrap();
    assert!(main.contains(".TH git-dvc 1"), "{main}");
    // The main page points to each command's page, as git's own pages do.
    assert!(main.contains("git\\-dvc\\-push(1)"), "{main}");
    let push = String::from_utf8(files["man/git-dvc-push.1"].clone()).unwrap();
    assert!(push.contains(".TH git-dvc-push 1"), "{push}");
    assert!(push.contains("git dvc push"), "{push}");
}

/// Renders a page as `man` would show it, when `man` is installed (scripts/test.sh installs
/// it), to catch roff that formats badly.
#[test]
fn pages_render_without_warnings() {
    if Path::new("/usr/bin/man").exists() || which("man").is_some() {
        for (rel, _) in generated().iter().filter(|(r, _)| r.starts_with("man/")) {
            let out = std::process::Command::new("man")
                .arg("-l")
                .arg("--warnings")
                .arg(root().join(rel))
                .env("MANWIDTH", "80")
                .env("MAN_KEEP_FORMATTING", "0")
                .env("PAGER", "cat")
                .env("MANPAGER", "cat")
                .output()
                .expect("run man");
            assert!(out.status.success(), "man -l {rel} failed: {out:?}");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(stderr.trim().is_empty(), "man -l {rel} warns:\n{stderr}");
        }
    } else {
        panic!("`man` is not installed: run the suite with `bash scripts/test.sh`, which installs man-db");
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// `git dvc <TAB>` and `git-dvc <TAB>` in bash, through git's own completion.
#[test]
fn bash_completion_completes_git_dvc() {
    let framework = Path::new("/usr/share/bash-completion/bash_completion");
    assert!(
        framework.exists(),
        "{} is missing: run the suite with `bash scripts/test.sh`, which installs bash-completion",
        framework.display()
    );
    // The generated script (equal to the checked-in one when `man_pages_and_completions_are_current`
    // passes), so that regenerating the files does not race with this test.
    let dir = tempfile::tempdir().unwrap();
    let ours = dir.path().join("git-dvc.bash");
    fs::write(&ours, bash_completion()).unwrap();
    let complete = |line: &str| -> Vec<String> {
        let script = format!(
            r#"source {bc}
source {ours}
__load_completion git >/dev/null 2>&1 || _completion_loader git
read -r -a COMP_WORDS <<< "$LINE"
[[ "$LINE" == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="$LINE"; COMP_POINT=${{#LINE}}
"$(complete -p "${{COMP_WORDS[0]}}" | sed -E 's/.*-F ([^ ]+).*/\1/')" "${{COMP_WORDS[0]}}" "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
            bc = framework.display(),
            ours = ours.display()
        );
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(script)
            .env("LINE", line)
            .output()
            .expect("run bash");
        assert!(out.status.success(), "bash failed for {line:?}: {out:?}");
        let words: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(str::to_string)
            .collect();
        eprintln!(
            "{line:?}: {words:?}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        words
    };
    for line in ["git dvc pu", "git-dvc pu"] {
        let got = complete(line);
        assert!(
            got.contains(&"push".to_string()),
            "{line:?} completes to {got:?}"
        );
    }
    for line in [
        "git dvc push --all-",
        "git-dvc push --all-",
        "git -C . dvc push --all-",
    ] {
        let got = complete(line);
        assert!(
            got.contains(&"--all-branches".to_string()) && got.contains(&"--all-tags".to_string()),
            "{line:?} completes to {got:?}"
        );
    }
}
