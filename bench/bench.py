#!/usr/bin/env python3
"""Time `git dvc push -a -T` against `dvc push -a -T` on a synthetic repository.

Normally started by bench/run.sh, which builds git-dvc and provides DVC. In one run:

  1. generate the repository with bench/gen_repo.py (or reuse the one in --work);
  2. DVC, first push into an empty remote   (fresh DVC site cache: no remote index)
  3. DVC, no-op                             (fresh site cache again: index cold)
  4. DVC, no-op                             (site cache of step 2: index warm)
  5. git-dvc, first push into another empty remote
  6. git-dvc, no-op, --noop-runs times (median reported)
  7. check that both remotes hold the same files with the same bytes, and that
     they are exactly the objects the generator says `push -a -T` must upload;
  8. print a markdown table (also written to WORK/results.md, raw data to
     WORK/results.json).

Wall time and peak RSS come from os.wait4 on each child (the same figures as
GNU time's %e and %M; peak RSS is the largest single process of the tree).

DVC 3.67.1 resolves a relative remote URL in a committed `.dvc/config` against
`/` for every git revision it reads (reference §8.6), so `url = ../../remote`
would send most objects to `/remote`. DVC is therefore pointed at its remote
with an absolute URL in `.dvc/config.local` (read from the work tree for every
revision), which is removed again before git-dvc runs; git-dvc uses the
committed relative URL, resolved against `.dvc/` as DVC does for the work tree.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import Run, rmtree  # noqa: E402,F401  (Run and rmtree lived here first)


# ---- running and measuring ---------------------------------------------------

def measure(label: str, argv: list[str], cwd: str, env: dict, logdir: str,
            timeout: float) -> Run:
    """Run argv, return wall seconds and peak RSS (KiB) of the process tree."""
    slug = label.replace(" ", "-").replace("/", "-")
    out_path = os.path.join(logdir, f"{slug}.out")
    err_path = os.path.join(logdir, f"{slug}.err")
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                             stdout=fo, stderr=fe, start_new_session=True)
        timed_out = False
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                timed_out = True
                os.killpg(p.pid, 9)  # our own child's process group
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.002)
        secs = time.monotonic() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(out_path, errors="replace") as f:
        out = f.read()
    with open(err_path, errors="replace") as f:
        err = f.read()
    r = Run(label, argv, secs, ru.ru_maxrss, p.returncode, out, err, timed_out)
    state = "TIMEOUT" if timed_out else f"rc={r.rc}"
    print(f"  {label:<34} {secs:9.3f} s  {ru.ru_maxrss / 1024:8.1f} MiB  {state}  "
          f"{r.summary()!r}", flush=True)
    if not r.ok:
        tail = "\n".join(err.splitlines()[-15:])
        print(f"    stderr (last lines, full log in {err_path}):\n{indent(tail)}", flush=True)
    return r


def indent(text: str, pad: str = "      ") -> str:
    return "\n".join(pad + l for l in text.splitlines())


# ---- repository and remotes ----------------------------------------------------

def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def repo_stats(repo: str, gen: dict) -> dict:
    refs = git(repo, "for-each-ref", "--format=%(refname) %(objecttype) %(*objectname) "
               "%(objectname)", "refs/heads", "refs/tags").splitlines()
    branches = [r for r in refs if r.startswith("refs/heads/")]
    tags = [r for r in refs if r.startswith("refs/tags/")]
    annotated = [r for r in tags if r.split()[1] == "tag"]
    revs = set()
    for r in refs:
        parts = r.split()
        revs.add(parts[2] if parts[1] == "tag" else parts[-1])
    dvc_blobs = set()
    blobs = git(repo, "rev-list", "--objects", "--all", "--filter=object:type=blob")
    for line in blobs.splitlines():
        oid, _, path = line.partition(" ")
        if path.endswith(".dvc"):
            dvc_blobs.add(oid)
    return {
        "commits": int(git(repo, "rev-list", "--all", "--count").strip()),
        "branches": len(branches),
        "tags": len(tags),
        "annotated_tags": len(annotated),
        "revisions_a_T": len(revs),
        "dvc_files_at_head": gen.get("dvc_files_at_head"),
        "unique_dvc_blobs": len(dvc_blobs),
        "cache_objects": gen.get("cache_objects"),
        "objects_to_push": gen.get("expected_remote_objects_all_branches_tags"),
        "bytes_to_push": gen.get("expected_remote_bytes_all_branches_tags"),
    }


def scan_remote(root: str) -> dict[str, tuple[str, int]]:
    """relative path -> (md5 of content, mode) for every file under root."""
    res = {}
    if not os.path.isdir(root):
        return res
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                digest = hashlib.md5(f.read()).hexdigest()
            res[os.path.relpath(p, root)] = (digest, os.stat(p).st_mode & 0o7777)
    return res


def compare_remotes(dvc_remote: str, gd_remote: str, expected_file: str) -> list[str]:
    """Problems found, empty when both remotes hold exactly the expected objects."""
    problems = []
    a, b = scan_remote(dvc_remote), scan_remote(gd_remote)
    expected = None
    if os.path.exists(expected_file):
        with open(expected_file) as f:
            expected = {l.strip() for l in f if l.strip()}

    def listing(title, names):
        names = sorted(names)
        more = f" … and {len(names) - 20} more" if len(names) > 20 else ""
        problems.append(f"{title} ({len(names)}): " + ", ".join(names[:20]) + more)

    if set(a) - set(b):
        listing("only in DVC's remote", set(a) - set(b))
    if set(b) - set(a):
        listing("only in git-dvc's remote", set(b) - set(a))
    diff = [k for k in set(a) & set(b) if a[k][0] != b[k][0]]
    if diff:
        listing("same name, different bytes", diff)
    for name, files in (("DVC", a), ("git-dvc", b)):
        bad = [k for k, (digest, _) in files.items()
               if not k.endswith(".dir") and k.startswith("files/md5/")
               and digest != k[len("files/md5/"):].replace("/", "")]
        if bad:
            listing(f"{name}: content does not match its name", bad)
        modes = sorted({oct(m) for _, m in files.values()})
        if modes != ["0o444"] and files:
            problems.append(f"{name}: object modes {modes} (DVC writes 0444)")
        if expected is not None:
            if expected - set(files):
                listing(f"{name}: expected but absent", expected - set(files))
            if set(files) - expected:
                listing(f"{name}: present but not expected", set(files) - expected)
    if not a:
        problems.append("DVC's remote is empty")
    if not b:
        problems.append("git-dvc's remote is empty")
    return problems


# ---- report ----------------------------------------------------------------------

def fmt_s(r: Run | None, secs: float | None = None) -> str:
    if r is None:
        return "n/a"
    if r.timed_out:
        return f">{r.seconds:.0f} (timeout)"
    s = r.seconds if secs is None else secs
    txt = f"{s:.3f}" if s < 10 else f"{s:.1f}"
    return txt if r.ok else f"{txt} (rc {r.rc})"


def fmt_mib(kib: int | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f} MiB"


def table(rows) -> str:
    head = ("| operation | DVC s | git-dvc s | speed-up (DVC ÷ git-dvc) | DVC peak RSS "
            "| git-dvc peak RSS | memory (git-dvc ÷ DVC) |\n"
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
    lines = []
    for op, d, g, g_secs in rows:
        speed = mem = "n/a"
        if d and g and d.ok and g.ok:
            speed = f"{d.seconds / g_secs:.0f}×" if d.seconds / g_secs >= 10 else \
                f"{d.seconds / g_secs:.1f}×"
            mem = f"{g.max_rss_kib / d.max_rss_kib:.3f}"
        lines.append(f"| {op} | {fmt_s(d)} | {fmt_s(g, g_secs)} | {speed} | "
                     f"{fmt_mib(d.max_rss_kib if d else None)} | "
                     f"{fmt_mib(g.max_rss_kib if g else None)} | {mem} |")
    return head + "\n".join(lines) + "\n"


# ---- main -------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="git-dvc vs DVC push benchmark")
    ap.add_argument("--dvc", required=True, help="the dvc executable (3.67.1)")
    ap.add_argument("--git-dvc", help="the git-dvc executable; omit to time DVC only")
    ap.add_argument("--work", required=True, help="working directory (repo, remotes, logs)")
    ap.add_argument("--regen", action="store_true", help="regenerate even if WORK has a repo")
    ap.add_argument("--noop-runs", type=int, default=5, help="git-dvc no-op repetitions")
    ap.add_argument("--dvc-timeout", type=float, default=5400, help="seconds per DVC run")
    ap.add_argument("--git-dvc-timeout", type=float, default=600,
                    help="seconds per git-dvc run")
    ap.add_argument("--skip-dvc", action="store_true",
                    help="time git-dvc only (no comparison, no remote check)")
    ap.add_argument("gen_args", nargs=argparse.REMAINDER,
                    help="after --: arguments for gen_repo.py (e.g. --small)")
    a = ap.parse_args(argv)
    gen_args = [x for x in a.gen_args if x != "--"]

    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    gen_dir = os.path.join(work, "gen")
    repo = os.path.join(gen_dir, "repo")
    stats_file = os.path.join(gen_dir, "stats.json")
    args_file = os.path.join(gen_dir, "gen-args.json")
    t_start = time.time()
    load_start = os.getloadavg()

    # -- 1. the repository
    reuse = (not a.regen and os.path.exists(stats_file) and os.path.exists(args_file)
             and json.load(open(args_file)) == gen_args)
    if reuse:
        print(f"reusing the repository in {repo} (gen_repo.py {' '.join(gen_args)})")
    else:
        print(f"generating the repository: gen_repo.py {' '.join(gen_args)}", flush=True)
        subprocess.run([sys.executable, os.path.join(HERE, "gen_repo.py"), "--out", gen_dir,
                        "--force", *gen_args], check=True, stdout=subprocess.DEVNULL)
        with open(args_file, "w") as f:
            json.dump(gen_args, f)
    gen = json.load(open(stats_file))
    stats = repo_stats(repo, gen)
    print("repository:", json.dumps(stats), flush=True)

    # -- clean state: remotes, DVC's local state, site caches
    logs = os.path.join(work, "logs")
    dvc_remote = os.path.join(gen_dir, "remote-dvc")
    gd_remote = os.path.join(gen_dir, "remote")  # where the committed ../../remote points
    cfg = os.path.join(work, "dvc-config")
    for p in (gd_remote, dvc_remote, os.path.join(work, "site-cache"), cfg, logs,
              os.path.join(repo, ".dvc", "tmp"), os.path.join(repo, ".dvc", "config.local")):
        rmtree(p)
    os.makedirs(logs)
    root_remote_existed = os.path.exists("/remote")

    # DVC's environment: no analytics, no update check, no global/system config
    # of this machine, site cache dirs of our own.
    for level in ("global", "system"):
        os.makedirs(os.path.join(cfg, level))
    with open(os.path.join(cfg, "global", "config"), "w") as f:
        f.write("[core]\n    analytics = false\n    check_update = false\n")
    base_env = dict(os.environ)
    for k in list(base_env):
        if k.startswith("DVC_"):
            del base_env[k]
    base_env.update(DVC_NO_ANALYTICS="1", DVC_GLOBAL_CONFIG_DIR=os.path.join(cfg, "global"),
                    DVC_SYSTEM_CONFIG_DIR=os.path.join(cfg, "system"))

    def dvc_env(site: str) -> dict:
        e = dict(base_env)
        e["DVC_SITE_CACHE_DIR"] = os.path.join(work, "site-cache", site)
        return e

    results: dict[str, Run] = {}
    push = ["push", "-a", "-T"]

    # Pin the git-dvc binary now: the DVC runs take long, and a build in the
    # source tree meanwhile must not swap the binary under the benchmark.
    gd_bin = os.path.join(work, "bin")
    if a.git_dvc:
        os.makedirs(gd_bin, exist_ok=True)
        shutil.copy2(a.git_dvc, os.path.join(gd_bin, "git-dvc"))

    # -- 2-4. DVC
    dvc_version = subprocess.run([a.dvc, "--version"], capture_output=True, text=True,
                                 env=base_env).stdout.strip()
    if not a.skip_dvc:
        print(f"DVC {dvc_version}: {a.dvc}", flush=True)
        local_cfg = os.path.join(repo, ".dvc", "config.local")
        with open(local_cfg, "w") as f:
            f.write(f"['remote \"storage\"']\n    url = {dvc_remote}\n")
        try:
            results["dvc_first"] = measure("dvc first push", [a.dvc, *push], repo,
                                           dvc_env("first"), logs, a.dvc_timeout)
            results["dvc_noop_cold"] = measure("dvc no-op (index cold)", [a.dvc, *push], repo,
                                               dvc_env("noop-cold"), logs, a.dvc_timeout)
            results["dvc_noop_warm"] = measure("dvc no-op (index warm)", [a.dvc, *push], repo,
                                               dvc_env("first"), logs, a.dvc_timeout)
        finally:
            os.unlink(local_cfg)

    # -- 5-6. git-dvc, run as `git dvc …` with the binary's directory first on PATH
    gd_noops: list[Run] = []
    gd_version = None
    if a.git_dvc:
        gd_env = dict(base_env)
        gd_env["PATH"] = gd_bin + os.pathsep + gd_env.get("PATH", "")
        gd_version = subprocess.run(["git", "dvc", "--version"], cwd=repo, env=gd_env,
                                    capture_output=True, text=True).stdout.strip()
        print(f"{gd_version or 'git-dvc (no --version)'}: {a.git_dvc} (copied to {gd_bin})",
              flush=True)
        results["gd_first"] = measure("git dvc first push", ["git", "dvc", *push], repo,
                                      gd_env, logs, a.git_dvc_timeout)
        if results["gd_first"].ok:
            for i in range(a.noop_runs):
                r = measure(f"git dvc no-op #{i + 1}", ["git", "dvc", *push], repo, gd_env,
                            logs, a.git_dvc_timeout)
                gd_noops.append(r)
                if not r.ok:
                    break

    # -- 7. remotes
    problems: list[str] = []
    if not root_remote_existed and os.path.exists("/remote"):
        problems.append("/remote was created during the run: a relative remote URL was "
                        "resolved against the file-system root")
    if "dvc_first" in results and "gd_first" in results:
        problems += compare_remotes(dvc_remote, gd_remote,
                                    os.path.join(gen_dir, "expected-objects.txt"))
    n_dvc = len(scan_remote(dvc_remote)) if "dvc_first" in results else None
    n_gd = len(scan_remote(gd_remote)) if "gd_first" in results else None

    # -- 8. report
    noop_ok = [r for r in gd_noops if r.ok]
    noop = None
    noop_secs = None
    if noop_ok and len(noop_ok) == len(gd_noops):
        noop_secs = statistics.median(r.seconds for r in noop_ok)
        noop = min(noop_ok, key=lambda r: abs(r.seconds - noop_secs))
        noop = Run(noop.label, noop.argv, noop_secs, max(r.max_rss_kib for r in noop_ok), 0,
                   noop.out, noop.err)
    elif gd_noops:
        noop = gd_noops[-1]
        noop_secs = noop.seconds
    g_first = results.get("gd_first")
    rows = [
        ("first push, empty remote", results.get("dvc_first"), g_first,
         g_first.seconds if g_first else None),
        ("no-op (DVC remote index cold)", results.get("dvc_noop_cold"), noop, noop_secs),
        ("no-op (DVC remote index warm)", results.get("dvc_noop_warm"), noop, noop_secs),
    ]
    md = []
    md.append(table(rows))
    if gd_noops:
        md.append(f"git-dvc no-op: median of {len(gd_noops)} runs "
                  f"({', '.join(f'{r.seconds:.3f}' for r in gd_noops)} s); its peak RSS is "
                  f"the largest of those runs.\n")
    md.append("Repository: " + ", ".join([
        f"{stats['commits']} commits", f"{stats['branches']} branches",
        f"{stats['tags']} tags ({stats['annotated_tags']} annotated)",
        f"{stats['revisions_a_T']} distinct commits under -a -T",
        f"{stats['dvc_files_at_head']} .dvc files at HEAD",
        f"{stats['unique_dvc_blobs']} unique .dvc blobs in history",
        f"{stats['cache_objects']} objects in the local cache",
        f"{stats['objects_to_push']} objects "
        f"({stats['bytes_to_push'] / 2**20:.1f} MiB) to push for -a -T",
    ]) + ".\n")
    md.append("Remote contents: " + ", ".join(
        x for x in [f"DVC {n_dvc} files" if n_dvc is not None else "",
                    f"git-dvc {n_gd} files" if n_gd is not None else ""] if x) + ".\n")
    if "dvc_first" in results and "gd_first" in results:
        md.append("Remotes identical: " + ("yes (same names, same bytes, as expected)"
                                           if not problems else "**NO — see FAIL above**")
                  + "\n")
    summaries = {k: r.summary() for k, r in results.items()}
    if gd_noops:
        summaries["gd_noop"] = gd_noops[-1].summary()
    md.append("Summary lines: " + "; ".join(f"{k}: {v!r}" for k, v in summaries.items())
              + "\n")
    md.append(f"Versions: {dvc_version and 'DVC ' + dvc_version}"
              f"{', ' + gd_version if gd_version else ''}; {os.cpu_count()} CPUs; "
              f"bench wall time {time.time() - t_start:.0f} s; load average (1/5/15 min) "
              f"{'/'.join(f'{x:.1f}' for x in load_start)} at start, "
              f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} at end.\n")
    report = "\n".join(md)
    print()
    if problems:
        bar = "!" * 78
        print(f"{bar}\nFAIL: the remotes differ or are not what push -a -T must upload\n"
              + "\n".join("  - " + p for p in problems) + f"\n{bar}\n")
    print(report)
    with open(os.path.join(work, "results.md"), "w") as f:
        f.write(report)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump({"repo": stats, "generator": gen, "gen_args": gen_args,
                   "dvc_version": dvc_version, "git_dvc_version": gd_version,
                   "runs": {k: r.as_dict() for k, r in results.items()},
                   "git_dvc_noops": [r.as_dict() for r in gd_noops],
                   "problems": problems, "loadavg_start": load_start,
                   "loadavg_end": os.getloadavg()}, f, indent=2)
    failed = [r for r in list(results.values()) + gd_noops if not r.ok]
    return 1 if problems or failed else 0


if __name__ == "__main__":
    sys.exit(main())
