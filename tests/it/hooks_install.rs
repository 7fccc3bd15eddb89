//! `git dvc install` / `git dvc uninstall`: where the hook goes (`git rev-parse --git-path
//! hooks`, so `core.hooksPath` and linked worktrees work), what it refuses to overwrite,
//! chaining with an existing hook (git-lfs's in particular: git's stdin is read once and
//! both hooks must see it), uninstalling, and failing closed without git-dvc on PATH.
//! Adapted from git-lfs's `t/t-install.sh`, `t/t-install-custom-hooks-path.sh` and
//! `t/t-uninstall*.sh`. Pushes are real `git push`es to a real bare repository.

use crate::common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use common::*;

/// The hook as shipped.
const HOOK: &str = include_str!("../../hooks/pre-push");
const CHAINED: &str = "pre-push.before-git-dvc";
/// The checkout hooks as shipped, by name.
const CHECKOUT_HOOKS: [(&str, &str); 3] = [
    ("post-checkout", include_str!("../../hooks/post-checkout")),
    ("post-merge", include_str!("../../hooks/post-merge")),
    ("post-rewrite", include_str!("../../hooks/post-rewrite")),
];

/// git-lfs's pre-push hook, exactly as `git lfs install` writes it (lfs/hook.go).
const GIT_LFS_HOOK: &str = "#!/bin/sh\n\
command -v git-lfs >/dev/null 2>&1 || { printf >&2 \"\\n%s\\n\\n\" \"This repository is configured for Git LFS but 'git-lfs' was not found on your path. If you no longer wish to use Git LFS, remove this hook by deleting the 'pre-push' file in the hooks directory (set by 'core.hookspath'; usually '.git/hooks').\"; exit 2; }\n\
git lfs pre-push \"$@\"\n";

fn hooks_dir(repo: &Repo<'_>) -> PathBuf {
    PathBuf::from(repo.git(&["rev-parse", "--absolute-git-dir"]).trim()).join("hooks")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A DVC repository whose default remote `r` points at `storage`, with a bare `origin`.
/// The hook is NOT installed.
fn client(env: &TestEnv) -> (Repo<'_>, Repo<'_>, PathBuf) {
    let server = env.bare_repo("server.git");
    let repo = env.dvc_repo_with_remote("work");
    let storage = env.path("storage");
    repo.set_local_remotes(&[("r", &storage)]);
    repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    (repo, server, storage)
}

#[track_caller]
fn assert_is_our_hook(path: &Path) {
    assert_eq!(
        read(path),
        HOOK,
        "{} is not the shipped hook",
        path.display()
    );
    assert_eq!(file_mode(path), 0o755, "{}", path.display());
}

#[test]
fn install_writes_the_shipped_hook_with_mode_0755() {
    let env = TestEnv::new();
    let repo = env.git_repo("repo");
    let hook = repo.path(".git/hooks/pre-push");
    let run = repo.git_dvc(&["install"]);
    let hooks = repo.path(".git/hooks");
    run.assert_stdout_is(&format!(
        "git-dvc pre-push hook installed in {h}/pre-push\n\
         git-dvc post-checkout hook installed in {h}/post-checkout\n\
         git-dvc post-merge hook installed in {h}/post-merge\n\
         git-dvc post-rewrite hook installed in {h}/post-rewrite",
        h = hooks.display()
    ));
    assert_is_our_hook(&hook);
    for (name, script) in CHECKOUT_HOOKS {
        assert_eq!(read(&hooks.join(name)), script);
        assert_eq!(file_mode(&hooks.join(name)), 0o755);
        assert!(script.starts_with("#!/bin/sh\n") && script.ends_with('\n'));
    }
    assert!(HOOK.starts_with("#!/bin/sh\n") && HOOK.ends_with('\n'));

    // Again: recognised, left alone, from a sub-directory too.
    fs::create_dir_all(repo.path("a/b")).unwrap();
    let run = env.git_dvc(&repo.path("a/b"), &["install"]);
    assert!(
        run.stdout.contains("already installed"),
        "{}",
        run.describe()
    );
    assert_is_our_hook(&hook);
    assert!(!repo.path("a/b/.git").exists());

    // Outside a repository: an error, nothing written.
    let outside = env.mkdir("not-a-repo");
    let run = env.try_git_dvc(&outside, &["install"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("ERROR: not inside a git repository");
    assert!(fs::read_dir(&outside).unwrap().next().is_none());
}

/// Outdated copies of our own hook (every version git-dvc shipped) are upgraded in place.
#[test]
fn install_upgrades_an_older_git_dvc_hook() {
    let env = TestEnv::new();
    let repo = env.git_repo("repo");
    let hook = repo.path(".git/hooks/pre-push");
    for old in [
        include_str!("../../hooks/previous/pre-push.1"),
        include_str!("../../hooks/previous/pre-push.2"),
    ] {
        write_script(&hook, old);
        repo.git_dvc(&["install"]);
        assert_is_our_hook(&hook);
    }
}

/// A hand-written hook that runs git-dvc after its own checks (and so mentions git-dvc's
/// marker line) is somebody's work: install refuses it, uninstall leaves it, on the client
/// and on the server.
#[test]
fn a_hand_written_hook_mentioning_git_dvc_is_never_replaced_or_removed() {
    let env = TestEnv::new();
    let repo = env.git_repo("repo");
    let hook = repo.path(".git/hooks/pre-push");
    let mine =
        "#!/bin/sh\nmake test || exit 1\n# git-dvc pre-push hook\nexec git-dvc pre-push \"$@\"\n";
    write_script(&hook, mine);
    let run = repo.try_git_dvc(&["install"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("hook already exists");
    assert_eq!(fs::read_to_string(&hook).unwrap(), mine);
    let run = repo.try_git_dvc(&["uninstall"]);
    assert!(!run.success(), "{}", run.describe());
    assert_eq!(fs::read_to_string(&hook).unwrap(), mine);

    let server = env.bare_repo("server.git");
    let hook = server.path("hooks/pre-receive");
    let policy = "#!/bin/sh\ninput=$(cat)\nprintf '%s\\n' \"$input\" | /opt/policy/check || exit 1\n# git-dvc pre-receive hook (second)\nprintf '%s\\n' \"$input\" | git-dvc pre-receive\n";
    write_script(&hook, policy);
    let run = server.try_git_dvc(&["install", "--server"]);
    assert!(!run.success(), "{}", run.describe());
    assert_eq!(fs::read_to_string(&hook).unwrap(), policy);
    // An older shipped server hook is ours to upgrade.
    write_script(&hook, include_str!("../../hooks/previous/pre-receive.1"));
    server.git_dvc(&["install", "--server"]);
    assert_eq!(fs::read_to_string(&hook).unwrap(), server_hook());
    // So is one installed by another binary (its fallback path differs).
    let other = server_hook_for(Path::new("/opt/git-dvc/bin/git-dvc"));
    write_script(&hook, &other);
    server.git_dvc(&["install", "--server"]);
    assert_eq!(fs::read_to_string(&hook).unwrap(), server_hook());
}

/// Pushes through the hook and asserts the data reached `storage`.
#[track_caller]
fn push_and_check(repo: &Repo<'_>, server: &Repo<'_>, storage: &Path, branch: &str) {
    let oid = repo.dvc_add_file(
        &format!("{branch}.txt"),
        format!("data pushed on {branch}\n"),
    );
    let head = repo.commit_all(branch);
    let run = repo.try_git(&["push", "origin", &format!("HEAD:refs/heads/{branch}")]);
    run.assert_success()
        .assert_stderr_contains("git-dvc: 1 file pushed to DVC remote 'r'");
    assert!(remote_has(storage, &oid, false), "{}", run.describe());
    check_remote(storage, RemoteCheck::Complete);
    assert_eq!(server.try_rev_parse(branch).as_deref(), Some(&*head));
}

/// git-lfs t-install-custom-hooks-path: a relative `core.hooksPath` (relative to the work
/// tree root, where hooks run), installed from a sub-directory.
#[test]
fn core_hooks_path_relative_end_to_end() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    repo.git(&["config", "core.hooksPath", ".githooks"]);
    fs::create_dir_all(repo.path("sub/dir")).unwrap();
    let run = env.git_dvc(&repo.path("sub/dir"), &["install"]);
    let hook = repo.path(".githooks/pre-push");
    let printed = run.stdout_lines()[0]
        .strip_prefix("git-dvc pre-push hook installed in ")
        .unwrap_or_else(|| panic!("{}", run.describe()));
    // (printed as `sub/dir/../../.githooks/pre-push`: the same file)
    assert_eq!(
        fs::canonicalize(printed).unwrap(),
        hook,
        "{}",
        run.describe()
    );
    assert_is_our_hook(&hook);
    assert!(!repo.path(".git/hooks/pre-push").exists());
    assert!(!repo.path("sub/dir/.githooks").exists());
    push_and_check(&repo, &server, &storage, "relative");
}

#[test]
fn core_hooks_path_absolute_end_to_end() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    let shared = env.path("shared-hooks");
    repo.git(&["config", "core.hooksPath", shared.to_str().unwrap()]);
    repo.git_dvc(&["install"]);
    assert_is_our_hook(&shared.join("pre-push"));
    assert!(!repo.path(".git/hooks/pre-push").exists());
    push_and_check(&repo, &server, &storage, "absolute");
}

/// A linked worktree shares the main repository's hooks directory; installing from the
/// worktree writes it there, and pushing from the worktree uploads the worktree's data.
#[test]
fn linked_worktree_end_to_end() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    let wt_dir = env.path("linked");
    repo.git(&[
        "worktree",
        "add",
        "-q",
        "-b",
        "wt",
        wt_dir.to_str().unwrap(),
    ]);
    let wt = env.repo_at(&wt_dir);
    assert!(
        wt.path(".git").is_file(),
        "a linked worktree has a .git file"
    );
    wt.set_local_remotes(&[("r", &storage)]);
    let run = wt.git_dvc(&["install"]);
    let hook = repo.path(".git/hooks/pre-push");
    assert!(
        run.stdout.contains(hook.to_str().unwrap()),
        "{}",
        run.describe()
    );
    assert_is_our_hook(&hook);
    push_and_check(&wt, &server, &storage, "wt");
    // And from the main work tree, the same hook.
    push_and_check(&repo, &server, &storage, "main");
}

#[test]
fn refuses_an_unknown_hook_and_force_replaces_it() {
    let env = TestEnv::new();
    let repo = env.git_repo("repo");
    let hook = repo.path(".git/hooks/pre-push");
    let custom = "#!/bin/sh\necho 'my own checks'\nexit 0\n";
    write_script(&hook, custom);

    let run = repo.try_git_dvc(&["install"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("hook already exists")
        .assert_stderr_contains(hook.to_str().unwrap())
        .assert_stderr_contains("my own checks")
        .assert_stderr_contains("--chain")
        .assert_stderr_contains("--force");
    assert_eq!(read(&hook), custom, "left untouched");
    assert!(!repo.path(&format!(".git/hooks/{CHAINED}")).exists());

    repo.git_dvc(&["install", "--force"]);
    assert_is_our_hook(&hook);
    assert!(!repo.path(&format!(".git/hooks/{CHAINED}")).exists());

    // An empty file is not a hook worth keeping: replaced without --force.
    write_script(&hook, "");
    repo.git_dvc(&["install"]);
    assert_is_our_hook(&hook);
}

/// `--chain`: the existing hook is kept, runs first, and gets exactly git's stdin and
/// arguments; git-dvc then gets the same stdin (it uploads the pushed commit's data). A
/// failing chained hook stops the push before git-dvc runs.
#[test]
fn chain_runs_the_existing_hook_first_with_the_same_stdin() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    let hooks = hooks_dir(&repo);
    let record = env.mkdir("record");
    let existing = format!(
        "#!/bin/sh\n\
         printf '%s\\n' \"$*\" > '{r}/args'\n\
         cat > '{r}/stdin'\n\
         find '{s}' -type f 2>/dev/null | wc -l | tr -d ' ' > '{r}/storage-files-before'\n\
         exit \"$(cat '{r}/exit-code' 2>/dev/null || echo 0)\"\n",
        r = record.display(),
        s = storage.display()
    );
    write_script(&hooks.join("pre-push"), &existing);
    let run = repo.git_dvc(&["install", "--chain"]);
    assert!(run.stdout.contains("previous hook"), "{}", run.describe());
    assert_is_our_hook(&hooks.join("pre-push"));
    assert_eq!(read(&hooks.join(CHAINED)), existing);
    assert_eq!(file_mode(&hooks.join(CHAINED)), 0o755);

    let oid = repo.dvc_add_file("data.txt", "chained\n");
    let head = repo.commit_all("data");
    let run = repo.try_git(&["push", "origin", "main"]);
    run.assert_success()
        .assert_stderr_contains("git-dvc: 1 file pushed to DVC remote 'r'");
    assert_eq!(
        read(&record.join("stdin")),
        format!("refs/heads/main {head} refs/heads/main {ZERO_OID}\n")
    );
    assert_eq!(
        read(&record.join("args")),
        format!("origin {}\n", server.dir.display())
    );
    assert_eq!(
        read(&record.join("storage-files-before")).trim(),
        "0",
        "the chained hook runs before git-dvc uploads"
    );
    assert!(remote_has(&storage, &oid, false));
    assert_eq!(server.try_rev_parse("main").as_deref(), Some(&*head));

    // The chained hook fails: the push stops, git-dvc uploads nothing.
    fs::write(record.join("exit-code"), "7\n").unwrap();
    let oid2 = repo.dvc_add_file("data.txt", "chained, refused\n");
    let head2 = repo.commit_all("refused");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(!run.success(), "{}", run.describe());
    assert!(!remote_has(&storage, &oid2, false));
    assert_eq!(server.try_rev_parse("main").as_deref(), Some(&*head));
    assert!(read(&record.join("stdin")).contains(&head2));
}

/// A git-lfs pre-push hook is chained without asking; a stand-in `git-lfs` on PATH records
/// what `git lfs pre-push` received: the same ref list git-dvc acted on.
#[test]
fn git_lfs_hook_is_chained_automatically() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    let hooks = hooks_dir(&repo);
    write_script(&hooks.join("pre-push"), GIT_LFS_HOOK);
    let record = env.mkdir("lfs-record");
    let fake_bin = env.mkdir("fake-bin");
    write_script(
        &fake_bin.join("git-lfs"),
        &format!(
            "#!/bin/sh\n\
             # stand-in for git-lfs: records what `git lfs pre-push` gets\n\
             [ \"$1\" = pre-push ] || exit 0\n\
             shift\n\
             printf '%s\\n' \"$*\" > '{r}/args'\n\
             cat > '{r}/stdin'\n",
            r = record.display()
        ),
    );

    let run = repo.git_dvc(&["install"]);
    assert!(run.stdout.contains("previous hook"), "{}", run.describe());
    assert_is_our_hook(&hooks.join("pre-push"));
    assert_eq!(read(&hooks.join(CHAINED)), GIT_LFS_HOOK);

    let oid = repo.dvc_add_file("data.txt", "beside git-lfs\n");
    repo.git(&["branch", "second"]);
    let head = repo.commit_all("data");
    let path = env.path_with(&[&fake_bin]);
    let run = repo.try_git_with_env(
        &["push", "origin", "main", "second"],
        &[("PATH", path.as_os_str())],
    );
    run.assert_success()
        .assert_stderr_contains("git-dvc: 1 file pushed to DVC remote 'r'");
    let second = repo.rev_parse("second");
    assert_eq!(
        read(&record.join("stdin")),
        format!(
            "refs/heads/main {head} refs/heads/main {ZERO_OID}\n\
             refs/heads/second {second} refs/heads/second {ZERO_OID}\n"
        ),
        "git-lfs got git's whole ref list"
    );
    assert_eq!(
        read(&record.join("args")),
        format!("origin {}\n", server.dir.display())
    );
    assert!(remote_has(&storage, &oid, false), "git-dvc got it too");

    // Uninstall gives git-lfs its hook back, byte for byte.
    let run = repo.git_dvc(&["uninstall"]);
    assert!(
        run.stdout.contains("previous hook is back"),
        "{}",
        run.describe()
    );
    assert_eq!(read(&hooks.join("pre-push")), GIT_LFS_HOOK);
    assert!(!hooks.join(CHAINED).exists());
}

#[test]
fn uninstall_removes_only_git_dvc_hooks() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    let hooks = hooks_dir(&repo);
    let hook = hooks.join("pre-push");

    let run = repo.git_dvc(&["uninstall"]);
    run.assert_stdout_is("no git-dvc hooks installed");

    repo.git_dvc(&["install"]);
    let run = repo.git_dvc(&["uninstall"]);
    assert!(run.stdout.contains("removed"), "{}", run.describe());
    assert!(!hook.exists());

    let custom = "#!/bin/sh\nexit 0\n";
    write_script(&hook, custom);
    let run = repo.try_git_dvc(&["uninstall"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("not git-dvc's hook");
    assert_eq!(read(&hook), custom);

    repo.git_dvc(&["install", "--chain"]);
    repo.git_dvc(&["uninstall"]);
    assert_eq!(read(&hook), custom, "the chained hook is restored");
    assert_eq!(file_mode(&hook), 0o755);
    assert!(!hooks.join(CHAINED).exists());

    // Gone for real: a push no longer uploads anything.
    repo.dvc_add_file("data.txt", "after uninstall\n");
    let head = repo.commit_all("data");
    repo.git(&["push", "-q", "origin", "main"]);
    assert_eq!(server.try_rev_parse("main").as_deref(), Some(&*head));
    assert!(!storage.exists());
}

/// git-lfs moved from fail-open to fail-closed on purpose: without git-dvc on PATH the
/// hook stops the push and says why.
#[test]
fn hook_fails_closed_without_git_dvc_on_path() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    repo.git_dvc(&["install"]);
    repo.git(&["push", "-q", "origin", "main"]);
    let base = server.rev_parse("main");
    repo.dvc_add_file("data.txt", "no git-dvc\n");
    let head = repo.commit_all("data");

    let path = env.path_without_git_dvc();
    let run = repo.try_git_with_env(&["push", "origin", "main"], &[("PATH", path.as_os_str())]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("'git-dvc' was not found on your PATH")
        .assert_stderr_contains("git dvc uninstall");
    assert_eq!(server.rev_parse("main"), base);
    assert!(!server.has_object(&head));
    assert!(!storage.exists());

    // Back on PATH, the same push goes through.
    let run = repo.try_git_with_env(
        &["push", "origin", "main"],
        &[("GIT_DVC_SKIP_PUSH", OsStr::new("0"))],
    );
    run.assert_success();
    assert_eq!(server.rev_parse("main"), head);
}

/// A hook git can run that is not UTF-8 text: a shell script with Latin-1 bytes in a
/// comment (it records its arguments and stdin like the chained hook above).
fn binary_hook(record: &Path) -> Vec<u8> {
    let mut bytes = b"#!/bin/sh\n# d\xe9j\xe0 vu: not UTF-8 \xff\xfe\x00\n".to_vec();
    bytes.extend_from_slice(
        format!(
            "printf '%s\\n' \"$*\" > '{r}/args'\ncat > '{r}/stdin'\n",
            r = record.display()
        )
        .as_bytes(),
    );
    assert!(String::from_utf8(bytes.clone()).is_err());
    bytes
}

fn write_binary_hook(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Security issue 14: a hook that is not UTF-8 (a compiled hook) was overwritten without
/// `--force` and without a backup. It is refused like any hook git-dvc does not recognise,
/// chained with `--chain` (run first, with git's arguments and stdin), and given back byte
/// for byte by `uninstall`.
#[test]
fn binary_hook_is_refused_chained_and_restored() {
    let env = TestEnv::new();
    let (repo, server, storage) = client(&env);
    let hooks = hooks_dir(&repo);
    let hook = hooks.join("pre-push");
    let record = env.mkdir("record");
    let bytes = binary_hook(&record);
    write_binary_hook(&hook, &bytes);

    let run = repo.try_git_dvc(&["install"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("hook already exists")
        .assert_stderr_contains(hook.to_str().unwrap())
        .assert_stderr_contains(&format!("not a text file: {} bytes", bytes.len()))
        .assert_stderr_contains("--chain")
        .assert_stderr_contains("--force");
    assert_eq!(fs::read(&hook).unwrap(), bytes, "left untouched");
    assert!(!hooks.join(CHAINED).exists());

    // uninstall leaves a hook that is not git-dvc's alone.
    let run = repo.try_git_dvc(&["uninstall"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("not git-dvc's hook");
    assert_eq!(fs::read(&hook).unwrap(), bytes);

    let run = repo.git_dvc(&["install", "--chain"]);
    assert!(run.stdout.contains("previous hook"), "{}", run.describe());
    assert_is_our_hook(&hook);
    assert_eq!(fs::read(hooks.join(CHAINED)).unwrap(), bytes);
    assert_eq!(file_mode(&hooks.join(CHAINED)), 0o755);

    let oid = repo.dvc_add_file("data.txt", "beside a binary hook\n");
    let head = repo.commit_all("data");
    let run = repo.try_git(&["push", "origin", "main"]);
    run.assert_success()
        .assert_stderr_contains("git-dvc: 1 file pushed to DVC remote 'r'");
    assert_eq!(
        read(&record.join("stdin")),
        format!("refs/heads/main {head} refs/heads/main {ZERO_OID}\n")
    );
    assert_eq!(
        read(&record.join("args")),
        format!("origin {}\n", server.dir.display())
    );
    assert!(remote_has(&storage, &oid, false));

    let run = repo.git_dvc(&["uninstall"]);
    assert!(
        run.stdout.contains("previous hook is back"),
        "{}",
        run.describe()
    );
    assert_eq!(fs::read(&hook).unwrap(), bytes, "restored byte for byte");
    assert_eq!(file_mode(&hook), 0o755);
    assert!(!hooks.join(CHAINED).exists());

    // --force still replaces it, when asked.
    repo.git_dvc(&["install", "--force"]);
    assert_is_our_hook(&hook);
}

/// The server side of issue 14: a binary pre-receive hook is refused, kept, and replaced
/// only with `--force`.
#[test]
fn binary_pre_receive_hook_is_refused_without_force() {
    let env = TestEnv::new();
    let bare = env.bare_repo("server.git");
    let hook = bare.dir.join("hooks/pre-receive");
    let bytes = binary_hook(&env.mkdir("record"));
    write_binary_hook(&hook, &bytes);

    let run = env.try_git_dvc(&bare.dir, &["install", "--server"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("hook already exists")
        .assert_stderr_contains(hook.to_str().unwrap())
        .assert_stderr_contains("not a text file")
        .assert_stderr_contains("--server --force");
    assert_eq!(fs::read(&hook).unwrap(), bytes, "left untouched");

    env.git_dvc(&bare.dir, &["install", "--server", "--force"]);
    assert!(read(&hook).contains("# git-dvc pre-receive hook"));
}

/// A hook that exists but cannot be read (here a dangling symlink, which git would try to
/// run) is not mistaken for no hook.
#[test]
fn unreadable_hook_is_not_overwritten() {
    let env = TestEnv::new();
    let repo = env.git_repo("repo");
    let hooks = hooks_dir(&repo);
    fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("pre-push");
    std::os::unix::fs::symlink("/nonexistent/team-hook", &hook).unwrap();
    let run = repo.try_git_dvc(&["install"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("cannot read the existing hook")
        .assert_stderr_contains(hook.to_str().unwrap());
    assert_eq!(
        fs::read_link(&hook).unwrap(),
        Path::new("/nonexistent/team-hook")
    );
}

/// Every checkout hook is chained like pre-push: an existing hook (here one that records
/// its arguments and stdin) is kept with `--chain`, runs first with git's arguments (and
/// post-rewrite's stdin), git-dvc's runs after it, and `uninstall` gives it back byte for
/// byte. A git-lfs post-checkout hook is chained without asking.
#[test]
fn checkout_hooks_chain_like_pre_push_and_uninstall_restores_them() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let hooks = hooks_dir(&repo);
    let record = env.mkdir("record");
    let mine = |name: &str| {
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{r}/{name}.args'\ncat >> '{r}/{name}.stdin'\n",
            r = record.display()
        )
    };
    for (name, _) in CHECKOUT_HOOKS {
        write_script(&hooks.join(name), &mine(name));
    }
    // Refused, and nothing written (not even pre-push).
    let run = repo.try_git_dvc(&["install"]);
    assert!(!run.success(), "{}", run.describe());
    for (name, _) in CHECKOUT_HOOKS {
        run.assert_stderr_contains(&format!(
            "hook already exists: {}",
            hooks.join(name).display()
        ));
        assert_eq!(read(&hooks.join(name)), mine(name));
    }
    run.assert_stderr_contains("Nothing was installed");
    assert!(!hooks.join("pre-push").exists());

    let run = repo.git_dvc(&["install", "--chain"]);
    for (name, script) in CHECKOUT_HOOKS {
        assert_eq!(read(&hooks.join(name)), script);
        assert_eq!(
            read(&hooks.join(format!("{name}.before-git-dvc"))),
            mine(name)
        );
        assert!(run
            .stdout
            .contains(&format!("git-dvc {name} hook installed")));
    }
    assert!(run.stdout.contains("previous hook"), "{}", run.describe());

    // git runs them: the chained hooks see git's arguments and stdin; git-dvc's run too
    // (git dvc add's data.txt comes and goes with its branch).
    let before = repo.rev_parse("HEAD");
    repo.git(&["checkout", "-q", "-b", "side"]);
    repo.dvc_add_file("data.txt", "side data\n");
    let side = repo.commit_all("side data");
    let run = repo.try_git(&["checkout", "main"]);
    run.assert_success()
        .assert_stderr_contains("D       data.txt");
    assert!(!repo.path("data.txt").exists());
    let run = repo.try_git(&["merge", "--ff-only", "side"]);
    run.assert_success()
        .assert_stderr_contains("A       data.txt");
    repo.git(&["commit", "-q", "--amend", "-m", "amended"]);
    let amended = repo.rev_parse("HEAD");
    assert_eq!(
        read(&record.join("post-checkout.args")),
        format!("{before} {before} 1\n{side} {before} 1\n")
    );
    assert_eq!(read(&record.join("post-merge.args")), "0\n");
    assert_eq!(read(&record.join("post-rewrite.args")), "amend\n");
    assert_eq!(
        read(&record.join("post-rewrite.stdin")),
        format!("{side} {amended}\n")
    );

    let run = repo.git_dvc(&["uninstall"]);
    for (name, _) in CHECKOUT_HOOKS {
        assert_eq!(read(&hooks.join(name)), mine(name), "{name} restored");
        assert!(!hooks.join(format!("{name}.before-git-dvc")).exists());
    }
    assert!(
        run.stdout.contains("previous hook is back"),
        "{}",
        run.describe()
    );
    assert!(!hooks.join("pre-push").exists());

    // git-lfs's post-checkout hook: chained without --chain.
    let lfs = "#!/bin/sh\ncommand -v git-lfs >/dev/null 2>&1 || { printf >&2 \"\\n%s\\n\\n\" \"This repository is configured for Git LFS but 'git-lfs' was not found on your path.\"; exit 2; }\ngit lfs post-checkout \"$@\"\n";
    for (name, _) in CHECKOUT_HOOKS {
        fs::remove_file(hooks.join(name)).unwrap();
    }
    write_script(&hooks.join("post-checkout"), lfs);
    repo.git_dvc(&["install"]);
    assert_eq!(read(&hooks.join("post-checkout.before-git-dvc")), lfs);
}

/// DVC's own hooks (`dvc install`: post-checkout, pre-commit, pre-push running `dvc
/// git-hook`) are refused with a word on what they are; `--force` replaces the two
/// git-dvc covers and leaves DVC's pre-commit alone. `--hook` installs one hook only, and
/// `--print --hook` prints any of them.
#[test]
fn dvc_own_hooks_are_named_and_hook_selects() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    let hooks = hooks_dir(&repo);
    repo.dvc(&["install"]);
    let dvc_post_checkout = read(&hooks.join("post-checkout"));
    assert!(dvc_post_checkout.contains("dvc git-hook post-checkout"));
    let run = repo.try_git_dvc(&["install"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("DVC's own hook, from `dvc install`")
        .assert_stderr_contains(hooks.join("pre-push").to_str().unwrap())
        .assert_stderr_contains(hooks.join("post-checkout").to_str().unwrap());
    assert_eq!(read(&hooks.join("post-checkout")), dvc_post_checkout);
    assert!(!hooks.join("post-merge").exists(), "nothing written");

    repo.git_dvc(&["install", "--force"]);
    assert_is_our_hook(&hooks.join("pre-push"));
    for (name, script) in CHECKOUT_HOOKS {
        assert_eq!(read(&hooks.join(name)), script);
    }
    assert!(read(&hooks.join("pre-commit")).contains("dvc git-hook pre-commit"));
    repo.git_dvc(&["uninstall"]);
    assert!(!hooks.join("post-checkout").exists());
    assert!(read(&hooks.join("pre-commit")).contains("dvc git-hook pre-commit"));

    // --hook: one hook only.
    let run = repo.git_dvc(&["install", "--hook", "pre-push"]);
    run.assert_stdout_is(&format!(
        "git-dvc pre-push hook installed in {}",
        hooks.join("pre-push").display()
    ));
    assert!(!hooks.join("post-checkout").exists());
    let run = repo.git_dvc(&["install", "--print", "--hook", "post-rewrite"]);
    assert_eq!(run.stdout, CHECKOUT_HOOKS[2].1);
    let run = repo.try_git_dvc(&[
        "install",
        "--print",
        "--hook",
        "post-merge",
        "--hook",
        "pre-push",
    ]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("give --hook once");
}
