//! The hooks check what a push changes, and stay as strict as a full scan.
//!
//! Both hooks diff each pushed commit against its parents (`git::tree_diff`): a DVC file a
//! parent holds at the same place, in the same context, is not read again. These tests
//! prove both halves with real `git push`es (no DVC needed: the DVC files are written as
//! DVC writes them): a push that touches no DVC file reads no blob at all (traced with
//! `GIT_DVC_TRACE_OBJECTS`), and each way a commit can change what unchanged DVC files mean
//! (`.dvc/config`, a vars file, a merge, a move, a nested project, `.dvcignore`, a first
//! push) still gets missing data refused, by the client hook and by the server's.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

/// A client with `git dvc install`, a bare server with `git dvc install --server`, and DVC
/// storage: remote `r` (client) and the server's default remote are the same directory.
struct Setup<'e> {
    env: &'e TestEnv,
    work: Repo<'e>,
    server: Repo<'e>,
    storage: PathBuf,
    trace: PathBuf,
}

impl<'e> Setup<'e> {
    fn new(env: &'e TestEnv) -> Setup<'e> {
        let storage = env.mkdir("storage");
        let work = env.git_repo("work");
        work.write(".dvc/.gitignore", "/config.local\n/tmp\n/cache\n");
        work.write(".dvcignore", "# nothing ignored\n");
        work.write("README.md", "readme\n");
        let setup = Setup {
            env,
            server: env.bare_repo("server.git"),
            storage,
            trace: env.path("trace.log"),
            work,
        };
        setup.write_config(&[("r", &setup.storage)]);
        setup.work.git(&[
            "remote",
            "add",
            "origin",
            setup.server.dir.to_str().unwrap(),
        ]);
        setup.work.git_dvc(&["install"]);
        env.git_dvc(&setup.server.dir, &["install", "--server"]);
        write_file(
            &setup.server.dir.join("dvc/config"),
            format!(
                "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
                setup.storage.display()
            )
            .as_bytes(),
        );
        setup
    }

    /// The work tree's (and committed) `.dvc/config`: these remotes, the first the default.
    fn write_config(&self, remotes: &[(&str, &Path)]) {
        let mut text = format!("[core]\n    remote = {}\n", remotes[0].0);
        for (name, url) in remotes {
            text.push_str(&format!(
                "['remote \"{name}\"']\n    url = {}\n",
                url.display()
            ));
        }
        self.work.write(".dvc/config", text);
    }

    /// Writes `rel.dvc` for an output with `content` (in the cache when `cached`), as
    /// `dvc add` writes it; returns the md5.
    fn output(&self, rel: &str, content: &str, cached: bool) -> String {
        let md5 = md5_hex(content.as_bytes());
        let name = rel.rsplit('/').next().unwrap();
        self.work.write(
            &format!("{rel}.dvc"),
            format!(
                "outs:\n- md5: {md5}\n  size: {}\n  hash: md5\n  path: {name}\n",
                content.len()
            ),
        );
        if cached {
            self.cache(content);
        }
        md5
    }

    fn cache(&self, content: &str) {
        let md5 = md5_hex(content.as_bytes());
        write_file(
            &self
                .work
                .path(&format!(".dvc/cache/{}", object_rel_path(&md5, false))),
            content.as_bytes(),
        );
    }

    fn uncache(&self, md5: &str) {
        let path = self
            .work
            .path(&format!(".dvc/cache/{}", object_rel_path(md5, false)));
        fs::remove_file(path).unwrap();
    }

    fn stored(&self, storage: &Path, md5: &str) -> bool {
        storage.join(object_rel_path(md5, false)).is_file()
    }

    /// `git push ARGS` with both hooks tracing the objects they read.
    fn push(&self, args: &[&str]) -> Run {
        let mut all = vec!["push"];
        all.extend_from_slice(args);
        self.env.run_with_env(
            "git",
            &self.work.dir,
            &all,
            &[("GIT_DVC_TRACE_OBJECTS", self.trace.as_os_str())],
        )
    }

    #[track_caller]
    fn push_ok(&self, args: &[&str]) -> Run {
        let run = self.push(args);
        run.assert_success();
        run
    }

    /// The traced reads since the last call, emptying the log.
    fn reads(&self) -> Vec<String> {
        let text = fs::read_to_string(&self.trace).unwrap_or_default();
        let _ = fs::remove_file(&self.trace);
        text.lines().map(str::to_string).collect()
    }

    fn blob(&self, rev_path: &str) -> String {
        format!("blob {}", self.work.rev_parse(rev_path))
    }

    fn server_has(&self, commit: &str) -> bool {
        self.server.try_rev_parse("main").as_deref() == Some(commit)
    }
}

#[track_caller]
fn assert_refused_by_client(run: &Run, needle: &str) {
    assert!(!run.success(), "{}", run.describe());
    assert!(run.stderr.contains("push refused"), "{}", run.describe());
    assert!(run.stderr.contains(needle), "{}", run.describe());
}

#[track_caller]
fn assert_rejected_by_server(run: &Run, needle: &str) {
    assert!(!run.success(), "{}", run.describe());
    assert!(run.stderr.contains("push rejected"), "{}", run.describe());
    assert!(run.stderr.contains(needle), "{}", run.describe());
}

/// A repository with plain outputs, a templated pipeline reading `params.yaml`, a
/// directory-local `.dvcignore` and a nested project, all pushed with their data.
fn pushed_project(env: &TestEnv) -> Setup<'_> {
    let s = Setup::new(env);
    s.output("data/a.bin", "a\n", true);
    s.output("data/b.bin", "b\n", true);
    let model = md5_hex(b"model\n");
    s.cache("model\n");
    s.work.write(
        "dvc.yaml",
        "stages:\n  train:\n    cmd: python train.py\n    outs:\n    - ${model}\n",
    );
    s.work.write("params.yaml", "model: model.bin\n");
    s.work.write(
        "dvc.lock",
        format!(
            "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n    outs:\n    - path: model.bin\n      hash: md5\n      md5: {model}\n      size: 6\n"
        ),
    );
    s.work.write("data/.dvcignore", "ignored*\n");
    s.work.write("sub/.dvc/config", "");
    s.work.write("sub/README.md", "a nested project\n");
    s.work.commit_all("data and pipeline");
    s.push_ok(&["-q", "origin", "main"]);
    for md5 in [md5_hex(b"a\n"), md5_hex(b"b\n"), model] {
        assert!(s.stored(&s.storage, &md5), "the first push uploads {md5}");
    }
    s
}

#[test]
fn a_push_that_touches_no_dvc_file_reads_none() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    // The trace is real: the first push read the DVC files it checked.
    let first = s.reads();
    assert!(
        first.contains(&s.blob("HEAD:data/a.bin.dvc")) && first.contains(&s.blob("HEAD:dvc.yaml")),
        "the first push reads its DVC files: {first:?}"
    );

    s.work.write("README.md", "changed\n");
    s.work.write("src/train.py", "print('train')\n");
    s.work.write("data/notes.txt", "not a DVC file\n");
    let head = s.work.commit_all("code only");
    let run = s.push_ok(&["origin", "main"]);
    assert!(s.server_has(&head), "{}", run.describe());
    assert_eq!(
        s.reads(),
        Vec::<String>::new(),
        "neither hook reads a blob for a push that touches no DVC file"
    );

    // One changed `.dvc` file: that file (and the config routing it) is all that is read.
    s.output("data/a.bin", "a2\n", true);
    s.work.commit_all("a changes");
    s.push_ok(&["origin", "main"]);
    let reads = s.reads();
    assert!(reads.contains(&s.blob("HEAD:data/a.bin.dvc")), "{reads:?}");
    for other in [
        "HEAD:data/b.bin.dvc",
        "HEAD:dvc.yaml",
        "HEAD:dvc.lock",
        "HEAD:params.yaml",
    ] {
        assert!(
            !reads.contains(&s.blob(other)),
            "{other} was read: {reads:?}"
        );
    }
    assert!(s.stored(&s.storage, &md5_hex(b"a2\n")));
}

#[test]
fn a_changed_dvc_config_rechecks_every_output() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    let other = env.mkdir("other-storage");
    let b = md5_hex(b"b\n");
    s.uncache(&b);
    // Only the config changes: every output now belongs in `other`.
    s.write_config(&[("r2", &other), ("r", &s.storage)]);
    let head = s.work.commit_all("default remote r2");
    assert_refused_by_client(&s.push(&["origin", "main"]), "data/b.bin");
    s.cache("b\n");
    s.push_ok(&["origin", "main"]);
    assert!(s.server_has(&head));
    for content in ["a\n", "b\n", "model\n"] {
        assert!(
            s.stored(&other, &md5_hex(content.as_bytes())),
            "{content:?} in r2"
        );
    }
}

#[test]
fn a_changed_vars_file_rechecks_its_pipeline() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    // The lock also records `other.bin`; it is an output once params.yaml names it.
    let other = md5_hex(b"other\n");
    let lock = String::from_utf8(s.work.read("dvc.lock")).unwrap();
    s.work.write(
        "dvc.lock",
        format!(
            "{lock}    - path: other.bin\n      hash: md5\n      md5: {other}\n      size: 6\n"
        ),
    );
    s.work.commit_all("lock lists other.bin, unused");
    s.push_ok(&["origin", "main"]);
    s.work.write("params.yaml", "model: other.bin\n");
    s.work.commit_all("params only");
    assert_refused_by_client(&s.push(&["origin", "main"]), "other.bin");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "other.bin");
    s.cache("other\n");
    s.push_ok(&["origin", "main"]);
    assert!(s.stored(&s.storage, &other));
}

#[test]
fn merges_are_checked_through_every_new_parent() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    // A side branch adds an output whose data exists nowhere; main merges it.
    s.work.git(&["checkout", "-q", "-b", "side"]);
    s.output("data/side.bin", "side\n", false);
    s.work.commit_all("side output");
    s.work.git(&["checkout", "-q", "main"]);
    s.work.write("README.md", "main moves on\n");
    s.work.commit_all("main");
    s.work.git(&["merge", "-q", "--no-ff", "--no-edit", "side"]);
    assert_refused_by_client(&s.push(&["origin", "main"]), "data/side.bin");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "data/side.bin");
    s.cache("side\n");
    s.push_ok(&["origin", "main"]);

    // A merge that itself adds an output (an "evil" merge) is checked on its own.
    s.work.git(&["checkout", "-q", "-b", "side2"]);
    s.work.write("side2.txt", "x\n");
    s.work.commit_all("side2");
    s.work.git(&["checkout", "-q", "main"]);
    s.work
        .git(&["merge", "-q", "--no-ff", "--no-commit", "side2"]);
    s.output("data/evil.bin", "evil\n", false);
    s.work.git(&["add", "-A"]);
    s.work.git(&["commit", "-q", "--no-edit"]);
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "data/evil.bin");
    assert_refused_by_client(&s.push(&["origin", "main"]), "data/evil.bin");
}

#[test]
fn a_moved_dvc_file_is_checked_again() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    let b = md5_hex(b"b\n");
    // Storage loses b's data; an unrelated push does not look at b.dvc again...
    fs::remove_file(s.storage.join(object_rel_path(&b, false))).unwrap();
    s.work.write("README.md", "unrelated\n");
    s.work.commit_all("unrelated");
    s.push_ok(&["--no-verify", "origin", "main"]);
    // ...but moving it is a new DVC file at a new place: checked again.
    fs::create_dir_all(s.work.path("moved")).unwrap();
    s.work.git(&["mv", "data/b.bin.dvc", "moved/b.bin.dvc"]);
    s.work.commit_all("move b.dvc");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "moved/b.bin");
    // The client hook re-uploads it from the cache.
    s.push_ok(&["origin", "main"]);
    assert!(s.stored(&s.storage, &b));
}

#[test]
fn nested_projects_starting_or_ending_are_checked() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    // The nested project `sub` gets an output; the client skips it (as DVC does), the
    // server routes it with its config for `sub`: storage2, which lacks it.
    let storage2 = env.mkdir("storage2");
    write_file(
        &s.server.dir.join("dvc/projects/sub/config"),
        format!(
            "[core]\n    remote = s2\n['remote \"s2\"']\n    url = {}\n",
            storage2.display()
        )
        .as_bytes(),
    );
    s.output("sub/n.bin", "n\n", true);
    s.work.commit_all("output in the nested project");
    assert_rejected_by_server(&s.push(&["origin", "main"]), "sub/n.bin");
    write_file(
        &storage2.join(object_rel_path(&md5_hex(b"n\n"), false)),
        b"n\n",
    );
    s.push_ok(&["origin", "main"]);

    // `sub` stops being a project: its unchanged n.bin.dvc now belongs to the top project,
    // whose remote (and the server's default storage) lack the data.
    s.uncache(&md5_hex(b"n\n"));
    fs::remove_dir_all(s.work.path("sub/.dvc")).unwrap();
    s.work.commit_all("sub joins the top project");
    assert_refused_by_client(&s.push(&["origin", "main"]), "sub/n.bin");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "sub/n.bin");
    s.cache("n\n");
    s.push_ok(&["origin", "main"]);

    // And a directory becoming a project: its DVC files move to that project's storage.
    s.output("later/l.bin", "l\n", true);
    s.work.commit_all("l");
    s.push_ok(&["origin", "main"]);
    let storage3 = env.mkdir("storage3");
    write_file(
        &s.server.dir.join("dvc/projects/later/config"),
        format!(
            "[core]\n    remote = s3\n['remote \"s3\"']\n    url = {}\n",
            storage3.display()
        )
        .as_bytes(),
    );
    s.work.write("later/.dvc/config", "");
    s.work.commit_all("later becomes a project");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "later/l.bin");
}

#[test]
fn a_dvcignore_change_rechecks_what_it_uncovers() {
    let env = TestEnv::new();
    let s = pushed_project(&env);
    // The server reads no `.dvcignore` and checks its own storage, which has the data.
    let server_storage = env.mkdir("server-only");
    write_file(
        &s.server.dir.join("dvc/config"),
        format!(
            "[core]\n    remote = storage\n['remote \"storage\"']\n    url = {}\n",
            server_storage.display()
        )
        .as_bytes(),
    );
    let ignored = md5_hex(b"ignored\n");
    write_file(
        &server_storage.join(object_rel_path(&ignored, false)),
        b"ignored\n",
    );
    // `data/.dvcignore` hides ignored*.dvc from DVC, so the client skips its data...
    s.output("data/ignored.bin", "ignored\n", false);
    s.work.commit_all("an ignored output");
    s.push_ok(&["origin", "main"]);
    // ...until the ignore file stops hiding it.
    s.work.write("data/.dvcignore", "# nothing\n");
    s.work.commit_all("unignore");
    assert_refused_by_client(&s.push(&["origin", "main"]), "data/ignored.bin");
}

#[test]
fn a_first_push_without_boundary_checks_everything() {
    let env = TestEnv::new();
    let s = Setup::new(&env);
    s.output("data/a.bin", "a\n", false);
    s.output("data/b.bin", "b\n", true);
    s.work.commit_all("first");
    s.work.write("README.md", "second\n");
    s.work.commit_all("second, no DVC change");
    assert_refused_by_client(&s.push(&["origin", "main"]), "data/a.bin");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "data/a.bin");
    // A new branch whose commits the server has: nothing new to check or read.
    s.cache("a\n");
    s.push_ok(&["origin", "main"]);
    s.reads();
    s.push_ok(&["origin", "main:refs/heads/copy"]);
    assert_eq!(s.reads(), Vec::<String>::new());
}

/// Writes the directory output `rel` (members `files`, all cached) as `dvc add` writes it;
/// returns the `.dir` id (without the suffix).
fn dir_output(s: &Setup<'_>, rel: &str, files: &[(&str, &str)]) -> String {
    let mut sorted = files.to_vec();
    sorted.sort();
    let entries: Vec<String> = sorted
        .iter()
        .map(|(path, content)| {
            s.cache(content);
            format!(
                "{{\"md5\": \"{}\", \"relpath\": \"{path}\"}}",
                md5_hex(content.as_bytes())
            )
        })
        .collect();
    let manifest = format!("[{}]", entries.join(", "));
    let id = md5_hex(manifest.as_bytes());
    write_file(
        &s.work.path(&format!(
            ".dvc/cache/{}",
            object_rel_path(&format!("{id}.dir"), false)
        )),
        manifest.as_bytes(),
    );
    let size: usize = files.iter().map(|(_, c)| c.len()).sum();
    let name = rel.rsplit('/').next().unwrap();
    s.work.write(
        &format!("{rel}.dvc"),
        format!(
            "outs:\n- md5: {id}.dir\n  size: {size}\n  nfiles: {}\n  hash: md5\n  path: {name}\n",
            files.len()
        ),
    );
    id
}

#[test]
fn manifests_verified_complete_are_not_reread_and_checks_stay_strict() {
    let env = TestEnv::new();
    let s = Setup::new(&env);
    let id = dir_output(&s, "images", &[("a.png", "A\n"), ("b.png", "B\n")]);
    s.work.commit_all("a directory");
    let trace = s.trace.as_os_str();
    let push = |args: &[&str]| {
        let mut all = vec!["dvc", "push"];
        all.extend_from_slice(args);
        env.run_with_env(
            "git",
            &s.work.dir,
            &all,
            &[("GIT_DVC_TRACE_OBJECTS", trace)],
        )
    };
    push(&[]).assert_success();
    let manifest = format!("manifest {id}.dir");
    assert!(
        s.reads().contains(&manifest),
        "the first push reads the manifest"
    );
    // Uploaded with every member: the next push needs only the `.dir` on the remote.
    push(&[]).assert_success();
    assert!(
        !s.reads().contains(&manifest),
        "a manifest verified complete is not read again"
    );

    // A member disappears from storage. Whatever the index says, the checks find it.
    let a = md5_hex(b"A\n");
    fs::remove_file(s.storage.join(object_rel_path(&a, false))).unwrap();
    let status = s.work.try_git_dvc(&["status", "-c", "--check-members"]);
    assert!(
        status.stdout.contains("images/a.png"),
        "{}",
        status.describe()
    );
    let check = s.work.try_git_dvc(&["check"]);
    assert!(!check.success(), "{}", check.describe());
    assert!(
        check.stderr.contains("images/a.png") || check.stdout.contains("images/a.png"),
        "{}",
        check.describe()
    );
    // The server checks every member of a `.dir` a pushed commit brings.
    fs::copy(s.work.path("images.dvc"), s.work.path("copy.dvc")).unwrap();
    let text = fs::read_to_string(s.work.path("copy.dvc")).unwrap();
    s.work
        .write("copy.dvc", text.replace("path: images", "path: copy"));
    s.work.commit_all("the same directory again");
    assert_rejected_by_server(&s.push(&["--no-verify", "origin", "main"]), "/a.png");
    // `push --check-members` repairs it (plain `push` trusts the stored `.dir`, as DVC).
    push(&["--check-members"]).assert_success();
    assert!(s.stored(&s.storage, &a));
    s.push_ok(&["origin", "main"]);
}
