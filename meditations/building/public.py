"""The calls a program uses (meditations/__init__.py exports them; the command line uses the same): each
opens what it needs, such as a speech engine with a worker per core, unless it is given one."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from meditations.loading import Settings
from meditations.model import Script, Timeline
from meditations.speaking import SpeechEngine

from .clips import plan_with_speech
from .library import BuildReport, BuildRequest, build_all
from .track import RenderResult
from .track import render as render_track_file
from .tracks import Progress


def default_workers() -> int:
    """One worker per core."""
    return os.cpu_count() or 1


@contextmanager
def _engine(given: SpeechEngine | None) -> Iterator[SpeechEngine]:
    if given is not None:
        yield given
        return
    with SpeechEngine(workers=default_workers()) as engine:
        yield engine


def plan_script(script: Script, engine: SpeechEngine | None = None) -> Timeline:
    """The exact timeline of a loaded script: every sound and silence at its sample (speech is synthesized
    into the cache first, as a render would)."""
    with _engine(engine) as speech:
        return plan_with_speech(script, speech)


def render_script(script: Script, out_path: str | Path, engine: SpeechEngine | None = None,
                  progress: Callable[[str, tuple], None] | None = None) -> RenderResult:
    """Render a loaded script to an MP3 (and its WebVTT transcript beside it), checked against its plan before
    it is put in place. `progress`, if given, hears ("speech", (done, total)) as sentences are made, then
    ("audio", (seconds mixed, seconds in all))."""
    with _engine(engine) as speech:
        return render_track_file(script, Path(out_path), speech, progress=progress)


def build_library(scripts_dir: str | Path = "scripts", out_dir: str | Path = "audio_out", *,
                  settings: Settings | None = None, progress: Progress | None = None, **options) -> BuildReport:
    """Build every script below scripts_dir into out_dir, only what changed (the options are BuildRequest's:
    jobs, force, dry_run, prune, verify, base_url, cluster)."""
    options.setdefault("jobs", default_workers())
    request = BuildRequest(scripts_dir=Path(scripts_dir), out_dir=Path(out_dir), settings=settings or Settings(),
                           **options)
    return build_all([request], progress or (lambda _event, _track: None))[0]
