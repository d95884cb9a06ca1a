"""tracks.zip: one client's MP3s and transcripts in a single download, the same bytes for the same set.

Entries are stored, not deflated (MP3 frames do not compress, and a phone unzips a stored file fastest), in
sorted order, each with one fixed time and mode, so nothing about when or where the set was built reaches
the file, and it is rewritten only when a track or transcript changed."""

from __future__ import annotations

import filecmp
import os
import shutil
import zipfile
from pathlib import Path

from meditations.files import Temporary, is_regular_file, umask
from meditations.model import RenderError

from .common import transcript_path

# the earliest time a zip entry can carry: a fixed one, so the file's bytes are the set's alone
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def archive_names(out_dir: Path, tracks: list[dict]) -> list[str]:
    """The relative paths the archive holds: each track's MP3 and its transcript when there is one, sorted."""
    names = set()
    for record in tracks:
        names.add(record["file"])
        transcript = transcript_path(out_dir, record)
        if transcript is not None:
            names.add(transcript)
    return sorted(names)


def write_archive(out_dir: Path, names: list[str], target: Path) -> bool:
    """Write the stored zip of out_dir's files `names` to target, unless target already holds exactly these
    bytes (the zip goes to a temporary file beside it first, put in place only when it differs); True if
    written. A failure to write is a RenderError naming the file."""
    try:
        with Temporary(target) as temporary:
            with os.fdopen(os.dup(temporary.fd), "w+b") as handle:
                write_zip(handle, out_dir, names)
                handle.flush()
                os.fsync(handle.fileno())
            if is_regular_file(target) and filecmp.cmp(target, temporary.path, shallow=False):
                return False
            os.fchmod(temporary.fd, 0o666 & ~umask())  # made 0600: the folder's host must serve it like a track
            temporary.place()
            return True
    except OSError as exc:
        raise RenderError(f"cannot write {target}: {exc.strerror or exc}") from None


def write_zip(handle, out_dir: Path, names: list[str]) -> None:
    """A zip of the files into an open, seekable binary file: stored entries, in the given order, with a fixed
    time and mode (so the same files always give the same bytes)."""
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        for name in names:
            path = out_dir / name
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)  # stored, as a ZipInfo is unless told otherwise
            info.create_system = 3  # Unix, wherever it is made, so the mode below is read
            info.external_attr = 0o100644 << 16  # a regular file anyone may read
            info.file_size = path.stat().st_size  # lets zipfile choose the zip64 form only for a huge file
            with path.open("rb") as source, archive.open(info, "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)
