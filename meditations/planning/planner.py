"""Planning, the third stage (after speaking has measured the clips): the timeline, every sound and silence
at an exact sample position.

Planning is pure: it is given each clip's length and each recording's measurements (building/clips.py finds
them, synthesizing what is missing) and reads no file. Each step kind is one entry of PLANNERS; a
script's `length` is reached by lengthfit.py, which plans again with the flexible parts stretched.
"""

from __future__ import annotations

from collections.abc import Callable

from meditations.audio import BellSound, RecordingSound, natural_ring_seconds
from meditations.loading import check_track_length
from meditations.model import (
    Bell,
    Breathe,
    Chapter,
    ChapterMark,
    Event,
    Include,
    Location,
    ParagraphBreak,
    Pause,
    Problem,
    Repeat,
    Say,
    Script,
    ScriptError,
    Sentence,
    TextPause,
    Timeline,
    clock,
)

from .breathplan import plan_breathe
from .layout import ClipLengths, Layout, Planned, Recordings, Stretch
from .lengthfit import fit_length

JOINED_GAP = 0.25  # between the pieces of an over-long sentence that was cut up


def plan(script: Script, clip_lengths: ClipLengths, recordings: Recordings | None = None) -> Timeline:
    """The exact timeline of a script, fitted to its length, from the lengths of its clips (by text and
    voice settings) and the measurements of its recordings."""
    measured = recordings or Recordings()

    def attempt(stretch: Stretch) -> Planned:
        return lay_out(script, Layout(script.audio.sample_rate, clip_lengths, measured, stretch))

    first = attempt(Stretch())
    timeline = first.timeline if script.length is None else fit_length(script, first, attempt)
    check_track_length(timeline.duration, script.display)
    return timeline


def lay_out(script: Script, layout: Layout) -> Planned:
    """Place the whole script (lead-in, steps, closing silence) on the layout, and the timeline it makes."""
    layout.silence(script.finish.lead_in)
    plan_steps(layout, script.steps)
    layout.pending_chapters.clear()
    layout.silence(script.finish.fade_out + layout.stretch.extra_tail / layout.rate)
    if layout.problems:
        raise ScriptError(layout.problems)
    return Planned(layout, finished(script, layout))


def plan_steps(layout: Layout, steps) -> None:
    """Place steps one after the other, each by its kind's entry in PLANNERS."""
    for step in steps:
        PLANNERS[type(step)](layout, step)


def plan_say(layout: Layout, say: Say) -> None:
    """Speak a text sentence by sentence (or play its recording), with the pace's gaps between."""
    if say.recording is not None:
        _recorded(layout, say)
        return
    for piece in say.pieces:
        if isinstance(piece, Sentence):
            if piece.joined and layout.pending_gap:
                layout.pending_gap = min(layout.pending_gap, JOINED_GAP)
            layout.begin(replaces_gap=False)
            event = layout.clip_event(piece.text, say.voice, layout.now, say.location)
            layout.events.append(event)
            layout.now = event.end
            layout.pending_gap = say.pace.sentence_gap
        elif isinstance(piece, TextPause):
            layout.pause(piece.seconds, say.location)
        elif isinstance(piece, ParagraphBreak):
            layout.pending_gap = say.pace.paragraph_gap
    if say.pieces and isinstance(say.pieces[-1], Sentence):
        layout.pending_gap = say.pace.paragraph_gap


def _recorded(layout: Layout, say: Say) -> None:
    """A therapist's recording of the whole text, matched in loudness to the synthesized voice."""
    assert say.recording is not None
    layout.begin(replaces_gap=False)
    length, gain_db = layout.recordings.voice[say.recording]
    sound = RecordingSound(str(say.recording), gain_db)
    layout.events.append(Event("speech", layout.now, layout.now + length, say.text, location=say.location,
                               sound=sound))
    layout.now += length
    layout.pending_gap = say.pace.paragraph_gap


def plan_bell(layout: Layout, step: Bell) -> None:
    """Strike a bell; the step lasts until the last strike has rung out."""
    layout.begin(replaces_gap=False)
    if step.ring is not None:
        ring = step.ring
    elif step.sound is not None:
        ring = layout.recordings.bells[step.sound]
    else:
        ring = natural_ring_seconds()
    start = layout.now
    sound = BellSound(file=str(step.sound) if step.sound else "")
    for strike in range(step.strikes):
        at = start + layout.samples(strike * step.gap)
        layout.events.append(Event("bell", at, at + layout.samples(ring), sound=sound, location=step.location))
    layout.now = start + layout.samples((step.strikes - 1) * step.gap + ring)
    layout.pending_gap = 0.0


def plan_repeat(layout: Layout, step: Repeat) -> None:
    """The repeated steps, `count` times."""
    for _ in range(step.count):
        plan_steps(layout, step.steps)


PLANNERS: dict[type, Callable] = {
    Say: plan_say,
    Pause: lambda layout, step: layout.pause(step.seconds, step.location),
    Chapter: lambda layout, step: layout.pending_chapters.append(step.title),
    Repeat: plan_repeat,
    Include: lambda layout, step: plan_steps(layout, step.steps),
    Breathe: plan_breathe,
    Bell: plan_bell,
}
"""How each step kind is placed on the timeline: a function (layout, step)."""


def finished(script: Script, layout: Layout) -> Timeline:
    """The timeline of a laid-out script, once it is within the track limit and its last ring has died."""
    rate = layout.rate
    limit = script.max_track_seconds
    if limit and layout.now > limit * rate:
        crossing = next(e for e in layout.events if e.end > limit * rate)
        raise ScriptError([Problem(crossing.location or Location(script.display, 1, 1),
                                   f"the track would last over the limit of {clock(limit, 'always')} "
                                   "(MEDITATE_MAX_TRACK_SECONDS)")])
    overhang = max((e.end for e in layout.events), default=0) - layout.now
    if overhang > 0:  # a ring that outlasts the last step: the track lasts until it has died away
        layout.silence(overhang / rate)
    events = tuple(sorted(layout.events, key=lambda e: e.start))
    return Timeline(script.title, rate, layout.now, events, _chapters(layout))


def _chapters(layout: Layout) -> tuple[ChapterMark, ...]:
    starts: list[tuple[str, int]] = []
    for title, start in layout.chapter_starts:
        if starts and starts[-1][1] == start:
            starts.pop()  # an empty chapter is replaced by the one that follows it
        starts.append((title, start))
    if starts and starts[0][1] > 0 and not any(e.audible and e.start < starts[0][1] for e in layout.events):
        starts[0] = (starts[0][0], 0)  # nothing is heard before the first chapter: start it at 0
    ends = [start for _, start in starts[1:]] + [layout.now]
    spans = zip(starts, ends, strict=False)  # no chapter: one end, no start
    return tuple(ChapterMark(title, start, end) for (title, start), end in spans if end > start)
