#!/usr/bin/env bash
# Benchmark `git dvc push` against `dvc push` (DVC 3.67.1) on local S3 servers (moto, and
# s3s-fs, a fast one): many small files and a few large ones, first push and no-op, with
# request counts.
#
#   bench/s3.sh [bench/s3.py options: --small-files N --large-files K --large-mib M --jobs J]
#
# Uses the virtualenvs scripts/test.sh makes (target/test-env/dvc with dvc[s3], and
# target/test-env/moto): run `bash scripts/test.sh --setup-only` once first.
# GIT_DVC_BENCH_NO_BUILD=1 skips `cargo build --release`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${GIT_DVC_BENCH_NO_BUILD:-}" != 1 ]; then
    (cd "$root" && cargo build --release --quiet)
fi
dvc="$root/target/test-env/dvc/bin/dvc"
moto="$root/target/test-env/moto/bin/moto_server"
for f in "$dvc" "$moto"; do
    [ -x "$f" ] || { echo "missing $f: run bash scripts/test.sh --setup-only" >&2; exit 1; }
done
# s3s-fs, a fast S3 server in Rust, from crates.io (pinned; 0.14.1 builds with Rust 1.92+).
# GIT_DVC_BENCH_NO_S3S=1 runs against moto only.
s3s_args=()
if [ "${GIT_DVC_BENCH_NO_S3S:-}" != 1 ]; then
    s3s="$root/target/bench-tools/bin/s3s-fs"
    if [ ! -x "$s3s" ]; then
        echo "installing s3s-fs 0.14.1 into target/bench-tools (once)" >&2
        cargo install s3s-fs --version 0.14.1 --locked --features binary \
            --root "$root/target/bench-tools" --target-dir "$root/target/bench-tools/build"
    fi
    s3s_args=(--s3s-fs "$s3s")
fi
exec python3 "$root/bench/s3.py" --dvc "$dvc" --git-dvc "$root/target/release/git-dvc" \
    --moto "$moto" "${s3s_args[@]}" --work "$root/target/bench/s3" "$@"
