"""Writes bench/benchmark-25min.yaml: a ~25 minute guided meditation made of many distinct sentences.

The sentences are generated from a few templates with a fixed seed, so the file is the same every time
it is made; it is committed, and the benchmark reads the committed file. Distinct sentences matter: a
script that repeats one sentence would be cached after its first clip, and cold would equal warm.

    .venv/bin/python bench/make_script.py            # rewrite the file
    .venv/bin/python bench/make_script.py --check    # exit 1 if the committed file is out of date
    .venv/bin/python bench/make_script.py --minutes 60 -o /tmp/sixty.yaml   # another length (memory_bench)

With --minutes N the script has as many chapters of the same shape as fit (about 2.5 minutes each,
chapter titles numbered once the ten names are used up) and says `length: N m`, so the track is exactly
N minutes long; the same N always gives the same file. Without it, the committed 25-minute script.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPT_PATH = HERE / "benchmark-25min.yaml"
SEED = 25

OPENINGS = ["Now", "Gently", "Slowly", "For a moment", "When you are ready", "In your own time"]
BODY = ["shoulders", "jaw", "forehead", "hands", "belly", "chest", "feet", "back", "neck", "eyes",
        "arms", "legs", "hips", "face"]
RELAX = ["soften", "grow heavy", "relax", "settle", "rest", "become still", "release any effort"]
SENSATIONS = ["warmth", "weight", "tingling", "coolness", "stillness", "gentle pulse", "softness"]
ATTITUDES = ["without trying to change it", "just as it is", "with kindness", "with gentle curiosity",
             "as if for the very first time"]
THOUGHTS = ["plans", "memories", "worries", "sounds around you", "the day ahead", "something you need to do",
            "an old conversation"]
RESPONSES = ["simply notice it and come back to the breath", "let it pass like a cloud in the sky",
             "gently return to this moment", "there is no need to follow it",
             "greet it kindly and let it go"]
SCENES = ["a quiet lake at dawn", "a warm and empty beach", "a soft green meadow", "a shaded forest path",
          "a mountain under a clear sky", "a garden after the rain", "a small boat drifting on calm water"]
DETAILS = ["calm and still around you", "and let yourself rest there", "and breathe in its peace",
           "its colours soft and clear", "where nothing is asked of you"]
RELEASES = ["let go a little more", "feel yourself sinking a little deeper", "let the day fall away",
            "allow your whole body to rest", "release what you no longer need", "feel the ground holding you"]
BREATH_MOVES = ["moving in through the nose", "filling the chest", "rising into the belly", "leaving the body",
                "flowing out slowly"]
BREATH_NOTES = ["cool on the way in and warm on the way out", "steady and unhurried", "like a gentle wave",
                "each breath a little slower than the last", "with nothing to do but be here"]


def _pool() -> list[str]:
    """Every sentence the templates can make, in a fixed shuffled order."""
    sentences = [f"{o} let your {b} {r}." for o, b, r in itertools.product(OPENINGS, BODY, RELAX)]
    sentences += [f"Notice the {s} in your {b}, {a}." for s, b, a in itertools.product(SENSATIONS, BODY, ATTITUDES)]
    sentences += [f"If your mind wanders to {t}, {r}." for t, r in itertools.product(THOUGHTS, RESPONSES)]
    sentences += [f"Imagine {s}, {d}." for s, d in itertools.product(SCENES, DETAILS)]
    sentences += [f"With each breath out, {r}." for r in RELEASES]
    sentences += [f"Feel the breath {m}, {n}." for m, n in itertools.product(BREATH_MOVES, BREATH_NOTES)]
    sentences = [s[0].upper() + s[1:] for s in sentences]
    random.Random(SEED).shuffle(sentences)
    return sentences


CHAPTERS = ["Arriving", "Settling the body", "Following the breath", "Softening", "A quiet place",
            "Letting thoughts pass", "Resting deeper", "Kindness", "Stillness", "Returning"]
LONG_PAUSES = [20, 45, 30, 60, 25, 50, 35, 40, 55, 20]  # seconds, one after each chapter's first text


CHAPTER_MINUTES = 2.55  # what one chapter of script_text() lasts, about


def chapter_plan(count: int) -> list[tuple[str, int]]:
    """`count` (chapter title, long pause) pairs: the ten names, then the same names numbered."""
    return [(CHAPTERS[i % len(CHAPTERS)] + (f" {i // len(CHAPTERS) + 1}" if i >= len(CHAPTERS) else ""),
             LONG_PAUSES[i % len(LONG_PAUSES)]) for i in range(count)]


def script_text(minutes: int | None = None) -> str:
    """The YAML text of the benchmark script (the committed 25-minute one, or one of `minutes` minutes)."""
    sentences = iter(_pool())
    take = lambda n: " ".join(next(sentences) for _ in range(n))  # noqa: E731
    if minutes is None:
        chapters = chapter_plan(len(CHAPTERS))
        header = [
            "# Generated by bench/make_script.py (do not edit by hand): the render benchmark's script.",
            "# About 25 minutes: 194 distinct sentences, sentence and paragraph gaps, long pauses of 20-60 s.",
            "title: Benchmark, twenty-five minutes",
            "description: A long practice made of many distinct sentences, used by bench/render_bench.py.",
        ]
    else:
        chapters = chapter_plan(max(1, round(minutes / CHAPTER_MINUTES)))
        header = [
            f"# Generated by bench/make_script.py --minutes {minutes} (do not edit by hand).",
            f"# {len(chapters)} chapters of distinct sentences, fitted to exactly {minutes} minutes.",
            f"title: Benchmark, {minutes} minutes",
            "description: A practice made of many distinct sentences, used by bench/memory_bench.py.",
            f"length: {minutes}m",
        ]
    lines = header + [
        "author: meditate",
        "language: en",
        "voice:",
        "  rate: 130",
        "pace:",
        "  sentence_gap: 1.5s",
        "  paragraph_gap: 3s",
        "steps:",
    ]
    for index, (chapter, long_pause) in enumerate(chapters):
        lines += [f"  - chapter: {chapter}",
                  "  - say: |",
                  f"      {take(5)}",
                  "",
                  f"      {take(4)}",
                  f"  - pause: {long_pause}s",
                  f"  - say: {take(4)}",
                  f"  - say: {take(3)}",
                  "  - pause: 8s"]
        if index % 3 == 1:  # a short repeated breathing cue, as real scripts have
            lines += ["  - repeat: 3",
                      "    steps:",
                      "      - say: Breathe in slowly.",
                      "      - pause: 4s",
                      "      - say: And breathe out.",
                      "      - pause: 5s"]
        lines += [f"  - say: {take(3)}",
                  "  - pause: 6s"]
    lines += ["  - say: Take your time before you open your eyes. Thank you for practising.", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check that the committed file is current")
    parser.add_argument("--minutes", type=int, help="write a script of exactly this many minutes instead")
    parser.add_argument("-o", "--output", type=Path, help="where --minutes writes its script (required with it)")
    args = parser.parse_args()
    if args.minutes is not None:
        if args.output is None or args.check or args.minutes < 1:
            parser.error("--minutes N (N >= 1) needs -o FILE, and cannot be combined with --check")
        args.output.write_text(script_text(args.minutes), encoding="utf-8")
        print(f"wrote {args.output}")
        return 0
    text = script_text()
    if args.check:
        current = SCRIPT_PATH.read_text(encoding="utf-8") if SCRIPT_PATH.exists() else ""
        if current != text:
            print(f"{SCRIPT_PATH} is out of date: run bench/make_script.py", file=sys.stderr)
            return 1
        print(f"{SCRIPT_PATH} is current")
        return 0
    SCRIPT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SCRIPT_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
