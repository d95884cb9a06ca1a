"""Where a render's time goes: one `render` in a fresh process, with the wall clock, CPU time and minor
page faults taken at each stage boundary.

    .venv/bin/python bench/stages.py bench/benchmark-25min.yaml            # warm: fills the cache first
    .venv/bin/python bench/stages.py bench/benchmark-25min.yaml --cold     # an empty speech cache each run
    .venv/bin/python bench/stages.py scripts/calming-the-body.yaml --commit HEAD --runs 3 --markdown
    .venv/bin/python bench/stages.py EDITED.yaml --cache-from bench/benchmark-25min.yaml   # after an edit

The stages are found by wrapping the engine's own functions (SpeechEngine.voices, meditations.building.track.plan,
meditations.building.track.measure, meditations.building.track.finished_blocks, meditations.encoding.encoder.write_tags): the
measure pass runs before the encoder gets its first block; from then on the final mixing pass and the
encoder process run together, and "encode" ends when the encoder has finished. A stage whose function
is gone in the measured code is left out. CPU of child processes counts those already waited for when a
stage ends: the encoder, in "final pass + encode" (speech workers are still running then). Not a test: it
never runs under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

STAGES = [  # (label, the mark that ends it)
    ("start-up and imports", "imported"),
    ("load the script", "loaded"),
    ("plan: list the voices (starts a speech worker unless remembered)", "voiced"),
    ("plan: the rest (synthesis of missing clips)", "planned"),
    ("measure pass (encoder idle)", "measured"),
    ("final pass + encode", "encoded"),
    ("tags, transcript, exit", "done"),
]


def child(tree: str, script: str, out: str) -> None:
    """Run in a fresh process: one render with marks; prints them as JSON on the last line."""
    import resource

    marks: list = []

    def mark(name: str) -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)  # processes already waited for: the encoder
        marks.append((name, time.perf_counter(), usage.ru_utime + usage.ru_stime, usage.ru_stime, usage.ru_minflt,
                      children.ru_utime + children.ru_stime))

    start = time.perf_counter()
    sys.path.insert(0, tree)
    import meditations.encoding.encoder as encoder
    import meditations.building.track as render
    from meditations.speaking.pool import SpeechEngine

    mark("imported")
    listing = SpeechEngine.voices

    def voices(self):
        first = not any(name == "voiced" for name, *_ in marks)
        result = listing(self)
        if first:
            mark("voiced")
        return result

    SpeechEngine.voices = voices

    def wrap(module, name: str, before: str | None, after: str | None) -> None:
        original = getattr(module, name, None)
        if original is None:
            return

        def wrapped(*args, **kwargs):
            if before:
                mark(before)
            result = original(*args, **kwargs)
            if after:
                mark(after)
            return result

        setattr(module, name, wrapped)

    wrap(render, "plan", None, "planned")
    wrap(render, "measure", None, "measured")
    wrap(encoder, "write_tags", "encoded", None)
    script_obj = render.load(script)
    mark("loaded")
    # the CLI's engine: one worker per core
    with SpeechEngine(workers=os.cpu_count() or 1) as engine:
        render.render(script_obj, Path(out), engine)
    mark("done")
    print(json.dumps({"start": start, "marks": marks}))


def run_once(tree: Path, script: Path, out: Path, cache: Path) -> dict:
    env = {**os.environ, "MEDITATE_CACHE_DIR": str(cache)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--child", str(tree), str(script), str(out)], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"stages: the render failed:\n{done.stderr.strip()}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    marks = {name: (moment - data["start"], *rest) for name, moment, *rest in data["marks"]}
    rows, previous = {}, (0.0, 0.0, 0.0, 0, 0.0)
    for label, name in STAGES:
        if name not in marks:
            continue
        rows[label] = tuple(now - before for now, before in zip(marks[name], previous))
        previous = marks[name]
    rows["whole process, as timed from outside"] = (wall, None, None, None, None)
    return rows


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return 0
    from common import code_version, command_line, markdown_table, measured_tree, text_table

    parser = argparse.ArgumentParser(description="Where a render's time goes, stage by stage.")
    parser.add_argument("script", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="fresh processes (median shown)")
    parser.add_argument("--cold", action="store_true", help="an empty speech cache for each run")
    parser.add_argument("--cache-from", type=Path, metavar="SCRIPT",
                        help="before each run, a cache filled by rendering SCRIPT (e.g. the original of an edited "
                             "copy: times the re-render after an edit)")
    parser.add_argument("--tree", type=Path, default=ROOT, help="the meditate checkout to time (default: this one)")
    parser.add_argument("--commit", metavar="REV", help="time a clean `git archive` export of this commit instead")
    parser.add_argument("--markdown", action="store_true", help="print the table as markdown")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="meditate-stages-"))
    try:
        tree = measured_tree(args.commit, args.tree, work)
        script = args.script.resolve()
        out = work / f"{script.stem}.mp3"
        cache = work / "cache"
        template = work / "cache-template"
        if args.cache_from:
            run_once(tree, args.cache_from.resolve(), work / "original.mp3", template)  # untimed
        elif not args.cold:
            run_once(tree, script, out, cache)  # fill the cache (untimed)
        runs = []
        for index in range(max(1, args.runs)):
            if args.cold or args.cache_from:
                shutil.rmtree(cache, ignore_errors=True)
            if args.cache_from:
                shutil.copytree(template, cache)
            runs.append(run_once(tree, script, out, cache))
        header = ["stage", "wall (s)", "CPU, main process (s)", "of which system (s)", "minor page faults",
                  "CPU, finished child processes (s)"]
        rows = []
        for label in runs[0]:
            values = [r[label] for r in runs]
            cells = [label, f"{statistics.median(v[0] for v in values):.2f}"]
            for column, fmt in ((1, "{:.2f}"), (2, "{:.2f}"), (3, "{:,.0f}"), (4, "{:.2f}")):
                cells.append("-" if values[0][column] is None else fmt.format(statistics.median(v[column] for v in values)))
            rows.append(cells)
        state = (f"the cache {args.cache_from} filled" if args.cache_from
                 else "cold: empty speech cache" if args.cold else "warm: every clip cached")
        title = (f"{args.script} ({state}), "
                 f"{code_version(tree)}, median of {len(runs)} runs")
        print(title)
        print((markdown_table if args.markdown else text_table)(header, rows))
        if args.markdown:
            print(f"\n`{command_line('stages.py')}`")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
