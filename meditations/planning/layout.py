"""The state of planning one track: where the next sound goes, the events placed so far, the gap owed.

`plan` in planner.py walks the steps and each step kind's entry places its events with these methods.
The inputs are what synthesis and measuring found beforehand (clip lengths, recordings), so laying out
a track reads no file and runs no engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from meditations.audio import CLIP_RATE, resampled_length
from meditations.model import Event, Location, Problem, Timeline, VoiceSettings


class Clip(NamedTuple):
    """A synthesized clip: its cache key and its length in samples at CLIP_RATE."""

    key: str
    samples: int


ClipLengths = Mapping[tuple[str, VoiceSettings], Clip]
"""Every clip a script speaks, by (text, voice settings)."""


@dataclass(frozen=True)
class Recordings:
    """What measuring a script's sound files found."""

    voice: Mapping[Path, tuple[int, float]] = field(default_factory=dict)
    """A say step's recording: its length at the track's rate and the gain matching it to the voice."""
    bells: Mapping[Path, float] = field(default_factory=dict)
    """A bell's sound file: how many seconds it rings."""


@dataclass(frozen=True)
class Stretch:
    """How far one attempt at a fitted length stretches the flexible parts."""

    pauses: float = 1.0
    breathing: float = 1.0
    extra_tail: int = 0  # samples added to the closing silence so a fitted length lands on target


@dataclass
class Layout:
    """Where planning has got to."""

    rate: int
    clips: ClipLengths
    recordings: Recordings = field(default_factory=Recordings)
    stretch: Stretch = field(default_factory=Stretch)
    now: int = 0
    events: list[Event] = field(default_factory=list)
    chapter_starts: list[tuple[str, int]] = field(default_factory=list)
    pending_gap: float = 0.0
    pending_chapters: list[str] = field(default_factory=list)
    flexible_pauses: int = 0  # samples of pauses placed (they stretch with `length`)
    flexible_breathing: int = 0  # samples of breathe-by-duration placed
    shortest_breathing: int = 0  # one cycle of each breathe-by-duration: the least they can take
    problems: list[Problem] = field(default_factory=list)

    def samples(self, seconds: float) -> int:
        """Seconds as whole samples at the track's rate."""
        return int(round(seconds * self.rate))

    def flush_gap(self) -> None:
        """Place the gap owed since the last sound."""
        if self.pending_gap:
            self.silence(self.pending_gap)
        self.pending_gap = 0.0

    def begin(self, replaces_gap: bool) -> None:
        """Before the next sound or exact silence: settle the pending gap, then open pending chapters."""
        if replaces_gap:
            self.pending_gap = 0.0
        else:
            self.flush_gap()
        for title in self.pending_chapters:
            self.chapter_starts.append((title, self.now))
        self.pending_chapters.clear()

    def pause(self, seconds: float, location: Location | None = None) -> None:
        """An exact silence that replaces the pending gap; it stretches with the length factor."""
        self.begin(replaces_gap=True)
        before = self.now
        self.silence(seconds * self.stretch.pauses, location)
        self.flexible_pauses += self.now - before

    def silence(self, seconds: float, location: Location | None = None) -> None:
        """A silence of this many seconds, here."""
        length = self.samples(seconds)
        if length > 0:
            self.events.append(Event("silence", self.now, self.now + length, location=location))
            self.now += length

    def clip_event(self, text: str, settings: VoiceSettings, at: int, location: Location | None) -> Event:
        """The speech event of a text in a voice, starting at `at`."""
        clip = self.clips[(text, settings)]
        length = resampled_length(clip.samples, CLIP_RATE, self.rate)
        return Event("speech", at, at + length, text, clip.key, location)


class Planned(NamedTuple):
    """One attempt at planning a track: the layout it ended with, and its timeline."""

    layout: Layout
    timeline: Timeline
