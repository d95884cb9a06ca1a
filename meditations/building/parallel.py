"""The parallel part of a build: one shared synthesis pass, then a track render per task, on an executor
(executors.py): the local spawn pool, or a Dask cluster.

Locally, each worker records its track in the journal as the track goes into place (journal.py), so nothing
finished is lost to an interruption. On a cluster, workers send the track's bytes back and this process
checks and places them (placing.py), journal first, the same way. On Ctrl-C, SIGTERM or SIGHUP the local
workers are stopped with SIGTERM (each unwinds its track) and reaped; a cluster's tasks are cancelled.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from meditations.files import FolderMoved, Interrupted, working
from meditations.model import MeditateError, as_failure
from meditations.speaking import SpeechEngine, clip_cache, resolve_voices

from .clips import speech_requests
from .executors import worker_name
from .placing import place
from .remote import render_job, synthesize_batch, track_job
from .tracks import ensure_loaded, render_track

MIN_BATCH = 64  # clips: a batch starts a speech engine on its worker (a Piper voice: 2 s or more)
IN_FLIGHT_PER_WORKER = 2  # track jobs in flight per cluster worker thread: one running, one ready


def _local_task(track, voices, out_dir: Path):
    with working():
        try:
            return render_track(track, voices, out_dir), None, worker_name()
        except Exception as exc:  # noqa: BLE001 - reported with the track
            return None, as_failure(track.script, exc), worker_name()


def _remote_task(job):
    return render_job(job)


def presynthesize(tracks, executor, progress=None):
    """Synthesize every clip the tracks need, once, before rendering: a phrase shared by many tracks (a
    common opening, every client's practice) is made one time. Locally by a speech pool of all cores; on a
    cluster in batches spread over its workers, each clip then stored in this machine's cache.
    progress(done, total) follows it. Returns the voice list and each track's clip keys (by id)."""

    with SpeechEngine(workers=executor.jobs) as engine:
        voices = engine.voices()
        requests, needs = {}, {}
        for track in tracks:
            try:
                script = ensure_loaded(track)
                wanted = speech_requests(script, resolve_voices(script, voices))
            except MeditateError:
                continue  # reported when the track itself is rendered
            requests.update(wanted)
            needs[id(track)] = [r.key() for r in wanted]
        if not executor.remote:
            engine.synthesize(requests, progress)
            return voices, needs
    cache = clip_cache()
    missing = [r for r in requests if not cache.has(r.key())]
    _synthesize_remotely(missing, voices, executor, progress or _quiet)
    return voices, needs


def _quiet(*_progress) -> None:
    """Progress nobody follows."""


def _synthesize_remotely(missing, voices, executor, progress) -> None:
    if not missing:
        return
    cache = clip_cache()
    batches = synthesis_batches(missing, executor.slots())
    progress(0, len(missing))
    done = 0
    running = {executor.submit(synthesize_batch, batch, voices) for batch in batches}
    while running:
        finished = executor.first_done(running)
        running -= finished  # a batch's clips are held on its worker until its result is read and dropped
        for future in finished:
            done += _store_batch(future, cache)
        progress(min(done, len(missing)), len(missing))


def synthesis_batches(missing: list, slots: int) -> list[list]:
    """The clips to make, in batches for `slots` worker threads: one batch each, and up to four each when
    there are enough clips (so the workers finish together), never batches much under MIN_BATCH (each starts
    a speech engine); the count a multiple of the slots, so no worker is left with an extra batch."""
    count = min(len(missing), slots * min(4, max(1, len(missing) // (MIN_BATCH * slots))))
    size = -(-len(missing) // count)
    return [missing[i:i + size] for i in range(0, len(missing), size)]


def _store_batch(future, cache) -> int:
    """Put a finished batch's clips into this machine's cache; how many it made."""
    try:
        made, _ = future.result()
    except Exception:  # noqa: BLE001 - a batch lost (its workers died): each track's render makes its clips
        return 0
    for key, payload in made.items():
        if not cache.has(key):  # (a cache the workers share holds them already)
            cache.put(key, payload)
    return len(made)


def build_tracks(tracks, executor, progress: Callable) -> None:
    """Render the given tracks on the executor, longest first (by their `estimate`); each ends with its
    `record` (its manifest entry) or its `error` set. Progress hears the events tracks.Progress lists."""
    if not tracks:
        return
    ordered = sorted(tracks, key=lambda track: track.estimate, reverse=True)  # the workers finish together
    for track in ordered:
        progress("start", track)
    voices, needs = presynthesize(tracks, executor, lambda done, total: progress("speech", (done, total)))
    progress("workers", executor.jobs)
    try:
        for future, track in _submitted(ordered, executor, voices, needs, progress):
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - its workers kept dying (Dask gave up): this track fails
                failure = as_failure(track.script, exc)
                outcome = (None, failure) if executor.remote else (None, failure, "")
            _finish(track, outcome, executor.remote)
            _stop_if_moved(track)
            progress("done", track)
    except (Interrupted, FolderMoved):
        executor.stop()
        raise


def _stop_if_moved(track) -> None:
    """Raise FolderMoved when the track's output folder is no longer where the build took it: the build stops
    there (its other tracks would fail the same way), with that one error."""
    if isinstance(track.error, FolderMoved):
        raise track.error
    if track.folder is not None:
        track.folder.check()


def _submitted(ordered, executor, voices, needs, progress):
    """Submit each track's render and yield (future, track) as each completes. A cluster's track jobs carry
    the track's sources and clips (megabytes each), so only a few per worker are packed and in flight at a
    time: a clinic's thousands of tracks never sit in this process's (or the scheduler's) memory at once."""

    running: dict = {}
    waiting = list(reversed(ordered))
    window = len(ordered)
    while waiting or running:
        if executor.remote and waiting:  # asked again each time: workers may come and go
            window = executor.slots() * IN_FLIGHT_PER_WORKER
        while waiting and len(running) < window:
            track = waiting.pop()
            try:
                script = ensure_loaded(track)
                if executor.remote:
                    future = executor.submit(_remote_task, track_job(track, script, needs.get(id(track), ())))
                else:
                    future = executor.submit(_local_task, track, voices, track.out_dir)
            except MeditateError as exc:
                track.error = exc
                progress("done", track)
                continue
            running[future] = track
        if running:
            for future in executor.first_done(running):
                yield future, running.pop(future)


def _finish(track, outcome, remote: bool) -> None:
    if remote:
        rendered, error = outcome
        if rendered is not None:
            track.worker = rendered.worker
            try:
                track.record = place(track, rendered)
            except MeditateError as exc:
                error = exc
    else:
        track.record, error, track.worker = outcome
    if error is not None:
        track.error = error
        track.record = {}
