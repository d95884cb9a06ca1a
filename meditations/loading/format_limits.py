"""Limits of the MP3 file format that a script could go past, found while loading (before any audio is made).

ID3v2 chapters (the CHAP and CTOC frames of the ID3v2 Chapter Frame Addendum) list a track's chapters in one
table of contents whose entry count is a single byte: a track holds at most 255 chapters. Chapter times are
32-bit milliseconds (about 49 days), far beyond MEDITATE_MAX_TRACK_SECONDS. And a track lasts at least 0.1 s:
MP3 audio comes in frames of up to 72 ms, so a few milliseconds (a lead-in, fade and bell of 1 ms each) cannot
be written as planned.
"""

from __future__ import annotations

from meditations.model import Chapter, Include, Location, Problem, Repeat, ScriptError

MAX_CHAPTERS = 255
MIN_TRACK_SECONDS = 0.1  # one MP3 frame lasts up to 72 ms (576 samples at 8 kHz): shorter cannot be as planned


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


def check_track_length(seconds: float, display: str) -> None:
    """Raise a ScriptError when a planned track is too short to be a track (tiny lead-in, fade and steps)."""
    if seconds < MIN_TRACK_SECONDS:
        raise ScriptError([Problem(Location(display, 1, 1), f"the track would last only {seconds:.3f} s; a track "
                                                            f"lasts at least {MIN_TRACK_SECONDS:g} s (lengthen its "
                                                            "steps, lead_in or fade_out)")])
