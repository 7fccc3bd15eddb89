#!/usr/bin/env bash
# Installs git-dvc under a prefix: the binary, its man pages and its shell completions.
#
#   bash scripts/install.sh [--prefix DIR] [--binary FILE]
#
#   --prefix DIR    where to install (default: ~/.local, or /usr/local when run as root)
#   --binary FILE   install this already-built git-dvc instead of building one with
#                   `cargo install --path .` (for packagers and tests)
#
# Files it writes:
#   PREFIX/bin/git-dvc
#   PREFIX/share/man/man1/git-dvc.1, git-dvc-<command>.1
#   PREFIX/share/bash-completion/completions/git-dvc
#   PREFIX/share/zsh/site-functions/_git-dvc
#   PREFIX/share/fish/vendor_completions.d/git-dvc.fish
#
# With PREFIX/bin on PATH, `git dvc …` runs git-dvc, and `git help dvc` / `git dvc --help`
# open its man page (man finds PREFIX/share/man from PATH; otherwise add it to MANPATH).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

usage() {
    sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
    prefix=/usr/local
else
    prefix="${HOME:?HOME is not set; pass --prefix DIR}/.local"
fi
binary=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix)
            [[ $# -ge 2 && -n "$2" ]] || die "--prefix needs a directory"
            prefix="$2"
            shift 2
            ;;
        --prefix=*)
            prefix="${1#--prefix=}"
            shift
            ;;
        --binary)
            [[ $# -ge 2 && -n "$2" ]] || die "--binary needs a file"
            binary="$2"
            shift 2
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            die "unknown argument '$1' (see --help)"
            ;;
    esac
done
mkdir -p "$prefix" || die "cannot create $prefix"
prefix="$(cd "$prefix" && pwd)"

if [[ -n "$binary" ]]; then
    [[ -x "$binary" ]] || die "$binary is not an executable file"
    install -d "$prefix/bin"
    install -m 0755 "$binary" "$prefix/bin/git-dvc"
else
    command -v cargo >/dev/null 2>&1 ||
        die "cargo is not on PATH: install Rust (https://rustup.rs), or pass --binary FILE"
    echo "Building and installing git-dvc into $prefix/bin (cargo install)"
    # The project's own target directory, so a rebuild is incremental.
    cargo install --quiet --locked --force --path "$ROOT" --root "$prefix" \
        --target-dir "${CARGO_TARGET_DIR:-$ROOT/target}"
fi

install -d "$prefix/share/man/man1"
install -m 0644 "$ROOT"/man/*.1 "$prefix/share/man/man1/"
install -d "$prefix/share/bash-completion/completions" \
    "$prefix/share/zsh/site-functions" \
    "$prefix/share/fish/vendor_completions.d"
install -m 0644 "$ROOT/completions/git-dvc.bash" "$prefix/share/bash-completion/completions/git-dvc"
install -m 0644 "$ROOT/completions/_git-dvc" "$prefix/share/zsh/site-functions/_git-dvc"
install -m 0644 "$ROOT/completions/git-dvc.fish" "$prefix/share/fish/vendor_completions.d/git-dvc.fish"

echo "Installed git-dvc $("$prefix/bin/git-dvc" --version | sed 's/^git-dvc //') into $prefix:"
echo "  $prefix/bin/git-dvc"
echo "  $prefix/share/man/man1/git-dvc*.1"
echo "  completions for bash, zsh and fish under $prefix/share"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "Add $prefix/bin to PATH so that git finds \`git dvc\`: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
if command -v man >/dev/null 2>&1 &&
    ! PATH="$prefix/bin:$PATH" man -w git-dvc >/dev/null 2>&1; then
    echo "man does not find the pages yet: export MANPATH=\"$prefix/share/man:\$MANPATH\""
fi
