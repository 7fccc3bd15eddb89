#!/usr/bin/env bash
# Benchmark `git dvc pull` against `dvc pull` (DVC 3.67.1) and `cp -r` twice, on many
# small files from a local remote: first pull, no-op pull, no-op checkout.
#
#   bench/pull.sh [bench/pull.py options: --files N --noop-runs R --cache-type TYPE]
#
# Uses DVC from target/test-env/dvc (run `bash scripts/test.sh --setup-only` once first),
# or $GIT_DVC_BENCH_DVC. GIT_DVC_BENCH_NO_BUILD=1 skips `cargo build --release`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ "${GIT_DVC_BENCH_NO_BUILD:-}" != 1 ]; then
    (cd "$root" && cargo build --release --quiet)
fi
dvc="${GIT_DVC_BENCH_DVC:-$root/target/test-env/dvc/bin/dvc}"
[ -x "$dvc" ] || { echo "missing $dvc: run bash scripts/test.sh --setup-only" >&2; exit 1; }
# A copy of the binary: a build in the tree meanwhile must not swap it under the run.
mkdir -p "$root/target/bench"
cp "$root/target/release/git-dvc" "$root/target/bench/git-dvc-pull-bin"
exec python3 "$root/bench/pull.py" --dvc "$dvc" --git-dvc "$root/target/bench/git-dvc-pull-bin" "$@"
