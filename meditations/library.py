"""Stage 6: build a whole library, like make: only what changed, on every core, never a broken track.

A track is up to date when its MP3 exists and carries the fingerprint of everything it is made from:
the bytes of the script and of every file it uses (partials, recordings, background and bell files,
library.yaml), the variables and settings it is built with, and the versions of this tool and of the
speech engine. Nothing else triggers a rebuild.

The no-change path reads only the manifest, a small stat cache and the files' bytes where their size or
time changed: no YAML is parsed and no audio library is imported, so it takes a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from stat import S_ISREG
from typing import Callable

from . import __version__
from .cache import write_atomic
from .containment import bad_name_message, inside, name_problem, shared_outputs, shown
from .discovery import find_scripts_with_names, output_name
from .errors import MeditateError
from .journal import clear as clear_journal, finished_entries, with_finished
from .lockfile import BuildLock
from .manifest_read import read_manifest as read_manifest_file, well_formed
from .safe_files import is_regular_file
from .settings import Settings, load, settings_key
from .signals import Interrupted
from .tempfiles import remove_abandoned

MANIFEST = "library.json"
STATE = ".meditate-state.json"  # stat cache: not part of the manifest, which stays deterministic


@dataclass
class Track:
    """One script of the library and what the build decides about it."""

    script: Path
    output: Path
    relative: str  # the output's path inside OUT_DIR, with / separators
    settings: Settings
    fingerprint: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # path -> sha256 of its bytes
    reason: str = ""  # why it must be built ("" when up to date)
    estimate: float = 0.0  # seconds, roughly: longest tracks are started first
    error: MeditateError | None = None  # why it failed; cli.py says it
    found: str = ""  # what checking its track found wrong (it is rebuilt)
    record: dict = field(default_factory=dict)  # its manifest entry once built


@dataclass
class BuildReport:
    """What a build did."""

    built: list[Track] = field(default_factory=list)
    unchanged: list[Track] = field(default_factory=list)
    failed: list[Track] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line: built, unchanged, failed (and pruned)."""
        text = f"built {len(self.built)}, unchanged {len(self.unchanged)}, failed {len(self.failed)}"
        return text + (f", pruned {len(self.pruned)}" if self.pruned else "")


Progress = Callable[[str, Track, BuildReport], None]


# ---------------------------------------------------------------- fingerprints

class FileHashes:
    """sha256 of files, remembered by (size, mtime) across builds so unchanged files are not re-read."""

    def __init__(self, state: dict):
        self.state = state
        self.seen: dict[str, list] = {}

    def sha(self, path: Path, fresh: bool = False) -> str | None:
        """The file's sha256 (read again when fresh), or None when it cannot be read."""
        key = os.path.realpath(path)  # realpath: a link loop is "cannot be read", never an exception
        try:
            stat = path.stat()
        except OSError:
            return None
        if not S_ISREG(stat.st_mode):  # a FIFO or a device is never read (it could block or never end)
            return None
        known = self.state.get(key)
        if isinstance(known, list) and len(known) == 3 and known[:2] == [stat.st_size, stat.st_mtime_ns] \
                and isinstance(known[2], str) and not fresh:  # a damaged stat cache is ignored, never trusted
            self.seen[key] = known
            return known[2]
        try:
            with open(path, "rb") as handle:  # in chunks: a long recording is never held in memory whole
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            return None
        self.seen[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def remember(self, path: Path, digest: str) -> None:
        """Record the hash of a file just written, so the next build need not read it."""
        stat = path.stat()
        self.seen[os.path.realpath(path)] = [stat.st_size, stat.st_mtime_ns, digest]


def engine_version() -> str:
    """The speech engine's identity (part of every fingerprint)."""
    from .versions import engine_identity

    return engine_identity()


def fingerprint(sources: dict[str, str], settings: Settings, engine: str) -> str:
    """The fingerprint of a track from its sources' hashes, its settings and the versions that make it."""
    payload = json.dumps([__version__, engine, settings_key(settings), sorted(sources.items())])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def relative_name(path: Path, base: Path) -> str:
    """A path as shown in the manifest and messages: relative to base where possible."""
    try:
        return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(base))).as_posix()
    except ValueError:
        return Path(os.path.realpath(path)).as_posix()


# ---------------------------------------------------------------- deciding what to build

def plan_build(tracks: list[Track], manifest: dict, hashes: FileHashes, engine: str, base: Path,
               force: bool = False, verify: bool = False) -> None:
    """Set each track's fingerprint and the reason it must be built (or none)."""
    previous = {entry["file"]: entry for entry in manifest.get("tracks", [])}
    for track in tracks:
        before = previous.get(track.relative)
        if before and not force and _unchanged_sources(before, hashes, base):
            track.sources = dict(before["sources"])
        else:
            _read_sources(track, hashes, base)
        if track.error:
            track.reason = "its script has problems"
            continue
        track.fingerprint = fingerprint(track.sources, track.settings, engine)
        track.reason = _reason(track, before, force, hashes, verify)


def _unchanged_sources(entry: dict, hashes: FileHashes, base: Path) -> bool:
    return all(hashes.sha(base / name) == digest for name, digest in entry.get("sources", {}).items())


def _read_sources(track: Track, hashes: FileHashes, base: Path) -> None:
    """Load the script to learn every file it uses, and hash them."""
    if track.error:  # refused before loading (its name, or an output another script makes)
        return
    try:
        script = load_track(track)
    except MeditateError as exc:
        track.error = exc
        return
    track.estimate = script.estimated_seconds
    track.sources = {}
    for source in script.sources:
        digest = hashes.sha(Path(source))
        track.sources[relative_name(Path(source), base)] = digest or "missing"


def _reason(track: Track, before: dict | None, force: bool, hashes: FileHashes, verify: bool) -> str:
    if force:
        return "forced"
    if before is None:
        return "new"
    if not track.output.exists():
        return "its track is missing"
    if before.get("fingerprint") == track.fingerprint:
        from .verify import placed_track_problem

        problem = placed_track_problem(track.output, before, lambda path: hashes.sha(path, fresh=verify), verify)
        if not problem:
            track.record = before
        track.found = problem
        return problem
    changed = sorted(name for name, digest in track.sources.items() if before["sources"].get(name) != digest)
    added = sorted(set(track.sources) - set(before["sources"]))
    if changed or added:
        return "changed: " + ", ".join(changed + [a for a in added if a not in changed])
    if before.get("settings") != settings_key(track.settings):
        return "its settings changed"
    return "the tool or speech engine changed"


# ---------------------------------------------------------------- building

def load_track(track: Track):
    """The track's script, loaded with the build's settings."""
    return load(track.script, track.settings)


def render_track(track: Track, voices, out_dir: Path) -> dict:
    """Render one track (in a worker process); returns its manifest entry, which is also recorded in the
    journal just before the track goes into place. Raises MeditateError."""
    from .journal import record_finished
    from .render import render
    from .speech import SpeechEngine

    script = load_track(track)
    with SpeechEngine(workers=1, voices=voices) as engine:
        result = render(script, track.output, engine, fingerprint=track.fingerprint,
                        placing=lambda result: record_finished(out_dir, _entry(track, result)))
    return _entry(track, result)


def _entry(track: Track, result) -> dict:
    script, rate = result.script, result.timeline.sample_rate
    return {
        "title": script.title, "description": script.description, "file": track.relative,
        "script": track.script.as_posix(), "duration": round(result.timeline.duration, 3),
        "chapters": [c.to_json(rate) for c in result.timeline.chapters], "fingerprint": track.fingerprint,
        "sources": dict(sorted(track.sources.items())), "settings": settings_key(track.settings),
        "size": result.size, "sha256": result.sha256, "transcript": Path(track.relative).with_suffix(".vtt").as_posix(),
    }


# ---------------------------------------------------------------- manifest and state

def read_json(path: Path) -> dict:
    """A JSON file's object, or {} when missing or damaged (it is then rebuilt)."""
    if not is_regular_file(path):  # missing, or something that is not ours to read (a FIFO would block)
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def write_manifest(out_dir: Path, records: list[dict]) -> None:
    """OUT_DIR/library.json: every track, sorted, nothing that changes between identical builds."""
    public = [{k: v for k, v in r.items() if k not in ("settings",)} for r in records]
    data = {"tool": "meditate", "version": __version__, "tracks": sorted(public, key=lambda r: r["file"])}
    write_atomic(out_dir / MANIFEST, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


def prune(out_dir: Path, manifest: dict, keep: set[str]) -> list[str]:
    """Remove tracks this tool made whose script is gone (listed in the manifest and tagged by us)."""
    from .encoder import read_fingerprint

    removed = []
    for entry in manifest.get("tracks", []):
        name = entry.get("file", "")
        path = inside(out_dir, name)  # never a path outside out_dir or through a link, whatever the manifest says
        if name in keep or path is None:
            continue
        if read_fingerprint(path) != entry.get("fingerprint"):
            continue  # not the file we made: never delete it
        transcript = inside(out_dir, PurePosixPath(name).with_suffix(".vtt").as_posix())  # made with the track
        for made in (path, transcript):
            try:
                if made is not None:
                    made.unlink()
            except OSError as exc:
                raise MeditateError(f"cannot remove {shown(made)}: {exc.strerror}") from None
        removed.append(name)
    return removed


# ---------------------------------------------------------------- the whole build

@dataclass(frozen=True)
class BuildRequest:
    """What `meditate build` was asked to do."""

    scripts_dir: Path
    out_dir: Path
    jobs: int
    force: bool = False
    dry_run: bool = False
    prune: bool = False
    verify: bool = False  # read every track again: its SHA-256 and its MP3 frames
    settings: Settings = Settings()
    scripts: tuple[tuple[Path, float | None], ...] | None = None  # a profile's set instead of the folder
    base_url: str | None = None  # where the library is published: a podcast feed is written too


def collect_tracks(request: BuildRequest) -> list[Track]:
    """The tracks of the library (or a profile's set), each mapped to its output path."""
    tracks = []
    if request.scripts is not None:
        for path, length in request.scripts:
            settings = replace(request.settings, length=length) if length and not request.settings.length \
                else request.settings
            relative = f"{output_name(path)}.mp3"
            tracks.append(Track(path, request.out_dir / relative, relative, settings))
    else:
        for path, name in find_scripts_with_names([request.scripts_dir]):
            tracks.append(Track(path, request.out_dir / f"{name}.mp3", f"{name}.mp3", request.settings))
    refuse_unusable_outputs(tracks)
    return tracks


def refuse_unusable_outputs(tracks: list[Track]) -> None:
    """A track whose name cannot be used, or whose output another script also makes, fails with a clear line
    (the other tracks are built)."""
    for track in tracks:
        if name_problem(track.relative) is not None:
            track.error = MeditateError(bad_name_message(track.script, track.relative))
    for sources, message in shared_outputs([(t.script, t.output) for t in tracks]):
        for track in tracks:
            if track.script in sources:
                others = " and ".join(shown(s) for s in sources if s != track.script)
                track.error = MeditateError(f"{shown(track.script)} would be written to {shown(track.output)}, "
                                            f"like {others}; rename one of them" if others else message)


def build(request: BuildRequest, progress: Progress) -> BuildReport:
    """Build the library: decide, render what changed in parallel, write the manifest."""
    report = BuildReport()
    out_dir = request.out_dir
    if request.dry_run:
        tracks, _ = _decide(request, read_manifest(out_dir))
        report.built = [t for t in tracks if t.reason]
        report.unchanged = [t for t in tracks if not t.reason]
        return report
    with BuildLock(out_dir):
        remove_abandoned(out_dir)
        try:
            _build_locked(request, report, progress)
        except Interrupted:
            remove_abandoned(out_dir)  # the workers are gone: whatever they left is removed now
            raise
    return report


def _build_locked(request: BuildRequest, report: BuildReport, progress: Progress) -> None:
    from .buildpool import build_tracks

    out_dir = request.out_dir
    manifest = read_manifest(out_dir)
    tracks, hashes = _decide(request, manifest)
    stale = [t for t in tracks if t.reason and not t.error]
    report.unchanged = [t for t in tracks if not t.reason]
    report.failed = [t for t in tracks if t.error]
    for track in report.failed:
        progress("done", track, report)
    durations = {e["file"]: e.get("duration", 0) for e in manifest.get("tracks", [])}
    build_tracks(stale, request.jobs, out_dir, report, progress,
                 estimate=lambda t: durations.get(t.relative) or t.estimate)
    for track in report.built:
        hashes.remember(track.output, track.record["sha256"])
    _save_state(out_dir, hashes)
    records = [t.record for t in report.built + report.unchanged]
    # a failed track keeps its previous good output, and its previous entry
    previous = {e["file"]: e for e in manifest.get("tracks", [])}
    records += [previous[t.relative] for t in report.failed if t.relative in previous]
    if request.prune:
        report.pruned = prune(out_dir, manifest, {t.relative for t in tracks})
    elif request.scripts is None:
        records += [e for name, e in previous.items()
                    if name not in {t.relative for t in tracks} and (out_dir / name).exists()]
    if report.built or report.pruned or not (out_dir / MANIFEST).exists() or finished_entries(out_dir) \
            or _manifest_differs(manifest, records):
        write_manifest(out_dir, records)
    clear_journal(out_dir)
    publish_library(request)


def read_manifest(out_dir: Path) -> dict:
    """library.json (its well-formed entries) with the tracks finished since it was written (by an interrupted
    build) laid over it."""
    finished = [entry for entry in finished_entries(out_dir) if well_formed(entry)]
    return with_finished(read_manifest_file(out_dir / MANIFEST), finished)


def publish_library(request: BuildRequest) -> list[Path]:
    """The playlist, the web page and (with a base URL) the podcast feed, each rewritten only if it changed."""
    from .loading import LoadOptions, find_library_root, load_library
    from .errors import ProblemCollector
    from .publish import PublishSettings, publish, write_if_changed

    first = request.scripts[0][0] if request.scripts else request.scripts_dir / "library.yaml"
    problems = ProblemCollector()
    library = load_library(find_library_root(first), problems, LoadOptions())
    problems.raise_if_any()
    cover = None
    if library.cover is not None:
        cover = f"cover{library.cover.suffix.lower()}"
        write_if_changed(request.out_dir / cover, library.cover.read_bytes())
    settings = PublishSettings(album=library.album or "Meditations", artist=library.artist,
                               description=library.description, base_url=request.base_url or library.base_url,
                               cover=cover, language=library.language)
    return publish(request.out_dir, read_manifest_file(request.out_dir / MANIFEST), settings)


def _decide(request: BuildRequest, manifest: dict) -> tuple[list[Track], FileHashes]:
    hashes = FileHashes(read_json(request.out_dir / STATE))
    tracks = collect_tracks(request)
    plan_build(tracks, manifest, hashes, engine_version(), request.scripts_dir, request.force, request.verify)
    if not request.dry_run:
        _save_state(request.out_dir, hashes)
    return tracks, hashes


def _save_state(out_dir: Path, hashes: FileHashes) -> None:
    if hashes.seen != hashes.state:
        write_atomic(out_dir / STATE, json.dumps(hashes.seen, sort_keys=True).encode("utf-8"))
        hashes.state = dict(hashes.seen)


def _manifest_differs(manifest: dict, records: list[dict]) -> bool:
    return sorted(e.get("file") for e in manifest.get("tracks", [])) != sorted(r.get("file") for r in records)


def eta_seconds(started: float, done_weight: float, total_weight: float) -> float | None:
    """Time left, from the share of the work done so far."""
    if done_weight <= 0 or total_weight <= 0:
        return None
    elapsed = time.monotonic() - started
    return max(0.0, elapsed * (total_weight - done_weight) / done_weight)
