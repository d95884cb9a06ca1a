"""The parallel part of a build: one shared synthesis pass, then a spawn pool rendering a track each.

Each worker records its track in the journal as the track goes into place (journal.py), so nothing
finished is lost to an interruption. On Ctrl-C, SIGTERM or SIGHUP the parent stops every worker with
SIGTERM (each unwinds its track: encoder killed, temporary file removed, speech workers stopped), reaps
them, and only then lets the interruption go on (signals.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from .errors import MeditateError, UnexpectedError
from .signals import Interrupted, stop_processes, worker_initializer, working


def _worker(args):
    track, voices, out_dir = args
    from .library import render_track

    with working():
        try:
            record = render_track(track, voices, out_dir)
        except MeditateError as exc:  # handed back as it is (it pickles): cli.py says it
            return track.relative, None, exc
        except Exception as exc:  # a bug must cost one track, not the build; it is reported with the track
            return track.relative, None, UnexpectedError.of(track.script, exc)
        return track.relative, record, None


def presynthesize(tracks, jobs: int, progress=None):
    """Synthesize every clip the tracks need, once, before rendering: a phrase shared by many tracks (a
    common opening) is made one time, by all cores; progress(done, total) follows it. Returns the voice list
    for the workers."""
    from .library import load_track
    from .clips import speech_requests
    from .speech import SpeechEngine
    from .voicechoice import resolve_voices

    with SpeechEngine(workers=jobs) as engine:
        voices = engine.voices()
        requests = {}
        for track in tracks:
            try:
                script = load_track(track)
                requests.update(speech_requests(script, resolve_voices(script, voices)))
            except MeditateError:
                continue  # reported when the track itself is rendered
        engine.synthesize(requests, progress)
    return voices


def build_tracks(tracks, jobs: int, out_dir: Path, report, progress: Callable,
                 estimate: Callable) -> None:
    """Render the given tracks on `jobs` processes (started with spawn), longest first."""
    import concurrent.futures
    import multiprocessing

    if not tracks:
        return
    voices = presynthesize(tracks, jobs, lambda done, total: progress("speech", (done, total), report))
    ordered = sorted(tracks, key=estimate, reverse=True)  # longest first: the cores finish together
    by_name = {t.relative: t for t in ordered}
    for track in ordered:
        progress("start", track, report)
    context = multiprocessing.get_context("spawn")
    pool = concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                                                  initializer=worker_initializer)
    try:
        futures = [pool.submit(_worker, (track, voices, out_dir)) for track in ordered]
        for future in concurrent.futures.as_completed(futures):
            name, record, error = future.result()
            track = by_name[name]
            if error is not None:
                track.error = error
                report.failed.append(track)
            else:
                track.record = record
                report.built.append(track)
            progress("done", track, report)
    except Interrupted:
        stop_processes(list(pool._processes.values()))  # the executor has no public way to stop its workers
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
