#!/usr/bin/env python3
"""Generate a synthetic DVC 3 repository for the git-dvc benchmark.

The repository is built without running DVC: git history comes from one
`git fast-import` stream, and every data object is written straight into the
DVC 3 cache (`.dvc/cache/files/md5/xx/yyyy…`, mode 0444), byte for byte as
`dvc add` / `dvc repro` would write it. The checked-out work tree (HEAD =
`main`) holds the data of HEAD, so `dvc status` reports it up to date and a
real `dvc push -a -T` works on it.

Layout of what is produced (under --out DIR):

    DIR/repo/                       the git + DVC repository
      .dvc/config                   default remote `storage`, url = ../../remote
      .dvc/.gitignore, .dvcignore   as `dvc init` writes them
      data/gNN/file_NNNN.bin.dvc    single-file outputs (--dvc-files of them)
      data/raw/source.bin.dvc       the pipeline's input
      datasets/ds_NN.dvc            directory outputs (--dirs of them, each
                                    with about --dir-members files)
      dvc.yaml, dvc.lock            a two-stage pipeline (a directory output,
                                    a cached metric, a `cache: false` metric,
                                    a `push: false` output)
    DIR/remote                      (not created) where `../../remote` points
    DIR/stats.json                  what was generated, including the number
                                    of objects `dvc push -a -T` must upload
    DIR/expected-objects.txt        their paths in the remote, one a line

History: a `main` line plus --branches side branches, each forking from a
main commit and carrying a few commits of its own; --tags tags (about a third
annotated) on commits picked at random. Every commit changes a few outputs
(--changes-per-commit), so objects differ across commits; some commits re-run
the pipeline. Everything derives from --seed: the same flags give the same
repository, down to the commit ids.

Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

AUTHOR = "Bench Generator <bench@example.invalid>"
EPOCH = 1_700_000_000  # fixed timestamps make commit ids reproducible

DVCIGNORE = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"
DVC_CONFIG = (
    "[core]\n"
    "    remote = storage\n"
    "['remote \"storage\"']\n"
    "    url = ../../remote\n"
)

DVC_YAML = """\
stages:
  prepare:
    cmd: python3 src/prepare.py
    deps:
    - data/raw/source.bin
    - src/prepare.py
    outs:
    - pipeline/prepared
    metrics:
    - pipeline/metrics.json:
        cache: false
  train:
    cmd: python3 src/train.py
    deps:
    - pipeline/prepared
    - src/train.py
    outs:
    - pipeline/model.bin
    - pipeline/report.bin:
        push: false
    metrics:
    - pipeline/summary.json
"""

PRESETS = {
    # sized for the performance targets in issue 2
    "full": dict(commits=3000, branches=200, tags=200, dvc_files=300, dirs=20,
                 dir_members=300, file_size=4096, changes_per_commit=2),
    # a quick smoke run
    "small": dict(commits=60, branches=6, tags=6, dvc_files=20, dirs=3,
                  dir_members=20, file_size=512, changes_per_commit=2),
    # the history sizes of issue 16 (bench/scale.py): 1x, and ten times that
    "1x": dict(commits=2000, branches=100, tags=100, dvc_files=300, dirs=5,
               dir_members=200, file_size=4096, changes_per_commit=2),
    "10x": dict(commits=20000, branches=1000, tags=1000, dvc_files=3000, dirs=20,
                dir_members=2000, file_size=4096, changes_per_commit=2),
}

_NUMERIC = re.compile(r"[0-9]+(e[0-9]+)?")


def yaml_hash(value: str) -> str:
    """A hash as ruamel writes it: quoted when YAML 1.2 would read a number."""
    return f"'{value}'" if _NUMERIC.fullmatch(value) else value


class Cache:
    """Writes objects into <repo>/.dvc/cache/files/md5 the way DVC does."""

    def __init__(self, root: str):
        self.root = os.path.join(root, "files", "md5")
        self.known: set[str] = set()
        self.bytes_written = 0

    def path(self, oid: str) -> str:
        return os.path.join(self.root, oid[:2], oid[2:])

    def put(self, data: bytes, suffix: str = "") -> str:
        oid = hashlib.md5(data).hexdigest() + suffix
        if oid not in self.known:
            self.known.add(oid)
            p = self.path(oid)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            self.bytes_written += len(data)
        return oid


def dir_manifest(members: dict[str, tuple[str, int]]) -> bytes:
    """The bytes of a DVC `.dir` object (dvc_data Tree.as_bytes)."""
    lst = [{"md5": md5, "relpath": rel} for rel, (md5, _size) in sorted(members.items())]
    return json.dumps(lst, sort_keys=True).encode("utf-8")


class Dir:
    """A directory output: members plus its cached .dir id."""

    __slots__ = ("members", "oid", "size")

    def __init__(self, members: dict[str, tuple[str, int]]):
        self.members = members
        self.oid = ""
        self.size = 0

    def copy(self) -> "Dir":
        d = Dir(dict(self.members))
        d.oid, d.size = self.oid, self.size
        return d

    def seal(self, cache: Cache) -> None:
        self.oid = cache.put(dir_manifest(self.members), ".dir")
        self.size = sum(s for _, s in self.members.values())


def out_dvc_file(name: str, oid: str, size: int, nfiles: int | None = None) -> bytes:
    """A `.dvc` file exactly as `dvc add` writes it (DVC 3)."""
    lines = ["outs:", f"- md5: {yaml_hash(oid)}", f"  size: {size}"]
    if nfiles is not None:
        lines.append(f"  nfiles: {nfiles}")
    lines += ["  hash: md5", f"  path: {name}", ""]
    return "\n".join(lines).encode()


def lock_item(path: str, oid: str, size: int, nfiles: int | None = None) -> list[str]:
    lines = [f"    - path: {path}", "      hash: md5", f"      md5: {yaml_hash(oid)}",
             f"      size: {size}"]
    if nfiles is not None:
        lines.append(f"      nfiles: {nfiles}")
    return lines


class Pipeline:
    """State of the dvc.yaml pipeline's inputs and outputs."""

    __slots__ = ("prepare_py", "train_py", "prepared", "metrics", "model",
                 "report", "summary", "run")

    def __init__(self):
        self.run = 0

    def copy(self) -> "Pipeline":
        p = Pipeline()
        for k in self.__slots__:
            setattr(p, k, getattr(self, k))
        p.prepared = self.prepared.copy()
        return p


class State:
    """Everything a commit's tree holds, as the generator sees it."""

    def __init__(self):
        self.singles: dict[str, tuple[str, int]] = {}  # repo path -> (md5, size)
        self.dirs: dict[str, Dir] = {}                  # repo path -> Dir
        self.pipe = Pipeline()

    def copy(self) -> "State":
        s = State()
        s.singles = dict(self.singles)
        s.dirs = {k: v.copy() for k, v in self.dirs.items()}
        s.pipe = self.pipe.copy()
        return s

    def pushed_objects(self) -> set[str]:
        """Objects `dvc push` uploads for this revision."""
        objs = {oid for oid, _ in self.singles.values()}
        for d in list(self.dirs.values()) + [self.pipe.prepared]:
            objs.add(d.oid)
            objs.update(oid for oid, _ in d.members.values())
        p = self.pipe
        objs.add(p.model[0])
        objs.add(p.summary[0])
        # metrics.json is `cache: false` and report.bin is `push: false`
        return objs


class Generator:
    def __init__(self, args, repo: str):
        self.a = args
        self.repo = repo
        self.rng = random.Random(args.seed)
        self.cache = Cache(os.path.join(repo, ".dvc", "cache"))
        self.dvc_blobs: set[bytes] = set()
        self.versions = 0  # content counter, makes every new file version unique

    # ---- content --------------------------------------------------------
    def new_content(self, size: int | None = None) -> bytes:
        if size is None:
            fs = self.a.file_size
            size = self.rng.randint(fs // 2, fs + fs // 2)
        self.versions += 1
        # a unique header guarantees a new object even for tiny sizes
        head = f"v{self.versions}\n".encode()
        return (head + self.rng.randbytes(max(0, size - len(head))))[:max(size, len(head))]

    def new_file(self, size: int | None = None) -> tuple[str, int]:
        data = self.new_content(size)
        return self.cache.put(data), len(data)

    # ---- files of a commit ------------------------------------------------
    def single_dvc(self, path: str, st: State) -> tuple[str, bytes]:
        oid, size = st.singles[path]
        return path + ".dvc", out_dvc_file(os.path.basename(path), oid, size)

    def dir_dvc(self, path: str, st: State) -> tuple[str, bytes]:
        d = st.dirs[path]
        return path + ".dvc", out_dvc_file(os.path.basename(path), d.oid, d.size,
                                           len(d.members))

    def pipeline_files(self, st: State) -> list[tuple[str, bytes]]:
        p = st.pipe
        src_py = "src/prepare.py"
        lock = ["schema: '2.0'", "stages:", "  prepare:", "    cmd: python3 src/prepare.py",
                "    deps:"]
        lock += lock_item("data/raw/source.bin", *st.singles["data/raw/source.bin"])
        lock += lock_item(src_py, *p.prepare_py[:2])
        lock += ["    outs:"]
        lock += lock_item("pipeline/metrics.json", *p.metrics[:2])
        lock += lock_item("pipeline/prepared", p.prepared.oid, p.prepared.size,
                          len(p.prepared.members))
        lock += ["  train:", "    cmd: python3 src/train.py", "    deps:"]
        lock += lock_item("pipeline/prepared", p.prepared.oid, p.prepared.size,
                          len(p.prepared.members))
        lock += lock_item("src/train.py", *p.train_py[:2])
        lock += ["    outs:"]
        lock += lock_item("pipeline/model.bin", *p.model)
        lock += lock_item("pipeline/report.bin", *p.report)
        lock += lock_item("pipeline/summary.json", *p.summary)
        lock.append("")
        return [
            ("dvc.lock", "\n".join(lock).encode()),
            ("src/prepare.py", p.prepare_py[2]),
            ("src/train.py", p.train_py[2]),
            ("pipeline/metrics.json", p.metrics[2]),
            ("data/raw/source.bin.dvc", self.single_dvc("data/raw/source.bin", st)[1]),
        ]

    # ---- changes ----------------------------------------------------------
    def run_pipeline(self, st: State) -> None:
        p = st.pipe
        p.run += 1
        st.singles["data/raw/source.bin"] = self.new_file()
        text = f"# prepare step, revision {p.run}\nprint('prepare')\n".encode()
        p.prepare_py = (hashlib.md5(text).hexdigest(), len(text), text)
        if p.run == 1 or self.rng.random() < 0.3:
            text = f"# train step, revision {p.run}\nprint('train')\n".encode()
            p.train_py = (hashlib.md5(text).hexdigest(), len(text), text)
        if p.run == 1:
            members = {f"part_{i:03d}.bin": self.new_file() for i in range(20)}
            p.prepared = Dir(members)
        else:
            p.prepared = p.prepared.copy()
            for rel in self.rng.sample(sorted(p.prepared.members), 3):
                p.prepared.members[rel] = self.new_file()
        p.prepared.seal(self.cache)
        acc = self.rng.random()
        text = json.dumps({"accuracy": round(acc, 4), "run": p.run}).encode() + b"\n"
        p.metrics = (hashlib.md5(text).hexdigest(), len(text), text)
        p.model = self.new_file(self.a.file_size * 8)
        p.report = self.new_file()
        text = json.dumps({"loss": round(1 - acc, 4)}).encode() + b"\n"
        p.summary = (self.cache.put(text), len(text))

    def change(self, st: State, singles: list[str], dirs: list[str]) -> list[tuple[str, bytes]]:
        """Apply one random change; return the git files it rewrites."""
        r = self.rng.random()
        if r < 0.05:
            self.run_pipeline(st)
            return self.pipeline_files(st)
        if r < 0.45:
            path = self.rng.choice(singles)
            st.singles[path] = self.new_file()
            return [self.single_dvc(path, st)]
        path = self.rng.choice(dirs)
        d = st.dirs[path] = st.dirs[path].copy()
        if r < 0.85 or len(d.members) < 2:  # modify a member
            rel = self.rng.choice(sorted(d.members))
            d.members[rel] = self.new_file()
        elif r < 0.95:  # add a member
            self.versions += 1
            d.members[f"added/new_{self.versions:06d}.bin"] = self.new_file()
        else:  # remove a member
            del d.members[self.rng.choice(sorted(d.members))]
        d.seal(self.cache)
        return [self.dir_dvc(path, st)]

    # ---- the whole thing -----------------------------------------------------
    def initial(self) -> tuple[State, list[tuple[str, bytes]], list[str], list[str]]:
        a = self.a
        st = State()
        files: list[tuple[str, bytes]] = [
            (".dvc/config", DVC_CONFIG.encode()),
            (".dvc/.gitignore", DVC_GITIGNORE.encode()),
            (".dvcignore", DVCIGNORE.encode()),
            ("README.md", b"Synthetic DVC 3 repository for the git-dvc benchmark.\n"),
            ("dvc.yaml", DVC_YAML.encode()),
        ]
        gitignores: dict[str, list[str]] = {}
        singles = []
        for i in range(a.dvc_files):
            path = f"data/g{i // 25:02d}/file_{i:04d}.bin"
            singles.append(path)
            st.singles[path] = self.new_file()
            gitignores.setdefault(os.path.dirname(path), []).append(os.path.basename(path))
            files.append(self.single_dvc(path, st))
        st.singles["data/raw/source.bin"] = ("", 0)  # filled by the first pipeline run
        gitignores["data/raw"] = ["source.bin"]
        dirs = []
        for d in range(a.dirs):
            path = f"datasets/ds_{d:02d}"
            dirs.append(path)
            members: dict[str, tuple[str, int]] = {}
            for j in range(a.dir_members):
                if j == 0:
                    rel = "README.txt"
                    members[rel] = self.new_file()
                elif j == 1:
                    rel = "empty.txt"  # the same empty object in every directory
                    members[rel] = (self.cache.put(b""), 0)
                elif j == 2:
                    rel = f"labels/\u00e9tiquettes_{d:02d}.txt"  # non-ASCII name
                    members[rel] = self.new_file()
                else:
                    rel = f"shard_{j % 8}/sample_{j:05d}.bin"
                    members[rel] = self.new_file()
            dd = Dir(members)
            dd.seal(self.cache)
            st.dirs[path] = dd
            gitignores.setdefault("datasets", []).append(f"ds_{d:02d}")
            files.append(self.dir_dvc(path, st))
        self.run_pipeline(st)
        files += self.pipeline_files(st)
        gitignores["pipeline"] = ["prepared", "model.bin", "report.bin", "summary.json"]
        for dirname, names in sorted(gitignores.items()):
            files.append((f"{dirname}/.gitignore",
                          "".join(f"/{n}\n" for n in names).encode()))
        return st, files, singles, dirs

    def generate(self) -> dict:
        a = self.a
        rng = self.rng
        t0 = time.time()
        os.makedirs(self.repo)
        git(self.repo, "init", "-q", "-b", "main")

        # --- plan the commit graph: main line + side branches ------------
        per_branch = max(1, a.commits // (4 * a.branches)) if a.branches else 0
        while a.branches and a.commits - a.branches * per_branch < max(2, a.commits // 4):
            per_branch -= 1
            if per_branch == 0:
                sys.exit("too few --commits for that many --branches")
        n_main = a.commits - a.branches * per_branch
        forks: dict[int, list[int]] = {}
        for b in range(a.branches):
            forks.setdefault(rng.randrange(1, n_main), []).append(b)
        order: list[tuple[str, int, int]] = []  # ("main", i, 0) / ("branch", b, j)
        for i in range(n_main):
            order.append(("main", i, 0))
            for b in forks.get(i, []):
                order += [("branch", b, j) for j in range(per_branch)]
        tag_targets = rng.sample(range(len(order)), min(a.tags, len(order)))
        tags_at: dict[int, list[int]] = {}
        for t, idx in enumerate(tag_targets):
            tags_at.setdefault(idx, []).append(t)
        annotated = {t for t in range(len(tag_targets)) if t % 3 == 0}  # a third annotated

        # --- generate ------------------------------------------------------
        fi = subprocess.Popen(["git", "fast-import", "--quiet", "--date-format=raw"],
                              cwd=self.repo, stdin=subprocess.PIPE)
        out = fi.stdin
        expected: set[str] = set()
        st, files, singles, dirs = self.initial()
        main_state = st
        branch_state: dict[int, State] = {}
        main_mark = 0
        branch_mark: dict[int, int] = {}
        branch_names = {b: f"feature/b{b:03d}" for b in range(a.branches)}
        n_annotated = 0
        for idx, (kind, x, j) in enumerate(order):
            mark = idx + 1
            if kind == "main":
                if idx == 0:
                    changes, parent = files, 0
                else:
                    changes = []
                    for _ in range(a.changes_per_commit):
                        changes += self.change(main_state, singles, dirs)
                    parent = main_mark
                ref, state = "refs/heads/main", main_state
                main_mark = mark
                msg = f"main commit {x}"
            else:
                if j == 0:
                    branch_state[x] = main_state.copy()
                    parent = main_mark
                else:
                    parent = branch_mark[x]
                state = branch_state[x]
                changes = []
                for _ in range(a.changes_per_commit):
                    changes += self.change(state, singles, dirs)
                ref = f"refs/heads/{branch_names[x]}"
                branch_mark[x] = mark
                msg = f"{branch_names[x]} commit {j}"
            changes = dedupe(changes)
            self.dvc_blobs.update(data for path, data in changes if path.endswith(".dvc"))
            write_commit(out, ref, mark, parent, EPOCH + 60 * idx, msg, changes)
            tip = (kind == "main" and x == n_main - 1) or (kind == "branch" and j == per_branch - 1)
            if tip or idx in tags_at:
                expected |= state.pushed_objects()
            for t in tags_at.get(idx, []):
                if t in annotated:
                    n_annotated += 1
                    tmsg = f"release {t}\n".encode()
                    out.write(f"tag v{t:03d}\nfrom :{mark}\ntagger {AUTHOR} "
                              f"{EPOCH + 60 * idx + 30} +0000\ndata {len(tmsg)}\n".encode()
                              + tmsg + b"\n")
                else:
                    out.write(f"reset refs/tags/lw-{t:03d}\nfrom :{mark}\n\n".encode())
            if kind == "branch" and j == per_branch - 1:
                branch_state.pop(x)  # free memory
        out.close()
        if fi.wait() != 0:
            sys.exit("git fast-import failed")

        # --- work tree = HEAD (main) ----------------------------------------
        git(self.repo, "checkout", "-q", "-f", "main")
        self.write_workspace(main_state)
        n_objects = len(self.cache.known)
        head_objects = main_state.pushed_objects()
        self.expected = sorted(expected)
        stats = {
            "seed": a.seed,
            "params": {k: getattr(a, k) for k in PRESETS["full"]},
            "commits": len(order),
            "main_commits": n_main,
            "branches": a.branches + 1,
            "tags": len(tag_targets),
            "annotated_tags": n_annotated,
            "dvc_files_at_head": len(main_state.singles) + len(main_state.dirs),
            "unique_dvc_blobs": len(self.dvc_blobs),
            "cache_objects": n_objects,
            "cache_bytes": self.cache.bytes_written,
            "expected_remote_objects_all_branches_tags": len(expected),
            "expected_remote_bytes_all_branches_tags": sum(
                os.path.getsize(self.cache.path(o)) for o in expected),
            "head_objects": len(head_objects),
            "generation_seconds": round(time.time() - t0, 1),
        }
        return stats

    def write_workspace(self, st: State) -> None:
        def place(path: str, oid: str) -> None:
            dst = os.path.join(self.repo, path)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(self.cache.path(oid), dst)
            os.chmod(dst, 0o644)

        for path, (oid, _) in st.singles.items():
            place(path, oid)
        for path, d in list(st.dirs.items()) + [("pipeline/prepared", st.pipe.prepared)]:
            for rel, (oid, _) in d.members.items():
                place(f"{path}/{rel}", oid)
        place("pipeline/model.bin", st.pipe.model[0])
        place("pipeline/report.bin", st.pipe.report[0])
        place("pipeline/summary.json", st.pipe.summary[0])


def dedupe(changes: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """Keep the last version of each path."""
    return list({p: d for p, d in changes}.items())


def write_commit(out, ref: str, mark: int, parent: int, when: int, msg: str,
                 files: list[tuple[str, bytes]]) -> None:
    m = msg.encode() + b"\n"
    buf = [f"commit {ref}\nmark :{mark}\nauthor {AUTHOR} {when} +0000\n"
           f"committer {AUTHOR} {when} +0000\ndata {len(m)}\n".encode(), m]
    if parent:
        buf.append(f"from :{parent}\n".encode())
    for path, data in files:
        buf.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode())
        buf.append(data)
        buf.append(b"\n")
    buf.append(b"\n")
    out.write(b"".join(buf))


def git(repo: str, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True,
                          text=True).stdout


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--out", required=True,
                    help="directory to create; the repository goes to OUT/repo")
    ap.add_argument("--small", action="store_true", help="quick smoke-run preset")
    ap.add_argument("--preset", choices=sorted(PRESETS), help="a named size (default full; "
                    "1x and 10x are the history sizes bench/scale.py measures)")
    ap.add_argument("--force", action="store_true", help="delete OUT first if it exists")
    ap.add_argument("--seed", type=int, default=1)
    full = PRESETS["full"]
    ap.add_argument("--commits", type=int, help=f"total commits (default {full['commits']})")
    ap.add_argument("--branches", type=int,
                    help=f"side branches besides main (default {full['branches']})")
    ap.add_argument("--tags", type=int, help=f"tags, ~1/3 annotated (default {full['tags']})")
    ap.add_argument("--dvc-files", type=int,
                    help=f"single-file .dvc outputs (default {full['dvc_files']})")
    ap.add_argument("--dirs", type=int, help=f"directory outputs (default {full['dirs']})")
    ap.add_argument("--dir-members", type=int,
                    help=f"files per directory output (default {full['dir_members']})")
    ap.add_argument("--file-size", type=int,
                    help=f"mean data file size in bytes; sizes are uniform in "
                         f"[size/2, 3*size/2] (default {full['file_size']})")
    ap.add_argument("--changes-per-commit", type=int,
                    help=f"outputs changed per commit (default {full['changes_per_commit']})")
    a = ap.parse_args(argv)
    preset = PRESETS[a.preset or ("small" if a.small else "full")]
    for k, v in preset.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.dvc_files < 1 or a.dirs < 1 or a.dir_members < 3 or a.commits < 2:
        ap.error("need --dvc-files >= 1, --dirs >= 1, --dir-members >= 3, --commits >= 2")

    out = os.path.abspath(a.out)
    if os.path.exists(out):
        if not a.force:
            ap.error(f"{out} exists (use --force to replace it)")
        subprocess.run(["chmod", "-R", "u+w", out], check=True)
        shutil.rmtree(out)
    os.makedirs(out)
    gen = Generator(a, os.path.join(out, "repo"))
    stats = gen.generate()
    with open(os.path.join(out, "expected-objects.txt"), "w") as f:
        f.writelines(f"files/md5/{o[:2]}/{o[2:]}\n" for o in gen.expected)
    with open(os.path.join(out, "stats.json"), "w") as f:
        json.dump(stats, f, indent=2)
        f.write("\n")
    print(json.dumps(stats, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
