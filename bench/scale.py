#!/usr/bin/env python3
"""Hook and no-op costs at history scale, each beside its git reference, in one run.

For each size (presets of bench/gen_repo.py: `1x` = 2,000 commits, 100 branches, 100 tags,
300 outputs, 5 directories of 200 members; `10x` = 20,000 commits, 1,000 branches, 1,000
tags, 3,000 outputs, 20 directories of 2,000 members), with the DVC remote complete:

1. pre-push, one new commit touching no DVC file: `git dvc pre-push` against
   `git lfs pre-push`, both run directly with the same ref line in a clone whose
   `refs/remotes/origin/*` hold every branch (as after a fetch);
2. `git dvc push -a -T` with nothing to upload against
   `git rev-list --objects --branches --tags`, with peak memory (wait4's ru_maxrss);
3. pre-receive: a one-commit push into a bare server holding the whole history, with
   `git dvc install --server`, against the same push to a server without the hook
   (one commit touching no DVC file, and one changing one `.dvc` file);
4. first push: `git dvc push -a -T` into an empty local remote against `cp -r` of the
   complete remote (exactly the objects that push uploads) into an empty directory.

Usage: bench/scale.py [--sizes 1x,10x] [--rounds N] [--work DIR] [--parts pre-push,noop,pre-receive,first-push]
Needs target/release/git-dvc (`cargo build --release`) and, for the pre-push part, git-lfs
(`apt-get install git-lfs`). Repositories are generated under WORK/<size>/ on first use (10x takes about
five minutes and 4 GB) and reused. Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def env_for(work):
    env = dict(os.environ)
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    for key in [k for k in env if k.startswith("GIT_") or k.startswith("DVC_")]:
        del env[key]
    env.update(
        HOME=home,
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
        DVC_GLOBAL_CONFIG_DIR=os.path.join(home, "dvc-global"),
        DVC_SYSTEM_CONFIG_DIR=os.path.join(home, "dvc-system"),
        PATH=os.pathsep.join([os.path.join(ROOT, "target", "release"), os.environ["PATH"]]),
    )
    return env


def run(argv, cwd, env, stdin=None, check=True):
    p = subprocess.run(argv, cwd=cwd, env=env, input=stdin, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv)} in {cwd}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return p


def measured(argv, cwd, env, stdin=None):
    """(seconds, peak RSS in MiB) of one run, which must succeed."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if stdin is not None:
        p.stdin.write(stdin.encode())
    p.stdin.close()
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.perf_counter() - t
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(argv)}\n{err.decode(errors='replace')[-2000:]}")
    return elapsed, usage.ru_maxrss / 1024


def median_of(rounds, argv, cwd, env, stdin=None):
    runs = [measured(argv, cwd, env, stdin) for _ in range(rounds)]
    return statistics.median(t for t, _ in runs), max(m for _, m in runs)


def ensure_repo(work, size, env):
    base = os.path.join(work, size)
    repo = os.path.join(base, "repo")
    if not os.path.isdir(repo):
        print(f"== generating the {size} repository in {base}", flush=True)
        run([sys.executable, os.path.join(ROOT, "bench", "gen_repo.py"), "--out", base, "--force"]
            + ["--preset", size], ROOT, env)
    remote = os.path.join(base, "remote")
    marker = os.path.join(base, "remote-complete")
    if not os.path.exists(marker):
        print(f"== filling the {size} DVC remote (git dvc push -a -T)", flush=True)
        t, _ = measured(["git", "dvc", "push", "-a", "-T", "-q"], repo, env)
        with open(marker, "w") as f:
            f.write(f"{t:.1f}\n")
    return base, repo, remote


def ms(t):
    return f"{t * 1000:.1f} ms" if t < 10 else f"{t:.1f} s"


def pre_push(base, repo, env, rounds):
    """A clone with every branch as origin/*, one new commit on main touching README.md."""
    server = os.path.join(base, "server-plain.git")
    client = os.path.join(base, "client")
    if not os.path.isdir(server):
        run(["git", "clone", "-q", "--bare", repo, server], base, env)
    if not os.path.isdir(client):
        run(["git", "clone", "-q", "--no-checkout", server, client], base, env)
        run(["git", "config", "lfs.locksverify", "false"], client, env)
    old = run(["git", "rev-parse", "refs/remotes/origin/main"], client, env).stdout.strip()
    tree = run(["git", "rev-parse", f"{old}^{{tree}}"], client, env).stdout.strip()
    blob = run(["git", "hash-object", "-w", "--stdin"], client, env, stdin="bench change\n").stdout.strip()
    entries = run(["git", "ls-tree", tree], client, env).stdout
    lines = [l for l in entries.splitlines() if not l.endswith("\tREADME.md")]
    lines.append(f"100644 blob {blob}\tREADME.md")
    new_tree = run(["git", "mktree"], client, env, stdin="\n".join(lines) + "\n").stdout.strip()
    new = run(["git", "commit-tree", new_tree, "-p", old, "-m", "bench: README only"],
              client, env).stdout.strip()
    run(["git", "update-ref", "refs/heads/main", new], client, env)
    line = f"refs/heads/main {new} refs/heads/main {old}\n"
    # The hooks run at the top of the work tree: git dvc reads .dvc/config there.
    os.makedirs(os.path.join(client, ".dvc"), exist_ok=True)
    shutil.copy(os.path.join(repo, ".dvc", "config"), os.path.join(client, ".dvc", "config"))
    url = server
    index = os.path.join(client, ".git", "dvc", "pipeline-index.json")
    if os.path.exists(index):
        os.remove(index)
    cold, _ = measured(["git", "dvc", "pre-push", "origin", url], client, env, line)
    gd = median_of(rounds, ["git", "dvc", "pre-push", "origin", url], client, env, line)
    lfs = median_of(rounds, ["git", "lfs", "pre-push", "origin", url], client, env, line)
    return {"cold": cold, "git-dvc": gd, "git-lfs": lfs}


def noop(repo, env, rounds):
    # The first run after the remote was filled (or after the manifest index was dropped)
    # reads every manifest once; then they are known complete.
    first = measured(["git", "dvc", "push", "-a", "-T", "-q"], repo, env)
    # Alternated, so a change in the machine's load weighs on both alike.
    gd, rl = [], []
    for _ in range(rounds):
        gd.append(measured(["git", "dvc", "push", "-a", "-T", "-q"], repo, env))
        rl.append(measured(["git", "rev-list", "--objects", "--branches", "--tags"], repo, env))
    summary = lambda runs: (statistics.median(t for t, _ in runs), max(m for _, m in runs))
    return {"git-dvc": summary(gd), "rev-list": summary(rl), "first": first}


def first_push(base, repo, remote, env, rounds):
    """Into a new empty remote each round (its own URL, so nothing is remembered about it),
    alternated with `cp -r` of the complete remote: the same objects, bytes and layout."""
    scratch = os.path.join(base, "first-push")
    gd, cp = [], []
    for i in range(rounds):
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        target = os.path.join(scratch, f"remote-{i}")
        run(["git", "config", "-f", os.path.join(repo, ".dvc", "config.local"),
             'remote.fresh.url', target], repo, env)
        gd.append(measured(["git", "dvc", "push", "-a", "-T", "-q", "-r", "fresh"], repo, env))
        copied = os.path.join(scratch, f"copy-{i}")
        cp.append(measured(["cp", "-r", remote, copied], base, env))
        if sorted(os.listdir(target)) != sorted(os.listdir(copied)):
            sys.exit(f"the first push into {target} does not hold what {remote} holds")
    shutil.rmtree(scratch, ignore_errors=True)
    os.remove(os.path.join(repo, ".dvc", "config.local"))
    summary = lambda runs: (statistics.median(t for t, _ in runs), max(m for _, m in runs))
    return {"git-dvc": summary(gd), "cp": summary(cp)}


def pre_receive(base, repo, remote, env, rounds):
    """One-commit pushes into a bare copy of the whole history, with and without the hook."""
    results = {}
    client = os.path.join(base, "client")
    old = run(["git", "rev-parse", "refs/remotes/origin/main"], client, env).stdout.strip()
    # A second commit: one `.dvc` file changes to an output already in storage.
    tree = run(["git", "rev-parse", f"{old}^{{tree}}"], client, env).stdout.strip()
    dvc_files = run(["git", "ls-tree", "-r", "--name-only", tree, "data/"], client, env).stdout.split()
    dvc_files = [f for f in dvc_files if f.endswith(".dvc")]
    first, second = dvc_files[0], dvc_files[1]
    second_blob = run(["git", "rev-parse", f"{old}:{second}"], client, env).stdout.strip()
    second_text = run(["git", "cat-file", "-p", second_blob], client, env).stdout
    index_env = dict(env, GIT_INDEX_FILE=os.path.join(base, "bench-index"))
    run(["git", "read-tree", old], client, index_env)
    blob = run(["git", "hash-object", "-w", "--stdin"], client, env,
               stdin=second_text.replace(f"path: {os.path.basename(second)[:-4]}",
                                         f"path: {os.path.basename(first)[:-4]}")).stdout.strip()
    run(["git", "update-index", "--cacheinfo", f"100644,{blob},{first}"], client, index_env)
    dvc_tree = run(["git", "write-tree"], client, index_env).stdout.strip()
    dvc_commit = run(["git", "commit-tree", dvc_tree, "-p", old, "-m", "bench: one .dvc"],
                     client, env).stdout.strip()
    readme_commit = run(["git", "rev-parse", "refs/heads/main"], client, env).stdout.strip()
    for mode in ["without hook", "with git-dvc pre-receive"]:
        server = os.path.join(base, "server-hook.git" if "git-dvc" in mode else "server-nohook.git")
        if not os.path.isdir(server):
            run(["git", "clone", "-q", "--bare", repo, server], base, env)
            if "git-dvc" in mode:
                run(["git", "dvc", "install", "--server"], server, env)
                os.makedirs(os.path.join(server, "dvc"), exist_ok=True)
                with open(os.path.join(server, "dvc", "config"), "w") as f:
                    f.write(f"[core]\n    remote = s\n['remote \"s\"']\n    url = {remote}\n")
        for label, commit in [("no DVC file", readme_commit), ("one .dvc file", dvc_commit)]:
            times = []
            for _ in range(rounds):
                run(["git", "update-ref", "refs/heads/main", old], server, env)
                t, _ = measured(["git", "push", "-q", "--no-verify", server, f"{commit}:refs/heads/main"],
                                client, env)
                times.append(t)
            results[(mode, label)] = statistics.median(times)
            if "git-dvc" in mode:
                # The check alone, run as the hook runs it, once the pushed objects are in
                # the repository (without git's quarantine): no push noise around it.
                run(["git", "update-ref", "refs/heads/main", old], server, env)
                line = f"{old} {commit} refs/heads/main\n"
                results[("alone", label)] = median_of(
                    rounds * 3, ["git", "dvc", "pre-receive"], server, env, line)[0]
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1x,10x")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench", "scale"))
    ap.add_argument("--parts", default="pre-push,noop,pre-receive,first-push",
                    help="which measurements, comma-separated (default all four)")
    args = ap.parse_args()
    parts = set(args.parts.split(","))
    if not parts <= {"pre-push", "noop", "pre-receive", "first-push"}:
        sys.exit(f"unknown part in --parts {args.parts}: pre-push, noop, pre-receive, first-push")
    if not os.access(os.path.join(ROOT, "target", "release", "git-dvc"), os.X_OK):
        sys.exit("build git-dvc first: cargo build --release")
    if "pre-push" in parts and shutil.which("git-lfs") is None:
        sys.exit("git-lfs is needed for the pre-push reference figure (apt-get install git-lfs)")
    os.makedirs(args.work, exist_ok=True)
    env = env_for(args.work)
    figures = {}
    for size in args.sizes.split(","):
        base, repo, remote = ensure_repo(args.work, size, env)
        pp = nop = pr = fp = None
        if "pre-push" in parts:
            print(f"== {size}: pre-push", flush=True)
            pp = pre_push(base, repo, env, args.rounds)
        if "noop" in parts:
            print(f"== {size}: push -a -T no-op", flush=True)
            nop = noop(repo, env, max(3, args.rounds // 3))
        if "pre-receive" in parts:
            print(f"== {size}: pre-receive", flush=True)
            pr = pre_receive(base, repo, remote, env, args.rounds)
        if "first-push" in parts:
            print(f"== {size}: first push", flush=True)
            fp = first_push(base, repo, remote, env, max(3, args.rounds // 3))
        figures[size] = (pp, nop, pr, fp)
    if "pre-push" in parts:
        print(f"\n## pre-push, one new commit touching no DVC file (median of {args.rounds})\n")
        print("| size | git-dvc pre-push | git lfs pre-push | ratio | git-dvc, first run (cold index) |")
        print("| --- | ---: | ---: | ---: | ---: |")
    for size, (pp, _, _, _) in figures.items():
        if pp is None:
            continue
        g, l = pp["git-dvc"][0], pp["git-lfs"][0]
        print(f"| {size} | {ms(g)} ({pp['git-dvc'][1]:.0f} MiB) | {ms(l)} ({pp['git-lfs'][1]:.0f} MiB) "
              f"| {g / l:.2f} | {ms(pp['cold'])} |")
    if "noop" in parts:
        print("\n## `git dvc push -a -T`, nothing to upload\n")
        print("| size | git-dvc | `git rev-list --objects --branches --tags` | ratio | git-dvc, first run |")
        print("| --- | ---: | ---: | ---: | ---: |")
    for size, (_, nop, _, _) in figures.items():
        if nop is None:
            continue
        g, r, f = nop["git-dvc"], nop["rev-list"], nop["first"]
        print(f"| {size} | {ms(g[0])}, {g[1]:.0f} MiB peak | {ms(r[0])}, {r[1]:.0f} MiB peak "
              f"| {g[0] / r[0]:.2f} | {ms(f[0])}, {f[1]:.0f} MiB peak |")
    if "pre-receive" in parts:
        print("\n## pre-receive, a one-commit push into the whole history\n")
        print("| size | commit | push without hook | with git-dvc pre-receive | difference | `git dvc pre-receive` alone |")
        print("| --- | --- | ---: | ---: | ---: | ---: |")
    for size, (_, _, pr, _) in figures.items():
        if pr is None:
            continue
        for label in ["no DVC file", "one .dvc file"]:
            a, b = pr[("without hook", label)], pr[("with git-dvc pre-receive", label)]
            print(f"| {size} | {label} | {ms(a)} | {ms(b)} | {ms(b - a)} | {ms(pr[('alone', label)])} |")
    if "first-push" in parts:
        print("\n## `git dvc push -a -T` into an empty local remote\n")
        print("| size | git-dvc | `cp -r` of the same objects | ratio |")
        print("| --- | ---: | ---: | ---: |")
    for size, (_, _, _, fp) in figures.items():
        if fp is None:
            continue
        g, c = fp["git-dvc"], fp["cp"]
        print(f"| {size} | {ms(g[0])}, {g[1]:.0f} MiB peak | {ms(c[0])} | {g[0] / c[0]:.2f} |")
    with open(os.path.join(args.work, "results.json"), "w") as f:
        json.dump({s: {"pre_push": pp, "noop": nop,
                       "pre_receive": {f"{k[0]} / {k[1]}": v for k, v in pr.items()} if pr else None,
                       "first_push": fp}
                   for s, (pp, nop, pr, fp) in figures.items()}, f, indent=2)


if __name__ == "__main__":
    main()
