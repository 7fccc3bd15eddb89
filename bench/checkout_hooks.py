#!/usr/bin/env python3
"""What the checkout hooks add to `git checkout`: git-dvc's hooks against DVC's own
post-checkout hook (`dvc install`, which runs a full `dvc checkout`) and against no hook,
in one run, on the same repository.

    python3 bench/checkout_hooks.py --dvc DVC --git-dvc GIT_DVC [--work DIR] [--files N]
                                    [--rounds R]

Normally run through bench/checkout_hooks.sh, which builds git-dvc and finds DVC.

The repository is fetch.py's many-small one (dvc-pull-internals.md §6: one directory output
`big/` of N files, default 5000, plus 50 single-file outputs) with a second directory
output `small/` of 100 files, everything in the cache and on a local remote. Branches:
`readme` changes a file DVC does not track; `onedir` changes one file of `small/`. The hook
set is switched with `core.hooksPath` (an empty directory; a post-checkout that only
exits, the floor for any hook; git-dvc's post-checkout from `git dvc install --output`;
DVC's from `dvc install`), and the modes are interleaved round by
round so that the machine's load falls on all of them alike.

  1. no DVC file changes: `git checkout readme` and back, R rounds each way per mode
     (after one warm-up round): median wall time, and each hook's overhead over none;
  2. one directory output changes: `git checkout onedir` and back, the same way; also
     which outputs each hook reported and how many files of the work tree it rewrote
     (inode or mtime changed), counted on the last round;
  3. a fresh clone with git-dvc's hooks after `git dvc pull` of main: the first
     `git checkout onedir` fetches what that one output lacks from the remote.

Wall time is measured around each `git checkout`; CPU time (user + system of git and of
every hook process it ran, from the rusage of reaped children) says what a switch costs
where, on a loaded machine, wall time mostly says how long it waited for a core. Prints a
markdown table and writes WORK/results.md and WORK/results.json. Python 3 standard library
only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import Timed, dvc_env, make_many_small, rmtree, run, timed_cpu  # noqa: E402,F401

DATA_ROOTS = ("big", "small")


def stamps(repo: str) -> dict[str, tuple[int, int]]:
    """(inode, mtime_ns) of every data file in the work tree."""
    out = {}
    for name in os.listdir(repo):
        path = os.path.join(repo, name)
        if name.startswith("single") and os.path.isfile(path):
            st = os.stat(path)
            out[name] = (st.st_ino, st.st_mtime_ns)
    for root in DATA_ROOTS:
        for d, _, files in os.walk(os.path.join(repo, root)):
            for f in files:
                st = os.stat(os.path.join(d, f))
                out[os.path.relpath(os.path.join(d, f), repo)] = (st.st_ino, st.st_mtime_ns)
    return out


def rewritten(before: dict, after: dict) -> int:
    return sum(1 for k in set(before) | set(after) if before.get(k) != after.get(k))


def change_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()
            if line[:1] in ("A", "M", "D") and line[1:8] == "       "]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dvc", required=True)
    ap.add_argument("--git-dvc", required=True)
    ap.add_argument("--work", default=os.path.join(HERE, "..", "target", "bench", "checkout-hooks"))
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=11)
    a = ap.parse_args()
    work = os.path.abspath(a.work)
    rmtree(work)
    os.makedirs(work)
    t_start, load_start = time.time(), os.getloadavg()

    home = os.path.join(work, "home")
    os.makedirs(home)
    env = dvc_env(work, strip=("DVC_", "GIT_"))
    env.update(HOME=home,
               DVC_SITE_CACHE_DIR=os.path.join(work, "site-cache"),
               GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
               GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
               PATH=os.pathsep.join([os.path.dirname(os.path.abspath(a.git_dvc)),
                                     os.path.dirname(a.dvc), os.environ["PATH"]]))
    # The hooks run `git-dvc` from PATH: the binary under test, under that name.
    bindir = os.path.join(work, "bin")
    os.makedirs(bindir)
    os.symlink(os.path.abspath(a.git_dvc), os.path.join(bindir, "git-dvc"))
    env["PATH"] = bindir + os.pathsep + env["PATH"]
    gd = os.path.join(bindir, "git-dvc")

    repo = os.path.join(work, "repo")
    remote = os.path.join(work, "remote")
    make_many_small(repo, a.dvc, env, a.files, seed=18)
    with open(os.path.join(repo, ".dvc", "config")) as f:
        text = f.read().replace("url = /nonexistent", f"url = {remote}")
    with open(os.path.join(repo, ".dvc", "config"), "w") as f:
        f.write(text)
    rng = random.Random(19)
    for i in range(100):
        p = os.path.join(repo, "small", f"f{i:03d}.bin")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(rng.randbytes(2048))
    run([a.dvc, "add", "-q", "small"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "small and the remote"], repo, env)
    run(["git", "branch", "readme"], repo, env)
    run(["git", "checkout", "-q", "readme"], repo, env)
    with open(os.path.join(repo, "README.md"), "w") as f:
        f.write("not DVC data\n")
    run(["git", "add", "README.md"], repo, env)
    run(["git", "commit", "-qm", "readme"], repo, env)
    run(["git", "checkout", "-q", "-b", "onedir", "main"], repo, env)
    with open(os.path.join(repo, "small", "f000.bin"), "wb") as f:
        f.write(b"changed on onedir\n")
    run([a.dvc, "add", "-q", "small"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-qm", "one file of small/ changes"], repo, env)
    run([gd, "push", "-q"], repo, env)
    run(["git", "checkout", "-q", "main"], repo, env)
    run([a.dvc, "checkout", "-q"], repo, env)
    run([gd, "push", "-q"], repo, env)

    hooks = {m: os.path.join(work, "hooks", m) for m in ("none", "empty", "git-dvc", "dvc")}
    for d in hooks.values():
        os.makedirs(d)
    # The floor for any hook: git starting a shell script that does nothing.
    with open(os.path.join(hooks["empty"], "post-checkout"), "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(os.path.join(hooks["empty"], "post-checkout"), 0o755)
    run([gd, "install", "--hook", "post-checkout", "--output",
         os.path.join(hooks["git-dvc"], "post-checkout")], repo, env)
    # DVC's hook exactly as `dvc install` writes it (in a scratch clone's .git/hooks).
    scratch = os.path.join(work, "scratch")
    run(["git", "clone", "-q", repo, scratch], work, env)
    run([a.dvc, "install"], scratch, env)
    with open(os.path.join(scratch, ".git", "hooks", "post-checkout")) as f:
        dvc_hook = f.read()
    with open(os.path.join(hooks["dvc"], "post-checkout"), "w") as f:
        f.write(dvc_hook)
    os.chmod(os.path.join(hooks["dvc"], "post-checkout"), 0o755)

    def switch(mode: str, branch: str) -> Timed:
        return timed_cpu(["git", "-c", f"core.hooksPath={hooks[mode]}", "checkout", "-q",
                          branch], repo, env)

    results: dict = {"files": a.files, "rounds": a.rounds, "dvc_hook": dvc_hook}
    for scenario, branch in (("no-dvc-change", "readme"), ("one-directory", "onedir")):
        times: dict[str, list[float]] = {m: [] for m in hooks}
        cpus: dict[str, list[float]] = {m: [] for m in hooks}
        seen: dict[str, dict] = {}
        for rnd in range(a.rounds + 1):
            for mode in hooks:
                if branch == "onedir":
                    # main's data first, whatever the previous mode left.
                    run([a.dvc, "checkout", "-q"], repo, env)
                before = stamps(repo)
                p1 = switch(mode, branch)
                mid = stamps(repo)
                p2 = switch(mode, "main")
                if rnd == 0:
                    continue  # warm-up
                times[mode] += [p1.wall, p2.wall]
                cpus[mode] += [p1.cpu, p2.cpu]
                if branch == "onedir" and mode in ("git-dvc", "dvc"):
                    with open(os.path.join(repo, "small", "f000.bin"), "rb") as f:
                        back = f.read()
                    seen[mode] = {
                        "files_rewritten_there": rewritten(before, mid),
                        "lines_there": change_lines(p1.stdout + p1.stderr),
                        "lines_back": change_lines(p2.stdout + p2.stderr),
                        "main_restored": back != b"changed on onedir\n",
                    }
        med = {m: statistics.median(v) for m, v in times.items()}
        cpu = {m: statistics.median(v) for m, v in cpus.items()}
        results[scenario] = {
            "median_s": med,
            "overhead_ms": {m: (med[m] - med["none"]) * 1000 for m in hooks},
            "cpu_median_s": cpu,
            "cpu_overhead_ms": {m: (cpu[m] - cpu["none"]) * 1000 for m in hooks},
            "runs_s": times,
            "cpu_runs_s": cpus,
            "seen": seen,
        }

    # 3. A fresh clone: git dvc pull of main, then the first switch to onedir fetches.
    clone = os.path.join(work, "clone")
    run(["git", "clone", "-q", "--no-local", repo, clone], work, env)
    run([gd, "pull", "-q"], clone, env)
    run([gd, "install"], clone, env)
    p = timed_cpu(["git", "checkout", "-q", "onedir"], clone, env)
    with open(os.path.join(clone, "small", "f000.bin"), "rb") as f:
        ok = f.read() == b"changed on onedir\n"
    results["fresh-clone"] = {"seconds": p.wall, "cpu": p.cpu, "output": p.stderr.strip(),
                              "data_ok": ok}
    results["load"] = {"start": load_start, "end": os.getloadavg(),
                       "start_utc": time.strftime("%H:%M:%S", time.gmtime(t_start)),
                       "end_utc": time.strftime("%H:%M:%S", time.gmtime())}

    md = report(results)
    print(md)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(md)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return 0


def report(r: dict) -> str:
    rows = ["| scenario | measure | no hook | empty hook | git-dvc's hooks | DVC's hook | empty hook's overhead | git-dvc overhead | DVC overhead | DVC ÷ git-dvc overhead |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for scenario in ("no-dvc-change", "one-directory"):
        s = r[scenario]
        for label, m, o in (("wall (median)", s["median_s"], s["overhead_ms"]),
                            ("CPU (median)", s["cpu_median_s"], s["cpu_overhead_ms"])):
            ratio = o["dvc"] / o["git-dvc"] if o["git-dvc"] > 0 else float("inf")
            rows.append(f"| {scenario} | {label} | {m['none'] * 1000:.1f} ms | "
                        f"{m['empty'] * 1000:.1f} ms | {m['git-dvc'] * 1000:.1f} ms | "
                        f"{m['dvc'] * 1000:.0f} ms | {o['empty']:.1f} ms | "
                        f"{o['git-dvc']:.1f} ms | {o['dvc']:.0f} ms | {ratio:.0f}× |")
    out = ["\n".join(rows), ""]
    for mode, seen in r["one-directory"]["seen"].items():
        out.append(f"- one-directory, {mode}: work-tree files rewritten by the switch: "
                   f"{seen['files_rewritten_there']}; lines: {seen['lines_there']} there, "
                   f"{seen['lines_back']} back; main's data restored: {seen['main_restored']}")
    fc = r["fresh-clone"]
    out.append(f"- fresh clone, first `git checkout onedir` with git-dvc's hooks: "
               f"{fc['seconds']:.3f} s wall, {fc['cpu']:.3f} s CPU, data right: "
               f"{fc['data_ok']}; it said: {fc['output']!r}")
    ld = r["load"]
    out.append(f"- {r['files']} files in big/, {r['rounds']} rounds × 2 switches per mode; "
               f"{ld['start_utc']}–{ld['end_utc']} UTC, load average "
               f"{ld['start'][0]:.1f} → {ld['end'][0]:.1f}")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.exit(main())
