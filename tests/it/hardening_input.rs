//! Hostile commits pushed through the real binary: crafted `.dvc` files, YAML bombs, huge
//! blobs, symlink / submodule / non-UTF-8 tree entries and a `.dir` manifest with `../`
//! relpaths. `git dvc push -a` and `git dvc status -c` must not panic, must not write
//! anything outside the cache and the remote, must name each bad input as
//! `path@revision: reason`, and must still push the good data when told to allow an
//! incomplete push.

use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use common::reliability::Ledger;
use common::*;

/// Every file under `root` except the remote, with its bytes: what must not change.
fn outside_snapshot(root: &Path, remote: &Path) -> BTreeMap<String, Vec<u8>> {
    list_files(root)
        .into_iter()
        .filter(|(rel, _)| !root.join(rel).starts_with(remote))
        .collect()
}

fn assert_no_panic(run: &Run) {
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "git-dvc panicked:\n{}",
        run.describe()
    );
    assert!(
        run.code().is_some(),
        "killed by a signal:\n{}",
        run.describe()
    );
}

/// One hostile case: a branch from `main` that adds `files` (path → bytes) and, optionally,
/// raw index entries (mode, blob/commit id, path).
struct Case {
    name: &'static str,
    describe: &'static str,
    /// What the report line must contain (besides the branch name).
    expect: &'static [&'static str],
}

fn branch_with(repo: &Repo<'_>, branch: &str, setup: impl FnOnce(&Repo<'_>)) {
    repo.git(&["checkout", "-q", "-b", branch, "main"]);
    setup(repo);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--allow-empty", "-m", branch]);
    repo.git(&["checkout", "-q", "main"]);
}

fn dvc_text(md5: &str, path: &str) -> String {
    format!("outs:\n- md5: {md5}\n  size: 5\n  hash: md5\n  path: {path}\n")
}

#[test]
fn hostile_commits_are_reported_without_panics_or_escapes() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.dvc_add_file("good.txt", b"good\n");
    repo.commit_all("good data");
    let good = md5_hex(b"good\n");
    // A victim outside the repository, cache and remote.
    let victim = env.path("outside/victim.txt");
    write_file(&victim, b"do not touch\n");

    let mut cases: Vec<Case> = Vec::new();

    // 1. md5 that is a path.
    branch_with(&repo, "evil-md5", |r| {
        r.write("evil.dvc", dvc_text("../../etc/passwd", "evil.txt"));
        r.write(
            "evil2.dvc",
            dvc_text("../../../outside/victim.txt", "evil2.txt"),
        );
    });
    cases.push(Case {
        name: "evil-md5",
        describe: "`.dvc` with `md5: ../../etc/passwd`",
        expect: &["evil.dvc@evil-md5: ", "is not a DVC md5 hash"],
    });

    // 2. paths and wdir with `..`, absolute, NUL: one branch each, since a revision's
    //    first unreadable DVC file is what gets reported for it.
    branch_with(&repo, "path-up", |r| {
        r.write(
            "sub/up.dvc",
            dvc_text(&md5_hex(b"up\n"), "../../../../up.txt"),
        );
    });
    branch_with(&repo, "path-abs", |r| {
        r.write("abs.dvc", dvc_text(&md5_hex(b"abs\n"), "/etc/passwd"));
    });
    branch_with(&repo, "path-nul", |r| {
        r.write(
            "nul.dvc",
            "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: \"a\\0b\"\n",
        );
    });
    cases.push(Case {
        name: "path-nul",
        describe: "`.dvc` with a NUL in `path`",
        expect: &["nul.dvc@path-nul: ", "contains NUL"],
    });
    branch_with(&repo, "wdir-up", |r| {
        r.write(
            "wdir.dvc",
            format!("wdir: ../../..\n{}", dvc_text(&md5_hex(b"w\n"), "w.txt")),
        );
    });
    branch_with(&repo, "wdir-nul", |r| {
        r.write(
            "wdirnul.dvc",
            format!("wdir: \"x\\0\"\n{}", dvc_text(&md5_hex(b"w\n"), "w.txt")),
        );
    });
    cases.push(Case {
        name: "wdir-nul",
        describe: "`.dvc` with a NUL in `wdir`",
        expect: &["wdirnul.dvc@wdir-nul: ", "NUL"],
    });

    // 3. YAML alias bomb ("billion laughs") and deep nesting.
    branch_with(&repo, "yaml-bomb", |r| {
        let mut bomb = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let mut prev = 'a';
        for c in 'b'..='j' {
            bomb.push_str(&format!(
                "{c}: &{c} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
            prev = c;
        }
        bomb.push_str("outs: *j\n");
        r.write("bomb.dvc", bomb);
    });
    branch_with(&repo, "yaml-deep", |r| {
        let depth = 100_000;
        let mut deep = "outs: ".to_string();
        deep.push_str(&"[".repeat(depth));
        deep.push_str(&"]".repeat(depth));
        deep.push('\n');
        r.write("deep.dvc", deep);
    });
    branch_with(&repo, "yaml-deepmap", |r| {
        let mut deep_map = String::new();
        for i in 0..2000 {
            deep_map.push_str(&" ".repeat(i));
            deep_map.push_str("k:\n");
        }
        r.write("deepmap.dvc", deep_map);
    });
    cases.push(Case {
        name: "yaml-bomb",
        describe: "`.dvc` YAML alias bomb (9^10 nodes)",
        expect: &["bomb.dvc@yaml-bomb: ", "alias"],
    });
    cases.push(Case {
        name: "yaml-deep",
        describe: "`.dvc` with 100 000 nested flow sequences",
        expect: &["deep.dvc@yaml-deep: "],
    });
    cases.push(Case {
        name: "yaml-deepmap",
        describe: "`.dvc` with 2 000 nested block maps",
        expect: &["deepmap.dvc@yaml-deepmap: "],
    });

    // 4. A 20 MB `.dvc` blob.
    branch_with(&repo, "huge", |r| {
        let mut text = dvc_text(&good, "huge.txt");
        let filler = "# padding padding padding padding padding padding padding\n";
        while text.len() < 20 << 20 {
            text.push_str(filler);
        }
        r.write("huge.dvc", text);
    });
    cases.push(Case {
        name: "huge",
        describe: "20 MB `.dvc` blob",
        expect: &["huge.dvc@huge: ", "limit"],
    });

    // 5. Symlink and submodule entries named like DVC files.
    let head = repo.rev_parse("main");
    branch_with(&repo, "links", |r| {
        std::os::unix::fs::symlink("/etc/passwd", r.path("link.dvc")).unwrap();
        std::os::unix::fs::symlink("good.txt.dvc", r.path("link2.dvc")).unwrap();
        r.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},sub.dvc"),
        ]);
        r.git(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("160000,{head},subdir.dvc/x.dvc"),
        ]);
    });

    cases.push(Case {
        name: "links",
        describe: "symlinks `link.dvc` → /etc/passwd and `link2.dvc`",
        expect: &["@links: is a symbolic link (to '"],
    });

    // 6. Non-UTF-8 names: a `.dvc` file and a directory.
    let latin1 = md5_hex(b"latin1\n");
    branch_with(&repo, "latin1", |r| {
        let name = OsStr::from_bytes(b"caf\xe9.dvc");
        fs::write(r.dir.join(name), dvc_text(&latin1, "caf\u{e9}")).unwrap();
        let dir = r.dir.join(OsStr::from_bytes(b"d\xff\xfe"));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("x.dvc"), dvc_text(&latin1, "x")).unwrap();
    });

    // 7. A `.dir` manifest in the cache with `../` relpaths (its name is its true md5, so
    //    only the relpath check can refuse it).
    let manifest = format!(
        "[{{\"md5\": \"{good}\", \"relpath\": \"../../outside/victim.txt\"}}, \
         {{\"md5\": \"{good}\", \"relpath\": \"/abs\"}}]"
    );
    let dir_oid = format!("{}.dir", md5_hex(manifest.as_bytes()));
    write_file(&repo.cache_object(&dir_oid, false), manifest.as_bytes());
    branch_with(&repo, "evil-dir", |r| {
        r.write(
            "evildir.dvc",
            format!(
                "outs:\n- md5: {dir_oid}\n  size: 5\n  nfiles: 2\n  hash: md5\n  path: evildir\n"
            ),
        );
    });
    cases.push(Case {
        name: "evil-dir",
        describe: "cached `.dir` manifest (true md5) with `../` and absolute relpaths",
        expect: &["(used by evildir@evil-dir)", "unsafe relpath"],
    });

    let before = outside_snapshot(env.root(), &remote);
    let mut ledger = Ledger::new("hardening_input");

    // status -c first (reads only), then push, then push allowing an incomplete push.
    // Like DVC's, status stops at the first revision it cannot collect; the invalid
    // manifest is checked in a selection without such revisions.
    let status_all = repo.try_git_dvc(&["status", "-c", "-a"]);
    assert_no_panic(&status_all);
    assert_eq!(status_all.code(), Some(1), "{}", status_all.describe());
    status_all.assert_stderr_contains("ERROR: Failed to collect '");
    let status = repo.try_git_dvc(&["status", "-c", "--rev", "evil-dir"]);
    assert_no_panic(&status);
    let push = repo.try_git_dvc(&["push", "-a"]);
    assert_no_panic(&push);
    eprintln!("status:\n{}\npush:\n{}", status.describe(), push.describe());
    assert_ne!(push.code(), Some(0), "{}", push.describe());
    // status names the invalid manifest as an error, never as a state.
    assert_eq!(status.code(), Some(1), "{}", status.describe());
    assert!(
        status.stderr.contains("(used by evildir@evil-dir)")
            && status.stderr.contains("unsafe relpath"),
        "status does not report the invalid manifest:\n{}",
        status.describe()
    );
    assert!(
        !status.stdout.contains("evildir"),
        "an invalid manifest was listed as a state:\n{}",
        status.describe()
    );
    for case in &cases {
        for needle in case.expect {
            assert!(
                push.stderr.contains(needle),
                "case {}: {needle:?} not reported:\n{}",
                case.name,
                push.describe()
            );
        }
    }
    // `path@revision: reason` lines for the refused inputs.
    for needle in [
        "evil.dvc@evil-md5: ",
        "bomb.dvc@yaml-bomb: ",
        "huge.dvc@huge: ",
    ] {
        assert!(
            push.stderr.contains(needle),
            "no {needle:?} line:\n{}",
            push.describe()
        );
    }

    let after = outside_snapshot(env.root(), &remote);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files appeared or vanished outside the remote"
    );
    for (rel, bytes) in &before {
        assert!(after[rel] == *bytes, "{rel} changed");
    }
    assert_eq!(fs::read(&victim).unwrap(), b"do not touch\n");
    // Nothing but objects on the remote, never anything named like a path.
    if remote.exists() {
        let objects = check_remote(&remote, RemoteCheck::Complete);
        for o in &objects {
            assert!(o.oid.len() == 32 || o.oid.len() == 36, "{o:?}");
        }
        assert!(
            !objects.iter().any(|o| o.oid == dir_oid),
            "evil .dir pushed"
        );
    }

    for case in &cases {
        ledger.row(
            "hostile input",
            &format!("{}: push -a and status -c -a", case.describe),
            1,
            &format!(
                "no panic; nothing outside cache/remote changed; reported: {}",
                case.expect
                    .iter()
                    .map(|n| format!("`{}`", n.trim_end()))
                    .collect::<Vec<_>>()
                    .join(" … ")
            ),
        );
    }
    for (case, outcome) in [
        (
            "`.dvc` with path `../../../../up.txt` (leaves the repo)",
            "external output, skipped as DVC does",
        ),
        (
            "`.dvc` with absolute path `/etc/passwd`",
            "external output, skipped as DVC does",
        ),
        (
            "`.dvc` with `wdir: ../../..`",
            "external output, skipped as DVC does",
        ),
        (
            "submodule entries `sub.dvc`, `subdir.dvc/x.dvc`",
            "skipped (never read); no panic",
        ),
        (
            "non-UTF-8 names `caf\\xe9.dvc`, `d\\xff\\xfe/x.dvc`",
            "read lossily; output reported as `café@latin1` (missing data)",
        ),
    ] {
        ledger.row("hostile input", case, 1, outcome);
    }
    ledger.write();
}

/// The size caps are git config: `dvc.maxFileSize` for DVC files, `dvc.maxManifestSize`
/// for `.dir` manifests. Over a cap, the file is refused naming the setting; raising it
/// lets the same push through.
#[test]
fn size_caps_are_configurable() {
    let env = TestEnv::new();
    let repo = env.dvc_repo_with_remote("repo");
    for i in 0..40 {
        repo.write(
            &format!("dir/file-with-a-long-name-{i:03}.txt"),
            format!("{i}\n"),
        );
    }
    repo.write("data.txt", "data\n");
    repo.dvc(&["add", "-q", "dir", "data.txt"]);
    // A comment makes the .dvc file bigger than 1 KiB without changing what it says.
    let dvc_file = repo.path("data.txt.dvc");
    let mut text = std::fs::read_to_string(&dvc_file).unwrap();
    text.push_str(&format!("# {}\n", "x".repeat(1500)));
    std::fs::write(&dvc_file, text).unwrap();
    repo.commit_all("data");

    // Over the DVC-file cap: a workspace DVC file that cannot be read stops the push.
    repo.git(&["config", "dvc.maxFileSize", "1k"]);
    let run = repo.try_git_dvc(&["push"]);
    assert_no_panic(&run);
    run.assert_code(1)
        .assert_stderr_contains("data.txt.dvc")
        .assert_stderr_contains("dvc.maxFileSize");

    // Over the manifest cap: the directory is refused and nothing goes up (an invalid
    // manifest stops every command).
    repo.git(&["config", "dvc.maxFileSize", "1m"]);
    repo.git(&["config", "dvc.maxManifestSize", "1k"]);
    let run = repo.try_git_dvc(&["push"]);
    assert_no_panic(&run);
    run.assert_code(1)
        .assert_stderr_contains("dvc.maxManifestSize")
        .assert_stderr_contains("used by dir@workspace");
    let status = repo.try_git_dvc(&["status", "-c"]);
    status
        .assert_code(1)
        .assert_stderr_contains("dvc.maxManifestSize");

    repo.git(&["config", "dvc.maxManifestSize", "1m"]);
    // The .dir, its 40 members and data.txt.
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(42));
    repo.git_dvc(&["status", "-c"])
        .assert_stdout_is(&in_sync_line("r"));
}
