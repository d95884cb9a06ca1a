"""Render benchmark: meditate against the plain pipeline a user could write instead.

Renders bench/benchmark-25min.yaml (about 25 minutes: speech, sentence gaps, long pauses) with
`cli.py render`, cold (an empty speech cache) and warm (every clip cached), and in the same run the peer:
espeak-ng given one SSML document with the same text and a <break> for every pause and gap, then ffmpeg
to MP3 (libmp3lame) at the same bitrate, sample rate, channels and LAME quality. A second peer is the
same pipeline as a user would naturally write it: ffmpeg without -compression_level (LAME's default
quality). It also re-renders a copy of the script with one sentence changed, on the cache the original
filled (an edit), and times the floor: lameenc encoding the same length of PCM alone, in this process,
which is the cost no render of this track can go below.

Every command is timed as a whole subprocess; each measurement runs --rounds times (default 3,
interleaved, each round started once the 1-minute load average is below 0.7) and the median is
reported, as ratios measured in the same run (the machine is shared and noisy).

    .venv/bin/python bench/render_bench.py                # the working tree: table and ratios
    .venv/bin/python bench/render_bench.py --markdown     # also the tables for docs/benchmarks.md
    .venv/bin/python bench/render_bench.py --commit HEAD  # a clean export of a commit instead

Not a test: it never runs under pytest. To add a measurement, write a timed function taking a Round
and returning a Timing, add it to STEPS, and add a RowSpec (compared with another step) or a FloorSpec.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import (BenchError, LoadLog, add_load_option, code_version, command_line, library_versions,  # noqa: E402
                    machine, machine_table, markdown_table, measured_tree, only_speech, run_timed, save_results,
                    text_table)

SCRIPT = HERE / "benchmark-25min.yaml"
COMMAND = ".venv/bin/python bench/render_bench.py"
PEER_SLOW_SECONDS = 600  # a peer step slower than this is reported as absurdly slow
EDIT_FROM = "Gently let your neck settle."  # the sentence the edit step changes (chapter "Softening")
EDIT_TO = "Let your neck grow long and quiet."


# ---------------------------------------------------------------- the setting shared by every step

@dataclass
class Setup:
    """What every round needs: the script, the peer's inputs and the tools."""

    script_path: Path
    edited_path: Path  # a copy of the script with one sentence changed
    variable_path: Path  # a copy with a variable, {name}, in VARIABLE_SENTENCES sentences
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

    def peer_commands(self, wav: Path, mp3: Path, quality: int | None = -1) -> list[list[str]]:
        """The plain pipeline: espeak-ng (SSML in, WAV out), then ffmpeg to MP3.

        quality -1: ours (LAME_QUALITY); None: no -compression_level (ffmpeg leaves LAME's default)."""
        quality = self.lame_quality if quality == -1 else quality
        level = [] if quality is None else ["-compression_level", str(quality)]
        return [
            [self.espeak, "-m", "-v", self.voice_id, "-s", str(self.rate), "-a", str(round(self.volume * 100)),
             "-f", str(self.ssml_path), "-w", str(wav)],
            [self.ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", str(wav), "-c:a", "libmp3lame",
             "-b:a", f"{self.bitrate}k", "-ar", str(self.sample_rate), "-ac", str(self.channels), *level, str(mp3)],
        ]

    def ours_command(self, script: Path, out_dir: Path, extra: tuple[str, ...] = ()) -> list[str]:
        return [self.python, str(self.tree / "cli.py"), "render", str(script), "-o", str(out_dir), *extra]


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
    cpu: float = 0.0  # CPU seconds of the command and the processes it waited for (0: in-process step)


# ---------------------------------------------------------------- timed steps

def _peer(round_: Round, name: str, quality: int | None) -> Timing:
    folder = round_.setup.work / f"{name}-{round_.index}"
    folder.mkdir()
    wav, mp3 = folder / "benchmark.wav", folder / "benchmark.mp3"
    parts, cpu = {}, 0.0
    for part, command in zip(("espeak-ng", "ffmpeg"), round_.setup.peer_commands(wav, mp3, quality), strict=False):
        parts[part], done = run_timed(command)
        cpu += done.cpu_seconds
        if parts[part] > PEER_SLOW_SECONDS:
            print(f"  note: {part} took {parts[part]:.0f} s (over {PEER_SLOW_SECONDS} s)", flush=True)
    round_.outputs[name] = mp3
    round_.outputs[f"{name}-wav"] = wav
    return Timing(sum(parts.values()), parts, cpu)


def peer(round_: Round) -> Timing:
    """espeak-ng with SSML to WAV, then ffmpeg to MP3 at our LAME quality: the equal-quality peer."""
    return _peer(round_, "peer", -1)


def peer_default(round_: Round) -> Timing:
    """The same pipeline as a user would naturally write it: ffmpeg without -compression_level."""
    return _peer(round_, "peer-default", None)


def _ours(round_: Round, name: str, script: Path, extra: tuple[str, ...] = ()) -> Timing:
    folder = round_.setup.work / f"{name}-{round_.index}"
    env = {**os.environ, "MEDITATE_CACHE_DIR": str(round_.cache)}
    seconds, done = run_timed(round_.setup.ours_command(script, folder, extra), env=env)
    written = re.search(r"wrote .+ \(([\d:.]+)\)\s*$", done.stdout)
    mp3 = folder / f"{script.stem}.mp3"
    if not written or not mp3.is_file():
        raise BenchError(f"render did not write {mp3}:\n{done.stdout}{done.stderr}")
    round_.outputs[name] = mp3
    if script == round_.setup.script_path:
        round_.setup.planned_seconds = parse_clock(written.group(1))
    return Timing(seconds, cpu=done.cpu_seconds)


def ours_cold(round_: Round) -> Timing:
    """`cli.py render` with an empty speech cache (every clip synthesized)."""
    if round_.cache.exists() and any(round_.cache.iterdir()):
        raise BenchError("the cold render's cache is not empty")
    return _ours(round_, "cold", round_.setup.script_path)




def ours_warm(round_: Round) -> Timing:
    """`cli.py render` again on the speech the cold render of this round made (nothing else kept)."""
    only_speech(round_.cache)
    return _ours(round_, "warm", round_.setup.script_path)


def variable_warm(round_: Round) -> Timing:
    """The script with a variable ({name} = Alex in VARIABLE_SENTENCES sentences), warm: planned first
    (untimed), nothing but speech kept from earlier steps."""
    env = {**os.environ, "MEDITATE_CACHE_DIR": str(round_.cache)}
    run_timed([round_.setup.python, str(round_.setup.tree / "cli.py"), "plan", str(round_.setup.variable_path)],
              env=env)
    only_speech(round_.cache)
    return _ours(round_, "var-warm", round_.setup.variable_path)


def variable_changed(round_: Round) -> Timing:
    """The same script rendered for another client (--set name=Jordan), right after variable_warm: its
    sentences with the name are new, every other clip is cached, and so is what the last render kept."""
    return _ours(round_, "var-changed", round_.setup.variable_path, ("--set", "name=Jordan"))


def ours_edited(round_: Round) -> Timing:
    """`cli.py render` of the script with one sentence changed, on the cache the original filled."""
    return _ours(round_, "edited", round_.setup.edited_path)


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


# The order matters: warm and edited reuse the cache cold filled in the same round; floor encodes warm's
# audio. Peers and ours alternate so that a slow spell of the machine does not fall on one side only.
STEPS: dict[str, Callable[[Round], Timing]] = {
    "peer": peer,
    "cold": ours_cold,
    "warm": ours_warm,
    "peer-default": peer_default,
    "edited": ours_edited,
    "var-warm": variable_warm,
    "var-changed": variable_changed,
    "floor": floor,
}


@dataclass(frozen=True)
class RowSpec:
    """A row of the main table: one of our steps against another step, with target ratios."""

    label: str
    ours: str
    base: str
    targets: tuple[float, ...] = ()  # empty: shown for reference, no target


BASE_NAMES = {"peer": "peer", "peer-default": "peer, ffmpeg default quality", "cold": "our cold render",
              "var-warm": "our warm render of it"}

ROWS = [
    RowSpec("cold render (empty speech cache)", "cold", "peer", (0.6, 1.0)),
    RowSpec("warm render (every clip cached)", "warm", "peer", (0.5,)),
    RowSpec("re-render after editing one sentence", "edited", "cold", (0.5,)),
    RowSpec("re-render for another client (one variable, 5 sentences)", "var-changed", "var-warm", (0.25,)),
    RowSpec("floor: lameenc encode alone, in-process", "floor", "peer", ()),
]

# The peer as a user would naturally write it: not the main comparison (it encodes at a slower LAME
# quality than ours), reported beside it.
DEFAULT_PEER_ROWS = [
    RowSpec("cold render", "cold", "peer-default", (0.6, 1.0)),
    RowSpec("warm render", "warm", "peer-default", (0.5,)),
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
    FloorSpec("re-render after editing one sentence", "edited"),
]


# ---------------------------------------------------------------- preparing the inputs

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


def edited_copy(script_path: Path, folder: Path) -> Path:
    """A copy of the script, under the same name in another folder, with one sentence's words changed."""
    text = script_path.read_text(encoding="utf-8")
    if text.count(EDIT_FROM) != 1:
        raise BenchError(f"{script_path} must contain the sentence {EDIT_FROM!r} exactly once (the edit step "
                         "changes it); set EDIT_FROM in bench/render_bench.py")
    folder.mkdir(parents=True)
    edited = folder / script_path.name
    edited.write_text(text.replace(EDIT_FROM, EDIT_TO), encoding="utf-8")
    return edited


VARIABLE_SENTENCES = 5


def variable_copy(script_path: Path, folder: Path) -> Path:
    """A copy of the script with `variables: {name: Alex}` and ", {name}" added to the first sentence of
    VARIABLE_SENTENCES one-line say steps spread over the whole script."""
    lines = script_path.read_text(encoding="utf-8").splitlines(keepends=True)
    says = [i for i, line in enumerate(lines) if line.startswith("  - say: ") and ". " in line]
    if len(says) < VARIABLE_SENTENCES:
        raise BenchError(f"{script_path} needs {VARIABLE_SENTENCES} one-line say steps of several sentences")
    for k in range(VARIABLE_SENTENCES):
        index = says[k * (len(says) - 1) // (VARIABLE_SENTENCES - 1)]
        lines[index] = lines[index].replace(". ", ", {name}. ", 1)
    at = next(i for i, line in enumerate(lines) if line.startswith("steps:"))
    lines.insert(at, "variables: {name: Alex}\n")
    folder.mkdir(parents=True)
    copy = folder / script_path.name
    copy.write_text("".join(lines), encoding="utf-8")
    return copy


def _says(steps):
    from meditations.model.script import Include, Repeat, Say

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
    try:
        import imageio_ffmpeg

        from meditations.encoding.encoder import LAME_QUALITY
        from meditations.speaking.voicechoice import resolve_voices
        from meditations.building.track import load
        from meditations.speaking.pool import SpeechEngine
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
            voice_id = resolve_voices(script, engine.voices())[("pyttsx3", name, None)].id
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
    edited = edited_copy(script_path, work / "edited-script")
    variable = variable_copy(script_path, work / "variable-script")
    audio = script.audio
    return Setup(script_path, edited, variable, tree, code_version(tree), work, sys.executable, espeak, ffmpeg,
                 voice_id, rate,
                 volume, audio.sample_rate, audio.channels, audio.bitrate, LAME_QUALITY, ssml_path)


# ---------------------------------------------------------------- running and reporting

def run(setup: Setup, rounds: int, load: LoadLog) -> tuple[dict[str, list[Timing]], dict[str, Path]]:
    """Every step, round after round; the timings and the last round's output files."""
    timings: dict[str, list[Timing]] = {name: [] for name in STEPS}
    outputs: dict[str, Path] = {}
    for index in range(1, rounds + 1):
        load.wait(f"round {index}/{rounds}")
        round_ = Round(setup, index, setup.work / f"cache-{index}")
        for name, step in STEPS.items():
            print(f"round {index}/{rounds}: {name} ...", end=" ", flush=True)
            timing = step(round_)
            timings[name].append(timing)
            parts = ", ".join(f"{k} {v:.2f} s" for k, v in timing.parts.items())
            cpu = f"CPU {timing.cpu:.2f} s" if timing.cpu else ""
            print(f"{timing.seconds:.2f} s" + (f" ({', '.join(filter(None, [parts, cpu]))})" if parts or cpu else ""),
                  flush=True)
        outputs = round_.outputs
    return timings, outputs


def track_durations(setup: Setup, outputs: dict[str, Path]) -> dict[str, float]:
    """Each output's length as ffmpeg -i reports it (the Duration line)."""
    found = {}
    for name in ("warm", "edited", "peer", "peer-default", "peer-wav"):
        done = subprocess.run([setup.ffmpeg, "-hide_banner", "-i", str(outputs[name])], capture_output=True,
                              text=True)
        match = re.search(r"Duration: (\d+):(\d+):([\d.]+)", done.stderr)
        if match:
            found[name] = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + float(match.group(3))
    return found


def default_quality(setup: Setup, outputs: dict[str, Path]) -> str:
    """Which -compression_level ffmpeg's default equals, found by encoding the peer's WAV at LAME's
    documented default (-q 3) and comparing the MP3 bytes (untimed)."""
    mp3 = setup.work / "peer-default-check.mp3"
    command = setup.peer_commands(outputs["peer-wav"], mp3, 3)[1]
    subprocess.run(command, check=True, capture_output=True)
    same = hashlib.sha256(mp3.read_bytes()).digest() == hashlib.sha256(outputs["peer-default"].read_bytes()).digest()
    return ("byte-identical to `-compression_level 3`" if same
            else "not byte-identical to `-compression_level 3`")


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


def _targets(ratio: float, targets: tuple[float, ...]) -> tuple[str, str]:
    if not targets:
        return "-", "-"
    shown = " (and " if len(targets) > 1 else ""
    target = f"<= {targets[0]:g}x" + "".join(f"{shown}<= {t:g}x)" for t in targets[1:])
    met = "yes" if ratio <= targets[0] else "no"
    if len(targets) > 1:
        met += "".join(f" ({'yes' if ratio <= t else 'no'})" for t in targets[1:])
    return target, met


def ratio_rows(median: dict[str, float], specs: list[RowSpec]) -> list[list[str]]:
    rows = []
    for spec in specs:
        ratio = median[spec.ours] / median[spec.base]
        target, met = _targets(ratio, spec.targets)
        rows.append([spec.label, f"{median[spec.ours]:.2f}", BASE_NAMES[spec.base], f"{median[spec.base]:.2f}",
                     f"{ratio:.2f}x", target, met])
    return rows


def floor_rows(median: dict[str, float]) -> list[list[str]]:
    rows = []
    for spec in FLOOR_ROWS:
        ours, base = median[spec.ours], median[spec.floor]
        rows.append([spec.label, f"{ours:.2f}", f"{base:.2f}", f"{ours / base:.1f}x", f"+{ours - base:.2f}"])
    return rows


MAIN_HEADER = ["measurement", "ours (s)", "compared with", "its time (s)", "ratio", "target", "met?"]
FLOOR_HEADER = ["measurement", "ours (s)", "floor (s)", "x floor", "above floor (s)"]
DURATION_NAMES = {"warm": "ours (MP3)", "edited": "ours, one sentence edited (MP3)", "peer": "peer (MP3)",
                  "peer-default": "peer, ffmpeg default quality (MP3)", "peer-wav": "peer (espeak-ng WAV)"}


def tool_versions(setup: Setup) -> dict[str, str]:
    espeak = subprocess.run([setup.espeak, "--version"], capture_output=True, text=True).stdout.split("Data")[0]
    ffmpeg = subprocess.run([setup.ffmpeg, "-version"], capture_output=True, text=True).stdout.split("\n")[0]
    return {"meditate": setup.code,
            "peer espeak-ng": espeak.replace("eSpeak NG text-to-speech:", "").strip(),
            "peer ffmpeg": " ".join(ffmpeg.split()[:3]),
            "ours": library_versions()}


def report(setup: Setup, timings: dict[str, list[Timing]], durations: dict[str, float], quality_note: str,
           load: LoadLog, markdown: bool) -> dict:
    median = medians(timings)
    rounds = len(timings["peer"])
    print()
    print(f"{setup.script_path.relative_to(ROOT)}: {clock(setup.planned_seconds)} planned; voice {setup.voice_id}, "
          f"rate {setup.rate}, {setup.sample_rate} Hz, {setup.channels} ch, {setup.bitrate} kbit/s CBR, "
          f"LAME quality {setup.lame_quality}; median of {rounds} rounds")
    print("peer: " + " && ".join(" ".join(Path(c[0]).name if i == 0 else a for i, a in enumerate(c))
                                 for c in setup.peer_commands(Path("benchmark.wav"), Path("benchmark.mp3"))))
    print()
    print(text_table(MAIN_HEADER, ratio_rows(median, ROWS)))
    print()
    print("against the peer as a user would naturally write it (ffmpeg's default LAME quality):")
    print(text_table(MAIN_HEADER, ratio_rows(median, DEFAULT_PEER_ROWS)))
    print()
    print(text_table(FLOOR_HEADER, floor_rows(median)))
    print()
    parts = {name: {k: statistics.median(t.parts[k] for t in timings[name]) for k in timings[name][0].parts}
             for name in ("peer", "peer-default")}
    for name, values in parts.items():
        print(f"{name} parts (median): " + ", ".join(f"{k} {v:.2f} s" for k, v in values.items()))
    print(f"ffmpeg's default LAME quality: {quality_note}")
    print("durations (ffmpeg -i): " + ", ".join(f"{k} {clock(v)}" for k, v in durations.items()))
    for name, values in timings.items():
        print(f"  {name:<12} runs: " + ", ".join(f"{t.seconds:.2f}" for t in values))
    print(cpu_line(timings))
    print(load.summary())
    if markdown:
        print()
        print(markdown_report(setup, timings, median, parts, durations, quality_note, load))
    return {"median": median, "parts": parts, "durations": durations, "default_quality": quality_note,
            "load": load.starts, "runs": {k: [t.seconds for t in v] for k, v in timings.items()},
            "cpu": {k: [t.cpu for t in v] for k, v in timings.items()}}


def cpu_line(timings: dict[str, list[Timing]]) -> str:
    """CPU time (user + system, every process) against wall time, medians: how many cores each step kept busy."""
    shown = []
    for name, values in timings.items():
        if values and values[0].cpu:
            cpu = statistics.median(t.cpu for t in values)
            wall = statistics.median(t.seconds for t in values)
            shown.append(f"{name} {cpu:.2f} s ({cpu / wall:.2f} cores)")
    return "CPU time, median (user + system of every process; cores busy = CPU / wall): " + ", ".join(shown)


def markdown_report(setup: Setup, timings: dict[str, list[Timing]], median: dict[str, float], parts: dict,
                    durations: dict[str, float], quality_note: str, load: LoadLog) -> str:
    rounds = len(timings["peer"])
    lines = [machine_table(tool_versions(setup)), "",
             f"`{command_line('render_bench.py')}`: median of {rounds} rounds, {time.strftime('%Y-%m-%d %H:%M')}. "
             f"{load.summary()}.", "",
             markdown_table(MAIN_HEADER, ratio_rows(median, ROWS)), "",
             "Against the peer as a user would naturally write it: the same commands without "
             f"`-compression_level`, so ffmpeg leaves LAME at its default quality ({quality_note}). "
             "Not the main comparison: that peer encodes at a slower, higher LAME quality than ours.", "",
             markdown_table(MAIN_HEADER, ratio_rows(median, DEFAULT_PEER_ROWS)), "",
             markdown_table(FLOOR_HEADER, floor_rows(median)), "",
             "| track | duration (ffmpeg -i) |", "| --- | ---: |"]
    lines += [f"| {DURATION_NAMES[k]} | {clock(v)} |" for k, v in durations.items()]
    lines.append("")
    for name, values in parts.items():
        lines.append(f"Parts of `{name}` (median): " + ", ".join(f"{k} {v:.2f} s" for k, v in values.items()) + ".")
    lines.append(cpu_line(timings) + ".")
    lines.append("Individual runs (s): " + "; ".join(
        f"{name} " + ", ".join(f"{t.seconds:.2f}" for t in values) for name, values in timings.items()) + ".")
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
    add_load_option(parser)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="meditate-bench-"))
    load = LoadLog(args.quiet_load)
    try:
        tree = measured_tree(args.commit, args.tree, work)
        sys.path.insert(0, str(tree))  # the setup reads the script with the measured code's own loader
        setup = prepare(args.script.resolve(), tree, work)
        print(f"timing {tree / 'cli.py'}: {setup.code}", flush=True)
        print(f"working in {work}; SSML for the peer: {setup.ssml_path}", flush=True)
        timings, outputs = run(setup, max(1, args.rounds), load)
        summary = report(setup, timings, track_durations(setup, outputs), default_quality(setup, outputs), load,
                         args.markdown)
    except BenchError as exc:
        print(f"\nrender_bench: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    saved = save_results("render_bench", {"machine": machine(), "code": setup.code, **summary})
    print(f"\nsaved {saved.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
