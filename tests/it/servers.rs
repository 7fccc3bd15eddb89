//! The server check where real git servers run it: hand-written hook chains, hooks shared by
//! many repositories, configuration outside the repository, the layouts forges use (Gitea's
//! `pre-receive.d` driver, GitLab's `custom_hooks` under a Gitaly-style `core.hooksPath`,
//! gitolite), and sshd with `git-shell`, where the hook gets the server's PATH.

use crate::common;
use crate::hooks_pre_receive::{assert_accepted, assert_rejected, client, short, Server};

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
