"""Each finished track is recorded as it goes into place, so an interrupted build (Ctrl-C, SIGTERM,
SIGKILL, a full disk, a power cut) never makes it again.

Once a track is encoded and checked, and just before it is renamed into place, its build worker appends
its manifest entry (with the file's SHA-256) as one JSON line to OUT_DIR/.meditate-journal.jsonl
(O_APPEND: lines from several workers never interleave; fsync'd). Killed between the two, the entry
names a file that is not there (or not with that hash), so the next build makes it again, as it must.
The next build reads library.json with the journal's entries laid over it; a build that completes
writes library.json and removes the journal. A line cut short by a crash is ignored.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from meditations.files import foreign, is_regular_file, open_in_place, read_checked
from meditations.model import Location, ScriptError

from .records import parse_record

JOURNAL = ".meditate-journal.jsonl"


def record_finished(out_dir: Path, entry: dict) -> bool:
    """Append a finished track's entry; False when it could not be written (the disk is full, say)."""
    # The leading newline ends any line a crash cut short, so that this one is read on its own.
    line = ("\n" + json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    try:  # never through a link, nor into a file with another name (a hard link): never another file
        fd = open_in_place(out_dir / JOURNAL, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    except OSError:
        return False
    try:
        written = os.write(fd, line)  # one write: appended whole, or (disk full) cut short and ignored later
        os.fsync(fd)
        return written == len(line)
    except OSError:
        return False
    finally:
        os.close(fd)


def finished_entries(out_dir: Path) -> list[dict]:
    """The entries recorded since library.json was last written, oldest first."""

    if foreign(out_dir / JOURNAL) or not is_regular_file(out_dir / JOURNAL):  # a FIFO or a link is never read
        return []
    try:  # a journal over its limit is not read
        text = read_checked(out_dir / JOURNAL, "manifest", Location(JOURNAL, 1, 1)).decode("utf-8", errors="replace")
    except ScriptError:  # unusable: its tracks are checked again, as if never recorded
        return []
    entries = []
    for line in text.splitlines():
        entry = parse_record(line) if line.strip() else None  # a damaged line is skipped, the others read
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            entries.append(entry)
    return entries


def with_finished(manifest: dict, entries: list[dict]) -> dict:
    """The manifest with the journal's entries replacing (or adding) the tracks they name."""
    if not entries:
        return manifest
    tracks = {t.get("file"): t for t in manifest.get("tracks", []) if isinstance(t, dict)}
    for entry in entries:
        tracks[entry["file"]] = entry
    return {**manifest, "tracks": list(tracks.values())}


def remove_foreign(out_dir: Path) -> None:
    """Remove what a build cannot have made at the journal's name (a link, a FIFO, a file with another name),
    so that the build's workers make a journal of their own there (the other file is not changed)."""
    if foreign(out_dir / JOURNAL):
        clear(out_dir)


def clear(out_dir: Path) -> None:
    """Forget the journal once library.json holds everything in it."""
    with contextlib.suppress(OSError):
        os.unlink(out_dir / JOURNAL)
