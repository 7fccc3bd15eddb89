//! `git dvc pull` and `git dvc checkout` side by side with real `dvc pull` and `dvc
//! checkout` (DVC 3.67.1): after real `dvc push`, two fresh clones pull, one with each
//! tool, under each `cache.type`, and must end with the same work tree (names, bytes,
//! modes, links), print the same lines and exit alike; real `dvc status` then finds the
//! git-dvc clone up to date and real `dvc checkout` has nothing to do. Also DVC's rules for
//! modified and unsaved files, directory contents, removed outputs and messages, where
//! git-dvc does better than DVC (a missing object, a stale exec bit, executables and
//! hardlinks), the work tree's safety (wrong remote bytes, links out of the repository),
//! and DVC's lock.

use crate::common;

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use common::fixtures::*;
use common::*;

/// A repository pushed with real DVC to two local remotes: single files (binary, CRLF,
/// empty, executable), a nested unicode directory with empty files, a pipeline with every
/// kind of output (`cache: false`, `push: false`, `remote: r2`, foreach, matrix).
struct Fixture {
    repo: PathBuf,
    remotes: [PathBuf; 2],
    _env: TestEnv,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let env = TestEnv::fixed("checkout-fixture");
        let repo = env.dvc_repo_with_remote("repo");
        repo.dvc(&["remote", "add", SECOND_REMOTE, "/nonexistent-r2"]);
        repo.commit_all("second remote");
        let remotes = [env.path("remotes/r"), env.path("remotes/r2")];
        repo.set_local_remotes(&[("r", &remotes[0]), (SECOND_REMOTE, &remotes[1])]);
        repo.write("single.bin", pseudo_random_bytes(1, 20_000));
        repo.write("crlf.txt", "hello\r\nworld\r\n");
        repo.write("empty.bin", "");
        repo.write("run.sh", "#!/bin/sh\necho hi\n");
        fs::set_permissions(repo.path("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
        write_unicode_tree(&repo, "data", 0);
        repo.dvc(&[
            "add",
            "-q",
            "single.bin",
            "crlf.txt",
            "empty.bin",
            "run.sh",
            "data",
        ]);
        add_pipeline(&repo);
        repo.dvc(&["repro", "-q"]);
        repo.commit_all("data");
        repo.dvc(&["push", "-q"]);
        // `push: false` is on no remote; put it on `r` by hand so that both tools can
        // fetch it (DVC's pull fetches such outputs too).
        let nopush = md5_hex(NOPUSH_BYTES);
        let rel = object_rel_path(&nopush, false);
        let to = remotes[0].join(&rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(repo.path(".dvc/cache").join(&rel), &to).unwrap();
        Fixture {
            repo: repo.dir.clone(),
            remotes,
            _env: env,
        }
    })
}

/// A fresh clone of the fixture with the remotes set (and `cache.type`, if given).
fn clone<'e>(env: &'e TestEnv, rel: &str, cache_type: Option<&str>) -> Repo<'e> {
    let f = fixture();
    let c = env.clone_repo(&f.repo, rel);
    c.set_local_remotes(&[("r", &f.remotes[0]), (SECOND_REMOTE, &f.remotes[1])]);
    if let Some(t) = cache_type {
        c.dvc(&["config", "--local", "cache.type", t]);
    }
    c
}

/// The work tree outside `.git` and `.dvc`, with links into the clone's own cache shown
/// relative to the clone (each clone links to its own cache).
fn work_tree(repo: &Repo<'_>) -> BTreeMap<String, (char, u32, Vec<u8>)> {
    let root = repo.dir.to_string_lossy().into_owned();
    tree_state(&repo.dir, &[".git", ".dvc"])
        .into_iter()
        .map(|(k, e)| {
            let content = if e.kind == 'l' {
                String::from_utf8_lossy(&e.content)
                    .replacen(&root, "<clone>", 1)
                    .into_bytes()
            } else {
                e.content
            };
            // A link's own mode is not the user's to choose.
            let mode = if e.kind == 'l' { 0 } else { e.mode };
            (k, (e.kind, mode, content))
        })
        .collect()
}

#[track_caller]
fn assert_same_work_trees(label: &str, ours: &Repo<'_>, theirs: &Repo<'_>, except: &[&str]) {
    let (a, b) = (work_tree(ours), work_tree(theirs));
    let mut problems = Vec::new();
    for k in a
        .keys()
        .chain(b.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        if except.contains(&k.as_str()) {
            continue;
        }
        match (a.get(k), b.get(k)) {
            (Some(x), Some(y)) if x == y => {}
            (x, y) => problems.push(format!(
                "{k}: git-dvc {:?} / dvc {:?}",
                x.map(|e| (e.0, format!("{:o}", e.1), e.2.len())),
                y.map(|e| (e.0, format!("{:o}", e.1), e.2.len()))
            )),
        }
    }
    assert!(
        problems.is_empty(),
        "{label}: work trees differ (git-dvc {}, dvc {})\n  {}",
        ours.dir.display(),
        theirs.dir.display(),
        problems.join("\n  ")
    );
}

/// Real DVC finds the clone up to date and has nothing to check out.
#[track_caller]
fn assert_dvc_content(label: &str, repo: &Repo<'_>) {
    repo.dvc(&["status"])
        .assert_stdout_is("Data and pipelines are up to date.");
    let out = repo.dvc(&["checkout"]);
    assert_eq!(
        out.out(),
        "",
        "{label}: dvc checkout changed something\n{}",
        out.describe()
    );
}

#[test]
fn pull_gives_the_work_tree_dvc_pull_gives_under_each_cache_type() {
    let env = TestEnv::new();
    for cache_type in [None, Some("hardlink"), Some("symlink"), Some("copy")] {
        let label = cache_type.unwrap_or("default");
        let ours = clone(&env, &format!("{label}/git-dvc"), cache_type);
        let theirs = clone(&env, &format!("{label}/dvc"), cache_type);
        let a = ours.try_git_dvc(&["pull"]);
        let b = theirs.try_dvc(&["pull"]);
        assert_eq!(a.code(), Some(0), "{label}\n{}", a.describe());
        assert_eq!(b.code(), Some(0), "{label}\n{}", b.describe());
        assert_eq!(
            a.out(),
            b.out(),
            "{label}: different lines\n{}\n{}",
            a.describe(),
            b.describe()
        );
        assert_eq!(
            a.stderr, "",
            "{label}: a clean pull writes nothing to stderr"
        );
        // DVC hard- or symlinks an executable to the cache and then chmods the cache
        // object (to 0544); git-dvc gives it a private copy (README: Differences from DVC).
        let linked = matches!(cache_type, Some("hardlink" | "symlink"));
        let except: &[&str] = if linked { &["run.sh"] } else { &[] };
        assert_same_work_trees(label, &ours, &theirs, except);
        if linked {
            let run = fs::symlink_metadata(ours.path("run.sh")).unwrap();
            assert!(
                run.is_file() && run.nlink() == 1,
                "{label}: run.sh is a private file"
            );
            assert_eq!(run.mode() & 0o777, 0o744, "{label}");
            let object = ours.cache_object(&md5_hex(&ours.read("run.sh")), false);
            assert_eq!(
                file_mode(&object),
                0o444,
                "{label}: the cache object keeps 0444"
            );
        }
        assert_dvc_content(label, &ours);
        ours.git_dvc(&["pull"])
            .assert_stdout_is("Everything is up to date.");
        ours.git_dvc(&["checkout"]).assert_stdout_is("");
        ours.git_dvc(&["checkout", "--summary"])
            .assert_stdout_is("No changes.");
    }
}

#[test]
fn a_modified_file_is_refused_without_force_and_restored_with_it() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    ours.git_dvc(&["pull", "-q"]);
    theirs.dvc(&["pull", "-q"]);
    for r in [&ours, &theirs] {
        r.write("single.bin", "my own edit\n");
        r.write("data/sub/b.txt", "edited member\n");
    }
    let a = ours.try_git_dvc(&["checkout"]);
    let b = theirs.try_dvc(&["checkout"]);
    assert_eq!(a.code(), Some(255), "{}", a.describe());
    assert_eq!(b.code(), Some(255), "{}", b.describe());
    // DVC's words; the paths in the order of its walk, compared as a set.
    let unsaved = |run: &Run, r: &Repo<'_>| {
        let mut lines: Vec<String> = run.stderr.lines().map(str::to_string).collect();
        lines[1..].sort();
        let want = vec![
            "ERROR: Can't remove the following unsaved files without confirmation. Use `--force` to force.".to_string(),
            r.path("data/sub/b.txt").display().to_string(),
            r.path("single.bin").display().to_string(),
        ];
        assert_eq!(lines, want, "{}", run.describe());
    };
    unsaved(&a, &ours);
    unsaved(&b, &theirs);
    assert_eq!(a.out(), "");
    // Nothing was touched.
    assert_eq!(ours.read("single.bin"), b"my own edit\n");
    assert_eq!(ours.read("data/sub/b.txt"), b"edited member\n");
    // Pull says the same, as a pull failure.
    let p = ours.try_git_dvc(&["pull"]);
    assert_eq!(p.code(), Some(1), "{}", p.describe());
    assert!(
        p.stderr.starts_with(
            "ERROR: failed to pull data from the cloud - Can't remove the following unsaved files"
        ),
        "{}",
        p.describe()
    );
    assert_eq!(ours.read("single.bin"), b"my own edit\n");

    let a = ours.try_git_dvc(&["checkout", "-f"]);
    let b = theirs.try_dvc(&["checkout", "-f"]);
    assert_eq!((a.code(), b.code()), (Some(0), Some(0)));
    assert_eq!(a.out(), b.out(), "{}\n{}", a.describe(), b.describe());
    assert_eq!(a.out(), "M       data/\nM       single.bin");
    assert_same_work_trees("forced", &ours, &theirs, &[]);
    assert_dvc_content("forced", &ours);
}

/// The same change in both clones, then `git dvc ARGS` / `dvc ARGS`: same exit code, same
/// stdout, same stderr (paths made relative to each clone), same work tree.
#[track_caller]
fn side_by_side(label: &str, ours: &Repo<'_>, theirs: &Repo<'_>, args: &[&str]) -> Run {
    let a = ours.try_git_dvc(args);
    let b = theirs.try_dvc(args);
    let strip =
        |r: &Run, repo: &Repo<'_>| r.stderr.replace(&*repo.dir.to_string_lossy(), "<clone>");
    assert_eq!(
        a.code(),
        b.code(),
        "{label}\n{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_eq!(
        a.out(),
        b.out(),
        "{label}\n{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_eq!(
        strip(&a, ours),
        strip(&b, theirs),
        "{label}\n{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_same_work_trees(label, ours, theirs, &[]);
    a
}

#[test]
fn directory_contents_removed_outputs_and_summaries_as_dvc() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    side_by_side("first pull", &ours, &theirs, &["pull"]);
    let both = |f: &dyn Fn(&Repo<'_>)| {
        f(&ours);
        f(&theirs);
    };
    // An extra file whose content is in the cache goes silently; an empty directory too;
    // a `.dvcignore`d file stays.
    both(&|r| {
        r.write("data/copy-of-a.txt", r.read("data/a.txt"));
        fs::create_dir_all(r.path("data/new-empty/deeper")).unwrap();
        r.write(".dvcignore", "*.keep\n");
        r.write("data/mine.keep", "ignored\n");
    });
    side_by_side("extra in cache", &ours, &theirs, &["checkout", "--summary"]);
    assert_eq!(ours.read("data/mine.keep"), b"ignored\n");
    // An extra file that is not in the cache is refused, then deleted with -f.
    both(&|r| r.write("data/unsaved.txt", "unsaved\n"));
    side_by_side("extra unsaved", &ours, &theirs, &["checkout"]);
    side_by_side("extra forced", &ours, &theirs, &["checkout", "-f"]);
    // A deleted member and a deleted file come back; an exec bit lost comes back.
    both(&|r| {
        fs::remove_file(r.path("data/é.txt")).unwrap();
        fs::remove_file(r.path("crlf.txt")).unwrap();
        fs::set_permissions(r.path("run.sh"), fs::Permissions::from_mode(0o644)).unwrap();
    });
    side_by_side("restore", &ours, &theirs, &["checkout"]);
    // From a subdirectory, paths are relative to it.
    both(&|r| fs::remove_file(r.path("crlf.txt")).unwrap());
    let sub = |r: &Repo<'_>| r.path("data/sub");
    let a = ours.env.git_dvc(&sub(&ours), &["checkout"]);
    let b = theirs.env.dvc(&sub(&theirs), &["checkout"]);
    assert_eq!(a.out(), b.out());
    assert_eq!(a.out(), "A       ../../crlf.txt");
    // An output whose .dvc file is gone is removed (links database / work-tree state),
    // then nothing more happens.
    both(&|r| {
        r.git(&["rm", "-q", "crlf.txt.dvc"]);
    });
    let a = side_by_side("removed output", &ours, &theirs, &["checkout"]);
    assert_eq!(a.out(), "D       crlf.txt");
    side_by_side("removed output, again", &ours, &theirs, &["checkout"]);
    // Another revision: one member changed, the pull summary counts as DVC's.
    both(&|r| {
        r.git(&["reset", "-q", "--hard"]);
    });
    side_by_side("back", &ours, &theirs, &["pull"]);
    side_by_side("noop", &ours, &theirs, &["pull"]);
    side_by_side(
        "targets",
        &ours,
        &theirs,
        &["checkout", "data.dvc", "--summary"],
    );
    side_by_side("relink", &ours, &theirs, &["checkout", "--relink"]);
}

#[test]
fn where_dvc_is_wrong_git_dvc_does_better() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    ours.git_dvc(&["pull", "-q"]);
    // A stale exec bit is cleared: one M, then quiet (DVC says M forever).
    fs::set_permissions(ours.path("single.bin"), fs::Permissions::from_mode(0o755)).unwrap();
    ours.git_dvc(&["checkout"])
        .assert_stdout_is("M       single.bin");
    assert_eq!(file_mode(&ours.path("single.bin")), 0o644);
    ours.git_dvc(&["checkout"]).assert_stdout_is("");
    assert_dvc_content("stale exec", &ours);
    // --relink (even forced) never deletes a file whose object the cache lacks.
    let single = ours.read("single.bin");
    remove_object(&ours.cache_dir(), &md5_hex(&single));
    ours.git_dvc(&["checkout", "--relink", "-f"])
        .assert_stdout_is("Relinked successfully");
    assert_eq!(ours.read("single.bin"), single);

    // A missing member fails its output but leaves the rest of the directory (DVC deletes
    // the whole directory), and a missing executable's object is a clean failure (DVC
    // crashes with "unexpected error").
    let fresh = clone(&env, "fresh", None);
    fresh.git_dvc(&["fetch", "-q"]);
    let member = md5_hex(b"b\n");
    let run = md5_hex(&fs::read(fixture().repo.join("run.sh")).unwrap());
    for oid in [&member, &run] {
        remove_object(&fresh.cache_dir(), oid);
    }
    let out = fresh.try_git_dvc(&["checkout"]);
    assert_eq!(out.code(), Some(255), "{}", out.describe());
    assert_eq!(
        out.stderr,
        "ERROR: Checkout failed for following targets:\ndata\nrun.sh\nIs your cache up to date?\n<https://error.dvc.org/missing-files>\n"
    );
    assert!(fresh.path("data/a.txt").is_file() && !fresh.path("data/sub/b.txt").exists());
    assert!(!fresh.path("run.sh").exists());
    let out = fresh.try_git_dvc(&["checkout", "--allow-missing"]);
    assert_eq!(out.code(), Some(0), "{}", out.describe());

    // hardlink: an executable is a private copy; the cache object keeps 0444.
    let hard = clone(&env, "hard", Some("hardlink"));
    hard.git_dvc(&["pull", "-q"]);
    let object = hard.cache_object(&run, false);
    assert_eq!(file_mode(&object), 0o444);
    assert_eq!(fs::metadata(hard.path("run.sh")).unwrap().nlink(), 1);
    assert_eq!(fs::metadata(hard.path("single.bin")).unwrap().nlink(), 2);
}

#[test]
fn wrong_remote_bytes_never_reach_the_work_tree() {
    let env = TestEnv::new();
    let f = fixture();
    // A private copy of the remote, with one file and one directory member tampered.
    let remote = env.path("remote-copy");
    copy_dir(&f.remotes[0], &remote);
    make_writable(&remote);
    let single = md5_hex(&pseudo_random_bytes(1, 20_000));
    let member = md5_hex(b"accent\n");
    for oid in [&single, &member] {
        let p = remote.join(object_rel_path(oid, false));
        fs::write(&p, b"tampered bytes\n").unwrap();
        // Read-only, as DVC leaves objects: DVC would take it as it is.
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
    }
    let c = env.clone_repo(&f.repo, "c");
    c.set_local_remotes(&[("r", &remote), (SECOND_REMOTE, &f.remotes[1])]);
    let out = c.try_git_dvc(&["pull"]);
    assert_eq!(out.code(), Some(1), "{}", out.describe());
    // Both refused (said once for the two, naming one), and the manifest held back.
    assert!(
        out.stderr.contains("2 files failed to download")
            && (out.stderr.contains(&single) || out.stderr.contains(&member))
            && out.stderr.contains("its bytes hash to"),
        "{}",
        out.describe()
    );
    assert!(
        out.stderr
            .contains("ERROR: failed to pull data from the cloud - "),
        "{}",
        out.describe()
    );
    // A failed download checks nothing out, as in DVC; and no file anywhere in the work
    // tree or cache holds the wrong bytes.
    for (path, bytes) in list_files(&c.dir) {
        assert_ne!(
            bytes, b"tampered bytes\n",
            "{path} holds the tampered bytes"
        );
    }
    assert!(!c.path("single.bin").exists() && !c.path("data").exists());
    // With the one good object, an explicit checkout of what is there works.
    let out = c.try_git_dvc(&["checkout", "crlf.txt.dvc"]);
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert_eq!(c.read("crlf.txt"), b"hello\r\nworld\r\n");
}

#[test]
fn links_out_of_the_repository_are_never_followed() {
    let env = TestEnv::new();
    let c = clone(&env, "c", None);
    c.git_dvc(&["pull", "-q"]);
    let outside = env.path("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("precious"), b"precious\n").unwrap();
    // A link inside a tracked directory pointing out of the repository: its content is
    // unknown, so it is not removed without --force, and --force removes the link only.
    std::os::unix::fs::symlink(outside.join("precious"), c.path("data/evil")).unwrap();
    let out = c.try_git_dvc(&["checkout"]);
    assert_eq!(out.code(), Some(255), "{}", out.describe());
    assert!(out.stderr.contains(&*c.path("data/evil").to_string_lossy()));
    c.git_dvc(&["checkout", "-f"])
        .assert_stdout_is("M       data/");
    assert!(fs::symlink_metadata(c.path("data/evil")).is_err());
    assert_eq!(fs::read(outside.join("precious")).unwrap(), b"precious\n");
    // A tracked directory replaced by a link out of the repository: never written through.
    fs::remove_dir_all(c.path("data/sub")).unwrap();
    std::os::unix::fs::symlink(&outside, c.path("data/sub")).unwrap();
    let out = c.try_git_dvc(&["checkout", "-f"]);
    assert_eq!(out.code(), Some(0), "{}", out.describe());
    assert_eq!(
        list_names(&outside).into_iter().collect::<Vec<_>>(),
        ["precious"],
        "nothing written outside"
    );
    assert!(
        c.path("data/sub/b.txt").is_file()
            && !fs::symlink_metadata(c.path("data/sub"))
                .unwrap()
                .file_type()
                .is_symlink()
    );
    // An output below a linked directory is refused, and nothing is written there.
    let nested = env.path("nested-outside");
    fs::create_dir_all(&nested).unwrap();
    let c2 = clone(&env, "c2", None);
    c2.write("sub/x.bin", "x\n");
    c2.dvc(&["add", "-q", "sub/x.bin"]);
    // Declared from the top, so that the DVC file stays when `sub` is replaced.
    let declared = String::from_utf8(c2.read("sub/x.bin.dvc"))
        .unwrap()
        .replace("path: x.bin", "path: sub/x.bin");
    fs::remove_file(c2.path("sub/x.bin.dvc")).unwrap();
    c2.write("x.dvc", declared);
    c2.commit_all("nested output");
    fs::remove_dir_all(c2.path("sub")).unwrap();
    std::os::unix::fs::symlink(&nested, c2.path("sub")).unwrap();
    let out = c2.try_git_dvc(&["checkout", "x.dvc"]);
    assert_eq!(out.code(), Some(255), "{}", out.describe());
    assert!(out.stderr.contains("symbolic link"), "{}", out.describe());
    assert!(
        list_names(&nested).is_empty(),
        "nothing written through the link"
    );
}

#[test]
fn dvc_lock_is_taken_and_quiet_is_silent() {
    let env = TestEnv::new();
    let c = clone(&env, "c", None);
    c.git_dvc(&["fetch", "-q"]);
    let python = dvc3_bin().with_file_name("python");
    let mut holder = env.command(&python, &c.dir);
    holder
        .args([
            "-c",
            "import fcntl, sys, time\n\
             f = open(sys.argv[1], 'a+')\n\
             fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n\
             print('held', flush=True)\n\
             time.sleep(120)\n",
            c.path(".dvc/tmp/lock").to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut holder = holder.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "held");
    let out = c.try_git_dvc(&["checkout"]);
    holder.kill().unwrap();
    holder.wait().unwrap();
    assert_eq!(out.code(), Some(255), "{}", out.describe());
    assert!(
        out.stderr.starts_with("ERROR: Unable to acquire lock."),
        "{}",
        out.describe()
    );
    assert!(!c.path("single.bin").exists());
    let out = c.try_git_dvc(&["checkout", "-q"]);
    assert_eq!(
        (out.code(), out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), "", "")
    );
    assert!(c.path("single.bin").is_file());
    fs::remove_file(c.path("single.bin")).unwrap();
    let out = c.try_git_dvc(&["pull", "-q"]);
    assert_eq!(
        (out.code(), out.stdout.as_str(), out.stderr.as_str()),
        (Some(0), "", "")
    );
    let _: &Path = &c.dir;
}

/// The rich repository (DVC 2-era `md5-dos2unix` outputs, a pipeline, five revisions):
/// after `dvc push -a -T`, each revision pulled in a git-dvc clone and a DVC clone, moving
/// between revisions as a user does (`git checkout`, then pull), gives the same work tree,
/// the same lines, and the revision's data.
#[test]
fn every_revision_of_the_rich_repository_pulls_as_with_dvc() {
    use crate::push_equivalence::{copy_rich, rich, REFS};
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let (r, r2) = (env.path("remotes/r"), env.path("remotes/r2"));
    repo.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
    repo.dvc(&["push", "-q", "-a", "-T"]);
    let nopush = md5_hex(NOPUSH_BYTES);
    let prepare = |c: &Repo<'_>| {
        c.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
        common::fetching::seed_objects(&repo.dir, c, &[&nopush]);
    };
    let ours = env.clone_repo(&repo.dir, "ours");
    let theirs = env.clone_repo(&repo.dir, "theirs");
    prepare(&ours);
    prepare(&theirs);
    for rev in REFS {
        for c in [&ours, &theirs] {
            c.git(&["checkout", "-q", rev]);
        }
        let a = side_by_side(rev, &ours, &theirs, &["pull"]);
        assert_eq!(a.code(), Some(0), "{rev}\n{}", a.describe());
        assert_workspace(&ours.dir, &rich().expected[*rev]);
        assert_dvc_content(rev, &ours);
    }
}

#[test]
fn outputs_inside_git_or_dvc_internals_are_never_written() {
    let env = TestEnv::new();
    let c = clone(&env, "c", None);
    c.write("hook.sh", "#!/bin/sh\necho pwned >&2\n");
    c.dvc(&["add", "-q", "hook.sh"]);
    c.write("d/f.txt", "f\n");
    c.dvc(&["add", "-q", "d"]);
    // Hostile DVC files: a file output in git's hooks, a directory output replacing .git,
    // one over DVC's cache, and one reached through `..`.
    let file_dvc = String::from_utf8(c.read("hook.sh.dvc")).unwrap();
    let dir_dvc = String::from_utf8(c.read("d.dvc")).unwrap();
    c.write(
        "hook.dvc",
        file_dvc.replace("path: hook.sh", "path: .git/hooks/pre-commit"),
    );
    c.write(
        "up.dvc",
        file_dvc.replace("path: hook.sh", "path: sub/../.git/hooks/post-commit"),
    );
    c.write("git.dvc", dir_dvc.replace("path: d", "path: .git"));
    c.write("cache.dvc", dir_dvc.replace("path: d", "path: .dvc/cache"));
    c.commit_all("hostile outputs");
    let objects_before = list_names(&c.path(".dvc/cache"));
    for args in [&["checkout"][..], &["checkout", "-f"], &["pull", "-f"]] {
        let out = c.try_git_dvc(args);
        assert_ne!(out.code(), Some(0), "{args:?}: {}", out.describe());
        assert!(
            out.stderr.contains("which DVC ignores"),
            "{args:?}: {}",
            out.describe()
        );
        assert!(!c.path(".git/hooks/pre-commit").exists(), "{args:?}");
        assert!(!c.path(".git/hooks/post-commit").exists(), "{args:?}");
        assert!(c.path(".git/HEAD").is_file(), "{args:?}: .git intact");
        // (pull fetches the other outputs' objects: the cache may only grow)
        assert!(
            list_names(&c.path(".dvc/cache")).is_superset(&objects_before),
            "{args:?}: nothing removed from the cache"
        );
    }
    c.git(&["status", "--short"]);
}

/// A `.dir` manifest whose members plant a nested repository (`d/.git/config`, which git
/// would obey: `core.fsmonitor` runs a command) or a DVC config (`d/sub/.dvc/config`):
/// DVC never lists such paths (it ignores `.git`, `.hg/`, `.dvc/`), DVC's own pull would
/// write them. git-dvc refuses the manifest, names the entry, and writes nothing of it.
#[test]
fn manifest_members_inside_git_or_dvc_internals_are_refused() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = env.dvc_repo_with_remote("repo");
    repo.set_local_remotes(&[("r", &remote)]);
    let (config, head) = (
        "[core]\n\tfsmonitor = echo pwned >&2\n",
        "ref: refs/heads/main\n",
    );
    let member = |text: &str| md5_hex(text.as_bytes());
    for bad in [".git/config", "sub/.dvc/config"] {
        let manifest = format!(
            r#"[{{"md5": "{}", "relpath": ".git/HEAD"}}, {{"md5": "{}", "relpath": "{bad}"}}, {{"md5": "{}", "relpath": "ok"}}]"#,
            member(head),
            member(config),
            member("ok\n"),
        );
        let dir_oid = md5_hex(manifest.as_bytes());
        for (oid, bytes) in [
            (format!("{dir_oid}.dir"), manifest.as_str()),
            (member(head), head),
            (member(config), config),
            (member("ok\n"), "ok\n"),
        ] {
            let p = remote.join(object_rel_path(&oid, false));
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, bytes).unwrap();
        }
        repo.write(
            "d.dvc",
            format!("outs:\n- md5: {dir_oid}.dir\n  nfiles: 3\n  hash: md5\n  path: d\n"),
        );
        repo.commit_all("a hostile directory");
        let c = env.clone_repo(&repo.dir, &format!("c-{}", bad.replace(['/', '.'], "-")));
        c.set_local_remotes(&[("r", &remote)]);
        let out = c.try_git_dvc(&["pull"]);
        assert_ne!(out.code(), Some(0), "{bad}: {}", out.describe());
        assert!(out.stderr.contains(".git"), "{bad}: {}", out.describe());
        assert!(!c.path("d").exists(), "{bad}: nothing of d written");
        assert!(
            !c.cache_object(&format!("{dir_oid}.dir"), false).exists(),
            "{bad}: the manifest never enters the cache"
        );
    }
}

/// A directory on another file system than the test's (tmpfs at `/dev/shm`), for a cache
/// that `cache.type = hardlink` cannot link from; `None` where there is none.
fn cache_elsewhere() -> Option<tempfile::TempDir> {
    let shm = Path::new("/dev/shm");
    let here = fs::metadata(std::env::temp_dir()).ok()?.dev();
    if fs::metadata(shm).ok()?.dev() == here {
        return None;
    }
    tempfile::Builder::new()
        .prefix("git-dvc-test-")
        .tempdir_in(shm)
        .ok()
}

/// Names under `dir` (recursively, `.git` left out) in git-dvc's temporary-file pattern.
fn our_temporaries(dir: &Path) -> Vec<String> {
    tree_state(dir, &[".git"])
        .into_keys()
        .filter(|k| k.rsplit('/').next().unwrap().starts_with(".git-dvc-"))
        .collect()
}

/// An output whose file cannot be made (every `cache.type` link type refused: a hardlink
/// across file systems) keeps what it held: a file is never deleted before its new one is
/// in place, a directory that a file replaces stays whole, a file that a directory
/// replaces comes back. As in DVC, the failed output has no `M` line and no count; unlike
/// DVC (which deletes the outputs and says "Is your cache up to date?"), the message says
/// why and what to do.
#[test]
fn a_failed_output_keeps_its_file_has_no_line_and_says_why() {
    let Some(elsewhere) = cache_elsewhere() else {
        eprintln!("skipped: no second file system at /dev/shm");
        return;
    };
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    for (r, name) in [(&ours, "ours"), (&theirs, "theirs")] {
        let cache = elsewhere.path().join(name);
        r.dvc(&["config", "--local", "cache.dir", cache.to_str().unwrap()]);
    }
    ours.git_dvc(&["pull", "-q"]);
    theirs.dvc(&["pull", "-q"]);
    for r in [&ours, &theirs] {
        // Each output now declares another's data: single.bin crlf.txt's bytes, data/ a
        // file, crlf.txt a directory. All of it is in the cache.
        let file = String::from_utf8(r.read("crlf.txt.dvc")).unwrap();
        let dir = String::from_utf8(r.read("data.dvc")).unwrap();
        r.write(
            "single.bin.dvc",
            file.replace("path: crlf.txt", "path: single.bin"),
        );
        r.write("data.dvc", file.replace("path: crlf.txt", "path: data"));
        r.write("crlf.txt.dvc", dir.replace("path: data", "path: crlf.txt"));
        r.dvc(&["config", "--local", "cache.type", "hardlink"]);
    }
    let before = work_tree(&ours);
    let a = ours.try_git_dvc(&["checkout"]);
    let b = theirs.try_dvc(&["checkout"]);
    assert_eq!(a.code(), Some(255), "{}", a.describe());
    assert_eq!(b.code(), Some(255), "{}", b.describe());
    assert_eq!(a.out(), "", "no line for a failed output");
    // DVC fails the first output it makes (in no fixed order), says nothing of it on
    // stdout and removes it; its emptied list of link types then falls back to
    // `reflink,copy` for the other outputs (an accident of dvc-objects' `transfer`, which
    // git-dvc does not copy: cache.type is what the user asked for).
    let failed = b.stderr.lines().nth(1).unwrap_or_default();
    assert!(
        ["crlf.txt", "data", "single.bin"].contains(&failed)
            && !b.out().contains(failed)
            && !theirs.path(failed).exists(),
        "{}",
        b.describe()
    );
    assert_eq!(work_tree(&ours), before, "{}", a.describe());
    assert_eq!(our_temporaries(&ours.dir), Vec::<String>::new());
    for path in ["crlf.txt", "data", "single.bin"] {
        assert!(
            a.stderr.contains(&format!("\n{path}: cannot make ")),
            "{path}: {}",
            a.describe()
        );
    }
    assert!(
        a.stderr
            .starts_with("ERROR: Checkout failed for following targets:\n")
            && a.stderr.contains("Invalid cross-device link")
            && a.stderr.contains("`dvc config cache.type hardlink,copy`")
            && !a.stderr.contains("Is your cache up to date?"),
        "{}",
        a.describe()
    );
    // The way out works: each output is replaced, and said as DVC says it.
    ours.dvc(&["config", "--local", "cache.type", "hardlink,copy"]);
    ours.git_dvc(&["checkout"])
        .assert_stdout_is("M       crlf.txt/\nM       data\nM       single.bin");
    assert_eq!(ours.read("data"), b"hello\r\nworld\r\n");
    assert_eq!(ours.read("crlf.txt/sub/b.txt"), b"b\n");
    assert_eq!(our_temporaries(&ours.dir), Vec::<String>::new());
    assert_dvc_content("after the way out", &ours);
}

/// A `.dir` listing one path twice is one file, its last entry (DVC's `Tree.from_list`):
/// the earlier entry's object is not fetched, and nothing is counted twice; nor is an
/// object two outputs share. Side by side with `dvc pull`.
#[test]
fn duplicate_members_are_fetched_and_counted_as_dvc_counts_them() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = env.dvc_repo_with_remote("repo");
    repo.set_local_remotes(&[("r", &remote)]);
    repo.write("a.txt", "same\n");
    repo.write("b.txt", "same\n");
    repo.write("d/x", "same\n");
    repo.write("d/y", "same\n");
    repo.write("d/z", "other\n");
    repo.dvc(&["add", "-q", "a.txt", "b.txt", "d"]);
    repo.dvc(&["push", "-q"]);
    // `e/x` listed twice (first with an object nothing else uses), as some tools write.
    let (same, other, first) = (md5_hex(b"same\n"), md5_hex(b"other\n"), md5_hex(b"first\n"));
    let manifest = format!(
        r#"[{{"md5": "{first}", "relpath": "x"}}, {{"md5": "{same}", "relpath": "x"}}, {{"md5": "{other}", "relpath": "z"}}]"#
    );
    let dir_oid = md5_hex(manifest.as_bytes());
    for (oid, bytes, suffix) in [
        (&dir_oid, manifest.as_bytes(), ".dir"),
        (&first, &b"first\n"[..], ""),
    ] {
        let p = remote.join(object_rel_path(&format!("{oid}{suffix}"), false));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, bytes).unwrap();
    }
    repo.write(
        "e.dvc",
        format!("outs:\n- md5: {dir_oid}.dir\n  size: 11\n  nfiles: 2\n  hash: md5\n  path: e\n"),
    );
    repo.commit_all("duplicates");
    let ours = env.clone_repo(&repo.dir, "ours");
    let theirs = env.clone_repo(&repo.dir, "theirs");
    for c in [&ours, &theirs] {
        c.set_local_remotes(&[("r", &remote)]);
    }
    let a = side_by_side("first pull", &ours, &theirs, &["pull"]);
    assert_eq!(
        a.out(),
        "A       d/\nA       e/\nA       a.txt\nA       b.txt\n4 files fetched and 7 files added"
    );
    assert!(!ours.cache_object(&first, false).exists(), "not fetched");
    assert_eq!(ours.read("e/x"), b"same\n");
    for c in [&ours, &theirs] {
        fs::remove_dir_all(c.path("e")).unwrap();
        fs::remove_file(c.path("a.txt")).unwrap();
    }
    side_by_side("checkout", &ours, &theirs, &["checkout", "--summary"])
        .assert_stdout_is("3 files added");
}

/// What a killed `git dvc checkout` leaves beside a single-file output (a temporary file
/// of git-dvc's pattern, from a process that is gone) is removed by the next checkout
/// that writes there; a live process's, and other tools' temporary files, stay.
#[test]
fn a_killed_checkouts_temporary_files_are_removed_by_the_next() {
    let env = TestEnv::new();
    let c = clone(&env, "c", None);
    c.git_dvc(&["fetch", "-q"]);
    let host: String = fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .chars()
        .map(|ch| {
            if ch.is_ascii_alphanumeric() || ch == '.' {
                ch
            } else {
                '_'
            }
        })
        .collect();
    let mut gone = std::process::Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let killed = [
        format!(".git-dvc-{host}-{dead}-aaaaaaaaaaaaaaaa.tmp"),
        format!("data/sub/.git-dvc-{host}-{dead}-bbbbbbbbbbbbbbbb.tmp"),
    ];
    let kept = [
        format!(
            ".git-dvc-{host}-{}-cccccccccccccccc.tmp",
            std::process::id()
        ),
        ".wl2kqQprwiMkFvsBPeMEzw.tmp".to_string(),
    ];
    fs::create_dir_all(c.path("data/sub")).unwrap();
    for name in killed.iter().chain(&kept) {
        c.write(name, "half a fi");
    }
    c.git_dvc(&["checkout", "-q"]);
    for name in &killed {
        assert!(!c.path(name).exists(), "{name} left");
    }
    for name in &kept {
        assert!(c.path(name).exists(), "{name} removed");
        fs::remove_file(c.path(name)).unwrap();
    }
    assert_eq!(c.git(&["status", "--porcelain"]), "");
    assert_dvc_content("after the sweep", &c);
}

/// What `dvc add` just wrote is already what the DVC files say: under each `cache.type`,
/// `git dvc checkout` and `pull` leave it as it is (same inode, mtime, mode, link), say what
/// DVC says (nothing; `Everything is up to date.`), and record it in the work-tree state,
/// so that the next no-op reads no file.
#[test]
fn what_dvc_add_just_wrote_is_adopted_not_rewritten_under_each_cache_type() {
    let env = TestEnv::new();
    for cache_type in [None, Some("hardlink"), Some("symlink"), Some("copy")] {
        let label = cache_type.unwrap_or("default");
        let make = |who: &str| {
            let r = env.dvc_repo_with_remote(&format!("{label}/{who}"));
            r.set_local_remotes(&[("r", &env.path(&format!("remote-{label}-{who}")))]);
            if let Some(t) = cache_type {
                r.dvc(&["config", "--local", "cache.type", t]);
            }
            r.write("a.txt", "hello\n");
            r.write("d/x", "x\n");
            r.write("d/sub/y", "y\n");
            r.write("run.sh", "#!/bin/sh\n");
            fs::set_permissions(r.path("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
            r.dvc(&["add", "-q", "a.txt", "d", "run.sh"]);
            r
        };
        let (ours, theirs) = (make("ours"), make("theirs"));
        let stamps = |r: &Repo<'_>| -> Vec<(String, u64, i64, u32)> {
            ["a.txt", "d/x", "d/sub/y", "run.sh"]
                .iter()
                .map(|p| {
                    let m = fs::symlink_metadata(r.path(p)).unwrap();
                    (p.to_string(), m.ino(), m.mtime_nsec(), m.mode())
                })
                .collect()
        };
        let before = stamps(&ours);
        side_by_side(label, &ours, &theirs, &["checkout"]).assert_stdout_is("");
        assert_eq!(stamps(&ours), before, "{label}: rewritten");
        let state = String::from_utf8(ours.read(".dvc/tmp/git-dvc/checkout-state.json")).unwrap();
        for out in ["\"a.txt\"", "\"d\"", "\"run.sh\""] {
            assert!(state.contains(out), "{label}: {out} not adopted: {state}");
        }
        // `dvc push` re-protects the cache object DVC's linked `isexec` file shares
        // (0544 -> 0444), so that file is no longer executable: both tools then say `M`,
        // DVC chmods the cache object again, git-dvc makes a private copy (README:
        // Differences from DVC). Everything else stays as `dvc add` wrote it.
        for r in [&ours, &theirs] {
            r.dvc(&["push", "-q"]);
        }
        let a = ours.try_git_dvc(&["pull"]);
        let b = theirs.try_dvc(&["pull"]);
        assert_eq!(
            (a.code(), a.out()),
            (b.code(), b.out()),
            "{label}\n{}\n{}",
            a.describe(),
            b.describe()
        );
        let exec_fixed = matches!(cache_type, Some("hardlink" | "symlink"));
        let want = if exec_fixed {
            "M       run.sh\n1 file modified"
        } else {
            "Everything is up to date."
        };
        assert_eq!(a.out(), want, "{label}");
        let (now, then) = (stamps(&ours), &before);
        assert_eq!(now[..3], then[..3], "{label}: rewritten by pull");
        assert_eq!(now[3] == then[3], !exec_fixed, "{label}: run.sh");
    }
}

/// A target inside a directory output (`data/a.txt`, `data/sub`) checks out only that part
/// of the directory, as DVC's granular checkout: the rest of it (unsaved edits, files of
/// the user's own) is neither refused nor touched, even with `-f`.
#[test]
fn a_target_inside_a_directory_checks_out_only_that_part_as_dvc() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    side_by_side("first pull", &ours, &theirs, &["pull", "-q"]);
    let both = |f: &dyn Fn(&Repo<'_>)| {
        f(&ours);
        f(&theirs);
    };
    // Unsaved work elsewhere in the output.
    both(&|r| {
        fs::remove_file(r.path("data/a.txt")).unwrap();
        r.write("data/sub/b.txt", "precious work\n");
        r.write("data/mynotes", "notes\n");
    });
    let untouched = |label: &str| {
        for r in [&ours, &theirs] {
            assert_eq!(r.read("data/sub/b.txt"), b"precious work\n", "{label}");
            assert_eq!(r.read("data/mynotes"), b"notes\n", "{label}");
        }
    };
    let run = side_by_side("member", &ours, &theirs, &["checkout", "data/a.txt"]);
    assert_eq!(run.out(), "M       data/");
    untouched("member");
    both(&|r| fs::remove_file(r.path("data/a.txt")).unwrap());
    let run = side_by_side(
        "member -f",
        &ours,
        &theirs,
        &["checkout", "-f", "data/a.txt"],
    );
    assert_eq!(run.out(), "M       data/");
    untouched("member -f");
    let run = side_by_side(
        "noop",
        &ours,
        &theirs,
        &["checkout", "--summary", "data/a.txt"],
    );
    assert_eq!(run.out(), "No changes.");
    // A modified member is refused alone, and replaced alone with -f.
    both(&|r| r.write("data/a.txt", "changed\n"));
    let run = side_by_side("modified", &ours, &theirs, &["checkout", "data/a.txt"]);
    assert_eq!(run.code(), Some(255));
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.describe());
    let run = side_by_side(
        "modified -f",
        &ours,
        &theirs,
        &["checkout", "-f", "--summary", "data/a.txt"],
    );
    assert_eq!(run.out(), "1 file modified");
    untouched("modified -f");

    // A subdirectory: only its subtree; extra files inside it are refused, then deleted
    // with -f; a changed member outside it stays.
    both(&|r| {
        r.write("data/a.txt", "changed again\n");
        fs::remove_file(r.path("data/sub/deeper/empty2")).unwrap();
        r.write("data/sub/extra", "extra\n");
    });
    let run = side_by_side("subdir", &ours, &theirs, &["checkout", "data/sub/deeper"]);
    assert_eq!(run.out(), "M       data/");
    both(&|r| r.write("data/sub/b.txt", "b\n"));
    let run = side_by_side("subdir unsaved", &ours, &theirs, &["checkout", "data/sub"]);
    assert_eq!(run.code(), Some(255));
    assert!(
        run.stderr.ends_with("/data/sub/extra\n"),
        "{}",
        run.describe()
    );
    both(&|r| {
        r.write("data/sub/b.txt", "precious work\n");
        fs::create_dir_all(r.path("data/sub/newdir")).unwrap();
        r.write("data/sub/newdir/x", "x\n");
    });
    let run = side_by_side(
        "subdir -f",
        &ours,
        &theirs,
        &["checkout", "-f", "--summary", "data/sub/"],
    );
    assert_eq!(run.out(), "1 file modified and 3 files deleted");
    for r in [&ours, &theirs] {
        assert_eq!(r.read("data/a.txt"), b"changed again\n");
        assert_eq!(r.read("data/mynotes"), b"notes\n");
        assert_eq!(r.read("data/sub/b.txt"), b"b\n");
    }
    // A path the directory does not hold: nothing, or the extra file there.
    let run = side_by_side("absent member", &ours, &theirs, &["checkout", "data/zzz"]);
    assert_eq!((run.code(), run.out()), (Some(0), ""));
    both(&|r| r.write("data/zzz", "mine\n"));
    side_by_side("extra target", &ours, &theirs, &["checkout", "data/zzz"]);
    side_by_side(
        "extra target -f",
        &ours,
        &theirs,
        &["checkout", "-f", "data/zzz"],
    );
    // -R: a directory inside the output on disk holds no DVC file, so nothing; one not
    // there names that part of the output.
    both(&|r| fs::remove_file(r.path("data/sub/b.txt")).unwrap());
    let run = side_by_side(
        "-R on disk",
        &ours,
        &theirs,
        &["checkout", "-R", "data/sub"],
    );
    assert_eq!(run.out(), "");
    both(&|r| fs::remove_dir_all(r.path("data/sub")).unwrap());
    let run = side_by_side("-R absent", &ours, &theirs, &["checkout", "-R", "data/sub"]);
    assert_eq!(run.out(), "M       data/");
    assert_eq!(ours.read("data/a.txt"), b"changed again\n");
    // Then the whole output, as DVC.
    side_by_side(
        "whole",
        &ours,
        &theirs,
        &["checkout", "-f", "data", "--summary"],
    );
    assert_dvc_content("whole", &ours);
}

/// `pull` with a target inside a directory output: the checkout is DVC's granular one;
/// the fetch takes the whole directory (git-dvc keeps a `.dir` in the cache only with all
/// its members), so only the count of fetched files differs from DVC's.
#[test]
fn pull_with_a_target_inside_a_directory_as_dvc() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    let a = ours.try_git_dvc(&["pull", "data/sub/b.txt"]);
    let b = theirs.try_dvc(&["pull", "data/sub/b.txt"]);
    assert_eq!(
        (a.code(), b.code()),
        (Some(0), Some(0)),
        "{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_eq!(b.out(), "A       data/\n2 files fetched and 1 file added");
    assert_eq!(
        a.out(),
        "A       data/\n8 files fetched and 1 file added",
        "{}",
        a.describe()
    );
    assert_same_work_trees("member of a fresh clone", &ours, &theirs, &[]);
    // The rest of the directory is in our cache: a checkout needs no download.
    ours.git_dvc(&["checkout", "data"])
        .assert_stdout_is("M       data/");
    theirs.dvc(&["pull", "-q", "data"]);
    assert_same_work_trees("the rest", &ours, &theirs, &[]);
    side_by_side("full pull", &ours, &theirs, &["pull"]);
    // Unsaved work elsewhere in the output survives `pull -f` of a member.
    for r in [&ours, &theirs] {
        fs::remove_file(r.path("data/a.txt")).unwrap();
        r.write("data/sub/b.txt", "precious work\n");
        r.write("data/mynotes", "notes\n");
    }
    let run = side_by_side(
        "pull -f member",
        &ours,
        &theirs,
        &["pull", "-f", "data/a.txt"],
    );
    assert_eq!(run.out(), "M       data/\n1 file added");
    for r in [&ours, &theirs] {
        assert_eq!(r.read("data/sub/b.txt"), b"precious work\n");
        assert_eq!(r.read("data/mynotes"), b"notes\n");
    }
}

/// Inside a directory output: a `.dvcignore` in a sub-directory hides what it names (as
/// DVC applies it, so `--force` keeps it), a nesting deeper than any thread's stack is
/// walked, and a name that is not UTF-8 stops the output with its name instead of a
/// `--force` that claims a change it cannot make.
#[test]
fn nested_dvcignore_deep_trees_and_non_utf8_names_inside_an_output() {
    use std::os::unix::ffi::OsStrExt;
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    repo.write("data/a", "a\n");
    repo.write("data/sub/b", "b\n");
    repo.dvc(&["add", "-q", "data"]);
    repo.commit_all("data");

    // A nested .dvcignore: its own file is an extra (DVC lists it too), what it ignores
    // is not, and survives --force.
    repo.write("data/sub/x.tmp", "mine\n");
    repo.write("data/sub/.dvcignore", "*.tmp\n");
    let run = repo.try_git_dvc(&["checkout"]);
    run.assert_code(255);
    assert!(
        run.stderr.contains("data/sub/.dvcignore"),
        "{}",
        run.describe()
    );
    assert!(!run.stderr.contains("x.tmp"), "{}", run.describe());
    repo.git_dvc(&["checkout", "--force"]).assert_success();
    assert_eq!(repo.read("data/sub/x.tmp"), b"mine\n");
    fs::remove_file(repo.path("data/sub/x.tmp")).unwrap();

    // 1,400 nested directories: listed (as extras), no stack overflow.
    let mut deep = repo.path("data/deep");
    for _ in 0..1400 {
        deep.push("n");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("leaf"), "leaf\n").unwrap();
    repo.try_git_dvc(&["checkout"]).assert_code(255);
    repo.git_dvc(&["checkout", "--force"]).assert_success();
    assert!(!repo.path("data/deep").exists());

    // A name that is not UTF-8: named, the output fails, nothing claimed.
    let odd = repo
        .path("data")
        .join(std::ffi::OsStr::from_bytes(b"odd-\xff\xfe"));
    fs::write(&odd, "x").unwrap();
    let run = repo.try_git_dvc(&["checkout", "--force"]);
    run.assert_code(255);
    assert!(
        run.stderr.contains("not a UTF-8 name"),
        "{}",
        run.describe()
    );
    assert!(!run.out().contains("M"), "{}", run.describe());
    assert!(odd.exists());
}

/// DVC's unsaved-file paths (absolute, one a line after its message), in the order
/// git-dvc prints them: breadth first, then by path, which is always one of the orders
/// DVC's walk gives (it visits each directory's entries in no fixed order). Also checks
/// that DVC's own list is breadth first.
#[track_caller]
fn unsaved_lines(label: &str, run: &Run, repo: &Repo<'_>) -> Vec<String> {
    let mut lines = run.stderr.lines();
    assert_eq!(
        lines.next(),
        Some("ERROR: Can't remove the following unsaved files without confirmation. Use `--force` to force."),
        "{label}\n{}",
        run.describe()
    );
    let root = format!("{}/", repo.dir.display());
    let paths: Vec<String> = lines
        .map(|l| {
            l.strip_prefix(&root)
                .unwrap_or_else(|| panic!("{label}: not absolute: {l}\n{}", run.describe()))
                .to_string()
        })
        .collect();
    let depth = |p: &String| p.matches('/').count();
    assert!(
        paths.windows(2).all(|w| depth(&w[0]) <= depth(&w[1])),
        "{label}: not breadth first\n{}",
        run.describe()
    );
    paths
}

/// "Checkout failed" paths, in the order given (DVC's is a set's: no fixed order).
fn failed_lines(run: &Run) -> Vec<String> {
    run.stderr
        .lines()
        .skip_while(|l| *l != "ERROR: Checkout failed for following targets:")
        .skip(1)
        .take_while(|l| *l != "Is your cache up to date?")
        .map(str::to_string)
        .collect()
}

/// The `.dir` object a `.dvc` file names.
fn dir_oid(repo: &Repo<'_>, dvc_file: &str) -> String {
    let text = String::from_utf8(repo.read(dvc_file)).unwrap();
    let line = text.lines().find(|l| l.contains(".dir")).unwrap();
    line.split_whitespace()
        .last()
        .unwrap()
        .trim_end_matches(".dir")
        .to_string()
}

/// Unsaved files and outputs whose objects are missing in one checkout, side by side with
/// `dvc checkout`: the refusal wins (exit 255, nothing on stdout, nothing touched), and it
/// names the modified files whose new object is missing too (DVC would delete them to
/// make the file it cannot make), also inside a directory whose manifest is missing. With
/// `--force`, the changed outputs' lines on stdout, then "Checkout failed" with the
/// failed outputs; git-dvc keeps what it cannot replace (README: Differences from DVC).
#[test]
fn unsaved_files_win_over_missing_objects_as_in_dvc() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    ours.git_dvc(&["pull", "-q"]);
    theirs.dvc(&["pull", "-q"]);
    let single = md5_hex(&ours.read("single.bin"));
    let crlf = md5_hex(&ours.read("crlf.txt"));
    for r in [&ours, &theirs] {
        // Unsaved: an edit (object there), an edit whose object is missing, an extra
        // file deeper down whose name sorts first.
        r.write("other.txt", "my other edit\n");
        remove_object(&r.cache_dir(), &single);
        r.write("single.bin", "my single edit\n");
        r.write("data/0-extra.txt", "mine\n");
        // Failed: an output whose object is missing (not an executable: DVC crashes).
        remove_object(&r.cache_dir(), &crlf);
        fs::remove_file(r.path("crlf.txt")).unwrap();
        // A change that needs no refusal.
        fs::remove_file(r.path("empty.bin")).unwrap();
    }
    let before = work_tree(&ours);
    for args in [
        &["checkout"][..],
        &["checkout", "--allow-missing"],
        &["checkout", "--summary"],
    ] {
        let label = args.join(" ");
        let a = ours.try_git_dvc(args);
        let b = theirs.try_dvc(args);
        assert_eq!(
            (a.code(), b.code()),
            (Some(255), Some(255)),
            "{label}\n{}\n{}",
            a.describe(),
            b.describe()
        );
        assert_eq!((a.out(), b.out()), ("", ""), "{label}");
        let ours_paths = unsaved_lines(&label, &a, &ours);
        let mut theirs_paths = unsaved_lines(&label, &b, &theirs);
        theirs_paths.sort_by_key(|p| (p.matches('/').count(), p.clone()));
        assert_eq!(ours_paths, theirs_paths, "{label}");
        assert_eq!(
            ours_paths,
            ["other.txt", "single.bin", "data/0-extra.txt"],
            "{label}"
        );
        assert_eq!(work_tree(&ours), before, "{label}: nothing touched");
    }
    assert!(
        !theirs.path("empty.bin").exists(),
        "DVC touched nothing either"
    );
    let a = ours.try_git_dvc(&["checkout", "-q"]);
    assert_eq!((a.code(), a.out(), a.stderr.as_str()), (Some(255), "", ""));

    let a = ours.try_git_dvc(&["checkout", "-f"]);
    let b = theirs.try_dvc(&["checkout", "-f"]);
    assert_eq!(
        (a.code(), b.code()),
        (Some(255), Some(255)),
        "{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_eq!(a.out(), b.out(), "{}\n{}", a.describe(), b.describe());
    assert_eq!(
        a.out(),
        "M       data/\nM       other.txt\nA       empty.bin"
    );
    let mut theirs_failed = failed_lines(&b);
    theirs_failed.sort();
    assert_eq!(
        failed_lines(&a),
        theirs_failed,
        "{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_eq!(failed_lines(&a), ["crlf.txt", "single.bin"]);
    assert!(a
        .stderr
        .ends_with("Is your cache up to date?\n<https://error.dvc.org/missing-files>\n"));
    // DVC deleted the edit it could not replace; git-dvc keeps it.
    assert!(!theirs.path("single.bin").exists());
    assert_eq!(ours.read("single.bin"), b"my single edit\n");

    // A directory whose manifest is missing: its unsaved files are refused, then (forced)
    // the output fails with the others; DVC deletes the directory, git-dvc keeps it.
    let manifest = dir_oid(&ours, "data.dvc");
    fs::remove_file(ours.path("single.bin")).unwrap(); // as DVC left it
    for r in [&ours, &theirs] {
        r.write("data/0-extra.txt", "mine again\n");
        remove_object(&r.cache_dir(), &format!("{manifest}.dir"));
    }
    for args in [&["checkout"][..], &["checkout", "data"]] {
        let label = args.join(" ");
        let a = ours.try_git_dvc(args);
        let b = theirs.try_dvc(args);
        assert_eq!(
            (a.code(), b.code()),
            (Some(255), Some(255)),
            "{label}\n{}\n{}",
            a.describe(),
            b.describe()
        );
        assert_eq!((a.out(), b.out()), ("", ""), "{label}");
        assert_eq!(unsaved_lines(&label, &a, &ours), ["data/0-extra.txt"]);
        assert_eq!(unsaved_lines(&label, &b, &theirs), ["data/0-extra.txt"]);
    }
    // Where DVC is wrong: a directory named as a target whose manifest is missing is, to
    // DVC, checked out (exit 0; "M" when it deleted something); git-dvc says it failed.
    for r in [&ours, &theirs] {
        fs::remove_file(r.path("data/0-extra.txt")).unwrap();
    }
    let b = theirs.try_dvc(&["checkout", "data"]);
    assert_eq!(
        (b.code(), b.out(), b.stderr.as_str()),
        (Some(0), "", ""),
        "{}",
        b.describe()
    );
    let a = ours.try_git_dvc(&["checkout", "data"]);
    assert_eq!(a.code(), Some(255), "{}", a.describe());
    assert_eq!(failed_lines(&a), ["data"]);
    for r in [&ours, &theirs] {
        r.write("data/0-extra.txt", "mine again\n");
    }
    // Forced: the unsaved file goes, and the directory fails with the others. DVC
    // deletes what it can and then, depending on what it deleted, fails the directory or
    // reports it modified (exit 0 when nothing else failed): git-dvc always fails it.
    let a = ours.try_git_dvc(&["checkout", "-f"]);
    let b = theirs.try_dvc(&["checkout", "-f"]);
    assert_eq!(
        (a.code(), b.code()),
        (Some(255), Some(255)),
        "{}\n{}",
        a.describe(),
        b.describe()
    );
    assert_eq!(a.out(), "", "{}", a.describe());
    assert_eq!(failed_lines(&a), ["crlf.txt", "data", "single.bin"]);
    let mut theirs_failed = failed_lines(&b);
    theirs_failed.sort();
    let dvc_failed_data = theirs_failed.contains(&"data".to_string());
    theirs_failed.retain(|p| p != "data");
    assert_eq!(
        theirs_failed,
        ["crlf.txt", "single.bin"],
        "{}",
        b.describe()
    );
    assert_eq!(b.out(), if dvc_failed_data { "" } else { "M       data/" });
    assert!(!theirs.path("data/0-extra.txt").exists());
    assert_eq!(ours.read("data/0-extra.txt"), b"mine again\n");
}

/// Targets naming nothing, side by side with `dvc checkout` and `dvc pull`, from the top
/// and from a subdirectory without a `dvc.yaml`: DVC's message (the target as typed, the
/// "Did you mean `git checkout …`?" hint where DVC gives it, why its stage lookup failed,
/// paths as DVC shows them), stdout and exit code.
#[test]
fn targets_naming_nothing_say_what_dvc_says() {
    let env = TestEnv::new();
    let ours = clone(&env, "ours", None);
    let theirs = clone(&env, "theirs", None);
    for r in [&ours, &theirs] {
        r.write("notes/readme.txt", "not tracked\n");
    }
    let rows: &[(&str, &[&str])] = &[
        ("", &["checkout", "x"]),
        ("", &["checkout", "dvc.yaml:x"]),
        ("", &["checkout", ":x"]),
        ("", &["checkout", "./dvc.yaml:x"]),
        ("", &["checkout", "-d", "dvc.yaml:x"]),
        ("", &["checkout", "x.dvc"]),
        ("", &["checkout", "notes/dvc.yaml:x"]),
        ("", &["checkout", "dvc.lock:gen"]),
        ("", &["checkout", "notes/readme.txt"]),
        ("", &["checkout", "-R", "notes"]),
        ("", &["checkout", "-q", "x"]),
        ("", &["pull", "x"]),
        ("", &["pull", "dvc.yaml:x"]),
        ("notes", &["checkout", "x"]),
        ("notes", &["checkout", "."]),
        ("notes", &["checkout", "-R", "."]),
        ("notes", &["checkout", ":x"]),
        ("notes", &["checkout", "readme.txt"]),
        ("notes", &["checkout", "../dvc.yaml:x"]),
        ("notes", &["checkout", "../notes/../dvc.yaml:x"]),
        ("notes", &["pull", "x"]),
        ("notes", &["pull", "../dvc.yaml:x"]),
    ];
    let mut problems = Vec::new();
    for (cwd, args) in rows {
        let a = env.try_git_dvc(&ours.path(cwd), args);
        let b = env.try_dvc(&theirs.path(cwd), args);
        let strip =
            |r: &Run, repo: &Repo<'_>| r.stderr.replace(&*repo.dir.to_string_lossy(), "<clone>");
        if (a.code(), a.out(), strip(&a, &ours)) != (b.code(), b.out(), strip(&b, &theirs)) {
            problems.push(format!(
                "in '{cwd}': {}\n{}\n{}",
                args.join(" "),
                a.describe(),
                b.describe()
            ));
        }
        assert!(
            a.code() != Some(0) || args.contains(&"-R"),
            "{}",
            a.describe()
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
