"""How fast each neural engine speaks: the seconds of CPU one engine takes per second of speech, on one
thread, for the twelve sentences of bench/rate_fit.py at 135 words a minute (the library's pace).

Each engine is loaded once in this process and speaks every sentence once to warm up; then each sentence
is spoken ROUNDS times and the median total is kept. Only synthesis is timed (no resampling, caching or
worker processes).

    .venv/bin/python bench/engine_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time

from rate_fit import TEXTS

from meditations.speaking.engines import hibari, piper

ROUNDS = 5
RATE = 135


def timing(module, voice) -> tuple[float, float]:
    """(median seconds to speak all sentences, seconds of speech they make)."""
    synthesizer = module.Synthesizer()
    control = module.control(RATE)
    audio = sum(synthesizer.speak(voice, text, control, 1).size for text in TEXTS) / voice.sample_rate
    totals = []
    for _ in range(ROUNDS):
        start = time.process_time()
        for text in TEXTS:
            synthesizer.speak(voice, text, control, 1)
        totals.append(time.process_time() - start)
    return statistics.median(totals), audio


def main() -> int:
    """Time both neural engines and print one line each."""
    rows = {}
    for module, wanted in ((piper, "en_US-joe-medium"), (hibari, "heart")):
        voice = next(v for v in module.list_voices() if v.id == wanted)
        rows[module.NAME] = timing(module, voice)
    for name, (seconds, audio) in rows.items():
        print(f"{name:7} {seconds:6.2f} s CPU for {audio:6.1f} s of speech: {audio / seconds:6.1f}x real time")
    print(f"hibari is {rows['piper'][0] / rows['hibari'][0]:.1f}x as fast as piper")
    return 0


if __name__ == "__main__":
    sys.exit(main())
