"""What the benchmarks share: waiting for a quiet machine, timing subprocesses, naming the machine and the
code measured, exporting a commit, and printing tables. Not a test: nothing here runs under pytest."""

from __future__ import annotations

import io
import os
import platform
import statistics
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"

QUIET_LOAD = 0.7  # the 1-minute load average below which a round starts
QUIET_POLL_SECONDS = 10
QUIET_MAX_SECONDS = 600


class BenchError(Exception):
    """A problem that stops a benchmark with a message (exit 1)."""


class LoadLog:
    """The load average seen when each round started, for the report."""

    def __init__(self, limit: float = QUIET_LOAD):
        self.limit = limit
        self.starts: list[float] = []  # the load when each round started
        self.gave_up: list[float] = []  # rounds that started anyway after QUIET_MAX_SECONDS

    def wait(self, what: str, max_seconds: float = QUIET_MAX_SECONDS) -> float:
        """Wait until the 1-minute load average is below the limit (polling), at most `max_seconds`."""
        limit = self.limit
        start = time.monotonic()
        load = os.getloadavg()[0]
        if load >= limit:
            print(f"{what}: waiting for the load average ({load:.2f}) to drop below {limit} ...", end=" ", flush=True)
            while load >= limit and time.monotonic() - start < max_seconds:
                time.sleep(QUIET_POLL_SECONDS)
                load = os.getloadavg()[0]
            waited = time.monotonic() - start
            if load >= limit:
                self.gave_up.append(load)
                print(f"still {load:.2f} after {waited:.0f} s: measuring anyway", flush=True)
            else:
                print(f"{load:.2f} after {waited:.0f} s", flush=True)
        self.starts.append(load)
        return load

    def summary(self) -> str:
        if not self.starts:
            return "no rounds"
        text = ("1-minute load average when each batch of measurements started: "
                + ", ".join(f"{v:.2f}" for v in self.starts) + f" (waited for < {self.limit} before each)")
        if self.gave_up:
            text += (f"; {len(self.gave_up)} round(s) started above it after {QUIET_MAX_SECONDS // 60} minutes "
                     f"of waiting (load " + ", ".join(f"{v:.2f}" for v in self.gave_up) + ")")
        return text


def run_timed(command: list[str], env: dict | None = None, timeout: float = 3600, cwd: Path = ROOT,
              check: bool = True) -> tuple[float, subprocess.CompletedProcess]:
    """Run a command, return its wall-clock time and its result (it must succeed unless check is False).

    The result also carries `cpu_seconds`: the user and system time of the command and every descendant
    it waited for (speech workers, pool workers, the encoder process)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{Path(command[0]).name} took over {timeout:.0f} s; stopped it") from None
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    done.cpu_seconds = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if check and done.returncode != 0:
        raise BenchError(f"{' '.join(map(str, command))} failed ({done.returncode}):\n{done.stderr.strip()}")
    return seconds, done


def median(values) -> float:
    return statistics.median(values)


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores (nproc)": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                                 else os.cpu_count()),
            "CPU": model, "Python": platform.python_version(), "OS": platform.platform()}


def export_commit(revision: str, work: Path) -> Path:
    """`git archive` of a commit of this repository into the work folder (the repository is not touched)."""
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"{revision}^{{commit}}"],
                                capture_output=True, text=True, check=True).stdout.strip()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], capture_output=True,
                                 check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise BenchError(f"cannot export commit '{revision}': {getattr(exc, 'stderr', '') or exc}") from None
    tree = work / f"tree-{commit[:10]}"
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tree, filter="data")
        else:  # Python before 3.10.12: the archive is our own repository's
            tar.extractall(tree)
    (tree / ".bench-commit").write_text(commit)
    return tree


def code_version(tree: Path) -> str:
    """The measured checkout's commit, and whether it had uncommitted changes."""
    exported = tree / ".bench-commit"
    if exported.is_file():
        return f"{exported.read_text()[:7]} (clean export of the commit)"
    try:
        commit = subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return f"{tree} (not a git checkout)"
    return commit + (" with uncommitted changes" if dirty else "")


def measured_tree(commit: str | None, tree: Path, work: Path) -> Path:
    """The checkout to time: a clean export of `commit`, or `tree` (by default this working tree)."""
    tree = export_commit(commit, work) if commit else tree.resolve()
    if not (tree / "cli.py").is_file():
        raise BenchError(f"{tree} has no cli.py: --tree names a meditate checkout")
    return tree


def library_versions() -> str:
    from importlib.metadata import version

    return (f"pyttsx3 {version('pyttsx3')}, espeakng-loader {version('espeakng-loader')}, "
            f"lameenc {version('lameenc')}, numpy {version('numpy')}, scipy {version('scipy')}")


def machine_table(extra: dict[str, str]) -> str:
    lines = ["| machine | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in {**machine(), **extra}.items()]
    return "\n".join(lines)


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    aligns = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, aligns, *rows])


def command_line(script: str) -> str:
    """How this benchmark was started, for the report."""
    return " ".join([f".venv/bin/python bench/{script}", *sys.argv[1:]])


def save_results(name: str, data: dict) -> Path:
    import json

    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    saved.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    return saved


def add_load_option(parser) -> None:
    parser.add_argument("--quiet-load", type=float, default=QUIET_LOAD, metavar="LOAD",
                        help="start each round once the 1-minute load average is below this (default: %(default)s; "
                             "waits at most 10 minutes, then measures anyway and says so)")


def only_speech(cache: Path) -> None:
    """Leave in a cache only what `meditate plan` leaves there (speech clips, their statistics, voice
    gains): a warm render has every clip and nothing else of its track computed before."""
    for entry in cache.iterdir():
        if entry.is_dir() and entry.name not in PLAN_LEAVES:
            shutil.rmtree(entry)


PLAN_LEAVES = ("speech", "clip-stats", "voice-gain")
