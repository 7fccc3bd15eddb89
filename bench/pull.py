#!/usr/bin/env python3
"""Time `git dvc pull` against `dvc pull` (DVC 3.67.1) and against copying the data twice
with `cp -r` (remote to cache, cache to work tree), on the same repository, remote and
machine, in one run.

    python3 bench/pull.py --dvc DVC --git-dvc GIT_DVC [--work DIR] [--files N]
                          [--noop-runs R] [--cache-type TYPE]
                          [--repo many-small|bench] [--preset PRESET]

Normally run through bench/pull.sh, which builds git-dvc and finds DVC.

With --repo many-small (the default) the repository is fetch.py's many-small one
(reference §6's data): one directory output of N files (default 5000, 1-4 KiB, in 50
sub-directories) plus 50 single-file outputs, pushed once to a local-directory remote with
`git dvc push`. With --repo bench it is the bench repository (gen_repo.py --preset PRESET,
default full: at HEAD 300 single-file outputs, 20 directory outputs of 300 files and a
pipeline), whose whole cache is copied to the remote (so the `push: false` output can be
pulled too, as both tools try to). Then, in two fresh clones (each with
its own `.dvc/cache`, DVC with a fresh site cache):

  1. DVC first pull;           2. DVC no-op pull (site cache of step 1);
  3. DVC no-op checkout;       4. git-dvc first pull;
  5. git-dvc no-op pull and no-op checkout, --noop-runs times each (median);
  6. `cp -r remote A && cp -r A B`: the bytes copied twice, as a pull must (median of 3).

Wall time from the harness, peak RSS and CPU from GNU time (fetch.py's `measure`). The two
clones must end with the same work tree and cache (names, bytes, modes), or the run fails
loudly. Prints a markdown table and writes WORK/results.md and WORK/results.json. Python 3
standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import dvc_env, machine_note, make_many_small, measure, median_run, rmtree, tree  # noqa: E402


def work_tree(root: str) -> dict[str, tuple[str, int]]:
    """tree() of a clone's work tree without .git and .dvc."""
    return {k: v for k, v in tree(root).items()
            if not (k.split(os.sep)[0] in (".git", ".dvc"))}


def diff(a: dict, b: dict) -> list[str]:
    return [f"{k}: {a.get(k)} / {b.get(k)}" for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dvc", required=True)
    ap.add_argument("--git-dvc", required=True)
    ap.add_argument("--work", default=os.path.join(HERE, "..", "target", "bench", "pull"))
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--noop-runs", type=int, default=5)
    ap.add_argument("--cache-type", default=None, help="cache.type for both clones")
    ap.add_argument("--repo", choices=("many-small", "bench"), default="many-small")
    ap.add_argument("--preset", default="full", help="gen_repo.py preset for --repo bench")
    ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    rmtree(work)
    os.makedirs(work)
    t_start, load_start = time.time(), os.getloadavg()
    logs = os.path.join(work, "logs")
    os.makedirs(logs)

    env = dvc_env(work)
    env["DVC_SITE_CACHE_DIR"] = os.path.join(work, "site-cache")

    remote = os.path.join(work, "remote")
    if a.repo == "bench":
        gen = os.path.join(work, "gen")
        print(f"generating the bench repository: gen_repo.py --preset {a.preset}", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), "--out", gen,
                        "--force", "--preset", a.preset], check=True, stdout=subprocess.DEVNULL)
        repo = os.path.join(gen, "repo")
        # A remote holds what a cache holds, in the same layout.
        subprocess.run(["cp", "-r", os.path.join(repo, ".dvc", "cache"), remote], check=True)
        print(f"  filled {remote}: a copy of the generated cache", flush=True)
    else:
        repo = os.path.join(work, "repo")
        make_many_small(repo, a.dvc, env, a.files, seed=17)
        with open(os.path.join(repo, ".dvc", "config.local"), "w") as f:
            f.write(f"['remote \"storage\"']\n    url = {remote}\n")
        out = subprocess.run([a.git_dvc, "push"], cwd=repo, env=env, capture_output=True,
                             text=True)
        if out.returncode != 0:
            raise SystemExit(f"filling {remote} failed:\n{out.stderr[-3000:]}")
        print(f"  filled {remote}: {out.stdout.strip()}", flush=True)

    clones = {}
    for tool in ("dvc", "git-dvc"):
        c = os.path.join(work, f"clone-{tool}")
        subprocess.run(["git", "clone", "-q", repo, c], check=True)
        with open(os.path.join(c, ".dvc", "config.local"), "w") as f:
            f.write(f"['remote \"storage\"']\n    url = {remote}\n")
            if a.cache_type:
                f.write(f"[cache]\n    type = {a.cache_type}\n")
        clones[tool] = c

    runs = {}
    runs["dvc_first"] = measure("dvc first pull", [a.dvc, "pull"], clones["dvc"], env,
                                logs, a.timeout)
    runs["dvc_noop"] = measure("dvc no-op pull", [a.dvc, "pull"], clones["dvc"], env, logs,
                               a.timeout)
    runs["dvc_noop_checkout"] = measure("dvc no-op checkout", [a.dvc, "checkout"],
                                        clones["dvc"], env, logs, a.timeout)
    runs["gd_first"] = measure("git dvc first pull", [a.git_dvc, "pull"], clones["git-dvc"],
                               env, logs, a.timeout)
    noops = [measure(f"git dvc no-op pull #{i + 1}", [a.git_dvc, "pull"], clones["git-dvc"],
                     env, logs, a.timeout) for i in range(a.noop_runs)]
    runs["gd_noop"] = median_run(noops)
    cnoops = [measure(f"git dvc no-op checkout #{i + 1}", [a.git_dvc, "checkout"],
                      clones["git-dvc"], env, logs, a.timeout) for i in range(a.noop_runs)]
    runs["gd_noop_checkout"] = median_run(cnoops)
    cps = []
    for i in range(3):
        x, y = os.path.join(work, "cp-a"), os.path.join(work, "cp-b")
        rmtree(x)
        rmtree(y)
        cps.append(measure(f"cp -r twice #{i + 1}",
                           ["sh", "-c", f"cp -r '{remote}' '{x}' && cp -r '{x}' '{y}'"],
                           work, env, logs, a.timeout))
    rmtree(os.path.join(work, "cp-a"))
    rmtree(os.path.join(work, "cp-b"))
    runs["cp"] = median_run(cps)

    problems = diff(work_tree(clones["dvc"]), work_tree(clones["git-dvc"]))
    problems += diff(tree(os.path.join(clones["dvc"], ".dvc", "cache")),
                     tree(os.path.join(clones["git-dvc"], ".dvc", "cache")))
    # DVC hardlinks or symlinks run scripts and chmods the cache object; the many-small
    # data has no executable, so nothing is expected to differ.
    files = sum(1 for v in work_tree(clones["git-dvc"]).values() if v[0] != "dir")

    def r(key):
        return runs[key]

    def ratio(n, d):
        return f"{r(n).seconds / r(d).seconds:.1f}×"

    lines = [
        f"Repository: {a.repo}" + (f" (gen_repo.py --preset {a.preset})" if a.repo == "bench" else "")
        + f"; files in the work tree: {files}; cache.type: "
        f"{a.cache_type or 'default (reflink,copy)'}.",
        "",
        "| operation | DVC s | git-dvc s | DVC ÷ git-dvc | `cp -r` twice s | git-dvc ÷ `cp -r` twice "
        "| CPU s DVC / git-dvc | peak RSS DVC / git-dvc |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| first pull | {r('dvc_first').seconds:.3f} | {r('gd_first').seconds:.3f} | "
        f"{ratio('dvc_first', 'gd_first')} | {r('cp').seconds:.3f} | "
        f"{r('gd_first').seconds / r('cp').seconds:.2f}× | {r('dvc_first').cpu:.2f} / "
        f"{r('gd_first').cpu:.2f} | {r('dvc_first').max_rss_kib / 1024:.1f} / "
        f"{r('gd_first').max_rss_kib / 1024:.1f} MiB |",
        f"| no-op pull | {r('dvc_noop').seconds:.3f} | {r('gd_noop').seconds:.3f} | "
        f"{ratio('dvc_noop', 'gd_noop')} | — | — | {r('dvc_noop').cpu:.2f} / "
        f"{r('gd_noop').cpu:.2f} | {r('dvc_noop').max_rss_kib / 1024:.1f} / "
        f"{r('gd_noop').max_rss_kib / 1024:.1f} MiB |",
        f"| no-op checkout | {r('dvc_noop_checkout').seconds:.3f} | "
        f"{r('gd_noop_checkout').seconds:.3f} | {ratio('dvc_noop_checkout', 'gd_noop_checkout')}"
        f" | — | — | {r('dvc_noop_checkout').cpu:.2f} / {r('gd_noop_checkout').cpu:.2f} | "
        f"{r('dvc_noop_checkout').max_rss_kib / 1024:.1f} / "
        f"{r('gd_noop_checkout').max_rss_kib / 1024:.1f} MiB |",
        "",
        "git-dvc no-op pull runs (s): " + ", ".join(f"{x.seconds:.3f}" for x in noops)
        + "; no-op checkout runs (s): " + ", ".join(f"{x.seconds:.3f}" for x in cnoops)
        + "; `cp -r` twice runs (s): " + ", ".join(f"{x.seconds:.3f}" for x in cps) + ".",
        f"Summaries: DVC first {r('dvc_first').summary()!r}, git-dvc first "
        f"{r('gd_first').summary()!r}; no-op {r('dvc_noop').summary()!r} / "
        f"{r('gd_noop').summary()!r}.",
        "Work trees and caches identical (names, bytes, modes): "
        + ("yes" if not problems else f"**NO**: {problems[:20]}"),
        machine_note(t_start, load_start),
    ]
    text = "\n".join(lines) + "\n"
    print()
    print(text)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({k: v.as_dict() for k, v in runs.items()}, f, indent=2)
    failed = [x for x in list(runs.values()) + noops + cnoops + cps if not x.ok]
    if problems or failed:
        print("FAIL: " + ("work trees differ " if problems else "")
              + (f"{len(failed)} runs failed" if failed else ""))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
