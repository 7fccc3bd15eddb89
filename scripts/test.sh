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
# `bash scripts/test.sh --setup-only` installs the tools and stops.
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

run_fmt() {
    section "cargo fmt --check"
    cargo fmt --all --check
}

run_clippy() {
    section "cargo clippy --all-targets -- -D warnings"
    cargo clippy --all-targets -- -D warnings
}

run_tests() {
    section "cargo test --release"
    cargo test --release
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

main() {
    section "environment"
    echo "root: $ROOT"
    cargo --version
    git --version
    mkdir -p "$ENV_DIR"
    export DVC_NO_ANALYTICS=1

    setup_dvc3
    setup_dvc2
    setup_system_tools

    if [[ "${1:-}" == "--setup-only" ]]; then
        section "setup done (--setup-only)"
        return 0
    fi

    run_fmt
    run_clippy
    run_tests
    run_install_check

    section "all checks passed"
}

main "$@"
