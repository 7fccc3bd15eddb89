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
# `bash scripts/test.sh --setup-only` installs the tools and stops;
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
    make_venv "$ENV_DIR/dvc" dvc "dvc==$DVC3_VERSION"
    export GIT_DVC_TEST_DVC="$ENV_DIR/dvc/bin/dvc"
    echo "GIT_DVC_TEST_DVC=$GIT_DVC_TEST_DVC ($("$GIT_DVC_TEST_DVC" --version))"
}

setup_dvc2() {
    section "DVC $DVC2_VERSION (target/test-env/dvc2)"
    # Without the pathspec pin 2.58.2 fails with "cannot import name '_DIR_MARK'".
    make_venv "$ENV_DIR/dvc2" dvc "dvc==$DVC2_VERSION" "pathspec<0.12"
    export GIT_DVC_TEST_DVC2="$ENV_DIR/dvc2/bin/dvc"
    echo "GIT_DVC_TEST_DVC2=$GIT_DVC_TEST_DVC2 ($("$GIT_DVC_TEST_DVC2" --version))"
}

# sshd on 127.0.0.1 for `git push` over ssh (tests/hooks_pre_receive.rs): the server side
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

    local attempt port i
    for attempt in 1 2 3 4 5; do
        port="$(free_port_sshd_git)"
        cat >"$dir/sshd_config" <<CONFIG
Port $port
ListenAddress 127.0.0.1
AddressFamily inet
HostKey $dir/host_ed25519
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
AuthenticationMethods publickey
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowUsers $(id -un)
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
        cargo install cargo-fuzz --locked
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

    setup_dvc3
    setup_dvc2
    setup_sshd_git

    if [[ "${1:-}" == "--setup-only" ]]; then
        section "setup done (--setup-only)"
        return 0
    fi

    run_fmt
    run_clippy
    run_tests
    run_fuzz

    section "all checks passed"
}

main "$@"
