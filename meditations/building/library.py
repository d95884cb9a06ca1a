"""Building a whole library, like make: only what changed, on every core or a cluster, never a broken
track. One track's work is in tracks.py, fingerprints (what a track is made from) in fingerprint.py, the
manifest in manifest.py, the parallel part in parallel.py (on an executor of executors.py); a build of every
client's set in clients.py.
"""

from __future__ import annotations

import resource
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path

from meditations.files import (
    Interrupted,
    OutputFolder,
    bad_name_message,
    name_problem,
    remove_abandoned,
    shared_outputs,
    shown,
)
from meditations.loading import (
    LoadOptions,
    Settings,
    find_library_root,
    find_scripts_with_names,
    load_library,
    output_name,
)
from meditations.model import MeditateError, ProblemCollector
from meditations.publishing import HandOverSettings, PublishSettings, hand_over, publish, write_if_changed

from .executors import open_executor
from .fingerprint import FileHashes, engine_version, plan_build
from .journal import clear as clear_journal
from .journal import finished_entries, remove_foreign
from .lockfile import BuildLock
from .manifest import (
    MANIFEST,
    manifest_differs,
    prune,
    published,
    read_manifest,
    read_manifest_file,
    write_manifest,
)
from .owners import Owner, below, nested_folders, nested_owners, refuse_taken
from .parallel import build_tracks
from .tracks import Progress, Track, load_track


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


# ---------------------------------------------------------------- the whole build

@dataclass(frozen=True, kw_only=True)
class BuildRequest:
    """What `meditate build` was asked to do (for one output folder)."""

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
    cluster: str | None = None  # a Dask scheduler's address, or "local"; None: the local spawn pool
    label: str = ""  # the client's folder, with --profiles: progress names its tracks under it
    owner: Owner | None = None  # who the folder belongs to (owners.py); None: the library of scripts_dir
    client: str | None = None  # a client's set: their name, for the hand-over files (never a public output)

    @property
    def writer(self) -> Owner:
        """Who this build writes as: its profile, or the library of its scripts folder."""
        return self.owner or Owner.library(self.scripts_dir)


def refuse_taken_folder(request: BuildRequest) -> None:
    """Refuse, before anything is written, a build into a folder (or a sub-folder) another library, profile or
    build owns (owners.py)."""
    refuse_taken(request.out_dir, request.writer, [(t.script, t.relative) for t in collect_tracks(request)])


def collect_tracks(request: BuildRequest) -> list[Track]:
    """The tracks of the library (or a profile's set), each mapped to its output path."""
    tracks = []
    if request.scripts is not None:
        for path, length in request.scripts:
            settings = replace(request.settings, length=length) if length and not request.settings.length \
                else request.settings
            tracks.append(_track(request, path, output_name(path), settings))
    else:
        for path, name in find_scripts_with_names([request.scripts_dir]):
            tracks.append(_track(request, path, name, request.settings))
    refuse_unusable_outputs(tracks)
    return tracks


def _track(request: BuildRequest, script: Path, name: str, settings: Settings) -> Track:
    relative = f"{name}.mp3"
    label = f"{request.label}/{relative}" if request.label else ""
    return Track(script, request.out_dir / relative, relative, settings, out_dir=request.out_dir, label=label)


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


def build_all(requests: list[BuildRequest], progress: Progress) -> list[BuildReport]:
    """Build several output folders (every client's set) in one pass: one synthesis of every sentence they
    share, one pool of renders. The executor connects (a cluster) before any lock is taken or file written."""

    reports = [BuildReport() for _ in requests]
    if not requests:
        return reports
    for request in requests:
        refuse_taken_folder(request)
    if requests[0].dry_run:
        for request, report in zip(requests, reports, strict=True):
            tracks, _ = _decide(request, read_manifest(request.out_dir))
            report.built = [t for t in tracks if t.reason]
            report.unchanged = [t for t in tracks if not t.reason]
        return reports
    _allow_open_files(len(requests))
    with open_executor(requests[0].cluster, requests[0].jobs) as executor, ExitStack() as locks:
        folders = []
        for request in requests:
            folders.append(locks.enter_context(BuildLock(request.out_dir)).folder)
            remove_abandoned(request.out_dir)
            remove_foreign(request.out_dir)
        try:
            _build_locked(requests, reports, executor, progress, folders)
        except Interrupted:
            for request in requests:
                remove_abandoned(request.out_dir)  # the workers are gone: whatever they left is removed now
            raise
    return reports


def _allow_open_files(locks: int) -> None:
    """Every client's folder is locked for the whole build: let this process hold that many files open."""

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * locks + 256  # each lock holds its file and its folder; and room for the pool's pipes and files
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard),
                                                    hard))


@dataclass
class _Folder:
    """One output folder during a build."""

    request: BuildRequest
    report: BuildReport
    manifest: dict
    tracks: list[Track]
    hashes: FileHashes
    taken: OutputFolder  # the folder as the build took it: nothing is written once it has moved


def _build_locked(requests: list[BuildRequest], reports: list[BuildReport], executor, progress: Progress,
                  taken: list[OutputFolder]) -> None:
    folders, stale, durations = [], [], {}
    for request, report, held in zip(requests, reports, taken, strict=True):
        manifest = read_manifest(request.out_dir)
        tracks, hashes = _decide(request, manifest)
        for track in tracks:
            track.folder = held
        folders.append(_Folder(request, report, manifest, tracks, hashes, held))
        stale += [t for t in tracks if t.reason and not t.error]
        report.unchanged = [t for t in tracks if not t.reason]
        report.failed = [t for t in tracks if t.error]
        for track in report.failed:
            progress("done", track)
        durations.update({(request.out_dir, e["file"]): e.get("duration", 0) for e in manifest.get("tracks", [])})
    for track in stale:  # a track built before lasts about as long as it did
        track.estimate = durations.get((track.out_dir, track.relative)) or track.estimate
    build_tracks(stale, executor, progress)
    for folder in folders:
        built = [t for t in folder.tracks if t.reason and not t.error and t.record]
        folder.report.built = built
        folder.report.failed = [t for t in folder.tracks if t.error]
        _finish_folder(folder)


def _finish_folder(folder: _Folder) -> None:
    """Record what was built in the folder's manifest and stat cache, prune, publish."""
    request, report, manifest, hashes = folder.request, folder.report, folder.manifest, folder.hashes
    out_dir = request.out_dir
    for track in report.built:
        hashes.remember(track.output, track.record["sha256"])
    folder.taken.check()
    hashes.save(out_dir)
    records = [t.record for t in report.built + report.unchanged]
    # a failed track keeps its previous good output, and its previous entry; none below another owner's folder
    nested = nested_owners(out_dir, manifest)
    previous = {e["file"]: e for e in manifest.get("tracks", []) if not below(e["file"], nested)}
    records += [previous[t.relative] for t in report.failed if t.relative in previous]
    if request.prune:
        report.pruned = prune(out_dir, {**manifest, "tracks": list(previous.values())},
                              {t.relative for t in folder.tracks})
    elif request.scripts is None:
        records += [e for name, e in previous.items()
                    if name not in {t.relative for t in folder.tracks} and (out_dir / name).exists()]
    owner = request.writer.record(out_dir)
    recorded = manifest.get("owner") == owner and manifest.get("nested") == nested
    if report.built or report.pruned or not (out_dir / MANIFEST).exists() or finished_entries(out_dir) \
            or manifest_differs(manifest, records) or not recorded:
        folder.taken.check()
        write_manifest(out_dir, records, owner, nested)
    folder.taken.check()
    clear_journal(out_dir)
    publish_library(request)


def publish_library(request: BuildRequest) -> list[Path]:
    """The playlist, the web page and (with a base URL) the podcast feed, each rewritten only if it changed; an
    entry of the manifest that is not as the build wrote it (edited by hand) is left out of them."""

    first = request.scripts[0][0] if request.scripts else request.scripts_dir / "library.yaml"
    problems = ProblemCollector()
    library = load_library(find_library_root(first), problems, LoadOptions())
    problems.raise_if_any()
    cover = None
    if library.cover is not None:
        cover = f"cover{library.cover.suffix.lower()}"
        write_if_changed(request.out_dir / cover, library.cover.read_bytes())
    manifest = published(read_manifest_file(request.out_dir / MANIFEST))  # sealed entries only
    nested = nested_folders(manifest)  # other owners' tracks are never listed (nor recorded: _finish_folder)
    manifest = {**manifest, "tracks": [e for e in manifest["tracks"] if not below(e["file"], nested)]}
    if request.client is not None:  # a client's set: private page and feed, zip, QR code and handout
        return hand_over(request.out_dir, manifest, HandOverSettings(
            client=request.client, album=library.album or "Meditations", artist=library.artist,
            description=library.description, base_url=request.base_url, cover=cover, language=library.language))
    settings = PublishSettings(album=library.album or "Meditations", artist=library.artist,
                               description=library.description, base_url=request.base_url or library.base_url,
                               cover=cover, language=library.language)
    return publish(request.out_dir, manifest, settings)


def _decide(request: BuildRequest, manifest: dict) -> tuple[list[Track], FileHashes]:
    hashes = FileHashes.of(request.out_dir)
    tracks = collect_tracks(request)
    plan_build(tracks, manifest, hashes, engine_version(), request.scripts_dir, load_track, request.force,
               request.verify)
    if not request.dry_run:
        hashes.save(request.out_dir)
    return tracks, hashes

