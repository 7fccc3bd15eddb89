//! AWS profiles that assume a role or run a `credential_process` (issue 20, "same
//! credential precedence"), side by side with real DVC against moto (which implements STS
//! `AssumeRole` and answers with `ASIA…` temporary keys), behind the recording proxy that
//! shows which access key signed each request:
//!
//! * a profile with its own static keys *and* `role_arn` + `source_profile`: both tools
//!   call STS with the source profile's keys and upload with the role's temporary keys,
//!   never with the profile's static ones;
//! * a profile with only `role_arn` + `source_profile`; one with `credential_process`;
//! * `mfa_serial` without a terminal, and a cycle of source profiles: git-dvc refuses,
//!   naming profile and option, before any request.

use crate::common;
use crate::remote_options::set_remote;

use std::os::unix::process::CommandExt;
use std::time::Duration;

use common::recording_proxy::{Recorded, RecordingProxy};
use common::remotes;
use common::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/pusher";

/// `tool push` in `repo`, in a session of its own (no controlling terminal, as in a hook
/// or CI), with the outside AWS variables removed and `vars` set.
fn push(repo: &Repo<'_>, tool: &str, vars: &[(&str, String)]) -> Run {
    let program = if tool == "dvc" {
        dvc3_bin()
    } else {
        git_dvc_bin()
    };
    let mut cmd = repo.env.command(program, &repo.dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.arg("push");
    // SAFETY: setsid is async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    run_command(cmd, Duration::from_secs(300))
}

/// The service of a SigV4 signature (`s3`, `sts`).
fn service(r: &Recorded) -> Option<&str> {
    let auth = r.header("authorization")?;
    auth.split("Credential=").nth(1)?.split('/').nth(3)
}

fn uploads(recorded: &[Recorded]) -> Vec<&Recorded> {
    recorded
        .iter()
        .filter(|r| r.method == "PUT" && r.target.contains("/files/md5/"))
        .collect()
}

#[test]
fn assumed_roles_and_credential_processes_sign_as_in_dvc() {
    let Some(endpoint) = remotes::server_var("GIT_DVC_TEST_S3_ENDPOINT") else {
        return;
    };
    let env = TestEnv::new();
    let port: u16 = endpoint.rsplit(':').next().unwrap().parse().unwrap();
    let proxy = RecordingProxy::start(port);
    let bucket = remotes::unique("profiles");
    remotes::create_s3_bucket(&endpoint, &bucket);

    let process = env.path("creds-process.sh");
    std::fs::write(
        &process,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \
         \"SecretAccessKey\": \"s\", \"SessionToken\": \"t\", \
         \"Expiration\": \"2099-01-01T00:00:00Z\"}'\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &process,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let config = env.path("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile both]\nrole_arn = {ROLE}\nsource_profile = src\n\
             role_session_name = git-dvc-test\n\
             [profile roleonly]\nrole_arn = {ROLE}\nsource_profile = src\nexternal_id = ext\n\
             [profile proc]\ncredential_process = {}\n\
             [profile mfa]\nrole_arn = {ROLE}\nsource_profile = src\n\
             mfa_serial = arn:aws:iam::123456789012:mfa/me\n\
             [profile loop1]\nrole_arn = {ROLE}\nsource_profile = loop2\n\
             [profile loop2]\nrole_arn = {ROLE}\nsource_profile = loop1\n",
            process.display()
        ),
    )
    .unwrap();
    let creds = env.path("aws-credentials");
    std::fs::write(
        &creds,
        "[both]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s\n\
         [mfa]\naws_access_key_id = AKIDSTATIC\naws_secret_access_key = s\n\
         [src]\naws_access_key_id = AKIDSOURCE\naws_secret_access_key = s\n",
    )
    .unwrap();
    let (config, creds) = (config.to_str().unwrap(), creds.to_str().unwrap());
    // STS through the proxy too (botocore's AWS_ENDPOINT_URL_STS).
    let vars = [("AWS_ENDPOINT_URL_STS", proxy.endpoint())];

    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 3);
    let proxied = proxy.endpoint();
    let configure = |profile: &str, tool: &str| {
        set_remote(
            &repo,
            &format!("s3://{bucket}/{profile}-{tool}"),
            &[
                ("endpointurl", proxied.as_str()),
                ("region", "us-east-1"),
                ("profile", profile),
                ("configpath", config),
                ("credentialpath", creds),
            ],
        );
    };
    let both = |profile: &str| {
        let mut out = Vec::new();
        for tool in ["dvc", "git-dvc"] {
            configure(profile, tool);
            proxy.take();
            let run = push(&repo, tool, &vars);
            out.push((tool, run, proxy.take()));
        }
        out
    };

    for profile in ["both", "roleonly"] {
        for (tool, run, sent) in both(profile) {
            assert!(run.success(), "{profile}: {tool}\n{}", run.describe());
            let sts: Vec<&Recorded> = sent.iter().filter(|r| service(r) == Some("sts")).collect();
            assert!(
                !sts.is_empty() && sts.iter().all(|r| r.access_key() == Some("AKIDSOURCE")),
                "{profile}: {tool}: STS calls {sts:#?}"
            );
            let puts = uploads(&sent);
            assert!(!puts.is_empty(), "{profile}: {tool} uploaded nothing");
            for r in puts {
                let key = r.access_key().unwrap_or_default();
                assert!(
                    key.starts_with("ASIA") && r.header("x-amz-security-token").is_some(),
                    "{profile}: {tool} signed {} with {key}, not the role's temporary key",
                    r.target
                );
            }
        }
    }

    for (tool, run, sent) in both("proc") {
        assert!(run.success(), "proc: {tool}\n{}", run.describe());
        let puts = uploads(&sent);
        assert!(
            !puts.is_empty()
                && puts.iter().all(|r| r.access_key() == Some("AKIDPROCESS")
                    && r.header("x-amz-security-token") == Some("t")),
            "proc: {tool}: {puts:#?}"
        );
    }

    // No terminal: git-dvc refuses before any request; DVC (getpass without a terminal)
    // uploads nothing with the profile's static keys either.
    let runs = both("mfa");
    let (_, theirs, theirs_sent) = &runs[0];
    assert!(
        uploads(theirs_sent)
            .iter()
            .all(|r| r.access_key() != Some("AKIDSTATIC")),
        "DVC: {}",
        theirs.describe()
    );
    let (_, mine, mine_sent) = &runs[1];
    mine.assert_code(251)
        .assert_stderr_contains("AWS profile 'mfa': `mfa_serial` needs an MFA code")
        .assert_stderr_contains("without a terminal");
    assert!(mine_sent.is_empty(), "{mine_sent:#?}");

    configure("loop1", "git-dvc");
    proxy.take();
    push(&repo, "git-dvc", &vars)
        .assert_code(251)
        .assert_stderr_contains("`source_profile = loop1` makes a cycle");
    assert!(proxy.take().is_empty());
}

/// A `credential_process` in an AWS config file inside the repository (named by a
/// committed `.dvc/config`'s `configpath`, which any branch can change): git-dvc's hooks run
/// by themselves, so the command is refused before it runs or any request is made, by the
/// commands and by the pre-push hook alike. The same profile in a file outside the
/// repository runs (see above).
#[test]
fn a_credential_process_from_a_file_in_the_repository_never_runs() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 1);
    let marker = env.path("ran");
    repo.write(
        "aws/config",
        format!(
            "[profile p]\ncredential_process = /bin/sh -c 'touch {}'\n",
            marker.display()
        ),
    );
    set_remote(
        &repo,
        "s3://bucket/prefix",
        &[
            ("endpointurl", "http://127.0.0.1:9"),
            ("region", "us-east-1"),
            ("profile", "p"),
            ("configpath", "../aws/config"),
        ],
    );
    repo.commit_all("a profile in the repository");
    for args in [&["push"][..], &["status", "-c"], &["fetch"]] {
        let mut cmd = repo.env.command(git_dvc_bin(), &repo.dir);
        cmd.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_CONFIG_FILE")
            .env_remove("AWS_SHARED_CREDENTIALS_FILE")
            .args(args);
        let run = run_command(cmd, std::time::Duration::from_secs(120));
        assert_ne!(run.code(), Some(0), "{args:?}: {}", run.describe());
        assert!(
            run.stderr.contains("credential_process")
                && run.stderr.contains("inside the git work tree"),
            "{args:?}: {}",
            run.describe()
        );
        assert!(!marker.exists(), "{args:?}: the command ran");
    }
}

/// A profile that neither AWS file has, named by the remote, `AWS_PROFILE` or
/// `AWS_DEFAULT_PROFILE` (botocore's first): `push` and `status -c` stop with botocore's
/// words as DVC's "unexpected error" (exit 255), whatever other keys there are; `fetch`
/// fails its downloads (exit 1). Side by side with DVC, no server needed.
#[test]
fn a_profile_no_file_has_stops_as_in_dvc() {
    let env = TestEnv::new();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 1);
    let aws = env.mkdir("aws");
    std::fs::write(
        aws.join("credentials"),
        "[there]\naws_access_key_id = a\naws_secret_access_key = b\n",
    )
    .unwrap();
    let files = [
        ("AWS_CONFIG_FILE", aws.join("config").display().to_string()),
        (
            "AWS_SHARED_CREDENTIALS_FILE",
            aws.join("credentials").display().to_string(),
        ),
    ];
    let run = |program: &std::path::Path, args: &[&str], vars: &[(&str, &str)]| {
        let mut cmd = repo.env.command(program, &repo.dir);
        for (k, _) in std::env::vars() {
            if k.starts_with("AWS_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(files.iter().map(|(k, v)| (*k, v.as_str())))
            .envs(vars.iter().copied())
            .args(args);
        run_command(cmd, Duration::from_secs(120))
    };
    let base = [
        ("endpointurl", "http://127.0.0.1:9"),
        ("region", "us-east-1"),
    ];
    type Pairs<'a> = &'a [(&'a str, &'a str)];
    let cases: [(Pairs, Pairs); 4] = [
        (&[("profile", "nosuch")], &[("AWS_PROFILE", "there")]),
        (
            &[],
            &[
                ("AWS_PROFILE", "nosuch"),
                ("AWS_ACCESS_KEY_ID", "k"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
            ],
        ),
        (
            &[],
            &[("AWS_DEFAULT_PROFILE", "nosuch"), ("AWS_PROFILE", "there")],
        ),
        (
            &[
                ("profile", "nosuch"),
                ("access_key_id", "k"),
                ("secret_access_key", "s"),
            ],
            &[],
        ),
    ];
    for (options, vars) in cases {
        let mut all = base.to_vec();
        all.extend_from_slice(options);
        set_remote(&repo, "s3://bucket/prefix", &all);
        for args in [&["push"][..], &["status", "-c"]] {
            let theirs = run(&dvc3_bin(), args, vars);
            let ours = run(&git_dvc_bin(), args, vars);
            theirs.assert_code(255);
            ours.assert_code(255);
            let lines = theirs.stderr.lines().count();
            assert!(
                theirs.stderr.starts_with(
                    "ERROR: unexpected error - The config profile (nosuch) could not be found\n"
                ),
                "{}",
                theirs.describe()
            );
            assert!(
                ours.stderr.starts_with(&theirs.stderr),
                "{options:?} {vars:?} {args:?}\nours: {}\nDVC: {}",
                ours.describe(),
                theirs.describe()
            );
            let rest: Vec<&str> = ours.stderr.lines().skip(lines).collect();
            assert!(
                rest.len() == 1 && rest[0].starts_with("hint: profile 'nosuch'"),
                "{}",
                ours.describe()
            );
        }
        let theirs = run(&dvc3_bin(), &["fetch"], vars);
        let ours = run(&git_dvc_bin(), &["fetch"], vars);
        theirs.assert_code(1);
        ours.assert_code(1);
        for r in [&theirs, &ours] {
            r.assert_stderr_contains("The config profile (nosuch) could not be found");
            r.assert_stderr_contains("ERROR: failed to fetch data from the cloud - ");
        }
    }
}
