//! SSH remotes reached the way users' OpenSSH client configuration says: private sshd
//! instances on 127.0.0.1 (the program and config `scripts/test.sh` exports as
//! `GIT_DVC_TEST_SFTPD`/`_CONFIG`), a `~/.ssh/config` in the test's HOME, and each scenario
//! pushed by `git dvc push` and read back by real `dvc pull` (asyncssh reads the same
//! config):
//!
//! * a `ProxyJump` chain whose last bastion runs in a private mount namespace with its own
//!   `/etc/hosts`: the target's name resolves there and nowhere else, so the data can only
//!   have gone through the bastions;
//! * `ProxyCommand nc %h %p`;
//! * `Include` of a `conf.d/*.conf` whose `Match originalhost … exec …` block sets the
//!   host, port, user and an `IdentityFile` with `%r`/`%n` tokens;
//! * `IdentityAgent` naming an ssh-agent socket (no key file anywhere);
//! * host keys checked under the HostName connected to (patterns, hashes, ports as ssh
//!   reads them; the plain key even from a server with a host certificate),
//!   `StrictHostKeyChecking yes` and `no`, `@revoked`; `ConnectTimeout` bounding a server
//!   that never speaks;
//! * a configured `IdentityFile` that cannot be used is named in the failure;
//! * `ask_passphrase` in a hook and without a terminal fails saying how to give it, and
//!   on a terminal is asked for without echo.

use crate::common;

use std::fs;
use std::net::ToSocketAddrs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::remotes::{self, RemoteSetup, Server};
use common::TestEnv;

const TARGET_NAME: &str = "dvc-target.internal";

/// The sshd program, its config (host key, authorized keys, SFTP), the login and its key.
struct Kit {
    sshd: String,
    config: String,
    user: String,
    key: String,
}

fn kit() -> Option<Kit> {
    let [sshd, config, user, key] = remotes::server_vars([
        "GIT_DVC_TEST_SFTPD",
        "GIT_DVC_TEST_SFTPD_CONFIG",
        "GIT_DVC_TEST_SFTP_USER",
        "GIT_DVC_TEST_SFTP_KEY",
    ])?;
    Some(Kit {
        sshd,
        config,
        user,
        key,
    })
}

impl Kit {
    /// A private sshd on a free port; with `hosts`, inside a mount namespace where that
    /// file is `/etc/hosts`.
    fn start(&self, env: &TestEnv, name: &str, hosts: Option<&Path>) -> Server {
        let port = remotes::free_port();
        let log = env.path(&format!("{name}.log"));
        let cmd = match hosts {
            None => {
                let mut c = Command::new(&self.sshd);
                c.args(["-D", "-e", "-f", &self.config, "-p", &port.to_string()]);
                c
            }
            Some(hosts) => {
                let mut c = Command::new("unshare");
                c.args(["-m", "--propagation", "private", "sh", "-c"])
                    .arg(r#"mount --bind "$0" /etc/hosts && exec "$1" -D -e -f "$2" -p "$3""#)
                    .arg(hosts)
                    .args([&self.sshd, &self.config, &port.to_string()]);
                c
            }
        };
        Server::start(name, cmd, port, &log)
    }

    /// `type base64` of the servers' host key.
    fn host_key(&self) -> String {
        let config = fs::read_to_string(&self.config).unwrap();
        let path = config
            .lines()
            .find_map(|l| l.strip_prefix("HostKey "))
            .expect("HostKey in the sshd config")
            .trim();
        let public = fs::read_to_string(format!("{path}.pub")).unwrap();
        public
            .split_whitespace()
            .take(2)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Writes `~/.ssh/config` (mode 600, as ssh insists) in the test's HOME.
fn write_ssh_config(env: &TestEnv, text: &str) -> PathBuf {
    let dir = env.mkdir("home/.ssh");
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
    let file = dir.join("config");
    fs::write(&file, text).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o600)).unwrap();
    file
}

/// A copy of the login key the test may move and rename (ssh wants mode 600).
fn copy_key(kit: &Kit, to: &Path) {
    fs::create_dir_all(to.parent().unwrap()).unwrap();
    fs::copy(&kit.key, to).unwrap();
    fs::set_permissions(to, fs::Permissions::from_mode(0o600)).unwrap();
}

fn data_dir(env: &TestEnv, label: &str) -> (PathBuf, String) {
    let dir = env.mkdir(&format!("storage-{label}"));
    let url = format!("ssh://dvc-store{}", dir.display());
    (dir, url)
}

#[test]
fn proxy_jump_chain_to_a_name_only_the_last_bastion_resolves() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let outer = kit.start(&env, "outer-bastion", None);
    let hosts = env.path("bastion-hosts");
    fs::write(
        &hosts,
        format!("127.0.0.1 localhost\n127.0.0.1 {TARGET_NAME}\n"),
    )
    .unwrap();
    let inner = kit.start(&env, "inner-bastion", Some(&hosts));
    assert!(
        (TARGET_NAME, 22).to_socket_addrs().is_err(),
        "{TARGET_NAME} must not resolve outside the bastion's namespace"
    );
    let known = env.path("home/.ssh/known_hosts");
    let key = kit.host_key();
    let config = write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName {TARGET_NAME}\n  Port {tp}\n  ProxyJump outer,inner\n\
             \x20 StrictHostKeyChecking yes\n\
             Host outer\n  HostName 127.0.0.1\n  Port {op}\n\
             Host inner\n  HostName 127.0.0.1\n  Port {ip}\n\
             Host *\n  User {user}\n  IdentityFile {key_file}\n  UserKnownHostsFile {known}\n\
             \x20 StrictHostKeyChecking yes\n",
            tp = target.port,
            op = outer.port,
            ip = inner.port,
            user = kit.user,
            key_file = kit.key,
            known = known.display(),
        ),
    );
    // Every host key under the name each hop connects to: the bastions' addresses, and the
    // target's HostName as the last bastion reaches it.
    fs::write(
        &known,
        format!(
            "[127.0.0.1]:{} {key}\n[127.0.0.1]:{} {key}\n[{TARGET_NAME}]:{} {key}\n",
            outer.port, inner.port, target.port
        ),
    )
    .unwrap();
    let (dir, url) = data_dir(&env, "jump");
    remotes::push_then_dvc_pull(&env, &RemoteSetup::new(url, &[]));
    assert!(remotes::dir_has_files(&dir.join("files")));

    // The target's key recorded under its HostName is what is checked: a wrong one there
    // is refused, although the URL's alias has no entry at all.
    fs::write(
        &known,
        format!(
            "[127.0.0.1]:{} {key}\n[127.0.0.1]:{} {key}\n[{TARGET_NAME}]:{} {}\n",
            outer.port,
            inner.port,
            target.port,
            other_host_key(&env)
        ),
    )
    .unwrap();
    let repo = env.dvc_repo("refused");
    remotes::sample_data(&repo, 5);
    let (_, url) = data_dir(&env, "jump-refused");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("host key of [{TARGET_NAME}]:{}", target.port));
    run.assert_stderr_contains("does not match");
    drop(config);
}

/// HOME is not the account's home here (as on CI runners and in sandboxes): the ProxyJump
/// hop, a separate `ssh` reading a generated config, uses the key and the default
/// known_hosts that `~` names under $HOME, as the main connection and DVC do, not those
/// under the account's home (where there are none).
#[test]
fn proxy_jump_hop_reads_the_files_under_home() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let bastion = kit.start(&env, "bastion", None);
    let config = write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {tp}\n  User {user}\n\
             \x20 IdentityFile ~/.ssh/target_key\n  ProxyJump jump\n  StrictHostKeyChecking yes\n\
             Host jump\n  HostName 127.0.0.1\n  Port {bp}\n  User {user}\n\
             \x20 IdentityFile ~/.ssh/jump_key\n  StrictHostKeyChecking yes\n",
            tp = target.port,
            bp = bastion.port,
            user = kit.user,
        ),
    );
    copy_key(&kit, &env.path("home/.ssh/jump_key"));
    copy_key(&kit, &env.path("home/.ssh/target_key"));
    let key = kit.host_key();
    fs::write(
        env.path("home/.ssh/known_hosts"),
        format!(
            "[127.0.0.1]:{} {key}\n[127.0.0.1]:{} {key}\n",
            bastion.port, target.port
        ),
    )
    .unwrap();
    let (dir, url) = data_dir(&env, "jump-home");
    remotes::push_then_dvc_pull(&env, &RemoteSetup::new(url, &[]));
    assert!(remotes::dir_has_files(&dir.join("files")));
    drop(config);
}

/// A fresh ed25519 public key (`type base64`), standing for a server's changed key.
fn other_host_key(env: &TestEnv) -> String {
    let path = env.path("other_host_key");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = fs::read_to_string(path.with_extension("pub")).unwrap();
    public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn proxy_command_carries_the_connection() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let log = env.path("proxy-command.log");
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n\
             \x20 ProxyCommand sh -c 'echo \"%n via %h:%p\" >> {}; exec nc %h %p'\n",
            target.port,
            kit.user,
            kit.key,
            log.display()
        ),
    );
    let (dir, url) = data_dir(&env, "proxy-command");
    remotes::push_then_dvc_pull(&env, &RemoteSetup::new(url, &[]));
    assert!(remotes::dir_has_files(&dir.join("files")));
    let seen = fs::read_to_string(&log).unwrap();
    assert!(
        seen.contains(&format!("dvc-store via 127.0.0.1:{}", target.port)),
        "{seen}"
    );
}

#[test]
fn include_and_match_exec_choose_host_user_and_key() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let conf_d = env.mkdir("ssh-conf.d");
    let keys = env.path("keys");
    // The key only under the name the tokens build: id_<user>_<original host>.
    copy_key(&kit, &keys.join(format!("id_{}_dvc-store", kit.user)));
    let flag = env.path("on-vpn");
    fs::write(
        conf_d.join("storage.conf"),
        format!(
            "Match originalhost dvc-store exec \"test -e {flag}\"\n  HostName 127.0.0.1\n  \
             Port {port}\n  User {user}\n  IdentityFile {keys}/id_%r_%n\n\
             Host dvc-store\n  HostName 127.0.0.1\n  Port 1\n",
            flag = flag.display(),
            port = target.port,
            user = kit.user,
            keys = keys.display(),
        ),
    )
    .unwrap();
    write_ssh_config(&env, &format!("Include {}/*.conf\n", conf_d.display()));
    // Off the VPN the Match does not apply: the Host block's dead port is used.
    let repo = env.dvc_repo("off");
    remotes::sample_data(&repo, 3);
    let (_, url) = data_dir(&env, "off");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[("timeout", "5")]));
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("cannot connect");

    fs::write(&flag, "").unwrap();
    let (dir, url) = data_dir(&env, "match");
    remotes::push_then_dvc_pull(&env, &RemoteSetup::new(url, &[]));
    assert!(remotes::dir_has_files(&dir.join("files")));
}

#[test]
fn identity_agent_socket_from_the_config() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let (socket, _stop) = start_agent(&env, &[Path::new(&kit.key)]);
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityAgent {}\n",
            target.port,
            kit.user,
            socket.display()
        ),
    );
    let (dir, url) = data_dir(&env, "agent");
    remotes::push_then_dvc_pull(&env, &RemoteSetup::new(url, &[]));
    assert!(remotes::dir_has_files(&dir.join("files")));
}

/// An ssh-agent on a socket in the test directory holding `keys`; stopped on drop.
fn start_agent(env: &TestEnv, keys: &[&Path]) -> (PathBuf, StopAgent) {
    let socket = env.path("agent.sock");
    let agent = Command::new("ssh-agent")
        .arg("-a")
        .arg(&socket)
        .output()
        .unwrap();
    assert!(agent.status.success(), "{agent:?}");
    let text = String::from_utf8_lossy(&agent.stdout);
    let pid: i32 = text
        .split("SSH_AGENT_PID=")
        .nth(1)
        .and_then(|r| r.split(';').next())
        .and_then(|p| p.parse().ok())
        .expect("ssh-agent prints its pid");
    let stop = StopAgent(pid);
    for key in keys {
        let added = Command::new("ssh-add")
            .arg(key)
            .env("SSH_AUTH_SOCK", &socket)
            .output()
            .unwrap();
        assert!(added.status.success(), "{added:?}");
    }
    (socket, stop)
}

struct StopAgent(i32);

impl Drop for StopAgent {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the ssh-agent this test started.
        unsafe {
            libc::kill(self.0, libc::SIGTERM);
        }
    }
}

#[test]
fn strict_host_key_checking_yes_refuses_an_unknown_host_and_accepts_a_known_one() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let known = env.path("home/.ssh/known_hosts");
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n\
             \x20 StrictHostKeyChecking yes\n  UserKnownHostsFile {}\n",
            target.port,
            kit.user,
            kit.key,
            known.display()
        ),
    );
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 8);
    let (dir, url) = data_dir(&env, "strict");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("StrictHostKeyChecking is yes");
    // Recorded under the alias only: still unknown (the alias is not what is connected to).
    fs::write(
        &known,
        format!("[dvc-store]:{} {}\n", target.port, kit.host_key()),
    )
    .unwrap();
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains("StrictHostKeyChecking is yes");
    fs::write(
        &known,
        format!("[127.0.0.1]:{} {}\n", target.port, kit.host_key()),
    )
    .unwrap();
    repo.git_dvc(&["push"])
        .assert_stdout_is(&common::pushed_line(remotes::SAMPLE_OBJECTS));
    assert!(remotes::dir_has_files(&dir.join("files")));
}

#[test]
fn unusable_identity_files_are_named() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let missing = env.path("keys/id_missing");
    let garbage = env.path("keys/id_garbage");
    fs::create_dir_all(garbage.parent().unwrap()).unwrap();
    fs::write(&garbage, "this is not a private key\n").unwrap();
    fs::set_permissions(&garbage, fs::Permissions::from_mode(0o600)).unwrap();
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n\
             \x20 IdentityFile {}\n  IdentityAgent none\n",
            target.port,
            kit.user,
            missing.display(),
            garbage.display()
        ),
    );
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 9);
    let (_, url) = data_dir(&env, "keys");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("IdentityFile {} (not found)", missing.display()));
    run.assert_stderr_contains(&format!(
        "IdentityFile {} (not a usable private key",
        garbage.display()
    ));
}

/// `ask_passphrase` with an encrypted key: the pre-push hook and a run without a terminal
/// fail, saying how to provide the passphrase; with it in `.dvc/config.local` the push
/// goes through (and real `dvc pull` reads the key with it too).
#[test]
fn ask_passphrase_fails_unattended_with_the_way_out() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let key = env.path("keys/id_locked");
    copy_key(&kit, &key);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-p", "-N", "open sesame", "-P", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityAgent none\n\
             \x20 HashKnownHosts no\n",
            target.port, kit.user
        ),
    );
    let (dir, url) = data_dir(&env, "ask");
    let key_s = key.to_str().unwrap();
    let asking = RemoteSetup::new(
        url.clone(),
        &[("keyfile", key_s), ("ask_passphrase", "true")],
    );
    let repo = env.dvc_repo("asking");
    remotes::sample_data(&repo, 10);
    remotes::configure_remote(&repo, &asking);
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("ask_passphrase = true");
    run.assert_stderr_contains("without a terminal");
    run.assert_stderr_contains("dvc remote modify --local r passphrase");

    // The same from the pre-push hook, through a real `git push`.
    let server = env.bare_repo("server.git");
    repo.git(&["remote", "add", "origin", server.dir.to_str().unwrap()]);
    repo.git_dvc(&["install"]);
    let pushed = repo.try_git(&["push", "origin", "HEAD:main"]);
    assert!(!pushed.status.success(), "{}", pushed.describe());
    pushed.assert_stderr_contains("in a hook");
    pushed.assert_stderr_contains("ssh-add");

    // An encrypted key without ask_passphrase and without a passphrase: named, and why.
    remotes::configure_remote(&repo, &RemoteSetup::new(url.clone(), &[("keyfile", key_s)]));
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains(&format!("keyfile {key_s} (encrypted"));

    let given = RemoteSetup::new(url, &[("keyfile", key_s), ("passphrase", "open sesame")]);
    remotes::push_then_dvc_pull(&env, &given);
    assert!(remotes::dir_has_files(&dir.join("files")));
}

/// On a terminal (a pseudo-terminal from util-linux `script`), `ask_passphrase` is asked
/// for as DVC asks (`Enter a passphrase for …:`), without echo, and the push goes through.
#[test]
fn ask_passphrase_prompts_on_a_terminal() {
    let Some(kit) = kit() else {
        return;
    };
    if Command::new("script").arg("--version").output().is_err() {
        panic!("`script` (util-linux) is needed for the terminal prompt test");
    }
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let key = env.path("keys/id_locked");
    copy_key(&kit, &key);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-p", "-N", "typed at the prompt", "-P", "", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityAgent none\n\
             \x20 HashKnownHosts no\n",
            target.port, kit.user
        ),
    );
    let (dir, url) = data_dir(&env, "tty");
    let repo = env.dvc_repo("tty");
    remotes::sample_data(&repo, 12);
    remotes::configure_remote(
        &repo,
        &RemoteSetup::new(
            url,
            &[
                ("keyfile", key.to_str().unwrap()),
                ("ask_passphrase", "true"),
            ],
        ),
    );
    let mut cmd = env.command("script", &repo.dir);
    cmd.args(["-q", "-e", "-c"])
        .arg(format!("{} push", common::git_dvc_bin().display()))
        .arg("/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<Vec<u8>>();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !String::from_utf8_lossy(&seen).contains("Enter a passphrase for dvc-store:") {
        assert!(
            std::time::Instant::now() < deadline,
            "no prompt; the terminal showed: {}",
            String::from_utf8_lossy(&seen)
        );
        if let Ok(chunk) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            seen.extend(chunk);
        }
    }
    use std::io::Write;
    stdin.write_all(b"typed at the prompt\n").unwrap();
    stdin.flush().unwrap();
    // The host is unknown and StrictHostKeyChecking is ask (the default): asked as ssh
    // asks, and recorded once accepted.
    while !String::from_utf8_lossy(&seen).contains("continue connecting (yes/no/[fingerprint])? ") {
        assert!(
            std::time::Instant::now() < deadline,
            "no host key question; the terminal showed: {}",
            String::from_utf8_lossy(&seen)
        );
        if let Ok(chunk) = rx.recv_timeout(std::time::Duration::from_millis(200)) {
            seen.extend(chunk);
        }
    }
    assert!(
        String::from_utf8_lossy(&seen).contains("ED25519 key fingerprint is SHA256:")
            || String::from_utf8_lossy(&seen).contains("key fingerprint is SHA256:"),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    stdin.write_all(b"yes\n").unwrap();
    stdin.flush().unwrap();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "git dvc push did not finish"
        );
        while let Ok(chunk) = rx.try_recv() {
            seen.extend(chunk);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    drop(stdin);
    while let Ok(chunk) = rx.recv_timeout(std::time::Duration::from_millis(500)) {
        seen.extend(chunk);
    }
    let shown = String::from_utf8_lossy(&seen);
    assert!(status.success(), "{status:?}: {shown}");
    assert!(!shown.contains("typed at the prompt"), "echoed: {shown}");
    assert!(
        shown.contains(&common::pushed_line(remotes::SAMPLE_OBJECTS)),
        "{shown}"
    );
    assert!(remotes::dir_has_files(&dir.join("files")));
    let known = fs::read_to_string(env.path("home/.ssh/known_hosts")).unwrap();
    assert_eq!(
        known,
        format!("[127.0.0.1]:{} {}\n", target.port, kit.host_key()),
        "{shown}"
    );
}

/// `StrictHostKeyChecking accept-new` pins the key on first use, as `ssh` does: a fresh
/// known_hosts (in a directory created 0700) gets one line, hashed with `HashKnownHosts
/// yes`, and a later connection meeting another key is refused with the `ssh-keygen -R
/// … -f FILE` that removes the entry. `ask` with `BatchMode yes` refuses an unknown host
/// and records nothing.
#[test]
fn accept_new_records_the_key_and_refuses_a_changed_one() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let pinned = env.path("home/.ssh/pinned/known_hosts");
    let config = |extra: &str| {
        write_ssh_config(
            &env,
            &format!(
                "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n\
                 \x20 UserKnownHostsFile ~/.ssh/pinned/known_hosts\n{extra}",
                target.port, kit.user, kit.key
            ),
        )
    };
    config("  StrictHostKeyChecking ask\n  BatchMode yes\n");
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 15);
    let (dir, url) = data_dir(&env, "pinned");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains("BatchMode yes");
    assert!(!pinned.exists());

    // Debian's /etc/ssh/ssh_config says HashKnownHosts yes: the user's `no` comes first.
    config("  StrictHostKeyChecking accept-new\n  HashKnownHosts no\n");
    let run = repo.git_dvc(&["push"]);
    run.assert_stderr_contains("permanently added the host key of '[127.0.0.1]:");
    assert!(remotes::dir_has_files(&dir.join("files")));
    let text = fs::read_to_string(&pinned).unwrap();
    assert_eq!(
        text,
        format!("[127.0.0.1]:{} {}\n", target.port, kit.host_key())
    );
    let mode = fs::metadata(pinned.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);

    // The server's key changes: refused, and the file is left as it was.
    fs::write(
        &pinned,
        format!("[127.0.0.1]:{} {}\n", target.port, other_host_key(&env)),
    )
    .unwrap();
    let changed = fs::read_to_string(&pinned).unwrap();
    repo.write("more.txt", "after the key changed\n");
    repo.dvc(&["add", "-q", "more.txt"]);
    repo.commit_all("more");
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains("does not match")
        .assert_stderr_contains(&format!("-f '{}'", pinned.display()));
    assert_eq!(fs::read_to_string(&pinned).unwrap(), changed);

    // HashKnownHosts: the name is hashed, and found again.
    fs::remove_file(&pinned).unwrap();
    config("  StrictHostKeyChecking accept-new\n  HashKnownHosts yes\n");
    repo.git_dvc(&["push"]);
    let text = fs::read_to_string(&pinned).unwrap();
    assert!(
        text.starts_with("|1|") && !text.contains("127.0.0.1"),
        "{text}"
    );
    config("  StrictHostKeyChecking yes\n");
    repo.write("last.txt", "known now\n");
    repo.dvc(&["add", "-q", "last.txt"]);
    repo.commit_all("last");
    repo.git_dvc(&["push"]);
    assert_eq!(fs::read_to_string(&pinned).unwrap(), text);
}

/// `StrictHostKeyChecking no`: a changed key is reported and accepted, as `ssh` does; a key
/// marked `@revoked` is refused whatever the setting.
#[test]
fn changed_key_with_checking_off_and_revoked_key() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let known = env.path("home/.ssh/known_hosts");
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n\
             \x20 StrictHostKeyChecking no\n  UserKnownHostsFile {}\n",
            target.port,
            kit.user,
            kit.key,
            known.display()
        ),
    );
    fs::write(
        &known,
        format!("[127.0.0.1]:{} {}\n", target.port, other_host_key(&env)),
    )
    .unwrap();
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 13);
    let (dir, url) = data_dir(&env, "changed");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    let run = repo.git_dvc(&["push"]);
    run.assert_stdout_is(&common::pushed_line(remotes::SAMPLE_OBJECTS));
    run.assert_stderr_contains("does not match");
    run.assert_stderr_contains("StrictHostKeyChecking no");
    assert!(remotes::dir_has_files(&dir.join("files")));

    assert_revoked_key_is_refused(&repo, &known, &kit);
}

/// `ConnectTimeout` bounds a server that accepts the connection and never speaks (the
/// remote sets no `timeout`; DVC's default would be 1800 s), once per run, as `ssh` waits it.
#[test]
fn connect_timeout_from_the_config_bounds_a_silent_server() {
    let Some(_kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(conn);
        }
    });
    write_ssh_config(
        &env,
        &format!("Host dvc-store\n  HostName 127.0.0.1\n  Port {port}\n  ConnectTimeout 2\n"),
    );
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 14);
    let (_, url) = data_dir(&env, "silent");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    let started = std::time::Instant::now();
    let run = repo.try_git_dvc(&["push"]);
    let took = started.elapsed();
    run.assert_code(1);
    run.assert_stderr_contains("handshake");
    // One attempt, given up after the 2 s configured, as `ssh` gives up (without
    // ConnectTimeout it would wait 120 s), and not made again by retries or other jobs.
    assert!(took.as_millis() < 4500, "took {took:?}\n{}", run.describe());
    run.assert_stderr_contains("timed out after 2 s; not tried again");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "{}",
        run.describe()
    );
}

/// `~/.ssh/config` for `dvc-store` going to `port` with `StrictHostKeyChecking yes` and the
/// test's own known_hosts file (returned).
/// With the server's key `@revoked` in `known`, the next push (of new data) is refused.
#[track_caller]
fn assert_revoked_key_is_refused(repo: &common::Repo<'_>, known: &Path, kit: &Kit) {
    fs::write(known, format!("@revoked * {}\n", kit.host_key())).unwrap();
    repo.write("more.txt", "after the revocation\n");
    repo.dvc(&["add", "-q", "more.txt"]);
    repo.commit_all("more");
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains("@revoked");
}

fn strict_config(env: &TestEnv, kit: &Kit, port: u16) -> PathBuf {
    let known = env.path("home/.ssh/known_hosts");
    write_ssh_config(
        env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {port}\n  User {}\n  IdentityFile {}\n\
             \x20 StrictHostKeyChecking yes\n  UserKnownHostsFile {}\n",
            kit.user,
            kit.key,
            known.display()
        ),
    );
    known
}

/// known_hosts lines are matched as `ssh` matches them (libssh2 compares names literally):
/// a wildcard entry with another key is a changed key, not an unknown host; a `!negated`
/// pattern excludes the line; a hashed name is found; an entry without a port is for port
/// 22 only.
#[test]
fn known_hosts_patterns_hashes_and_ports_as_ssh_reads_them() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let known = strict_config(&env, &kit, target.port);
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 15);
    let (dir, url) = data_dir(&env, "patterns");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    let other = other_host_key(&env);
    let entry = format!("[127.0.0.1]:{}", target.port);

    for hosts in ["[127.0.0.1]:*", "*", "nothere,[127.0.0.?]:*"] {
        fs::write(&known, format!("{hosts} {other}\n")).unwrap();
        let run = repo.try_git_dvc(&["push"]);
        run.assert_code(1);
        run.assert_stderr_contains("does not match");
        run.assert_stderr_contains(&format!("ssh-keygen -R '{entry}'"));
    }
    // A negated pattern takes the line away: unknown (and refused, strict).
    fs::write(&known, format!("*,![127.0.0.1]:* {other}\n")).unwrap();
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains(&format!("host key of {entry} is not in"));
    // No port: port 22 only.
    fs::write(&known, format!("127.0.0.1 {}\n", kit.host_key())).unwrap();
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains("StrictHostKeyChecking is yes");
    // Hashed by ssh-keygen itself.
    fs::write(&known, format!("{entry} {}\n", kit.host_key())).unwrap();
    let out = Command::new("ssh-keygen")
        .arg("-H")
        .arg("-f")
        .arg(&known)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(fs::read_to_string(&known).unwrap().starts_with("|1|"));
    repo.git_dvc(&["push"])
        .assert_stdout_is(&common::pushed_line(remotes::SAMPLE_OBJECTS));
    assert!(remotes::dir_has_files(&dir.join("files")));
}

/// A server offering a host certificate is asked for its plain key: `@revoked` sees the
/// key inside the certificate, and an `@cert-authority` line alone leaves the host unknown.
#[test]
fn host_certificates_are_not_negotiated() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let keys = env.mkdir("certkit");
    let config = fs::read_to_string(&kit.config).unwrap();
    let host_key = config
        .lines()
        .find_map(|l| l.strip_prefix("HostKey "))
        .unwrap()
        .trim();
    let copied = keys.join("host_key");
    fs::copy(host_key, &copied).unwrap();
    fs::copy(format!("{host_key}.pub"), keys.join("host_key.pub")).unwrap();
    fs::set_permissions(&copied, fs::Permissions::from_mode(0o600)).unwrap();
    let ca = keys.join("ca");
    let keygen = |args: &[&str]| {
        let out = Command::new("ssh-keygen").args(args).output().unwrap();
        assert!(out.status.success(), "{out:?}");
    };
    keygen(&["-q", "-t", "ed25519", "-N", "", "-f", ca.to_str().unwrap()]);
    keygen(&[
        "-q",
        "-s",
        ca.to_str().unwrap(),
        "-I",
        "host",
        "-h",
        "-n",
        "127.0.0.1",
        keys.join("host_key.pub").to_str().unwrap(),
    ]);
    let derived = keys.join("sshd_config");
    let mut text = String::new();
    for line in config.lines() {
        if line.starts_with("HostKey ") {
            text.push_str(&format!(
                "HostKey {}\nHostCertificate {}\n",
                copied.display(),
                keys.join("host_key-cert.pub").display()
            ));
        } else {
            text.push_str(line);
            text.push('\n');
        }
    }
    fs::write(&derived, text).unwrap();
    let cert_kit = Kit {
        sshd: kit.sshd.clone(),
        config: derived.display().to_string(),
        user: kit.user.clone(),
        key: kit.key.clone(),
    };
    let target = cert_kit.start(&env, "cert-sshd", None);
    let known = strict_config(&env, &kit, target.port);
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 16);
    let (dir, url) = data_dir(&env, "cert");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));

    let ca_public = fs::read_to_string(ca.with_extension("pub")).unwrap();
    fs::write(&known, format!("@cert-authority * {ca_public}")).unwrap();
    repo.try_git_dvc(&["push"])
        .assert_code(1)
        .assert_stderr_contains("StrictHostKeyChecking is yes");
    // The plain key recorded: known, whatever the certificate.
    fs::write(
        &known,
        format!("[127.0.0.1]:{} {}\n", target.port, kit.host_key()),
    )
    .unwrap();
    repo.git_dvc(&["push"])
        .assert_stdout_is(&common::pushed_line(remotes::SAMPLE_OBJECTS));
    assert!(remotes::dir_has_files(&dir.join("files")));
    assert_revoked_key_is_refused(&repo, &known, &kit);
}

/// `ssh://host/path?query`: the query is not part of the path, as DVC reads the URL; git-dvc
/// pushes where real `dvc push` and `dvc pull` look.
#[test]
fn url_query_is_not_part_of_the_path() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    write_ssh_config(
        &env,
        &format!(
            "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityFile {}\n",
            target.port, kit.user, kit.key
        ),
    );
    let (dir, url) = data_dir(&env, "query");
    remotes::push_then_dvc_pull(&env, &RemoteSetup::new(format!("{url}?x=1"), &[]));
    assert!(remotes::dir_has_files(&dir.join("files")));
}

/// A fresh key pair (not authorized on the servers) at `path` and `path.pub`.
fn junk_key(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// `IdentitiesOnly yes`: the agent offers only the keys of the identity files (found by
/// their `.pub`), so an agent key that would log in is not used unless it is one of them.
#[test]
fn identities_only_limits_the_agent_to_the_identity_files() {
    let Some(kit) = kit() else {
        return;
    };
    let env = TestEnv::new();
    let target = kit.start(&env, "target-sshd", None);
    let (socket, _stop) = start_agent(&env, &[Path::new(&kit.key)]);
    let ids = env.mkdir("ids");
    junk_key(&ids.join("other"));
    // Only the public half of the login key: the agent holds the private one.
    fs::copy(format!("{}.pub", kit.key), ids.join("login.pub")).unwrap();
    let config = |identity: &str| {
        write_ssh_config(
            &env,
            &format!(
                "Host dvc-store\n  HostName 127.0.0.1\n  Port {}\n  User {}\n  IdentityAgent {}\n\
                 \x20 IdentitiesOnly yes\n  IdentityFile {}\n",
                target.port,
                kit.user,
                socket.display(),
                ids.join(identity).display()
            ),
        );
    };
    let repo = env.dvc_repo("repo");
    remotes::sample_data(&repo, 17);
    let (dir, url) = data_dir(&env, "identities-only");
    remotes::configure_remote(&repo, &RemoteSetup::new(url, &[]));
    config("other");
    let run = repo.try_git_dvc(&["push"]);
    run.assert_code(1);
    run.assert_stderr_contains("IdentitiesOnly yes: none of its 1 keys");
    assert!(!remotes::dir_has_files(&dir.join("files")));
    config("login");
    repo.git_dvc(&["push"])
        .assert_stdout_is(&common::pushed_line(remotes::SAMPLE_OBJECTS));
    assert!(remotes::dir_has_files(&dir.join("files")));
}
