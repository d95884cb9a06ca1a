"""Times as people and file formats write them: the one place that turns seconds into h:mm:ss forms (durations.py
reads them)."""

from __future__ import annotations

from typing import Literal


def whole_seconds(seconds: float) -> int:
    """Seconds rounded half up to a whole number."""
    return int(float(seconds) + 0.5)


def clock(seconds: float, hours: Literal["when-needed", "always", "two-digit"] = "when-needed",
          millis: bool = False) -> str:
    """A time as m:ss, h:mm:ss or hh:mm:ss, in whole seconds cut down (as players show times), or with `millis`
    rounded to the millisecond and followed by .mmm.

    hours: "when-needed" (m:ss below an hour, h:mm:ss from one), "always" (h:mm:ss) or "two-digit" (hh:mm:ss)."""
    if millis:
        whole, fraction = divmod(int(round(seconds * 1000)), 1000)
        tail = f".{fraction:03d}"
    else:
        whole, tail = int(float(seconds)), ""
    hour, rest = divmod(whole, 3600)
    minute, second = divmod(rest, 60)
    if hours == "two-digit":
        return f"{hour:02d}:{minute:02d}:{second:02d}{tail}"
    if hours == "always" or hour:
        return f"{hour}:{minute:02d}:{second:02d}{tail}"
    return f"{minute}:{second:02d}{tail}"


def format_duration(seconds: float) -> str:
    """A human reading of a length: 0:07.25, 12:03.50, 1:02:03.00."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 1:
        return f"{sign}{int(hours)}:{int(minutes):02d}:{secs:05.2f}"
    return f"{sign}{int(minutes)}:{secs:05.2f}"
