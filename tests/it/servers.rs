//! The server check where real git servers run it: hand-written hook chains, hooks shared by
//! many repositories, configuration outside the repository, the layouts forges use (Gitea's
//! `pre-receive.d` driver, GitLab's `custom_hooks` under a Gitaly-style `core.hooksPath`,
//! gitolite), and sshd with `git-shell`, where the hook gets the server's PATH.

use crate::common;
use crate::common::receiving_server::{assert_accepted, assert_rejected, client, short, Server};

use common::*;

// ---------------------------------------------------------------------------
// Issue 19 item 1: an empty ref list fails closed.
// ---------------------------------------------------------------------------

/// A hand-written chain whose first hook reads git's ref list leaves git-dvc an empty stdin:
/// the push is refused (never let through unchecked), saying why.
#[test]
fn a_chain_whose_first_hook_eats_stdin_fails_closed() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    write_script(
        &server.bare.dir.join("hooks/pre-receive"),
        "#!/bin/sh\n# a policy check that reads the ref list, then git-dvc\nwhile read old new ref; do :; done\nexec git-dvc pre-receive\n",
    );
    let repo = client(&env, &server);
    let missing = repo.dvc_add_file("data.txt", "never uploaded\n");
    let head = repo.commit_all("data");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &head);
    run.assert_stderr_contains("remote: git-dvc: push rejected")
        .assert_stderr_contains("an earlier hook in the chain probably consumed stdin")
        .assert_stderr_contains("input=$(cat)");
    assert!(!run.stderr.contains(&missing), "{}", run.describe());

    // The same chain done right (each hook gets its own copy) checks the push.
    write_script(
        &server.bare.dir.join("hooks/pre-receive"),
        "#!/bin/sh\ninput=$(cat)\nprintf '%s\\n' \"$input\" | while read old new ref; do :; done || exit 1\nprintf '%s\\n' \"$input\" | exec git-dvc pre-receive\n",
    );
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &head);
    run.assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)));
    repo.git_dvc(&["push", "-q"]);
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
}

// ---------------------------------------------------------------------------
// Issue 19 item 3: safe as a global or shared hook.
// ---------------------------------------------------------------------------

/// No storage configured (a global hook reaching a repository nobody set up for DVC, such
/// as gitolite's admin repository): pushes whose commits reference no DVC data go through;
/// the others are refused with a message for the pusher, which names no server path.
#[test]
fn without_storage_only_pushes_referencing_dvc_data_are_refused() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    std::fs::remove_file(server.bare.dir.join("dvc/config")).unwrap();

    // Plain git: no DVC at all.
    let plain = env.git_repo("plain");
    plain.write("README", "no data here\n");
    let first = plain.commit_all("readme");
    let url = server.bare.dir.to_str().unwrap();
    let run = plain.try_git(&["push", url, "main"]);
    assert_accepted(&run);
    assert_eq!(server.ref_("main").as_deref(), Some(&*first));

    // A DVC project with no tracked data yet (`dvc init`, a stage not yet run).
    let repo = client(&env, &server);
    repo.write(
        "dvc.yaml",
        "stages:\n  train:\n    cmd: python train.py\n    outs:\n    - model.pt\n",
    );
    let init = repo.commit_all("a stage, not run");
    assert_accepted(&repo.try_git(&["push", "origin", "main:project"]));
    assert_eq!(server.ref_("project").as_deref(), Some(&*init));

    // Data: refused, for the pusher, without server paths; a dvc.preReceive.log gets them.
    repo.dvc_add_file("data.txt", "needs storage\n");
    let data = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    let log = env.path("pre-receive.log");
    server.git_config(&["dvc.preReceive.log", log.to_str().unwrap()]);
    let run = repo.try_git(&["push", "origin", "main:project"]);
    assert_rejected(&run, &server, "refs/heads/project", Some(&init), &data);
    run.assert_stderr_contains(
        "remote: git-dvc: push rejected: the server has no DVC storage configured for this repository, so it refuses commits that reference DVC data",
    )
    .assert_stderr_contains("contact the server's administrators");
    assert_no_server_paths(&env, &run);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains(&format!(
            "create {}",
            server.bare.dir.join("dvc/config").display()
        )),
        "{logged}"
    );

    // Configured: the same push goes through.
    server.configure(&[("storage", &server.storage)]);
    assert_accepted(&repo.try_git(&["push", "origin", "main:project"]));
}

/// A server config that cannot be read (here a directory where the file should be: as
/// root, permission bits would not stop the read) is the administrators' problem: pushes
/// without DVC data pass, pushes with it are refused without the server's paths.
#[test]
fn an_unreadable_server_config_refuses_data_without_naming_server_paths() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    let base = repo.rev_parse("HEAD");
    std::fs::remove_file(server.bare.dir.join("dvc/config")).unwrap();
    std::fs::create_dir_all(server.bare.dir.join("dvc/config")).unwrap();
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
    assert_eq!(server.ref_("main").as_deref(), Some(&*base));

    repo.dvc_add_file("data.txt", "data\n");
    let data = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", Some(&base), &data);
    run.assert_stderr_contains(
        "the server's DVC storage config for this repository cannot be read",
    )
    .assert_stderr_contains("contact the server's administrators");
    assert_no_server_paths(&env, &run);
}

/// Nothing the pusher sees names a directory of the server (the test env holds them all).
#[track_caller]
pub(crate) fn assert_no_server_paths(env: &TestEnv, run: &Run) {
    let root = env.root().to_str().unwrap();
    for line in run.stderr.lines().filter(|l| l.starts_with("remote:")) {
        assert!(
            !line.contains(root),
            "a server path reached the pusher: {line}\n{}",
            run.describe()
        );
    }
}

// ---------------------------------------------------------------------------
// Issue 19 item 4: configuration outside the repository.
// ---------------------------------------------------------------------------

/// A server-wide storage config file (DVC's format) for `storage`.
fn server_wide_config(env: &TestEnv, storage: &std::path::Path) -> std::path::PathBuf {
    let file = env.path("etc/git-dvc/storage.conf");
    write_file(
        &file,
        format!(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    file
}

/// A client whose one commit references data that is in the server's storage.
fn client_with_stored_data<'e>(env: &'e TestEnv, server: &Server<'_>) -> (Repo<'e>, String) {
    let repo = client(env, server);
    repo.dvc_add_file("data.txt", "stored\n");
    let commit = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);
    (repo, commit)
}

/// git config (global here; system in the next test) names the server-wide file: no file in
/// the repository is needed, and the repository's own `dvc/config` overrides it key by key.
#[test]
fn a_server_wide_config_from_global_git_config() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    std::fs::remove_file(server.bare.dir.join("dvc/config")).unwrap();
    let file = server_wide_config(&env, &server.storage);
    env.git(
        env.root(),
        &[
            "config",
            "--global",
            "dvc.preReceive.storageConfig",
            file.to_str().unwrap(),
        ],
    );
    // `install --server` says where storage will come from.
    let other = env.bare_repo("other.git");
    env.git_dvc(&other.dir, &["install", "--server"])
        .assert_stdout_contains_all(&[&format!(
            "storage: the server-wide config {} (git config dvc.preReceive.storageConfig)",
            file.display()
        )]);
    let (repo, commit) = client_with_stored_data(&env, &server);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    run.assert_stderr_contains("1 object checked");

    // The repository's file overrides core.remote: its remote lacks the data.
    let empty = env.mkdir("empty-storage");
    write_file(
        &server.bare.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = other\n['remote \"other\"']\n    url = {}\n",
            empty.display()
        )
        .as_bytes(),
    );
    server.bare.git(&["update-ref", "-d", "refs/heads/main"]);
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_refused_again(&run, &server, "main");
    run.assert_stderr_contains(&format!("data.txt@{}", short(&commit)));
    // ... and the server-wide remotes stay usable by name.
    write_file(
        &server.bare.dir.join("dvc/config"),
        b"[core]\n    remote = storage\n",
    );
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
}

/// System git config (`GIT_CONFIG_SYSTEM`, as `git config --system` writes it on a server).
#[test]
fn a_server_wide_config_from_system_git_config() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    std::fs::remove_file(server.bare.dir.join("dvc/config")).unwrap();
    let file = server_wide_config(&env, &server.storage);
    let system = env.path("etc/gitconfig");
    write_file(
        &system,
        format!(
            "[dvc \"preReceive\"]\n\tstorageConfig = {}\n",
            file.display()
        )
        .as_bytes(),
    );
    let (repo, commit) = client_with_stored_data(&env, &server);
    let with_system = [
        ("GIT_CONFIG_NOSYSTEM", std::ffi::OsStr::new("0")),
        ("GIT_CONFIG_SYSTEM", system.as_os_str()),
    ];
    let run = repo.try_git_with_env(&["push", "origin", "main"], &with_system);
    assert_accepted(&run);
    run.assert_stderr_contains("1 object checked");
    assert_eq!(server.ref_("main").as_deref(), Some(&*commit));
}

/// `$GIT_DVC_STORAGE_CONFIG` in the server's environment, and `--storage-config` in a
/// hand-written hook; a named file that does not exist refuses pushes with DVC data (an
/// administrator's typo must not pass them unchecked) but not the others.
#[test]
fn a_server_wide_config_from_the_environment_or_the_flag() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    std::fs::remove_file(server.bare.dir.join("dvc/config")).unwrap();
    let file = server_wide_config(&env, &server.storage);
    let (repo, _) = client_with_stored_data(&env, &server);
    let run = repo.try_git_with_env(
        &["push", "origin", "main"],
        &[("GIT_DVC_STORAGE_CONFIG", file.as_os_str())],
    );
    assert_accepted(&run);
    run.assert_stderr_contains("1 object checked");

    server.bare.git(&["update-ref", "-d", "refs/heads/main"]);
    write_script(
        &server.bare.dir.join("hooks/pre-receive"),
        &format!(
            "#!/bin/sh\nexec git-dvc pre-receive --storage-config '{}'\n",
            file.display()
        ),
    );
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_accepted(&run);
    run.assert_stderr_contains("1 object checked");

    server.bare.git(&["update-ref", "-d", "refs/heads/main"]);
    let typo = env.path("etc/git-dvc/storage.cnof");
    let run = repo.try_git_with_env(
        &["push", "origin", "main"],
        &[("GIT_DVC_STORAGE_CONFIG", typo.as_os_str())],
    );
    // The hook's flag comes first; the environment is only looked at without it.
    assert_accepted(&run);
    write_script(
        &server.bare.dir.join("hooks/pre-receive"),
        "#!/bin/sh\nexec git-dvc pre-receive\n",
    );
    server.bare.git(&["update-ref", "-d", "refs/heads/main"]);
    let run = repo.try_git_with_env(
        &["push", "origin", "main"],
        &[("GIT_DVC_STORAGE_CONFIG", typo.as_os_str())],
    );
    assert_refused_again(&run, &server, "main");
    run.assert_stderr_contains("the server-wide DVC storage config cannot be read");
    assert_no_server_paths(&env, &run);
    let plain = env.git_repo("plain");
    plain.write("README", "no data\n");
    plain.commit_all("readme");
    let url = server.bare.dir.to_str().unwrap();
    assert_accepted(&plain.try_git_with_env(
        &["push", url, "main:plain"],
        &[("GIT_DVC_STORAGE_CONFIG", typo.as_os_str())],
    ));
}

/// Refused by our hook, for a commit an earlier accepted push already brought to the server
/// (so its objects stay there): the ref did not come back.
#[track_caller]
fn assert_refused_again(run: &Run, server: &Server<'_>, refname: &str) {
    assert!(
        !run.success(),
        "the server must reject this push\n{}",
        run.describe()
    );
    run.assert_stderr_contains("pre-receive hook declined");
    assert_eq!(server.ref_(refname), None, "{}", run.describe());
}

// ---------------------------------------------------------------------------
// Issue 19 item 5: finding the binary.
// ---------------------------------------------------------------------------

/// The hook's fallback is the installing binary as PATH names it: a symlink such as
/// /usr/local/bin/git-dvc, which an upgrade re-points, rather than the versioned file.
#[test]
fn the_fallback_is_the_path_that_ran_the_installer() {
    let env = TestEnv::new();
    let bare = env.bare_repo("server.git");
    let link = env.path("usr/local/bin/git-dvc");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(git_dvc_bin(), &link).unwrap();
    let path = env.path_with(&[link.parent().unwrap()]);
    env.run_with_env(
        "git",
        &bare.dir,
        &["dvc", "install", "--server"],
        &[("PATH", path.as_os_str())],
    )
    .assert_success();
    assert_eq!(
        std::fs::read_to_string(bare.dir.join("hooks/pre-receive")).unwrap(),
        server_hook_for(&link)
    );
}

// ---------------------------------------------------------------------------
// Issue 19 items 2 and 6: forge layouts and hook managers.
// ---------------------------------------------------------------------------

/// Gitea's generated `hooks/pre-receive` (modules/repository/hooks.go, ScriptType bash):
/// runs every `pre-receive.d/*` with its own copy of stdin.
const GITEA_DRIVER: &str = "#!/usr/bin/env bash\n# AUTO GENERATED BY GITEA, DO NOT MODIFY\ndata=$(cat)\nexitcodes=\"\"\nhookname=$(basename $0)\nGIT_DIR=${GIT_DIR:-$(dirname $0)/..}\n\nfor hook in ${GIT_DIR}/hooks/${hookname}.d/*; do\n  test -x \"${hook}\" && test -f \"${hook}\" || continue\n  echo \"${data}\" | \"${hook}\"\n  exitcodes=\"${exitcodes} $?\"\ndone\n\nfor i in ${exitcodes}; do\n  [ ${i} -eq 0 ] || exit ${i}\ndone\n";

/// A bare repository laid out as Gitea lays it: the driver, and `pre-receive.d/gitea` (here
/// a stand-in for `gitea hook pre-receive` that records the refs it was given).
fn gitea_repo<'e>(env: &'e TestEnv, record: &std::path::Path) -> Repo<'e> {
    let bare = env.bare_repo("gitea-repositories/owner/project.git");
    write_script(&bare.dir.join("hooks/pre-receive"), GITEA_DRIVER);
    write_script(
        &bare.dir.join("hooks/pre-receive.d/gitea"),
        &format!(
            "#!/usr/bin/env bash\n# AUTO GENERATED BY GITEA, DO NOT MODIFY\ncat >> '{}'\n",
            record.display()
        ),
    );
    bare
}

/// Gitea / Forgejo: git-dvc goes in as `pre-receive.d/git-dvc`; the forge's driver and
/// hook stay (even with --force) and still get git's ref list; pushes are checked.
#[test]
fn gitea_layout_installs_beside_the_forge_hook() {
    let env = TestEnv::new();
    let record = env.path("gitea-hook-saw");
    let bare = gitea_repo(&env, &record);
    for args in [
        &["install", "--server"][..],
        &["install", "--server", "--force"][..],
    ] {
        let run = env.git_dvc(&bare.dir, args);
        run.assert_stdout_contains_all(&[
            &format!(
                "git-dvc pre-receive hook installed in {}",
                bare.dir.join("hooks/pre-receive.d/git-dvc").display()
            ),
            "Gitea/Forgejo",
        ]);
        assert_eq!(
            std::fs::read_to_string(bare.dir.join("hooks/pre-receive")).unwrap(),
            GITEA_DRIVER
        );
        assert_eq!(
            std::fs::read_to_string(bare.dir.join("hooks/pre-receive.d/git-dvc")).unwrap(),
            server_hook()
        );
        assert!(
            std::fs::read_to_string(bare.dir.join("hooks/pre-receive.d/gitea"))
                .unwrap()
                .contains("AUTO GENERATED BY GITEA")
        );
    }
    let storage = env.path("storage");
    write_file(
        &bare.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = s\n['remote \"s\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    let repo = env.dvc_repo_with_remote("work");
    repo.set_local_remotes(&[("r", &storage)]);
    let missing = repo.dvc_add_file("data.txt", "gitea\n");
    let head = repo.commit_all("data");
    let url = bare.dir.to_str().unwrap();
    let run = repo.try_git(&["push", url, "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("remote: git-dvc: push rejected")
        .assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)));
    assert!(bare.try_rev_parse("main").is_none());
    let saw = std::fs::read_to_string(&record).unwrap();
    assert!(saw.contains(&format!("{head} refs/heads/main")), "{saw}");
    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git(&["push", url, "main"]);
    assert_accepted(&run);
    assert_eq!(bare.try_rev_parse("main").as_deref(), Some(&*head));
}

/// GitLab: Gitaly runs git with `core.hooksPath` pointing at its own hooks for each push
/// (so `hooks/pre-receive` is never run), and those run `custom_hooks/pre-receive.d/*`
/// with `GL_ID` set. Here the Gitaly side is a script doing the same; the repository sits
/// where Gitaly keeps it (`@hashed/…`, `gitlab.fullpath` in its config).
#[test]
fn gitlab_layout_installs_in_custom_hooks() {
    let env = TestEnv::new();
    let bare = env.bare_repo("repositories/@hashed/6b/86/6b86b273ff34fce19d6b804eff5a3f57.git");
    bare.git(&["config", "gitlab.fullpath", "group/project"]);
    // A hook git would run if Gitaly did not redirect it: it must not matter.
    write_script(
        &bare.dir.join("hooks/pre-receive"),
        "#!/bin/sh\necho 'hooks/ ran' >&2\nexit 1\n",
    );
    let run = env.git_dvc(&bare.dir, &["install", "--server"]);
    let drop_in = bare.dir.join("custom_hooks/pre-receive.d/git-dvc");
    run.assert_stdout_contains_all(&[
        &format!(
            "git-dvc pre-receive hook installed in {}",
            drop_in.display()
        ),
        "never hooks/pre-receive",
        "gitaly hooks set",
        "--repository @hashed/6b/86/6b86b273ff34fce19d6b804eff5a3f57.git",
    ]);
    assert_eq!(std::fs::read_to_string(&drop_in).unwrap(), server_hook());

    let gitaly_hooks = env.path("gitaly/hooks");
    write_script(
        &gitaly_hooks.join("pre-receive"),
        "#!/bin/sh\n# Gitaly's order: custom_hooks/pre-receive, then pre-receive.d/* (sorted), each with the ref list; stop at the first failure\ninput=$(cat)\nfor h in \"$GIT_DIR\"/custom_hooks/pre-receive \"$GIT_DIR\"/custom_hooks/pre-receive.d/*; do\n  [ -f \"$h\" ] && [ -x \"$h\" ] || continue\n  printf '%s\\n' \"$input\" | \"$h\" || exit 1\ndone\n",
    );
    let storage = env.path("storage");
    write_file(
        &bare.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = s\n['remote \"s\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    let repo = env.dvc_repo_with_remote("work");
    repo.set_local_remotes(&[("r", &storage)]);
    let missing = repo.dvc_add_file("data.txt", "gitlab\n");
    let head = repo.commit_all("data");
    let receive_pack = format!(
        "--receive-pack=GL_ID=user-1 GL_PROTOCOL=ssh git -c core.hooksPath={} receive-pack",
        gitaly_hooks.display()
    );
    let push = |repo: &Repo<'_>| {
        repo.try_git(&["push", &receive_pack, bare.dir.to_str().unwrap(), "main"])
    };
    let run = push(&repo);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("remote: GL-HOOK-ERR: git-dvc: push rejected")
        .assert_stderr_contains(&format!(
            "remote: GL-HOOK-ERR:   data.txt@{} ({missing})",
            short(&head)
        ));
    assert!(!run.stderr.contains("hooks/ ran"), "{}", run.describe());
    assert!(bare.try_rev_parse("main").is_none());
    repo.git_dvc(&["push", "-q"]);
    let run = push(&repo);
    assert_accepted(&run);
    assert_eq!(bare.try_rev_parse("main").as_deref(), Some(&*head));
}

/// A `core.hooksPath` whose pre-receive runs `gitaly-hooks`, in a repository that has
/// neither a `@hashed` path nor `gitlab.fullpath`: GitLab's all the same. git-dvc goes in
/// custom_hooks (with the GitLab steps), never over Gitaly's wrapper, even with --force;
/// Gitea's driver without a pre-receive.d yet is recognised the same way.
#[test]
fn forge_hooks_are_recognised_by_what_they_run() {
    let env = TestEnv::new();
    let bare = env.bare_repo("plain-path.git");
    let gitaly = env.path("gitaly-runtime/hooks");
    let wrapper = "#!/bin/sh\nexec /opt/gitlab/embedded/bin/gitaly-hooks pre-receive \"$@\"\n";
    write_script(&gitaly.join("pre-receive"), wrapper);
    bare.git(&["config", "core.hooksPath", gitaly.to_str().unwrap()]);
    for args in [
        &["install", "--server"][..],
        &["install", "--server", "--force"][..],
    ] {
        let run = env.git_dvc(&bare.dir, args);
        run.assert_stdout_contains_all(&[
            &format!(
                "git-dvc pre-receive hook installed in {}",
                bare.dir
                    .join("custom_hooks/pre-receive.d/git-dvc")
                    .display()
            ),
            "gitaly hooks set",
        ]);
        assert!(!run.stdout.contains("--force"), "{}", run.describe());
        assert_eq!(
            std::fs::read_to_string(gitaly.join("pre-receive")).unwrap(),
            wrapper
        );
    }

    let gitea = env.bare_repo("gitea-no-drop-ins.git");
    write_script(&gitea.dir.join("hooks/pre-receive"), GITEA_DRIVER);
    let run = env.git_dvc(&gitea.dir, &["install", "--server"]);
    run.assert_stdout_contains_all(&["Gitea/Forgejo"]);
    assert!(gitea.dir.join("hooks/pre-receive.d/git-dvc").is_file());
    assert_eq!(
        std::fs::read_to_string(gitea.dir.join("hooks/pre-receive")).unwrap(),
        GITEA_DRIVER
    );

    // A dangling symlink where git-dvc's drop-in goes: the hint names --server.
    std::fs::remove_file(gitea.dir.join("hooks/pre-receive.d/git-dvc")).unwrap();
    std::os::unix::fs::symlink(
        env.path("nowhere"),
        gitea.dir.join("hooks/pre-receive.d/git-dvc"),
    )
    .unwrap();
    let run = env.try_git_dvc(&gitea.dir, &["install", "--server"]);
    run.assert_code(1)
        .assert_stderr_contains("run `git dvc install --server` again");
}

/// gitolite owns the hooks: nothing is written, and the steps are printed.
#[test]
fn gitolite_repository_gets_steps_not_a_hook() {
    let env = TestEnv::new();
    let bare = env.bare_repo("repositories/project.git");
    write_file(&bare.dir.join("gl-conf"), b"%one_repo = ();\n");
    let run = env.try_git_dvc(&bare.dir, &["install", "--server"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("not installed: gitolite manages the hooks")
        .assert_stderr_contains(
            "git dvc install --server --output ~/local/hooks/common/pre-receive",
        )
        .assert_stderr_contains("gitolite setup --hooks-only")
        .assert_stderr_contains("option hook.pre-receive = git-dvc")
        .assert_stderr_contains("repo project");
    assert!(!bare.dir.join("hooks/pre-receive").exists());
    assert!(!run.stdout.contains("installed in"), "{}", run.describe());
}

/// `--print` and `--output FILE`: the hook for any other hook manager.
#[test]
fn print_and_output_write_the_hook_for_other_managers() {
    let env = TestEnv::new();
    let dir = env.mkdir("anywhere");
    let run = env.git_dvc(&dir, &["install", "--server", "--print"]);
    assert_eq!(run.stdout, server_hook());
    let run = env.git_dvc(&dir, &["install", "--print"]);
    assert_eq!(run.stdout, include_str!("../../hooks/pre-push"));

    let file = env.path("global-hooks/pre-receive.d/50-git-dvc");
    let run = env.git_dvc(
        &dir,
        &["install", "--server", "--output", file.to_str().unwrap()],
    );
    run.assert_stdout_contains_all(&[&format!("hook written to {}", file.display())]);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), server_hook());
    assert_eq!(file_mode(&file), 0o755);
    // Again: ours, replaced. Somebody else's: refused unless --force.
    env.git_dvc(
        &dir,
        &["install", "--server", "--output", file.to_str().unwrap()],
    );
    write_script(&file, "#!/bin/sh\nexit 0\n");
    let run = env.try_git_dvc(
        &dir,
        &["install", "--server", "--output", file.to_str().unwrap()],
    );
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("is not git-dvc's hook");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "#!/bin/sh\nexit 0\n"
    );
    env.git_dvc(
        &dir,
        &[
            "install",
            "--server",
            "--output",
            file.to_str().unwrap(),
            "--force",
        ],
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), server_hook());
}

/// `--chain` on the server: the existing hook runs first with its own copy of the ref list;
/// either refusing refuses the push.
#[test]
fn server_chain_keeps_the_existing_hook() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let hook = server.bare.dir.join("hooks/pre-receive");
    let record = env.path("policy-saw");
    let policy = format!(
        "#!/bin/sh\ncat >> '{}'\n[ ! -e '{}' ]\n",
        record.display(),
        env.path("policy-refuses").display()
    );
    write_script(&hook, &policy);
    let run = env.try_git_dvc(&server.bare.dir, &["install", "--server"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("git dvc install --server --chain");
    let run = env.git_dvc(&server.bare.dir, &["install", "--server", "--chain"]);
    run.assert_stdout_contains_all(&["the previous hook now runs first"]);
    let chained = server.bare.dir.join("hooks/pre-receive.before-git-dvc");
    assert_eq!(std::fs::read_to_string(&chained).unwrap(), policy);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), server_hook());

    let repo = client(&env, &server);
    let missing = repo.dvc_add_file("data.txt", "chained\n");
    let head = repo.commit_all("data");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &head);
    run.assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)));
    let saw = std::fs::read_to_string(&record).unwrap();
    assert!(saw.contains(&format!("{head} refs/heads/main")), "{saw}");

    repo.git_dvc(&["push", "-q"]);
    std::fs::write(env.path("policy-refuses"), "").unwrap();
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &head);
    std::fs::remove_file(env.path("policy-refuses")).unwrap();
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
}

/// `uninstall --server` undoes `install --server --chain`: the kept hook is back, byte for
/// byte; a plain `uninstall` in the bare repository names the server hook and `--server`
/// instead of claiming nothing is installed; a hook that is not git-dvc's stays.
#[test]
fn server_uninstall_restores_the_chained_hook() {
    let env = TestEnv::new();
    let bare = env.bare_repo("server.git");
    let hook = bare.dir.join("hooks/pre-receive");
    let chained = bare.dir.join("hooks/pre-receive.before-git-dvc");
    let policy = "#!/bin/sh
# the site's policy
exit 0
";
    write_script(&hook, policy);
    env.git_dvc(&bare.dir, &["install", "--server", "--chain"]);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), server_hook());

    let run = env.git_dvc(&bare.dir, &["uninstall"]);
    run.assert_stdout_contains_all(&[
        &format!("server (pre-receive) hook is in {}", hook.display()),
        "git dvc uninstall --server",
    ]);
    assert!(
        !run.stdout.contains("no git-dvc hooks installed"),
        "{}",
        run.describe()
    );
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), server_hook());

    let run = env.git_dvc(&bare.dir, &["uninstall", "--server"]);
    run.assert_stdout_contains_all(&[&format!(
        "git-dvc pre-receive hook removed; the previous hook is back in {}",
        hook.display()
    )]);
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), policy);
    assert_eq!(file_mode(&hook), 0o755);
    assert!(!chained.exists());

    // Now the policy hook alone: not git-dvc's, left in place and named.
    let run = env.try_git_dvc(&bare.dir, &["uninstall", "--server"]);
    run.assert_code(1)
        .assert_stderr_contains("is not git-dvc's pre-receive hook; left it in place");
    assert_eq!(std::fs::read_to_string(&hook).unwrap(), policy);
    std::fs::remove_file(&hook).unwrap();
    env.git_dvc(&bare.dir, &["uninstall", "--server"])
        .assert_stdout_contains_all(&["no git-dvc pre-receive hook installed"]);
    env.git_dvc(&bare.dir, &["uninstall"])
        .assert_stdout_contains_all(&["a bare repository has none", "uninstall --server"]);
}

/// `uninstall --server` under the forges' layouts removes git-dvc's drop-in only.
#[test]
fn server_uninstall_removes_the_forge_drop_ins() {
    let env = TestEnv::new();
    let record = env.path("gitea-hook-saw");
    let gitea = gitea_repo(&env, &record);
    env.git_dvc(&gitea.dir, &["install", "--server"]);
    let drop_in = gitea.dir.join("hooks/pre-receive.d/git-dvc");
    assert!(drop_in.is_file());
    env.git_dvc(&gitea.dir, &["uninstall"])
        .assert_stdout_contains_all(&[&format!("hook is in {}", drop_in.display())]);
    env.git_dvc(&gitea.dir, &["uninstall", "--server"])
        .assert_stdout_contains_all(&[&format!(
            "git-dvc pre-receive hook removed from {}",
            drop_in.display()
        )]);
    assert!(!drop_in.exists());
    assert_eq!(
        std::fs::read_to_string(gitea.dir.join("hooks/pre-receive")).unwrap(),
        GITEA_DRIVER
    );
    assert!(gitea.dir.join("hooks/pre-receive.d/gitea").is_file());

    let gitlab = env.bare_repo("repositories/@hashed/d4/73/d4735e3a265e16eee03f59718b9b5d03.git");
    env.git_dvc(&gitlab.dir, &["install", "--server"]);
    let drop_in = gitlab.dir.join("custom_hooks/pre-receive.d/git-dvc");
    assert!(drop_in.is_file());
    env.git_dvc(&gitlab.dir, &["uninstall", "--server"])
        .assert_stdout_contains_all(&[
            &format!(
                "git-dvc pre-receive hook removed from {}",
                drop_in.display()
            ),
            "gitaly hooks set",
        ]);
    assert!(!drop_in.exists());
}

/// A hooks directory shared through `core.hooksPath` gets the hook, with a warning.
#[test]
fn a_shared_hooks_directory_is_warned_about() {
    let env = TestEnv::new();
    let bare = env.bare_repo("server.git");
    let shared = env.path("srv/shared-hooks");
    bare.git(&["config", "core.hooksPath", shared.to_str().unwrap()]);
    let run = env.git_dvc(&bare.dir, &["install", "--server"]);
    run.assert_stdout_contains_all(&[
        &format!(
            "git-dvc pre-receive hook installed in {}",
            shared.join("pre-receive").display()
        ),
        "is outside this repository (core.hooksPath)",
    ]);
    let plain = env.bare_repo("plain.git");
    let run = env.git_dvc(&plain.dir, &["install", "--server"]);
    assert!(!run.stdout.contains("warning"), "{}", run.describe());
}

// ---------------------------------------------------------------------------
// Issue 19 item 6: real servers. sshd with a git-shell account.
// ---------------------------------------------------------------------------

/// `ssh://user@127.0.0.1:port/path` and the GIT_SSH_COMMAND that reaches sshd from
/// `scripts/test.sh` (setup_sshd_git) with its client key.
fn sshd_url_and_command(user: &str, path: &std::path::Path) -> (String, String) {
    let var = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!("{name} is not set: this test needs the sshd that `bash scripts/test.sh --servers …` starts (setup_sshd_git)")
        })
    };
    let port = var("GIT_DVC_TEST_SSH_PORT");
    let key = var("GIT_DVC_TEST_SSH_KEY");
    let command = format!(
        "ssh -i '{key}' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no \
         -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o ConnectTimeout=10"
    );
    (
        format!("ssh://{user}@127.0.0.1:{port}{}", path.display()),
        command,
    )
}

/// Reads the server repository as root, whatever user owns it (git refuses otherwise).
fn server_ref(env: &TestEnv, bare: &std::path::Path, name: &str) -> Option<String> {
    let run = env.try_git(
        bare,
        &[
            "-c",
            "safe.directory=*",
            "rev-parse",
            "--verify",
            "-q",
            name,
        ],
    );
    run.success().then(|| run.stdout.trim().to_string())
}

/// A bare repository as a server keeps it for its git account `owner`: owned by it, the
/// hook installed by a git-dvc binary the account can run (`usr/local/bin/git-dvc` in the
/// env, not the build directory, which may sit under an unreadable home), storage
/// configured in `dvc/config`, everything readable. Returns the repository and storage.
fn hosted_repository<'e>(env: &'e TestEnv, owner: &str) -> (Repo<'e>, std::path::PathBuf) {
    std::fs::set_permissions(
        env.root(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let binary = env.path("usr/local/bin/git-dvc");
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    std::fs::copy(git_dvc_bin(), &binary).unwrap();
    let bare = env.bare_repo("srv/git/project.git");
    env.run_with_env(&binary, &bare.dir, &["install", "--server"], &[])
        .assert_success();
    let storage = env.mkdir("srv/dvc-storage");
    write_file(
        &bare.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    env.run_with_env(
        "chown",
        env.root(),
        &["-R", owner, bare.dir.to_str().unwrap()],
        &[],
    )
    .assert_success();
    (bare, storage)
}

/// A git server as most are set up: an account whose login shell is `git-shell`, owning
/// the repositories; the pusher reaches it over ssh and cannot pass any environment, so
/// the hook runs as that account with sshd's PATH (no git-dvc on it: the hook runs the
/// binary that installed it). Missing data is refused with a `remote:` line, stored data
/// accepted; a storage config that account cannot read refuses pushes with DVC data
/// without showing the pusher any server path.
#[test]
fn push_over_ssh_to_a_git_shell_account() {
    let user = std::env::var("GIT_DVC_TEST_GIT_SHELL_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("GIT_DVC_TEST_GIT_SHELL_USER is not set: scripts/test.sh creates the git-shell account (as root) when it starts sshd");
    let env = TestEnv::new();
    let (bare, storage) = hosted_repository(&env, &user);

    let repo = env.dvc_repo_with_remote("work");
    repo.set_local_remotes(&[("r", &storage)]);
    let missing = repo.dvc_add_file("data.txt", "over git-shell\n");
    let head = repo.commit_all("data");
    let (url, ssh) = sshd_url_and_command(&user, &bare.dir);
    let push = |repo: &Repo<'_>, refspec: &str| {
        repo.try_git_with_env(
            &["push", &url, refspec],
            &[("GIT_SSH_COMMAND", std::ffi::OsStr::new(&ssh))],
        )
    };
    let run = push(&repo, "main");
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("remote: git-dvc: push rejected")
        .assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)))
        .assert_stderr_contains("pre-receive hook declined");
    assert_eq!(server_ref(&env, &bare.dir, "main"), None);

    repo.git_dvc(&["push", "-q"]);
    let run = push(&repo, "main");
    assert_accepted(&run);
    run.assert_stderr_contains(
        "remote: git-dvc: the DVC data of the pushed commits is in storage (1 object checked)",
    );
    assert_eq!(server_ref(&env, &bare.dir, "main").as_deref(), Some(&*head));

    // A config the account cannot read (root's, mode 0600): real permission denied.
    let config = bare.dir.join("dvc/config");
    env.run_with_env(
        "chown",
        env.root(),
        &["root", config.to_str().unwrap()],
        &[],
    )
    .assert_success();
    std::fs::set_permissions(&config, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    repo.dvc_add_file("more.txt", "more\n");
    repo.commit_all("more");
    repo.git_dvc(&["push", "-q"]);
    let run = push(&repo, "main");
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains(
        "remote: git-dvc: push rejected: the server's DVC storage config for this repository cannot be read",
    );
    assert_no_server_paths(&env, &run);
    assert_eq!(server_ref(&env, &bare.dir, "main").as_deref(), Some(&*head));
    // Pushes without DVC data still go through.
    let plain = env.git_repo("plain");
    plain.write("README", "docs only\n");
    let docs = plain.commit_all("docs");
    assert_accepted(&push(&plain, "main:docs"));
    assert_eq!(server_ref(&env, &bare.dir, "docs").as_deref(), Some(&*docs));
}

// ---------------------------------------------------------------------------
// Issue 19 item 6: smart HTTP through nginx + fcgiwrap + git http-backend.
// ---------------------------------------------------------------------------

/// Debian's smart HTTP stack (scripts/test.sh, setup_git_http): http-backend and the hook
/// run as the web server's user (www-data as root) with no HOME and fcgiwrap's
/// environment. Missing data is refused with a `remote:` line, stored data accepted.
#[test]
fn push_over_smart_http_through_nginx_and_fcgiwrap() {
    let var = |name: &str| {
        std::env::var(name).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
            panic!("{name} is not set: this test needs nginx + fcgiwrap from `bash scripts/test.sh --servers …` (setup_git_http)")
        })
    };
    let base = var("GIT_DVC_TEST_GIT_HTTP_URL");
    let user = var("GIT_DVC_TEST_GIT_HTTP_USER");
    let env = TestEnv::new();
    let (bare, storage) = hosted_repository(&env, &user);
    let url = format!("{base}{}", bare.dir.display());

    let repo = env.dvc_repo_with_remote("work");
    repo.set_local_remotes(&[("r", &storage)]);
    let missing = repo.dvc_add_file("data.txt", "over smart http\n");
    let head = repo.commit_all("data");
    let run = repo.try_git(&["push", &url, "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("remote: git-dvc: push rejected")
        .assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)))
        .assert_stderr_contains("pre-receive hook declined");
    assert_no_server_paths(&env, &run);
    assert_eq!(server_ref(&env, &bare.dir, "main"), None);

    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git(&["push", &url, "main"]);
    assert_accepted(&run);
    run.assert_stderr_contains(
        "remote: git-dvc: the DVC data of the pushed commits is in storage (1 object checked)",
    );
    assert_eq!(server_ref(&env, &bare.dir, "main").as_deref(), Some(&*head));
}

// ---------------------------------------------------------------------------
// Issue 19 item 6: gitolite (Debian's gitolite3).
// ---------------------------------------------------------------------------

/// Runs `args` as `user` (HOME its home, a bare PATH), as a server administrator would
/// with `sudo -u`.
fn as_user(env: &TestEnv, user: &str, home: &str, dir: &std::path::Path, args: &[&str]) -> Run {
    let mut all = vec![
        "--reuid",
        user,
        "--regid",
        user,
        "--init-groups",
        "env",
        "-i",
    ];
    let home_var = format!("HOME={home}");
    let user_var = format!("USER={user}");
    all.extend([
        home_var.as_str(),
        user_var.as_str(),
        "PATH=/usr/local/bin:/usr/bin:/bin",
    ]);
    all.extend_from_slice(args);
    env.run_with_env("setpriv", dir, &all, &[])
}

/// gitolite, following the steps `git dvc install --server` prints in one of its
/// repositories (common hook): the admin repository still takes pushes (no storage, no DVC
/// data), a DVC project's missing data is refused with a `remote:` line, stored data
/// accepted. scripts/test.sh sets gitolite up fresh for its account, LOCAL_CODE enabled.
#[test]
fn gitolite_common_hook_checks_pushes_and_keeps_the_admin_repository_open() {
    let user = std::env::var("GIT_DVC_TEST_GITOLITE_USER")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("GIT_DVC_TEST_GITOLITE_USER is not set: scripts/test.sh sets up gitolite (as root) when it starts sshd");
    let env = TestEnv::new();
    std::fs::set_permissions(
        env.root(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let home = env
        .run_with_env(
            "sh",
            env.root(),
            &["-c", &format!("getent passwd {user} | cut -d: -f6")],
            &[],
        )
        .stdout
        .trim()
        .to_string();
    let repos = std::path::Path::new(&home).join("repositories");
    let binary = env.path("usr/local/bin/git-dvc");
    std::fs::create_dir_all(binary.parent().unwrap()).unwrap();
    std::fs::copy(git_dvc_bin(), &binary).unwrap();
    let git_dvc = binary.to_str().unwrap();

    // In a gitolite repository, install writes nothing and says what to do.
    let testing = repos.join("testing.git");
    let run = as_user(
        &env,
        &user,
        &home,
        &testing,
        &[git_dvc, "install", "--server"],
    );
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("gitolite manages the hooks");
    // The steps, for every repository.
    let common = format!("{home}/local/hooks/common/pre-receive");
    as_user(
        &env,
        &user,
        &home,
        &testing,
        &[git_dvc, "install", "--server", "--output", &common],
    )
    .assert_success();
    as_user(
        &env,
        &user,
        &home,
        &testing,
        &["gitolite", "setup", "--hooks-only"],
    )
    .assert_success();

    // The admin repository: a new repository for the DVC project, through the hook.
    let (admin_url, ssh) = sshd_url_and_command(&user, std::path::Path::new("/gitolite-admin"));
    let ssh_env = [("GIT_SSH_COMMAND", std::ffi::OsStr::new(&ssh))];
    let admin_dir = env.path("gitolite-admin");
    env.run_with_env(
        "git",
        env.root(),
        &["clone", "-q", &admin_url, admin_dir.to_str().unwrap()],
        &ssh_env,
    )
    .assert_success();
    let admin = env.repo_at(&admin_dir);
    let conf = admin_dir.join("conf/gitolite.conf");
    let mut text = std::fs::read_to_string(&conf).unwrap();
    text.push_str("\nrepo dvcproj\n    RW+ = admin\n");
    std::fs::write(&conf, text).unwrap();
    admin.commit_all("dvcproj");
    let run = admin.try_git_with_env(&["push", "origin", "HEAD"], &ssh_env);
    assert_accepted(&run);
    let project = repos.join("dvcproj.git");
    assert!(project.is_dir(), "{}", run.describe());
    assert!(
        std::fs::read_link(project.join("hooks/pre-receive")).is_ok(),
        "gitolite links its common hooks into each repository"
    );

    // Storage for the project, readable by the gitolite account.
    let storage = env.mkdir("srv/dvc-storage");
    write_file(
        &project.join("dvc/config"),
        format!(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
            storage.display()
        )
        .as_bytes(),
    );
    env.run_with_env(
        "chown",
        env.root(),
        &["-R", &user, project.join("dvc").to_str().unwrap()],
        &[],
    )
    .assert_success();
    let repo = env.dvc_repo_with_remote("work");
    repo.set_local_remotes(&[("r", &storage)]);
    let missing = repo.dvc_add_file("data.txt", "under gitolite\n");
    let head = repo.commit_all("data");
    let (url, _) = sshd_url_and_command(&user, std::path::Path::new("/dvcproj"));
    let run = repo.try_git_with_env(&["push", &url, "main"], &ssh_env);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("remote: git-dvc: push rejected")
        .assert_stderr_contains(&format!("data.txt@{} ({missing})", short(&head)));
    assert_no_server_paths(&env, &run);
    assert_eq!(server_ref(&env, &project, "main"), None);
    repo.git_dvc(&["push", "-q"]);
    let run = repo.try_git_with_env(&["push", &url, "main"], &ssh_env);
    assert_accepted(&run);
    assert_eq!(server_ref(&env, &project, "main").as_deref(), Some(&*head));
}
