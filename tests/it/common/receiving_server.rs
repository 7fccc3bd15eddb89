//! A bare server repository with git-dvc's pre-receive hook and its storage, clients that
//! push to it, and the assertions on what the server accepted or rejected: shared by the
//! server-check tests.

use std::fs;
use std::path::{Path, PathBuf};

use super::*;

/// A bare repository with the pre-receive hook and storage `storage` (its default remote).
pub struct Server<'e> {
    pub bare: Repo<'e>,
    pub storage: PathBuf,
}

impl<'e> Server<'e> {
    pub fn new(env: &'e TestEnv) -> Server<'e> {
        let bare = env.bare_repo("server.git");
        let run = env.git_dvc(&bare.dir, &["install", "--server"]);
        let hook = bare.dir.join("hooks/pre-receive");
        assert!(
            run.stdout.contains("pre-receive hook installed"),
            "{}",
            run.describe()
        );
        assert_eq!(fs::read_to_string(&hook).unwrap(), server_hook());
        assert_eq!(file_mode(&hook), 0o755);
        let storage = env.path("server-storage");
        let server = Server { bare, storage };
        server.configure(&[("storage", &server.storage)]);
        server
    }

    /// Writes `$GIT_DIR/dvc/config`: these remotes, the first one the default.
    pub fn configure(&self, remotes: &[(&str, &Path)]) {
        let mut text = format!("[core]\n    remote = {}\n", remotes[0].0);
        for (name, url) in remotes {
            text.push_str(&format!(
                "['remote \"{name}\"']\n    url = {}\n",
                url.display()
            ));
        }
        write_file(&self.bare.dir.join("dvc/config"), text.as_bytes());
    }

    pub fn git_config(&self, args: &[&str]) {
        let mut all = vec!["config"];
        all.extend_from_slice(args);
        self.bare.git(&all);
    }

    pub fn ref_(&self, name: &str) -> Option<String> {
        self.bare.try_rev_parse(name)
    }
}

/// A client DVC repository whose default remote `r` points at `storage` (normally the
/// server's own storage), with the server as `origin`. No client hook.
pub fn client<'e>(env: &'e TestEnv, server: &Server<'_>) -> Repo<'e> {
    let repo = env.dvc_repo_with_remote("work");
    repo.set_local_remotes(&[("r", &server.storage)]);
    repo.git(&["remote", "add", "origin", server.bare.dir.to_str().unwrap()]);
    repo
}

pub fn short(oid: &str) -> &str {
    &oid[..7]
}

#[track_caller]
pub fn assert_accepted(run: &Run) {
    assert!(
        run.success(),
        "the server must accept this push\n{}",
        run.describe()
    );
    assert!(!run.stderr.contains("push rejected"), "{}", run.describe());
}

/// Rejected by our hook: git says so, the server's ref did not move and the pushed commit
/// did not stay in its object store.
#[track_caller]
pub fn assert_rejected(
    run: &Run,
    server: &Server<'_>,
    refname: &str,
    before: Option<&str>,
    commit: &str,
) {
    assert!(
        !run.success(),
        "the server must reject this push\n{}",
        run.describe()
    );
    run.assert_stderr_contains("pre-receive hook declined");
    assert_eq!(
        server.ref_(refname).as_deref(),
        before,
        "the server's {refname} moved\n{}",
        run.describe()
    );
    assert!(
        !server.bare.has_object(commit),
        "the rejected commit stayed on the server (quarantine not dropped)"
    );
}

/// The push of `main` is rejected by the server's hook and its `main` did not move.
#[track_caller]
pub fn assert_push_rejected(repo: &Repo<'_>, server: &Server<'_>, needle: &str) {
    let before = server.bare.try_rev_parse("main");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(!run.success(), "the server must reject\n{}", run.describe());
    run.assert_stderr_contains("pre-receive hook declined")
        .assert_stderr_contains(needle);
    assert_eq!(server.bare.try_rev_parse("main"), before, "ref moved");
}

/// The push of `main` is accepted and the server's `main` is the client's HEAD.
#[track_caller]
pub fn assert_push_accepted(repo: &Repo<'_>, server: &Server<'_>) {
    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(run.success(), "the server must accept\n{}", run.describe());
    assert_eq!(
        server.bare.try_rev_parse("main"),
        Some(repo.rev_parse("HEAD"))
    );
}

/// `git dvc check` in `repo` fails and says `needle` (on stdout or stderr).
#[track_caller]
pub fn assert_check_fails(repo: &Repo<'_>, needle: &str) {
    let run = repo.try_git_dvc(&["check"]);
    assert!(
        !run.success(),
        "git dvc check must fail\n{}",
        run.describe()
    );
    assert!(
        run.stdout.contains(needle) || run.stderr.contains(needle),
        "expected {needle:?}\n{}",
        run.describe()
    );
}
