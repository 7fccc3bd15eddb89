//! git-dvc and real DVC 3.67.1 side by side, one table row per case of issue 15: each row
//! makes two copies of one base repository (built once by real DVC), applies the row's
//! setup to each, runs the same commands with `git dvc` in one and `dvc` in the other
//! (each with remotes of its own), and compares exit codes, stdout (`status -c` lines,
//! `--json` objects, summaries), `WARNING:` lines and every file the remotes hold, names
//! and bytes. Where git-dvc follows DVC the row asks for equality; where it differs on
//! purpose (README, "Differences from DVC (kept on purpose)") the row's check asserts
//! exactly that difference. Every DVC run gets a fresh `core.site_cache_dir`: DVC keeps a
//! remote index per repository path there, which would otherwise make it say "Everything
//! is up to date" falsely. All rows run (a few at a time) and their failures are reported
//! together.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use common::*;

// ---------------------------------------------------------------------------
// The base repository
// ---------------------------------------------------------------------------

/// The base every row copies: `a.txt`, `b.txt` (`.dvc` files), `d/` (members `1`, `2`,
/// `sub/3`), `grid/` (`a-1/out.txt`, `a-2/out.txt`, `b-1/out.txt`), `sub/q`, and stages
/// `gen` (→ `s1.txt`), `up` (→ `up.txt`) and `down` (`up.txt` → `down.txt`), run by DVC.
/// The committed default remote `r` points at a directory nothing may write to.
struct Base {
    _env: TestEnv,
    repo: PathBuf,
    unused_remote: PathBuf,
}

fn base() -> &'static Base {
    static BASE: OnceLock<Base> = OnceLock::new();
    BASE.get_or_init(|| {
        let env = TestEnv::fixed("dvc-side-by-side-base");
        let repo = env.dvc_repo_with_remote("repo");
        for (path, bytes) in [
            ("a.txt", "a\n"),
            ("b.txt", "b\n"),
            ("d/1", "one\n"),
            ("d/2", "two\n"),
            ("d/sub/3", "three\n"),
            ("grid/a-1/out.txt", "a-1\n"),
            ("grid/a-2/out.txt", "a-2\n"),
            ("grid/b-1/out.txt", "b-1\n"),
            ("sub/q", "q\n"),
        ] {
            repo.write(path, bytes);
        }
        repo.dvc(&["add", "-q", "a.txt", "b.txt", "d", "grid", "sub/q"]);
        for stage in [
            &["-n", "gen", "-o", "s1.txt", "echo s1 > s1.txt"][..],
            &["-n", "up", "-o", "up.txt", "echo up > up.txt"][..],
            &[
                "-n",
                "down",
                "-d",
                "up.txt",
                "-o",
                "down.txt",
                "cat up.txt > down.txt; echo down >> down.txt",
            ][..],
        ] {
            let mut args = vec!["stage", "add", "-q"];
            args.extend_from_slice(stage);
            repo.dvc(&args);
        }
        repo.dvc(&["repro", "-q"]);
        repo.commit_all("base");
        let dir = repo.dir.clone();
        Base {
            unused_remote: env.path("unused-remote"),
            repo: dir,
            _env: env,
        }
    })
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    GitDvc,
    Dvc,
}

/// One tool's copy of a row's repository.
struct Side<'e> {
    tool: Tool,
    /// The side's directory: `repo/`, `remotes/`, DVC site caches.
    root: PathBuf,
    repo: Repo<'e>,
    /// `remotes/r` and `remotes/r2`, which `.dvc/config.local` names.
    remotes: PathBuf,
    dvc_runs: AtomicUsize,
}

impl Side<'_> {
    /// Real DVC 3.67.1 in `dir` with a site cache of its own.
    fn dvc_in(&self, dir: &Path, args: &[&str]) -> Run {
        let n = self.dvc_runs.fetch_add(1, Ordering::SeqCst);
        let site_cache = self.root.join(format!("dvc-site-cache-{n}"));
        self.repo.env.run_with_env(
            dvc3_bin(),
            dir,
            args,
            &[("DVC_SITE_CACHE_DIR", site_cache.as_os_str())],
        )
    }

    /// Real DVC in the repository (for setups); panics unless it succeeds.
    #[track_caller]
    fn dvc(&self, args: &[&str]) -> Run {
        let run = self.dvc_in(&self.repo.dir, args);
        run.assert_success();
        run
    }

    /// The side's own tool, in `cwd` (relative to the repository).
    fn run_tool(&self, cwd: &str, args: &[&str]) -> Run {
        let dir = self.repo.path(cwd);
        match self.tool {
            Tool::GitDvc => self.repo.env.try_git_dvc(&dir, args),
            Tool::Dvc => self.dvc_in(&dir, args),
        }
    }

    /// `text` with this side's directory replaced, so both sides' messages compare.
    fn normalise(&self, text: &str) -> String {
        text.replace(self.root.to_str().unwrap(), "<side>")
    }
}

/// One command of a row: the same arguments for both tools, or each its own.
#[derive(Clone, Copy)]
struct Step {
    ours: &'static [&'static str],
    theirs: &'static [&'static str],
}

const fn both(args: &'static [&'static str]) -> Step {
    Step {
        ours: args,
        theirs: args,
    }
}

const fn each(ours: &'static [&'static str], theirs: &'static [&'static str]) -> Step {
    Step { ours, theirs }
}

/// What a step left behind on one side.
struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// Every file under the side's `remotes/`, by relative path (`r/files/md5/…`).
    remotes: BTreeMap<String, Vec<u8>>,
    json: bool,
    describe: String,
}

impl Outcome {
    /// `status -c` lines or a summary, order aside (DVC prints sets in no fixed order).
    fn lines(&self) -> BTreeSet<String> {
        self.stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The first line of every warning.
    fn warnings(&self) -> BTreeSet<String> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("WARNING: "))
            .map(str::to_string)
            .collect()
    }

    fn json_value(&self) -> Result<serde_json::Value, String> {
        serde_json::from_str(self.stdout.trim())
            .map_err(|e| format!("--json output is not JSON ({e}):\n{}", self.describe))
    }

    fn says(&self, needle: &str) -> Result<(), String> {
        if self.stderr.contains(needle) || self.stdout.contains(needle) {
            Ok(())
        } else {
            Err(format!("does not say {needle:?}:\n{}", self.describe))
        }
    }
}

/// What rows compare for equality, on every step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aspect {
    Code,
    Stdout,
    Warnings,
    Remotes,
}

const ALL: &[Aspect] = &[
    Aspect::Code,
    Aspect::Stdout,
    Aspect::Warnings,
    Aspect::Remotes,
];

/// Both sides' outcomes, step by step, and their repositories.
struct Outcomes {
    ours: Vec<Outcome>,
    theirs: Vec<Outcome>,
    our_repo: PathBuf,
    their_repo: PathBuf,
}

type Check = fn(&Outcomes) -> Result<(), String>;

struct Row {
    /// The issue's item and what the row shows.
    case: &'static str,
    /// Applied to each side's copy after `.dvc/config.local` points `r` and `r2` at the
    /// side's own remotes.
    setup: fn(&Side<'_>),
    /// Where the commands run, relative to the repository.
    cwd: &'static str,
    steps: &'static [Step],
    /// Equal on both sides at every step.
    same: &'static [Aspect],
    /// Anything else: DVC's words both print, or the documented difference.
    check: Check,
}

fn nothing(_: &Side<'_>) {}

/// Runs every row (three at a time) and fails once, listing every row that failed.
fn run_rows(rows: &[Row]) {
    let base = base();
    let failures = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(row) = rows.get(i) else { break };
                let result =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_row(base, row)))
                        .unwrap_or_else(|panic| {
                            Err(panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                .unwrap_or_else(|| "panicked".to_string()))
                        });
                if let Err(e) = result {
                    failures.lock().unwrap().push(format!("[{}] {e}", row.case));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        !base.unused_remote.exists(),
        "something wrote to the committed remote {}",
        base.unused_remote.display()
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows differ from what they should:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
}

fn make_side<'e>(env: &'e TestEnv, base: &Base, tool: Tool) -> Side<'e> {
    let root = env.path(match tool {
        Tool::GitDvc => "git-dvc",
        Tool::Dvc => "dvc",
    });
    copy_dir(&base.repo, &root.join("repo"));
    let remotes = root.join("remotes");
    let repo = env.repo_at(root.join("repo"));
    repo.set_local_remotes(&[("r", &remotes.join("r")), ("r2", &remotes.join("r2"))]);
    Side {
        tool,
        root,
        repo,
        remotes,
        dvc_runs: AtomicUsize::new(0),
    }
}

fn run_row(base: &Base, row: &Row) -> Result<(), String> {
    let env = TestEnv::new();
    let ours = make_side(&env, base, Tool::GitDvc);
    let theirs = make_side(&env, base, Tool::Dvc);
    (row.setup)(&ours);
    (row.setup)(&theirs);
    let mut outcomes = Outcomes {
        ours: Vec::new(),
        theirs: Vec::new(),
        our_repo: ours.repo.dir.clone(),
        their_repo: theirs.repo.dir.clone(),
    };
    for step in row.steps {
        for (side, args, out) in [
            (&ours, step.ours, &mut outcomes.ours),
            (&theirs, step.theirs, &mut outcomes.theirs),
        ] {
            let run = side.run_tool(row.cwd, args);
            out.push(Outcome {
                code: run.code(),
                stdout: side.normalise(&run.stdout),
                stderr: side.normalise(&run.stderr),
                remotes: list_files(&side.remotes),
                json: args.contains(&"--json"),
                describe: run.describe(),
            });
        }
    }
    let mut problems = Vec::new();
    for (i, (o, t)) in outcomes.ours.iter().zip(&outcomes.theirs).enumerate() {
        for aspect in row.same {
            if let Err(e) = same(*aspect, o, t) {
                problems.push(format!("step {} ({:?}): {e}", i + 1, row.steps[i].ours));
            }
        }
    }
    if let Err(e) = (row.check)(&outcomes) {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn same(aspect: Aspect, ours: &Outcome, theirs: &Outcome) -> Result<(), String> {
    let differ = |what: &str, a: &dyn std::fmt::Debug, b: &dyn std::fmt::Debug| {
        Err(format!(
            "{what} differ\n  git-dvc: {a:?}\n  dvc:     {b:?}\n{}\n{}",
            ours.describe, theirs.describe
        ))
    };
    match aspect {
        Aspect::Code if ours.code != theirs.code => differ("exit codes", &ours.code, &theirs.code),
        Aspect::Stdout if ours.json && theirs.json => {
            let (a, b) = (ours.json_value()?, theirs.json_value()?);
            if a == b {
                Ok(())
            } else {
                differ("--json objects", &a, &b)
            }
        }
        Aspect::Stdout if ours.lines() != theirs.lines() => {
            differ("stdout lines", &ours.lines(), &theirs.lines())
        }
        Aspect::Warnings if ours.warnings() != theirs.warnings() => {
            differ("warnings", &ours.warnings(), &theirs.warnings())
        }
        Aspect::Remotes if ours.remotes != theirs.remotes => {
            let a: BTreeSet<&String> = ours.remotes.keys().collect();
            let b: BTreeSet<&String> = theirs.remotes.keys().collect();
            differ("remote files", &a, &b)
        }
        _ => Ok(()),
    }
}

// ---------------------------------------------------------------------------
// Helpers for setups and checks
// ---------------------------------------------------------------------------

/// Adds `remote: <remote>` to the single output of `file` (a `.dvc` file) and commits.
fn pin(side: &Side<'_>, file: &str, remote: &str) {
    let text = String::from_utf8(side.repo.read(file)).unwrap();
    let path = file.trim_end_matches(".dvc");
    let pinned = text.replace(
        &format!("  path: {path}\n"),
        &format!("  path: {path}\n  remote: {remote}\n"),
    );
    assert_ne!(pinned, text, "{file} has no `path: {path}` line");
    side.repo.write(file, pinned);
    side.repo.commit_all(&format!("pin {path} to {remote}"));
}

/// The `md5:` of the single output of a `.dvc` file in the work tree.
fn recorded_md5(repo: &Path, file: &str) -> String {
    let text = std::fs::read_to_string(repo.join(file)).unwrap();
    text.lines()
        .find_map(|l| l.trim_start_matches("- ").trim().strip_prefix("md5: "))
        .unwrap_or_else(|| panic!("no md5 in {file}:\n{text}"))
        .to_string()
}

/// `files/md5/ab/cdef…` of remote `r` for these bytes.
fn r_object(bytes: &[u8]) -> String {
    format!("r/{}", object_rel_path(&md5_hex(bytes), false))
}

/// A branch `name` off main with `change` applied and committed; back on main after.
fn branch(side: &Side<'_>, name: &str, change: impl FnOnce(&Side<'_>)) {
    side.repo.git(&["checkout", "-q", "-b", name]);
    change(side);
    side.repo.commit_all(name);
    side.repo.git(&["checkout", "-q", "main"]);
}

/// `.dvc/config` with default remote `r` at `url`, as `dvc remote add -d` writes it.
fn write_config(side: &Side<'_>, default: Option<&str>, url: &Path) {
    let core = match default {
        Some(name) => format!("[core]\n    remote = {name}\n"),
        None => String::new(),
    };
    side.repo.write(
        ".dvc/config",
        format!(
            "{core}['remote \"r\"']\n    url = {}\n['remote \"r2\"']\n    url = {}\n",
            url.display(),
            url.with_file_name("r2").display()
        ),
    );
}

fn step(o: &Outcomes, i: usize) -> (&Outcome, &Outcome) {
    (&o.ours[i], &o.theirs[i])
}

/// Both sides print `needle` at step `i` (DVC's own words).
fn both_say(o: &Outcomes, i: usize, needle: &str) -> Result<(), String> {
    let (ours, theirs) = step(o, i);
    theirs.says(needle).map_err(|e| format!("dvc {e}"))?;
    ours.says(needle).map_err(|e| format!("git-dvc {e}"))
}

fn expect(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

/// Remote files only one side holds: (git-dvc's extra, DVC's extra).
fn remote_difference(ours: &Outcome, theirs: &Outcome) -> (BTreeSet<String>, BTreeSet<String>) {
    let a: BTreeSet<String> = ours.remotes.keys().cloned().collect();
    let b: BTreeSet<String> = theirs.remotes.keys().cloned().collect();
    (&a - &b, &b - &a)
}

/// The status line DVC prints for `path` in `state`.
fn status_line(state: &str, path: &str) -> String {
    format!("\t{:<20}{path}", format!("{state}:"))
}

// ---------------------------------------------------------------------------
// Items 7–12 and the differences kept on purpose
// ---------------------------------------------------------------------------

/// Branch `broken` holds a `dvc.lock` DVC cannot read.
fn broken_lock_branch(side: &Side<'_>) {
    branch(side, "broken", |s| s.repo.write("dvc.lock", "garbage: [\n"));
}

/// Branch `extra` adds `c.txt`, which the work tree and main lack.
fn extra_branch(side: &Side<'_>) {
    branch(side, "extra", |s| {
        s.repo.write("c.txt", "c\n");
        s.repo.git_dvc(&["add", "-q", "c.txt"]);
    });
}

/// `d`'s `.dir` is in neither the cache nor the remote; everything else is on the remote.
fn dir_manifest_nowhere(side: &Side<'_>) {
    let oid = recorded_md5(&side.repo.dir, "d.dvc");
    remove_object(&side.repo.cache_dir(), &oid);
    side.repo.git_dvc(&["push", "-q"]);
}

/// No default remote; `b.txt` pinned to `r2`.
fn no_default_one_pinned(side: &Side<'_>) {
    write_config(side, None, &side.root.join("committed/r"));
    side.repo.commit_all("no default remote");
    pin(side, "b.txt.dvc", "r2");
}

/// History's `r` moved: branch `old` commits `r` at `remotes/r-old` (and adds `old.txt`),
/// main at `remotes/r`; no `config.local`; each revision's config trusted (issue 8's rule).
/// `r-old` already holds what `old` needs.
fn remote_moved_in_history(side: &Side<'_>) {
    std::fs::remove_file(side.repo.path(".dvc/config.local")).unwrap();
    side.repo
        .git(&["config", "dvc.trustCommittedRemotes", "true"]);
    branch(side, "old", |s| {
        write_config(s, Some("r"), &s.remotes.join("r-old"));
        s.repo.write("old.txt", "old\n");
        s.repo.git_dvc(&["add", "-q", "old.txt"]);
    });
    write_config(side, Some("r"), &side.remotes.join("r"));
    side.repo.commit_all("new remote");
    side.repo.git_dvc(&["push", "-q", "--rev", "old"]);
    // That push also filled main's remote (the work tree); only r-old stays filled.
    std::fs::remove_dir_all(side.remotes.join("r")).unwrap();
}

/// Branch `old` ran the pipeline with another `up` command: other `up.txt`, `down.txt`.
fn pipeline_rerun_on_branch(side: &Side<'_>) {
    side.repo.git(&["checkout", "-q", "-b", "old"]);
    let yaml = String::from_utf8(side.repo.read("dvc.yaml")).unwrap();
    side.repo.write(
        "dvc.yaml",
        yaml.replace("echo up > up.txt", "echo up-old > up.txt"),
    );
    side.dvc(&["repro", "-q"]);
    side.repo.commit_all("old pipeline");
    side.repo.git(&["checkout", "-q", "main"]);
}

fn file_url_remote(side: &Side<'_>) {
    std::fs::write(
        side.repo.path(".dvc/config.local"),
        format!(
            "['remote \"r\"']\n    url = file://{}\n",
            side.remotes.join("r").display()
        ),
    )
    .unwrap();
}

const ROWS: &[Row] = &[
    Row {
        case: "7: status -c -a stops on a branch with an invalid dvc.lock",
        setup: broken_lock_branch,
        cwd: "",
        steps: &[both(&["status", "-c", "-a"])],
        same: ALL,
        check: |o| {
            both_say(o, 0, "ERROR: Failed to collect 'broken': ")?;
            expect(o.ours[0].code == Some(1), || "exit code is not 1".into())
        },
    },
    Row {
        case: "7: push -a skips that branch with DVC's warning",
        setup: broken_lock_branch,
        cwd: "",
        steps: &[both(&["push", "-a"])],
        same: ALL,
        check: |o| both_say(o, 0, "WARNING: failed to collect 'broken', skipping"),
    },
    Row {
        case: "7: status -c -a stops when the work tree lacks the target",
        setup: extra_branch,
        cwd: "",
        steps: &[both(&["status", "-c", "-a", "c.txt"])],
        same: ALL,
        check: |o| {
            both_say(
                o,
                0,
                "ERROR: Failed to collect 'workspace': 'c.txt' does not exist as an output or a stage name in 'dvc.yaml'",
            )
        },
    },
    Row {
        case: "10: push -a with a target some revisions lack warns for each of them",
        setup: extra_branch,
        cwd: "",
        steps: &[both(&["push", "-a", "c.txt"])],
        same: ALL,
        check: |o| {
            both_say(o, 0, "WARNING: failed to collect 'workspace', skipping")?;
            both_say(o, 0, "WARNING: failed to collect 'main', skipping")?;
            let want = r_object(b"c\n");
            expect(o.ours[0].remotes.contains_key(&want), || {
                format!("{want} was not pushed")
            })
        },
    },
    Row {
        case: "8: status -c from a subdirectory",
        setup: nothing,
        cwd: "sub",
        steps: &[
            both(&["status", "-c"]),
            both(&["status", "-c", "--json"]),
        ],
        same: ALL,
        check: |o| {
            let lines = o.ours[0].lines();
            expect(
                lines.contains(&status_line("new", "../a.txt"))
                    && lines.contains(&status_line("new", "q")),
                || format!("not relative to sub/: {lines:?}"),
            )
        },
    },
    Row {
        case: "8: status -c from inside a tracked directory",
        setup: nothing,
        cwd: "d",
        steps: &[
            both(&["status", "-c"]),
            both(&["status", "-c", "--json"]),
        ],
        same: ALL,
        check: |o| {
            let lines = o.ours[0].lines();
            expect(
                lines.contains(&status_line("new", "."))
                    && lines.contains(&status_line("new", "./1"))
                    && lines.contains(&status_line("new", "../sub/q")),
                || format!("not DVC's `.`/`./1` forms: {lines:?}"),
            )
        },
    },
    Row {
        case: "8: status -c from a subdirectory of a tracked directory",
        setup: nothing,
        cwd: "d/sub",
        steps: &[
            both(&["status", "-c"]),
            both(&["status", "-c", "--json"]),
        ],
        same: ALL,
        check: |o| {
            let lines = o.ours[0].lines();
            expect(
                lines.contains(&status_line("new", ".."))
                    && lines.contains(&status_line("new", "../sub/3")),
                || format!("not DVC's `..`/`../sub/3` forms: {lines:?}"),
            )
        },
    },
    Row {
        case: "9: a .dir in neither the cache nor the remote: warned about, left out of the list; -q still exits 1 (git-dvc's rule)",
        setup: dir_manifest_nowhere,
        cwd: "",
        steps: &[
            both(&["status", "-c"]),
            both(&["status", "-c", "--json"]),
            both(&["status", "-c", "-q"]),
        ],
        same: &[Aspect::Stdout, Aspect::Warnings, Aspect::Remotes],
        check: |o| {
            let oid = recorded_md5(&o.our_repo, "d.dvc");
            for i in 0..2 {
                both_say(o, i, "Some of the cache files do not exist neither locally nor on remote. Missing cache files:")?;
                o.theirs[i].says(&format!("name: None, md5: {oid}"))?;
                o.ours[i].says(&format!("name: d, md5: {oid}"))?;
                expect(o.ours[i].code == Some(0) && o.theirs[i].code == Some(0), || {
                    format!("step {}: exit codes {:?} / {:?}", i + 1, o.ours[i].code, o.theirs[i].code)
                })?;
            }
            o.ours[0].says("Cache and remote 'r' are in sync.")?;
            let (ours, theirs) = step(o, 2);
            expect(
                ours.code == Some(1) && theirs.code == Some(0) && ours.stderr.is_empty(),
                || format!("-q: git-dvc must exit 1 quietly, DVC exits 0:\n{}\n{}", ours.describe, theirs.describe),
            )
        },
    },
    Row {
        case: "11: status --glob is git-dvc's own (DVC has no such flag)",
        setup: nothing,
        cwd: "",
        steps: &[
            both(&["status", "-c", "--glob", "[ag]*"]),
            each(
                &["status", "-c", "--glob", "[ag]*"],
                &["status", "-c", "a.txt", "grid"],
            ),
        ],
        same: &[Aspect::Remotes],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            theirs.says("unrecognized arguments: --glob")?;
            expect(theirs.code != Some(0) && ours.code == Some(0), || {
                format!("codes {:?} / {:?}", ours.code, theirs.code)
            })?;
            let (ours, theirs) = step(o, 1);
            same(Aspect::Stdout, ours, theirs)?;
            same(Aspect::Code, ours, theirs)
        },
    },
    Row {
        case: "12: no default remote, one output pinned: git-dvc fails before uploading anything",
        setup: no_default_one_pinned,
        cwd: "",
        steps: &[both(&["push"])],
        same: &[Aspect::Code, Aspect::Stdout],
        check: |o| {
            both_say(o, 0, "ERROR: failed to push data to the cloud - config file error: no remote specified in <side>/repo.")?;
            let (ours, theirs) = step(o, 0);
            let pinned = format!("r2/{}", object_rel_path(&md5_hex(b"b\n"), false));
            expect(ours.code == Some(1), || "exit code is not 1".into())?;
            expect(theirs.remotes.keys().eq([&pinned]), || {
                format!("DVC uploads the pinned output first: {:?}", theirs.remotes.keys())
            })?;
            expect(ours.remotes.is_empty(), || {
                format!("git-dvc uploaded {:?}", ours.remotes.keys())
            })
        },
    },
    Row {
        case: "kept: push a.txt.dvc b.txt uploads both (DVC only a.txt, and its status then lists b.txt)",
        setup: nothing,
        cwd: "",
        steps: &[
            both(&["push", "a.txt.dvc", "b.txt"]),
            both(&["status", "-c", "a.txt.dvc", "b.txt"]),
        ],
        same: &[Aspect::Code, Aspect::Warnings],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            let (a, b) = (r_object(b"a\n"), r_object(b"b\n"));
            expect(theirs.remotes.keys().eq([&a]), || {
                format!("DVC: {:?}", theirs.remotes.keys())
            })?;
            expect(ours.remotes.keys().eq([&b, &a]) || ours.remotes.keys().eq([&a, &b]), || {
                format!("git-dvc: {:?}", ours.remotes.keys())
            })?;
            expect(ours.lines().contains("2 files pushed"), || ours.describe.clone())?;
            let (ours, theirs) = step(o, 1);
            expect(theirs.lines().contains(&status_line("new", "b.txt")), || {
                theirs.describe.clone()
            })?;
            ours.says("Cache and remote 'r' are in sync.")
        },
    },
    Row {
        case: "kept: push -a -d down uploads down's outputs in every revision (DVC: only the work tree's)",
        setup: pipeline_rerun_on_branch,
        cwd: "",
        steps: &[both(&["push", "-a", "-d", "down"])],
        same: &[Aspect::Code, Aspect::Warnings],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            let (extra, missing) = remote_difference(ours, theirs);
            let old_down = r_object(b"up-old\ndown\n");
            expect(missing.is_empty() && extra.iter().eq([&old_down]), || {
                format!("git-dvc's extra {extra:?}, DVC's extra {missing:?}; want only {old_down}")
            })
        },
    },
    Row {
        case: "kept: status -c checks outputs pinned with remote: (DVC never shows them)",
        setup: |s| pin(s, "b.txt.dvc", "r2"),
        cwd: "",
        steps: &[both(&["status", "-c"]), both(&["status", "-c", "-r", "r2"])],
        same: &[Aspect::Code, Aspect::Warnings, Aspect::Remotes],
        check: |o| {
            for i in 0..2 {
                let (ours, theirs) = step(o, i);
                let mut want = theirs.lines();
                want.insert(status_line("new", "b.txt"));
                expect(ours.lines() == want, || {
                    format!("step {}: git-dvc must list DVC's lines and b.txt\n{}\n{}", i + 1, ours.describe, theirs.describe)
                })?;
            }
            Ok(())
        },
    },
    Row {
        case: "kept: status -c -a checks each revision against its own remote (DVC: the work tree's)",
        setup: remote_moved_in_history,
        cwd: "",
        steps: &[both(&["status", "-c", "-a"]), both(&["push", "-a"])],
        same: &[Aspect::Code, Aspect::Warnings, Aspect::Remotes],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            let mut want = ours.lines();
            want.insert(status_line("new", "old.txt"));
            expect(theirs.lines() == want, || {
                format!("DVC must list git-dvc's lines and old.txt\n{}\n{}", ours.describe, theirs.describe)
            })?;
            // Both pushes send each revision's data to its own remote.
            let (ours, theirs) = step(o, 1);
            same(Aspect::Stdout, ours, theirs)
        },
    },
    Row {
        case: "kept: a file:///abs URL is that directory (DVC writes under ./file:/abs)",
        setup: file_url_remote,
        cwd: "",
        steps: &[both(&["push", "a.txt"])],
        same: &[Aspect::Code, Aspect::Stdout, Aspect::Warnings],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            let a = r_object(b"a\n");
            expect(ours.remotes.keys().eq([&a]), || {
                format!("git-dvc: {:?}", ours.remotes.keys())
            })?;
            expect(theirs.remotes.is_empty(), || {
                format!("DVC wrote to the real path: {:?}", theirs.remotes.keys())
            })?;
            let stray = o.their_repo.join("file:");
            let under: Vec<String> = list_files(&stray).into_keys().collect();
            expect(under.iter().any(|k| k.ends_with(&a[2..])), || {
                format!("DVC did not write under {}: {under:?}", stray.display())
            })
        },
    },
    Row {
        case: "kept: a target inside a tracked directory pushes the whole directory (DVC: the member and the .dir)",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "d/1"])],
        same: &[Aspect::Code, Aspect::Warnings],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            let (extra, missing) = remote_difference(ours, theirs);
            let rest: BTreeSet<String> = [&b"two\n"[..], b"three\n"]
                .iter()
                .map(|b| r_object(b))
                .collect();
            expect(missing.is_empty() && extra == rest, || {
                format!("git-dvc's extra {extra:?} (want the other members {rest:?}), DVC's extra {missing:?}")
            })
        },
    },
];

#[test]
fn items_7_to_12_and_kept_differences_side_by_side_with_dvc() {
    run_rows(ROWS);
}

// ---------------------------------------------------------------------------
// Items 1–6: where git-dvc was wrong
// ---------------------------------------------------------------------------

/// `d/back\slash`, a legal POSIX name, added to `d` by DVC.
fn backslash_member(side: &Side<'_>) {
    side.repo.write("d/back\\slash", "backslash\n");
    side.dvc(&["add", "-q", "d"]);
    side.repo.commit_all("backslash member");
}

/// `p.txt` pinned to a remote no config defines.
fn pinned_nowhere(side: &Side<'_>) {
    side.repo.write("p.txt", "p\n");
    side.repo.git_dvc(&["add", "-q", "p.txt"]);
    side.repo.commit_all("p.txt");
    pin(side, "p.txt.dvc", "nowhere");
}

const FIXED_ROWS: &[Row] = &[
    Row {
        case: "1: push a.txt a.txt.dvc pushes the union",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "a.txt", "a.txt.dvc"])],
        same: ALL,
        check: |o| both_say(o, 0, "1 file pushed"),
    },
    Row {
        case: "1: push gen s1.txt (a stage and its output)",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "gen", "s1.txt"])],
        same: ALL,
        check: |o| both_say(o, 0, "1 file pushed"),
    },
    Row {
        case: "1: push d d/1 (a directory and a path inside it)",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "d", "d/1"])],
        same: ALL,
        check: |o| both_say(o, 0, "4 files pushed"),
    },
    Row {
        case: "1: push dvc.yaml s1.txt, status -c gen s1.txt",
        setup: nothing,
        cwd: "",
        steps: &[
            both(&["status", "-c", "gen", "s1.txt"]),
            both(&["push", "dvc.yaml", "s1.txt"]),
        ],
        same: ALL,
        check: |o| both_say(o, 1, "3 files pushed"),
    },
    Row {
        case: "2: push --glob 'd/*' expands inside the tracked directory",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "--glob", "d/*"])],
        same: ALL,
        check: |o| both_say(o, 0, "4 files pushed"),
    },
    Row {
        case: "2 (kept: whole directory): push --glob 'grid/a-*/out.txt' pushes all of grid (DVC: the matches and the .dir)",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "--glob", "grid/a-*/out.txt"])],
        same: &[Aspect::Code, Aspect::Warnings],
        check: |o| {
            let (ours, theirs) = step(o, 0);
            let (extra, missing) = remote_difference(ours, theirs);
            let b1 = r_object(b"b-1\n");
            expect(ours.code == Some(0) && missing.is_empty() && extra.iter().eq([&b1]), || {
                format!("git-dvc's extra {extra:?} (want only {b1}), DVC's extra {missing:?}\n{}", ours.describe)
            })
        },
    },
    Row {
        case: "3: a member named with a backslash is pushed and checked",
        setup: backslash_member,
        cwd: "",
        steps: &[
            both(&["status", "-c"]),
            both(&["push"]),
            both(&["push", "-a"]),
        ],
        same: ALL,
        check: |o| {
            let want = r_object(b"backslash\n");
            expect(o.ours[1].remotes.contains_key(&want), || {
                format!("{want} was not pushed")
            })
        },
    },
    Row {
        case: "4: push -R d on a tracked directory pushes nothing",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "-R", "d"])],
        same: ALL,
        check: |o| both_say(o, 0, "Everything is up to date."),
    },
    Row {
        case: "5: push -r r with an output pinned to an undefined remote fails",
        setup: pinned_nowhere,
        cwd: "",
        steps: &[both(&["push", "-r", "r"])],
        same: ALL,
        check: |o| both_say(o, 0, "remote 'nowhere' doesn't exist"),
    },
    Row {
        case: "5: push -a -r r skips a branch whose output is pinned to an undefined remote",
        setup: |s| branch(s, "pinned", |s| {
            s.repo.write("p.txt", "p\n");
            s.repo.git_dvc(&["add", "-q", "p.txt"]);
            s.repo.commit_all("p.txt");
            pin(s, "p.txt.dvc", "nowhere");
        }),
        cwd: "",
        steps: &[both(&["push", "-a", "-r", "r"])],
        same: ALL,
        check: |o| both_say(o, 0, "WARNING: failed to collect 'pinned', skipping"),
    },
    Row {
        case: "6: --glob 'd*' matching dvc.lock is refused",
        setup: nothing,
        cwd: "",
        steps: &[both(&["push", "--glob", "d*"])],
        same: ALL,
        check: |o| both_say(o, 0, "Did you mean: `dvc.yaml`?"),
    },
];

#[test]
fn items_1_to_6_side_by_side_with_dvc() {
    run_rows(FIXED_ROWS);
}
