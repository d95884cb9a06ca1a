"""Reading WebVTT transcripts back (transcript.py writes them): the cues the web page shows as text."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from meditations.publishing.common import one_line


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
