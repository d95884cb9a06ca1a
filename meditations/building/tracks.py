"""One track of a build: what the build knows and decides about it, and its work (load, render, the
manifest entry recorded as it goes into place). The library, the pool and the cluster jobs all use it."""

from __future__ import annotations


from collections.abc import Callable
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

from meditations.files import OutputFolder
from meditations.loading import Settings, load, settings_key
from meditations.model import MeditateError
from meditations.speaking import SpeechEngine

from .fingerprint import relative_name
from .journal import record_finished
from .manifest import sealed
from .track import render


@dataclass
class Track:
    """One script of the library and what the build decides about it."""

    script: Path
    output: Path
    relative: str  # the output's path inside OUT_DIR, with / separators
    settings: Settings
    fingerprint: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # path -> sha256 of its bytes
    lookups: dict[str, str | None] = field(default_factory=dict)  # path looked up -> where it led (None: nothing)
    reason: str = ""  # why it must be built ("" when up to date)
    estimate: float = 0.0  # seconds it will last, roughly: longest tracks are started first; progress weighs by it
    error: MeditateError | None = None  # why it failed; the command line says it
    found: str = ""  # what checking its track found wrong (it is rebuilt)
    record: dict = field(default_factory=dict)  # its manifest entry once built
    out_dir: Path = Path()  # the output folder it belongs to (a client's, with --profiles)
    label: str = ""  # how progress names it: its file, under the client's folder with --profiles
    worker: str = ""  # who built it
    loaded: object = field(default=None, repr=False, compare=False)  # its Script, once loaded (loaded once)
    folder: OutputFolder | None = None  # out_dir as the build took it (its lock): the track goes nowhere else

    @property
    def display(self) -> str:
        """The track as progress lines name it."""
        return self.label or self.relative


# What a build tells its progress, as (event, payload): ("start", track) for each track to render, in the
# order the workers take them, before any speech is made; ("speech", (done, total)) as the sentences not yet
# in the cache are made; ("workers", count) when the renders begin, `count` at a time; ("done", track) as
# each track finishes or fails (a failure found before rendering too).
Progress = Callable[[str, Any], None]


def load_track(track: Track):
    """The track's script, loaded with the build's settings."""
    return load(track.script, track.settings)


def ensure_loaded(track: Track):
    """The track's script, loaded once per build (kept on the track, and sent with it to a local worker)."""
    if track.loaded is None:
        track.loaded = load_track(track)
    return track.loaded


def render_track(track: Track, voices, out_dir: Path) -> dict:
    """Render one track (in a worker process); returns its manifest entry, which is also recorded in the
    journal just before the track goes into place. Raises MeditateError."""
    with SpeechEngine(workers=1, voices=voices) as engine:
        result = render(ensure_loaded(track), track.output, engine, fingerprint=track.fingerprint,
                        placing=lambda result: _record(out_dir, entry_for(track, result)), root=track.folder)
    return entry_for(track, result)


def _record(out_dir: Path, entry: dict) -> None:
    record_finished(out_dir, entry)


def entry_for(track: Track, result) -> dict:
    """The track's manifest entry, from its render's result, with its digest."""
    script, rate = result.script, result.timeline.sample_rate
    return sealed({
        "title": script.title, "description": script.description, "file": track.relative,
        "script": relative_name(track.script, track.out_dir), "duration": round(result.timeline.duration, 3),
        "chapters": [c.to_json(rate) for c in result.timeline.chapters], "fingerprint": track.fingerprint,
        "sources": dict(sorted(track.sources.items())), "lookups": dict(sorted(track.lookups.items())),
        "settings": settings_key(track.settings), "size": result.size, "sha256": result.sha256,
        "transcript": Path(track.relative).with_suffix(".vtt").as_posix(),
        "transcript_sha256": result.transcript_sha256,
    })
