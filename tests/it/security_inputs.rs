//! DVC-file inputs the server check and `git dvc check` used to accept with the data missing
//! (security issue 14): `etag`/`checksum` outputs, DVC files committed as symbolic links,
//! upper-case md5 values, a UTF-8 byte-order mark and YAML tags DVC refuses.
//!
//! Each case runs real DVC 3.67.1 as the reference (what `dvc push` uploads, what `dvc pull`
//! in a fresh clone can fetch), `git dvc check`, and a bare server repository with
//! `git dvc install --server` receiving real `git push`es.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::receiving_server::{
    assert_check_fails, assert_push_accepted, assert_push_rejected, client, Server,
};
use common::*;

/// Real `dvc pull` in a fresh clone of the server's... of `src`, with `r` at `storage`.
fn fresh_clone_pull<'e>(
    env: &'e TestEnv,
    src: &Path,
    rel: &str,
    storage: &Path,
) -> (Repo<'e>, Run) {
    let clone = env.clone_repo(src, rel);
    clone.set_local_remotes(&[("r", storage)]);
    let run = clone.try_dvc(&["pull"]);
    (clone, run)
}

/// Puts `bytes` in the cache under `files/md5/<value>`, read-only as DVC leaves cache files
/// (DVC then trusts it without hashing it).
fn put_in_cache(repo: &Repo<'_>, value: &str, bytes: &[u8]) {
    let path = repo
        .cache_dir()
        .join(format!("files/md5/{}/{}", &value[..2], &value[2..]));
    write_file(&path, bytes);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
}

const ETAG: &str = "0123456789abcdef0123456789abcdef-2";
const CHECKSUM: &str = "000002000000000000000000a3a6a33f1b0a5b4a0f6d2e9d2a8b3b1c";

/// `hash: etag` / `hash: checksum` outputs: DVC 3.67.1 pushes and pulls them as
/// `files/md5/<value>`. git-dvc used to skip them everywhere, so a commit whose data was
/// nowhere passed the server check.
#[test]
fn etag_and_checksum_outputs_are_pushed_and_checked_under_their_value() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("e.txt", "etag data\n");
    repo.write(
        "e.txt.dvc",
        format!("outs:\n- etag: {ETAG}\n  size: 10\n  hash: etag\n  path: e.txt\n"),
    );
    repo.write("c.txt", "checksum data\n");
    repo.write(
        "c.txt.dvc",
        format!("outs:\n- checksum: {CHECKSUM}\n  hash: checksum\n  path: c.txt\n"),
    );
    repo.write(".gitignore", "/e.txt\n/c.txt\n");
    put_in_cache(&repo, ETAG, b"etag data\n");
    put_in_cache(&repo, CHECKSUM, b"checksum data\n");
    repo.commit_all("etag and checksum outputs");

    // The data is nowhere: DVC cannot pull it, so the checks must refuse.
    let (_, pull) = fresh_clone_pull(&env, &repo.dir, "clone-before", &server.storage);
    assert!(!pull.success(), "{}", pull.describe());
    assert_check_fails(&repo, "e.txt@HEAD");
    assert_check_fails(&repo, "c.txt@HEAD");
    assert_push_rejected(&repo, &server, "e.txt@");
    let status = repo.try_git_dvc(&["status", "-c"]);
    assert!(
        status.stdout.contains("e.txt") && status.stdout.contains("c.txt"),
        "{}",
        status.describe()
    );

    // git dvc push stores them where real `dvc push` does.
    let dvc_storage = env.path("dvc-storage");
    repo.set_local_remotes(&[("r", &dvc_storage)]);
    repo.dvc(&["push"]);
    repo.set_local_remotes(&[("r", &server.storage)]);
    repo.git_dvc(&["push", "-q"]);
    let ours = list_files(&server.storage);
    let theirs = list_files(&dvc_storage);
    assert_eq!(
        ours, theirs,
        "git dvc push and dvc push stored different things"
    );
    assert_eq!(
        ours.get(&format!("files/md5/01/{}", &ETAG[2..]))
            .map(Vec::as_slice),
        Some(&b"etag data\n"[..])
    );

    repo.git_dvc(&["check"]);
    assert_push_accepted(&repo, &server);
    let (clone, pull) = fresh_clone_pull(&env, &server.bare.dir, "clone-after", &server.storage);
    assert!(pull.success(), "{}", pull.describe());
    assert_eq!(clone.read("e.txt"), b"etag data\n");
    assert_eq!(clone.read("c.txt"), b"checksum data\n");
}

/// An etag that is a path is an invalid DVC file, never a key.
#[test]
fn etag_values_that_could_form_a_path_are_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write(
        "e.txt.dvc",
        "outs:\n- etag: ../../../../outside\n  hash: etag\n  path: e.txt\n",
    );
    repo.commit_all("etag path");
    assert_check_fails(&repo, "e.txt.dvc@HEAD: invalid hash in outs -> 0 -> etag");
    assert_push_rejected(&repo, &server, "invalid hash in outs -> 0 -> etag");
    assert!(!env.path("outside").exists());
}

/// A `.dvc` file (and a `dvc.lock`) committed as a symbolic link: DVC follows it in a
/// checkout, so its outputs count. git-dvc refuses the revision instead of skipping it.
#[test]
fn dvc_files_committed_as_symlinks_are_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("data.txt", "behind a link\n");
    repo.dvc(&["add", "-q", "data.txt"]);
    fs::create_dir_all(repo.path("meta")).unwrap();
    fs::rename(repo.path("data.txt.dvc"), repo.path("meta/data.txt.yaml")).unwrap();
    std::os::unix::fs::symlink("meta/data.txt.yaml", repo.path("data.txt.dvc")).unwrap();
    repo.commit_all("linked .dvc file");

    // Real DVC reads through the link and cannot pull the missing data.
    let (_, pull) = fresh_clone_pull(&env, &repo.dir, "clone", &server.storage);
    assert!(!pull.success(), "{}", pull.describe());
    pull.assert_stderr_contains("data.txt");

    let needle = "data.txt.dvc@HEAD: is a symbolic link";
    assert_check_fails(&repo, needle);
    assert_push_rejected(&repo, &server, "is a symbolic link");
    // The client reports it too (work tree and commit), rather than pushing nothing.
    let run = repo.try_git_dvc(&["push"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("data.txt.dvc@workspace: is a symbolic link");
    let run = repo.try_git_dvc(&["status", "-c"]);
    assert!(!run.success(), "{}", run.describe());

    // The file itself, in place of the link (the linked commit rewritten: the server checks
    // every pushed commit), is checked as usual.
    fs::remove_file(repo.path("data.txt.dvc")).unwrap();
    fs::rename(repo.path("meta/data.txt.yaml"), repo.path("data.txt.dvc")).unwrap();
    amend(&repo, "the file itself");
    assert_push_rejected(&repo, &server, "data.txt@");
    repo.git_dvc(&["push", "-q"]);
    repo.git_dvc(&["check"]);
    assert_push_accepted(&repo, &server);
}

fn amend(repo: &Repo<'_>, message: &str) {
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-q", "--amend", "-m", message]);
}

/// A `dvc.lock` that is a link leaves the pipeline's hashes unread: refused too.
#[test]
fn a_symlinked_dvc_lock_is_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("params.txt", "p\n");
    repo.dvc(&[
        "stage",
        "add",
        "-q",
        "-n",
        "make",
        "-d",
        "params.txt",
        "-o",
        "out.txt",
        "cp params.txt out.txt",
    ]);
    repo.dvc(&["repro", "-q"]);
    fs::rename(repo.path("dvc.lock"), repo.path("lock.yaml")).unwrap();
    std::os::unix::fs::symlink("lock.yaml", repo.path("dvc.lock")).unwrap();
    repo.commit_all("linked lock");
    assert_check_fails(&repo, "dvc.lock@HEAD: is a symbolic link");
    assert_push_rejected(&repo, &server, "is a symbolic link");
}

/// DVC keeps an upper-case md5 as written: `dvc pull` asks for `files/md5/AB/CDEF…` and never
/// finds the lower-case object git-dvc used to check. Refused, naming the field.
#[test]
fn upper_case_md5_values_are_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let md5 = repo.dvc_add_file("data.txt", "shouting\n");
    repo.git_dvc(&["push", "-q"]); // the lower-case object is stored
    let text = String::from_utf8(repo.read("data.txt.dvc")).unwrap();
    repo.write("data.txt.dvc", text.replace(&md5, &md5.to_uppercase()));
    repo.commit_all("upper case");

    let (_, pull) = fresh_clone_pull(&env, &repo.dir, "clone", &server.storage);
    assert!(!pull.success(), "dvc pull must fail\n{}", pull.describe());

    let needle = "data.txt.dvc@HEAD: invalid hash in outs -> 0 -> md5";
    assert_check_fails(&repo, needle);
    assert_check_fails(&repo, "lower-case");
    assert_push_rejected(&repo, &server, "lower-case");

    repo.write("data.txt.dvc", text);
    amend(&repo, "lower case");
    repo.git_dvc(&["check"]);
    assert_push_accepted(&repo, &server);
}

/// A `.dir` manifest member in upper case: `git dvc push` and the server refuse it.
#[test]
fn upper_case_md5_in_a_dir_manifest_is_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("dir/a.txt", "member\n");
    repo.dvc(&["add", "-q", "dir"]);
    let member = md5_hex(b"member\n");
    let manifest = format!(
        r#"[{{"md5": "{}", "relpath": "a.txt"}}]"#,
        member.to_uppercase()
    );
    let dir_md5 = md5_hex(manifest.as_bytes());
    let text = String::from_utf8(repo.read("dir.dvc")).unwrap();
    let old = common::fixtures::md5_field(&text);
    repo.write("dir.dvc", text.replace(&old, &format!("{dir_md5}.dir")));
    let path = repo
        .cache_dir()
        .join(object_rel_path(&format!("{dir_md5}.dir"), false));
    write_file(&path, manifest.as_bytes());
    repo.commit_all("upper-case member");
    let run = repo.try_git_dvc(&["push"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("lower-case");
}

/// DVC reads a `.dvc` file starting with a UTF-8 byte-order mark; git-dvc refused it as
/// "more than one document", so its data was never pushed nor checked.
#[test]
fn a_byte_order_mark_is_read_as_dvc_reads_it() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let md5 = repo.dvc_add_file("data.txt", "bom\n");
    let mut bytes = b"\xef\xbb\xbf".to_vec();
    bytes.extend(repo.read("data.txt.dvc"));
    repo.write("data.txt.dvc", bytes);
    let commit = repo.commit_all("bom");
    repo.dvc(&["status"]); // DVC loads it

    assert_check_fails(&repo, &format!("data.txt@HEAD ({md5})"));
    assert_push_rejected(&repo, &server, &format!("data.txt@{}", &commit[..7]));
    repo.git_dvc(&["push", "-q"]);
    repo.git_dvc(&["check"]);
    assert_push_accepted(&repo, &server);
    let (clone, pull) = fresh_clone_pull(&env, &server.bare.dir, "clone", &server.storage);
    assert!(pull.success(), "{}", pull.describe());
    assert_eq!(clone.read("data.txt"), b"bom\n");
}

/// `!!python/object:…` on a mapping: DVC's safe loader refuses the file, git-dvc read it as a
/// plain mapping. Now refused as DVC refuses it, even with the data stored.
#[test]
fn yaml_tags_dvc_refuses_are_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "tagged\n");
    repo.git_dvc(&["push", "-q"]);
    let text = String::from_utf8(repo.read("data.txt.dvc")).unwrap();
    repo.write(
        "data.txt.dvc",
        text.replacen("- md5:", "- !!python/object:dvc.output.Output\n  md5:", 1),
    );
    repo.commit_all("tagged");
    let run = repo.try_dvc(&["status"]);
    assert!(
        run.stderr.contains("constructor for the tag"),
        "DVC refuses the tag\n{}",
        run.describe()
    );
    assert_check_fails(
        &repo,
        "data.txt.dvc@HEAD: YAML tag '!!python/object:dvc.output.Output' at line 2",
    );
    assert_push_rejected(
        &repo,
        &server,
        "YAML tag '!!python/object:dvc.output.Output'",
    );
}

/// Runs `status -c ARGS` with git-dvc against `ours` and with DVC against `theirs`: same
/// exit code, same lines (DVC's order varies from run to run).
#[track_caller]
fn assert_same_status(repo: &Repo<'_>, args: &[&str], ours: &Path, theirs: &Path) {
    repo.set_local_remotes(&[("r", ours)]);
    let our_run = repo.try_git_dvc(args);
    repo.set_local_remotes(&[("r", theirs)]);
    let their_run = repo.try_dvc(args);
    let sorted = |run: &Run| {
        let mut lines: Vec<String> = run.stdout.lines().map(str::to_string).collect();
        lines.sort();
        (run.code(), lines)
    };
    assert_eq!(
        sorted(&our_run),
        sorted(&their_run),
        "{args:?}\n{}\n{}",
        our_run.describe(),
        their_run.describe()
    );
}

/// A backslash is an ordinary character in a POSIX file name: `dvc add` records `a\b.txt`
/// in the `.dir`, and DVC pushes and pulls it. git-dvc used to refuse the whole manifest, so
/// `push`, `status -c` and `push -a` failed for every revision holding it.
#[test]
fn backslash_names_dvc_writes_are_pushed_checked_and_pulled() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("bs/a\\b.txt", "back\n");
    repo.write("bs/n.txt", "plain\n");
    repo.dvc(&["add", "-q", "bs"]);
    repo.commit_all("a backslash name");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("bs/a\\b.txt", "back on other\n");
    repo.dvc(&["add", "-q", "bs"]);
    repo.commit_all("changed on other");
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);
    let manifest =
        fs::read(repo.cache_object(&fixtures::dvc_file_md5(&repo, "bs.dvc"), false)).unwrap();
    assert!(
        String::from_utf8_lossy(&manifest).contains(r#""relpath": "a\\b.txt""#),
        "{}",
        String::from_utf8_lossy(&manifest)
    );

    // Nothing pushed yet: the same `new:` lines as DVC, member included.
    let empty = env.path("remotes/empty");
    assert_same_status(&repo, &["status", "-c"], &empty, &empty);
    // push and push -a upload what DVC uploads; status -c then agrees it is all there.
    let head = compare_push_with_dvc(&repo, "head", &["r"], &[]);
    assert_eq!(head.our_file_count(), 3, "{}", head.git_dvc.describe());
    assert_same_status(&repo, &["status", "-c"], &head.ours[0], &head.theirs[0]);
    let all = compare_push_with_dvc(&repo, "all", &["r"], &["-a"]);
    assert_eq!(all.our_file_count(), 5, "{}", all.git_dvc.describe());
    assert_same_status(&repo, &["status", "-c", "-a"], &all.ours[0], &all.theirs[0]);

    // The server check accepts it (a Windows client reads `a\b.txt` as `a/b.txt`: inside).
    repo.set_local_remotes(&[("r", &server.storage)]);
    repo.git_dvc(&["push", "-a", "-q"]);
    repo.git_dvc(&["check", "-a", "-q"]);
    assert_push_accepted(&repo, &server);

    // And real `dvc pull` restores it from what git-dvc pushed.
    let (clone, pull) = fresh_clone_pull(&env, &server.bare.dir, "clone", &server.storage);
    pull.assert_success();
    assert_eq!(clone.read("bs/a\\b.txt"), b"back\n");
    assert_eq!(clone.read("bs/n.txt"), b"plain\n");
}

/// `..\escape.txt` is a legal POSIX name (DVC adds, pushes and pulls it there), but a
/// Windows client would write it outside the directory. git-dvc's client commands follow
/// DVC on this platform; the server check, which vouches for every client, refuses it.
#[test]
fn names_that_escape_on_windows_are_refused_by_the_server_check() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.write("w/..\\escape.txt", "escape\n");
    repo.write("w/ok.txt", "ok\n");
    repo.dvc(&["add", "-q", "w"]);
    repo.commit_all("a name that escapes on Windows");

    let c = compare_push_with_dvc(&repo, "posix", &["r"], &[]);
    assert_eq!(c.our_file_count(), 3, "{}", c.git_dvc.describe());

    repo.set_local_remotes(&[("r", &server.storage)]);
    repo.git_dvc(&["push", "-q"]);
    let needle = "contains a '..' component on Windows";
    assert_check_fails(&repo, needle);
    assert_push_rejected(&repo, &server, needle);
}
