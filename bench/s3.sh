#!/usr/bin/env bash
# Benchmark `git dvc push` against `dvc push` (DVC 3.67.1) on a local S3 server (moto):
# many small files and a few large ones, first push and no-op, with request counts.
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
exec python3 "$root/bench/s3.py" --dvc "$dvc" --git-dvc "$root/target/release/git-dvc" \
    --moto "$moto" --work "$root/target/bench/s3" "$@"
