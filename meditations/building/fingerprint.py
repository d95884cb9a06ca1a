"""What a track is made from, and whether it must be built again.

A track is up to date when its MP3 exists and carries the fingerprint of everything it is made from:
the bytes of the script and of every file it uses (partials, recordings, background and bell files,
library.yaml), every path the loader looked up with where it led (a link's target, or nothing: see
files.Lookups), the variables and settings it is built with, and the versions of this tool, of the speech
engine and of the track's file layout (encoding.TRACK_LAYOUT). Nothing else triggers a rebuild.

The no-change path reads only the manifest, a small stat cache and the files' bytes where their size or
time changed: no YAML is parsed and no audio library is imported, so it takes a fraction of a second.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from stat import S_ISREG

from meditations.encoding import TRACK_LAYOUT, placed_track_problem
from meditations.files import led_to, write_atomic
from meditations.loading import settings_key
from meditations.model import MeditateError
from meditations.speaking import engine_identity
from meditations.version import __version__

from .manifest import entry_problem, read_json

STATE = ".meditate-state.json"  # stat cache: not part of the manifest, which stays deterministic
TRANSCRIPT_CHANGED = "its transcript was changed outside meditate"
TRANSCRIPT_MISSING = "its transcript is missing"


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
                hasher = hashlib.sha256()
                for block in iter(lambda: handle.read(1 << 20), b""):
                    hasher.update(block)
                digest = hasher.hexdigest()
        except OSError:
            return None
        self.seen[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest

    def remember(self, path: Path, digest: str) -> None:
        """Record the hash of a file just written, so the next build need not read it."""
        stat = path.stat()
        self.seen[os.path.realpath(path)] = [stat.st_size, stat.st_mtime_ns, digest]

    @classmethod
    def of(cls, out_dir: Path) -> FileHashes:
        """The stat cache out_dir holds (its paths are relative to the folder: no machine's layout in it)."""
        base = os.path.realpath(out_dir)
        stored = read_json(out_dir / STATE)
        return cls({os.path.normpath(os.path.join(base, k)): v for k, v in stored.items() if isinstance(k, str)})

    def save(self, out_dir: Path) -> None:
        """Write the stat cache of out_dir, when it changed."""
        if self.seen != self.state:
            base = os.path.realpath(out_dir)
            relative = {os.path.relpath(k, base): v for k, v in self.seen.items()}
            write_atomic(out_dir / STATE, json.dumps(relative, sort_keys=True).encode("utf-8"))
            self.state = dict(self.seen)


def engine_version() -> str:
    """The speech engine's identity (part of every fingerprint)."""

    return engine_identity()


def fingerprint(sources: dict[str, str], lookups: dict[str, str | None], settings_key: str, engine: str) -> str:
    """The fingerprint of a track from its sources' hashes, where its lookups led, its settings and the
    versions that make it (the tool's, the engine's, and the layout of the file it writes)."""
    payload = json.dumps([__version__, TRACK_LAYOUT, engine, settings_key, sorted(sources.items()),
                          sorted(lookups.items())])
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def relative_name(path: Path, base: Path) -> str:
    """A path as shown in the manifest and messages: relative to base where possible."""
    try:
        return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(base))).as_posix()
    except ValueError:
        return Path(os.path.realpath(path)).as_posix()


def looked_up_name(path: Path, base: Path) -> str:
    """An absolute path as it was looked up, named relative to base's real folder. Only the part before its first
    '..' is made relative: a '..' after a link leads up from the link's target, so what follows stays as it was
    written, and base's real folder joined with the name is looked up the same way again."""
    parts = path.parts
    cut = parts.index("..") if ".." in parts else len(parts)
    head = os.path.relpath(Path(*parts[:cut]), os.path.realpath(base))
    return Path(head, *parts[cut:]).as_posix()


def led_name(path: Path, base: Path) -> str | None:
    """Where a path leads now, named as in the manifest (None: nothing is there)."""
    real = led_to(path)
    return None if real is None else relative_name(real, base)


def plan_build(tracks: list, manifest: dict, hashes: FileHashes, engine: str, base: Path, load: Callable,
               force: bool = False, verify: bool = False) -> None:
    """Set each track's fingerprint and the reason it must be built (or none). A script is loaded (by
    `load`) only when one of its files changed, a name it looked up leads elsewhere, or its entry is not as
    built; it is kept on the track for the rest of the build."""
    previous = {entry["file"]: entry for entry in manifest.get("tracks", [])}
    for track in tracks:
        before = previous.get(track.relative)
        # what an entry edited by hand says its track is made from is not trusted: the script is loaded again;
        # so is a script that is not the one the track was made from (a client's own script of the same name,
        # added since, takes the library's place in their set: nothing the entry read has changed)
        if before and not force and not entry_problem(before) and _same_script(before, track) \
                and _unchanged_sources(before, hashes, base):
            track.sources, track.lookups = dict(before.get("sources", {})), dict(before["lookups"])
        else:
            _read_sources(track, hashes, base, load)
        if track.error:
            track.reason = "its script has problems"
            continue
        track.fingerprint = fingerprint(track.sources, track.lookups, settings_key(track.settings), engine)
        track.reason = _reason(track, before, force, hashes, verify)


def _same_script(entry: dict, track) -> bool:
    """Whether the entry was made from the track's script (its name relative to the output folder, as recorded)."""
    return entry.get("script") == relative_name(track.script, track.out_dir)


def _unchanged_sources(entry: dict, hashes: FileHashes, base: Path) -> bool:
    """Whether every name the entry's script looked up leads where it led, and every file it read holds the
    same bytes (an entry without its lookups, an older meditate's, is loaded again)."""
    if "lookups" not in entry:
        return False
    real_base = Path(os.path.realpath(base))
    return all(led_name(real_base / name, base) == led for name, led in entry["lookups"].items()) \
        and all(hashes.sha(base / name) == digest for name, digest in entry.get("sources", {}).items())


def _read_sources(track, hashes: FileHashes, base: Path, load: Callable) -> None:
    """Load the script to learn every file it uses, and hash them."""
    if track.error:  # refused before loading (its name, or an output another script makes)
        return
    try:
        script = track.loaded = load(track)
    except MeditateError as exc:
        track.error = exc
        return
    track.estimate = script.length or script.estimated_seconds  # a track fitted to a length lasts that long
    track.sources = {}
    for source in script.sources:
        digest = hashes.sha(Path(source))
        track.sources[relative_name(Path(source), base)] = digest or "missing"
    track.lookups = {looked_up_name(looked, base): None if real is None else relative_name(real, base)
                     for looked, real in script.lookups}


def _reason(track, before: dict | None, force: bool, hashes: FileHashes, verify: bool) -> str:
    if force:
        return "forced"
    if before is None:
        return "new"
    if not track.output.exists():
        return "its track is missing"
    untrusted = entry_problem(before)  # its recorded hash, duration and titles are not the build's
    if untrusted:
        track.found = untrusted
        return untrusted
    if before.get("fingerprint") == track.fingerprint:
        def sha(path: Path) -> str | None:
            return hashes.sha(path, fresh=verify)

        problem = placed_track_problem(track.output, before, sha, verify) or _transcript_problem(track, before, sha)
        if not problem:
            track.record = before
        track.found = problem
        return problem
    moved = _moved_lookups(before.get("lookups", {}), track.lookups)
    read = before.get("sources", {})
    # a file read for the first time because a name leads elsewhere now is no news of its own
    changed = sorted(name for name, digest in track.sources.items()
                     if read.get(name) != digest and (name in read or not moved))
    reasons = [moved[name] for name in sorted(moved)] + (["changed: " + ", ".join(changed)] if changed else [])
    if reasons:
        return "; ".join(reasons)
    if before.get("settings") != settings_key(track.settings):
        return "its settings changed"
    return "the tool or speech engine changed"


def _moved_lookups(before: dict, now: dict) -> dict[str, str]:
    """For each name looked up in both builds that leads elsewhere now, what happened to it."""
    moved = {}
    for name in set(before) & set(now):
        was, led = before[name], now[name]
        if was == led:
            continue
        if was is None:
            moved[name] = f"{name} appeared"
        elif led is None:
            moved[name] = f"{name} is gone"
        else:
            moved[name] = f"{name} now leads to {led}"
    return moved


def _transcript_problem(track, entry: dict, sha: Callable) -> str:
    """Why the transcript beside a track is not the one its entry records ("" when it is): the page shows it."""
    transcript = track.output.with_suffix(".vtt")
    if not os.path.lexists(transcript):
        return TRANSCRIPT_MISSING
    return "" if sha(transcript) == entry.get("transcript_sha256") else TRANSCRIPT_CHANGED
