#!/usr/bin/env bash
# Benchmark `git dvc fetch -a -T` against `dvc fetch -a -T` (DVC 3.67.1) and `cp -r` of the
# same objects: the bench repository's history and many small files from a local remote,
# and many small files from moto, s3s-fs and s3rver (S3 servers), first fetch and no-op.
#
#   bench/fetch.sh [bench/fetch.py options: --files N --noop-runs R --skip-history]
#                  [-- bench/gen_repo.py options for the history repository]
#
# Uses DVC from target/test-env/dvc (run `bash scripts/test.sh --setup-only` once first).
# GIT_DVC_BENCH_NO_BUILD=1 skips `cargo build --release`; GIT_DVC_BENCH_NO_S3S=1 skips
# s3s-fs (otherwise installed once into target/bench-tools, as bench/s3.sh does).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${GIT_DVC_BENCH_NO_BUILD:-}" != 1 ]; then
    (cd "$root" && cargo build --release --quiet)
fi
dvc="${GIT_DVC_BENCH_DVC:-$root/target/test-env/dvc/bin/dvc}"
[ -x "$dvc" ] || { echo "missing $dvc: run bash scripts/test.sh --setup-only" >&2; exit 1; }
# s3s-fs 0.14.1 answers HeadObject on a key that is a directory on its disk
# (`store/files/md5`) with 500 where S3 says 404, and `dvc fetch` HEADs exactly that key
# first (dvc_data/index/fetch.py: "make sure there are no auth errors"), then fails every
# file. So the fetch bench builds s3s-fs from its crates.io source with that one answer
# fixed (`path.exists()` -> `path.is_file()` in head_object); nothing else changes.
# moto from the test environment beside that DVC (scripts/test.sh installs both).
moto="${GIT_DVC_BENCH_MOTO:-$(dirname "$(dirname "$(dirname "$dvc")")")/moto/bin/moto_server}"
moto_args=()
[ -x "$moto" ] && moto_args=(--moto "$moto")
s3s_args=()
if [ "${GIT_DVC_BENCH_NO_S3S:-}" != 1 ]; then
    tools="$root/target/bench-tools"
    s3s="$tools/s3s-fs-head-fix/bin/s3s-fs"
    if [ ! -x "$s3s" ]; then
        src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/s3s-fs-0.14.1 2>/dev/null | head -1 || true)
        if [ -z "$src" ]; then
            echo "installing s3s-fs 0.14.1 into target/bench-tools (once, for its source)" >&2
            cargo install s3s-fs --version 0.14.1 --locked --features binary \
                --root "$tools" --target-dir "$tools/build"
            src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/s3s-fs-0.14.1 | head -1)
        fi
        rm -rf "$tools/s3s-fs-0.14.1-head-fix"
        cp -r "$src" "$tools/s3s-fs-0.14.1-head-fix"
        python3 - "$tools/s3s-fs-0.14.1-head-fix/src/s3.rs" <<'PY'
import sys
path = sys.argv[1]
text = open(path).read()
head = text.index("async fn head_object(")
at = text.index("if !path.exists() {", head)
open(path, "w").write(text[:at] + "if !path.is_file() {" + text[at + len("if !path.exists() {"):])
PY
        echo "building s3s-fs 0.14.1 with the HeadObject fix into target/bench-tools (once)" >&2
        cargo install --path "$tools/s3s-fs-0.14.1-head-fix" --locked --features binary \
            --root "$tools/s3s-fs-head-fix" --target-dir "$tools/build"
    fi
    s3s_args=(--s3s-fs "$s3s")
fi
# s3rver from npm (once, into target/bench-tools/s3rver): the S3 server DVC reads correctly
# that is not the bottleneck moto is. GIT_DVC_BENCH_NO_S3RVER=1 skips it.
s3rver_args=()
if [ "${GIT_DVC_BENCH_NO_S3RVER:-}" != 1 ] && command -v npm >/dev/null; then
    tools="$root/target/bench-tools"
    s3rver="$tools/s3rver/node_modules/.bin/s3rver"
    if [ ! -x "$s3rver" ]; then
        echo "installing s3rver 3.7.1 from npm into target/bench-tools/s3rver (once)" >&2
        mkdir -p "$tools/s3rver"
        npm install --prefix "$tools/s3rver" --no-audit --no-fund s3rver@3.7.1 >&2
    fi
    s3rver_args=(--s3rver "$s3rver")
fi
# A copy of the binary: a build in the tree meanwhile must not swap it under the run.
mkdir -p "$root/target/bench"
cp "$root/target/release/git-dvc" "$root/target/bench/git-dvc-fetch-bin"
exec python3 "$root/bench/fetch.py" --dvc "$dvc" --git-dvc "$root/target/bench/git-dvc-fetch-bin" \
    "${moto_args[@]+"${moto_args[@]}"}" "${s3s_args[@]+"${s3s_args[@]}"}" \
    "${s3rver_args[@]+"${s3rver_args[@]}"}" "$@"
