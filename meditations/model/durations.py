"""Durations as therapists write them: 500ms, 5s, 1.5s, 2m, 1m30s, 1h, or a bare number of seconds."""

from __future__ import annotations

import math
import re

from .errors import excerpt

_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_ORDER = ["h", "m", "s", "ms"]
_NUMBER = re.compile(r"\d+(\.\d+)?\Z")
_CLOCK = re.compile(r"(?:(\d+):)?(\d+):([0-5]\d(?:\.\d+)?)\Z")  # m:ss or h:mm:ss


def parse_duration(value) -> float:
    """Seconds in a duration value; raises ValueError with a message a therapist can act on."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"expected a duration such as 5s, 1m30s or 500ms, got {_show(value)}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"expected a duration such as 5s, 1m30s or 500ms, got {excerpt(str(value))}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as 5s, 1m30s or 500ms, got {_show(value)}")
    text = value.strip().lower().replace(" ", "")
    if text.startswith("-") and len(text) > 1 and text[1:2] != "-":
        return -parse_duration(text[1:])
    if _NUMBER.match(text):
        return float(text)
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.group(1) or 0, clock.group(2), clock.group(3)
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    seconds, position, last_unit = 0.0, 0, -1
    for match in _PART.finditer(text):
        unit_rank = _ORDER.index(match.group(2))
        if match.start() != position or unit_rank <= last_unit:
            break
        seconds += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position, last_unit = match.end(), unit_rank
    if position != len(text) or not text:
        raise ValueError(f"'{excerpt(str(value))}' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h")
    return seconds

def _show(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)
