"""Work sent to cluster workers, which may be other machines: they see none of the build's files.

A synthesis batch is a list of speech requests; the worker makes them in its own speech cache and returns
the clips' cache payloads (the build stores them in its cache). A track job carries the bytes of every
source file of the track ({path relative to their common folder: bytes}), the clips its speech needs, and
the Track itself; the worker lays the files out in a temporary folder of its own, renders there and returns
the MP3 and transcript bytes with the manifest entry. The build's own process checks the MP3 and writes
both atomically into the output folder (placing.py): the output never depends on a shared disk.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from meditations.model import MeditateError, as_failure, relocated
from meditations.speaking import SpeechEngine, clip_cache

from .executors import worker_name
from .track import render
from .tracks import entry_for, load_track


@dataclass(frozen=True)
class TrackJob:
    """Everything a worker needs to render one track."""

    track: Any  # tracks.Track, its paths those of the build machine
    root: str  # the build machine's folder that the file names below are relative to
    shown_root: str  # that folder as the build's messages show it (relative when the track's paths are)
    files: tuple[tuple[str, bytes], ...]  # the track's sources: (posix path under root, bytes)
    clips: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # (cache key, cached clip payload)


@dataclass(frozen=True)
class Rendered:
    """What a worker sends back for a track."""

    entry: dict
    mp3: bytes
    vtt: bytes
    worker: str


def track_job(track, script, clip_keys) -> TrackJob:
    """Pack a loaded track for a remote worker: its sources' bytes and the cached clips it needs."""

    paths = [Path(os.path.realpath(p)) for p in (track.script, *script.sources)]
    recordings = track.settings.recordings
    root = Path(os.path.commonpath([str(p.parent) for p in paths]
                                   + ([os.path.realpath(recordings)] if recordings else [])))
    files = {}
    for path in paths:
        try:
            files[path.relative_to(root).as_posix()] = path.read_bytes()
        except OSError as exc:
            raise MeditateError(f"cannot read {path}: {exc.strerror}") from None
    cache = clip_cache()
    clips = tuple((key, payload) for key in dict.fromkeys(clip_keys) if (payload := cache.get(key)) is not None)
    shown_root = str(root) if Path(track.script).is_absolute() else os.path.relpath(root)
    return TrackJob(track, str(root), shown_root, tuple(sorted(files.items())), clips)


def synthesize_batch(requests, voices) -> tuple[dict[str, bytes], str]:
    """(On a worker) make a batch of clips in this worker's speech cache; their payloads, and who made them."""

    _check_worker()
    requests = _local_models(list(requests))
    with SpeechEngine(workers=1, voices=voices if not _foreign(voices) else None) as engine:
        engine.synthesize(requests)  # a clip that fails is made (and reported) again by its track's render
    cache = clip_cache()
    made = {r.key(): payload for r in requests if (payload := cache.get(r.key())) is not None}
    return made, worker_name()


def render_job(job: TrackJob) -> tuple[Rendered | None, MeditateError | None]:
    """(On a worker) lay out the track's files in a temporary folder, render it there, return its bytes;
    or its error, with the build machine's paths in it."""

    track = job.track
    cache = clip_cache()
    for key, payload in job.clips:
        if not cache.has(key):
            cache.put(key, payload)
    with tempfile.TemporaryDirectory(prefix="meditate-worker-") as folder:
        here = Path(folder) / "files"
        for name, data in job.files:
            target = here / PurePosixPath(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        moved = _moved(track, Path(job.root), here, Path(folder) / "out")
        try:
            _check_worker()
            script = load_track(moved)
            with SpeechEngine(workers=1) as engine:
                result = render(script, moved.output, engine, fingerprint=track.fingerprint)
            mp3, vtt = moved.output.read_bytes(), moved.output.with_suffix(".vtt").read_bytes()
        except Exception as exc:  # noqa: BLE001 - reported with the track, like a local worker's
            return None, relocated(as_failure(track.script, exc), str(here), job.shown_root)
        return Rendered(entry_for(track, result), mp3, vtt, worker_name()), None


def _moved(track, root: Path, here: Path, out: Path):
    """The track with its script, recordings and output in the worker's folder."""
    def mapped(path) -> Path:
        return here / Path(os.path.realpath(path)).relative_to(root)

    recordings = track.settings.recordings
    settings = replace(track.settings, recordings=mapped(recordings) if recordings else None)
    return replace(track, script=mapped(track.script), output=out / track.relative, settings=settings, loaded=None)


def _check_worker() -> None:
    """Our tasks start processes (speech engines, the MP3 encoder): a daemonic worker process cannot."""

    if multiprocessing.current_process().daemon:
        raise MeditateError(f"the Dask worker {worker_name()} runs tasks in a daemonic process, which cannot start "
                            "the speech and encoder processes: start its workers with "
                            "DASK_DISTRIBUTED__WORKER__DAEMON=False (docs/scaling.md)")


def _foreign(voices) -> bool:
    """Whether a voice list names model files this machine does not have (it lists its own then)."""
    return any(v.model and not os.path.exists(v.model) for v in voices or ())


def _local_models(requests):
    """Requests whose Piper model file is where this machine has it (the same voice: its identity, and so
    the clip's cache key, does not change)."""
    if not any(r.model and not os.path.exists(r.model) for r in requests):
        return requests

    with SpeechEngine(workers=1) as engine:
        models = {(v.engine, v.id): v.model for v in engine.voices()}
    return [replace(r, model=models.get((r.engine, r.voice_id), r.model)) for r in requests]
