#!/usr/bin/env bash
# Installs git-dvc and runs its main job on a local-directory remote, with nothing but git,
# Rust and coreutils: builds a small DVC 3 repository by hand (a file and a directory,
# exactly as `dvc add` would record them), pushes its data with `git dvc push`, and shows
# what landed on the remote and that `git dvc status -c` agrees.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
echo "== installing git-dvc (cargo install --path .)"
cargo install --quiet --locked --path "$here"
export PATH="$HOME/.cargo/bin:$PATH"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
git init -q -b main demo
cd demo
git config user.email demo@example.com
git config user.name "git-dvc demo"

cache=.dvc/cache/files/md5
add_to_cache() { # add_to_cache FILE -> prints md5
  local h; h=$(md5sum "$1" | cut -c1-32)
  mkdir -p "$cache/${h:0:2}"
  cp "$1" "$cache/${h:0:2}/${h:2}"; chmod 0444 "$cache/${h:0:2}/${h:2}"
  echo "$h"
}

mkdir -p .dvc images
printf '[core]\n    remote = storage\n['"'"'remote "storage"'"'"']\n    url = ../../remote\n' > .dvc/config
printf '/cache\n/tmp\n/config.local\n' > .dvc/.gitignore

printf 'hello from git-dvc\n' > data.txt
h=$(add_to_cache data.txt)
printf 'outs:\n- md5: %s\n  size: %s\n  hash: md5\n  path: data.txt\n' "$h" "$(stat -c %s data.txt)" > data.txt.dvc

printf 'one\n' > images/a.txt; printf 'two\n' > images/b.txt
ha=$(add_to_cache images/a.txt); hb=$(add_to_cache images/b.txt)
printf '[{"md5": "%s", "relpath": "a.txt"}, {"md5": "%s", "relpath": "b.txt"}]' "$ha" "$hb" > manifest.json
hd=$(md5sum manifest.json | cut -c1-32)
mkdir -p "$cache/${hd:0:2}"; mv manifest.json "$cache/${hd:0:2}/${hd:2}.dir"
printf 'outs:\n- md5: %s.dir\n  size: 8\n  nfiles: 2\n  hash: md5\n  path: images\n' "$hd" > images.dvc
printf '/data.txt\n/images\n' > .gitignore

git add -A && git commit -q -m "Track data with DVC"

echo "== git dvc status -c (before)"
git dvc status -c
echo "== git dvc push"
git dvc push
echo "== remote contents ($work/remote)"
(cd "$work/remote" && find . -type f | sort)
echo "== git dvc status -c (after)"
git dvc status -c
echo "== git dvc push (again: nothing to do)"
git dvc push
