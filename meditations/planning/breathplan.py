"""Planning a breathe step: whole cycles of its pattern, each phase cued by voice, count, tone or bell."""

from __future__ import annotations

from meditations.audio import BellSound, ToneSound, natural_ring_seconds
from meditations.model import Breathe, Event, Problem

from .layout import Layout

TONE_LOW_HZ = 196.0
TONE_HIGH_HZ = 294.0
CUE_BELL_HZ = 523.0


def plan_breathe(layout: Layout, step: Breathe) -> None:
    """Place a breathe step's phases (and their cues), each timed from the step's start: no drift, ever."""
    layout.begin(replaces_gap=False)
    pattern = step.pattern
    cycle = pattern.cycle_seconds
    if step.cycles is not None:
        cycles = step.cycles
    else:  # a breathe step has cycles or a duration
        cycles = max(1, int((step.duration or 0.0) * layout.stretch.breathing / cycle + 1e-9))
    start, offset = layout.now, 0.0
    for _ in range(cycles):
        for phase in pattern.phases:
            phase_start = start + layout.samples(offset)
            offset += phase.seconds
            phase_end = start + layout.samples(offset)
            layout.events.append(Event("breath", phase_start, phase_end, dict(step.words)[phase.word],
                                       phase=phase.phase, location=step.location))
            _cue(layout, step, phase, phase_start, phase_end)
    layout.now = start + layout.samples(offset)
    if step.cycles is None:
        layout.flexible_breathing += layout.now - start
        layout.shortest_breathing += layout.samples(cycle)
    layout.pending_gap = 0.0


def _cue(layout: Layout, step: Breathe, phase, start: int, end: int) -> None:
    if step.cue == "voice":
        _timed_clip(layout, step, dict(step.words)[phase.word], start, end, phase.word)
    elif step.cue == "count":
        for second in range(int(phase.seconds + 1e-9)):
            at = start + layout.samples(second)
            _timed_clip(layout, step, str(second + 1), at, min(end, at + layout.rate), phase.phase)
    elif step.cue == "tone":
        low, high = TONE_LOW_HZ, TONE_HIGH_HZ
        glide = {"in": (low, high), "out": (high, low)}.get(phase.phase)
        if phase.word == "in_again":
            glide = (high, high * 1.12)
        if glide is None:  # a hold stays where the breath left it
            glide = (high, high) if _after_in(step, phase) else (low, low)
        layout.events.append(Event("tone", start, end, sound=ToneSound(*glide), location=step.location))
    elif step.cue == "bell":
        ring = min(layout.samples(natural_ring_seconds()), end - start + layout.samples(1.5))
        layout.events.append(Event("bell", start, start + ring, sound=BellSound(pitch=CUE_BELL_HZ, gain_db=-14.0),
                                   location=step.location))


def _after_in(step: Breathe, phase) -> bool:
    phases = step.pattern.phases
    index = phases.index(phase)
    return index > 0 and phases[index - 1].phase == "in"


def _timed_clip(layout: Layout, step: Breathe, text: str, start: int, end: int, phase: str) -> None:
    event = layout.clip_event(text, step.voice, start, step.location)
    if event.end > end:
        rate = layout.rate
        over = (event.end - end) / rate
        room = (end - start) / rate
        layout.problems.append(Problem(step.location, f"the '{phase}' cue \"{text}\" takes "
                                       f"{(event.end - start) / rate:.2f} s, {over:.2f} s longer than its "
                                       f"{room:g} s {'second' if step.cue == 'count' else 'phase'}: use shorter "
                                       "words, a faster voice rate, or cue: tone"))
    layout.events.append(event)
