"""Render benchmark: meditate against the plain pipeline a user could write instead.

Renders bench/benchmark-25min.yaml (about 25 minutes: speech, sentence gaps, long pauses) with
`cli.py render`, cold (an empty speech cache) and warm (every clip cached), and in the same run the peer:
espeak-ng given one SSML document with the same text and a <break> for every pause and gap, then ffmpeg
to MP3 (libmp3lame) at the same bitrate, sample rate, channels and LAME quality. Every command is timed
as a whole subprocess; each measurement runs --rounds times (default 3, interleaved) and the median is
reported, as the ratio ours/peer measured in the same run (the machine is shared and noisy).

It also times the floor: lameenc encoding the same length of PCM alone, in this process, which is the
cost no render of this track can go below.

    .venv/bin/python bench/render_bench.py                # the working tree: table and ratios
    .venv/bin/python bench/render_bench.py --markdown     # also the tables for docs/benchmarks.md
    .venv/bin/python bench/render_bench.py --commit HEAD  # a clean export of a commit instead

Not a test: it never runs under pytest. To add a measurement, write a timed function taking a Round
and returning a Timing, add it to STEPS, and add a RowSpec (compared with the peer) or a FloorSpec.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SCRIPT = HERE / "benchmark-25min.yaml"
RESULTS = HERE / "results"
COMMAND = ".venv/bin/python bench/render_bench.py"
PEER_SLOW_SECONDS = 600  # a peer step slower than this is reported as absurdly slow
PEER_TIMEOUT_SECONDS = 3600


# ---------------------------------------------------------------- the setting shared by every step

@dataclass
class Setup:
    """What every round needs: the script, the peer's inputs and the tools."""

    script_path: Path
    tree: Path  # the meditate checkout whose cli.py is timed
    code: str  # which code that is, for the report
    work: Path  # a temporary folder for outputs and caches
    python: str
    espeak: str
    ffmpeg: str
    voice_id: str
    rate: int
    volume: float
    sample_rate: int
    channels: int
    bitrate: int
    lame_quality: int
    ssml_path: Path
    planned_seconds: float = 0.0  # the track length `render` reported

    def peer_commands(self, wav: Path, mp3: Path) -> list[list[str]]:
        """The plain pipeline: espeak-ng (SSML in, WAV out), then ffmpeg to MP3."""
        return [
            [self.espeak, "-m", "-v", self.voice_id, "-s", str(self.rate), "-a", str(round(self.volume * 100)),
             "-f", str(self.ssml_path), "-w", str(wav)],
            [self.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame",
             "-b:a", f"{self.bitrate}k", "-ar", str(self.sample_rate), "-ac", str(self.channels),
             "-compression_level", str(self.lame_quality), str(mp3)],
        ]

    def ours_command(self, out_dir: Path) -> list[str]:
        return [self.python, str(self.tree / "cli.py"), "render", str(self.script_path), "-o", str(out_dir)]


@dataclass
class Round:
    """One round of measurements: a fresh, empty speech cache and its own output folders."""

    setup: Setup
    index: int
    cache: Path
    outputs: dict[str, Path] = field(default_factory=dict)  # step name -> the file it wrote


@dataclass(frozen=True)
class Timing:
    """A step's wall-clock time, with its parts when it has several."""

    seconds: float
    parts: dict = field(default_factory=dict)


class BenchError(Exception):
    """A problem that stops the benchmark with a message (exit 1)."""


def run_timed(command: list[str], env: dict | None = None, timeout: float = PEER_TIMEOUT_SECONDS,
              ) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{Path(command[0]).name} took over {timeout:.0f} s; stopped it") from None
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise BenchError(f"{' '.join(command)} failed ({done.returncode}):\n{done.stderr.strip()}")
    return seconds, done


# ---------------------------------------------------------------- timed steps

def peer(round_: Round) -> Timing:
    """espeak-ng with SSML to WAV, then ffmpeg to MP3: the pipeline a user could write instead."""
    folder = round_.setup.work / f"peer-{round_.index}"
    folder.mkdir()
    wav, mp3 = folder / "benchmark.wav", folder / "benchmark.mp3"
    parts = {}
    for name, command in zip(("espeak-ng", "ffmpeg"), round_.setup.peer_commands(wav, mp3)):
        parts[name], _ = run_timed(command)
        if parts[name] > PEER_SLOW_SECONDS:
            print(f"  note: {name} took {parts[name]:.0f} s (over {PEER_SLOW_SECONDS} s)", flush=True)
    round_.outputs["peer"] = mp3
    round_.outputs["peer-wav"] = wav
    return Timing(sum(parts.values()), parts)


def _ours(round_: Round, name: str) -> Timing:
    folder = round_.setup.work / f"{name}-{round_.index}"
    env = {**os.environ, "MEDITATE_CACHE_DIR": str(round_.cache)}
    seconds, done = run_timed(round_.setup.ours_command(folder), env=env)
    written = re.search(r"wrote .+ \(([\d:.]+)\)\s*$", done.stdout)
    mp3 = folder / f"{round_.setup.script_path.stem}.mp3"
    if not written or not mp3.is_file():
        raise BenchError(f"render did not write {mp3}:\n{done.stdout}{done.stderr}")
    round_.outputs[name] = mp3
    round_.setup.planned_seconds = parse_clock(written.group(1))
    return Timing(seconds)


def ours_cold(round_: Round) -> Timing:
    """`cli.py render` with an empty speech cache (every clip synthesized)."""
    if round_.cache.exists() and any(round_.cache.iterdir()):
        raise BenchError("the cold render's cache is not empty")
    return _ours(round_, "cold")


def ours_warm(round_: Round) -> Timing:
    """`cli.py render` again on the cache the cold render of this round filled."""
    return _ours(round_, "warm")


def floor(round_: Round) -> Timing:
    """lameenc alone, in this process: encode the track's PCM (decoded from our warm render)."""
    import lameenc
    import numpy as np

    setup = round_.setup
    pcm = decoded_pcm(setup, round_.outputs["warm"])
    length = int(round(setup.planned_seconds * setup.sample_rate)) * setup.channels
    pcm = np.pad(pcm, (0, max(0, length - pcm.size)))[:length]
    block = 10 * setup.sample_rate * setup.channels  # the mixer's 10 s blocks
    start = time.perf_counter()
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(setup.bitrate)
    encoder.set_in_sample_rate(setup.sample_rate)
    encoder.set_channels(setup.channels)
    encoder.set_quality(setup.lame_quality)
    for offset in range(0, pcm.size, block):
        encoder.encode(pcm[offset:offset + block].tobytes())
    encoder.flush()
    return Timing(time.perf_counter() - start)


def decoded_pcm(setup: Setup, mp3: Path):
    """An MP3 as 16-bit PCM at the track's rate and channels (through ffmpeg)."""
    import numpy as np

    done = subprocess.run([setup.ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(mp3), "-f", "s16le",
                           "-ar", str(setup.sample_rate), "-ac", str(setup.channels), "-"],
                          capture_output=True, check=True)
    return np.frombuffer(done.stdout, dtype="<i2")


# The order matters: warm reuses the cache cold filled in the same round; floor encodes warm's audio.
STEPS: dict[str, Callable[[Round], Timing]] = {
    "peer": peer,
    "cold": ours_cold,
    "warm": ours_warm,
    "floor": floor,
}


@dataclass(frozen=True)
class RowSpec:
    """A row of the main table: one of our steps against the peer's, with a target ratio."""

    label: str
    ours: str
    peer: str
    target: float | None  # None: shown for reference, no target


ROWS = [
    RowSpec("cold render (empty speech cache)", "cold", "peer", 1.0),
    RowSpec("warm render (every clip cached)", "warm", "peer", 0.5),
    RowSpec("floor: lameenc encode alone, in-process", "floor", "peer", None),
]


@dataclass(frozen=True)
class FloorSpec:
    """A row of the floor table: how far one of our steps is above the floor step."""

    label: str
    ours: str
    floor: str = "floor"


FLOOR_ROWS = [
    FloorSpec("cold render", "cold"),
    FloorSpec("warm render", "warm"),
]


# ---------------------------------------------------------------- preparing the peer's input

def ssml_document(plan: dict) -> str:
    """The track as one SSML document: each sentence of `meditate plan --json`, and a <break> between them.

    Built from the planner's own timeline, so every sentence gap, paragraph gap and pause is where
    render puts it (each break is the time from one sentence's end to the next one's start, so anything
    else on the timeline counts as silence). Breaks are written in whole milliseconds: espeak-ng 1.51
    gives time="1.5s" almost no pause.
    """
    parts: list[str] = []
    previous_end = 0.0

    def pause_until(moment: float) -> None:
        milliseconds = round((moment - previous_end) * 1000)
        if milliseconds > 0:
            parts.append(f'<break time="{milliseconds}ms"/>')

    for event in sorted((e for e in plan["events"] if e["kind"] == "speech"), key=lambda e: e["start"]):
        pause_until(event["start"])
        parts.append(escape(event["text"]))
        previous_end = event["end"]
    pause_until(plan["duration"])
    body = "\n".join(parts)
    return f'<?xml version="1.0"?>\n<speak version="1.0" xmlns="http://www.w3.org/2001/10/synthesis">\n{body}\n</speak>\n'


def _says(steps):
    from meditations.script import Include, Repeat, Say

    for step in steps:
        if isinstance(step, Say):
            yield step
        elif isinstance(step, (Repeat, Include)):
            yield from _says(step.steps)


def single_voice(script) -> tuple:
    """The one (voice name, rate, volume) every say step uses: the peer speaks with one voice."""
    settings = {(say.voice.name, say.voice.rate, say.voice.volume) for say in _says(script.steps)}
    if len(settings) != 1:
        raise BenchError(f"the benchmark script must use one voice setting, it uses {sorted(settings, key=str)}")
    return settings.pop()


def prepare(script_path: Path, tree: Path, work: Path) -> Setup:
    """Check the tools, load the script, resolve its voice as render does, and write the peer's SSML."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        raise BenchError("espeak-ng (the peer) is not installed; install it with:\n"
                         "  apt-get update && apt-get install -y espeak-ng")
    if not (tree / "cli.py").is_file():
        raise BenchError(f"{tree} has no cli.py: --tree names a meditate checkout")
    try:
        import imageio_ffmpeg

        from meditations.encoder import LAME_QUALITY
        from meditations.planner import resolve_voices
        from meditations.render import load
        from meditations.speech import SpeechEngine
    except ImportError as exc:
        raise BenchError(f"{exc}: run the benchmark with the project's environment: {COMMAND}") from None
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()

    script = load(script_path)
    name, rate, volume = single_voice(script)
    setup_cache = work / "setup-cache"  # never one of the timed rounds' caches
    previous = os.environ.get("MEDITATE_CACHE_DIR")
    os.environ["MEDITATE_CACHE_DIR"] = str(setup_cache)
    try:
        with SpeechEngine(workers=1) as engine:
            voice_id = resolve_voices(script, engine.voices())[name]
    finally:
        if previous is None:
            del os.environ["MEDITATE_CACHE_DIR"]
        else:
            os.environ["MEDITATE_CACHE_DIR"] = previous
    print("planning the track for the peer's SSML (untimed) ...", flush=True)
    _, done = run_timed([sys.executable, str(tree / "cli.py"), "plan", "--json", str(script_path)],
                        env={**os.environ, "MEDITATE_CACHE_DIR": str(setup_cache)})
    ssml_path = work / "benchmark.ssml"
    ssml_path.write_text(ssml_document(json.loads(done.stdout)), encoding="utf-8")
    audio = script.audio
    return Setup(script_path, tree, code_version(tree), work, sys.executable, espeak, ffmpeg, voice_id, rate, volume, audio.sample_rate,
                 audio.channels, audio.bitrate, LAME_QUALITY, ssml_path)


# ---------------------------------------------------------------- running and reporting

def run(setup: Setup, rounds: int) -> tuple[dict[str, list[Timing]], dict[str, Path]]:
    """Every step, round after round; the timings and the last round's output files."""
    timings: dict[str, list[Timing]] = {name: [] for name in STEPS}
    outputs: dict[str, Path] = {}
    for index in range(1, rounds + 1):
        round_ = Round(setup, index, setup.work / f"cache-{index}")
        for name, step in STEPS.items():
            print(f"round {index}/{rounds}: {name} ...", end=" ", flush=True)
            timing = step(round_)
            timings[name].append(timing)
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in timing.parts.items())
            print(f"{timing.seconds:.2f} s" + (f" ({parts})" if parts else ""), flush=True)
        outputs = round_.outputs
    return timings, outputs


def track_durations(setup: Setup, outputs: dict[str, Path]) -> dict[str, float]:
    """Each output's length as ffmpeg -i reports it (the Duration line)."""
    found = {}
    for name in ("warm", "peer", "peer-wav"):
        done = subprocess.run([setup.ffmpeg, "-hide_banner", "-i", str(outputs[name])], capture_output=True,
                              text=True)
        match = re.search(r"Duration: (\d+):(\d+):([\d.]+)", done.stderr)
        if match:
            found[name] = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
    return found


def parse_clock(text: str) -> float:
    """'25:21.66' or '1:02:03.00' in seconds."""
    seconds = 0.0
    for part in text.split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}:{rest:05.2f}"


def medians(timings: dict[str, list[Timing]]) -> dict[str, float]:
    return {name: statistics.median(t.seconds for t in values) for name, values in timings.items() if values}


def main_rows(median: dict[str, float]) -> list[list[str]]:
    rows = []
    for spec in ROWS:
        ratio = median[spec.ours] / median[spec.peer]
        target, met = ("-", "-") if spec.target is None else \
            (f"<= {spec.target:.1f}x", "yes" if ratio <= spec.target else "no")
        rows.append([spec.label, f"{median[spec.ours]:.2f}", f"{median[spec.peer]:.2f}", f"{ratio:.2f}x", target, met])
    return rows


def floor_rows(median: dict[str, float]) -> list[list[str]]:
    rows = []
    for spec in FLOOR_ROWS:
        ours, base = median[spec.ours], median[spec.floor]
        rows.append([spec.label, f"{ours:.2f}", f"{base:.2f}", f"{ours / base:.1f}x", f"+{ours - base:.2f}"])
    return rows


MAIN_HEADER = ["measurement", "ours (s)", "peer (s)", "ratio", "target", "met?"]
FLOOR_HEADER = ["measurement", "ours (s)", "floor (s)", "x floor", "above floor (s)"]


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                                   for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    aligns = ["---"] + ["---:"] * (len(header) - 1)
    return "\n".join("| " + " | ".join(cells) + " |" for cells in [header, aligns, *rows])


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
    import io
    import tarfile

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


def tool_versions(setup: Setup) -> dict[str, str]:
    from importlib.metadata import version

    espeak = subprocess.run([setup.espeak, "--version"], capture_output=True, text=True).stdout.split("Data")[0]
    ffmpeg = subprocess.run([setup.ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"meditate": setup.code,
            "peer espeak-ng": espeak.replace("eSpeak NG text-to-speech:", "").strip(),
            "peer ffmpeg": " ".join(ffmpeg.split()[:3]),
            "ours": f"pyttsx3 {version('pyttsx3')}, espeakng-loader {version('espeakng-loader')}, "
                    f"lameenc {version('lameenc')}, numpy {version('numpy')}, scipy {version('scipy')}"}


def report(setup: Setup, timings: dict[str, list[Timing]], durations: dict[str, float], markdown: bool) -> dict:
    median = medians(timings)
    rounds = len(timings["peer"])
    print()
    print(f"{setup.script_path.relative_to(ROOT)}: {clock(setup.planned_seconds)} planned; voice {setup.voice_id}, "
          f"rate {setup.rate}, {setup.sample_rate} Hz, {setup.channels} ch, {setup.bitrate} kbit/s CBR, "
          f"LAME quality {setup.lame_quality}; median of {rounds} rounds")
    print("peer: " + " && ".join(" ".join(Path(c[0]).name if i == 0 else a for i, a in enumerate(c))
                                 for c in setup.peer_commands(Path("benchmark.wav"), Path("benchmark.mp3"))))
    print()
    print(text_table(MAIN_HEADER, main_rows(median)))
    print()
    print(text_table(FLOOR_HEADER, floor_rows(median)))
    print()
    parts = {k: statistics.median(t.parts[k] for t in timings["peer"]) for k in timings["peer"][0].parts}
    print("peer parts (median): " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
    print("durations (ffmpeg -i): " + ", ".join(f"{k} {clock(v)}" for k, v in durations.items()))
    for name, values in timings.items():
        print(f"  {name:<6} runs: " + ", ".join(f"{t.seconds:.2f}" for t in values))
    if markdown:
        print()
        print(markdown_report(setup, median, parts, durations, rounds))
    return {"median": median, "peer_parts": parts, "durations": durations,
            "runs": {k: [t.seconds for t in v] for k, v in timings.items()}}


def markdown_report(setup: Setup, median: dict[str, float], parts: dict[str, float], durations: dict[str, float],
                    rounds: int) -> str:
    lines = ["| machine | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in {**machine(), **tool_versions(setup)}.items()]
    command = " ".join([COMMAND, *sys.argv[1:]])
    lines += ["", f"`{command}`: median of {rounds} rounds, {time.strftime('%Y-%m-%d')}.", "",
              markdown_table(MAIN_HEADER, main_rows(median)), "",
              markdown_table(FLOOR_HEADER, floor_rows(median)), "",
              "| track | duration (ffmpeg -i) |", "| --- | ---: |"]
    names = {"warm": "ours (MP3)", "peer": "peer (MP3)", "peer-wav": "peer (espeak-ng WAV)"}
    lines += [f"| {names[k]} | {clock(v)} |" for k, v in durations.items()]
    lines += ["", "Peer parts (median): " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()) + "."]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description="Render benchmark: meditate against espeak-ng + ffmpeg.")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement (median reported)")
    parser.add_argument("--markdown", action="store_true", help="also print the tables for docs/benchmarks.md")
    parser.add_argument("--script", type=Path, default=SCRIPT, help="the script to render (default: %(default)s)")
    parser.add_argument("--tree", type=Path, default=ROOT,
                        help="the meditate checkout to time (default: this one), e.g. an export of another commit")
    parser.add_argument("--commit", metavar="REV",
                        help="time a clean `git archive` export of this commit (e.g. HEAD) instead of the working tree")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (outputs, caches, SSML)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="meditate-bench-"))
    try:
        tree = export_commit(args.commit, work) if args.commit else args.tree.resolve()
        sys.path.insert(0, str(tree))  # the setup reads the script with the measured code's own loader
        setup = prepare(args.script.resolve(), tree, work)
        print(f"timing {tree / 'cli.py'}: {setup.code}", flush=True)
        print(f"working in {work}; SSML for the peer: {setup.ssml_path}", flush=True)
        timings, outputs = run(setup, max(1, args.rounds))
        summary = report(setup, timings, track_durations(setup, outputs), args.markdown)
    except BenchError as exc:
        print(f"\nrender_bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    saved = RESULTS / f"render_bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    saved.write_text(json.dumps({"machine": machine(), "code": setup.code, **summary}, indent=2, default=str), encoding="utf-8")
    print(f"\nsaved {saved.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
