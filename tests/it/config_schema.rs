//! The configuration read exactly as DVC 3.67.1 reads it (issue 20, item 1 and 4): a key
//! or value DVC's schema refuses stops every command with DVC's own line and exit code
//! (251), side by side with real DVC; a revision whose committed config DVC refuses is
//! skipped or stops the command as in DVC; the server refuses such a config, its own or a
//! pushed one; `shared = group` lets a second user in the group push after the first.

use crate::common;
use crate::common::receiving_server::{assert_accepted, assert_rejected, client, Server};

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use common::*;

/// Configs (after `[core] remote = r`) and what DVC says of them. `@STORE@` is a local
/// directory. Each is compared with real DVC's `push` in a fresh repository.
const CASES: &[(&str, &str, &str)] = &[
    (
        "a misspelt S3 option",
        "['remote \"r\"']\n    url = s3://bkt/p\n    sse_kms_keyid = abc\n",
        "",
    ),
    (
        "a count that is no number",
        "['remote \"r\"']\n    url = @STORE@\n    jobs = many\n",
        "",
    ),
    ("an unknown section", "[foo]\n    x = 1\n", ""),
    ("a misspelt cache key", "[cache]\n    dirr = x\n", ""),
    (
        "a boolean that is neither",
        "['remote \"r\"']\n    url = s3://bkt/p\n    use_ssl = maybe\n",
        "",
    ),
    (
        "an unknown link type",
        "[cache]\n    type = reflink,floppy\n",
        "",
    ),
    (
        "a remote without url",
        "['remote \"r\"']\n    jobs = 2\n",
        "",
    ),
    (
        "an unknown URL type",
        "['remote \"r\"']\n    url = foo://b/p\n",
        "",
    ),
    (
        "a list where a string belongs",
        "['remote \"r\"']\n    url = s3://bkt/p\n    region = eu,us\n",
        "",
    ),
    (
        "cache_regions, which no file can set",
        "['remote \"r\"']\n    url = s3://bkt/p\n    cache_regions = true\n",
        "",
    ),
    (
        "a WebDAV timeout that is no integer",
        "['remote \"r\"']\n    url = webdav://h/x\n    timeout = 1.5\n",
        "",
    ),
    (
        "a negative HTTP timeout",
        "['remote \"r\"']\n    url = https://h/x\n    connect_timeout = -1\n",
        "",
    ),
    (
        "an S3 option on a local remote",
        "['remote \"r\"']\n    url = @STORE@\n    sse = AES256\n",
        "",
    ),
    (
        "a misspelt key in config.local",
        "['remote \"r\"']\n    url = @STORE@\n",
        "['remote \"r\"']\n    acess_key_id = x\n",
    ),
    (
        "the first problem in DVC's order",
        "['remote \"r\"']\n    url = @STORE@\n    shared = GROUP\n    jobs = x\n    sse = y\n",
        "",
    ),
    // configobj's own errors: DVC prints the message twice, the file goes on our hint.
    (
        "a duplicate section",
        "['remote \"r\"']\n    url = @STORE@\n[core]\n    no_scm = true\n",
        "",
    ),
    (
        "a duplicate key",
        "['remote \"r\"']\n    url = @STORE@\n    url = @STORE@\n",
        "",
    ),
    (
        "a line that is neither section nor key",
        "['remote \"r\"']\n    url = @STORE@\nfoo\n",
        "",
    ),
    (
        "several bad lines",
        "['remote \"r\"']\n    url = @STORE@\nfoo\n[x\n",
        "",
    ),
    (
        "a duplicate section in config.local",
        "['remote \"r\"']\n    url = @STORE@\n",
        "[core]\n[core]\n",
    ),
    (
        "a zero in full-width digits",
        "['remote \"r\"']\n    url = @STORE@\n    jobs = \u{ff10}\n",
        "",
    ),
    // Accepted by both.
    (
        "counts in other scripts' digits, as Python's int() reads them",
        "['remote \"r\"']\n    url = @STORE@\n    jobs = \u{664}\n['remote \"s\"']\n    \
         url = @STORE@\n    jobs = \u{ff14}\n['remote \"t\"']\n    url = @STORE@\n    \
         jobs = +1_0\n",
        "",
    ),
    (
        "shared in any case, deprecated keys, unknown feature keys",
        "['remote \"r\"']\n    url = @STORE@\n    shared = Group\n    no_traverse = true\n\
         [feature]\n    foo = 1\n",
        "",
    ),
];

/// Each config: `git dvc push` exits as `dvc push` does, and a refusal's first line is
/// DVC's (`ERROR: configuration error - config file error: …`), exit 251.
#[test]
fn schema_errors_are_dvcs() {
    let env = TestEnv::new();
    let store = env.mkdir("store");
    for (i, (label, config, local)) in CASES.iter().enumerate() {
        let repo = env.dvc_repo(&format!("case{i}"));
        let fill = |t: &str| t.replace("@STORE@", store.to_str().unwrap());
        repo.write(
            ".dvc/config",
            format!("[core]\n    remote = r\n{}", fill(config)),
        );
        if !local.is_empty() {
            repo.write(".dvc/config.local", fill(local));
        }
        let theirs = repo.try_dvc(&["push"]);
        let ours = repo.try_git_dvc(&["push"]);
        assert_eq!(
            ours.code(),
            theirs.code(),
            "{label}: exit codes differ\nours: {}\nDVC: {}",
            ours.describe(),
            theirs.describe()
        );
        if theirs.code() == Some(251) {
            let first = |r: &Run| r.stderr.lines().next().unwrap_or_default().to_string();
            assert_eq!(first(&ours), first(&theirs), "{label}");
            assert!(
                first(&ours).starts_with("ERROR: configuration error - config file error: "),
                "{label}: {}",
                ours.describe()
            );
            // The hint names the file to fix.
            let file = if local.is_empty() {
                "config"
            } else {
                "config.local"
            };
            ours.assert_stderr_contains(&format!(".dvc/{file}"));
        }
    }
}

/// Every command and both client hooks stop on it, with DVC's line and exit code.
#[test]
fn every_command_stops_on_a_config_dvc_refuses() {
    let env = TestEnv::new();
    let store = env.mkdir("store");
    let origin = env.bare_repo("origin.git");
    let repo = env.dvc_repo("repo");
    repo.dvc(&["remote", "add", "-d", "r", store.to_str().unwrap()]);
    repo.dvc_add_file("data.txt", "data\n");
    repo.commit_all("data");
    repo.git(&["remote", "add", "origin", origin.dir.to_str().unwrap()]);
    repo.git_dvc(&["install"]);
    let mut config = String::from_utf8(repo.read(".dvc/config")).unwrap();
    config.push_str("    sse_kms_keyid = abc\n");
    repo.write(".dvc/config", &config);
    repo.commit_all("misspelt option");
    let line = "ERROR: configuration error - config file error: extra keys not allowed @ \
                data['remote']['r']['sse_kms_keyid']";
    for args in [
        &["push"][..],
        &["status", "-c"],
        &["fetch"],
        &["check"],
        &["add", "data.txt"],
    ] {
        let run = repo.try_git_dvc(args);
        run.assert_code(251);
        // `check` may first warn where its storage configuration comes from (under CI).
        let first_error = run.stderr.lines().find(|l| !l.starts_with("WARNING: "));
        assert_eq!(first_error, Some(line), "{args:?}");
    }
    // The pre-push hook stops `git push`.
    let run = repo.try_git(&["push", "origin", "main"]);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains(line);
    assert!(origin.try_rev_parse("main").is_none());
    // And DVC agrees.
    repo.try_dvc(&["push"]).assert_code(251);
}

/// Option combinations DVC's S3 library refuses (its `ConfigError`): DVC's three lines
/// (the message twice, then "Learn more …") and exit 251, side by side, before any request
/// (the endpoint is a closed port). Our hint comes after.
#[test]
fn s3_option_conflicts_are_dvcs() {
    let env = TestEnv::new();
    for (i, options) in [
        "    sse_kms_key_id = abc\n    sse_customer_key = AAEC\n",
        "    acl = private\n    grant_read = id=someone\n",
        // DVC checks SSE first.
        "    acl = private\n    grant_read = id=x\n    sse_customer_key = AAEC\n    \
         sse_kms_key_id = abc\n",
    ]
    .iter()
    .enumerate()
    {
        let repo = env.dvc_repo(&format!("case{i}"));
        repo.dvc_add_file("data.txt", "data\n");
        repo.write(
            ".dvc/config",
            format!(
                "[core]\n    remote = r\n['remote \"r\"']\n    url = s3://bkt/p\n    \
                 endpointurl = http://127.0.0.1:9\n{options}"
            ),
        );
        for args in [&["push"][..], &["status", "-c"]] {
            let theirs = repo.try_dvc(args);
            let ours = repo.try_git_dvc(args);
            theirs.assert_code(251);
            ours.assert_code(251);
            let dvc_lines: Vec<&str> = theirs.stderr.lines().collect();
            assert_eq!(dvc_lines.len(), 3, "{}", theirs.describe());
            assert!(
                dvc_lines[0].contains("mutually exclusive"),
                "{}",
                theirs.describe()
            );
            let our_lines: Vec<&str> = ours.stderr.lines().collect();
            assert_eq!(our_lines[..3], dvc_lines[..], "{options}{args:?}");
            assert_eq!(
                our_lines.get(3),
                Some(&"hint: in the options of remote 'r'")
            );
        }
    }
}

/// A revision whose committed `.dvc/config` DVC refuses: `push -T` skips it with DVC's
/// warning, `status -c -T` stops with DVC's error.
#[test]
fn a_revision_whose_config_dvc_refuses_fails_to_collect() {
    let env = TestEnv::new();
    let store = env.mkdir("store");
    let repo = env.dvc_repo("repo");
    repo.dvc(&["remote", "add", "-d", "r", store.to_str().unwrap()]);
    let good_config = repo.read(".dvc/config");
    repo.dvc_add_file("a.txt", "one\n");
    repo.commit_all("one");
    repo.dvc_add_file("a.txt", "two\n");
    let mut bad = String::from_utf8(good_config.clone()).unwrap();
    bad.push_str("    bogus = 1\n");
    repo.write(".dvc/config", &bad);
    repo.commit_all("bad config");
    repo.git(&["tag", "bad"]);
    repo.write(".dvc/config", &good_config);
    repo.dvc_add_file("a.txt", "three\n");
    repo.commit_all("good again");
    repo.git(&["tag", "good"]);
    // Trust the committed definitions, so only the schema decides (they match anyway).
    repo.git(&["config", "dvc.trustCommittedRemotes", "true"]);

    let theirs = repo.try_dvc(&["push", "-T"]);
    let ours = repo.try_git_dvc(&["push", "-T"]);
    assert_eq!(
        ours.code(),
        theirs.code(),
        "{}\n{}",
        ours.describe(),
        theirs.describe()
    );
    for run in [&ours, &theirs] {
        run.assert_stderr_contains("WARNING: failed to collect 'bad', skipping");
    }
    ours.assert_stderr_contains(
        "config file error: extra keys not allowed @ data['remote']['r']['bogus']",
    );
    let theirs = repo.try_dvc(&["status", "-c", "-T"]);
    let ours = repo.try_git_dvc(&["status", "-c", "-T"]);
    assert_eq!(
        ours.code(),
        theirs.code(),
        "{}\n{}",
        ours.describe(),
        theirs.describe()
    );
    let line = "ERROR: Failed to collect 'bad': config file error: extra keys not allowed @ \
                data['remote']['r']['bogus']";
    theirs.assert_stderr_contains(line);
    ours.assert_stderr_contains(line);

    // `-A` names each commit by its full id (and leaves `-a`/`-T` out); a commit met by
    // several names is named by all (`br,bad`), as DVC does.
    repo.git(&["branch", "br", "bad"]);
    let full = repo.rev_parse("bad");
    for (args, name) in [
        (&["push", "-A"][..], full.as_str()),
        (&["status", "-c", "-A"], full.as_str()),
        (&["push", "-a", "-A"], full.as_str()),
        (&["push", "-a", "-T"], "br,bad"),
    ] {
        let theirs = repo.try_dvc(args);
        let ours = repo.try_git_dvc(args);
        assert_eq!(ours.code(), theirs.code(), "{args:?}");
        let collect = |r: &Run| {
            r.stderr
                .lines()
                .filter(|l| l.to_lowercase().contains("failed to collect"))
                .map(|l| l.split('\'').nth(1).unwrap_or(l).to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(collect(&ours), collect(&theirs), "{args:?}");
        assert!(
            collect(&ours).first().map(String::as_str) == Some(name),
            "{args:?}: {}",
            ours.describe()
        );
    }
}

/// The server refuses a storage config DVC would refuse (fail closed: nothing is routed by
/// half a config), and a pushed `.dvc/config` DVC would refuse, checked on its own: a
/// remote whose URL lives in the clones' `config.local` is fine.
#[test]
fn the_server_refuses_configs_dvc_refuses() {
    let env = TestEnv::new();
    let server = Server::new(&env);
    let repo = client(&env, &server);
    repo.dvc_add_file("data.txt", "stored\n");
    let commit = repo.commit_all("data");
    repo.git_dvc(&["push", "-q"]);

    // The server's own config misspelt.
    let own = server.bare.dir.join("dvc/config");
    let good = fs::read_to_string(&own).unwrap();
    fs::write(&own, format!("{good}    jobz = 4\n")).unwrap();
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &commit);
    run.assert_stderr_contains("the server's DVC storage config for this repository is invalid");
    fs::write(&own, &good).unwrap();

    // A pushed config DVC cannot read.
    let mut config = String::from_utf8(repo.read(".dvc/config")).unwrap();
    let clean = config.clone();
    config.push_str("    sse_kms_keyid = abc\n");
    repo.write(".dvc/config", &config);
    let bad = repo.commit_all("misspelt option");
    let run = repo.try_git(&["push", "origin", "main"]);
    assert_rejected(&run, &server, "main", None, &bad);
    run.assert_stderr_contains(".dvc/config@")
        .assert_stderr_contains("extra keys not allowed @ data['remote']['r']['sse_kms_keyid']")
        .assert_stderr_contains("DVC would refuse it too");
    repo.git(&["reset", "-q", "--hard", "HEAD~1"]);

    // A remote whose URL the clones keep in config.local: readable alone.
    repo.write(
        ".dvc/config",
        format!("{clean}['remote \"backup\"']\n    jobs = 2\n    shared = group\n"),
    );
    let fine = repo.commit_all("backup remote, url local");
    assert_accepted(&repo.try_git(&["push", "origin", "main"]));
    assert_eq!(server.ref_("main").as_deref(), Some(&*fine));
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

/// The modes of every entry under `dir` (relative path → mode).
fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u32)>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_str().unwrap().to_string();
            out.push((rel, mode(&p)));
            if p.is_dir() {
                walk(root, &p, out);
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// `shared = group` (remote) and `cache.shared = group`: directories as DVC makes them
/// (02775), and a second user in the group pushes to the remote after the first; without
/// it, that push is refused by the file system, as with DVC.
#[test]
fn shared_group_lets_the_group_push() {
    // SAFETY: geteuid cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("note: not root: the second-user part needs setpriv as root; skipping");
        return;
    }
    const GROUP: u32 = 47321;
    const SECOND_USER: u32 = 47322;
    let env = TestEnv::new();
    // The second user must reach the repositories and the store.
    fs::set_permissions(env.root(), fs::Permissions::from_mode(0o755)).unwrap();
    let setup_store = |name: &str| {
        let store = env.mkdir(name);
        // What an administrator does for a team's store: its group, setgid.
        std::os::unix::fs::chown(&store, Some(0), Some(GROUP)).unwrap();
        fs::set_permissions(&store, fs::Permissions::from_mode(0o2775)).unwrap();
        store
    };
    let shared = setup_store("shared-store");
    let plain = setup_store("plain-store");
    let by_dvc = setup_store("dvc-store");

    let first = env.dvc_repo("first");
    first.dvc(&["config", "cache.shared", "group"]);
    first.write("a.txt", "first user's data\n");
    first.git_dvc(&["add", "-q", "a.txt"]);
    first.commit_all("a");
    let push_to = |repo: &Repo<'_>, store: &Path, shared_group: bool| {
        let mut text = format!(
            "[core]\n    remote = r\n['remote \"r\"']\n    url = {}\n",
            store.display()
        );
        if shared_group {
            text.push_str("    shared = group\n");
        }
        repo.write(".dvc/config.local", text);
    };
    push_to(&first, &by_dvc, true);
    first.dvc(&["push", "-q"]);
    push_to(&first, &shared, true);
    first.git_dvc(&["push", "-q"]);
    push_to(&first, &plain, false);
    first.git_dvc(&["push", "-q"]);
    assert_eq!(modes(&shared), modes(&by_dvc), "git dvc push vs dvc push");
    assert_eq!(mode(&shared.join("files/md5")), 0o2775);
    let cache_dirs: Vec<u32> = modes(&first.cache_dir())
        .into_iter()
        .filter(|(p, _)| first.cache_dir().join(p).is_dir())
        .map(|(_, m)| m)
        .collect();
    assert!(
        !cache_dirs.is_empty() && cache_dirs.iter().all(|m| *m == 0o2775),
        "{cache_dirs:?}"
    );

    // The second user: a clone with its own data, owned by them.
    let second = env.dvc_repo("second");
    second.dvc_add_file("b.txt", "second user's data\n");
    second.commit_all("b");
    let as_second_user = |store: &Path, shared_group: bool| -> Run {
        push_to(&second, store, shared_group);
        let status = Command::new("chown")
            .args(["-R", &format!("{SECOND_USER}:{GROUP}")])
            .arg(&second.dir)
            .status()
            .unwrap();
        assert!(status.success());
        let mut cmd = env.command("setpriv", &second.dir);
        cmd.args([
            "--reuid",
            &SECOND_USER.to_string(),
            "--regid",
            &GROUP.to_string(),
            "--clear-groups",
        ])
        .arg(git_dvc_bin())
        .arg("push");
        run_command(cmd, std::time::Duration::from_secs(120))
    };
    let run = as_second_user(&shared, true);
    assert!(run.success(), "{}", run.describe());
    assert_eq!(parse_pushed_line(run.stdout.trim()), Some(1));
    let run = as_second_user(&plain, false);
    assert!(!run.success(), "{}", run.describe());
    run.assert_stderr_contains("Permission denied");
}
