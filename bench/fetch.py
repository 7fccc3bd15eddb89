#!/usr/bin/env python3
"""Time `git dvc fetch -a -T` against `dvc fetch -a -T` (DVC 3.67.1), and against `cp -r`
of the same objects, on the same repositories, remotes and machine, in one run.

    python3 bench/fetch.py --dvc DVC --git-dvc GIT_DVC [--moto MOTO_SERVER] [--s3s-fs S3S_FS]
                           [--s3rver S3RVER]
                           [--work DIR] [--files N] [--noop-runs R] [--skip-history]
                           [-- GEN_REPO_ARGS]

Normally run through bench/fetch.sh, which builds git-dvc and finds the rest.

Scenarios:

  history     the bench repository (bench/gen_repo.py; its flags after `--`, default a
              medium preset: 400 commits, 25 branches, 25 tags), local remote, `-a -T`;
  many-small  one directory output of N files (default 5000, 1-4 KiB, in 50
              sub-directories) plus 50 single-file outputs: reference §6's data, local
              remote;
  moto        many-small from moto (with --moto), the S3 server the tests use: DVC reads
              from it correctly, but at 2-3 ms of server CPU per request it sets the pace
              for both tools (its CPU time is reported);
  s3s-fs      many-small from s3s-fs (with --s3s-fs), fast enough that git-dvc, not the
              server, decides the time; git-dvc only, since DVC cannot fetch from it: it
              HEADs `files/md5` (s3s-fs answers 500 for a key that is a directory on its
              disk; bench/fetch.sh builds it with that answer fixed) and then finds none of
              the single-file objects in s3s-fs's listings, so it fetches only what the
              `.dir`s vouch for and reports the rest missing;
  s3rver      many-small from s3rver (with --s3rver; npm's Node.js S3 server, objects as
              files): DVC reads it correctly and it spends a fraction of moto's CPU per
              request, so this is the S3 comparison where the tools set the pace.
Requests are counted from each server's log.

Each remote is filled once with `git dvc push -a -T` (tests/it/push_equivalence.rs shows
it writes what `dvc push` writes). Then, each tool into its own empty cache (`cache.dir`
in `.dvc/config.local`, which both read) and DVC with a fresh site cache:

  1. DVC first fetch;            2. DVC no-op fetch (site cache of step 1);
  3. git-dvc first fetch;        4. git-dvc no-op, --noop-runs times (median);
  5. local remotes: `cp -r` of the remote's objects into an empty directory (median of 3).

Wall time and peak RSS from os.wait4 (bench.py's `measure`). Both caches must end with the
same files, bytes and modes, or the run fails loudly. Prints a markdown table and writes
WORK/results.md and WORK/results.json. Python 3 standard library only.
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
# make_many_small, measure, median_run and tree lived here first: pull.py and
# checkout_hooks.py may still import them from this module.
from common import (Run, dvc_env, machine_note, make_many_small, measure,  # noqa: E402,F401
                    median_run, rmtree, tree)
from s3 import Moto, S3rver, S3sFs  # noqa: E402

MEDIUM = ["--commits", "400", "--branches", "25", "--tags", "25", "--dvc-files", "100",
          "--dirs", "6", "--dir-members", "200"]


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def compare(a: str, b: str) -> list[str]:
    ta, tb = tree(a), tree(b)
    problems = []
    for k in sorted(set(ta) | set(tb)):
        if ta.get(k) != tb.get(k):
            problems.append(f"{k}: DVC {ta.get(k)}, git-dvc {tb.get(k)}")
    return problems[:20]


def write_local_config(repo: str, remote_url: str, cache: str, extra: str = "") -> None:
    with open(os.path.join(repo, ".dvc", "config.local"), "w") as f:
        f.write("[core]\n    remote = storage\n"
                f"['remote \"storage\"']\n    url = {remote_url}\n{extra}"
                f"[cache]\n    dir = {cache}\n")


def scenario(name: str, repo: str, remote_url: str, a, env: dict, work: str,
             local_remote: str | None, server=None, with_dvc: bool = True) -> dict:
    """Times both tools fetching `repo`'s -a -T data from `remote_url`."""
    logs = os.path.join(work, name, "logs")
    os.makedirs(logs, exist_ok=True)
    fetch = ["fetch", "-a", "-T"]
    caches = {t: os.path.join(work, name, f"cache-{t}") for t in ("dvc", "git-dvc")}
    for c in caches.values():
        rmtree(c)
    rmtree(os.path.join(repo, ".dvc", "tmp"))
    results: dict[str, Run] = {}
    requests: dict[str, int] = {}

    def timed(key, label, argv, run_env):
        before = server.requests() if server else 0
        cpu_before = server.cpu() if server else 0.0
        r = measure(f"{name}: {label}", argv, repo, run_env, logs, a.timeout)
        if server:
            r.server_cpu = server.cpu() - cpu_before
            requests[key] = server.requests() - before
        results[key] = r
        return r

    dvc_env = dict(env, DVC_SITE_CACHE_DIR=os.path.join(work, name, "site-cache"))
    if with_dvc:
        write_local_config(repo, remote_url, caches["dvc"],
                           server.remote_options() if server else "")
        timed("dvc_first", "dvc first fetch", [a.dvc, *fetch], dvc_env)
        timed("dvc_noop", "dvc no-op fetch", [a.dvc, *fetch], dvc_env)

    write_local_config(repo, remote_url, caches["git-dvc"],
                       server.remote_options() if server else "")
    timed("gd_first", "git dvc first fetch", [a.git_dvc, *fetch], env)
    noops = []
    for i in range(a.noop_runs):
        before = server.requests() if server else 0
        noops.append(measure(f"{name}: git dvc no-op #{i + 1}", [a.git_dvc, *fetch], repo,
                             env, logs, a.timeout))
        if server:
            requests["gd_noop"] = server.requests() - before
    results["gd_noop"] = median_run(noops)
    os.unlink(os.path.join(repo, ".dvc", "config.local"))

    if local_remote:
        cps = []
        for i in range(3):
            dest = os.path.join(work, name, "cp-copy")
            rmtree(dest)
            cps.append(measure(f"{name}: cp -r #{i + 1}", ["cp", "-r", local_remote, dest],
                               work, env, logs, a.timeout))
        rmtree(os.path.join(work, name, "cp-copy"))
        results["cp"] = median_run(cps)

    problems = compare(caches["dvc"], caches["git-dvc"]) if with_dvc else []
    objects = sum(1 for k, v in tree(caches["git-dvc"]).items() if v[0] != "dir")
    return {"runs": results, "requests": requests, "problems": problems, "objects": objects,
            "noops": noops}


def s3_options(endpoint: str) -> str:
    return (f"    endpointurl = {endpoint}\n    access_key_id = testing\n"
            "    secret_access_key = testing\n    region = us-east-1\n")


class S3sFsRemote(S3sFs):
    def remote_options(self) -> str:
        return s3_options(self.endpoint)


class MotoRemote(Moto):
    def remote_options(self) -> str:
        return s3_options(self.endpoint)


class S3rverRemote(S3rver):
    def remote_options(self) -> str:
        return (f"    endpointurl = {self.endpoint}\n    access_key_id = {self.access_key}\n"
                f"    secret_access_key = {self.access_key}\n    region = us-east-1\n")


def fmt(r: Run | None) -> str:
    if r is None:
        return "n/a"
    txt = f"{r.seconds:.3f}" if r.seconds < 10 else f"{r.seconds:.1f}"
    return txt if r.ok else f"{txt} (rc {r.rc})"


def ratio(num: Run | None, den: Run | None) -> str:
    if not (num and den and num.ok and den.ok and den.seconds):
        return "n/a"
    x = num.seconds / den.seconds
    return f"{x:.0f}×" if x >= 10 else f"{x:.2f}×"


def report(results: dict) -> str:
    lines = ["| scenario | objects | run | DVC s | git-dvc s | DVC ÷ git-dvc | `cp -r` s | "
             "git-dvc ÷ `cp -r` | CPU s, DVC / git-dvc / `cp` | DVC peak RSS | "
             "git-dvc peak RSS | git-dvc ÷ DVC RSS | requests DVC / git-dvc | "
             "server CPU s, DVC / git-dvc |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in results.items():
        r, q = s["runs"], s["requests"]
        for run, d, g, cp in (("first fetch", r.get("dvc_first"), r.get("gd_first"),
                               r.get("cp")),
                              ("no-op", r.get("dvc_noop"), r.get("gd_noop"), None)):
            key = "first" if run == "first fetch" else "noop"
            reqs = (f"{q.get('dvc_' + key, 'n/a')} / {q.get('gd_' + key, 'n/a')}"
                    if q else "—")
            mem = (f"{g.max_rss_kib / d.max_rss_kib:.3f}" if d and g and d.max_rss_kib
                   else "n/a")
            cpu = " / ".join(f"{x.cpu:.2f}" if x else "n/a"
                             for x in ((d, g, cp) if cp else (d, g)))
            server_cpu = " / ".join(f"{getattr(x, 'server_cpu', 0):.2f}" if x else "n/a"
                                    for x in (d, g)) if q else "—"
            lines.append(
                f"| {name} | {s['objects']} | {run} | {fmt(d)} | {fmt(g)} | {ratio(d, g)} | "
                f"{fmt(cp) if cp else '—'} | {ratio(g, cp) if cp else '—'} | {cpu} | "
                f"{f'{d.max_rss_kib / 1024:.1f} MiB' if d else 'n/a'} | "
                f"{g.max_rss_kib / 1024:.1f} MiB | {mem} | {reqs} | {server_cpu} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dvc", required=True)
    ap.add_argument("--git-dvc", required=True)
    ap.add_argument("--moto", help="also fetch many-small from this moto_server")
    ap.add_argument("--s3s-fs", help="also fetch many-small from this s3s-fs binary "
                    "(git-dvc only: see above)")
    ap.add_argument("--s3rver", help="also fetch many-small from this s3rver (npm's S3 "
                    "server, which DVC reads and which is not the bottleneck moto is)")
    ap.add_argument("--work", default=os.path.join(HERE, "..", "target", "bench", "fetch"))
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--noop-runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=7200)
    ap.add_argument("--skip-history", action="store_true")
    ap.add_argument("gen_args", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    gen_args = [x for x in a.gen_args if x != "--"] or MEDIUM
    work = os.path.abspath(a.work)
    rmtree(work)
    os.makedirs(work)
    t_start, load_start = time.time(), os.getloadavg()

    env = dvc_env(work)
    for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(k, None)

    def fill(repo: str, remote_url: str, extra: str = "") -> None:
        with open(os.path.join(repo, ".dvc", "config.local"), "w") as f:
            f.write("[core]\n    remote = storage\n"
                    f"['remote \"storage\"']\n    url = {remote_url}\n{extra}")
        out = subprocess.run([a.git_dvc, "push", "-a", "-T"], cwd=repo, env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"filling {remote_url} failed:\n{out.stderr[-3000:]}")
        print(f"  filled {remote_url}: {out.stdout.strip()}", flush=True)

    results = {}
    if not a.skip_history:
        gen = os.path.join(work, "history", "gen")
        print(f"generating the history repository: gen_repo.py {' '.join(gen_args)}",
              flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), "--out", gen,
                        "--force", *gen_args], check=True, stdout=subprocess.DEVNULL)
        repo, remote = os.path.join(gen, "repo"), os.path.join(gen, "remote-fetch")
        fill(repo, remote)
        results["history (-a -T), local remote"] = scenario(
            "history", repo, remote, a, env, work, local_remote=remote)

    repo = os.path.join(work, "many-small", "repo")
    make_many_small(repo, a.dvc, env, a.files, seed=17)
    remote = os.path.join(work, "many-small", "remote")
    fill(repo, remote)
    results["many-small, local remote"] = scenario("many-small", repo, remote, a, env, work,
                                                   local_remote=remote)
    servers = []
    if a.moto:
        servers.append(("moto", lambda d: MotoRemote(a.moto, d), True))
    if a.s3s_fs:
        servers.append(("s3s-fs", lambda d: S3sFsRemote(a.s3s_fs, d), False))
    if a.s3rver:
        servers.append(("s3rver", lambda d: S3rverRemote(a.s3rver, d), True))
    for server_name, start, with_dvc in servers:
        server_dir = os.path.join(work, f"{server_name}-server")
        os.makedirs(server_dir)
        server = start(server_dir)
        try:
            server.create_bucket("fetch")
            url = "s3://fetch/store"
            fill(repo, url, server.remote_options())
            results[f"many-small, {server_name}"] = scenario(
                server_name, repo, url, a, env, work, local_remote=None, server=server,
                with_dvc=with_dvc)
        finally:
            server.stop()

    problems = {n: s["problems"] for n, s in results.items() if s["problems"]}
    failed = [r for s in results.values() for r in list(s["runs"].values()) + s["noops"]
              if not r.ok]
    md = [report(results)]
    for n, s in results.items():
        dvc_first = s["runs"].get("dvc_first")
        md.append(f"{n}: git-dvc no-op runs {', '.join(f'{r.seconds:.3f}' for r in s['noops'])}"
                  f" s (median shown); summaries: DVC first "
                  f"{dvc_first.summary() if dvc_first else 'not run'!r}, git-dvc first "
                  f"{s['runs']['gd_first'].summary()!r}, git-dvc no-op "
                  f"{s['runs']['gd_noop'].summary()!r}.")
    md.append("Caches identical (names, bytes, modes): "
              + ("yes, in every scenario" if not problems else f"**NO**: {problems}"))
    dvc_version = subprocess.run([a.dvc, "--version"], capture_output=True, text=True,
                                 env=env).stdout.strip()
    md.append(f"Versions: DVC {dvc_version}; {machine_note(t_start, load_start)}")
    text = "\n".join(md) + "\n"
    print()
    print(text)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(text)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({n: {"runs": {k: r.as_dict() for k, r in s["runs"].items()},
                       "requests": s["requests"], "objects": s["objects"],
                       "problems": s["problems"]} for n, s in results.items()}, f, indent=2)
    if problems or failed:
        print("FAIL: " + ("caches differ " if problems else "")
              + (f"{len(failed)} runs failed" if failed else ""))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
