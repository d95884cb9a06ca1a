"""WebVTT transcripts: written with one cue per spoken sentence, timed from the timeline; and read back, as
the cues the web page shows as text.

Breathing steps whose cues are not spoken (tone, bell, none) get their cue words in brackets, so a
reader can breathe along too. Silences are left as gaps between cues.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from meditations.model import Timeline, clock, one_line


def _clean(text: str) -> str:
    """Cue text as WebVTT wants it: one line (a blank line would end the cue), '&' and '<' escaped (they start
    entities and tags) and '>' too, so that '-->' never appears in a cue."""
    line = " ".join(text.split())
    return line.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def transcript_cues(timeline: Timeline) -> list[tuple[float, float, str]]:
    """(start, end, text) of every cue, in order."""
    rate = timeline.sample_rate
    spoken_spans = [(e.start, e.end) for e in timeline.events if e.kind == "speech"]
    cues = []
    for event in timeline.events:
        if event.kind == "speech":
            cues.append((event.start / rate, event.end / rate, _clean(event.text)))
        elif event.kind == "breath" and event.text and not any(s < event.end and event.start < e
                                                                for s, e in spoken_spans):
            cues.append((event.start / rate, event.end / rate, f"({_clean(event.text)})"))
    return sorted(cues)


def transcript_text(timeline: Timeline) -> str:
    """The transcript as a WebVTT document."""
    lines = ["WEBVTT", ""]
    for index, (start, end, text) in enumerate(transcript_cues(timeline), start=1):
        timing = f"{clock(start, 'two-digit', millis=True)} --> {clock(end, 'two-digit', millis=True)}"
        lines += [str(index), timing, text, ""]
    return "\n".join(lines)


# ---------------------------------------------------------------- reading back

@dataclass(frozen=True)
class Cue:
    """One caption of a transcript: its times in seconds and its plain text."""

    start: float
    end: float
    text: str


_TIMING = re.compile(r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_TAG = re.compile(r"<[^>]*>")


def vtt_seconds(stamp: str) -> float:
    """A WebVTT timestamp ([hh:]mm:ss.ttt) in seconds."""
    seconds = 0.0
    for part in stamp.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file, their text without markup (voice spans, styling) or entities."""
    cues = []
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    for block in blocks:
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines[:2]):
            match = _TIMING.match(line)
            if match:
                words = one_line(html.unescape(_TAG.sub("", " ".join(lines[i + 1:]))))
                if words:
                    cues.append(Cue(vtt_seconds(match[1]), vtt_seconds(match[2]), words))
                break
    return cues


def read_cues(out_dir: Path, relative: str | None) -> list[Cue]:
    """The cues of a transcript inside out_dir ([] when there is none or it cannot be read)."""
    if relative is None:
        return []
    try:
        return parse_vtt((out_dir / relative).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []
