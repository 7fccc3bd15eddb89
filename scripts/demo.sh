#!/usr/bin/env bash
# git-dvc's main job, end to end, on a machine with nothing but git and Rust:
#
#   1. installs git-dvc (scripts/install.sh: binary, man pages, completions);
#   2. makes a demo repository and tracks a file and a directory with `git dvc add`;
#   3. points it at a local-directory DVC remote and installs the pre-push hook;
#   4. makes a bare "server" repository with the pre-receive check (`git dvc install
#      --server`) and the same storage in its $GIT_DIR/dvc/config;
#   5. commits and runs `git push`: the hook uploads the data first, the server checks it
#      is there and accepts the push;
#   6. shows the data on the remote, then shows the server refusing a push whose data was
#      held back.
#
#   bash scripts/demo.sh [--prefix DIR]
#
# --prefix is where git-dvc is installed (default: ~/.local, or /usr/local as root). The
# demo repositories live in a temporary directory that is removed at the end.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
install_args=()
if [[ $# -gt 0 ]]; then
    case "$1" in
        --prefix) install_args=(--prefix "${2:?--prefix needs a directory}") ;;
        --prefix=*) install_args=("$1") ;;
        *) echo "usage: bash scripts/demo.sh [--prefix DIR]" >&2; exit 2 ;;
    esac
fi

if [[ -t 1 ]]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "Install git-dvc"
bash "$here/scripts/install.sh" "${install_args[@]}"
prefix="$(bash -c 'if [[ $EUID -eq 0 ]]; then echo /usr/local; else echo "$HOME/.local"; fi')"
[[ ${#install_args[@]} -eq 0 ]] || prefix="$(cd "${install_args[-1]#--prefix=}" && pwd)"
export PATH="$prefix/bin:$PATH"

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
# Keep the user's own git settings (hooks path, templates, aliases) out of the demo.
export GIT_CONFIG_GLOBAL=/dev/null GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME="git-dvc demo" GIT_AUTHOR_EMAIL=demo@example.com
export GIT_COMMITTER_NAME="git-dvc demo" GIT_COMMITTER_EMAIL=demo@example.com
storage="$work/storage"
mkdir -p "$storage"
cd "$work"

step "A repository with DVC data: git dvc add"
git init -q -b main demo
cd demo
# What `dvc init` writes, plus the remote: DVC itself is not needed.
mkdir .dvc
printf '/config.local\n/tmp\n/cache\n' >.dvc/.gitignore
cat >.dvc/config <<EOF
[core]
    remote = storage
['remote "storage"']
    url = $storage
EOF
printf 'hello from git-dvc\n' >data.txt
mkdir -p images/cats
printf 'one\n' >images/a.txt
printf 'two\n' >images/cats/b.txt
show git dvc add data.txt images
show cat images.dvc

step "The client hook: git dvc install"
show git dvc install

step "A server repository that checks pushed data: git dvc install --server"
git init -q --bare "$work/server.git"
# The storage every push must reach, in DVC's config format (the pushed .dvc/config is
# never trusted by the server).
mkdir -p "$work/server.git/dvc"
cp .dvc/config "$work/server.git/dvc/config"
(cd "$work/server.git" && show git dvc install --server)
git remote add origin "$work/server.git"

step "Commit and git push: the hook uploads the data, the server checks it"
git add -A
git commit -q -m "Track data with DVC"
show git push origin main
show git -C "$work/server.git" log --oneline main

step "The data is on the DVC remote ($storage)"
(cd "$storage" && find . -type f | sort)
show git dvc status -c

step "A push whose data was held back: the server refuses it"
printf 'three\n' >images/c.txt
git dvc add -q images
git commit -q -am "More data, not uploaded"
echo "\$ GIT_DVC_SKIP_PUSH=1 git push origin main"
if GIT_DVC_SKIP_PUSH=1 git push origin main; then
    echo "demo: error: the server accepted a push whose data is missing" >&2
    exit 1
fi
step "The same push with the hook: the data goes first, the server accepts"
show git push origin main
show git dvc check

printf '\nDone. git-dvc is installed in %s (man git-dvc, git dvc --help).\n' "$prefix"
