#!/usr/bin/env python3
"""Two (or more) git-dvc builds side by side on one of bench/scale.py's repositories.

    bench/compare_builds.py noop WORK/1x ROUNDS BIN [BIN...]
        `BIN push -a -T -q` with nothing to upload, each build in turn and then
        `git rev-list --objects --branches --tags`, ROUNDS times; medians of wall and CPU
        time, peak RSS, and each one's ratio to rev-list.
    bench/compare_builds.py first-push WORK/1x ROUNDS BIN [BIN...]
        `BIN push -a -T -q` into an empty local remote, each build in turn and then
        `cp -r` of the complete remote (the same objects); ratios to cp -r.

WORK/<size> is what bench/scale.py generated (its `repo` and filled `remote`). Run with
the HOME bench/scale.py uses (WORK/home). Python 3.11 standard library only.
"""

import os
import shutil
import statistics
import subprocess
import sys
import time


def run(argv, cwd):
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{err.decode(errors='replace')[-2000:]}")
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main():
    if len(sys.argv) < 5 or sys.argv[1] not in ("noop", "first-push"):
        sys.exit(__doc__)
    mode, base, rounds, bins = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    repo, remote = os.path.join(base, "repo"), os.path.join(base, "remote")
    reference = "rev-list" if mode == "noop" else "cp -r"
    results = {b: [] for b in bins + [reference]}
    scratch = os.path.join(base, "compare-scratch")
    local = os.path.join(repo, ".dvc", "config.local")
    for _ in range(rounds):
        for b in bins + [reference]:
            if mode == "noop":
                argv = (["git", "rev-list", "--objects", "--branches", "--tags"] if b == reference
                        else [b, "push", "-a", "-T", "-q"])
                results[b].append(run(argv, repo))
                continue
            shutil.rmtree(scratch, ignore_errors=True)
            os.makedirs(scratch)
            target = os.path.join(scratch, "remote")
            if b == reference:
                results[b].append(run(["cp", "-r", remote, target], base))
            else:
                subprocess.run(["git", "config", "-f", local, "remote.fresh.url", target],
                               cwd=repo, check=True)
                results[b].append(run([b, "push", "-a", "-T", "-q", "-r", "fresh"], repo))
    if mode == "first-push":
        shutil.rmtree(scratch, ignore_errors=True)
        os.remove(local)
    ref = statistics.median(t for t, _, _ in results[reference])
    for name, runs in results.items():
        wall = statistics.median(t for t, _, _ in runs)
        cpu = statistics.median(c for _, c, _ in runs)
        rss = max(m for _, _, m in runs)
        print(f"{name}: wall {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms, "
              f"peak {rss:.0f} MiB, ratio to {reference} {wall / ref:.2f}")


if __name__ == "__main__":
    main()
