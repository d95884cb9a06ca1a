"""Placing a track rendered on a cluster worker: this process writes it, checked, into the output folder.

The MP3's bytes go to a new, locked temporary file beside the track; its SHA-256 and size must be those the
worker recorded and its frames must hold the planned duration (verify.check_mp3), or the track is an error
and nothing is replaced. Then, as a local worker does, its transcript goes into place, its entry into the
journal, and the file is renamed into place (a track in place always has the transcript its entry records).
"""

from __future__ import annotations

from meditations.encoding import TrackProblem, check_mp3
from meditations.files import Temporary
from meditations.model import RenderError

from .journal import record_finished


def place(track, rendered) -> dict:
    """Check and write a worker's track (MP3 and transcript) into place; its manifest entry.
    Raises RenderError when the bytes are not the track the worker recorded (FolderMoved when the output
    folder is no longer where the build took it)."""

    try:
        with Temporary(track.output.with_suffix(".vtt"), track.folder) as transcript:
            transcript.write(rendered.vtt)
            with Temporary(track.output, track.folder) as temporary:
                _write_checked(temporary, transcript, track, rendered)
    except OSError as exc:
        raise RenderError(f"cannot write {track.output}: {exc.strerror}") from None
    return rendered.entry


def _write_checked(temporary: Temporary, transcript: Temporary, track, rendered) -> None:
    entry = rendered.entry
    temporary.write(rendered.mp3)
    try:
        facts = check_mp3(temporary.path, float(entry.get("duration", 0)))
    except TrackProblem as problem:
        temporary.check()  # a folder moved away is what to say: the file's path no longer leads to it
        raise RenderError(f"{track.output}: the track sent by {rendered.worker} failed its check: "
                          f"{problem}") from None
    if facts.sha256 != entry.get("sha256") or len(rendered.mp3) != entry.get("size"):
        raise RenderError(f"{track.output}: the track sent by {rendered.worker} is not the one it made "
                          "(its SHA-256 differs)")
    temporary.check()  # before it is recorded
    transcript.place()
    record_finished(track.out_dir, entry)
    temporary.place()  # while still locked: no clean-up can take it meanwhile
