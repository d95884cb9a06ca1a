"""Text made plain for one line of a page, a feed or a transcript cue."""

from __future__ import annotations

import re


def one_line(text) -> str:
    """Text with every run of whitespace (newlines included) made one space, and no control characters."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", " ".join(str(text or "").split()))
