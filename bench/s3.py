#!/usr/bin/env python3
"""Time `git dvc push` against `dvc push` (DVC 3.67.1) on the same local S3 server.

    python3 bench/s3.py --dvc DVC --git-dvc GIT_DVC --moto MOTO_SERVER [--s3s-fs S3S_FS]
                        [--work DIR] [--small-files N] [--large-files K] [--large-mib M]
                        [--jobs J]

Normally run through bench/s3.sh, which builds git-dvc and installs what is needed.

Servers: moto (the S3 server the tests use; Python, 2-3 ms of CPU per request, so it
bounds both tools on first pushes) and, with --s3s-fs, s3s-fs (Rust, objects as files),
fast enough that the tools themselves decide the time.

Two repositories, each pushed by both tools into their own bucket on each server:

  many-small   N small files (2-6 KiB) in 10 directory outputs plus 100 single-file
               outputs: listing and per-request costs dominate;
  few-large    K files of M MiB: bytes dominate.

For each: first push into an empty bucket, then a no-op push (DVC with a fresh site cache,
so its remote index is cold, and again with the index warm). Storage requests are counted
from the server's log (every HTTP request it answered), the same way for both tools, and
the server's own CPU time is read from /proc for each run: where it is close to a tool's
wall time, the server, not the tool, set the pace. The two buckets must end up with the
same keys.

Prints a markdown table and writes WORK/results.md and WORK/results.json.
Python 3 standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_port(port: int, name: str) -> None:
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            if time.time() > deadline:
                raise SystemExit(f"{name} did not start")
            time.sleep(0.1)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc), to show what the server spent."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Moto:
    name = "moto"

    def __init__(self, moto: str, work: str):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log_path = os.path.join(work, "moto.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [moto, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
            start_new_session=True)
        wait_for_port(self.port, "moto")

    def cpu(self) -> float:
        return process_cpu_seconds(self.proc.pid)

    def requests(self) -> int:
        # werkzeug logs a request after answering it: let the last lines land.
        time.sleep(1.0)
        self.log.flush()
        with open(self.log_path, "rb") as f:
            # One access-log line per request; colour codes may sit inside the quotes.
            return sum(1 for line in f if line.startswith(b"127.0.0.1 - - ["))

    def create_bucket(self, bucket: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT")
        urllib.request.urlopen(req).read()

    def keys(self, bucket: str) -> set[str]:
        out, token = set(), None
        while True:
            url = f"{self.endpoint}/{bucket}?list-type=2&max-keys=1000"
            if token:
                url += "&continuation-token=" + urllib.request.quote(token)
            body = urllib.request.urlopen(url).read().decode()
            for part in body.split("<Key>")[1:]:
                out.add(part.split("</Key>")[0])
            if "<NextContinuationToken>" not in body:
                return out
            token = body.split("<NextContinuationToken>")[1].split("</NextContinuationToken>")[0]

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, 9)
        except ProcessLookupError:
            pass
        self.proc.wait()


class S3sFs:
    """s3s-fs (Rust, objects as plain files): a server fast enough that the tools, not the
    server, decide the time. Requests are counted from its per-request debug log line."""

    name = "s3s-fs"

    def __init__(self, binary: str, work: str):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.root = os.path.join(work, "s3s-data")
        os.makedirs(self.root)
        self.log_path = os.path.join(work, "s3s-fs.log")
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, RUST_LOG="s3s::service=debug", NO_COLOR="1")
        self.proc = subprocess.Popen(
            [binary, "--host", "127.0.0.1", "--port", str(self.port),
             "--access-key", "testing", "--secret-key", "testing", self.root],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        wait_for_port(self.port, "s3s-fs")

    def requests(self) -> int:
        time.sleep(0.5)
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return sum(1 for line in f if b"s3s::service: req:" in line)

    def create_bucket(self, bucket: str) -> None:
        os.makedirs(os.path.join(self.root, bucket))

    def keys(self, bucket: str) -> set[str]:
        base = os.path.join(self.root, bucket)
        out = set()
        for dirpath, _, files in os.walk(base):
            for name in files:
                if not name.startswith("."):
                    out.add(os.path.relpath(os.path.join(dirpath, name), base))
        return out

    stop = Moto.stop
    cpu = Moto.cpu


class S3rver:
    """s3rver (Node.js, objects as files on disk; npm's `s3rver`): an S3 server DVC reads
    correctly (unlike s3s-fs) that spends far less per request than moto. It accepts only
    the access key S3RVER / S3RVER. Requests are counted from its access log, one line per
    answered request (`info: <path> <status> <time>ms <size>`)."""

    name = "s3rver"
    access_key = "S3RVER"

    def __init__(self, binary: str, work: str):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.root = os.path.join(work, "s3rver-data")
        os.makedirs(self.root)
        self.log_path = os.path.join(work, "s3rver.log")
        self.log = open(self.log_path, "wb")
        # s3rver 3.7 makes continuation tokens with a cipher OpenSSL 3 keeps in its
        # legacy provider: without it every truncated listing is a 500.
        env = dict(os.environ, NODE_OPTIONS="--openssl-legacy-provider", NO_COLOR="1",
                   FORCE_COLOR="0")
        self.proc = subprocess.Popen(
            [binary, "-d", self.root, "-a", "127.0.0.1", "-p", str(self.port)],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        wait_for_port(self.port, "s3rver")

    def requests(self) -> int:
        time.sleep(0.5)
        self.log.flush()
        answered = re.compile(rb"info\S*: \S* [0-9]{3} [0-9]+ms ")
        with open(self.log_path, "rb") as f:
            return sum(1 for line in f if answered.search(line))

    def create_bucket(self, bucket: str) -> None:
        req = urllib.request.Request(f"{self.endpoint}/{bucket}", method="PUT")
        urllib.request.urlopen(req).read()

    keys = Moto.keys
    stop = Moto.stop
    cpu = Moto.cpu


def run(argv, cwd, env, log_dir, label, timeout=3600):
    t0 = time.monotonic()
    p = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout)
    secs = time.monotonic() - t0
    with open(os.path.join(log_dir, label + ".out"), "wb") as f:
        f.write(p.stdout)
    with open(os.path.join(log_dir, label + ".err"), "wb") as f:
        f.write(p.stderr)
    if p.returncode != 0:
        raise SystemExit(f"{label} failed ({p.returncode}):\n{p.stderr.decode()[-3000:]}")
    return secs, p.stdout.decode().strip().splitlines()[-1:] or [""]


def make_repo(path: str, dvc: str, env: dict, files: dict[str, int], seed: int) -> None:
    rng = random.Random(seed)
    os.makedirs(path)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=path, env=env, check=True)
    tops = set()
    for rel, size in files.items():
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(rng.randbytes(size))
        tops.add(rel.split("/")[0])
    subprocess.run([dvc, "add", "-q", *sorted(tops)], cwd=path, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=path, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm",
                    "data"], cwd=path, check=True)


def set_remote(repo: str, endpoint: str, bucket: str) -> None:
    with open(os.path.join(repo, ".dvc", "config.local"), "w") as f:
        f.write("[core]\n    remote = s3\n['remote \"s3\"']\n"
                f"    url = s3://{bucket}/store\n    endpointurl = {endpoint}\n"
                "    access_key_id = testing\n    secret_access_key = testing\n"
                "    region = us-east-1\n")


def scenario(name, files, args, server, work, base_env):
    repo = os.path.join(work, name, "repo")
    logs = os.path.join(work, name, "logs")
    os.makedirs(logs, exist_ok=True)
    make_repo(repo, args.dvc, base_env, files, seed=len(name))
    jobs = ["-j", str(args.jobs)] if args.jobs else []
    rows = {}

    def timed(tool, label, argv, env):
        before, cpu_before = server.requests(), server.cpu()
        secs, summary = run(argv, repo, env, logs, f"{tool}-{label}")
        # Read the CPU before the request count, which waits for the log to settle.
        server_cpu = server.cpu() - cpu_before
        return {"seconds": round(secs, 3), "requests": server.requests() - before,
                "server_cpu": round(server_cpu, 2), "summary": summary[0]}

    def dvc_env(site):
        e = dict(base_env)
        e["DVC_SITE_CACHE_DIR"] = os.path.join(work, name, site)
        return e

    b_dvc, b_gd = f"{name}-dvc", f"{name}-git-dvc"
    server.create_bucket(b_dvc)
    server.create_bucket(b_gd)
    set_remote(repo, server.endpoint, b_dvc)
    rows["dvc first"] = timed("dvc", "first", [args.dvc, "push", *jobs], dvc_env("site-a"))
    rows["dvc no-op cold"] = timed("dvc", "noop-cold", [args.dvc, "push", *jobs],
                                   dvc_env("site-b"))
    rows["dvc no-op warm"] = timed("dvc", "noop-warm", [args.dvc, "push", *jobs],
                                   dvc_env("site-a"))
    set_remote(repo, server.endpoint, b_gd)
    rows["git-dvc first"] = timed("git-dvc", "first", [args.git_dvc, "push", *jobs], base_env)
    rows["git-dvc no-op"] = timed("git-dvc", "noop", [args.git_dvc, "push", *jobs], base_env)
    a, b = server.keys(b_dvc), server.keys(b_gd)
    if a != b:
        raise SystemExit(f"{name}: buckets differ: only DVC {sorted(a - b)[:5]}, "
                         f"only git-dvc {sorted(b - a)[:5]}")
    rows["objects"] = len(a)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dvc", required=True)
    ap.add_argument("--git-dvc", required=True)
    ap.add_argument("--moto", required=True)
    ap.add_argument("--s3s-fs", help="also run against this s3s-fs binary")
    ap.add_argument("--work", default="target/bench/s3")
    ap.add_argument("--small-files", type=int, default=3000)
    ap.add_argument("--large-files", type=int, default=3)
    ap.add_argument("--large-mib", type=int, default=100)
    ap.add_argument("--jobs", type=int, default=0, help="-j for both tools (default: theirs)")
    args = ap.parse_args()
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    env = dict(os.environ)
    env.update(DVC_NO_ANALYTICS="1", GIT_CONFIG_NOSYSTEM="1",
               DVC_GLOBAL_CONFIG_DIR=os.path.join(work, "dvc-global"),
               DVC_SYSTEM_CONFIG_DIR=os.path.join(work, "dvc-system"))
    for k in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(k, None)

    rng = random.Random(7)
    small = {}
    for i in range(args.small_files - 100):
        small[f"d{i % 10}/f{i:06d}.bin"] = rng.randint(2048, 6144)
    for i in range(100):
        small[f"loose{i:03d}.bin"] = rng.randint(2048, 6144)
    large = {f"big{i}.bin": args.large_mib << 20 for i in range(args.large_files)}

    servers = [("moto", lambda: Moto(args.moto, os.path.join(work, "moto")))]
    if args.s3s_fs:
        servers.append(("s3s-fs", lambda: S3sFs(args.s3s_fs, os.path.join(work, "s3s-fs"))))
    results = {}
    for server_name, start in servers:
        os.makedirs(os.path.join(work, server_name))
        server = start()
        try:
            for name, files in (("many-small", small), ("few-large", large)):
                results[f"{server_name}/{name}"] = scenario(
                    name, files, args, server, os.path.join(work, server_name), env)
        finally:
            server.stop()

    lines = ["| server | scenario | objects | run | DVC s | git-dvc s | DVC / git-dvc | DVC requests | git-dvc requests | server CPU s, DVC / git-dvc |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for key, r in results.items():
        server_name, name = key.split("/")
        g1, gn = r["git-dvc first"], r["git-dvc no-op"]
        for run_name, d, g in (("first push", r["dvc first"], g1),
                               ("no-op, DVC index cold", r["dvc no-op cold"], gn),
                               ("no-op, DVC index warm", r["dvc no-op warm"], gn)):
            ratio = d["seconds"] / g["seconds"] if g["seconds"] else float("inf")
            lines.append(f"| {server_name} | {name} | {r['objects']} | {run_name} | "
                         f"{d['seconds']:.2f} | {g['seconds']:.2f} | {ratio:.1f}x | "
                         f"{d['requests']} | {g['requests']} | "
                         f"{d['server_cpu']:.2f} / {g['server_cpu']:.2f} |")
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(table + "\n")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
