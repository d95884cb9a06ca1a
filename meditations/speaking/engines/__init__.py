"""Speech engines behind one small interface, one module per engine.

Each engine module offers:

- ``NAME``: the name a script gives as ``voice: {engine: NAME}``;
- ``version() -> str``: the versions that make its audio (part of every clip's identity);
- ``list_voices() -> list[Voice]``: the voices it has (``LISTS_IN_WORKER`` says whether that needs the engine
  loaded, i.e. a worker process);
- ``control(wpm) -> float``: its own control for a pace in words per minute, and ``DEFAULT_RATE``;
- ``Synthesizer()``: made once per worker process, whose ``speak(voice, text, control, seed)`` returns float32
  samples at the voice's native rate (``voice.sample_rate``).

Adding an engine is one module and one line in ``ENGINES``. Everything common (resampling to CLIP_RATE,
loudness matching, trimming, caching, worker processes) lives in the speaking package (pool.py, worker.py).
"""

from __future__ import annotations

import hashlib
import importlib
import os
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from meditations.audio import CLIP_RATE
from meditations.model import DEFAULT_ENGINE, ENGINE_NAMES

# The module of each engine a script may name (model.ENGINE_NAMES, which the loader checks names against).
ENGINES = dict(zip(ENGINE_NAMES, ("meditations.speaking.engines.espeak", "meditations.speaking.engines.piper",
                                  "meditations.speaking.engines.hibari"), strict=True))


@dataclass(frozen=True)
class Voice:
    """A voice one engine offers."""

    id: str
    name: str
    language: str
    engine: str = DEFAULT_ENGINE
    sample_rate: int = CLIP_RATE
    source: str = ""  # where it comes from: a package, or a file of the library
    identity: str = ""  # engine version and voice file hash: part of every clip's cache key
    model: str = field(default="", compare=False)  # a model file (its path is no part of the identity)
    problem: str = field(default="", compare=False)  # why this voice cannot be used (a model failing its check)


def engine_module(name: str):
    """The module of a registered engine (imported when first needed)."""
    return importlib.import_module(ENGINES[name])


def package_version(package: str) -> str:
    """An installed distribution's version, or 'missing'."""

    try:
        return version(package)
    except PackageNotFoundError:
        return "missing"


_HASHES: dict[tuple, str] = {}


def file_sha256(path: str) -> str:
    """A file's SHA-256 (remembered per process by path, size and modification time)."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]
