"""Removing a client completely: their profile and own scripts, their set, and the audio of theirs the caches
hold (speech clips no one else's practices use, and the encoded MP3 pieces of their tracks)."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from meditations.encoding import split_frames, track_frames
from meditations.files import BlobCache, cache_root, shown
from meditations.loading import find_scripts, load, load_profile
from meditations.model import MeditateError
from meditations.speaking import clip_cache, resolve_voices

from .clientarea import area_profiles
from .clips import speech_requests


@dataclass
class Removal:
    """What removing a client takes away."""

    folders: list[Path] = field(default_factory=list)  # the client's folder, and their set's
    clips: list[str] = field(default_factory=list)  # speech cache keys used by no one else
    pieces: list[str] = field(default_factory=list)  # MP3 piece cache keys of the client's tracks


def plan_removal(profile: Path, sets_root: Path, library: Path, voices) -> Removal:
    """What `client remove` will delete, found before anything is: the folders, and the cache entries of the
    client's audio (their sentences that no other client and no library script asks for)."""
    client = load_profile(profile)
    removal = Removal([profile.parent])
    for name in dict.fromkeys((client.folder, client.output)):
        if (sets_root / name).is_dir():
            removal.folders.append(sets_root / name)
    others = [p for p in area_profiles(profile.parent.parent) if p != profile]
    theirs = _speech_keys(_profile_scripts(client), voices)
    everyone_else = _speech_keys([s for p in others for s in _profile_scripts(load_profile(p))], voices)
    everyone_else |= _speech_keys([(path, None) for path in find_scripts([library])] if library.is_dir() else [],
                                  voices)
    speech = clip_cache()
    removal.clips = sorted(k for k in theirs - everyone_else if speech.has(k))
    mp3s = [p for folder in removal.folders[1:] for p in folder.rglob("*.mp3") if p.is_file()]
    removal.pieces = _pieces_of(mp3s)
    return removal


def remove(removal: Removal) -> None:
    """Delete what plan_removal found: cache entries first, then the folders."""
    speech, pieces = clip_cache(), BlobCache(cache_root() / "mp3-pieces")
    for cache, keys in ((speech, removal.clips), (pieces, removal.pieces)):
        for key in keys:
            for place in cache.places(key):
                if place.is_file():
                    place.unlink()
    for folder in removal.folders:
        if folder.is_symlink() or not folder.is_dir():
            raise MeditateError(f"{shown(folder)} is not a folder meditate made: remove it by hand")
        shutil.rmtree(folder)


def _profile_scripts(client) -> list[tuple[Path, object]]:
    return [(track.script, client.settings(track)) for track in client.tracks]


def _speech_keys(scripts, voices) -> set[str]:
    keys: set[str] = set()
    for path, settings in scripts:
        try:
            script = load(path, settings)
            keys |= {request.key() for request in speech_requests(script, resolve_voices(script, voices))}
        except MeditateError:
            continue  # a script that does not load asks for no speech
    return keys


def _pieces_of(mp3s: list[Path]) -> list[str]:
    """The MP3 piece cache entries made of the client's tracks' frames (a piece is a run of whole frames)."""
    frames = {hashlib.sha256(f).digest() for mp3 in mp3s for f in track_frames(mp3.read_bytes())}
    if not frames:
        return []
    cache = BlobCache(cache_root() / "mp3-pieces")
    found = []
    for entry in cache.folder.rglob("*.bin") if cache.folder.is_dir() else ():
        payload = cache.get(entry.stem)
        try:
            piece = split_frames(payload) if payload else []
        except MeditateError:  # not frames: not a piece of theirs
            continue
        if piece and all(hashlib.sha256(f).digest() in frames for f in piece):
            found.append(entry.stem)
    return sorted(set(found))


def folder_size(folder: Path) -> int:
    """The bytes of the files below a folder."""
    return sum(os.path.getsize(p) for p in folder.rglob("*") if p.is_file() and not p.is_symlink())
