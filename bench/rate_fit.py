"""A voice `rate` is words per minute of speech, in every engine: this measures how close each engine comes,
and fits each engine's own control again (the constants in meditations/speaking/engines/).

Each engine speaks twelve of the bundled library's sentences at several rates; words per minute of speech
counts the words over the clips' trimmed lengths (pauses inside a sentence count, the gaps between
sentences do not). The fit is seconds per word against the engine's own control: eSpeak NG's rate
(a + b / rate), Piper's length_scale (a + b * length_scale) and hibari's speed (a + b / speed).

    .venv/bin/python bench/rate_fit.py --markdown [--engine hibari]
"""

from __future__ import annotations

import argparse
import re
import sys

import numpy as np

from meditations.speaking import SpeechEngine, load_clip
from meditations.speaking.engines import espeak, hibari, piper
from meditations.speaking.request import SpeechRequest

TEXTS = [
    "Find a position that lets you rest, and let your eyes close or soften.",
    "Notice the places where your body meets the chair or the floor.",
    "There is nothing you need to do right now, except to be here.",
    "Bring to mind a moment when someone was kind to you.",
    "Let the breath out be a little longer than the breath in.",
    "If your attention wanders, gently bring it back, without blame.",
    "Imagine a warm light settling around your shoulders.",
    "You might say quietly to yourself: may I be kind to myself.",
    "Please listen only where it is safe to let your attention turn inward.",
    "Sit comfortably, with your back upright but not stiff, and let your hands rest.",
    "When you are ready, gently open your eyes, and bring this steadiness with you.",
    "Notice how busy or quiet your mind is.",
]
ASKED = (100, 120, 130, 140, 160, 180, 200)
WORDS = sum(len(re.findall(r"[\w']+", text)) for text in TEXTS)


def seconds_per_word(engine: SpeechEngine, requests: list[SpeechRequest]) -> float:
    """The clips' total trimmed length over the words they hold."""
    failures = engine.synthesize(requests)
    if failures:
        raise SystemExit(f"synthesis failed: {failures[0]}")
    return sum(load_clip(r.key()).size for r in requests) / 22050 / WORDS


def measure(engine: SpeechEngine, name: str, make) -> list[tuple[int, float, float]]:
    """(asked, measured words per minute, the engine's own control) at each asked rate."""
    module = {"pyttsx3": espeak, "piper": piper, "hibari": hibari}[name]
    rows = []
    for asked in ASKED:
        spw = seconds_per_word(engine, [make(text, asked) for text in TEXTS])
        rows.append((asked, 60 / spw, module.control(asked)))
    return rows


def fit(rows, inverse: bool) -> tuple[float, float]:
    """Seconds per word = a + b * x, x the control (or 1 / control), by least squares."""
    x = np.array([1 / c if inverse else c for _, _, c in rows])
    y = np.array([60 / m for _, m, _ in rows])
    (a, b), *_ = np.linalg.lstsq(np.vstack([np.ones_like(x), x]).T, y, rcond=None)
    return float(a), float(b)


def main(argv: list[str] | None = None) -> int:
    """Measure the engines (all, or those named) and print the table and the fits."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--engine", action="append", choices=("pyttsx3", "piper", "hibari"),
                        help="measure only this engine (may be given more than once)")
    engines = parser.parse_args(argv).engine or ["pyttsx3", "piper", "hibari"]
    lines = ["| engine | asked | measured | off |", "| --- | ---: | ---: | ---: |"]
    with SpeechEngine(workers=2) as engine:
        voices = {v.engine: v for v in engine.voices() if v.id in ("en_US-joe-medium", "heart")}
        makers = {"pyttsx3": lambda t, r: SpeechRequest(t, "gmw/en-us", r, 0.9),
                  "piper": lambda t, r: SpeechRequest.of(voices["piper"], t, r, 0.9),
                  "hibari": lambda t, r: SpeechRequest.of(voices["hibari"], t, r, 0.9)}
        results = {name: measure(engine, name, makers[name]) for name in engines}
    for name, rows in results.items():
        lines += [f"| {name} | {a} | {m:.1f} | {100 * (m - a) / a:+.1f} % |" for a, m, _ in rows]
    lines.append("")
    if "pyttsx3" in results:
        a, b = fit([r for r in results["pyttsx3"] if r[2] > espeak.OWN_RATES[0]], inverse=True)
        lines.append(f"eSpeak NG: WORD_BASE = {a:.4f}, WORD_SCALE = {b:.2f} (own rate above {espeak.OWN_RATES[0]})")
    if "piper" in results:
        a, b = fit(results["piper"], inverse=False)
        lines.append(f"Piper: WORD_BASE = {a:.4f}, WORD_SCALE = {b:.4f}")
    if "hibari" in results:
        a, b = fit([r for r in results["hibari"] if hibari.SPEEDS[0] < r[2] < hibari.SPEEDS[1]], inverse=True)
        lines.append(f"hibari: WORD_BASE = {a:.4f}, WORD_SCALE = {b:.4f}")
    print("\n".join(lines))
    return 0

if __name__ == "__main__":
    sys.exit(main())
