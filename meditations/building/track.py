"""The pipeline in one place: load -> plan -> synthesize (cached) -> mix -> encode + tag."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from meditations.encoding import (
    Segment,
    StreamCheck,
    Tags,
    cut_points,
    encode_mp3,
    quiet_stretches,
    segments,
    speech_spans,
    transcript_text,
)
from meditations.files import BlobCache, OutputFolder, Temporary, cache_root
from meditations.loading import load as load  # the pipeline's first stage, where callers look for it
from meditations.mixing import finished_blocks, measure
from meditations.model import RenderError, Script, Timeline
from meditations.speaking import SpeechEngine

from .clips import plan_with_speech


@dataclass(frozen=True)
class RenderResult:
    """What rendering one script produced."""

    script: Script
    path: Path
    timeline: Timeline
    size: int
    sha256: str = ""
    transcript_sha256: str = ""  # of the WebVTT transcript written beside the track


def track_tags(script: Script, timeline: Timeline | None = None) -> Tags:
    """The ID3 tags for a script's track (with its chapters once planned)."""
    chapters: tuple[tuple[str, int, int], ...] = ()
    if timeline is not None:
        rate = timeline.sample_rate
        chapters = tuple((c.title, round(c.start * 1000 / rate), round(c.end * 1000 / rate))
                         for c in timeline.chapters)
    return Tags(title=script.title, artist=script.author, album=script.album, genre=script.genre,
                comment=script.description, chapters=chapters, cover=str(script.cover or ""))


def transcript_path(track: Path) -> Path:
    """Where a track's WebVTT transcript goes: beside it, same name."""
    return track.with_suffix(".vtt")


def track_pieces(timeline: Timeline) -> list[Segment]:
    """The pieces a track is encoded in: cut in its pauses, about a minute each."""
    quiet = quiet_stretches(timeline.events, timeline.length)
    return segments(cut_points(quiet, timeline.length, timeline.sample_rate), timeline.length, timeline.sample_rate)


def render(script: Script, out_path: Path, engine: SpeechEngine, fingerprint: str = "",
           placing: Callable[[RenderResult], None] | None = None, root: OutputFolder | None = None,
           progress: Callable[[str, tuple], None] | None = None) -> RenderResult:
    """Render one script to an MP3, checked against its plan before it is renamed into place, its transcript
    put in place just before it (a track in place always has the transcript its entry records).
    `placing` is called with the result once the track is checked, just before it goes into place.
    `root`: the build's output folder, which the track and its transcript go into only while it is where
    the build took it (else FolderMoved). `progress`, if given, hears ("speech", (done, total)) as the
    sentences not yet in the cache are made, then ("audio", (seconds mixed, seconds in all)) block by block."""
    heard = progress or _unheard
    timeline = plan_with_speech(script, engine, lambda done, total: heard("speech", (done, total)))
    levels = measure(timeline, script.background, script.finish, script.audio)  # for the decoded track
    blocks = _told(finished_blocks(timeline, script.background, script.finish, levels), timeline, heard)
    audible = math.isfinite(levels.measured_lufs)  # pauses alone make a silent track, as planned
    check = StreamCheck(timeline.sample_rate, timeline.length,
                        (script.finish.loudness, levels.expected_lufs) if audible else None, speech_spans(timeline))
    tags = replace(track_tags(script, timeline), fingerprint=fingerprint)
    transcript = transcript_text(timeline).encode("utf-8")
    result = lambda encoded: RenderResult(script, out_path, timeline, encoded.size, encoded.sha256,  # noqa: E731
                                          hashlib.sha256(transcript).hexdigest())

    try:
        with Temporary(transcript_path(out_path), root) as written:
            written.write(transcript)

            def before_rename(encoded) -> None:
                written.place()
                if placing is not None:
                    placing(result(encoded))

            encoded = encode_mp3(blocks, script.audio, out_path, tags, track_pieces(timeline), check,
                                 before_rename=before_rename, cache=BlobCache(cache_root() / "mp3-pieces"),
                                 root=root)
    except OSError as exc:  # a read-only or full output folder: one line, never a traceback
        raise RenderError(f"cannot write {out_path}: {exc.strerror}") from None
    return result(encoded)


def _unheard(_event: str, _payload: tuple) -> None:
    """Progress nobody follows."""


def _told(blocks: Iterator, timeline: Timeline, progress: Callable[[str, tuple], None]) -> Iterator:
    """The blocks, each told to progress as seconds of the track mixed."""
    rate, mixed = timeline.sample_rate, 0
    for block in blocks:
        mixed += block.size  # (mono: the encoder makes the channels)
        progress("audio", (mixed / rate, timeline.length / rate))
        yield block
