"""Reading OUT_DIR/library.json defensively: a damaged or hand-edited manifest never crashes a build.

An entry the build and the publishing step cannot use as it is (not a mapping, a file name that is not a
plain path inside the output folder, numbers that are not numbers, sources that are not a mapping of
names to hashes) is dropped: its track is then built again, as a new one, and the manifest rewritten.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath

from .containment import name_problem

_TEXTS = ("title", "description", "script", "fingerprint", "settings", "transcript")


def read_manifest(path: Path) -> dict:
    """The manifest with only its well-formed track entries ({} when missing or not a JSON object)."""
    from .library import read_json

    data = read_json(path)
    tracks = data.get("tracks")
    data["tracks"] = [entry for entry in tracks if well_formed(entry)] if isinstance(tracks, list) else []
    return data


def well_formed(entry) -> bool:
    """Whether a manifest entry has the shape meditate writes."""
    if not isinstance(entry, dict):
        return False
    name = entry.get("file")
    if not isinstance(name, str) or not name or name_problem(name) is not None:
        return False
    parts = PurePosixPath(name).parts
    if PurePosixPath(name).is_absolute() or ".." in parts or "\\" in name:
        return False
    if any(key in entry and not isinstance(entry[key], str) for key in _TEXTS):
        return False
    if "duration" in entry and not _finite(entry["duration"]):
        return False
    if "size" in entry and not (isinstance(entry["size"], int) and not isinstance(entry["size"], bool)):
        return False
    sources = entry.get("sources", {})
    if not isinstance(sources, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in sources.items()):
        return False
    chapters = entry.get("chapters", [])
    return isinstance(chapters, list) and all(isinstance(c, dict) and _finite(c.get("start", 0)) for c in chapters)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
