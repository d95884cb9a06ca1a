"""Cluster benchmark: every client's set built at once (`meditate build --profiles`), on the local spawn
pool and on a Dask LocalCluster, and what a personalized track costs against a cold one.

Profiles: --profiles (default 20) clients, each with the bundled breathing tracks (box-breathing,
cyclic-sighing, four-seven-eight-breathing, resonance-breathing) and a name of their own, so every track
has personal sentences and shares the rest with the other clients.

- cold single render: one breathing track (box-breathing) built alone with an empty speech cache, -j 1:
  its CPU time, as tracks per CPU-minute;
- personalized: all clients' tracks built into an empty output folder from a speech cache that holds the
  shared sentences but none of the clients' names (as after a new client or an edit), measured as
  `-j 2` (the local pool) and `--cluster local -j 2` (a LocalCluster of two worker processes), back to
  back in alternating order; wall time (the engine's overhead: target within 10 %) and tracks per
  CPU-minute (CPU of the build and every process it waited for, the cluster's workers included).

    .venv/bin/python bench/cluster_bench.py --markdown

Not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import (BenchError, LoadLog, add_load_option, code_version, command_line, library_versions,  # noqa: E402
                    machine_table, markdown_table, median, run_timed, save_results, text_table)

BREATHING = ("box-breathing", "cyclic-sighing", "four-seven-eight-breathing", "resonance-breathing")
OVERHEAD_TARGET = 1.10  # the cluster build within 10 % of the local pool's time
NAMES = ("Ada", "Bela", "Cyrus", "Dana", "Eero", "Fumi", "Gita", "Hugo", "Ines", "Jonas", "Kemal", "Lena", "Mira",
         "Nils", "Odile", "Pavel", "Quinn", "Rosa", "Sami", "Tove")


def write_profiles(folder: Path, count: int, scripts: tuple[str, ...]) -> None:
    """`count` client profiles over the bundled library, each with its own name."""
    folder.mkdir(parents=True)
    for n in range(count):
        name = NAMES[n % len(NAMES)] + ("" if n < len(NAMES) else str(n))
        (folder / f"client{n:03d}.yaml").write_text(
            f"client: {name}\nlibrary: {ROOT / 'scripts'}\nvariables: {{name: {name}}}\n"
            f"scripts: [{', '.join(scripts)}]\n")


def meditate(*args: str, cache: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and the summary line of one `cli.py` run."""
    command = [sys.executable, str(ROOT / "cli.py"), *args]
    seconds, done = run_timed(command, env={**os.environ, "MEDITATE_CACHE_DIR": str(cache)})
    return seconds, done.cpu_seconds, done.stdout.strip().splitlines()[-1]


def check_built(summary: str, tracks: int) -> None:
    if not re.search(rf"tracks: built {tracks}, unchanged 0, failed 0$", summary) \
            and summary != f"built {tracks}, unchanged 0, failed 0":
        raise BenchError(f"expected {tracks} tracks built, the build said: {summary}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=20, help="how many clients (default 20)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of the local/cluster pair (default 1)")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    add_load_option(parser)
    args = parser.parse_args()
    load = LoadLog(args.quiet_load)
    work = Path(tempfile.mkdtemp(prefix="meditate-cluster-bench-"))
    try:
        return run(args, load, work)
    except BenchError as exc:
        print(f"cluster_bench: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, load: LoadLog, work: Path) -> int:
    tracks = args.profiles * len(BREATHING)
    write_profiles(work / "profiles", args.profiles, BREATHING)
    write_profiles(work / "seed", 1, BREATHING)  # its name is none of the clients'
    (work / "seed" / "client000.yaml").write_text((work / "seed" / "client000.yaml").read_text()
                                                  .replace(NAMES[0], "Zygmunt"))
    load.wait("cold single render")
    cold_wall, cold_cpu, summary = meditate("build", "--profile", str(_single(work)), "-o", str(work / "cold"),
                                            "-j", "1", cache=work / "cold-cache")
    check_built(summary, 1)
    seeded = work / "shared-cache"  # the shared sentences, and no client's name
    meditate("build", "--profile", str(work / "seed" / "client000.yaml"), "-o", str(work / "seed-out"),
             cache=seeded)
    runs: dict[str, list[tuple[float, float]]] = {"local": [], "cluster": []}
    for round_ in range(args.rounds):
        load.wait(f"round {round_ + 1}")
        order = ["local", "cluster"] if round_ % 2 == 0 else ["cluster", "local"]
        for kind in order:
            cache = work / f"cache-{kind}-{round_}"
            shutil.copytree(seeded, cache)
            extra = ["--cluster", "local"] if kind == "cluster" else []
            wall, cpu, summary = meditate("build", "--profiles", str(work / "profiles"), "-o",
                                          str(work / f"out-{kind}-{round_}"), "-j", "2", *extra, cache=cache)
            check_built(summary, tracks)
            runs[kind].append((wall, cpu))
            shutil.rmtree(cache)
    report(args, load, tracks, (cold_wall, cold_cpu), runs)
    return 0


def _single(work: Path) -> Path:
    path = work / "single.yaml"
    path.write_text(f"client: Yara\nlibrary: {ROOT / 'scripts'}\nvariables: {{name: Yara}}\nscripts: [box-breathing]\n")
    return path


def report(args, load: LoadLog, tracks: int, cold: tuple[float, float], runs: dict) -> None:
    local_wall, cluster_wall = (median([w for w, _ in runs[k]]) for k in ("local", "cluster"))
    local_cpu, cluster_cpu = (median([c for _, c in runs[k]]) for k in ("local", "cluster"))
    ratio = cluster_wall / local_wall
    header = ["measurement", "wall s", "CPU s", "tracks per CPU-minute"]
    rows = [["cold single render (box-breathing, -j 1, empty cache)", f"{cold[0]:.1f}", f"{cold[1]:.1f}",
             f"{60 / cold[1]:.2f}"],
            [f"{args.profiles} clients x {len(BREATHING)} tracks, local -j 2", f"{local_wall:.1f}", f"{local_cpu:.1f}",
             f"{tracks * 60 / local_cpu:.2f}"],
            [f"{args.profiles} clients x {len(BREATHING)} tracks, --cluster local -j 2", f"{cluster_wall:.1f}",
             f"{cluster_cpu:.1f}", f"{tracks * 60 / cluster_cpu:.2f}"]]
    table = markdown_table if args.markdown else text_table
    print(table(header, rows))
    verdict = "met" if ratio <= OVERHEAD_TARGET else "NOT met"
    print(f"\ncluster / local wall time: {ratio:.3f} (target <= {OVERHEAD_TARGET}: {verdict}); "
          f"personalized track: {cold[1] * tracks / local_cpu:.1f}x the throughput of a cold single render")
    print(f"\n{load.summary()}\n{machine_table({'code': code_version(ROOT), 'libraries': library_versions()})}")
    print(f"\nreproduce: {command_line('cluster_bench.py')}")
    save_results("cluster", {"tracks": tracks, "cold": cold, "runs": runs, "ratio": ratio})


if __name__ == "__main__":
    sys.exit(main())
