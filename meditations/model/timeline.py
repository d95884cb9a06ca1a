"""The plan of a track: every sound and silence at an exact sample position (what the planner makes and the
mixer plays). Times are whole samples at the output rate, so nothing drifts however long the track is."""

from __future__ import annotations

from dataclasses import dataclass, field

from .errors import Location


@dataclass(frozen=True)
class Event:
    """One sound or silence on the timeline, in samples at the track's rate."""

    kind: str  # "speech" | "silence" | "breath" | "bell" | "tone"
    start: int
    end: int
    text: str = ""
    clip: str = ""  # cache key of a speech clip
    location: Location | None = field(default=None, compare=False)
    phase: str = ""  # breath events: in | hold | out
    sound: object = None  # BellSound or ToneSound for made sounds

    @property
    def audible(self) -> bool:
        """Whether the mixer has something to play for this event."""
        return bool(self.clip) or self.sound is not None

    def to_json(self, rate: int) -> dict:
        """The event as plan --json shows it (times in seconds)."""
        data = {"kind": self.kind, "start": _seconds(self.start, rate), "end": _seconds(self.end, rate)}
        if self.kind == "speech":
            data["text"] = self.text
        if self.kind == "breath":
            data["phase"] = self.phase
        return data


@dataclass(frozen=True)
class ChapterMark:
    """A chapter's title and span, in samples."""

    title: str
    start: int
    end: int

    def to_json(self, rate: int) -> dict:
        """The chapter as plan --json shows it."""
        return {"title": self.title, "start": _seconds(self.start, rate), "end": _seconds(self.end, rate)}


@dataclass(frozen=True)
class Timeline:
    """The exact plan of a track."""

    title: str
    sample_rate: int
    length: int
    events: tuple[Event, ...]
    chapters: tuple[ChapterMark, ...]
    length_factor: float = 1.0

    @property
    def duration(self) -> float:
        """The track's length in seconds."""
        return self.length / self.sample_rate

    def to_json(self) -> dict:
        """The plan as one JSON-ready object."""
        rate = self.sample_rate
        return {"title": self.title, "duration": _seconds(self.length, rate),
                "length_factor": round(self.length_factor, 6),
                "events": [e.to_json(rate) for e in self.events],
                "chapters": [c.to_json(rate) for c in self.chapters]}


def _seconds(samples: int, rate: int) -> float:
    return round(samples / rate, 6)
