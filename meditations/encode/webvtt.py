"""WebVTT transcripts: one cue per spoken sentence, timed from the timeline.

Breathing steps whose cues are not spoken (tone, bell, none) get their cue words in brackets, so a
reader can breathe along too. Silences are left as gaps between cues. transcript_read.py reads them back.
"""

from __future__ import annotations

from meditations.model.clock import clock
from meditations.model.timeline import Timeline


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


def webvtt(timeline: Timeline) -> str:
    """The transcript as a WebVTT document."""
    lines = ["WEBVTT", ""]
    for index, (start, end, text) in enumerate(transcript_cues(timeline), start=1):
        timing = f"{clock(start, 'two-digit', millis=True)} --> {clock(end, 'two-digit', millis=True)}"
        lines += [str(index), timing, text, ""]
    return "\n".join(lines)
