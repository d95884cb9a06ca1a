"""OUT_DIR/library.json, the manifest of a built library: read defensively (a damaged or hand-edited
manifest never crashes a build), with the tracks an interrupted build finished laid over it (journal.py),
written deterministically, and used to prune tracks whose script is gone.

An entry the build and the publishing step cannot use as it is (not a mapping, a file name that is not a
plain path inside the output folder, numbers that are not numbers, sources that are not a mapping of
names to hashes) is dropped: its track is then built again, as a new one, and the manifest rewritten.

An entry that is well formed but not as the build wrote it (edited by hand: another title, duration or
chapters) is found by its digest, the SHA-256 of its other fields (the track's own SHA-256 among them):
its track is built again, and until then the page, playlist and feed leave it out. The digest is no
secret: it finds an entry changed by mistake or by a tool that does not know it, not one forged on purpose.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path, PurePosixPath

from meditations.encoding import read_fingerprint
from meditations.files import inside, name_problem, shown, write_atomic
from meditations.model import MeditateError
from meditations.version import __version__

from .journal import finished_entries, with_finished
from .records import parse_record, read_record_text

MANIFEST = "library.json"
_TEXTS = ("title", "description", "script", "fingerprint", "settings", "transcript")
DIGEST = "digest"
EDITED = "its manifest entry was changed outside meditate"
UNSEALED = "its manifest entry has no digest (an older meditate wrote it, or it was changed outside meditate)"


def entry_digest(entry: dict) -> str:
    """The SHA-256 of a manifest entry's fields but its digest and its settings key (which the manifest leaves
    out); "" when they cannot be written as JSON (an entry the build did not write)."""
    fields = {key: value for key, value in entry.items() if key not in (DIGEST, "settings")}
    try:
        text = json.dumps(fields, sort_keys=True)
    except (TypeError, ValueError, RecursionError):
        return ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sealed(entry: dict) -> dict:
    """A new entry with its digest."""
    return {**entry, DIGEST: entry_digest(entry)}


def entry_problem(entry: dict) -> str:
    """Why a manifest entry is not the one the build wrote ("" when it is)."""
    recorded = entry.get(DIGEST)
    if recorded is None:
        return UNSEALED
    return "" if recorded and recorded == entry_digest(entry) else EDITED


def published(manifest: dict) -> dict:
    """The manifest as the page, playlist and feed may show it: the entries the build wrote, as it wrote them."""
    return {**manifest, "tracks": [entry for entry in manifest.get("tracks", []) if not entry_problem(entry)]}


def read_json(path: Path) -> dict:
    """A JSON file's object, or {} when missing or damaged (see records.py: what it held is then rebuilt)."""
    text = read_record_text(path)  # a FIFO is refused unopened, a huge file unread
    data = parse_record(text) if text is not None else None
    return data if isinstance(data, dict) else {}


def read_manifest_file(path: Path) -> dict:
    """The manifest with only its well-formed track entries ({} when missing or not a JSON object)."""
    data = read_json(path)
    tracks = data.get("tracks")
    data["tracks"] = [entry for entry in tracks if well_formed(entry)] if isinstance(tracks, list) else []
    return data


def read_manifest(out_dir: Path) -> dict:
    """library.json (its well-formed entries) with the tracks finished since it was written (by an interrupted
    build) laid over it."""
    finished = [entry for entry in finished_entries(out_dir) if well_formed(entry)]
    return with_finished(read_manifest_file(out_dir / MANIFEST), finished)


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
    lookups = entry.get("lookups", {})
    if not isinstance(lookups, dict) or not all(isinstance(k, str) and isinstance(v, (str, type(None)))
                                                for k, v in lookups.items()):
        return False
    chapters = entry.get("chapters", [])
    return isinstance(chapters, list) and all(isinstance(c, dict) and _finite(c.get("start", 0)) for c in chapters)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def write_manifest(out_dir: Path, records: list[dict], owner: dict, nested: list[str]) -> None:
    """OUT_DIR/library.json: its owner (owners.py), the sub-folders other builds own, every track, sorted;
    nothing that changes between identical builds."""
    # "settings" is a digest of the settings a track was built with (never their values)
    data = {"tool": "meditate", "version": __version__, "owner": owner, "nested": nested,
            "tracks": sorted(records, key=lambda r: r["file"])}
    write_atomic(out_dir / MANIFEST, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def manifest_differs(manifest: dict, records: list[dict]) -> bool:
    """Whether the records name other tracks than the manifest does."""
    return sorted(str(e.get("file")) for e in manifest.get("tracks", [])) != sorted(str(r.get("file")) for r in records)


def prune(out_dir: Path, manifest: dict, keep: set[str]) -> list[str]:
    """Remove tracks this tool made whose script is gone (listed in the manifest and tagged by us)."""

    removed = []
    for entry in manifest.get("tracks", []):
        name = entry.get("file", "")
        path = inside(out_dir, name)  # never a path outside out_dir or through a link, whatever the manifest says
        if name in keep or path is None or entry_problem(entry):  # an edited entry never deletes anything
            continue
        if read_fingerprint(path) != entry.get("fingerprint"):
            continue  # not the file we made: never delete it
        transcript = inside(out_dir, PurePosixPath(name).with_suffix(".vtt").as_posix())  # made with the track
        for made in (path, transcript):
            try:
                if made is not None:
                    made.unlink()
            except OSError as exc:
                raise MeditateError(f"cannot remove {shown(made)}: {exc.strerror}") from None
        removed.append(name)
    return removed
