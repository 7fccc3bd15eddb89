//! `git dvc fetch` side by side with real `dvc fetch` (DVC 3.67.1): after real `dvc push`,
//! two fresh clones fetch with the same arguments, one with each tool, and must end with the
//! same cache (names, bytes, modes), print the same summary and exit alike; real `dvc
//! checkout` then restores every revision from git-dvc's cache. Also: a tampered remote
//! object is refused and named while the rest lands, a killed fetch leaves nothing but
//! temporary files the next one removes, targets select what DVC selects, `cache.dir` and
//! `cache.shared`, DVC's lock, the run cache, and DVC's messages for missing objects.

use crate::common;
use crate::push_equivalence::{copy_rich, rich, REFS};

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::fetching::*;
use common::fixtures::*;
use common::*;

fn fetched_line(n: usize) -> String {
    match n {
        0 => "Everything is up to date.".to_string(),
        1 => "1 file fetched".to_string(),
        n => format!("{n} files fetched"),
    }
}

/// Replaces the bytes of a remote object, keeping it read-only as DVC leaves objects.
fn tamper(remote: &Path, oid: &str, bytes: &[u8]) {
    let path = remote.join(object_rel_path(oid, false));
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&path, bytes).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
}

#[test]
fn all_branches_and_tags_fill_the_cache_as_dvc_fetch_does() {
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let (r, r2) = (env.path("remotes/r"), env.path("remotes/r2"));
    repo.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
    repo.dvc(&["push", "-q", "-a", "-T"]);
    let nopush = md5_hex(NOPUSH_BYTES);
    let prepare = |clone: &Repo<'_>| {
        clone.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
        clone.git(&["branch", "-q", "feature", "origin/feature"]);
        // `push: false`: on no remote, so both clients get it from elsewhere.
        seed_objects(&repo.dir, clone, &[&nopush]);
    };
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "all", &["-a", "-T"], &prepare);
    let objects = list_files(&cmp.ours.cache_dir());
    assert_eq!(
        cmp.git_dvc.out(),
        fetched_line(objects.len() - 1),
        "every object but the seeded one was fetched\n{}",
        cmp.git_dvc.describe()
    );
    assert!(
        objects.keys().any(|k| !k.starts_with("files/")),
        "no legacy objects"
    );
    assert!(objects.keys().filter(|k| k.ends_with(".dir")).count() >= 4);

    // Nothing left to do, for either tool.
    cmp.ours
        .git_dvc(&["fetch", "-a", "-T"])
        .assert_stdout_is(&fetched_line(0));
    cmp.ours
        .dvc(&["fetch", "-a", "-T"])
        .assert_stdout_is(&fetched_line(0));

    // Real `dvc checkout` restores every revision from what git-dvc fetched, with the
    // remotes gone.
    fs::rename(&r, env.path("remotes/r-gone")).unwrap();
    for rev in REFS {
        cmp.ours.git(&["checkout", "-q", "--force", rev]);
        cmp.ours.dvc(&["checkout", "-q", "--force"]);
        assert_workspace(&cmp.ours.dir, &rich().expected[rev]);
    }
}

#[test]
fn each_revision_selection_and_remote_flag_matches_dvc() {
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let (r, r2) = (env.path("remotes/r"), env.path("remotes/r2"));
    repo.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
    repo.dvc(&["push", "-q", "-A"]);
    let nopush = md5_hex(NOPUSH_BYTES);
    let prepare = |clone: &Repo<'_>| {
        clone.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
        seed_objects(&repo.dir, clone, &[&nopush]);
    };
    for (label, args) in [
        ("workspace", &[][..]),
        ("branches", &["-a"][..]),
        ("tags", &["-T"][..]),
        ("all-commits", &["-A"][..]),
        ("to-r2", &["-T", "-r", SECOND_REMOTE][..]),
        ("to-r", &["-a", "-r", "r"][..]),
    ] {
        compare_fetch_with_dvc(&env, &repo.dir, label, args, &prepare);
    }
    // --rev is git-dvc's own (DVC has none): one revision's data, and only it.
    let ours = env.clone_repo(&repo.dir, "rev-only");
    prepare(&ours);
    ours.git_dvc(&["fetch", "--rev", "v1"]);
    ours.git(&["checkout", "-q", "v1"]);
    ours.dvc(&["checkout", "-q", "--force"]);
    assert_workspace(&ours.dir, &rich().expected["v1"]);
    let tip = md5_hex(&pseudo_random_bytes(3, 20_000));
    assert!(
        !ours.cache_object(&tip, false).exists(),
        "feature's data fetched for v1"
    );
}

/// `a.txt` and `sub/b.txt`, `sub/c.txt` (`.dvc` files), `d/` (a tracked directory with a
/// nested file), stage `gen` (`a.txt` → `s1.txt`) and stage `gen2` (`s1.txt` → `s2.txt`),
/// run by real DVC and pushed to `remote`.
fn targets_repo<'e>(env: &'e TestEnv, remote: &Path) -> Repo<'e> {
    let repo = env.dvc_repo_with_remote("repo");
    repo.write("a.txt", "a\n");
    repo.write("sub/b.txt", "b\n");
    repo.write("sub/c.txt", "c\n");
    repo.write("d/1", "one\n");
    repo.write("d/x/2", "two\n");
    repo.dvc(&["add", "-q", "a.txt", "sub/b.txt", "sub/c.txt", "d"]);
    for (name, dep, out) in [("gen", "a.txt", "s1.txt"), ("gen2", "s1.txt", "s2.txt")] {
        let cmd = format!("(cat {dep}; echo {name}) > {out}");
        repo.dvc(&["stage", "add", "-q", "-n", name, "-d", dep, "-o", out, &cmd]);
    }
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("data");
    repo.set_local_remotes(&[("r", remote)]);
    repo.dvc(&["push", "-q"]);
    repo
}

#[test]
fn targets_with_deps_and_recursive_select_what_dvc_selects() {
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = targets_repo(&env, &remote);
    let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &remote)]);
    for (label, args) in [
        ("dvc-file", &["a.txt.dvc"][..]),
        ("output", &["a.txt"][..]),
        ("dir", &["d"][..]),
        ("dir-dvc-file", &["d.dvc"][..]),
        ("recursive", &["-R", "sub"][..]),
        ("nested-dvc-file", &["sub/b.txt.dvc"][..]),
        ("stage", &["gen2"][..]),
        ("with-deps", &["-d", "gen2"][..]),
        ("pipeline", &["dvc.yaml"][..]),
        ("pipeline-stage", &["dvc.yaml:gen"][..]),
        ("stage-output", &["s2.txt"][..]),
        ("recursive-tracked-dir", &["-R", "d"][..]),
        ("overlap", &["a.txt", "a.txt.dvc", "gen"][..]),
    ] {
        let cmp = compare_fetch_with_dvc(&env, &repo.dir, label, args, &prepare);
        assert!(cmp.git_dvc.success(), "{}", cmp.git_dvc.describe());
    }
    // `--glob` is git-dvc's (DVC's fetch has none): what the pattern expands to.
    compare_fetch_with_dvc_args(
        &env,
        &repo.dir,
        "glob",
        &["--glob", "sub/*.dvc"],
        &["sub/b.txt.dvc", "sub/c.txt.dvc"],
        &prepare,
    );
    // A target that is nothing: DVC's error and exit status.
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "nothing", &["nosuch.txt"], &prepare);
    cmp.git_dvc.assert_code(1);
    cmp.git_dvc
        .assert_stderr_contains("failed to fetch data from the cloud");
    cmp.git_dvc
        .assert_stderr_contains("'nosuch.txt' does not exist");
}

#[test]
fn a_path_inside_a_directory_fetches_the_whole_directory() {
    // DVC fetches the one member and the `.dir`, leaving a `.dir` whose other members are
    // missing: to `dvc checkout` and to later fetches (which trust a stored `.dir`) the
    // directory then looks complete. git-dvc keeps "`.dir` in the cache" meaning
    // "complete": the whole directory comes.
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = targets_repo(&env, &remote);
    let clone = env.clone_repo(&repo.dir, "clone");
    clone.set_local_remotes(&[("r", &remote)]);
    clone
        .git_dvc(&["fetch", "d/x/2"])
        .assert_stdout_is(&fetched_line(3));
    assert_cache_sound(&clone.cache_dir());
    clone.dvc(&["checkout", "-q", "d"]);
    assert_eq!(clone.read("d/1"), b"one\n");
    assert_eq!(clone.read("d/x/2"), b"two\n");
}

#[test]
fn tampered_object_is_refused_and_named_and_the_rest_lands() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    let data = remotes::sample_data(&repo, 5);
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    repo.dvc(&["push", "-q"]);
    let bad = md5_hex(&data["data/sub/c.bin"]);
    tamper(&remote, &bad, b"not what the name says\n");

    let clone = env.clone_repo(&repo.dir, "clone");
    clone.set_local_remotes(&[("r", &remote)]);
    let run = clone.try_git_dvc(&["fetch"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("failed to transfer '{bad}'"));
    run.assert_stderr_contains("(used by data/sub/c.bin@workspace)");
    run.assert_stderr_contains("tampered");
    run.assert_stderr_contains("failed to fetch data from the cloud - 2 files failed to download");
    assert_eq!(run.stdout, "", "{}", run.describe());
    // Nothing under the bad name, no `.dir`, everything else in.
    assert!(!clone.cache_object(&bad, false).exists());
    for (path, bytes) in &data {
        if path != "data/sub/c.bin" {
            assert!(
                clone.cache_object(&md5_hex(bytes), false).is_file(),
                "{path}"
            );
        }
    }
    assert_eq!(list_files(&clone.cache_dir()).len(), data.len() - 1);
    assert_cache_sound(&clone.cache_dir());

    // DVC copies the bad bytes under the name, unchecked.
    let theirs = env.clone_repo(&repo.dir, "theirs");
    theirs.set_local_remotes(&[("r", &remote)]);
    theirs.dvc(&["fetch"]);
    assert_eq!(
        fs::read(theirs.cache_object(&bad, false)).unwrap(),
        b"not what the name says\n"
    );

    // Once the remote is repaired, the next fetch completes.
    tamper(&remote, &bad, &data["data/sub/c.bin"]);
    clone.git_dvc(&["fetch"]).assert_stdout_is(&fetched_line(2));
    assert_cache_sound(&clone.cache_dir());
    clone.dvc(&["checkout", "-q"]);
    assert_workspace(&clone.dir, &data);
}

#[test]
fn killed_mid_fetch_then_rerun_completes_without_leftovers() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    let big = pseudo_random_bytes(77, 96 << 20);
    repo.write("d/big.bin", &big);
    for i in 0..200 {
        repo.write(&format!("d/small/{i:03}"), format!("small {i}\n"));
    }
    repo.write("loose.txt", "loose\n");
    repo.dvc(&["add", "-q", "d", "loose.txt"]);
    repo.commit_all("data");
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    repo.dvc(&["push", "-q"]);

    let clone = env.clone_repo(&repo.dir, "clone");
    clone.set_local_remotes(&[("r", &remote)]);
    let big_shard = clone
        .cache_object(&md5_hex(&big), false)
        .parent()
        .unwrap()
        .to_path_buf();
    let mut child = env.spawn_git_dvc(&clone.dir, &["fetch", "-j", "4"], "fetch1");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let landed = list_files(&clone.cache_dir()).len();
        if !temporaries(&big_shard).is_empty() && landed > 1 {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "git dvc fetch finished ({status}) before it could be killed:\n{}",
                fs::read_to_string(env.path("fetch1.stderr")).unwrap_or_default()
            );
        }
        assert!(Instant::now() < deadline, "no progress in 120s");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(9));

    // Killed: a temporary file, never a partial object; no `.dir` before its members.
    let left = temporaries(&clone.cache_dir());
    assert!(!left.is_empty(), "killed after the big object landed?");
    let files = list_files(&clone.cache_dir());
    for (rel, bytes) in &files {
        let name = rel.rsplit('/').next().unwrap();
        if name.starts_with('.') {
            continue;
        }
        let object = parse_object_path(rel).unwrap_or_else(|| panic!("not an object: {rel}"));
        assert_eq!(md5_hex(bytes), object.md5(), "{rel} is a partial object");
        assert!(!object.is_dir(), "the .dir landed before its big member");
    }

    // The re-run completes, removes the leftovers, and ends as DVC ends.
    let rerun = clone.git_dvc(&["fetch"]);
    // 200 small files, the big one, its `.dir`, loose.txt.
    let remaining = 203 - (files.len() - left.len());
    rerun.assert_stdout_is(&fetched_line(remaining));
    assert!(temporaries(&clone.cache_dir()).is_empty());
    assert_cache_sound(&clone.cache_dir());
    let theirs = env.clone_repo(&repo.dir, "theirs");
    theirs.set_local_remotes(&[("r", &remote)]);
    theirs.dvc(&["fetch", "-q"]);
    assert_same_caches("after the re-run", &clone, &theirs);
}

/// The lines of DVC's missing-objects warning: its header and the `md5: ` lines right
/// under it (sorted: DVC lists them in the order of a Python set).
fn missing_lines(stderr: &str) -> Vec<String> {
    let header = "WARNING: Some of the cache files do not exist neither locally nor on remote. Missing cache files:";
    let mut lines = stderr.lines().skip_while(|l| *l != header);
    let Some(first) = lines.next() else {
        return Vec::new();
    };
    let mut hashes: Vec<String> = lines
        .take_while(|l| l.starts_with("md5: "))
        .map(str::to_string)
        .collect();
    hashes.sort();
    [vec![first.to_string()], hashes].concat()
}

#[test]
fn missing_objects_are_reported_as_dvc_reports_them() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    let data = remotes::sample_data(&repo, 9);
    let pristine = env.path("pristine");
    repo.set_local_remotes(&[("r", &pristine)]);
    repo.dvc(&["push", "-q"]);
    let manifest = repo.path("data.dvc");
    let dir_oid = md5_field(&String::from_utf8(fs::read(manifest).unwrap()).unwrap());
    for (label, gone, code) in [
        // A loose file: a warning, exit 0.
        ("loose", md5_hex(&data["model.bin"]), 0),
        // A directory member whose `.dir` is there: a failed download (and its `.dir`).
        ("member", md5_hex(&data["data/a.txt"]), 1),
        // The `.dir` itself: a warning.
        ("manifest", dir_oid.clone(), 0),
    ] {
        let remote = env.path(&format!("remote-{label}"));
        copy_dir(&pristine, &remote);
        make_writable(&remote);
        fs::remove_file(remote.join(object_rel_path(&gone, false))).unwrap();
        let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &remote)]);
        let cmp = compare_fetch_with_dvc(&env, &repo.dir, label, &[], &prepare);
        cmp.git_dvc.assert_code(code);
        if code == 0 {
            for run in [&cmp.git_dvc, &cmp.dvc] {
                run.assert_stderr_contains(
                    "Some of the cache files do not exist neither locally nor on remote. Missing cache files:",
                );
                run.assert_stderr_contains(&format!("md5: {gone}"));
            }
            let path = if label == "loose" {
                "model.bin"
            } else {
                "data"
            };
            // DVC's lines unchanged (a script reading them reads the same), then where
            // git-dvc found each object, on lines no such script picks up.
            assert_eq!(
                missing_lines(&cmp.git_dvc.stderr),
                missing_lines(&cmp.dvc.stderr),
                "{}\n{}",
                cmp.git_dvc.describe(),
                cmp.dvc.describe()
            );
            cmp.git_dvc
                .assert_stderr_contains(&format!("\n  {gone} is used by {path}@workspace"));
        } else {
            for run in [&cmp.git_dvc, &cmp.dvc] {
                run.assert_stderr_contains(&format!("failed to transfer '{gone}'"));
                run.assert_stderr_contains(
                    "failed to fetch data from the cloud - 2 files failed to download",
                );
            }
        }
    }
}

#[test]
fn no_remote_and_unknown_remote_as_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 3);
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "no-remote", &[], &|_| {});
    cmp.git_dvc.assert_stdout_is(&fetched_line(0));
    for run in [&cmp.git_dvc, &cmp.dvc] {
        run.assert_stderr_contains("No remote provided and no default remote set.");
    }
    let remote = env.path("remote");
    let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &remote)]);
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "nosuch", &["-r", "nosuch"], &prepare);
    cmp.git_dvc.assert_code(1);
    for run in [&cmp.git_dvc, &cmp.dvc] {
        run.assert_stderr_contains(
            "failed to fetch data from the cloud - config file error: remote 'nosuch' doesn't exist",
        );
    }
}

#[test]
fn cache_dir_and_shared_group_as_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    let data = remotes::sample_data(&repo, 4);
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    repo.dvc(&["push", "-q"]);
    let prepare = |clone: &Repo<'_>| {
        clone.set_local_remotes(&[("r", &remote)]);
        // Relative: DVC stores it against `.dvc/` (`../mycache`).
        clone.dvc(&["config", "--local", "cache.dir", "mycache"]);
        clone.dvc(&["config", "--local", "cache.shared", "group"]);
    };
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "shared", &[], &prepare);
    cmp.git_dvc.assert_stdout_is(&fetched_line(data.len() + 1));
    assert!(!cmp.ours.cache_dir().exists(), "wrote to .dvc/cache");
    let (ours, theirs) = (cmp.ours.path("mycache"), cmp.theirs.path("mycache"));
    assert_same_cache_dirs("cache.dir", &ours, &theirs);
    assert_eq!(file_mode(&ours.join("files/md5")) & 0o7777, 0o2775);
    assert_cache_sound(&ours);
    cmp.ours.dvc(&["checkout", "-q"]);
    assert_workspace(&cmp.ours.dir, &data);
}

#[test]
fn a_held_dvc_lock_stops_the_fetch_as_it_stops_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    remotes::sample_data(&repo, 6);
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    repo.dvc(&["push", "-q"]);
    let clone = env.clone_repo(&repo.dir, "clone");
    clone.set_local_remotes(&[("r", &remote)]);
    fs::create_dir_all(clone.path(".dvc/tmp")).unwrap();

    // Held as DVC holds it (zc.lockfile: flock on .dvc/tmp/lock).
    let python = dvc3_bin().with_file_name("python");
    let mut holder = env.command(&python, &clone.dir);
    holder
        .args([
            "-c",
            "import fcntl, sys, time\n\
             f = open(sys.argv[1], 'a+')\n\
             fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n\
             print('held', flush=True)\n\
             time.sleep(120)\n",
            clone.path(".dvc/tmp/lock").to_str().unwrap(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut holder = holder.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(holder.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "held");
    let started = Instant::now();
    let run = clone.try_git_dvc(&["fetch"]);
    let waited = started.elapsed();
    holder.kill().unwrap();
    holder.wait().unwrap();
    run.assert_code(1);
    run.assert_stderr_contains("ERROR: failed to fetch data from the cloud - Unable to acquire lock. Most likely another DVC process is running");
    assert!(
        waited >= Duration::from_millis(2500),
        "gave up after {waited:?}"
    );
    assert!(
        !clone.cache_dir().exists(),
        "the cache was written while locked"
    );

    clone
        .git_dvc(&["fetch"])
        .assert_stdout_is(&fetched_line(remotes::SAMPLE_OBJECTS));
    let lock = fs::read_to_string(clone.path(".dvc/tmp/lock")).unwrap();
    assert!(lock.starts_with(' ') && lock.ends_with('\n'), "{lock:?}");
}

#[test]
fn run_cache_is_fetched_as_dvc_fetches_it() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    repo.write("in.txt", "input\n");
    repo.dvc(&["add", "-q", "in.txt"]);
    repo.dvc(&[
        "stage",
        "add",
        "-q",
        "-n",
        "gen",
        "-d",
        "in.txt",
        "-o",
        "out.txt",
        "(cat in.txt; echo gen) > out.txt",
    ]);
    repo.dvc(&["repro", "-q"]);
    repo.commit_all("stage");
    // A second run of the stage, so the run cache holds two entries.
    repo.write("in.txt", "input 2\n");
    repo.dvc(&["repro", "-q"]);
    repo.git(&["checkout", "-q", "--", "."]);
    repo.dvc(&["checkout", "-q", "--force"]);
    let remote = env.path("remote");
    repo.set_local_remotes(&[("r", &remote)]);
    repo.dvc(&["push", "-q", "--run-cache"]);
    assert!(remote.join("runs").is_dir());

    let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &remote)]);
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "runs", &["--run-cache"], &prepare);
    let runs = list_files(&cmp.ours.path(".dvc/cache/runs"));
    assert_eq!(runs.len(), 2, "{runs:?}");
    cmp.ours
        .git_dvc(&["fetch", "--run-cache", "-v"])
        .assert_stdout_is(&fetched_line(0));
}

#[test]
fn uncached_and_push_false_outputs_are_handled_as_dvc() {
    // `push: false` outputs are fetched when a remote has them (another clone pushed them
    // with `dvc push` before the flag was set); `cache: false` ones never.
    let env = TestEnv::new();
    let repo = copy_rich(&env);
    let (r, r2) = (env.path("remotes/r"), env.path("remotes/r2"));
    repo.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
    repo.dvc(&["push", "-q"]);
    let nopush = md5_hex(NOPUSH_BYTES);
    let dest = r.join(object_rel_path(&nopush, false));
    fs::create_dir_all(dest.parent().unwrap()).unwrap();
    fs::write(&dest, NOPUSH_BYTES).unwrap();
    let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &r), (SECOND_REMOTE, &r2)]);
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "nopush", &[], &prepare);
    assert!(cmp.ours.cache_object(&nopush, false).is_file());
    let nocache = md5_hex(b"nocache 4\n");
    assert!(!cmp.ours.cache_object(&nocache, false).exists());
}

/// A repository whose output `d` is a hand-written `.dir` (`manifest`, with `@A`/`@B`
/// standing for the objects `aaa`/`bbb`) on a local remote that also holds both objects.
/// DVC never writes such manifests: they come from a hostile or broken writer.
fn hand_written_dir<'e>(env: &'e TestEnv, manifest: &str) -> (Repo<'e>, std::path::PathBuf) {
    let remote = env.path("remote");
    let put = |oid: &str, bytes: &[u8]| {
        let path = remote.join(object_rel_path(oid, false));
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
    };
    let (a, b) = (md5_hex(b"aaa"), md5_hex(b"bbb"));
    put(&a, b"aaa");
    put(&b, b"bbb");
    let manifest = manifest.replace("@A", &a).replace("@B", &b);
    let dir_oid = format!("{}.dir", md5_hex(manifest.as_bytes()));
    put(&dir_oid, manifest.as_bytes());
    let repo = env.dvc_repo_with_remote("repo");
    repo.write(
        "d.dvc",
        format!("outs:\n- md5: {dir_oid}\n  size: 6\n  nfiles: 2\n  hash: md5\n  path: d\n"),
    );
    repo.write(".gitignore", "/d\n");
    repo.commit_all("a hand-written directory");
    (repo, remote)
}

#[test]
fn a_relpath_listed_twice_is_fetched_and_counted_as_dvc_does() {
    // DVC reads the list into a dict: one member per relpath, the last entry's hash. So
    // `bbb` (and the `.dir`) are fetched, `aaa` is not, and the summary says 2.
    let env = TestEnv::new();
    let (repo, remote) = hand_written_dir(
        &env,
        r#"[{"md5": "@A", "relpath": "a"}, {"md5": "@B", "relpath": "a"}]"#,
    );
    let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &remote)]);
    let cmp = compare_fetch_with_dvc(&env, &repo.dir, "twice", &[], &prepare);
    cmp.git_dvc
        .assert_success()
        .assert_stdout_is(&fetched_line(2));
    assert!(!cmp.ours.cache_object(&md5_hex(b"aaa"), false).exists());
    // Both check out the same member.
    cmp.ours.dvc(&["checkout", "-q"]);
    assert_eq!(cmp.ours.read("d/a"), b"bbb");
    cmp.theirs.dvc(&["checkout", "-q"]);
    assert_eq!(cmp.theirs.read("d/a"), b"bbb");
    // Listed twice with the same hash, and the same hash under two relpaths: one object.
    for (label, manifest) in [
        (
            "same-twice",
            r#"[{"md5": "@A", "relpath": "a"}, {"md5": "@A", "relpath": "a"}]"#,
        ),
        (
            "two-names",
            r#"[{"md5": "@A", "relpath": "a"}, {"md5": "@A", "relpath": "b"}]"#,
        ),
    ] {
        let env = TestEnv::new();
        let (repo, remote) = hand_written_dir(&env, manifest);
        let prepare = |clone: &Repo<'_>| clone.set_local_remotes(&[("r", &remote)]);
        let cmp = compare_fetch_with_dvc(&env, &repo.dir, label, &[], &prepare);
        cmp.git_dvc
            .assert_success()
            .assert_stdout_is(&fetched_line(2));
    }
}

#[test]
fn a_member_that_names_a_manifest_is_refused() {
    // A member `<md5>.dir` (here a real manifest of the remote) would land in the cache as
    // a `.dir` whose own members nobody fetched. DVC (for the record) skips it without a
    // word, fetches the rest, and its checkout then fails; git-dvc refuses the directory
    // and names the entry.
    let env = TestEnv::new();
    let inner = format!(r#"[{{"md5": "{}", "relpath": "x"}}]"#, md5_hex(b"zzz"));
    let inner_oid = format!("{}.dir", md5_hex(inner.as_bytes()));
    let (repo, remote) = hand_written_dir(
        &env,
        &format!(
            r#"[{{"md5": "@A", "relpath": "a"}}, {{"md5": "{inner_oid}", "relpath": "sub"}}]"#
        ),
    );
    let inner_path = remote.join(object_rel_path(&inner_oid, false));
    fs::create_dir_all(inner_path.parent().unwrap()).unwrap();
    fs::write(&inner_path, &inner).unwrap();

    let ours = env.clone_repo(&repo.dir, "ours");
    ours.set_local_remotes(&[("r", &remote)]);
    let run = ours.try_git_dvc(&["fetch"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!(
        "manifest entry 1 (\"sub\"): member hash {inner_oid} names a directory manifest"
    ));
    run.assert_stderr_contains("(used by d@workspace)");
    run.assert_stderr_contains("failed to fetch data from the cloud - 1 file failed to download");
    assert!(
        list_files(&ours.cache_dir()).is_empty(),
        "nothing of the directory lands: {:?}",
        list_files(&ours.cache_dir()).keys()
    );

    let theirs = env.clone_repo(&repo.dir, "theirs");
    theirs.set_local_remotes(&[("r", &remote)]);
    theirs.dvc(&["fetch"]).assert_stdout_is(&fetched_line(2));
    assert!(!theirs.cache_object(&inner_oid, false).exists());
    theirs.try_dvc(&["checkout"]).assert_code(255);
}

#[test]
fn a_glob_that_matches_nothing_says_what_dvc_says() {
    // DVC expands `--glob` before it visits any revision: its error comes alone, with no
    // `failed to collect` warning (DVC's fetch has no --glob; its pull does).
    let env = TestEnv::new();
    let remote = env.path("remote");
    let repo = targets_repo(&env, &remote);
    for args in [
        &["--glob", "zz*"][..],
        &["-a", "-T", "--glob", "zz*", "nomatch*"][..],
    ] {
        let theirs = repo.try_dvc(&[&["pull"], args].concat());
        let ours = repo.try_git_dvc(&[&["pull"], args].concat());
        theirs.assert_code(1);
        ours.assert_code(1);
        assert_eq!(ours.stderr, theirs.stderr, "{}", ours.describe());
        let fetch = repo.try_git_dvc(&[&["fetch"], args].concat());
        fetch.assert_code(1);
        assert_eq!(
            fetch.stderr,
            theirs.stderr.replace("to pull data", "to fetch data"),
            "{}",
            fetch.describe()
        );
    }
}
