//! `git dvc add` against real `dvc add` (DVC 3.67.1): the same inputs in two fresh
//! repositories must leave the same `.dvc` files, `.gitignore`s, cache objects (names, bytes,
//! modes) and work-tree files (bytes, modes, links replaced), and DVC must see nothing to do
//! afterwards.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::fixtures::write_unicode_tree;
use common::*;

/// Everything but git's own data and DVC's scratch space (locks, state databases).
const SKIP: &[&str] = &[".git", ".dvc/tmp"];

/// Its md5 is all digits (`59377802380272149678051001510474`): ruamel quotes it.
const DIGITS_MD5_BYTES: &[u8] = b"git-dvc 3462712\n";
/// Its md5 reads as a float (`85e51880946740832900596901065484`): quoted too.
const FLOAT_MD5_BYTES: &[u8] = b"git-dvc 2282964\n";

const LONG_NAME: &str =
    "a file name with spaces that is long enough to be folded by the YAML dumper at column eighty.txt";
const ODD_NAME: &str = "we[ir]d #1!?* 'quoted' name.txt";

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The inputs: a unicode tree with executables, links and dotfiles, and single files of
/// every awkward kind. Returns the paths to add.
fn write_inputs(repo: &Repo<'_>) -> Vec<String> {
    write_unicode_tree(repo, "data", 0);
    repo.write("data/.hidden", "dot\n");
    repo.write("data/tool.sh", "#!/bin/sh\n");
    chmod(&repo.path("data/tool.sh"), 0o750);
    repo.write("data/private.txt", "p\n");
    chmod(&repo.path("data/private.txt"), 0o600);
    std::os::unix::fs::symlink("a.txt", repo.path("data/link-to-a")).unwrap();
    repo.write("data/hard1", "hard\n");
    fs::hard_link(repo.path("data/hard1"), repo.path("data/hard2")).unwrap();
    fs::create_dir_all(repo.path("only-empty/one/two")).unwrap();

    repo.write("run.sh", "#!/bin/sh\necho hi\n");
    chmod(&repo.path("run.sh"), 0o755);
    repo.write("empty.bin", "");
    repo.write("crlf.txt", "one\r\ntwo\r\n");
    chmod(&repo.path("crlf.txt"), 0o600);
    repo.write("digits", DIGITS_MD5_BYTES);
    repo.write("2024-01-01", FLOAT_MD5_BYTES);
    repo.write(LONG_NAME, "long\n");
    repo.write(ODD_NAME, "odd\n");
    repo.write("ünïcødé 😀.txt", "emoji\n");
    repo.write("sub/dir/nested.txt", "nested\n");
    repo.write("real-target.txt", "target\n");
    std::os::unix::fs::symlink("real-target.txt", repo.path("file-link")).unwrap();
    repo.write("ignored/x.log", "log\n");
    // An existing .gitignore without a final newline, and one rule that already covers a
    // target (so no entry is added for it).
    repo.write(".gitignore", "*.log");

    [
        "data",
        "only-empty",
        "run.sh",
        "empty.bin",
        "crlf.txt",
        "digits",
        "2024-01-01",
        LONG_NAME,
        ODD_NAME,
        "ünïcødé 😀.txt",
        "sub/dir/nested.txt",
        "file-link",
        "ignored/x.log",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}

fn args(paths: &[String]) -> Vec<&str> {
    let mut args = vec!["add"];
    args.extend(paths.iter().map(String::as_str));
    args
}

#[track_caller]
fn assert_dvc_sees_nothing_to_do(repo: &Repo<'_>) {
    let status = repo.dvc(&["status"]);
    assert_eq!(
        status.out(),
        "Data and pipelines are up to date.",
        "{}",
        status.describe()
    );
}

#[test]
fn same_files_cache_and_modes_as_dvc_add() {
    let env = TestEnv::new();
    let theirs = env.dvc_repo("dvc");
    let ours = env.dvc_repo("git-dvc");
    let paths = write_inputs(&theirs);
    assert_eq!(write_inputs(&ours), paths);
    assert_same_tree("inputs", &theirs.dir, &ours.dir, SKIP);

    theirs.dvc(&args(&paths));
    let out = ours.git_dvc(&args(&paths));
    assert!(
        out.stdout.contains("To track the changes with git, run:"),
        "{}",
        out.describe()
    );
    assert_same_tree(
        "after add (A = dvc add, B = git dvc add)",
        &theirs.dir,
        &ours.dir,
        SKIP,
    );
    assert_dvc_sees_nothing_to_do(&ours);

    // The spot checks a reader wants to see, beyond "equal to DVC".
    let digits = String::from_utf8(ours.read("digits.dvc")).unwrap();
    assert!(
        digits.contains("- md5: '59377802380272149678051001510474'\n"),
        "{digits}"
    );
    let float = String::from_utf8(ours.read("2024-01-01.dvc")).unwrap();
    assert!(
        float.contains("- md5: '85e51880946740832900596901065484'\n")
            && float.contains("  path: '2024-01-01'\n"),
        "{float}"
    );
    let gitignore = String::from_utf8(ours.read(".gitignore")).unwrap();
    assert!(gitignore.starts_with("*.log\n/data\n"), "{gitignore}");
    assert!(!gitignore.contains("x.log"), "{gitignore}");
    assert!(gitignore.contains("/we\\[ir\\]d \\#1\\!\\?\\* 'quoted' name.txt\n"));
    assert_eq!(ours.read("sub/dir/.gitignore"), b"/nested.txt\n");
    assert!(fs::symlink_metadata(ours.path("file-link"))
        .unwrap()
        .is_file());
}

#[test]
fn adding_again_without_changes_changes_nothing() {
    let env = TestEnv::new();
    let ours = env.dvc_repo("git-dvc");
    let paths = write_inputs(&ours);
    ours.git_dvc(&args(&paths));
    let before = tree_state(&ours.dir, SKIP);
    let mtime = |rel: &str| fs::metadata(ours.path(rel)).unwrap().modified().unwrap();
    let stamps = (mtime("data.dvc"), mtime(".gitignore"));
    ours.git_dvc(&args(&paths));
    assert_eq!(tree_state(&ours.dir, SKIP), before);
    assert_eq!((mtime("data.dvc"), mtime(".gitignore")), stamps);

    // The same over what real DVC wrote.
    let theirs = env.dvc_repo("dvc");
    write_inputs(&theirs);
    theirs.dvc(&args(&paths));
    let before = tree_state(&theirs.dir, SKIP);
    theirs.git_dvc(&args(&paths));
    assert_eq!(tree_state(&theirs.dir, SKIP), before);
}

#[test]
fn adding_changed_data_again_matches_dvc() {
    let env = TestEnv::new();
    let theirs = env.dvc_repo("dvc");
    let ours = env.dvc_repo("git-dvc");
    let paths = write_inputs(&theirs);
    write_inputs(&ours);
    theirs.dvc(&args(&paths));
    ours.git_dvc(&args(&paths));
    for repo in [&theirs, &ours] {
        repo.write("data/a.txt", "changed\n");
        fs::remove_file(repo.path("data/sub/b.txt")).unwrap();
        repo.write("data/new/file.txt", "new\n");
        repo.write("run.sh", "#!/bin/sh\necho changed\n");
        chmod(&repo.path("crlf.txt"), 0o755);
    }
    let again = ["data", "run.sh", "crlf.txt"].map(String::from);
    theirs.dvc(&args(&again));
    ours.git_dvc(&args(&again));
    assert_same_tree(
        "after re-add (A = dvc, B = git-dvc)",
        &theirs.dir,
        &ours.dir,
        SKIP,
    );
    assert_dvc_sees_nothing_to_do(&ours);
}

/// Adding from a subdirectory, with relative paths, gives the same result.
#[test]
fn paths_are_relative_to_the_current_directory() {
    let env = TestEnv::new();
    let theirs = env.dvc_repo("dvc");
    let ours = env.dvc_repo("git-dvc");
    for repo in [&theirs, &ours] {
        repo.write("sub/one.txt", "1\n");
        repo.write("top.txt", "top\n");
    }
    env.dvc(&theirs.path("sub"), &["add", "one.txt", "../top.txt"]);
    let out = env.git_dvc(&ours.path("sub"), &["add", "one.txt", "../top.txt"]);
    assert!(
        out.stdout
            .contains("\tgit add ../.gitignore ../top.txt.dvc .gitignore one.txt.dvc\n"),
        "{}",
        out.describe()
    );
    assert_same_tree("from a subdirectory", &theirs.dir, &ours.dir, SKIP);
}

#[test]
fn autostage_stages_the_files_to_commit() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.dvc(&["config", "core.autostage", "true"]);
    repo.write("data/x.txt", "x\n");
    let out = repo.git_dvc(&["add", "data"]);
    assert_eq!(out.out(), "", "{}", out.describe());
    let staged = repo.git(&["diff", "--cached", "--name-only"]);
    assert_eq!(staged, ".gitignore\ndata.dvc\n");
}

/// The repository the refusal cases run in: files in git, tracked outputs, a pipeline, a
/// stray `.dvc` file, a directory symlink, a `.dvcignore` inside a directory.
fn refusal_repo<'e>(env: &'e TestEnv, name: &str) -> Repo<'e> {
    let repo = env.dvc_repo(name);
    repo.write("tracked.txt", "in git\n");
    repo.write("in-git/file.txt", "in git\n");
    repo.commit_all("files in git");
    repo.write("data/x.txt", "x\n");
    repo.write("data/y.txt", "y\n");
    repo.dvc(&["add", "-q", "data"]);
    repo.write("outer/inner/z.txt", "z\n");
    repo.dvc(&["add", "-q", "outer/inner"]);
    repo.write(
        "dvc.yaml",
        "stages:\n  make:\n    cmd: echo hi > made.txt\n    outs:\n    - made.txt\n",
    );
    repo.write("made.txt", "hi\n");
    repo.write("free.txt", "free\n");
    repo.write("stray.txt", "stray\n");
    repo.write(
        "stray.txt.dvc",
        "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: other\n",
    );
    fs::create_dir_all(repo.path("real-dir")).unwrap();
    repo.write("real-dir/f.txt", "f\n");
    std::os::unix::fs::symlink("real-dir", repo.path("dir-link")).unwrap();
    repo.write("with-ignore/.dvcignore", "*.tmp\n");
    repo.write("with-ignore/k.txt", "k\n");
    repo
}

/// What users get wrong: side by side with `dvc add`, the same exit code and DVC's own
/// words (plus what to do), and nothing changed. Where git-dvc refuses what DVC does,
/// the case says so.
#[test]
fn refuses_what_dvc_would_not_track() {
    let env = TestEnv::new();
    let ours = refusal_repo(&env, "ours");
    let theirs = refusal_repo(&env, "theirs");
    let outside = env.mkdir("outside");
    fs::write(outside.join("o.txt"), "o\n").unwrap();

    // (paths, our exit code, DVC's, words both print, words only we print).
    type Case<'a> = (&'a [&'a str], i32, i32, Option<&'a str>, &'a str);
    let cases: &[Case] = &[
        (
            &["../outside/o.txt"],
            1,
            1,
            Some("Cached output(s) outside of DVC project: "),
            "only paths inside the repository",
        ),
        (
            &[".git/config"],
            1,
            1,
            Some("/.git/config' is ignored by"),
            "inside .git/",
        ),
        (
            &[".dvc/config"],
            1,
            1,
            Some("/.dvc/config' is ignored by"),
            "inside .dvc/",
        ),
        (
            &["tracked.txt"],
            1,
            1,
            Some("output 'tracked.txt' is already tracked by SCM (e.g. Git)"),
            "stop tracking it with git first",
        ),
        (
            &["in-git"],
            1,
            1,
            Some("git rm -r --cached 'in-git'"),
            "git commit -m",
        ),
        // DVC changes data.dvc to hold the file's new state (and drops its size);
        // git-dvc adds the whole directory again instead.
        (&["data/x.txt"], 1, 0, None, "git dvc add data"),
        (
            &["outer"],
            1,
            1,
            Some(
                "Cannot add 'outer', because it is overlapping with other DVC tracked output: \
                 'outer/inner'",
            ),
            "dvc remove outer/inner.dvc",
        ),
        (
            &["made.txt"],
            1,
            1,
            Some("cannot update 'made.txt': overlaps with an output of stage"),
            "dvc repro",
        ),
        (
            &["missing.txt"],
            1,
            1,
            Some("output 'missing.txt' does not exist"),
            "check the path",
        ),
        (
            &["data.dvc"],
            1,
            1,
            Some("DVC file 'data.dvc' cannot be an output."),
            "metadata",
        ),
        (&["."], 1, 1, None, "repository root"),
        (
            &["dir-link"],
            1,
            1,
            Some("Cannot add files inside symlinked directories to DVC"),
            "symbolic link to a directory",
        ),
        (
            &["dir-link/f.txt"],
            1,
            1,
            Some("Cannot add files inside symlinked directories to DVC"),
            "dir-link is a symbolic link",
        ),
        // DVC overwrites a `.dvc` file that tracks something else; git-dvc keeps it.
        (
            &["stray.txt"],
            1,
            0,
            None,
            "stray.txt.dvc exists but does not track 'stray.txt'",
        ),
        (
            &["free.txt", "data/y.txt"],
            1,
            0,
            None,
            "which data.dvc tracks",
        ),
        (
            &["real-dir", "real-dir/f.txt"],
            1,
            1,
            Some(
                "Cannot add 'real-dir', because it is overlapping with other DVC tracked \
                 output: 'real-dir/f.txt'",
            ),
            "both are being added",
        ),
        (
            &["with-ignore"],
            255,
            255,
            Some(".dvcignore file should not be in collected dir path"),
            "move its patterns",
        ),
    ];
    let before = tree_state(&ours.dir, SKIP);
    for (paths, our_code, dvc_code, both, only_ours) in cases {
        let mut args = vec!["add"];
        args.extend_from_slice(paths);
        let dvc = theirs.try_dvc(&args);
        dvc.assert_code(*dvc_code);
        let run = ours.try_git_dvc(&args);
        run.assert_code(*our_code).assert_stderr_contains(only_ours);
        if let Some(words) = both {
            dvc.assert_stderr_contains(words);
            run.assert_stderr_contains(words);
        }
        assert!(run.stderr.starts_with("ERROR: "), "{}", run.describe());
        assert_eq!(
            tree_state(&ours.dir, SKIP),
            before,
            "git dvc add {paths:?} changed the repository although it failed"
        );
    }
    // Outside a DVC project: DVC's 253.
    let plain = env.git_repo("plain");
    plain.write("f.txt", "f\n");
    plain
        .try_git_dvc(&["add", "f.txt"])
        .assert_code(253)
        .assert_stderr_contains("you are not inside of a DVC repository");
    plain
        .try_dvc(&["add", "f.txt"])
        .assert_code(253)
        .assert_stderr_contains("you are not inside of a DVC repository");
}

/// Names that look like options: `- x` and `-1` are paths to `dvc add` (argparse), `-y`
/// is an unknown option to both (DVC's usage error, 254), `-- -y` a path again. Same
/// files as DVC's.
#[test]
fn dash_names_are_paths_as_in_dvc() {
    let env = TestEnv::new();
    let theirs = env.dvc_repo("dvc");
    let ours = env.dvc_repo("git-dvc");
    for repo in [&theirs, &ours] {
        repo.write("- x", "dash space\n");
        repo.write("-1", "minus one\n");
        repo.write("-y", "dash y\n");
    }
    theirs.try_dvc(&["add", "-y"]).assert_code(254);
    ours.try_git_dvc(&["add", "-y"])
        .assert_code(254)
        .assert_stderr_contains("'-y'");
    ours.try_git_dvc(&["add"]).assert_code(254);
    theirs.dvc(&["add", "- x", "-1"]);
    ours.git_dvc(&["add", "- x", "-q", "-1"]);
    theirs.dvc(&["add", "--", "-y"]);
    ours.git_dvc(&["add", "--", "-y"]);
    assert_same_tree(
        "after add (A = dvc add, B = git dvc add)",
        &theirs.dir,
        &ours.dir,
        SKIP,
    );
    assert!(ours.path("- x.dvc").is_file() && ours.path("-1.dvc").is_file());
}

/// A name with trailing spaces: DVC writes `/name ` bare, which git reads as `/name`
/// (trailing spaces stripped), so the data file shows up in `git status`. git-dvc writes
/// `/name\ ` (a deliberate difference, in the README); git ignores the file, and a bare
/// entry DVC wrote before is not taken for a rule that covers it.
#[test]
fn trailing_space_names_are_ignored_by_git() {
    let env = TestEnv::new();
    let theirs = env.dvc_repo("dvc");
    let ours = env.dvc_repo("git-dvc");
    for repo in [&theirs, &ours] {
        repo.write("name ", "spaced\n");
        repo.write("two  ", "two spaces\n");
    }
    theirs.dvc(&["add", "name ", "two  "]);
    ours.git_dvc(&["add", "name ", "two  "]);
    assert_eq!(theirs.read(".gitignore"), b"/name \n/two  \n");
    assert_eq!(ours.read(".gitignore"), b"/name\\ \n/two\\ \\ \n");
    // DVC's entries leave the data to git; ours do not.
    let untracked = |repo: &Repo<'_>| repo.git(&["status", "--porcelain", "--untracked-files=all"]);
    assert!(
        untracked(&theirs).contains("?? \"name \""),
        "{}",
        untracked(&theirs)
    );
    let status = untracked(&ours);
    assert!(
        !status.contains("\"name \"") && !status.contains("\"two  \""),
        "{status}"
    );
    ours.try_git(&["check-ignore", "-q", "name "])
        .assert_code(0);
    ours.try_git(&["check-ignore", "-q", "name"]).assert_code(1);
    // The same .dvc files, and DVC sees nothing to do in our repository.
    assert_eq!(theirs.read("name .dvc"), ours.read("name .dvc"));
    assert_dvc_sees_nothing_to_do(&ours);
    // Adding again: our entry is recognised, nothing is appended; in DVC's repository the
    // bare entry is no rule for the file, so ours goes beside it (once).
    ours.write("name ", "changed\n");
    ours.git_dvc(&["add", "name "]);
    assert_eq!(ours.read(".gitignore"), b"/name\\ \n/two\\ \\ \n");
    theirs.git_dvc(&["add", "name "]);
    theirs.git_dvc(&["add", "name "]);
    assert_eq!(theirs.read(".gitignore"), b"/name \n/two  \n/name\\ \n");
    theirs
        .try_git(&["check-ignore", "-q", "name "])
        .assert_code(0);
}

/// A name with a line break or a carriage return: DVC's `.gitignore` entry for `a\nb` is
/// `/a` plus a bare `b` line (ignoring every `b` in the tree), and neither it nor `/cr\r`
/// ignores the data file. git-dvc refuses such a name before writing anything.
#[test]
fn names_with_line_breaks_are_refused() {
    let env = TestEnv::new();
    let theirs = env.dvc_repo("dvc");
    let ours = env.dvc_repo("git-dvc");
    for repo in [&theirs, &ours] {
        repo.write("a\nb", "x\n");
        repo.write("cr\r", "y\n");
    }
    theirs.dvc(&["add", "a\nb"]);
    assert_eq!(theirs.read(".gitignore"), b"/a\nb\n", "DVC's broken entry");
    for name in ["a\nb", "cr\r"] {
        let out = ours.try_git_dvc(&["add", name]);
        assert_eq!(out.code(), Some(1), "{}", out.describe());
        assert!(out.stderr.contains("line break"), "{}", out.describe());
        assert!(!ours.path(&format!("{name}.dvc")).exists());
    }
    assert!(!ours.path(".gitignore").exists());
}

/// `git dvc add`, commit, `git dvc push`, then real `dvc pull` in a clone gets the data back.
#[test]
fn added_data_round_trips_through_push_and_dvc_pull() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    let paths = write_inputs(&repo);
    repo.git_dvc(&args(&paths));
    repo.commit_all("track data with git dvc add");
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    let pushed = repo.git_dvc(&["push"]);
    assert!(
        parse_pushed_line(pushed.out()).is_some_and(|n| n > 10),
        "{}",
        pushed.describe()
    );
    check_remote(&remote, RemoteCheck::Complete);
    let expected: std::collections::BTreeMap<String, Vec<u8>> = workspace_files(&repo.dir)
        .into_iter()
        .filter(|(k, _)| !k.ends_with(".dvc") && !k.ends_with(".gitignore"))
        .collect();
    clone_and_pull(
        &env,
        &repo.dir,
        "clone",
        &[("r", &remote)],
        &[],
        "HEAD",
        &expected,
    );
}

// ---------------------------------------------------------------------------
// YAML quoting, against ruamel.yaml itself
// ---------------------------------------------------------------------------

/// The Python interpreter of the DVC installation under test (it has ruamel.yaml).
fn dvc_python() -> PathBuf {
    let python = dvc3_bin().parent().unwrap().join("python");
    assert!(python.exists(), "no python beside {}", dvc3_bin().display());
    python
}

/// What DVC's own dumper writes for `{"outs": [{"md5": m, "size": 1, "hash": "md5", "path": p}]}`.
fn ruamel_dump(items: &[(String, String)]) -> Vec<String> {
    let script = r#"
import io, json, sys
from dvc.utils.serialize._yaml import _dump
out = []
for md5, path in json.load(sys.stdin):
    s = io.StringIO()
    _dump({"outs": [{"md5": md5, "size": 1, "hash": "md5", "path": path}]}, s)
    out.append(s.getvalue())
json.dump(out, sys.stdout)
"#;
    let mut child = Command::new(dvc_python())
        .arg("-c")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run DVC's python");
    let input = serde_json::to_vec(items).unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ours(md5: &str, path: &str) -> String {
    git_dvc::dvc::dvcfile_writer::AddedOutput {
        oid: git_dvc::dvc::hash::ObjectId::parse(md5).unwrap(),
        size: 1,
        nfiles: None,
        isexec: false,
        path: path.to_string(),
    }
    .to_dvc_file()
}

#[test]
fn yaml_quoting_and_folding_match_ruamel() {
    let md5s = [
        "59377802380272149678051001510474",
        "85e51880946740832900596901065484",
        "0e123456789012345678901234567890",
        "d41d8cd98f00b204e9800998ecf8427e",
        "12345678901234567890123456789012.dir",
    ];
    let mut cases: Vec<(String, String)> = Vec::new();
    let fixed = [
        "data",
        "a b",
        "true",
        "True",
        "yes",
        "no",
        "null",
        "~",
        "0123",
        "1_000",
        "0x1F",
        "0o17",
        "1e5",
        ".5",
        ".inf",
        "-.INF",
        ".nan",
        "2024-01-01",
        "2024-1-1 1:02:03",
        "=",
        "<<",
        "!",
        "&a",
        "*a",
        "-",
        "- a",
        "-a",
        "?",
        "? a",
        ":",
        "a: b",
        "a:b",
        "#a",
        "a #b",
        "a#b",
        "'a'",
        "\"a\"",
        "it's",
        "a\"b",
        "a\\b",
        "[a]",
        "{a}",
        "a,b",
        "%a",
        "@a",
        "`a`",
        "|a",
        ">a",
        " lead",
        "trail ",
        "two  spaces",
        "tab\tname",
        "nl\nname",
        "cr\rname",
        "del\x7fname",
        "ctl\x01name",
        "nbsp\u{a0}name",
        "bom\u{feff}name",
        "nel\u{85}name",
        "ls\u{2028}name",
        "é",
        "日本語",
        "😀 smile",
        "---",
        "...",
        "--- a",
        "a---",
    ];
    for (i, p) in fixed.iter().enumerate() {
        cases.push((md5s[i % md5s.len()].to_string(), p.to_string()));
    }
    // Long values exercise folding in each style.
    let alphabet: Vec<char> = "abcé😀 -:#'\"\t\\!&*?,[]{}%@`|>0123456789e._~\x7f\u{85}\u{2028}\n"
        .chars()
        .collect();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..2000 {
        let len = 1 + (next() % 140) as usize;
        let space_heavy = i % 3 == 0;
        let s: String = (0..len)
            .map(|_| {
                let r = next();
                if space_heavy && r % 4 == 0 {
                    ' '
                } else if r % 3 == 0 {
                    'w'
                } else {
                    alphabet[(r as usize / 3) % alphabet.len()]
                }
            })
            .collect();
        cases.push((md5s[i % md5s.len()].to_string(), s));
    }
    let theirs = ruamel_dump(&cases);
    let mut mismatches = Vec::new();
    for ((md5, path), want) in cases.iter().zip(&theirs) {
        let got = ours(md5, path);
        if &got != want {
            mismatches.push(format!(
                "path {path:?}\n  ruamel: {want:?}\n  ours:   {got:?}"
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} values differ from ruamel:\n{}",
        mismatches.len(),
        cases.len(),
        mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
