"""Breathing patterns: presets, parsing "4-7-8", and the phases of one cycle.

Where the presets' numbers come from:
- box (4-4-4-4): "box" or "square" breathing, four equal sides of in, hold, out, hold; widely taught
  for calming under stress.
- 4-7-8: the relaxing breath popularised by Andrew Weil: in for 4, hold for 7, out for 8.
- resonance (5.5-0-5.5): slow breathing at about 5.5 breaths a minute, near the rate at which heart-rate
  variability peaks for most adults (resonance-frequency breathing, Lehrer and Gevirtz 2014).
- soothing (5-0-5): Compassion Focused Therapy's soothing-rhythm breathing: a slightly slower and deeper
  breath than usual, even in and out, at around six breaths a minute (Gilbert, The Compassionate Mind).
- sigh (2-1-6): cyclic sighing: a full inhale, a short second "top-up" inhale, then a long, slow exhale
  (Balban et al. 2023, Cell Reports Medicine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import excerpt


@dataclass(frozen=True)
class Phase:
    """One phase of a cycle: 'in', 'hold' or 'out', with its seconds and its cue word key."""

    phase: str
    seconds: float
    word: str  # key into the cue words: in, in_again, hold, out


@dataclass(frozen=True)
class Pattern:
    """A breathing cycle."""

    name: str
    phases: tuple[Phase, ...]

    @property
    def cycle_seconds(self) -> float:
        """The length of one cycle."""
        return sum(p.seconds for p in self.phases)

    @property
    def longest_hold(self) -> float:
        """The longest breath hold in the cycle (0 if none)."""
        return max((p.seconds for p in self.phases if p.phase == "hold"), default=0.0)


def _from_numbers(name: str, numbers: list[float]) -> Pattern:
    kinds = [("in", "in"), ("hold", "hold"), ("out", "out"), ("hold", "hold")]
    phases = tuple(Phase(kind, seconds, word) for (kind, word), seconds in zip(kinds, numbers, strict=False)
                   if seconds > 0)
    return Pattern(name, phases)


PRESETS: dict[str, Pattern] = {
    "box": _from_numbers("box", [4, 4, 4, 4]),
    "4-7-8": _from_numbers("4-7-8", [4, 7, 8]),
    "resonance": _from_numbers("resonance", [5.5, 0, 5.5]),
    "soothing": _from_numbers("soothing", [5, 0, 5]),
    "sigh": Pattern("sigh", (Phase("in", 2.0, "in"), Phase("in", 1.0, "in_again"), Phase("out", 6.0, "out"))),
}

DEFAULT_WORDS = {"in": "Breathe in", "in_again": "Top up", "hold": "Hold", "out": "And breathe out"}
_NUMBERS = re.compile(r"^\d+(\.\d+)?(-\d+(\.\d+)?){2,3}$")


def parse_pattern(text: str) -> Pattern:
    """A preset name or seconds as in-hold-out or in-hold-out-hold; ValueError with advice otherwise."""
    text = str(text).strip().lower()
    if text in PRESETS:
        return PRESETS[text]
    if not _NUMBERS.match(text):
        raise ValueError(f"'{excerpt(text)}' is not a breathing pattern: use seconds like 4-7-8 or 4-4-4-4, "
                         f"or a preset: {', '.join(PRESETS)}")
    numbers = [float(n) for n in text.split("-")]
    if numbers[0] <= 0 or numbers[2] <= 0:
        raise ValueError(f"'{excerpt(text)}' needs a breath in and a breath out longer than zero")
    if any(n > 60 for n in numbers):
        raise ValueError(f"'{excerpt(text)}' has a phase over 60 seconds")
    return _from_numbers(text, numbers)
