//! `scripts/install.sh` into a temporary prefix: the binary, every man page and the shell
//! completions land where they should, `man` finds the pages, and `git help dvc` /
//! `git dvc --help` open `git-dvc(1)`.
//!
//! The install uses the binary under test (`--binary`); `scripts/test.sh` also runs the
//! script's `cargo install` path once.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn install(env: &TestEnv, prefix: &Path) -> Run {
    let mut cmd = env.command("bash", env.root());
    cmd.arg(root().join("scripts/install.sh"))
        .arg("--prefix")
        .arg(prefix)
        .arg("--binary")
        .arg(git_dvc_bin());
    let run = run_command(cmd, COMMAND_TIMEOUT);
    run.assert_success();
    run
}

/// A command that sees the installed git-dvc first on PATH (not the build directory).
fn installed_command(env: &TestEnv, prefix: &Path, program: &str) -> Command {
    let mut cmd = env.command(program, env.root());
    let system = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![prefix.join("bin")];
    dirs.extend(std::env::split_paths(&system));
    cmd.env("PATH", std::env::join_paths(dirs).unwrap())
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "80")
        .env_remove("MANPATH");
    cmd
}

#[test]
fn installs_binary_man_pages_and_completions() {
    let env = TestEnv::new();
    let prefix = env.path("prefix");
    let out = install(&env, &prefix);
    assert!(
        out.stdout.contains("Installed git-dvc"),
        "{}",
        out.describe()
    );

    let mut expected = vec![
        "bin/git-dvc".to_string(),
        "share/bash-completion/completions/git-dvc".to_string(),
        "share/zsh/site-functions/_git-dvc".to_string(),
        "share/fish/vendor_completions.d/git-dvc.fish".to_string(),
    ];
    for page in std::fs::read_dir(root().join("man")).unwrap() {
        let name = page.unwrap().file_name().to_string_lossy().into_owned();
        expected.push(format!("share/man/man1/{name}"));
    }
    assert!(expected.len() > 10, "{expected:?}");
    let installed = list_names(&prefix);
    for rel in &expected {
        assert!(
            installed.contains(rel),
            "{rel} was not installed; got {installed:?}"
        );
    }
    let version = Command::new(prefix.join("bin/git-dvc"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("git-dvc "));

    // man finds the page with MANPATH set, and (man-db) from PATH alone.
    let page = prefix.join("share/man/man1/git-dvc.1");
    for manpath in [Some(prefix.join("share/man")), None] {
        let mut cmd = installed_command(&env, &prefix, "man");
        cmd.args(["-w", "git-dvc"]);
        if let Some(m) = &manpath {
            cmd.env("MANPATH", m);
        }
        let run = run_command(cmd, COMMAND_TIMEOUT);
        run.assert_success();
        assert_eq!(
            run.out(),
            page.to_str().unwrap(),
            "man -w git-dvc with MANPATH {manpath:?}\n{}",
            run.describe()
        );
    }

    // git maps both of these to `man git-dvc`.
    for args in [&["help", "dvc"][..], &["dvc", "--help"]] {
        let mut cmd = installed_command(&env, &prefix, "git");
        cmd.args(args);
        let run = run_command(cmd, COMMAND_TIMEOUT);
        run.assert_success();
        assert!(
            run.stdout
                .contains("git-dvc - Keep DVC data and git history in step")
                && run.stdout.contains("git-dvc-push(1)"),
            "git {args:?} did not show git-dvc(1)\n{}",
            run.describe()
        );
    }
    let mut cmd = installed_command(&env, &prefix, "man");
    cmd.arg("git-dvc-push");
    let run = run_command(cmd, COMMAND_TIMEOUT);
    run.assert_success()
        .assert_stdout_contains_all(&["git-dvc-push(1)", "--all-branches"]);
}

/// bash-completion loads the installed completion on demand, through git's completion. It
/// looks under `$XDG_DATA_DIRS` (default `/usr/local/share:/usr/share`) and
/// `~/.local/share`, so the two default prefixes need no setup; another prefix is added to
/// `XDG_DATA_DIRS`, as here.
#[test]
fn bash_finds_the_installed_completion() {
    let framework = Path::new("/usr/share/bash-completion/bash_completion");
    assert!(
        framework.exists(),
        "{} is missing: run the suite with `bash scripts/test.sh`, which installs bash-completion",
        framework.display()
    );
    let env = TestEnv::new();
    let prefix = env.path("prefix");
    install(&env, &prefix);
    let script = format!(
        r#"source {fw}
__load_completion git || _completion_loader git
COMP_WORDS=(git dvc pus); COMP_CWORD=2; COMP_LINE="git dvc pus"; COMP_POINT=${{#COMP_LINE}}
__git_wrap__git_main git pus dvc
printf '%s\n' "${{COMPREPLY[@]}}"
"#,
        fw = framework.display()
    );
    let mut cmd = installed_command(&env, &prefix, "bash");
    cmd.arg("-c").arg(script).env(
        "XDG_DATA_DIRS",
        format!(
            "{}:/usr/local/share:/usr/share",
            prefix.join("share").display()
        ),
    );
    let run = run_command(cmd, COMMAND_TIMEOUT);
    run.assert_success();
    assert_eq!(run.out(), "push", "{}", run.describe());
}
