"""The one walk over a script's steps, and what each step kind speaks and whether it is heard.

A step that holds other steps (a repeat, an include: anything with a `steps` field) is opened in place.
Planning has its own dispatch, one entry per step kind (planner.PLANNERS); this module is what every
other pass over steps (voices, synthesis, preview, validation) shares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .errors import Location
from .script import Breathe, Chapter, Say, Script, Sentence, VoiceSettings

Spoken = tuple[str, VoiceSettings, Location]


def inner_steps(step) -> tuple | None:
    """The steps a container step holds (a repeat's, an include's), or None for any other step."""
    return getattr(step, "steps", None)


def walk(steps: Iterable, opens: Callable[[object], bool] | None = None) -> Iterator:
    """Every step in order, each container replaced by the steps it holds (only the containers `opens`
    accepts, if given)."""
    for step in steps:
        inner = inner_steps(step)
        if inner is not None and (opens is None or opens(step)):
            yield from walk(inner, opens)
        else:
            yield step


def cue_texts(step: Breathe) -> list[str]:
    """What a breathe step's cues speak: its phase words, or the seconds to count."""
    words = dict(step.words)
    if step.cue == "voice":
        return list(dict.fromkeys(words[p.word] for p in step.pattern.phases))
    if step.cue == "count":
        longest = int(max(p.seconds for p in step.pattern.phases) + 1e-9)
        return [str(n) for n in range(1, longest + 1)]
    return []


def _say_texts(step: Say) -> Iterator[Spoken]:
    if step.recording is None:
        for piece in step.pieces:
            if isinstance(piece, Sentence):
                yield piece.text, step.voice, step.location


def _cue_texts(step: Breathe) -> Iterator[Spoken]:
    for text in cue_texts(step):
        yield text, step.voice, step.location


SPEAKS: dict[type, Callable[..., Iterable[Spoken]]] = {Say: _say_texts, Breathe: _cue_texts}
"""What each step kind speaks with the synthesized voice (a kind not named here speaks nothing)."""

SILENT: set[type] = {Chapter}
"""The step kinds that take neither sound nor time of their own (every other kind is heard)."""


def spoken(script: Script) -> Iterator[Spoken]:
    """Every (text, voice settings, location) the script speaks: sentences and breathing cues."""
    for step in walk(script.steps):
        texts = SPEAKS.get(type(step))
        if texts is not None:
            yield from texts(step)


def heard(steps: Iterable) -> bool:
    """Whether any step makes sound or time (chapters alone do not)."""
    return any(type(step) not in SILENT for step in walk(steps))
