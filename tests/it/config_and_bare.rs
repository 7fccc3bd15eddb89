//! Where the data goes: relative remote URLs (also in multi-revision mode,
//! where DVC 3.67.1 wrongly resolves them against `/`), each revision's
//! committed config, and bare repositories.

use crate::common;

use std::fs;
use std::path::Path;

use common::*;

fn obj(content: &str) -> String {
    md5_hex(content.as_bytes())
}

/// True if `path` did not exist before and does now (so we can say "git-dvc
/// wrote to the filesystem root" without tripping over a machine that has
/// such a directory for other reasons).
fn created(path: &Path, existed_before: bool) -> bool {
    !existed_before && path.exists()
}

/// Name of the remote directory next to the work repository. Unusual, so
/// that a url wrongly resolved against `/` (DVC 3.67.1's multi-revision bug)
/// is noticed, and cleaned up, without touching anything else.
const REL_REMOTE: &str = "git-dvc-test-relative-remote";

#[test]
fn relative_url_resolves_against_the_config_dir_in_every_mode() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("work/repo");
    // Run from the repo root, DVC stores ../X as ../../X in .dvc/config.
    repo.dvc(&["remote", "add", "-d", "r", &format!("../{REL_REMOTE}")]);
    let config = String::from_utf8(repo.read(".dvc/config")).unwrap();
    assert!(
        config.contains(&format!("url = ../../{REL_REMOTE}")),
        "{config}"
    );
    repo.write("a.txt", "a\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("a");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("a.txt", "other\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    repo.dvc(&["checkout", "-q", "--force"]);

    let expected_remote = env.path(&format!("work/{REL_REMOTE}"));
    let root_remote = Path::new("/").join(REL_REMOTE);
    let root_existed = root_remote.exists();
    let check_root = || {
        if created(&root_remote, root_existed) {
            make_writable(&root_remote);
            let _ = fs::remove_dir_all(&root_remote);
            panic!(
                "git-dvc resolved the relative url against / (wrote {})",
                root_remote.display()
            );
        }
    };

    let run = repo.git_dvc(&["push"]);
    check_root();
    run.assert_stdout_is("1 file pushed");
    assert!(remote_has(&expected_remote, &obj("a\n"), false));

    let run = repo.git_dvc(&["push", "-a"]);
    check_root();
    run.assert_stdout_is("1 file pushed");
    assert!(
        remote_has(&expected_remote, &obj("other\n"), false),
        "with -a a relative url must still resolve against .dvc/ (not /)"
    );
    check_remote(&expected_remote, RemoteCheck::Complete);

    // From a sub-directory: still relative to .dvc/, not to the cwd.
    fs::create_dir_all(repo.path("sub/dir")).unwrap();
    let run = env.git_dvc(&repo.path("sub/dir"), &["push", "-a"]);
    check_root();
    run.assert_stdout_is("Everything is up to date.");
    assert!(!repo.path(REL_REMOTE).exists() && !repo.path(&format!("sub/{REL_REMOTE}")).exists());
}

/// DVC sends each revision's data where that revision's committed config points. git-dvc
/// refuses a revision whose config points a remote somewhere the user's configuration does
/// not (security: a commit from anyone must not choose where data and credentials go);
/// `dvc.trustCommittedRemotes` gives DVC's behaviour, byte for byte.
#[test]
fn each_revision_uses_its_committed_remote_url_like_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let old_url = env.path("old-remote");
    let new_url = env.path("new-remote");
    repo.dvc(&["remote", "add", "-d", "r", old_url.to_str().unwrap()]);
    repo.write("a.txt", "old\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("old");
    repo.git(&["tag", "old"]);
    repo.dvc(&["remote", "modify", "r", "url", new_url.to_str().unwrap()]);
    repo.write("a.txt", "new\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("new");

    let refused = repo.try_git_dvc(&["push", "-T"]);
    refused.assert_code(1);
    refused.assert_stderr_contains(&format!(
        "the .dvc/config of revision old points DVC remote 'r' (used for 'a.txt') at '{}', but your configuration points it at '{}'",
        old_url.display(),
        new_url.display()
    ));
    assert!(!old_url.exists() && !new_url.exists(), "nothing uploaded");
    repo.git(&["config", "dvc.trustCommittedRemotes", "true"]);

    // git-dvc first; then move its results aside and let DVC do the same.
    let run = repo.git_dvc(&["push", "-T"]);
    let ours_old = env.path("ours/old-remote");
    let ours_new = env.path("ours/new-remote");
    fs::create_dir_all(env.path("ours")).unwrap();
    assert!(
        old_url.exists(),
        "the tag's objects go to the tag's url\n{}",
        run.describe()
    );
    fs::rename(&old_url, &ours_old).unwrap();
    fs::rename(&new_url, &ours_new).unwrap();
    let dvc = repo.dvc(&["push", "-T"]);
    assert_eq!(run.out(), dvc.out());
    assert_same_files("tag's remote (A = git-dvc, B = dvc)", &ours_old, &old_url);
    assert_same_files(
        "work tree's remote (A = git-dvc, B = dvc)",
        &ours_new,
        &new_url,
    );
    assert!(remote_has(&ours_old, &obj("old\n"), false));
    assert!(remote_has(&ours_new, &obj("new\n"), false));
    assert!(!remote_has(&ours_new, &obj("old\n"), false));
}

/// The usual history: data committed before `dvc remote add -d`. The first commit's
/// config names no remote, so its data goes to the work tree's default (DVC 3.67.1 skips
/// it silently, leaving that commit unpullable); a remote the old config lacks, named with
/// `-r`, is found the same way (DVC warns "failed to collect" and skips the commit).
#[test]
fn revisions_without_the_remote_use_the_work_trees() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    repo.write("a.txt", "before the remote\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("data first");
    let remote = env.path("remote");
    repo.dvc(&["remote", "add", "-d", "r", remote.to_str().unwrap()]);
    repo.write("a.txt", "after the remote\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("then a remote");

    let status = repo.git_dvc(&["status", "-c", "-A"]);
    status.assert_stdout_contains_all(&["new:", "a.txt"]);
    repo.git_dvc(&["push", "-A"])
        .assert_stdout_is(&pushed_line(2));
    assert!(remote_has(&remote, &obj("before the remote\n"), false));
    assert!(remote_has(&remote, &obj("after the remote\n"), false));
    repo.git_dvc(&["status", "-c", "-A"])
        .assert_stdout_is(&in_sync_line("r"));

    fs::remove_dir_all(&remote).unwrap();
    repo.git_dvc(&["push", "-A", "-r", "r"])
        .assert_stdout_is(&pushed_line(2));
    assert!(remote_has(&remote, &obj("before the remote\n"), false));

    // What DVC does with the same history: only the second commit's data.
    fs::remove_dir_all(&remote).unwrap();
    repo.dvc(&["push", "-A"]).assert_stdout_is(&pushed_line(1));
    assert!(!remote_has(&remote, &obj("before the remote\n"), false));
}

const BARE_REMOTE: &str = "git-dvc-test-bare-remote";

/// Bare repositories have no work tree and no `.dvc/config.local`. git-dvc
/// treats the bare repository directory as the repository root: the
/// committed `.dvc/config` is taken to live at `<bare>/.dvc/config`, so a
/// relative url resolves against `<bare>/.dvc/` — `../../X` in
/// `srv/repo.git` means `srv/X`, just as it means `work/X` for the work
/// repository at `work/repo`. The cache is the committed `cache.dir`
/// (here an absolute path shared by both).
#[test]
fn bare_repository_push_uses_committed_config() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("work/repo");
    let cache = env.path("shared-cache");
    repo.dvc(&["cache", "dir", cache.to_str().unwrap()]);
    repo.dvc(&["remote", "add", "-d", "r", &format!("../{BARE_REMOTE}")]);
    let config = String::from_utf8(repo.read(".dvc/config")).unwrap();
    assert!(
        config.contains(&format!("url = ../../{BARE_REMOTE}")),
        "{config}"
    );
    assert!(config.contains(cache.to_str().unwrap()), "{config}");
    repo.write("a.txt", "a\n");
    repo.write("d/x", "x\n");
    repo.write("d/y/z", "z\n");
    repo.dvc(&["add", "-q", "a.txt", "d"]);
    repo.commit_all("data");
    repo.git(&["checkout", "-q", "-b", "other"]);
    repo.write("b.txt", "b on other\n");
    repo.dvc(&["add", "-q", "b.txt"]);
    repo.commit_all("other");
    repo.git(&["checkout", "-q", "main"]);
    assert!(
        cache.join("files/md5").is_dir(),
        "data went to the shared cache"
    );

    let bare = env.path("srv/repo.git");
    env.git(
        env.root(),
        &[
            "clone",
            "-q",
            "--bare",
            repo.dir.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let bare_remote = env.path(&format!("srv/{BARE_REMOTE}"));
    let root_remote = Path::new("/").join(BARE_REMOTE);
    let root_existed = root_remote.exists();

    let run = env.try_git_dvc(&bare, &["push", "-a"]);
    if created(&root_remote, root_existed) {
        make_writable(&root_remote);
        let _ = fs::remove_dir_all(&root_remote);
        panic!("git-dvc resolved the bare repo's relative url against /");
    }
    run.assert_success().assert_stdout_is(&pushed_line(5));
    assert!(
        !env.path(&format!("work/{BARE_REMOTE}")).exists(),
        "the work repo's remote is not the bare one's"
    );
    check_remote(&bare_remote, RemoteCheck::Complete);
    assert!(remote_has(&bare_remote, &obj("b on other\n"), false));

    // Same files as dvc push -a from the work repository.
    let dvc_remote = env.path("dvc-remote");
    repo.set_local_remotes(&[("r", &dvc_remote)]);
    repo.dvc(&["push", "-a"]);
    assert_same_files("bare (A = git-dvc, B = dvc)", &bare_remote, &dvc_remote);

    // Default mode in a bare repository: HEAD's commit.
    env.git_dvc(&bare, &["push"])
        .assert_stdout_is("Everything is up to date.");
    env.git_dvc(&bare, &["status", "-c", "-a"])
        .assert_stdout_is(&in_sync_line("r"));
    // Also run as `git dvc` with GIT_DIR-style discovery from the bare dir.
    let via_git = env.try_git(&bare, &["dvc", "push", "-a"]);
    via_git
        .assert_success()
        .assert_stdout_is("Everything is up to date.");
}
