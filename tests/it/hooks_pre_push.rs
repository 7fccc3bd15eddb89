//! The pre-push hook end to end: `git dvc install`, then real `git push` to a real bare
//! repository, with DVC data made by real DVC 3.67.1. Adapted from git-lfs's
//! `t/t-pre-push.sh` (see ../shared/reference/git-integration.md §7.1): every scenario
//! checks what reached DVC storage, what reached the git server, what the hook printed,
//! and (after each successful push) that `dvc pull` in a fresh clone of the server
//! restores the data.
//!
//! The hook runs `git dvc pre-push`, which git finds on PATH: the harness puts the built
//! binary's directory first on PATH for every command.

use crate::common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;

use common::*;

/// A client repository with the hook installed, its git server and its DVC storage.
struct Client<'e> {
    env: &'e TestEnv,
    repo: Repo<'e>,
    server: Repo<'e>,
    /// Where DVC remote `r` (the committed default) points, through `.dvc/config.local`.
    storage: PathBuf,
}

impl<'e> Client<'e> {
    fn new(env: &'e TestEnv) -> Client<'e> {
        let server = env.bare_repo("server.git");
        let repo = env.dvc_repo_with_remote("work");
        let storage = env.path("storage");
        repo.set_local_remotes(&[("r", &storage)]);
        repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
        let run = repo.git_dvc(&["install"]);
        assert!(
            run.stdout.contains("pre-push hook installed"),
            "{}",
            run.describe()
        );
        Client {
            env,
            repo,
            server,
            storage,
        }
    }

    /// `git push ARGS` (through the hook).
    fn push(&self, args: &[&str]) -> Run {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        self.repo.try_git(&all)
    }

    #[track_caller]
    fn push_ok(&self, args: &[&str]) -> Run {
        let run = self.push(args);
        run.assert_success();
        run
    }

    /// `git push -q ARGS`, asserting it succeeds and that nothing at all was printed (git
    /// is quiet with -q, so anything on stdout/stderr came from the hook).
    #[track_caller]
    fn push_silently(&self, args: &[&str]) {
        let mut all = vec!["-q"];
        all.extend_from_slice(args);
        let run = self.push_ok(&all);
        assert!(
            run.stdout.is_empty() && run.stderr.is_empty(),
            "the hook must print nothing when there is nothing to upload\n{}",
            run.describe()
        );
    }

    fn server_ref(&self, name: &str) -> Option<String> {
        self.server.try_rev_parse(name)
    }

    fn has(&self, oid: &str) -> bool {
        remote_has(&self.storage, oid, false)
    }

    /// A fresh clone of the server, `r` pointed at the storage, `rev` checked out and pulled.
    #[track_caller]
    fn assert_pullable(&self, rel: &str, rev: &str, expected: &[(&str, &str)]) -> Repo<'e> {
        clone_and_pull(
            self.env,
            &self.server.dir,
            rel,
            &[("r", &self.storage)],
            &[],
            rev,
            &expected_map(expected),
        )
    }
}

fn expected_map(files: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    files
        .iter()
        .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
        .collect()
}

fn short(oid: &str) -> &str {
    &oid[..7]
}

#[track_caller]
fn assert_uploaded_line(run: &Run, n: usize, remote: &str) {
    let files = if n == 1 {
        "1 file".to_string()
    } else {
        format!("{n} files")
    };
    run.assert_stderr_contains(&format!("git-dvc: {files} pushed to DVC remote '{remote}'"));
}

/// git-lfs "pre-push" + git-dvc's reason to exist (DVC's own hook fails this): the pushed
/// branch is not the checked-out one, so its data must come from git objects and the
/// cache, not the work tree.
#[test]
fn pushes_a_branch_that_is_not_checked_out() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.push_silently(&["origin", "main"]);

    c.repo.git(&["checkout", "-q", "-b", "feature"]);
    c.repo.write("dir/a.txt", "member a\n");
    c.repo.write("dir/sub/b.txt", "member b\n");
    c.repo.write("data.txt", "feature data\n");
    c.repo.dvc(&["add", "-q", "data.txt", "dir"]);
    let feature = c.repo.commit_all("feature data");
    c.repo.git(&["checkout", "-q", "main"]);
    // The checkout hooks took the branch's outputs away; the work tree now says something
    // else entirely.
    assert!(!c.repo.path("dir").exists());
    c.repo
        .write("data.txt", "work tree bytes, not the branch's\n");

    let run = c.push_ok(&["origin", "feature"]);
    // data.txt, two members and the .dir
    assert_uploaded_line(&run, 4, "r");
    assert!(c.has(&md5_hex(b"feature data\n")));
    assert!(c.has(&md5_hex(b"member a\n")) && c.has(&md5_hex(b"member b\n")));
    assert!(!c.has(&md5_hex(b"work tree bytes, not the branch's\n")));
    check_remote(&c.storage, RemoteCheck::Complete);
    assert_eq!(
        c.server_ref("refs/heads/feature").as_deref(),
        Some(&*feature)
    );

    c.assert_pullable(
        "clone",
        "feature",
        &[
            ("data.txt", "feature data\n"),
            ("dir/a.txt", "member a\n"),
            ("dir/sub/b.txt", "member b\n"),
        ],
    );
}

/// git-lfs "commit, delete, then push": every commit the server receives can be checked
/// out, so a version that only an intermediate commit references is uploaded too.
#[test]
fn uploads_the_data_of_every_intermediate_commit() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let v1 = c.repo.dvc_add_file("x.txt", "x version 1\n");
    let a = c.repo.commit_all("A: add x");
    let v2 = c.repo.dvc_add_file("x.txt", "x version 2\n");
    let b = c.repo.commit_all("B: change x");
    c.repo.git(&["rm", "-q", "x.txt.dvc"]);
    let head = c.repo.commit_all("C: delete x");

    let run = c.push_ok(&["origin", "main"]);
    assert_uploaded_line(&run, 2, "r");
    assert!(c.has(&v1), "commit A's version must be on the remote");
    assert!(c.has(&v2), "commit B's version must be on the remote");
    assert_eq!(c.server_ref("main").as_deref(), Some(&*head));

    let clone = c.assert_pullable("clone", &a, &[("x.txt", "x version 1\n")]);
    pull_rev(&clone, &b, &expected_map(&[("x.txt", "x version 2\n")]));
}

/// A new branch (zero remote oid): only commits the remote lacks are covered. The remote
/// is known to have main through `refs/remotes/origin/main`, so main's data is neither
/// re-uploaded nor required: here one of its objects is gone from storage only, another
/// from storage and cache, and the push must neither re-upload the first nor refuse over
/// the second.
#[test]
fn new_branch_covers_only_the_commits_the_remote_lacks() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.repo.write("old0.txt", "old zero\n");
    c.repo.write("old1.txt", "old one\n");
    c.repo.dvc(&["add", "-q", "old0.txt", "old1.txt"]);
    c.repo.commit_all("old data");
    let run = c.push_ok(&["origin", "main"]);
    assert_uploaded_line(&run, 2, "r");
    let old0 = md5_hex(b"old zero\n");
    let old1 = md5_hex(b"old one\n");
    remove_object(&c.storage, &old0);
    remove_object(&c.repo.cache_dir(), &old0);
    remove_object(&c.storage, &old1);

    c.repo.git(&["checkout", "-q", "-b", "topic"]);
    let new = c.repo.dvc_add_file("new.txt", "new on topic\n");
    let topic = c.repo.commit_all("topic data");
    let run = c.push_ok(&["origin", "topic"]);
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&new));
    assert!(
        !c.has(&old1),
        "main's data was re-uploaded: the remote-tracking ref was not used to exclude it\n{}",
        run.describe()
    );
    assert!(!c.has(&old0));
    assert_eq!(c.server_ref("topic").as_deref(), Some(&*topic));

    // Only what the branch added is in storage: pull just that file.
    let clone = env.clone_repo(&c.server.dir, "clone");
    clone.set_local_remotes(&[("r", &c.storage)]);
    clone.git(&["checkout", "-q", "topic"]);
    clone.dvc(&["pull", "-q", "new.txt"]);
    assert_workspace(&clone.dir, &expected_map(&[("new.txt", "new on topic\n")]));
}

/// git-lfs "pre-push multiple branches": one `git push` with several refs.
#[test]
fn multiple_refs_in_one_push() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let mut tips = Vec::new();
    for name in ["b1", "b2", "b3"] {
        c.repo.git(&["checkout", "-q", "-b", name, "main"]);
        c.repo
            .dvc_add_file(&format!("{name}.txt"), format!("data of {name}\n"));
        tips.push(c.repo.commit_all(name));
    }
    c.repo.git(&["checkout", "-q", "main"]);
    c.repo.dvc_add_file("main.txt", "data of main\n");
    let main = c.repo.commit_all("main data");

    let run = c.push_ok(&["origin", "main", "b1", "b2", "b3"]);
    assert_uploaded_line(&run, 4, "r");
    for name in ["main", "b1", "b2", "b3"] {
        assert!(
            c.has(&md5_hex(format!("data of {name}\n").as_bytes())),
            "{name}"
        );
    }
    assert_eq!(c.server_ref("main").as_deref(), Some(&*main));
    for (name, tip) in ["b1", "b2", "b3"].iter().zip(&tips) {
        assert_eq!(c.server_ref(name).as_deref(), Some(&**tip));
    }

    let clone = c.assert_pullable("clone", "b1", &[("b1.txt", "data of b1\n")]);
    pull_rev(
        &clone,
        "origin/b3",
        &expected_map(&[("b3.txt", "data of b3\n")]),
    );
    pull_rev(
        &clone,
        "origin/main",
        &expected_map(&[("main.txt", "data of main\n")]),
    );
}

/// Tags that no branch contains: a lightweight tag, then an annotated one (whose local
/// oid on the hook's stdin is the tag object, to be peeled).
#[test]
fn lightweight_and_annotated_tags() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.push_silently(&["origin", "main"]);
    c.repo.git(&["checkout", "-q", "-b", "scratch"]);
    let light = c.repo.dvc_add_file("light.txt", "tagged lightly\n");
    c.repo.commit_all("for the lightweight tag");
    c.repo.git(&["tag", "v-light"]);
    let annotated = c
        .repo
        .dvc_add_file("annotated.txt", "tagged with a message\n");
    c.repo.commit_all("for the annotated tag");
    c.repo
        .git(&["tag", "-a", "v-annotated", "-m", "an annotated tag"]);
    c.repo.git(&["checkout", "-q", "main"]);
    c.repo.git(&["branch", "-q", "-D", "scratch"]);

    let run = c.push_ok(&["origin", "v-light"]);
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&light));
    assert!(!c.has(&annotated), "only the pushed tag's commits");

    let run = c.push_ok(&["origin", "v-annotated"]);
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&annotated));
    let tag_object = c.repo.rev_parse("refs/tags/v-annotated");
    assert_eq!(
        c.server.git(&["cat-file", "-t", &tag_object]).trim(),
        "tag",
        "the server got the annotated tag object"
    );
    assert_eq!(
        c.server_ref("refs/tags/v-annotated").as_deref(),
        Some(&*tag_object)
    );

    let clone = c.assert_pullable("clone", "v-light", &[("light.txt", "tagged lightly\n")]);
    pull_rev(
        &clone,
        "v-annotated",
        &expected_map(&[
            ("light.txt", "tagged lightly\n"),
            ("annotated.txt", "tagged with a message\n"),
        ]),
    );
}

/// Pushing to a URL instead of a remote name (git passes the URL as both arguments):
/// to a repository no remote names, and to origin's own URL, where git-dvc maps the URL
/// back to `origin` and so uses its remote-tracking refs (git-lfs "pre-push uses
/// optimization if remote URL matches"). The old data lives in a sub-directory the new
/// commit does not change, so this checks the URL mapping only (see
/// `new_branch_covers_only_the_commits_the_remote_lacks` for files beside changed ones).
#[test]
fn push_to_a_url() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let mirror = env.bare_repo("mirror.git");
    let first = c.repo.dvc_add_file("old/first.txt", "first\n");
    let head = c.repo.commit_all("first");

    let run = c.push_ok(&[mirror.dir.to_str().unwrap(), "main"]);
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&first));
    assert_eq!(mirror.try_rev_parse("main").as_deref(), Some(&*head));
    clone_and_pull(
        &env,
        &mirror.dir,
        "mirror-clone",
        &[("r", &c.storage)],
        &[],
        "main",
        &expected_map(&[("old/first.txt", "first\n")]),
    );

    // origin learns main; then its data disappears everywhere.
    c.push_silently(&["origin", "main"]);
    remove_object(&c.storage, &first);
    remove_object(&c.repo.cache_dir(), &first);
    c.repo.git(&["checkout", "-q", "-b", "topic"]);
    let second = c.repo.dvc_add_file("second.txt", "second\n");
    let topic = c.repo.commit_all("second");
    let url = c.server.dir.to_str().unwrap().to_string();
    let run = c.push(&[&url, "topic"]);
    assert!(
        run.success(),
        "pushing a new branch to origin's URL must exclude what refs/remotes/origin/* has \
         (old/first.txt is gone everywhere, but main is on the server)\n{}",
        run.describe()
    );
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&second));
    assert_eq!(c.server_ref("topic").as_deref(), Some(&*topic));
}

/// git-lfs "pre-push with force-pushed ref": the remote's old oid is unknown locally
/// (someone else pushed it). It is ignored, not an error.
#[test]
fn force_push_whose_old_remote_oid_is_unknown_locally() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let a1 = c.repo.dvc_add_file("a.txt", "from A, first\n");
    c.repo.commit_all("A1");
    c.push_ok(&["origin", "main"]);

    // Another clone pushes a commit this one never sees.
    let other = env.clone_repo(&c.server.dir, "other");
    other.set_local_remotes(&[("r", &c.storage)]);
    other.dvc_add_file("b.txt", "from B\n");
    let theirs = other.commit_all("B");
    other.git_dvc(&["push", "-q"]);
    other.git(&["push", "-q", "origin", "main"]);
    assert!(!c.repo.has_object(&theirs));

    let a2 = c.repo.dvc_add_file("a.txt", "from A, second\n");
    let ours = c.repo.commit_all("A2");
    let run = c.push_ok(&["--force", "origin", "main"]);
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&a1) && c.has(&a2));
    assert_eq!(c.server_ref("main").as_deref(), Some(&*ours));
    c.assert_pullable("clone", "main", &[("a.txt", "from A, second\n")]);
}

/// git-lfs "pre-push delete branch": a delete sends nothing and needs no storage at all
/// (the storage is made unusable first), and prints nothing.
#[test]
fn delete_passes_silently() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.repo.git(&["checkout", "-q", "-b", "doomed"]);
    c.repo.dvc_add_file("d.txt", "doomed\n");
    c.repo.commit_all("doomed");
    c.push_ok(&["origin", "doomed"]);
    c.repo.git(&["checkout", "-q", "main"]);
    c.push_silently(&["origin", "main"]);
    assert!(c.server_ref("doomed").is_some());

    let blocker = env.path("not-a-directory");
    fs::write(&blocker, "storage cannot live here\n").unwrap();
    c.repo.set_local_remotes(&[("r", &blocker)]);
    c.push_silently(&["origin", ":doomed"]);
    assert!(c.server_ref("doomed").is_none());
}

/// git-lfs "pre-push allow missing object (found on server)": data the remote already has
/// need not be in the local cache.
#[test]
fn data_missing_locally_but_present_remotely_passes() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let oid = c.repo.dvc_add_file("data.txt", "uploaded earlier\n");
    let head = c.repo.commit_all("data");
    c.repo.git_dvc(&["push", "-q"]);
    assert!(c.has(&oid));
    fs::remove_dir_all(c.repo.cache_dir()).unwrap();

    c.push_silently(&["origin", "main"]);
    assert_eq!(c.server_ref("main").as_deref(), Some(&*head));
    c.assert_pullable("clone", "main", &[("data.txt", "uploaded earlier\n")]);
}

/// git-lfs "pre-push reject missing object" and "(lfs.allowincompletepush true)": data in
/// neither the cache nor storage refuses the push (nothing uploaded, nothing sent to the
/// server, `path@commit (hash)` named); `dvc.allowIncompletePush` lets it through.
#[test]
fn data_missing_everywhere_is_refused_unless_allowed() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.push_silently(&["origin", "main"]);
    let base = c.server_ref("main").unwrap();
    c.repo.write("lost.txt", "nobody has this any more\n");
    c.repo.write("kept.txt", "still cached\n");
    c.repo.dvc(&["add", "-q", "lost.txt", "kept.txt"]);
    let commit = c.repo.commit_all("lost and kept");
    let lost = md5_hex(b"nobody has this any more\n");
    let kept = md5_hex(b"still cached\n");
    remove_object(&c.repo.cache_dir(), &lost);

    let run = c.push(&["origin", "main"]);
    assert!(
        !run.success(),
        "the push must be refused\n{}",
        run.describe()
    );
    run.assert_stderr_contains("push refused")
        .assert_stderr_contains(&format!("lost.txt@{}", short(&commit)))
        .assert_stderr_contains(&lost)
        .assert_stderr_contains("dvc.allowIncompletePush");
    assert!(
        !run.stderr.contains(&format!("kept.txt@{}", short(&commit))),
        "only what is missing is listed\n{}",
        run.describe()
    );
    assert_eq!(
        c.server_ref("main").as_deref(),
        Some(&*base),
        "server unchanged"
    );
    assert!(!c.server.has_object(&commit), "git sent nothing");
    assert!(!c.has(&kept), "a refused push uploads nothing");

    c.repo.git(&["config", "dvc.allowIncompletePush", "true"]);
    let run = c.push_ok(&["origin", "main"]);
    run.assert_stderr_contains(&format!("lost.txt@{}", short(&commit)))
        .assert_stderr_contains(&lost);
    assert_uploaded_line(&run, 1, "r");
    assert!(c.has(&kept) && !c.has(&lost));
    assert_eq!(c.server_ref("main").as_deref(), Some(&*commit));
    let clone = env.clone_repo(&c.server.dir, "clone");
    clone.set_local_remotes(&[("r", &c.storage)]);
    clone.dvc(&["pull", "-q", "kept.txt"]);
    assert_workspace(&clone.dir, &expected_map(&[("kept.txt", "still cached\n")]));
}

/// git-lfs "pre-push" (first half): nothing to upload prints nothing at all, whether
/// the commits have no DVC data, their data is already in storage, or there is nothing
/// to push.
#[test]
fn nothing_to_upload_prints_nothing() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    // The DVC skeleton commits: no outputs.
    c.push_silently(&["origin", "main"]);
    // Up to date: git runs the hook with empty stdin.
    c.push_silently(&["origin", "main"]);
    // A commit without DVC changes.
    c.repo.write("README", "plain git\n");
    c.repo.commit_all("readme");
    c.push_silently(&["origin", "main"]);
    // Data uploaded beforehand.
    c.repo.dvc_add_file("data.txt", "pushed by hand\n");
    let head = c.repo.commit_all("data");
    c.repo.git_dvc(&["push", "-q"]);
    c.push_silently(&["origin", "main"]);
    // A new branch with no new commits.
    c.repo.git(&["branch", "same"]);
    c.push_silently(&["origin", "same"]);
    assert_eq!(c.server_ref("same").as_deref(), Some(&*head));
    c.assert_pullable("clone", "same", &[("data.txt", "pushed by hand\n")]);
}

/// git-lfs "pre-push skip-push": GIT_DVC_SKIP_PUSH=1 uploads nothing and lets git push.
#[test]
fn skip_push_environment_variable_uploads_nothing() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.repo.dvc_add_file("data.txt", "not uploaded\n");
    let head = c.repo.commit_all("data");
    let run = c.repo.try_git_with_env(
        &["push", "-q", "origin", "main"],
        &[("GIT_DVC_SKIP_PUSH", OsStr::new("1"))],
    );
    run.assert_success();
    assert!(run.stderr.is_empty(), "{}", run.describe());
    assert!(!c.storage.exists(), "nothing may be uploaded");
    assert_eq!(c.server_ref("main").as_deref(), Some(&*head));
}

/// Which DVC remote: the commit's default (`r`), outputs' own `remote:` (`r2`), and the
/// per-git-remote override `remote.origin.dvcRemote`, which replaces the default only.
#[test]
fn dvc_remote_override_and_per_output_remote() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let r2 = env.path("storage-r2");
    let other = env.path("storage-other");
    c.repo
        .set_local_remotes(&[("r", &c.storage), ("r2", &r2), ("other", &other)]);

    let plain = c.repo.dvc_add_file("plain.txt", "default remote\n");
    let pinned = c.repo.dvc_add_file("pinned.txt", "pinned to r2\n");
    let mut dvcfile = fs::read_to_string(c.repo.path("pinned.txt.dvc")).unwrap();
    dvcfile.push_str("  remote: r2\n");
    c.repo.write("pinned.txt.dvc", dvcfile);
    c.repo.commit_all("plain and pinned");
    let run = c.push_ok(&["origin", "main"]);
    assert_uploaded_line(&run, 1, "r");
    assert_uploaded_line(&run, 1, "r2");
    assert!(c.has(&plain) && !c.has(&pinned));
    assert!(remote_has(&r2, &pinned, false) && !remote_has(&r2, &plain, false));
    assert!(!other.exists());
    clone_and_pull(
        &env,
        &c.server.dir,
        "clone",
        &[("r", &c.storage), ("r2", &r2)],
        &[],
        "main",
        &expected_map(&[
            ("plain.txt", "default remote\n"),
            ("pinned.txt", "pinned to r2\n"),
        ]),
    );

    // Pushing to origin now uses DVC remote `other` instead of the default.
    c.repo.git(&["config", "remote.origin.dvcRemote", "other"]);
    let plain2 = c.repo.dvc_add_file("plain.txt", "default remote, v2\n");
    let pinned2 = c.repo.dvc_add_file("pinned.txt", "pinned to r2, v2\n");
    let mut dvcfile = fs::read_to_string(c.repo.path("pinned.txt.dvc")).unwrap();
    if !dvcfile.contains("remote: r2") {
        dvcfile.push_str("  remote: r2\n");
        c.repo.write("pinned.txt.dvc", dvcfile);
    }
    c.repo.commit_all("v2");
    let run = c.push_ok(&["origin", "main"]);
    assert_uploaded_line(&run, 1, "other");
    assert_uploaded_line(&run, 1, "r2");
    assert!(remote_has(&other, &plain2, false), "{}", run.describe());
    assert!(!c.has(&plain2), "the override replaces the default remote");
    assert!(remote_has(&r2, &pinned2, false), "`remote: r2` still wins");
    assert!(!remote_has(&other, &pinned2, false));
    clone_and_pull(
        &env,
        &c.server.dir,
        "clone2",
        &[("r", &other), ("r2", &r2)],
        &[],
        "main",
        &expected_map(&[
            ("plain.txt", "default remote, v2\n"),
            ("pinned.txt", "pinned to r2, v2\n"),
        ]),
    );

    // An override naming no DVC remote stops the push with a message naming it.
    c.repo
        .git(&["config", "remote.origin.dvcRemote", "nosuchremote"]);
    c.repo.dvc_add_file("plain.txt", "default remote, v3\n");
    let head = c.repo.commit_all("v3");
    let run = c.push(&["origin", "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("nosuchremote");
    assert_ne!(c.server_ref("main").as_deref(), Some(&*head));
}

/// Storage errors abort the push (fail closed) with a message; the server is unchanged.
#[test]
fn storage_error_stops_the_push() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    c.push_silently(&["origin", "main"]);
    let base = c.server_ref("main").unwrap();
    let blocker = env.path("a-file");
    fs::write(&blocker, "not a directory\n").unwrap();
    c.repo.set_local_remotes(&[("r", &blocker.join("storage"))]);
    c.repo.dvc_add_file("data.txt", "cannot be stored\n");
    c.repo.commit_all("data");
    let run = c.push(&["origin", "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("git-dvc");
    run.assert_stderr_contains(blocker.to_str().unwrap());
    assert_eq!(c.server_ref("main").as_deref(), Some(&*base));
}

/// Sanity: git really feeds the hook `<local ref> <local oid> <remote ref> <remote oid>`
/// for a new branch with a zero remote oid (what the scenarios above rely on); a stand-in
/// chained hook records it.
#[test]
fn hook_input_is_what_git_sends() {
    let env = TestEnv::new();
    let c = Client::new(&env);
    let hooks =
        PathBuf::from(c.repo.git(&["rev-parse", "--absolute-git-dir"]).trim()).join("hooks");
    let record = env.path("stdin.txt");
    write_script(
        &hooks.join("pre-push.before-git-dvc"),
        &format!("#!/bin/sh\ncat > '{}'\n", record.display()),
    );
    let head = c.repo.rev_parse("HEAD");
    c.push_silently(&["origin", "main"]);
    assert_eq!(
        fs::read_to_string(&record).unwrap(),
        format!("refs/heads/main {head} refs/heads/main {ZERO_OID}\n")
    );
}

/// The first push of a typical repository: data committed before `dvc remote add -d`.
/// That commit's config names no remote; its data goes to the work tree's default, so the
/// push is not refused and every pushed commit's data is in storage.
#[test]
fn commits_older_than_the_remote_config_use_the_work_trees_remote() {
    let env = TestEnv::new();
    let server = env.bare_repo("server.git");
    let repo = env.dvc_repo("work");
    repo.write("a.txt", "committed before any remote\n");
    repo.dvc(&["add", "-q", "a.txt"]);
    repo.commit_all("data first");
    let storage = env.path("storage");
    repo.dvc(&["remote", "add", "-d", "r", storage.to_str().unwrap()]);
    repo.write("b.txt", "committed with the remote\n");
    repo.dvc(&["add", "-q", "b.txt"]);
    repo.commit_all("then a remote");
    repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    repo.git_dvc(&["install"]);

    let run = repo.try_git(&["push", "origin", "main"]);
    run.assert_success();
    assert_uploaded_line(&run, 2, "r");
    assert!(remote_has(
        &storage,
        &md5_hex(b"committed before any remote\n"),
        false
    ));
    assert!(remote_has(
        &storage,
        &md5_hex(b"committed with the remote\n"),
        false
    ));
}
