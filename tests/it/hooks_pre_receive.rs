//! The server side: a bare repository with `git dvc install --server` and its storage
//! described in `$GIT_DIR/dvc/config`, receiving real `git push`es over a file path and over
//! ssh (sshd on 127.0.0.1, started by `scripts/test.sh`). The client never runs its own
//! hook here (none is installed), as with `--no-verify` or a client without git-dvc: the
//! server alone must refuse commits whose data is not in its storage.
//!
//! Every rejection is checked on the server: the ref did not move and the pushed objects
//! were dropped with git's quarantine.

use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::receiving_server::{assert_accepted, assert_rejected, client, short, Server};
use common::*;

fn expected_map(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

#[test]
fn install_server_writes_the_hook_and_says_what_to_configure() {
    let env = TestEnv::new();
    let bare = env.bare_repo("server.git");
    let run = env.git_dvc(&bare.dir, &["install", "--server"]);
    run.assert_stdout_is(&format!(
        "git-dvc pre-receive hook installed in {}\nnext: describe the storage pushes must reach in {} (DVC config format), e.g.\n  [core]\n      remote = storage\n  ['remote \"storage\"']\n      url = /srv/dvc-storage\nor, for every repository of this server, in one file: git config --system dvc.preReceive.storageConfig FILE\n(until then, pushes whose commits reference DVC data are refused; the others pass)",
        bare.dir.join("hooks/pre-receive").display(),
        bare.dir.join("dvc/config").display()
    ));
    assert_eq!(
        fs::read_to_string(bare.dir.join("hooks/pre-receive")).unwrap(),
        server_hook()
    );
    assert_eq!(file_mode(&bare.dir.join("hooks/pre-receive")), 0o755);
    // Installing again is fine; a foreign pre-receive is refused unless --force.
    env.git_dvc(&bare.dir, &["install", "--server"]);
    write_script(&bare.dir.join("hooks/pre-receive"), "#!/bin/sh\nexit 0\n");
    let run = env.try_git_dvc(&bare.dir, &["install", "--server"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("hook already exists");
    env.git_dvc(&bare.dir, &["install", "--server", "--force"]);
    assert_eq!(
        fs::read_to_string(bare.dir.join("hooks/pre-receive")).unwrap(),
        server_hook()
    );
}

/// Accepted when complete; rejected when a file's data is missing (naming `path@commit
/// (hash)` and the fix); accepted after `git dvc push`.
#[test]
fn missing_file_data_is_rejected_until_pushed() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.dvc_add_file("complete.txt", "complete\n");
    let first = repo.commit_all("complete");
    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    // The pusher sees that the data was checked, not just let through.
    run.assert_stderr_contains(
        "remote: git-dvc: the DVC data of the pushed commits is in storage (1 object checked)",
    );
    assert_eq!(server.ref_("main").as_deref(), Some(&*first));

    let missing = repo.dvc_add_file("data.txt", "not uploaded yet\n");
    let second = repo.commit_all("data");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", Some(&first), &second);
    run.assert_stderr_contains("git-dvc: push rejected")
        .assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&second)))
        .assert_stderr_contains("git dvc push");
    assert!(
        !run.stderr.contains("complete.txt@"),
        "only what is missing is listed\n{}",
        run.describe()
    );

    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    assert_eq!(server.ref_("main").as_deref(), Some(&*second));
    clone_and_pull(
        &env,
        &server.bare.dir,
        "clone",
        &[("r", &server.storage)],
        &[],
        "main",
        &expected_map(&[
            ("complete.txt", "complete\n"),
            ("data.txt", "not uploaded yet\n"),
        ]),
    );
}

/// Intermediate commits count: a version only an intermediate commit references must be in
/// storage too, even when the tip's data is.
#[test]
fn every_new_commit_is_checked_not_only_the_tip() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let v1 = repo.dvc_add_file("x.txt", "version 1\n");
    let a = repo.commit_all("A");
    repo.dvc_add_file("x.txt", "version 2\n");
    let b = repo.commit_all("B");
    repo.git_dvc(&["push", "-q"]); // HEAD only: version 2
    assert!(!remote_has(&server.storage, &v1, false));
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &b);
    run.assert_stderr_contains(&format!("x.txt@{} ({v1})", short(&a)));

    repo.git_dvc(&["push", "-q", "--rev", &a]);
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
}

/// A directory whose `.dir` manifest is in storage but one member is not: rejected, naming
/// the member. The server has no cache, so it reads the manifest from storage.
#[test]
fn directory_with_a_missing_member_is_rejected() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("images/a.png", "picture a\n");
    repo.write("images/deep/b.png", "picture b\n");
    repo.write("images/c.png", "picture c\n");
    repo.dvc(&["add", "-q", "images"]);
    let commit = repo.commit_all("images");
    repo.git_dvc(&["push", "-q"]);
    let lost = md5_hex(b"picture b\n");
    remove_object(&server.storage, &lost);

    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains(&format!("images/deep/b.png@{} ({lost})", short(&commit)));
    assert!(!run.stderr.contains("images/a.png@"), "{}", run.describe());
    run.assert_stderr_contains("git dvc push --check-members");

    // The hinted command repairs it.
    repo.git_dvc(&["push", "-q", "--check-members"]);
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
}

/// The pushed `.dvc/config` never decides where the server looks: here it points at
/// another storage that has all the data; the server's storage has none: rejected. Output
/// `remote:` names resolve against the server's config: a remote it defines is used, one
/// it does not define is a clear rejection.
#[test]
fn pushed_dvc_config_cannot_redirect_the_server() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let elsewhere = env.path("pushers-own-storage");
    let repo = client(&env, &server);
    repo.set_local_remotes(&[]);
    repo.dvc(&["remote", "modify", "r", "url", elsewhere.to_str().unwrap()]);
    let oid = repo.dvc_add_file("data.txt", "only elsewhere\n");
    let commit = repo.commit_all("data and a redirecting config");
    repo.git_dvc(&["push", "-q"]);
    assert!(remote_has(&elsewhere, &oid, false));
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains(&format!("data.txt@{} ({oid})", short(&commit)));

    // An output pinned to a remote the server defines: looked up there.
    let archive = env.path("server-archive");
    server.configure(&[("storage", &server.storage), ("archive", &archive)]);
    let mut dvcfile = fs::read_to_string(repo.path("data.txt.dvc")).unwrap();
    dvcfile.push_str("  remote: archive\n");
    repo.write("data.txt.dvc", dvcfile);
    let pinned = repo.commit_all("pinned to archive");
    copy_dir(&elsewhere, &archive);
    let run = repo.try_git(&["push", "origin", "main"]);
    // The first commit (unpinned) still needs `storage`.
    assert_rejected(&run, &server, "main", None, &pinned);
    let storage_copy = server.storage.join("files");
    copy_dir(&elsewhere.join("files"), &storage_copy);
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
    assert_eq!(server.ref_("main").as_deref(), Some(&*pinned));

    // A remote the server does not define.
    let dvcfile = fs::read_to_string(repo.path("data.txt.dvc"))
        .unwrap()
        .replace("remote: archive", "remote: nosuchremote");
    repo.write("data.txt.dvc", dvcfile);
    let unknown = repo.commit_all("pinned to an unknown remote");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", Some(&pinned), &unknown);
    run.assert_stderr_contains("nosuchremote")
        .assert_stderr_contains("outputs may only name remotes the server defines");
}

/// Deletes need no checking, even with the storage unusable.
#[test]
fn deletes_pass() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "data\n");
    repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    repo.git(&[
        "push",
        "-q",
        "origin",
        "main",
        "main:refs/heads/doomed",
        "main:refs/heads/doomed2",
    ]);
    repo.git(&["tag", "doomed-tag"]);
    repo.git(&["push", "-q", "origin", "doomed-tag"]);

    let blocker = env.path("not-a-directory");
    fs::write(&blocker, "storage cannot live here\n").unwrap();
    server.configure(&[("storage", &blocker)]);
    let run = repo.try_git(&["push", "origin", ":doomed", ":refs/tags/doomed-tag"]);
    assert_accepted(&run);
    assert!(server.ref_("refs/heads/doomed").is_none());
    assert!(server.ref_("refs/tags/doomed-tag").is_none());
    // Without a config at all, too.
    fs::remove_file(server.bare.dir.join("dvc/config")).unwrap();
    assert_accepted(&repo.try_git(&["push", "origin", "--delete", "doomed2"]));
    assert!(server.ref_("refs/heads/doomed2").is_none());
}

/// Tags: a lightweight and an annotated tag on commits no branch has; each rejected while
/// its data is missing, accepted once pushed.
#[test]
fn tag_pushes() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.git(&["push", "-q", "origin", "main"]);
    repo.git(&["checkout", "-q", "--detach"]);
    let light = repo.dvc_add_file("light.txt", "light\n");
    let c1 = repo.commit_all("light");
    repo.git(&["tag", "v-light"]);
    let annotated = repo.dvc_add_file("annotated.txt", "annotated\n");
    let c2 = repo.commit_all("annotated");
    repo.git(&["tag", "-a", "v-annotated", "-m", "release"]);
    let tag_object = repo.rev_parse("refs/tags/v-annotated");

    let run = repo.try_git(&["push", "origin", "v-light"]);
    assert_rejected(&run, &server, "refs/tags/v-light", None, &c1);
    run.assert_stderr_contains(&format!("light.txt@{} ({light})", short(&c1)));
    let run = repo.try_git(&["push", "origin", "v-annotated"]);
    assert_rejected(&run, &server, "refs/tags/v-annotated", None, &tag_object);
    run.assert_stderr_contains(&format!("annotated.txt@{} ({annotated})", short(&c2)));

    repo.git_dvc(&["push", "-q", "-T"]);
    assert_accepted(&repo.try_git(&["push", "origin", "v-light", "v-annotated"]));
    assert_eq!(
        server.ref_("refs/tags/v-annotated").as_deref(),
        Some(&*tag_object)
    );
    assert_eq!(server.ref_("refs/tags/v-light").as_deref(), Some(&*c1));
}

/// Runs `git push ARGS` in `repo` with a time limit of its own.
fn push_timed(repo: &Repo<'_>, args: &[&str], limit: Duration) -> (Run, Duration) {
    let mut cmd = repo.env.command("git", &repo.dir);
    cmd.arg("push").args(args);
    let start = Instant::now();
    let run = run_command(cmd, limit);
    (run, start.elapsed())
}

/// The `.dir` oid a `.dvc` file records.
fn dir_oid(repo: &Repo<'_>, dvcfile: &str) -> String {
    let text = fs::read_to_string(repo.path(dvcfile)).unwrap();
    text.lines()
        .find_map(|l| l.trim().trim_start_matches("- ").strip_prefix("md5: "))
        .filter(|o| o.ends_with(".dir"))
        .unwrap_or_else(|| panic!("no .dir in {dvcfile}:\n{text}"))
        .to_string()
}

/// The time budget: the directory's manifest in storage is a FIFO nobody writes, so
/// reading it blocks forever (deterministically, unlike "many objects"). With
/// `dvc.preReceive.timeout = 1` the push is rejected quickly with the timeout message;
/// with `failOpen` it is accepted.
#[test]
fn time_budget_expiring_rejects_unless_fail_open() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("slow/a.txt", "a\n");
    repo.write("slow/b.txt", "b\n");
    repo.dvc(&["add", "-q", "slow"]);
    let commit = repo.commit_all("slow dir");
    let manifest = dir_oid(&repo, "slow.dvc");
    let fifo = server.storage.join(object_rel_path(&manifest, false));
    fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo {}", fifo.display());
    server.git_config(&["dvc.preReceive.timeout", "1"]);

    let (run, took) = push_timed(&repo, &["origin", "main"], Duration::from_secs(120));
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("did not finish within 1 s (dvc.preReceive.timeout)");
    assert!(took < Duration::from_secs(60), "took {took:?}");

    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    let (run, took) = push_timed(&repo, &["origin", "main"], Duration::from_secs(120));
    assert_accepted(&run);
    run.assert_stderr_contains("accepting it because dvc.preReceive.failOpen is set");
    assert!(took < Duration::from_secs(60), "took {took:?}");
    assert_eq!(server.ref_("main").as_deref(), Some(&*commit));
}

/// A timed-out check leaves no scratch directory behind (the worker thread that still
/// holds the pushed objects' store is not waited for).
#[test]
fn a_timed_out_check_removes_its_scratch_directory() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("slow/a.txt", "a\n");
    repo.dvc(&["add", "-q", "slow"]);
    let commit = repo.commit_all("slow dir");
    let manifest = dir_oid(&repo, "slow.dvc");
    let fifo = server.storage.join(object_rel_path(&manifest, false));
    fs::create_dir_all(fifo.parent().unwrap()).unwrap();
    let status = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(status.success(), "mkfifo {}", fifo.display());
    server.git_config(&["dvc.preReceive.timeout", "1"]);
    let tmp = env.mkdir("tmp");
    let run = repo.try_git_with_env(&["push", "origin", "main"], &[("TMPDIR", tmp.as_os_str())]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("did not finish within 1 s");
    let left: Vec<_> = fs::read_dir(&tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with("git-dvc-objects-"))
        .collect();
    assert!(
        left.is_empty(),
        "left behind in {}: {left:?}",
        tmp.display()
    );
}

/// The object cap: over it, rejected, and failOpen does not accept it (the pusher decides
/// how many objects a push references, so it could hit the cap on purpose).
#[test]
fn object_cap_rejects_even_with_fail_open() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("one.txt", "1\n");
    repo.write("two.txt", "2\n");
    repo.dvc(&["add", "-q", "one.txt", "two.txt"]);
    let commit = repo.commit_all("two files");
    repo.git_dvc(&["push", "-q"]);
    server.git_config(&["dvc.preReceive.maxObjects", "1"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("over the server's limit (git config dvc.preReceive.maxObjects)")
        .assert_stderr_contains("push fewer commits");
    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("failOpen does not apply");
    assert!(
        !run.stderr.contains("failOpen is set"),
        "{}",
        run.describe()
    );
    server.git_config(&["dvc.preReceive.maxObjects", "2"]);
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
    repo.git(&["commit", "-q", "--allow-empty", "-m", "empty"]);
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
}

/// Many tiny outputs whose data is missing, with the cap below their number and failOpen
/// set: the attack this cap used to allow (the push landed with its data missing).
#[test]
fn hitting_the_object_cap_on_purpose_does_not_bypass_the_check() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    server.git_config(&["dvc.preReceive.maxObjects", "5"]);
    let repo = client(&env, &server);
    for i in 0..8 {
        repo.write(
            &format!("f{i}.txt.dvc"),
            format!(
                "outs:\n- md5: {}\n  size: 2\n  hash: md5\n  path: f{i}.txt\n",
                md5_hex(format!("{i}\n").as_bytes())
            ),
        );
    }
    let commit = repo.commit_all("eight outputs, no data");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("more than 5 DVC objects");
}

/// Storage that cannot be read is not "missing data": the check cannot be done, so the
/// push is rejected as unverifiable (fail closed) and `failOpen` accepts it. Here the
/// storage url points into a regular file (as root, permissions would not bite).
#[test]
fn storage_inside_a_regular_file_is_unreachable() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "data\n");
    let commit = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    let blocker = env.path("regular-file");
    fs::write(&blocker, "not a directory\n").unwrap();
    server.configure(&[("storage", &blocker.join("storage"))]);

    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("could not check the DVC data of this push");
    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    run.assert_stderr_contains("dvc.preReceive.failOpen");
}

/// Same, with the storage path a symlink loop (ELOOP): listing and reading fail.
#[test]
fn storage_behind_a_symlink_loop_is_unreachable() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("d/one.txt", "1\n");
    repo.write("two.txt", "2\n");
    repo.dvc(&["add", "-q", "d", "two.txt"]);
    let commit = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    let looped = env.path("loop");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    server.configure(&[("storage", &looped)]);

    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    // The pusher is told what failed, not where on the server (servers.rs has more).
    run.assert_stderr_contains("could not check the DVC data of this push")
        .assert_stderr_contains("<server path>");
    crate::servers::assert_no_server_paths(&env, &run);
    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    run.assert_stderr_contains("dvc.preReceive.failOpen");
}

/// `dvc.preReceive.refs`: only matching refs are checked.
#[test]
fn ref_filter_checks_only_matching_refs() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    server.git_config(&["--add", "dvc.preReceive.refs", "refs/heads/*"]);
    server.git_config(&["--add", "dvc.preReceive.refs", "refs/tags/*"]);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "never uploaded\n");
    let commit = repo.commit_all("data");

    let run = repo.try_git(&["push", "origin", "HEAD:refs/heads/feature"]);
    assert_rejected(&run, &server, "refs/heads/feature", None, &commit);
    run.assert_stderr_contains("data.txt@");
    let run = repo.try_git(&["push", "origin", "HEAD:refs/tags/v1"]);
    assert_rejected(&run, &server, "refs/tags/v1", None, &commit);

    let run = repo.try_git(&["push", "origin", "HEAD:refs/wip/scratch"]);
    assert_accepted(&run);
    assert_eq!(server.ref_("refs/wip/scratch").as_deref(), Some(&*commit));
}

/// An invalid `dvc.preReceive.refs` pattern is not dropped (its refs would go unchecked):
/// every push is rejected, naming it, failOpen or not.
#[test]
fn an_invalid_ref_filter_rejects_every_push() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    server.git_config(&["--add", "dvc.preReceive.refs", "refs/tags/*"]);
    server.git_config(&["--add", "dvc.preReceive.refs", "refs/heads/{main"]);
    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "never uploaded\n");
    let commit = repo.commit_all("data");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("dvc.preReceive.refs has an invalid pattern 'refs/heads/{main'");
}

/// The filter must not become a way around the check: commits first pushed to an
/// unchecked ref are still unverified when a checked ref is later pointed at them.
#[test]
fn ref_filter_cannot_be_bypassed_through_an_unchecked_ref() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    server.git_config(&["--add", "dvc.preReceive.refs", "refs/heads/*"]);
    let repo = client(&env, &server);
    repo.git(&["push", "-q", "origin", "main"]);
    let base = server.ref_("main");
    repo.dvc_add_file("data.txt", "never uploaded\n");
    let commit = repo.commit_all("data");
    assert_accepted(&repo.try_git(&["push", "origin", "HEAD:refs/wip/scratch"]));

    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(
        !run.success(),
        "refs/heads/main now points at a commit whose data is in no storage\n{}",
        run.describe()
    );
    run.assert_stderr_contains(&format!("data.txt@{}", short(&commit)));
    assert_eq!(server.ref_("main"), base);
}

/// git-dvc not on the server's PATH: the hook runs the binary that installed it.
#[test]
fn server_without_git_dvc_on_path_uses_the_installing_binary() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let missing = repo.dvc_add_file("data.txt", "not uploaded yet\n");
    let head = repo.commit_all("data");
    let path = env.path_without_git_dvc();
    let run = repo.try_git_with_env(&["push", "origin", "main"], &[("PATH", path.as_os_str())]);
    assert_rejected(&run, &server, "main", None, &head);
    run.assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)));
    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git_with_env(&["push", "origin", "main"], &[("PATH", path.as_os_str())]);
    assert_accepted(&run);
    run.assert_stderr_contains("1 object checked");
}

/// The hook fails closed when the server cannot run git-dvc at all: not on PATH, and the
/// installing binary gone (here a copy that installed the hook, then was removed).
#[test]
fn server_without_any_git_dvc_refuses() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let copy = env.path("opt/git-dvc/bin/git-dvc");
    fs::create_dir_all(copy.parent().unwrap()).unwrap();
    fs::copy(git_dvc_bin(), &copy).unwrap();
    env.run_with_env(&copy, &server.bare.dir, &["install", "--server"], &[])
        .assert_success();
    assert_eq!(
        fs::read_to_string(server.bare.dir.join("hooks/pre-receive")).unwrap(),
        server_hook_for(&copy)
    );
    fs::remove_file(&copy).unwrap();
    let repo = client(&env, &server);
    let head = repo.rev_parse("HEAD");
    let path = env.path_without_git_dvc();
    let run = repo.try_git_with_env(&["push", "origin", "main"], &[("PATH", path.as_os_str())]);
    assert_rejected(&run, &server, "main", None, &head);
    run.assert_stderr_contains(
        "remote: git-dvc is not installed where this server's hook looks for it",
    )
    .assert_stderr_contains("Contact the server's administrators");
    crate::servers::assert_no_server_paths(&env, &run);
    // Under GitLab the line carries its UI prefix.
    let run = repo.try_git_with_env(
        &["push", "origin", "main"],
        &[("PATH", path.as_os_str()), ("GL_ID", OsStr::new("user-1"))],
    );
    assert_rejected(&run, &server, "main", None, &head);
    run.assert_stderr_contains("remote: GL-HOOK-ERR: git-dvc is not installed");
}

// ---------------------------------------------------------------------------
// Over ssh
// ---------------------------------------------------------------------------

/// sshd on 127.0.0.1 from `scripts/test.sh` (`setup_sshd_git`): port, client key, user.
struct Ssh {
    port: String,
    key: PathBuf,
    user: String,
}

fn ssh() -> Ssh {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(port), Some(key)) = (var("GIT_DVC_TEST_SSH_PORT"), var("GIT_DVC_TEST_SSH_KEY"))
    else {
        panic!(
            "GIT_DVC_TEST_SSH_PORT / GIT_DVC_TEST_SSH_KEY are not set: the ssh push tests need \
             the sshd that `bash scripts/test.sh` starts on 127.0.0.1 (setup_sshd_git)"
        );
    };
    let key = PathBuf::from(key);
    assert!(
        key.is_file(),
        "GIT_DVC_TEST_SSH_KEY={} is not a file",
        key.display()
    );
    Ssh {
        port,
        key,
        user: var("GIT_DVC_TEST_SSH_USER").unwrap_or_else(|| "root".to_string()),
    }
}

fn shell_quote(s: &OsStr) -> String {
    format!("'{}'", s.to_string_lossy().replace('\'', "'\\''"))
}

/// `git push` to the server over ssh.
///
/// How the server side finds git-dvc: the client asks for the receive-pack command
/// `env PATH=… HOME=… GIT_CONFIG_NOSYSTEM=1 git-receive-pack` (`--receive-pack`), so the
/// ssh session's git, and the pre-receive hook it runs, get the test's PATH (git-dvc's
/// build directory first) and isolated HOME. This depends on neither sshd's config
/// (SetEnv / PermitUserEnvironment) nor the server user's shell startup files, and leaves
/// the installed hook exactly as `git dvc install --server` wrote it. (A real server puts
/// git-dvc on the git user's PATH instead.)
fn push_over_ssh(env: &TestEnv, repo: &Repo<'_>, server: &Server<'_>, args: &[&str]) -> Run {
    let ssh = ssh();
    let url = format!(
        "ssh://{}@127.0.0.1:{}{}",
        ssh.user,
        ssh.port,
        server.bare.dir.display()
    );
    let ssh_command = format!(
        "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10",
        shell_quote(ssh.key.as_os_str())
    );
    let receive_pack = format!(
        "env PATH={} HOME={} GIT_CONFIG_NOSYSTEM=1 git-receive-pack",
        shell_quote(&env.path_with(&[])),
        shell_quote(env.path("home").as_os_str())
    );
    let receive_pack_arg = format!("--receive-pack={receive_pack}");
    let mut all = vec!["push", &receive_pack_arg, &url];
    all.extend_from_slice(args);
    repo.try_git_with_env(&all, &[("GIT_SSH_COMMAND", OsStr::new(&ssh_command))])
}

#[test]
fn push_over_ssh_is_checked_by_the_server() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "over ssh\n");
    let first = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    let run = push_over_ssh(&env, &repo, &server, &["main"]);
    assert_accepted(&run);
    assert_eq!(server.ref_("main").as_deref(), Some(&*first));

    let missing = repo.dvc_add_file("data.txt", "over ssh, never uploaded\n");
    let second = repo.commit_all("missing");
    let run = push_over_ssh(&env, &repo, &server, &["main"]);
    assert_rejected(&run, &server, "main", Some(&first), &second);
    run.assert_stderr_contains("remote: git-dvc: push rejected")
        .assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&second)));

    repo.git_dvc(&["push", "-q"]);
    assert_accepted(&push_over_ssh(&env, &repo, &server, &["main"]));
    assert_eq!(server.ref_("main").as_deref(), Some(&*second));
}

// ---------------------------------------------------------------------------
// Security issue 14: what the server reads, and when it may fail open.
// ---------------------------------------------------------------------------

/// A `.dir` manifest that exists but cannot be trusted (here: the bytes `[]` stored under a
/// real manifest's name) is reported by every command the same way: non-zero exit, the
/// manifest's hash and the `path@revision` that needs it. Every command that uploads or
/// checks stops on it; fetch refuses that directory and still brings the rest. The server
/// reads the forged copy from storage and rejects it even with `failOpen` (it is bad
/// content, not unavailability); the client hook refuses to let the commit reach the server.
#[test]
fn an_invalid_manifest_stops_every_command() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("images/a.png", "picture a\n");
    repo.write("images/b.png", "picture b\n");
    repo.dvc(&["add", "-q", "images"]);
    let loose = repo.dvc_add_file("notes.txt", "beside the images\n");
    let commit = repo.commit_all("images");
    let manifest = dir_oid(&repo, "images.dvc");
    repo.git_dvc(&["push", "-q"]);
    // Forged in storage (the server has no cache) and in the client's cache.
    write_file(
        &server.storage.join(object_rel_path(&manifest, false)),
        b"[]",
    );
    write_file(&repo.cache_object(&manifest, false), b"[]");
    server.git_config(&["dvc.preReceive.failOpen", "true"]);

    let expect = |run: &Run, revision: &str| {
        assert!(!run.success(), "{}", run.describe());
        run.assert_stderr_contains(&format!(
            "directory manifest {manifest} (used by images@{revision}) is invalid: its bytes do not match its name"
        ));
    };
    expect(&repo.try_git_dvc(&["push"]), "workspace");
    expect(&repo.try_git_dvc(&["status", "-c"]), "workspace");
    expect(&repo.try_git_dvc(&["check"]), "HEAD");
    // Fetch: the directory is refused, the loose file still comes back into the cache.
    fs::remove_file(repo.cache_object(&loose, false)).unwrap();
    let run = repo.try_git_dvc(&["fetch"]);
    expect(&run, "workspace");
    run.assert_stderr_contains("failed to fetch data from the cloud - 1 file failed to download");
    assert!(
        repo.cache_object(&loose, false).is_file(),
        "{}",
        run.describe()
    );
    // The client hook: the push stops before git sends anything.
    repo.git_dvc(&["install"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    expect(&run, short(&commit));
    assert_eq!(server.ref_("main"), None, "{}", run.describe());
    // The server, with the client hook skipped.
    let skip = [("GIT_DVC_SKIP_PUSH", OsStr::new("1"))];
    let run = repo.try_git_with_env(&["push", "origin", "main"], &skip);
    assert_rejected(&run, &server, "main", None, &commit);
    expect(&run, short(&commit));
}

/// A `.dir` object in storage that is a directory is missing, counted once.
#[test]
fn a_directory_under_a_manifest_name_is_missing_once() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("images/a.png", "picture a\n");
    repo.write("images/b.png", "picture b\n");
    repo.dvc(&["add", "-q", "images"]);
    let commit = repo.commit_all("images");
    let manifest = dir_oid(&repo, "images.dvc");
    repo.git_dvc(&["push", "-q"]);
    let stored = server.storage.join(object_rel_path(&manifest, false));
    fs::remove_file(&stored).unwrap();
    fs::create_dir_all(stored.join("inside")).unwrap();

    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains(
        "push rejected: 1 object referenced by the pushed commits is not in DVC storage",
    )
    .assert_stderr_contains(&format!("images@{} ({manifest})", short(&commit)));
    let check = env.try_git_dvc(&server.bare.dir, &["check"]);
    assert!(!check.success(), "{}", check.describe());
}

/// failOpen is for unavailability only: pushed content that is wrong rejects the push
/// whatever it says, each with a message naming the file and commit.
#[test]
fn fail_open_never_accepts_bad_pushed_content() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    server.git_config(&["dvc.preReceive.failOpen", "true"]);
    let repo = client(&env, &server);
    repo.git(&["push", "-q", "origin", "main"]);
    let base = server.ref_("main");
    let cases: [(&str, &str, &str, &str); 4] = [
        ("junk.dvc", "outs: [[[\n", "junk.dvc@", "junk .dvc file"),
        (
            "short.dvc",
            "outs:\n- md5: abc\n  path: short\n  hash: md5\n",
            "short.dvc@",
            "non-canonical hash",
        ),
        (
            "pinned.dvc",
            "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  path: pinned\n  hash: md5\n  remote: nosuchremote\n",
            "nosuchremote",
            "a remote the server does not define",
        ),
        (
            ".dvc/config",
            "[core\nthis is not a config file\n",
            ".dvc/config@",
            "a malformed .dvc/config",
        ),
    ];
    for (file, text, needle, what) in cases {
        repo.git(&["checkout", "-q", "-B", "case", "main"]);
        repo.write(file, text);
        let commit = repo.commit_all(what);
        let run = repo.try_git(&["push", "origin", "HEAD:refs/heads/main"]);
        assert_rejected(&run, &server, "main", base.as_deref(), &commit);
        run.assert_stderr_contains(needle);
        assert!(
            !run.stderr.contains("failOpen is set"),
            "{what}: {}",
            run.describe()
        );
    }
}

/// A `.dvc/config` git-dvc cannot parse at the server's HEAD (let through here by a ref
/// filter) wedges nothing: pushes to other refs, deletes and the push that fixes it are
/// checked on their own commits.
#[test]
fn a_bad_config_at_head_blocks_nothing_else() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.git(&["push", "-q", "origin", "main", "main:refs/heads/doomed"]);
    let good_config = repo.read(".dvc/config");
    server.git_config(&["dvc.preReceive.refs", "refs/heads/checked/*"]);
    repo.write(".dvc/config", "[core\nthis is not a config file\n");
    repo.commit_all("broken config");
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
    server.git_config(&["--unset-all", "dvc.preReceive.refs"]);

    // Another ref, from before the breakage, with its data stored.
    repo.git(&["checkout", "-q", "-b", "feature", "main~1"]);
    repo.dvc_add_file("feature.txt", "feature data\n");
    let feature = repo.commit_all("feature");
    repo.git_dvc(&["push", "-q"]);
    assert_accepted(&repo.try_git(&["push", "origin", "feature"]));
    assert_eq!(server.ref_("feature").as_deref(), Some(&*feature));
    // A delete.
    assert_accepted(&repo.try_git(&["push", "origin", ":doomed"]));
    // The fix.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".dvc/config", good_config);
    let fix = repo.commit_all("fix config");
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
    assert_eq!(server.ref_("main").as_deref(), Some(&*fix));
}

/// A rejection names the commit that introduced the missing output, not the branch tip.
#[test]
fn rejections_name_the_commit_that_added_the_output() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let oid = repo.dvc_add_file("d2.txt", "never uploaded\n");
    let added = repo.commit_all("add d2");
    repo.write("README", "later\n");
    let tip = repo.commit_all("unrelated");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &tip);
    run.assert_stderr_contains(&format!("d2.txt@{} ({oid})", short(&added)));
    assert!(
        !run.stderr.contains(&format!("@{}", short(&tip))),
        "{}",
        run.describe()
    );
}

/// `git-dvc pre-receive` with nothing on stdin: an error, never a silent pass.
#[test]
fn an_empty_ref_list_is_an_error() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let run = env.try_git_dvc(&server.bare.dir, &["pre-receive"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("an earlier hook in the chain probably consumed stdin");
}

/// The server never reads a `.dvcignore` (see `dvcignore_hides_nothing_from_the_server`):
/// a big one, even under many paths, costs it nothing (a 1 MiB one used to cost seconds
/// and hundreds of megabytes, once per path).
#[test]
fn an_oversized_dvcignore_costs_the_server_nothing() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let mut text = String::new();
    let mut i = 0u64;
    while text.len() <= 1 << 20 {
        text.push_str(&format!("dir{i}/**/x*[ab]?{i}\n"));
        i += 1;
    }
    // Added first: DVC itself compiles `.dvcignore` files.
    repo.dvc_add_file("data.txt", "never uploaded\n");
    repo.write(".dvcignore", &text);
    for i in 0..8 {
        repo.write(&format!("p{i}/.dvcignore"), &text);
    }
    let commit = repo.commit_all("huge .dvcignore files");
    let (run, took) = push_timed(&repo, &["origin", "main"], Duration::from_secs(120));
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("data.txt@");
    assert!(
        !run.stderr.contains("dvc.maxIgnoreFileSize"),
        "{}",
        run.describe()
    );
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

/// Deliberately unlike DVC: a `.dvcignore` hides no DVC file from the server or `check`,
/// since git-dvc's reading of one can differ from DVC's (here: braces, which DVC takes
/// literally; a `.dvcignore` its parent ignores, which DVC never loads) and anyone who
/// pushes writes it. Every DVC file in the pushed tree is checked.
#[test]
fn dvcignore_hides_nothing_from_the_server() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let a = repo.dvc_add_file("a.txt", "a\n");
    let b = repo.dvc_add_file("sub/b.txt", "b\n");
    let c = repo.dvc_add_file("c.txt", "c\n");
    repo.write(".dvcignore", "{a.txt.dvc,x}\nsub/.dvcignore\nc.txt.dvc\n");
    repo.write("sub/.dvcignore", "b.txt.dvc\n");
    let commit = repo.commit_all("data hidden by .dvcignore files");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    let at = short(&commit);
    run.assert_stderr_contains(&format!("a.txt@{at} ({a})"))
        .assert_stderr_contains(&format!("sub/b.txt@{at} ({b})"))
        .assert_stderr_contains(&format!("c.txt@{at} ({c})"));

    let check = repo.try_git_dvc(&["check"]);
    assert!(!check.success(), "{}", check.describe());
    check
        .assert_stderr_contains(&format!("a.txt@HEAD ({a})"))
        .assert_stderr_contains(&format!("sub/b.txt@HEAD ({b})"))
        .assert_stderr_contains(&format!("c.txt@HEAD ({c})"));
}

/// Client commands read `.dvcignore` files as DVC does where the two used to differ:
/// braces are literal, and a `.dvcignore` its parent ignores is not loaded. `dvc push`
/// (the reference) uploads both outputs; so does `git dvc push` for the commit.
#[test]
fn client_reads_dvcignore_like_dvc() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let a = repo.dvc_add_file("a.txt", "a\n");
    let b = repo.dvc_add_file("sub/b.txt", "b\n");
    repo.write(".dvcignore", "{a.txt.dvc,x}\nsub/.dvcignore\n");
    repo.write("sub/.dvcignore", "b.txt.dvc\n");
    repo.commit_all("outputs DVC does not ignore");

    let reference = env.path("dvc-reference");
    repo.set_local_remotes(&[("r", &reference)]);
    repo.dvc(&["push", "-q"]);
    assert!(remote_has(&reference, &a, false) && remote_has(&reference, &b, false));

    repo.set_local_remotes(&[("r", &server.storage)]);
    // The committed revision (the work tree's walk is not covered: see README).
    repo.git_dvc(&["push", "-q", "--rev", "HEAD"]);
    assert!(remote_has(&server.storage, &a, false), "a.txt not pushed");
    assert!(
        remote_has(&server.storage, &b, false),
        "sub/b.txt not pushed"
    );
}

/// Directory names that are not UTF-8: a DVC project in one, a project nested below one,
/// and a `.dvc` file of the top project in one are all checked (the tree scan stops the
/// top project at a nested project, so skipping its directory left it unchecked).
#[test]
fn dvc_files_in_non_utf8_directories_are_checked() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let dvc_file = |md5: &str, name: &str| {
        format!("outs:\n- md5: {md5}\n  size: 2\n  hash: md5\n  path: {name}\n")
    };
    let x = md5_hex(b"x\n");
    let y = md5_hex(b"y\n");
    let z = md5_hex(b"z\n");
    let at = |rel: &[u8]| repo.dir.join(OsStr::from_bytes(rel));
    // `d\xff` is a project of its own; `e\xfe/inner` is one below a non-UTF-8 directory.
    write_file(&at(b"d\xff/.dvc/config"), b"");
    write_file(&at(b"d\xff/x.txt.dvc"), dvc_file(&x, "x.txt").as_bytes());
    write_file(&at(b"e\xfe/inner/.dvc/config"), b"");
    write_file(
        &at(b"e\xfe/inner/y.txt.dvc"),
        dvc_file(&y, "y.txt").as_bytes(),
    );
    // Not a project: the top project's file in a non-UTF-8 directory.
    write_file(&at(b"f\xfd/z.txt.dvc"), dvc_file(&z, "z.txt").as_bytes());
    let commit = repo.commit_all("non-UTF-8 directories");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    let short = short(&commit);
    run.assert_stderr_contains(&format!("d\u{FFFD}/x.txt@{short} ({x})"))
        .assert_stderr_contains(&format!("e\u{FFFD}/inner/y.txt@{short} ({y})"))
        .assert_stderr_contains(&format!("f\u{FFFD}/z.txt@{short} ({z})"));

    let check = repo.try_git_dvc(&["check"]);
    assert!(!check.success(), "{}", check.describe());
    check
        .assert_stderr_contains(&format!("({x})"))
        .assert_stderr_contains(&format!("({y})"))
        .assert_stderr_contains(&format!("({z})"));
}

/// Nested DVC projects (`dvc init --subdir` below a project) are checked on the server, each
/// against its own server config when `$GIT_DIR/dvc/projects/<dir>/config` exists.
#[test]
fn nested_projects_are_checked() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let sub = env.repo_at(repo.path("sub"));
    fs::create_dir_all(&sub.dir).unwrap();
    sub.dvc(&["init", "-q", "--subdir"]);
    let sub_storage = env.path("sub-storage");
    sub.dvc(&[
        "remote",
        "add",
        "-d",
        "subr",
        env.path("unused").to_str().unwrap(),
    ]);
    sub.set_local_remotes(&[("subr", &sub_storage)]);
    let oid = sub.dvc_add_file("nested.txt", "nested data\n");
    let commit = repo.commit_all("nested project");

    // Not in the server's storage: rejected, the file named from the top.
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains(&format!("sub/nested.txt@{} ({oid})", short(&commit)));
    // `check` from the top project sees it too.
    let check = repo.try_git_dvc(&["check"]);
    assert!(!check.success(), "{}", check.describe());
    check.assert_stderr_contains(&format!("sub/nested.txt@HEAD ({oid})"));

    // Its own server config, whose only remote is named as the pushed core.remote.
    sub.git_dvc(&["push", "-q"]);
    assert!(remote_has(&sub_storage, &oid, false));
    write_file(
        &server.bare.dir.join("dvc/projects/sub/config"),
        format!("['remote \"subr\"']\n    url = {}\n", sub_storage.display()).as_bytes(),
    );
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    run.assert_stderr_contains("1 object checked");
}

/// Without any `.dvcignore` (which used to make the scan's memo keys differ), a nested
/// project's tree is both a root of its own and a subtree of the top project, where it
/// yields nothing: whichever parallel scan came first decided the other's result, so the
/// nested project's data went unchecked or was checked against the top's storage.
#[test]
fn nested_projects_without_dvcignore_files_are_checked_every_time() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let sub = env.repo_at(repo.path("sub"));
    fs::create_dir_all(&sub.dir).unwrap();
    sub.dvc(&["init", "-q", "--subdir"]);
    let sub_storage = env.path("sub-storage");
    sub.dvc(&["remote", "add", "-d", "subr", "/nowhere"]);
    sub.set_local_remotes(&[("subr", &sub_storage)]);
    let oid = sub.dvc_add_file("nested.txt", "nested data\n");
    fs::remove_file(repo.path(".dvcignore")).unwrap();
    fs::remove_file(repo.path("sub/.dvcignore")).unwrap();
    let commit = repo.commit_all("nested project, no .dvcignore");
    for _ in 0..4 {
        let run = repo.try_git(&["push", "origin", "main"]);
        assert_rejected(&run, &server, "main", None, &commit);
        run.assert_stderr_contains(&format!("sub/nested.txt@{} ({oid})", short(&commit)));
    }
    sub.git_dvc(&["push", "-q"]);
    write_file(
        &server.bare.dir.join("dvc/projects/sub/config"),
        format!("['remote \"subr\"']\n    url = {}\n", sub_storage.display()).as_bytes(),
    );
    for _ in 0..4 {
        server.bare.git(&["update-ref", "-d", "refs/heads/main"]);
        let run = repo.try_git(&["push", "origin", "main"]);
        assert_accepted(&run);
        run.assert_stderr_contains("1 object checked");
    }
}

/// An object in storage under a `.dir` name bigger than `dvc.maxManifestSize` is refused
/// by the server without being read whole (reads are capped at the limit plus one byte):
/// anyone who can write storage chooses these bytes.
#[test]
fn an_oversized_object_under_a_manifest_name_is_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    server.git_config(&["dvc.maxManifestSize", "64k"]);
    let repo = client(&env, &server);
    repo.write("images/a.png", "picture a\n");
    repo.dvc(&["add", "-q", "images"]);
    let commit = repo.commit_all("images");
    let manifest = dir_oid(&repo, "images.dvc");
    repo.git_dvc(&["push", "-q"]);
    let stored = server.storage.join(object_rel_path(&manifest, false));
    make_writable(stored.parent().unwrap());
    fs::remove_file(&stored).unwrap();
    fs::write(&stored, vec![b' '; 4 << 20]).unwrap();

    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains(&format!("images@{}", short(&commit)));
    // Read no further than the limit plus one byte, never the 4 MiB.
    run.assert_stderr_contains("over the 65536-byte limit (at least 65537 bytes");
    assert!(server.bare.try_rev_parse("main").is_none());
}
