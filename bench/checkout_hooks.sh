#!/usr/bin/env bash
# Benchmark what the checkout hooks add to `git checkout`: git-dvc's hooks against DVC's
# own post-checkout hook and against none (many small files, local remote): a switch that
# changes no DVC file, one that changes one directory output, and a fresh clone's first
# switch (which fetches).
#
#   bench/checkout_hooks.sh [bench/checkout_hooks.py options: --files N --rounds R]
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
cp "$root/target/release/git-dvc" "$root/target/bench/git-dvc-hooks-bin"
exec python3 "$root/bench/checkout_hooks.py" --dvc "$dvc" --git-dvc "$root/target/bench/git-dvc-hooks-bin" "$@"
