"""Render part of a script while writing it: some of its steps, or one chapter."""

from __future__ import annotations

import re
from dataclasses import replace

from meditations.model import Chapter, Include, RenderError, Script, walk

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")
PREVIEW_LEAD_IN = 0.5


def parse_step_ranges(spec: str, count: int) -> list[int]:
    """1-based step numbers from '3', '3-5' or '1,4-6' (checked against the script's step count)."""
    numbers: list[int] = []
    for part in spec.split(","):
        match = _RANGE.match(part)
        if not match:
            raise RenderError(f"--steps {spec}: write step numbers like 3, 3-5 or 1,4-6")
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last < first or last > count:
            raise RenderError(f"--steps {spec}: the script has steps 1 to {count}")
        numbers.extend(range(first, last + 1))
    return sorted(set(numbers))


def select_steps(script: Script, spec: str) -> Script:
    """The script with only the top-level steps named by spec (an include counts as one step)."""
    chosen = parse_step_ranges(spec, len(script.steps))
    steps = tuple(script.steps[n - 1] for n in chosen)
    return _preview(script, steps)


def _flatten_includes(steps) -> list:
    """The steps with every include opened in place (a repeat stays one step)."""
    return list(walk(steps, opens=lambda step: isinstance(step, Include)))


def chapter_titles(script: Script) -> list[str]:
    """The titles of the chapters that start at the top level (includes opened)."""
    return [s.title for s in _flatten_includes(script.steps) if isinstance(s, Chapter)]


def select_chapter(script: Script, title: str) -> Script:
    """The script with only the steps of one chapter: from its chapter step to the next one."""
    steps = _flatten_includes(script.steps)
    wanted = title.strip().lower()
    starts = [i for i, s in enumerate(steps) if isinstance(s, Chapter) and s.title.lower() == wanted]
    if not starts:
        known = ", ".join(f"'{t}'" for t in chapter_titles(script)) or "none"
        raise RenderError(f"--chapter '{title}': no chapter of that name (chapters: {known})")
    start = starts[0]
    end = next((i for i in range(start + 1, len(steps)) if isinstance(steps[i], Chapter)), len(steps))
    return _preview(script, tuple(steps[start:end]))


def _preview(script: Script, steps: tuple) -> Script:
    finish = replace(script.finish, lead_in=min(script.finish.lead_in, PREVIEW_LEAD_IN))
    return replace(script, steps=steps, length=None, finish=finish)


def preview_suffix(steps: str | None, chapter: str | None) -> str:
    """The file-name suffix of a preview, so that it never overwrites the full track."""
    if steps:
        return "-steps-" + re.sub(r"[^0-9]+", "-", steps).strip("-")
    if chapter:
        return "-chapter-" + (re.sub(r"[^a-z0-9]+", "-", chapter.lower()).strip("-") or "x")
    return ""
