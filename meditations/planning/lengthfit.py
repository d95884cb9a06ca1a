"""Fitting a track to a `length:`: pauses and breathe-by-duration steps stretch or shrink by one factor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from meditations.model import (
    Location,
    MeditateError,
    Problem,
    RenderError,
    Script,
    ScriptError,
    Timeline,
    format_duration,
)

from .layout import Planned, Stretch


def fit_length(script: Script, first: Planned, attempt: Callable[[Stretch], Planned]) -> Timeline:
    """The timeline stretched to the script's length, from the unstretched attempt `first`; `attempt`
    plans the script again with other factors."""
    assert script.length is not None
    layout = first.layout
    rate = layout.rate
    target = int(round(script.length * rate))
    flexible = layout.flexible_pauses + layout.flexible_breathing
    fixed = layout.now - flexible
    shortest = fixed + layout.shortest_breathing
    where = script.length_location
    if flexible == 0:
        raise _length_problem(where, f"a length of {format_duration(script.length)} cannot be reached: nothing in "
                                     "this script stretches (add pause steps, or breathe steps with duration:)")
    if target <= shortest:
        raise _length_problem(where, f"a length of {format_duration(script.length)} is too short: the fixed parts "
                                     "(speech, bells, counted breaths) need at least "
                                     f"{format_duration(shortest / rate)}")
    factor = (target - fixed) / flexible
    second = attempt(Stretch(factor, factor))
    # Whole breathing cycles leave a remainder: the pauses take it up so the track lands on target,
    # or, where there are no pauses, the closing silence does.
    pause_factor = factor
    placed = second.layout
    if placed.flexible_pauses and placed.now != target:
        pause_factor = factor * (placed.flexible_pauses + target - placed.now) / placed.flexible_pauses
        if pause_factor > 0:
            second = attempt(Stretch(pause_factor, factor))
        else:
            pause_factor = factor
    if second.layout.now < target:
        second = attempt(Stretch(pause_factor, factor, extra_tail=target - second.layout.now))
    return replace(second.timeline, length_factor=pause_factor if layout.flexible_pauses else factor)


def _length_problem(where: Location | None, message: str) -> MeditateError:
    if where is None:  # the length came from the command line
        return RenderError(f"--length: {message}")
    return ScriptError([Problem(where, message)])
