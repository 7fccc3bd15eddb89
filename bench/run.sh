#!/usr/bin/env bash
# Benchmark `git dvc push -a -T` against `dvc push -a -T` (DVC 3.67.1), same run, same repo.
#
#   bench/run.sh                      full-size repository (see bench/gen_repo.py)
#   bench/run.sh --small              quick smoke run
#   bench/run.sh --10x                the 10x history of issue 16 (20,000 commits; DVC takes hours:
#                                     add --skip-dvc; bench/scale.py measures hooks and no-ops there)
#   bench/run.sh [bench.py options] [-- gen_repo.py options]
#
# bench.py options: --work DIR (default target/bench/full or target/bench/small),
# --regen, --noop-runs N (default 5), --dvc-timeout S (default 5400), --git-dvc-timeout S, --skip-dvc.
# Environment: GIT_DVC_BENCH_DVC=/path/to/dvc uses that DVC instead of installing the
# pinned one into target/bench-env; GIT_DVC_BENCH_NO_BUILD=1 skips `cargo build --release`.
#
# Prints a markdown table (also in WORK/results.md; raw figures in WORK/results.json,
# every command's output in WORK/logs/). Exits 1 if a run failed or the remotes differ.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dvc_pin=3.67.1

preset=full
bench_args=()
gen_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --small) preset=small; gen_args+=(--small) ;;
        --10x) preset=10x; gen_args+=(--preset 10x) ;;
        --) shift; gen_args+=("$@"); break ;;
        *) bench_args+=("$1") ;;
    esac
    shift
done
work="$root/target/bench/$preset"
for a in "${bench_args[@]+"${bench_args[@]}"}"; do
    [ "$a" = --work ] && work=  # bench.py gets the caller's --work
done

# 1. git-dvc, release build
gd_args=()
if [ "${GIT_DVC_BENCH_NO_BUILD:-}" = 1 ]; then
    echo "== skipping cargo build (GIT_DVC_BENCH_NO_BUILD=1)"
    [ -x "$root/target/release/git-dvc" ] && gd_args=(--git-dvc "$root/target/release/git-dvc")
else
    echo "== cargo build --release"
    if (cd "$root" && cargo build --release --quiet); then
        gd_args=(--git-dvc "$root/target/release/git-dvc")
    else
        echo "!! cargo build --release failed: timing DVC only" >&2
    fi
fi
if [ ${#gd_args[@]} -gt 0 ] && ! "${gd_args[1]}" push --help >/dev/null 2>&1; then
    echo "!! target/release/git-dvc has no working 'push' command: timing DVC only" >&2
    gd_args=()
fi

# 2. DVC: $GIT_DVC_BENCH_DVC, or the pinned release in target/bench-env
if [ -n "${GIT_DVC_BENCH_DVC:-}" ]; then
    dvc=$GIT_DVC_BENCH_DVC
else
    env_dir="$root/target/bench-env"
    dvc="$env_dir/bin/dvc"
    if ! { [ -x "$dvc" ] && [ "$(DVC_NO_ANALYTICS=1 "$dvc" --version 2>/dev/null)" = "$dvc_pin" ]; }; then
        echo "== installing dvc==$dvc_pin into $env_dir"
        python3 -m venv "$env_dir"
        "$env_dir/bin/python" -m pip install --quiet --disable-pip-version-check "dvc==$dvc_pin"
    fi
fi
version=$(DVC_NO_ANALYTICS=1 "$dvc" --version 2>/dev/null || true)
[ "$version" = "$dvc_pin" ] || echo "!! warning: $dvc is DVC '$version', not $dvc_pin" >&2

# 3. generate (or reuse) the repository, time both tools, compare the remotes
echo "== benchmark (work dir: ${work:-from --work})"
exec python3 "$root/bench/bench.py" --dvc "$dvc" "${gd_args[@]+"${gd_args[@]}"}" \
    ${work:+--work "$work"} "${bench_args[@]+"${bench_args[@]}"}" -- \
    "${gen_args[@]+"${gen_args[@]}"}"
