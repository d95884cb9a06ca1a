"""Build benchmark: `meditate build` over the bundled library (scripts/).

Measures, as whole `cli.py build` subprocesses:

- cold: an empty speech cache (MEDITATE_CACHE_DIR) and an empty output folder, with -j 1 and -j 2;
- no change: the same command again over the folder the cold -j 2 build filled (nothing to do);
- warm-cache builds: an empty output folder but the speech cache the cold build filled, with -j 1 and
  -j 2, so that the comparison measures rendering rather than speech synthesis;
- start-up: `cli.py --version`, the cost of starting the interpreter and the command line at all.

Each pair (cold -j 1 and -j 2, then warm-cache -j 1 and -j 2) starts once the 1-minute load average is
below 0.7; its two runs are back to back, in alternating order from round to round; medians of --rounds
rounds (default 3; the no-change build runs twice a round). CPU time (user + system of the build and
every process it waited for) is reported beside wall time.

    .venv/bin/python bench/build_bench.py --commit HEAD --markdown
    .venv/bin/python bench/build_bench.py --commit HEAD --against d18c78b   # and CPU time against that commit

Warm-cache builds keep only what `meditate plan` leaves in the cache (speech, clip statistics, voice
gains): encoded pieces a previous build left are removed before each, so nothing of a track is reused.

Not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import (BenchError, LoadLog, add_load_option, code_version, command_line, library_versions,  # noqa: E402
                    machine, machine_table, markdown_table, measured_tree, only_speech, run_timed, save_results,
                    text_table)

NO_CHANGE_LIMIT = 0.5  # seconds, absolute
NO_CHANGE_SPEEDUP = 50  # at least this many times faster than the cold build
PARALLEL_SPEEDUP = 1.8  # -j 2 at least this many times faster than -j 1


class Bench:
    def __init__(self, tree: Path, work: Path, library: Path):
        self.tree = tree
        self.work = work
        self.library = library
        self.tracks = 0
        self.runs: dict[str, list[float]] = {}
        self.cpu: dict[str, list[float]] = {}  # CPU seconds of each run, the build and all its processes
        self.against: Bench | None = None  # another commit's warm -j 2 build, measured in the same rounds

    def build(self, name: str, cache: Path, out: Path, jobs: int, expect_built: int | None) -> float:
        """Time one `cli.py build`; check what it reports (every track built, or none)."""
        import os

        command = [sys.executable, str(self.tree / "cli.py"), "build", str(self.library), "-o", str(out), "-j",
                   str(jobs)]
        seconds, done = run_timed(command, env={**os.environ, "MEDITATE_CACHE_DIR": str(cache)})
        summary = re.search(r"built (\d+), unchanged (\d+), failed (\d+)", done.stdout)
        if not summary:
            raise BenchError(f"{name}: no summary in the build's output:\n{done.stdout}{done.stderr}")
        built, unchanged, failed = map(int, summary.groups())
        if failed:
            raise BenchError(f"{name}: {failed} tracks failed:\n{done.stderr}")
        if expect_built is None and (built or not unchanged):
            raise BenchError(f"{name}: expected nothing to build, got: {summary.group(0)}")
        if expect_built is not None and (built != expect_built or unchanged):
            raise BenchError(f"{name}: expected {expect_built} built, got: {summary.group(0)}")
        self.runs.setdefault(name, []).append(seconds)
        self.cpu.setdefault(name, []).append(done.cpu_seconds)
        print(f"  {name}: {seconds:.2f} s, CPU {done.cpu_seconds:.2f} s ({summary.group(0)})", flush=True)
        return seconds

    def startup(self) -> None:
        seconds, done = run_timed([sys.executable, str(self.tree / "cli.py"), "--version"])
        self.runs.setdefault("startup", []).append(seconds)
        self.cpu.setdefault("startup", []).append(done.cpu_seconds)
        print(f"  startup: {seconds:.2f} s", flush=True)

    def count_tracks(self) -> int:
        done = run_timed([sys.executable, str(self.tree / "cli.py"), "build", str(self.library), "-o",
                          str(self.work / "dry"), "--dry-run"])[1]
        match = re.search(r"(\d+) to build", done.stdout)
        if not match:
            raise BenchError(f"cannot count the library's tracks:\n{done.stdout}{done.stderr}")
        return int(match.group(1))

    def round(self, index: int, rounds: int, load: LoadLog) -> None:
        folder = self.work / f"round-{index}"
        pair = [1, 2] if index % 2 else [2, 1]

        load.wait(f"round {index}/{rounds}, cold pair")
        print(f"round {index}/{rounds}: cold builds (empty cache, empty output), -j {pair[0]} then -j {pair[1]}",
              flush=True)
        for jobs in pair:
            self.build(f"cold-j{jobs}", folder / f"cache-cold-j{jobs}", folder / f"out-cold-j{jobs}", jobs,
                       self.tracks)
        # Nothing changed since the cold -j 2 build: the same command again.
        self.build("nochange", folder / "cache-cold-j2", folder / "out-cold-j2", 2, None)
        self.build("nochange", folder / "cache-cold-j2", folder / "out-cold-j2", 2, None)
        self.startup()

        load.wait(f"round {index}/{rounds}, warm-cache pair")
        print(f"round {index}/{rounds}: warm speech cache, empty output, -j {pair[1]} then -j {pair[0]}", flush=True)
        for jobs in reversed(pair):
            only_speech(folder / "cache-cold-j2")
            self.build(f"warm-j{jobs}", folder / "cache-cold-j2", folder / f"out-warm-j{jobs}", jobs, self.tracks)
        if self.against is not None:
            print(f"round {index}/{rounds}: the same warm -j 2 build with {self.against.tree.name}", flush=True)
            cache = folder / "cache-against"
            self.against.build("cold-j2", cache, folder / "out-against-cold", 2, self.tracks)
            only_speech(cache)
            self.against.build("warm-j2", cache, folder / "out-against-warm", 2, self.tracks)
        shutil.rmtree(folder, ignore_errors=True)  # outputs of a round: about 40 MB


def rows(median: dict[str, float]) -> list[list[str]]:
    nochange, cold = median["nochange"], median["cold-j2"]
    speedup = lambda a, b: median[a] / median[b]  # noqa: E731
    yes = lambda ok: "yes" if ok else "no"  # noqa: E731
    return [
        ["no-change build, absolute", f"{nochange:.3f}", "-", "-", "-", f"< {NO_CHANGE_LIMIT} s",
         yes(nochange < NO_CHANGE_LIMIT)],
        ["no-change build vs cold build (-j 2)", f"{nochange:.3f}", "cold build -j 2", f"{cold:.2f}",
         f"{cold / nochange:.0f}x faster", f">= {NO_CHANGE_SPEEDUP}x faster",
         yes(cold / nochange >= NO_CHANGE_SPEEDUP)],
        ["-j 2 vs -j 1, warm speech cache", f"{median['warm-j2']:.2f}", "-j 1", f"{median['warm-j1']:.2f}",
         f"{speedup('warm-j1', 'warm-j2'):.2f}x faster", f">= {PARALLEL_SPEEDUP}x faster",
         yes(speedup('warm-j1', 'warm-j2') >= PARALLEL_SPEEDUP)],
        ["-j 2 vs -j 1, fully cold", f"{median['cold-j2']:.2f}", "-j 1", f"{median['cold-j1']:.2f}",
         f"{speedup('cold-j1', 'cold-j2'):.2f}x faster", f"(>= {PARALLEL_SPEEDUP}x faster)",
         yes(speedup('cold-j1', 'cold-j2') >= PARALLEL_SPEEDUP)],
    ]


def pair_ratios(runs: dict[str, list[float]]) -> str:
    """-j 1 over -j 2 within each round (the two runs of a pair are back to back): how steady the ratio is."""
    return "; ".join(f"{label}: " + ", ".join(f"{a / b:.2f}x" for a, b in zip(runs[f"{kind}-j1"], runs[f"{kind}-j2"], strict=False))
                     for kind, label in (("warm", "warm speech cache"), ("cold", "fully cold")))


HEADER = ["measurement", "ours (s)", "compared with", "its time (s)", "ratio", "target", "met?"]
RUN_NAMES = {"cold-j1": "cold build -j 1", "cold-j2": "cold build -j 2", "nochange": "no-change build",
             "warm-j1": "warm-cache build -j 1", "warm-j2": "warm-cache build -j 2",
             "startup": "`cli.py --version` (start-up alone)"}


def report(bench: Bench, code: str, load: LoadLog, markdown: bool) -> dict:
    median = {name: statistics.median(values) for name, values in bench.runs.items()}
    rounds = len(bench.runs["cold-j2"])
    print()
    print(f"{bench.library}: {bench.tracks} tracks; median of {rounds} rounds")
    print(text_table(HEADER, rows(median)))
    cpu = {name: statistics.median(values) for name, values in bench.cpu.items()}
    for name, values in ((n, bench.runs[n]) for n in RUN_NAMES):
        print(f"  {RUN_NAMES[name]:<36} median {median[name]:.3f} s, CPU {cpu[name]:.2f} s "
              f"({cpu[name] / median[name]:.2f} cores busy); runs " + ", ".join(f"{v:.3f}" for v in values))
    print(f"-j 2 speed-up in each round: {pair_ratios(bench.runs)}")
    print(load.summary())
    if markdown:
        lines = [machine_table({"meditate": code, "ours": library_versions()}), "",
                 f"`{command_line('build_bench.py')}`: {bench.tracks} tracks, median of {rounds} rounds, "
                 f"{time.strftime('%Y-%m-%d %H:%M')}. {load.summary()}.", "",
                 markdown_table(HEADER, rows(median)), "",
                 f"The -j 2 speed-up in each round (its two runs back to back): {pair_ratios(bench.runs)}.", "",
                 "| run | median (s) | runs (s) | CPU, median (s) | cores busy (CPU / wall) |",
                 "| --- | ---: | ---: | ---: | ---: |"]
        lines += [f"| {RUN_NAMES[name]} | {median[name]:.3f} | " + ", ".join(f"{v:.3f}" for v in values)
                  + f" | {cpu[name]:.2f} | {cpu[name] / median[name]:.2f} |"
                  for name, values in ((n, bench.runs[n]) for n in RUN_NAMES)]
        print()
        print("\n".join(lines))
    return {"median": median, "runs": bench.runs, "cpu": bench.cpu, "tracks": bench.tracks, "load": load.starts}


CPU_SAVING = 0.30  # a warm -j 2 build uses at least this much less CPU time than the commit it replaces


def against_report(bench: Bench, other_code: str) -> dict:
    """Our warm -j 2 build's CPU time and wall time against the other commit's, medians of the rounds."""
    assert bench.against is not None
    ours = {k: statistics.median(bench.cpu[k]) for k in ("warm-j2",)}
    theirs = {k: statistics.median(bench.against.cpu[k]) for k in ("warm-j2",)}
    wall = (statistics.median(bench.runs["warm-j2"]), statistics.median(bench.against.runs["warm-j2"]))
    saving = 1 - ours["warm-j2"] / theirs["warm-j2"]
    print(f"warm -j 2 build: CPU {ours['warm-j2']:.2f} s against {theirs['warm-j2']:.2f} s for {other_code} "
          f"({saving:.0%} less; target >= {CPU_SAVING:.0%}: {'met' if saving >= CPU_SAVING else 'not met'}); "
          f"wall {wall[0]:.2f} s against {wall[1]:.2f} s; runs of {other_code}: CPU "
          + ", ".join(f"{v:.2f}" for v in bench.against.cpu["warm-j2"]))
    return {"code": other_code, "cpu": bench.against.cpu, "runs": bench.against.runs, "saving": saving}


def main() -> int:
    parser = argparse.ArgumentParser(description="Build benchmark: meditate build over the bundled library.")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement (median reported)")
    parser.add_argument("--markdown", action="store_true", help="also print the tables for docs/benchmarks.md")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the meditate checkout to time (default: this one)")
    parser.add_argument("--commit", metavar="REV", help="time a clean `git archive` export of this commit instead")
    parser.add_argument("--library", type=Path, help="another library folder to build (default: the tree's scripts/)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--against", metavar="REV",
                        help="also time another commit's warm -j 2 build in every round and compare CPU time")
    add_load_option(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="meditate-build-bench-"))
    load = LoadLog(args.quiet_load)
    try:
        tree = measured_tree(args.commit, args.tree, work)
        code = code_version(tree)
        bench = Bench(tree, work, args.library.resolve() if args.library else tree / "scripts")
        bench.tracks = bench.count_tracks()
        if args.against:
            other = measured_tree(args.against, ROOT, work / "against")
            bench.against = Bench(other, work, bench.library)
        print(f"timing {tree / 'cli.py'} ({code}) on {bench.tracks} tracks; working in {work}", flush=True)
        for index in range(1, max(1, args.rounds) + 1):
            bench.round(index, args.rounds, load)
        summary = report(bench, code, load, args.markdown)
        if bench.against is not None:
            summary["against"] = against_report(bench, code_version(bench.against.tree))
    except BenchError as exc:
        print(f"\nbuild_bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    saved = save_results("build_bench", {"machine": machine(), "code": code, **summary})
    print(f"\nsaved {saved.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
