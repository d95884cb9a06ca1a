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
from pathlib import Path
from typing import Callable

from . import __version__
from .cache import write_atomic
from .discovery import find_scripts
from .errors import MeditateError

MANIFEST = "library.json"
STATE = ".meditate-state.json"  # stat cache: not part of the manifest, which stays deterministic
LOCK = ".meditate.lock"


@dataclass(frozen=True)
class BuildSettings:
    """Everything besides files that a track depends on (part of every fingerprint)."""

    overrides: tuple[tuple[str, str], ...] = ()
    voice: tuple | None = None  # a profile's voice settings, as plain values
    sample_rate: int | None = None
    channels: int | None = None
    bitrate: int | None = None
    loudness: float | None = None
    length: float | None = None

    def key(self) -> str:
        """A stable text form of these settings."""
        return json.dumps([self.overrides, self.voice, self.sample_rate, self.channels, self.bitrate, self.loudness,
                           self.length], sort_keys=True, default=list)


@dataclass
class Track:
    """One script of the library and what the build decides about it."""

    script: Path
    output: Path
    relative: str  # the output's path inside OUT_DIR, with / separators
    settings: BuildSettings
    fingerprint: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # path -> sha256 of its bytes
    reason: str = ""  # why it must be built ("" when up to date)
    estimate: float = 0.0  # seconds, roughly: longest tracks are started first
    error: list[str] = field(default_factory=list)
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


# ---------------------------------------------------------------- fingerprints

class FileHashes:
    """sha256 of files, remembered by (size, mtime) across builds so unchanged files are not re-read."""

    def __init__(self, state: dict):
        self.state = state
        self.seen: dict[str, list] = {}

    def sha(self, path: Path) -> str | None:
        """The file's sha256, or None when it cannot be read."""
        key = str(path.resolve())
        try:
            stat = path.stat()
        except OSError:
            return None
        known = self.state.get(key)
        if known and known[0] == stat.st_size and known[1] == stat.st_mtime_ns:
            self.seen[key] = known
            return known[2]
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        self.seen[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest


def engine_version() -> str:
    """The speech engine's identity (part of every fingerprint)."""
    from .versions import engine_identity

    return engine_identity()


def fingerprint(sources: dict[str, str], settings: BuildSettings, engine: str) -> str:
    """The fingerprint of a track from its sources' hashes, its settings and the versions that make it."""
    payload = json.dumps([__version__, engine, settings.key(), sorted(sources.items())])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def relative_name(path: Path, base: Path) -> str:
    """A path as shown in the manifest and messages: relative to base where possible."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
    except ValueError:
        return path.resolve().as_posix()


# ---------------------------------------------------------------- deciding what to build

def plan_build(tracks: list[Track], manifest: dict, hashes: FileHashes, engine: str, base: Path,
               force: bool = False) -> None:
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
        track.reason = _reason(track, before, force)


def _unchanged_sources(entry: dict, hashes: FileHashes, base: Path) -> bool:
    return all(hashes.sha(base / name) == digest for name, digest in entry.get("sources", {}).items())


def _read_sources(track: Track, hashes: FileHashes, base: Path) -> None:
    """Load the script to learn every file it uses, and hash them."""
    from .render import load

    try:
        script = load(track.script, (), _overrides(track.settings), _options(track.settings))
    except MeditateError as exc:
        track.error = exc.lines()
        return
    track.estimate = script.estimated_seconds
    track.sources = {}
    for source in script.sources:
        digest = hashes.sha(Path(source))
        track.sources[relative_name(Path(source), base)] = digest or "missing"


def _reason(track: Track, before: dict | None, force: bool) -> str:
    if force:
        return "forced"
    if before is None:
        return "new"
    if not track.output.exists():
        return "its track is missing"
    if before.get("fingerprint") == track.fingerprint:
        if before.get("size") == track.output.stat().st_size:
            track.record = before
            return ""
        return "its track was changed outside meditate"
    changed = sorted(name for name, digest in track.sources.items() if before["sources"].get(name) != digest)
    added = sorted(set(track.sources) - set(before["sources"]))
    if changed or added:
        return "changed: " + ", ".join(changed + [a for a in added if a not in changed])
    if before.get("settings") != track.settings.key():
        return "its settings changed"
    return "the tool or speech engine changed"


def _overrides(settings: BuildSettings):
    from .render import AudioOverrides

    return AudioOverrides(settings.sample_rate, settings.channels, settings.bitrate, settings.loudness,
                          settings.length)


def _options(settings: BuildSettings):
    from .loader import LoadOptions
    from .script import VoiceSettings

    voice = VoiceSettings(*settings.voice) if settings.voice else None
    return LoadOptions(overrides=settings.overrides, voice=voice)


# ---------------------------------------------------------------- building

def render_track(track: Track, voices) -> dict:
    """Render one track (in a worker process); returns its manifest entry. Raises MeditateError."""
    from .render import load, render
    from .speech import SpeechEngine

    script = load(track.script, (), _overrides(track.settings), _options(track.settings))
    with SpeechEngine(workers=1, voices=voices) as engine:
        result = render(script, track.output, engine, fingerprint=track.fingerprint)
    rate = result.timeline.sample_rate
    return {
        "title": script.title, "description": script.description, "file": track.relative,
        "script": track.script.as_posix(), "duration": round(result.timeline.duration, 3),
        "chapters": [c.to_json(rate) for c in result.timeline.chapters], "fingerprint": track.fingerprint,
        "sources": dict(sorted(track.sources.items())), "settings": track.settings.key(), "size": result.size,
        "transcript": Path(track.relative).with_suffix(".vtt").as_posix(),
    }


def _worker(args):
    track, voices = args
    try:
        return track.relative, render_track(track, voices), None
    except MeditateError as exc:
        return track.relative, None, exc.lines()
    except Exception as exc:  # a bug must cost one track, not the build; it is reported with the track
        return track.relative, None, [f"Error: {track.script}: unexpected {type(exc).__name__}: {exc}"]


def presynthesize(tracks: list[Track], jobs: int, progress=None):
    """Synthesize every clip the tracks need, once, before rendering: a phrase shared by many tracks (a
    common opening) is made one time, by all cores; progress(done, total) follows it. Returns the voice list
    for the workers."""
    from .planner import resolve_voices, speech_requests
    from .render import load
    from .speech import SpeechEngine

    with SpeechEngine(workers=jobs) as engine:
        voices = engine.voices()
        requests = {}
        for track in tracks:
            try:
                script = load(track.script, (), _overrides(track.settings), _options(track.settings))
                requests.update(speech_requests(script, resolve_voices(script, voices)))
            except MeditateError:
                continue  # reported when the track itself is rendered
        engine.synthesize(requests, progress)
    return voices


Progress = Callable[[str, Track, BuildReport], None]


def build_tracks(tracks: list[Track], jobs: int, report: BuildReport, progress: Progress,
                 estimate: Callable[[Track], float]) -> None:
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
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        futures = [pool.submit(_worker, (track, voices)) for track in ordered]
        for future in concurrent.futures.as_completed(futures):
            name, record, error = future.result()
            track = by_name[name]
            if error:
                track.error = error
                report.failed.append(track)
            else:
                track.record = record
                report.built.append(track)
            progress("done", track, report)


# ---------------------------------------------------------------- manifest and state

def read_json(path: Path) -> dict:
    """A JSON file's object, or {} when missing or damaged (it is then rebuilt)."""
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


def remove_stale_temporaries(out_dir: Path) -> None:
    """Temporary files left by a build that was killed (they never replaced a track)."""
    for path in out_dir.rglob(".*.tmp"):
        try:
            path.unlink()
        except OSError:
            pass


def prune(out_dir: Path, manifest: dict, keep: set[str]) -> list[str]:
    """Remove tracks this tool made whose script is gone (listed in the manifest and tagged by us)."""
    from .encoder import read_fingerprint

    removed = []
    for entry in manifest.get("tracks", []):
        name = entry.get("file", "")
        path = out_dir / name
        if name in keep or not path.is_file() or ".." in Path(name).parts:
            continue
        if read_fingerprint(path) != entry.get("fingerprint"):
            continue  # not the file we made: never delete it
        path.unlink()
        transcript = path.with_suffix(".vtt")  # made with the track, by us: it goes with it
        if transcript.is_file():
            transcript.unlink()
        removed.append(name)
    return removed


class BuildLock:
    """One build at a time per output folder: a second one is refused with a clear message."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / LOCK
        self.handle = None

    def __enter__(self):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = open(self.path, "a+")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.handle.seek(0)
            holder = self.handle.read().strip() or "another process"
            self.handle.close()
            raise MeditateError(f"another build is writing to {self.path.parent} ({holder}); "
                                "wait for it to finish, then build again") from None
        self.handle.truncate(0)
        self.handle.write(f"pid {os.getpid()}")
        self.handle.flush()
        return self

    def __exit__(self, *exc):
        self.handle.close()


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
    settings: BuildSettings = BuildSettings()
    scripts: tuple[tuple[Path, float | None], ...] | None = None  # a profile's set instead of the folder
    base_url: str | None = None  # where the library is published: a podcast feed is written too


def collect_tracks(request: BuildRequest) -> list[Track]:
    """The tracks of the library (or a profile's set), each mapped to its output path."""
    tracks = []
    if request.scripts is not None:
        for path, length in request.scripts:
            settings = replace(request.settings, length=length) if length and not request.settings.length \
                else request.settings
            relative = f"{path.stem}.mp3"
            tracks.append(Track(path, request.out_dir / relative, relative, settings))
        return tracks
    for path in find_scripts([request.scripts_dir]):
        inside = Path(os.path.relpath(path, request.scripts_dir)).with_suffix(".mp3")
        tracks.append(Track(path, request.out_dir / inside, inside.as_posix(), request.settings))
    return tracks


def build(request: BuildRequest, progress: Progress) -> BuildReport:
    """Build the library: decide, render what changed in parallel, write the manifest."""
    report = BuildReport()
    out_dir = request.out_dir
    if request.dry_run:
        tracks = _decide(request)
        report.built = [t for t in tracks if t.reason]
        report.unchanged = [t for t in tracks if not t.reason]
        return report
    with BuildLock(out_dir):
        remove_stale_temporaries(out_dir)
        manifest = read_json(out_dir / MANIFEST)
        tracks = _decide(request, manifest)
        stale = [t for t in tracks if t.reason and not t.error]
        report.unchanged = [t for t in tracks if not t.reason]
        report.failed = [t for t in tracks if t.error]
        for track in report.failed:
            progress("done", track, report)
        durations = {e["file"]: e.get("duration", 0) for e in manifest.get("tracks", [])}
        build_tracks(stale, request.jobs, report, progress,
                     estimate=lambda t: durations.get(t.relative) or t.estimate)
        records = [t.record for t in report.built + report.unchanged]
        # a failed track keeps its previous good output, and its previous entry
        previous = {e["file"]: e for e in manifest.get("tracks", [])}
        records += [previous[t.relative] for t in report.failed if t.relative in previous]
        if request.prune:
            report.pruned = prune(out_dir, manifest, {t.relative for t in tracks})
        elif request.scripts is None:
            records += [e for name, e in previous.items()
                        if name not in {t.relative for t in tracks} and (out_dir / name).exists()]
        if report.built or report.pruned or not (out_dir / MANIFEST).exists() or _manifest_differs(manifest, records):
            write_manifest(out_dir, records)
        publish_library(request)
    return report


def publish_library(request: BuildRequest) -> list[Path]:
    """The playlist, the web page and (with a base URL) the podcast feed, each rewritten only if it changed."""
    from .loader import LoadOptions, find_library_root, load_library
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
    return publish(request.out_dir, read_json(request.out_dir / MANIFEST), settings)


def _decide(request: BuildRequest, manifest: dict | None = None) -> list[Track]:
    out_dir = request.out_dir
    manifest = manifest if manifest is not None else read_json(out_dir / MANIFEST)
    state_path = out_dir / STATE
    hashes = FileHashes(read_json(state_path))
    tracks = collect_tracks(request)
    plan_build(tracks, manifest, hashes, engine_version(), request.scripts_dir, request.force)
    if not request.dry_run and hashes.seen != hashes.state:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(state_path, json.dumps(hashes.seen, sort_keys=True).encode("utf-8"))
    return tracks


def _manifest_differs(manifest: dict, records: list[dict]) -> bool:
    return sorted(e.get("file") for e in manifest.get("tracks", [])) != sorted(r.get("file") for r in records)


def eta_seconds(started: float, done_weight: float, total_weight: float) -> float | None:
    """Time left, from the share of the work done so far."""
    if done_weight <= 0 or total_weight <= 0:
        return None
    elapsed = time.monotonic() - started
    return max(0.0, elapsed * (total_weight - done_weight) / done_weight)
