//! Bad local caches: a cache object whose bytes do not match its name is
//! never uploaded; a directory whose member is missing from the cache keeps
//! its `.dir` off the remote, with DVC's warning.

use crate::common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

/// Rewrites a cache object with other bytes of the same length, first making
/// it writable, and sets its mode afterwards.
fn corrupt(path: &Path, mode: u32) {
    let mut bytes = fs::read(path).unwrap();
    assert!(!bytes.is_empty());
    bytes[0] ^= 0xff;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(path, &bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn corrupt_cache_objects_are_refused() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("good.txt", "good\n");
    repo.write("bad-writable.txt", "bad, left writable\n");
    repo.write("bad-protected.txt", "bad, made read-only again\n");
    repo.write("data/fine.txt", "fine\n");
    repo.write("data/broken.txt", "broken member\n");
    repo.dvc(&[
        "add",
        "-q",
        "good.txt",
        "bad-writable.txt",
        "bad-protected.txt",
        "data",
    ]);
    repo.commit_all("data");

    let bad_w = md5_hex(b"bad, left writable\n");
    let bad_p = md5_hex(b"bad, made read-only again\n");
    let broken = md5_hex(b"broken member\n");
    // The brief's case: writable after the change. Also one set back to 0444,
    // which DVC itself would trust without re-hashing.
    corrupt(&repo.cache_object(&bad_w, false), 0o644);
    corrupt(&repo.cache_object(&bad_p, false), 0o444);
    corrupt(&repo.cache_object(&broken, false), 0o644);
    let dir_oid = common::fixtures::dvc_file_md5(&repo, "data.dvc");

    let run = repo.try_git_dvc(&["push"]);
    assert!(
        !run.success(),
        "a corrupt object must fail the push\n{}",
        run.describe()
    );
    assert_eq!(run.code(), Some(1), "{}", run.describe());
    for (oid, output) in [
        (&bad_w, "bad-writable.txt"),
        (&bad_p, "bad-protected.txt"),
        (&broken, "data"),
    ] {
        run.assert_stderr_contains(oid);
        run.assert_stderr_contains(output);
    }
    // Not "N files pushed": DVC prints no summary when uploads fail.
    assert!(
        parse_pushed_line(run.out()).is_none(),
        "no success summary on failure\n{}",
        run.describe()
    );

    // The corrupt objects are not on the remote; the others are.
    for oid in [&bad_w, &bad_p, &broken] {
        assert!(
            !remote_has(&remote, oid, false),
            "corrupt {oid} was uploaded"
        );
    }
    assert!(remote_has(&remote, &md5_hex(b"good\n"), false));
    assert!(remote_has(&remote, &md5_hex(b"fine\n"), false));
    // A .dir is never uploaded while a member is not.
    assert!(
        !remote_has(&remote, &dir_oid, false),
        "{dir_oid} uploaded without its member"
    );
    check_remote(&remote, RemoteCheck::Complete);

    // status -c names what is still missing.
    let status = repo.git_dvc(&["status", "-c"]);
    assert!(
        status.stdout.contains("bad-writable.txt"),
        "{}",
        status.describe()
    );
}

#[test]
fn a_dir_with_a_member_missing_from_the_cache_is_not_uploaded() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("d/a", "1\n");
    repo.write("d/b", "2\n");
    repo.write("d/c", "3\n");
    repo.write("loose.txt", "loose\n");
    repo.dvc(&["add", "-q", "d", "loose.txt"]);
    repo.commit_all("d");
    let dir_oid = common::fixtures::dvc_file_md5(&repo, "d.dvc");
    let missing = md5_hex(b"2\n");
    fs::remove_file(repo.cache_object(&missing, false)).unwrap();

    // What DVC does with the same cache, for reference.
    let dvc_remote = env.path("dvc-remote");
    repo.set_local_remotes(&[("r", &dvc_remote)]);
    let dvc = repo.dvc(&["push"]);
    dvc.assert_stderr_contains(
        "Some of the cache files do not exist neither locally nor on remote",
    );
    assert!(!remote_has(&dvc_remote, &dir_oid, false));
    fs::remove_file(repo.path(".dvc/config.local")).unwrap();

    let run = repo.try_git_dvc(&["push"]);
    // DVC warns and exits 0.
    run.assert_code(0);
    run.assert_stderr_contains(
        "Some of the cache files do not exist neither locally nor on remote",
    );
    run.assert_stderr_contains(&missing);
    assert!(
        !remote_has(&remote, &dir_oid, false),
        ".dir uploaded with a member missing"
    );
    assert!(!remote_has(&remote, &missing, false));
    for present in ["1\n", "3\n", "loose\n"] {
        assert!(remote_has(&remote, &md5_hex(present.as_bytes()), false));
    }
    check_remote(&remote, RemoteCheck::Complete);
    assert_same_files(
        "missing member (A = git-dvc, B = dvc)",
        &remote,
        &dvc_remote,
    );
    // DVC counts the skipped .dir too (a quirk): accept its count or the true one.
    let n = parse_pushed_line(run.out());
    assert!(
        n == Some(3) || n == parse_pushed_line(dvc.out()),
        "unexpected summary\n{}",
        run.describe()
    );

    // Once the member is back in the cache, a re-run completes the directory.
    fs::write(repo.cache_object(&missing, false), "2\n").unwrap();
    repo.git_dvc(&["push"]).assert_stdout_is(&pushed_line(2));
    assert!(remote_has(&remote, &dir_oid, false));
    check_remote(&remote, RemoteCheck::Complete);
}

#[test]
fn a_dir_missing_from_the_cache_is_reported_not_fatal() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("d/a", "1\n");
    repo.write("other.txt", "other\n");
    repo.dvc(&["add", "-q", "d", "other.txt"]);
    repo.commit_all("d");
    let dir_oid = common::fixtures::dvc_file_md5(&repo, "d.dvc");
    fs::remove_file(repo.cache_object(&dir_oid, false)).unwrap();

    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(0);
    run.assert_stderr_contains(
        "Some of the cache files do not exist neither locally nor on remote",
    );
    run.assert_stderr_contains(&dir_oid);
    assert!(remote_has(&remote, &md5_hex(b"other\n"), false));
    check_remote(&remote, RemoteCheck::Complete);
}

/// Replaces a cache object with a symbolic link to `target`.
fn link_object(path: &Path, target: &Path) {
    fs::set_permissions(path, fs::Permissions::from_mode(0o644)).unwrap();
    fs::remove_file(path).unwrap();
    std::os::unix::fs::symlink(target, path).unwrap();
}

/// Security issue 14: a cache object that is a symbolic link (here to a file outside the
/// cache whose bytes match the name, as `/etc/passwd` would under its own md5) is never
/// followed: it is neither uploaded nor counted as cached, for files and for `.dir`
/// manifests alike. A `cache.dir` that is itself a link keeps working.
#[test]
fn symlinked_cache_objects_are_not_followed() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    let secret = b"root:x:0:0:root:/root:/bin/sh\n";
    let file_oid = repo.dvc_add_file("passwd", secret);
    repo.write("data/member.txt", "member\n");
    repo.dvc(&["add", "-q", "data"]);
    repo.commit_all("data");
    let dir_oid = common::fixtures::dvc_file_md5(&repo, "data.dvc");
    let dir_hex = dir_oid.trim_end_matches(".dir");

    // Outside the cache: files with the very bytes the objects are named after.
    let outside = env.mkdir("outside");
    fs::write(outside.join("passwd"), secret).unwrap();
    let manifest = repo.cache_object(&dir_oid, false);
    fs::copy(&manifest, outside.join("manifest")).unwrap();
    link_object(
        &repo.cache_object(&file_oid, false),
        &outside.join("passwd"),
    );
    link_object(&manifest, &outside.join("manifest"));

    let run = repo.try_git_dvc(&["push"]);
    run.assert_stderr_contains("do not exist neither locally nor on remote")
        .assert_stderr_contains(&file_oid)
        .assert_stderr_contains(dir_hex);
    assert!(!remote_has(&remote, &file_oid, false), "{}", run.describe());
    assert!(!remote_has(&remote, &dir_oid, false), "{}", run.describe());
    assert_eq!(fs::read(outside.join("passwd")).unwrap(), secret);

    // DVC's cache moved to another disk through a link: objects are found and pushed.
    let other_disk = env.path("other-disk");
    fs::rename(repo.path(".dvc/cache"), &other_disk).unwrap();
    std::os::unix::fs::symlink(&other_disk, repo.path(".dvc/cache")).unwrap();
    let file2 = repo.dvc_add_file("plain.txt", "a plain object\n");
    repo.commit_all("plain");
    let run = repo.try_git_dvc(&["push"]);
    assert!(remote_has(&remote, &file2, false), "{}", run.describe());
    assert!(!remote_has(&remote, &file_oid, false), "{}", run.describe());
}
