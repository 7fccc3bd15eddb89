#!/usr/bin/env python3
"""Hook benchmarks, git-dvc against DVC's own hook, in one run.

1. pre-push overhead: a repository with DVC data (a local remote, everything pushed) and a
   bare git server. Each round commits a change to a file DVC does not track and pushes it,
   three ways: `git push --no-verify` (baseline), with git-dvc's hook (`git dvc install`),
   and with DVC's hook (`dvc install`, which runs `dvc push` on every push). Reported: the
   median push time and the overhead over the baseline.
2. pre-receive: 100 new commits that together touch 1,000 `.dvc` files, pushed to a bare
   repository with `git dvc install --server`, against the same push to a bare repository
   without the hook. Reported: the check's cost (difference of medians) and the number of
   storage lookups it made (objects checked).

Usage: bench/hooks.py [--rounds N] [--work DIR]
Needs: target/release/git-dvc (built by the caller), DVC at $GIT_DVC_BENCH_DVC or
target/test-env/dvc/bin/dvc. Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(argv, cwd, env, check=True, stdin=None):
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, input=stdin)
    if check and p.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)} in {cwd}\n{p.stdout}\n{p.stderr}")
    return p


def timed(argv, cwd, env):
    t = time.perf_counter()
    p = run(argv, cwd, env)
    return time.perf_counter() - t, p


def environment(work, git_dvc, dvc):
    env = dict(os.environ)
    home = os.path.join(work, "home")
    os.makedirs(home, exist_ok=True)
    env.update(
        HOME=home,
        GIT_CONFIG_NOSYSTEM="1",
        DVC_NO_ANALYTICS="1",
        DVC_GLOBAL_CONFIG_DIR=os.path.join(home, "dvc-global"),
        DVC_SYSTEM_CONFIG_DIR=os.path.join(home, "dvc-system"),
        DVC_SITE_CACHE_DIR=os.path.join(home, "dvc-site"),
        GIT_AUTHOR_NAME="bench", GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com",
        PATH=os.pathsep.join([os.path.dirname(git_dvc), os.path.dirname(dvc), env["PATH"]]),
    )
    return env


def make_dvc_repo(path, env, dvc, files):
    os.makedirs(path)
    run(["git", "init", "-q", "-b", "main"], path, env)
    run([dvc, "init", "-q"], path, env)
    run([dvc, "remote", "add", "-q", "-d", "store", os.path.join(os.path.dirname(path), "store")], path, env)
    for i in range(files):
        with open(os.path.join(path, f"data{i}.txt"), "w") as f:
            f.write(f"data {i}\n")
    run([dvc, "add", "-q"] + [f"data{i}.txt" for i in range(files)], path, env)
    run(["git", "add", "-A"], path, env)
    run(["git", "commit", "-q", "-m", "data"], path, env)
    run([dvc, "push", "-q"], path, env)


def pre_push_overhead(work, env, dvc, rounds):
    results = {}
    for mode in ["no-verify", "git-dvc", "dvc"]:
        base = os.path.join(work, f"prepush-{mode}")
        repo = os.path.join(base, "repo")
        server = os.path.join(base, "server.git")
        os.makedirs(base)
        run(["git", "init", "-q", "--bare", server], base, env)
        make_dvc_repo(repo, env, dvc, 20)
        run(["git", "remote", "add", "origin", server], repo, env)
        run(["git", "push", "-q", "--no-verify", "origin", "main"], repo, env)
        if mode == "git-dvc":
            run(["git", "dvc", "install"], repo, env)
        elif mode == "dvc":
            run([dvc, "install"], repo, env)
        times = []
        for i in range(rounds):
            with open(os.path.join(repo, "README.md"), "a") as f:
                f.write(f"round {i}\n")
            run(["git", "add", "README.md"], repo, env)
            run(["git", "commit", "-q", "-m", f"round {i}"], repo, env)
            argv = ["git", "push", "-q", "origin", "main"]
            if mode == "no-verify":
                argv.insert(2, "--no-verify")
            t, p = timed(argv, repo, env)
            if mode == "git-dvc" and (p.stdout.strip() or p.stderr.strip()):
                sys.exit(f"git-dvc's hook printed output on a push with nothing to upload:\n{p.stderr}")
            times.append(t)
        results[mode] = statistics.median(times)
        if mode != "no-verify":
            results[mode + " hook alone"] = hook_alone(repo, server, env, rounds)
        else:
            # What any hook costs: a shell script that only reads git's stdin.
            noop = os.path.join(base, "noop-hook")
            with open(noop, "w") as f:
                f.write("#!/bin/sh\ncat >/dev/null\n")
            os.chmod(noop, 0o755)
            results["noop hook alone"] = hook_alone(repo, server, env, rounds, noop)
    return results


def hook_alone(repo, server, env, rounds, hook=None):
    """The installed pre-push hook run directly with the ref line of the last push, so
    the figure is the hook's own cost without the noise of a whole `git push`."""
    head = run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    parent = run(["git", "rev-parse", "HEAD~1"], repo, env).stdout.strip()
    line = f"refs/heads/main {head} refs/heads/main {parent}\n"
    hook = hook or os.path.join(repo, ".git", "hooks", "pre-push")
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        run([hook, "origin", server], repo, env, stdin=line)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def write_dvc_file(repo, rel, content):
    path = os.path.join(repo, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    data = content.encode()
    md5 = hashlib.md5(data).hexdigest()
    with open(path + ".dvc", "w") as f:
        f.write(f"outs:\n- md5: {md5}\n  size: {len(data)}\n  hash: md5\n  path: {os.path.basename(rel)}\n")
    return md5, data


def pre_receive(work, env, rounds, commits=100, per_commit=10):
    """100 commits × 10 `.dvc` files each = 1,000 `.dvc` files; storage holds every object."""
    base = os.path.join(work, "prereceive")
    repo = os.path.join(base, "repo")
    store = os.path.join(base, "store")
    os.makedirs(repo)
    run(["git", "init", "-q", "-b", "main"], repo, env)
    os.makedirs(os.path.join(repo, ".dvc"))
    with open(os.path.join(repo, ".dvc", "config"), "w") as f:
        f.write(f"[core]\n    remote = s\n['remote \"s\"']\n    url = {store}\n")
    with open(os.path.join(repo, "README.md"), "w") as f:
        f.write("bench\n")
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "base"], repo, env)
    base_commit = run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    n = 0
    for c in range(commits):
        for k in range(per_commit):
            md5, data = write_dvc_file(repo, f"d{c % 10}/f{n}", f"content {n}\n")
            obj = os.path.join(store, "files", "md5", md5[:2], md5[2:])
            os.makedirs(os.path.dirname(obj), exist_ok=True)
            with open(obj, "wb") as f:
                f.write(data)
            n += 1
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-q", "-m", f"c{c}"], repo, env)
    results = {}
    for mode in ["without hook", "with git-dvc pre-receive"]:
        times = []
        for r in range(rounds):
            server = os.path.join(base, f"server-{len(results)}-{r}.git")
            run(["git", "init", "-q", "--bare", server], base, env)
            if mode != "without hook":
                run(["git", "dvc", "install", "--server"], server, env)
                os.makedirs(os.path.join(server, "dvc"), exist_ok=True)
                shutil.copy(os.path.join(repo, ".dvc", "config"), os.path.join(server, "dvc", "config"))
            run(["git", "push", "-q", "--no-verify", server, f"{base_commit}:refs/heads/main"], repo, env)
            t, p = timed(["git", "push", "-q", "--no-verify", server, "main"], repo, env)
            times.append(t)
        results[mode] = statistics.median(times)
    check = run(["git", "dvc", "check", "--rev", f"{base_commit}..main", "--json"], repo, env)
    import json
    checked = json.loads(check.stdout)["checked"]
    return results, n, checked


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--work", default=os.path.join(ROOT, "target", "bench", "hooks"))
    args = ap.parse_args()
    git_dvc = os.path.join(ROOT, "target", "release", "git-dvc")
    dvc = os.environ.get("GIT_DVC_BENCH_DVC") or os.path.join(ROOT, "target", "test-env", "dvc", "bin", "dvc")
    for tool in (git_dvc, dvc):
        if not os.access(tool, os.X_OK):
            sys.exit(f"missing {tool}: build git-dvc (cargo build --release) and install DVC (bash scripts/test.sh --setup-only)")
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    env = environment(args.work, git_dvc, dvc)

    pp = pre_push_overhead(args.work, env, dvc, args.rounds)
    base = pp["no-verify"]
    print(f"## pre-push: push of a commit touching no DVC files (median of {args.rounds})\n")
    print("| hook | push time | overhead over --no-verify |")
    print("| --- | ---: | ---: |")
    for mode, label in [("no-verify", "none (`--no-verify`)"), ("git-dvc", "git-dvc (`git dvc install`)"), ("dvc", "DVC (`dvc install`)")]:
        print(f"| {label} | {pp[mode] * 1000:.1f} ms | {(pp[mode] - base) * 1000:+.1f} ms |")
    g, d, n = pp["git-dvc hook alone"], pp["dvc hook alone"], pp["noop hook alone"]
    print(f"\nThe hook alone (run directly with the push's ref line, median of {args.rounds}): "
          f"a no-op shell hook {n * 1000:.1f} ms, git-dvc {g * 1000:.1f} ms "
          f"(+{(g - n) * 1000:.1f} ms over the no-op), DVC {d * 1000:.0f} ms ({d / g:.0f}× git-dvc).")
    pr, files, checked = pre_receive(args.work, env, max(3, args.rounds // 3))
    cost = pr["with git-dvc pre-receive"] - pr["without hook"]
    print(f"\n## pre-receive: 100 new commits touching {files} `.dvc` files\n")
    print("| server | push time |")
    print("| --- | ---: |")
    for mode, t in pr.items():
        print(f"| {mode} | {t * 1000:.0f} ms |")
    print(f"\nCheck cost: {cost * 1000:.0f} ms for {checked} objects checked "
          f"({checked} storage lookups on a local-directory remote: one stat each, or one "
          f"listing of the layout when more than 1,024).")


if __name__ == "__main__":
    main()
