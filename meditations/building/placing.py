"""Placing a track rendered on a cluster worker: this process writes it, checked, into the output folder.

The MP3's bytes go to a locked temporary file beside the track; its SHA-256 and size must be those the
worker recorded and its frames must hold the planned duration (verify.check_mp3), or the track is an error
and nothing is replaced. Then, as a local worker does, its transcript is written atomically, its entry goes
into the journal and the file is renamed into place.
"""

from __future__ import annotations

import os

from meditations.encoding import TrackProblem, check_mp3
from meditations.files import make_temporary, remove_quietly, umask, write_atomic
from meditations.model import RenderError

from .journal import record_finished


def place(track, rendered) -> dict:
    """Check and write a worker's track (MP3 and transcript) into place; its manifest entry.
    Raises RenderError when the bytes are not the track the worker recorded."""

    entry = rendered.entry
    try:
        fd, temporary = make_temporary(track.output)
    except OSError as exc:
        raise RenderError(f"cannot write {track.output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(rendered.mp3)
            handle.flush()
            os.fsync(handle.fileno())
            try:
                facts = check_mp3(temporary, float(entry.get("duration", 0)))
            except TrackProblem as problem:
                raise RenderError(f"{track.output}: the track sent by {rendered.worker} failed its check: "
                                  f"{problem}") from None
            if facts.sha256 != entry.get("sha256") or len(rendered.mp3) != entry.get("size"):
                raise RenderError(f"{track.output}: the track sent by {rendered.worker} is not the one it made "
                                  "(its SHA-256 differs)")
            os.chmod(temporary, 0o666 & ~umask())  # mkstemp makes 0600; a track is an ordinary file
            write_atomic(track.output.with_suffix(".vtt"), rendered.vtt)  # a track in place has its transcript
            record_finished(track.out_dir, entry)
            os.replace(temporary, track.output)  # while still locked: no clean-up can take it meanwhile
    except OSError as exc:
        raise RenderError(f"cannot write {track.output}: {exc.strerror}") from None
    finally:
        remove_quietly(temporary)  # gone already when it was renamed into place
    return entry
