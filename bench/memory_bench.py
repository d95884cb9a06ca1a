"""Memory benchmark: peak memory rendering a 60-minute track against a 10-minute one.

Generates two scripts with bench/make_script.py (--minutes 10 and 60: the same kind of content, fitted
to exactly that length) and renders each with `cli.py render`, cold (an empty speech cache: the speech
workers run) and warm (every clip cached), under `/usr/bin/time -v`. Two figures per render:

- main process: GNU time's "Maximum resident set size" for `python cli.py render`. That is the
  largest peak of the process or any one of its descendants, not their sum;
- whole tree: every 0.1 s the RSS of all processes below /usr/bin/time (the CLI, its speech workers and
  its encoders: one ffmpeg per piece being encoded) is read from /proc and summed; the largest sum is
  reported (an encoder caught before its exec, a clone sharing the CLI's memory, is left out). Shared pages (the
  interpreter, numpy, the eSpeak library in each worker) are counted once per process, so the sum
  overstates; the PSS sum, which shares them out, is reported beside it.

Each round starts once the 1-minute load average is below 0.7; the 10- and 60-minute renders
alternate order from round to round; medians of --rounds rounds (default 3). Linux only (/proc).

    .venv/bin/python bench/memory_bench.py --commit HEAD --markdown

Not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import (BenchError, LoadLog, add_load_option, code_version, command_line, library_versions,  # noqa: E402
                    machine, machine_table, markdown_table, measured_tree, only_speech, save_results, text_table)
from make_script import script_text  # noqa: E402

GNU_TIME = "/usr/bin/time"
SAMPLE_SECONDS = 0.1
SHORT, LONG = 10, 60  # minutes
RATIO_TARGET = 1.3  # the 60-minute peak at most this many times the 10-minute one
ABSOLUTE_TARGET_MB = 200
PAGE = os.sysconf("SC_PAGE_SIZE")


def role(pid: int) -> str:
    """What a process of the tree is: the CLI, a speech worker, the encoder, or something else."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "gone"
    if "meditations.encode_worker" in command or ("ffmpeg" in command and "libmp3lame" in command):
        return "encoder"  # the encoder process of older commits, or an ffmpeg encoding one piece
    if "multiprocessing" in command and "resource_tracker" in command:
        return "resource tracker"
    if "multiprocessing" in command:
        return "speech worker"
    if "cli.py" in command:
        return "cli"
    return Path(command.split(" ")[0]).name or "other"


def children_map() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        found.setdefault(parent, []).append(int(entry.name))
    return found


def descendants(root: int) -> list[int]:
    """Every process below root: time's only child, the CLI, first."""
    tree = children_map()
    out, todo = [], list(tree.get(root, []))
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(tree.get(pid, []))
    return out


def rss_pss(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of a process in bytes, or (0, 0) once it is gone."""
    try:
        rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        pss = 0
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1]) * 1024
                break
        return rss, pss
    except (OSError, ValueError, IndexError):
        return 0, 0


@dataclass
class Peak:
    """What one render used at most."""

    seconds: float = 0.0
    main_rss: int = 0  # GNU time's maximum resident set size
    tree_rss: int = 0  # the largest sum of the tree's RSS
    tree_pss: int = 0
    processes: int = 0  # the most processes seen at once
    samples: int = 0
    by_role: dict[str, int] = field(default_factory=dict)  # largest RSS of one process of each role


def sample_tree(root: int, done: threading.Event, peak: Peak) -> None:
    while not done.is_set():
        total_rss = total_pss = 0
        pids = descendants(root)
        counted = 0
        for pid in pids:
            name = role(pid)
            rss, pss = rss_pss(pid)
            if not rss or role(pid) != name or (name == "cli" and counted):
                # Between its start and its exec, an encoder is a clone of the CLI sharing its memory
                # (subprocess uses vfork): counted as a second CLI, or as an encoder of the CLI's size.
                continue
            counted += 1
            total_rss += rss
            total_pss += pss
            peak.by_role[name] = max(peak.by_role.get(name, 0), rss)
        peak.tree_rss = max(peak.tree_rss, total_rss)
        peak.tree_pss = max(peak.tree_pss, total_pss)
        peak.processes = max(peak.processes, len(pids))
        peak.samples += 1
        done.wait(SAMPLE_SECONDS)


def measured_render(tree: Path, script: Path, out: Path, cache: Path) -> Peak:
    command = [GNU_TIME, "-v", sys.executable, str(tree / "cli.py"), "render", str(script), "-o", str(out)]
    env = {**os.environ, "MEDITATE_CACHE_DIR": str(cache)}
    peak = Peak()
    done = threading.Event()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = threading.Thread(target=sample_tree, args=(process.pid, done, peak), daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    peak.seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed ({process.returncode}):\n{stdout}{stderr.strip()}")
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    if not match:
        raise BenchError(f"no maximum resident set size in {GNU_TIME} -v's output:\n{stderr}")
    peak.main_rss = int(match.group(1)) * 1024
    return peak


def mb(value: float) -> str:
    return f"{value / 1e6:.0f}"


MEASURES = [("main", "main process (time -v max RSS)"), ("tree", "whole tree, sum of RSS"),
            ("pss", "whole tree, sum of PSS")]


def value(peak: Peak, measure: str) -> int:
    return {"main": peak.main_rss, "tree": peak.tree_rss, "pss": peak.tree_pss}[measure]


def rows(peaks: dict[str, list[Peak]]) -> list[list[str]]:
    out = []
    for cache in ("cold", "warm"):
        for measure, label in MEASURES:
            long = statistics.median(value(p, measure) for p in peaks[f"{cache}-{LONG}"])
            short = statistics.median(value(p, measure) for p in peaks[f"{cache}-{SHORT}"])
            ratio = long / short
            met = ("yes" if ratio <= RATIO_TARGET else "no") + "; " + \
                  ("yes" if long < ABSOLUTE_TARGET_MB * 1e6 else "no")
            out.append([f"{cache}: {label}", mb(long), mb(short), f"{ratio:.2f}x",
                        f"<= {RATIO_TARGET}x; < {ABSOLUTE_TARGET_MB} MB", met])
    return out


HEADER = ["render, peak memory", f"{LONG} min (MB)", f"{SHORT} min (MB)", "ratio", "target", "met?"]


def detail_rows(peaks: dict[str, list[Peak]]) -> list[list[str]]:
    out = []
    for name, values in peaks.items():
        roles = sorted({r for p in values for r in p.by_role})
        per_role = ", ".join(f"{r} {mb(statistics.median(p.by_role.get(r, 0) for p in values))}" for r in roles)
        out.append([name.replace("-", ", ") + " min", f"{statistics.median(p.seconds for p in values):.1f}",
                    "/".join(mb(p.main_rss) for p in values), "/".join(mb(p.tree_rss) for p in values),
                    "/".join(mb(p.tree_pss) for p in values), str(max(p.processes for p in values)), per_role])
    return out


DETAIL_HEADER = ["render", "time (s)", "main RSS, runs (MB)", "tree RSS, runs (MB)", "tree PSS, runs (MB)",
                 "processes", "largest RSS of one process, by role (MB, median)"]


def main() -> int:
    parser = argparse.ArgumentParser(description="Memory benchmark: a 60-minute render against a 10-minute one.")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement (median reported)")
    parser.add_argument("--markdown", action="store_true", help="also print the tables for docs/benchmarks.md")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the meditate checkout to time (default: this one)")
    parser.add_argument("--commit", metavar="REV", help="time a clean `git archive` export of this commit instead")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    add_load_option(parser)
    args = parser.parse_args()
    if not os.access(GNU_TIME, os.X_OK) or not Path("/proc/self/statm").exists():
        print(f"memory_bench: needs Linux and GNU time ({GNU_TIME}): apt-get install -y time", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="meditate-memory-bench-"))
    load = LoadLog(args.quiet_load)
    peaks: dict[str, list[Peak]] = {f"{c}-{m}": [] for c in ("cold", "warm") for m in (SHORT, LONG)}
    try:
        tree = measured_tree(args.commit, args.tree, work)
        code = code_version(tree)
        scripts = {}
        for minutes in (SHORT, LONG):
            scripts[minutes] = work / f"benchmark-{minutes}min.yaml"
            scripts[minutes].write_text(script_text(minutes), encoding="utf-8")
        print(f"timing {tree / 'cli.py'} ({code}); working in {work}", flush=True)
        for index in range(1, max(1, args.rounds) + 1):
            load.wait(f"round {index}/{args.rounds}")
            order = (SHORT, LONG) if index % 2 else (LONG, SHORT)
            for minutes in order:
                cache = work / f"cache-{index}-{minutes}"
                for state in ("cold", "warm"):
                    if state == "warm":  # every clip cached, nothing else of the track (no encoded pieces)
                        only_speech(cache)
                    peak = measured_render(tree, scripts[minutes], work / f"out-{index}-{state}", cache)
                    peaks[f"{state}-{minutes}"].append(peak)
                    print(f"round {index}: {state} {minutes} min: {peak.seconds:.1f} s, main {mb(peak.main_rss)} MB, "
                          f"tree {mb(peak.tree_rss)} MB (PSS {mb(peak.tree_pss)} MB, {peak.processes} processes, "
                          f"{peak.samples} samples)", flush=True)
            shutil.rmtree(work / f"out-{index}-cold", ignore_errors=True)
            shutil.rmtree(work / f"out-{index}-warm", ignore_errors=True)
    except BenchError as exc:
        print(f"\nmemory_bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    rounds = len(peaks[f"cold-{SHORT}"])
    print()
    print(text_table(HEADER, rows(peaks)))
    print()
    print(text_table(DETAIL_HEADER, detail_rows(peaks)))
    print(load.summary())
    if args.markdown:
        print()
        print("\n".join([machine_table({"meditate": code, "ours": library_versions()}), "",
                         f"`{command_line('memory_bench.py')}`: median of {rounds} rounds, "
                         f"{time.strftime('%Y-%m-%d %H:%M')}. {load.summary()}. MB = 10^6 bytes.", "",
                         markdown_table(HEADER, rows(peaks)), "",
                         markdown_table(DETAIL_HEADER, detail_rows(peaks))]))
    saved = save_results("memory_bench", {
        "machine": machine(), "code": code, "load": load.starts,
        "peaks": {k: [vars(p) for p in v] for k, v in peaks.items()}})
    print(f"\nsaved {saved.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
