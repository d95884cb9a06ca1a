"""Limits of the MP3 file format that a script could go past, found while loading (before any audio is made).

ID3v2 chapters (the CHAP and CTOC frames of the ID3v2 Chapter Frame Addendum) list a track's chapters in one
table of contents whose entry count is a single byte: a track holds at most 255 chapters. Chapter times are
32-bit milliseconds (about 49 days), far beyond MEDITATE_MAX_TRACK_SECONDS.
"""

from __future__ import annotations

from .errors import Problem, ScriptError
from .script import Chapter, Include, Repeat

MAX_CHAPTERS = 255


def check_chapter_count(steps) -> None:
    """Raise a ScriptError at the chapter that would be the 256th of the track (repeats count each time)."""
    count = 0

    def walk(items, times: int):
        nonlocal count
        for step in items:
            if isinstance(step, Chapter):
                count += times
                if count > MAX_CHAPTERS:
                    raise ScriptError([Problem(step.location, f"this makes {count} chapters, over the {MAX_CHAPTERS} "
                                                              "an MP3's table of contents can list")])
            elif isinstance(step, Repeat):
                walk(step.steps, times * step.count)
            elif isinstance(step, Include):
                walk(step.steps, times)

    walk(steps, 1)
