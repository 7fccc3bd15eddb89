"""What the download-side benchmarks (fetch.py, pull.py, checkout_hooks.py) share: an
isolated DVC configuration, the many-small repository, timing a command (wall, CPU, peak
RSS), the median of repeated runs, a snapshot of a directory tree, and the run's footer.

    from common import dvc_env, make_many_small, measure, median_run, tree

Each of those scripts grew its own copy of these; one copy keeps their figures measured the
same way. Python 3 standard library only.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time


# ---- results of a run ------------------------------------------------------------------

class Run:
    def __init__(self, label, argv, seconds, max_rss_kib, rc, out, err, timed_out=False):
        self.label, self.argv = label, argv
        self.seconds, self.max_rss_kib, self.rc = seconds, max_rss_kib, rc
        self.out, self.err, self.timed_out = out, err, timed_out

    @property
    def ok(self) -> bool:
        return self.rc == 0 and not self.timed_out

    def summary(self) -> str:
        lines = [l for l in self.out.splitlines() if l.strip()]
        return lines[-1] if lines else ""

    def as_dict(self) -> dict:
        return dict(label=self.label, argv=self.argv, seconds=round(self.seconds, 4),
                    max_rss_kib=self.max_rss_kib, rc=self.rc, timed_out=self.timed_out,
                    summary=self.summary())


def rmtree(path: str) -> None:
    """Removes a tree that may hold read-only (0444 cache) files and directories."""
    if os.path.lexists(path):
        subprocess.run(["chmod", "-R", "u+w", path], check=False)
        shutil.rmtree(path)


# ---- the environment ---------------------------------------------------------------------

def dvc_env(work: str, strip: tuple[str, ...] = ("DVC_",)) -> dict:
    """The environment with the caller's DVC (and any other `strip`ped) variables removed
    and DVC's global and system config pointed into WORK/dvc-config, analytics and update
    checks off: neither the user's config nor a network call is in the figures."""
    cfg = os.path.join(work, "dvc-config")
    for level in ("global", "system"):
        os.makedirs(os.path.join(cfg, level))
    with open(os.path.join(cfg, "global", "config"), "w") as f:
        f.write("[core]\n    analytics = false\n    check_update = false\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(strip)}
    env.update(DVC_NO_ANALYTICS="1", GIT_CONFIG_NOSYSTEM="1",
               DVC_GLOBAL_CONFIG_DIR=os.path.join(cfg, "global"),
               DVC_SYSTEM_CONFIG_DIR=os.path.join(cfg, "system"))
    return env


def machine_note(t_start: float, load_start: tuple[float, float, float]) -> str:
    """CPUs, the run's wall time and the load average at its start and end: on a shared
    machine the figures mean little without them."""
    return (f"{os.cpu_count()} CPUs; bench wall time {time.time() - t_start:.0f} s; load "
            f"average (1/5/15 min) {'/'.join(f'{x:.1f}' for x in load_start)} at start, "
            f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())} at end.")


# ---- the repository ----------------------------------------------------------------------

def make_many_small(repo: str, dvc: str, env: dict, files: int, seed: int) -> None:
    """dvc-pull-internals.md §6's data: one directory output `big/` of `files` files (1-4
    KiB, in 50 sub-directories) plus 50 single-file outputs, added with DVC and committed;
    remote `storage` at /nonexistent until the caller points it somewhere."""
    rng = random.Random(seed)
    os.makedirs(repo)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True)
    subprocess.run([dvc, "init", "-q"], cwd=repo, env=env, check=True)
    with open(os.path.join(repo, ".dvc", "config"), "a") as f:
        f.write("[core]\n    remote = storage\n['remote \"storage\"']\n    url = /nonexistent\n")
    for i in range(files):
        p = os.path.join(repo, "big", f"s{i % 50:02d}", f"f{i:05d}.bin")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))
    singles = []
    for i in range(50):
        name = f"single{i:02d}.bin"
        with open(os.path.join(repo, name), "wb") as f:
            f.write(rng.randbytes(rng.randint(1024, 4096)))
        singles.append(name)
    subprocess.run([dvc, "add", "-q", "big", *singles], cwd=repo, env=env, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm",
                    "data"], cwd=repo, check=True)


def tree(root: str) -> dict[str, tuple[str, int]]:
    """relative path -> (md5, mode) for every file, and ('dir', mode) for every directory
    holding a file (empty directories are left out: DVC makes an object's directory before
    it knows the copy will work)."""
    out: dict[str, tuple[str, int]] = {}
    if not os.path.isdir(root):
        return out
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            with open(p, "rb") as f:
                out[os.path.relpath(p, root)] = (hashlib.md5(f.read()).hexdigest(),
                                                 os.stat(p).st_mode & 0o7777)
            d = dirpath
            while d != root and os.path.relpath(d, root) not in out:
                out[os.path.relpath(d, root)] = ("dir", os.stat(d).st_mode & 0o7777)
                d = os.path.dirname(d)
    return out


# ---- timing ------------------------------------------------------------------------------

def measure(label: str, argv: list[str], cwd: str, env: dict, logdir: str,
            timeout: float) -> Run:
    """Runs argv with its output in LOGDIR/<label>.{out,err}: wall seconds, and peak RSS
    and CPU time (user + system) from GNU time (`/usr/bin/time -f '%M %U %S'`): os.wait4
    on a child forked from this Python process counts the interpreter's pages it held
    before exec (24 MiB here, more than git-dvc needs). CPU time is kept because on a
    loaded machine wall time is mostly waiting for a core."""
    slug = label.replace(" ", "-").replace("/", "-").replace(":", "")
    out_path = os.path.join(logdir, f"{slug}.out")
    err_path = os.path.join(logdir, f"{slug}.err")
    time_path = os.path.join(logdir, f"{slug}.time")
    with open(out_path, "wb") as fo, open(err_path, "wb") as fe:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-f", "%M %U %S", "-o", time_path, *argv],
                             cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=fo,
                             stderr=fe, start_new_session=True)
        timed_out = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > t0 + timeout:
                timed_out = True
                os.killpg(p.pid, 9)  # our own child's process group
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.001)
        secs = time.monotonic() - t0
    with open(out_path, errors="replace") as f:
        out = f.read()
    with open(err_path, errors="replace") as f:
        err = f.read()
    try:
        with open(time_path) as f:
            fields = f.read().split()[-3:]
        max_rss, cpu = int(fields[0]), float(fields[1]) + float(fields[2])
    except (OSError, ValueError, IndexError):
        max_rss, cpu = ru.ru_maxrss, ru.ru_utime + ru.ru_stime
    r = Run(label, argv, secs, max_rss, os.waitstatus_to_exitcode(status), out, err,
            timed_out)
    r.cpu = cpu
    print(f"  {label:<40} {secs:8.3f} s  cpu {r.cpu:7.3f} s  {max_rss / 1024:7.1f} MiB"
          f"  rc={r.rc}  {r.summary()!r}", flush=True)
    if not r.ok:
        print("    " + "\n    ".join(err.splitlines()[-15:]), flush=True)
    return r


def median_run(runs: list[Run]) -> Run:
    """One Run for repeated ones: median wall and CPU time, the largest peak RSS and exit
    code, the output of the run nearest the median."""
    secs = statistics.median(r.seconds for r in runs)
    near = min(runs, key=lambda r: abs(r.seconds - secs))
    out = Run(near.label, near.argv, secs, max(r.max_rss_kib for r in runs),
              max(r.rc for r in runs), near.out, near.err)
    out.cpu = statistics.median(r.cpu for r in runs)
    return out


def run(argv, cwd, env, check=True):
    """Runs a set-up step (not timed); a failure ends the bench with its output."""
    p = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)} in {cwd}\n{p.stdout}\n{p.stderr}")
    return p


class Timed:
    """A finished command: wall seconds, CPU seconds (user + system of the command and
    every process it waited for: git and its hooks), and its output."""

    def __init__(self, wall: float, cpu: float, stdout: str, stderr: str):
        self.wall, self.cpu, self.stdout, self.stderr = wall, cpu, stdout, stderr


def timed(argv, cwd, env) -> Timed:
    """Runs argv (which must succeed) for its wall time, with its output captured; the
    short commands this times do not need measure()'s log files."""
    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=cwd, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate()
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)} in {cwd}\n{out}\n{err}")
    return Timed(wall, 0.0, out, err)


def timed_cpu(argv, cwd, env) -> Timed:
    """timed(), with CPU time from the rusage of reaped children, which on a loaded
    machine says what the command cost where wall time mostly says how long it waited for
    a core."""
    def children() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime  # microseconds, where os.times() counts ticks

    before = children()
    r = timed(argv, cwd, env)
    r.cpu = children() - before
    return r
