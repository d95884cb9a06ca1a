"""The build's own JSON files (library.json, its journal, the stat cache), read defensively: whatever they hold,
reading them never stops a build. A file that is missing, not a regular file, over its size limit
(MEDITATE_MAX_MANIFEST_BYTES), not UTF-8 or not JSON, or nested deeper than the parser can follow, reads as
nothing; what it recorded is then checked or built again."""

from __future__ import annotations

import json
from pathlib import Path

from meditations.files import read_checked
from meditations.model import Location, ScriptError


def read_record_text(path: Path) -> str | None:
    """The text of one of the build's files; None when it cannot be read as UTF-8 within its limit."""
    try:
        return read_checked(path, "manifest", Location(str(path), 1, 1)).decode("utf-8")
    except (ScriptError, ValueError):
        return None


def parse_record(text: str):
    """The JSON value of a text, or None when it is not JSON a build can use (damaged, or nested so deep
    that reading it would exhaust the stack or the memory)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError, MemoryError):
        return None
