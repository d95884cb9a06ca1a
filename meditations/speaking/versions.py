"""Versions that change the audio: part of every cache key and fingerprint (light to import)."""

from __future__ import annotations

from meditations.speaking.engines import hibari, piper

from .engines import ENGINES, engine_module


def engine_identity() -> str:
    """Names every speech engine and the versions that make its audio, with the SHA-256 each bundled
    voice must have (a library's own voice files are among a track's sources)."""

    parts = [f"{name}:{engine_module(name).version()}" for name in ENGINES]
    parts += [f"{voice}={digest}" for voice, (_, _, digest) in sorted(piper.BUNDLED.items())]
    parts += [f"hibari/{voice}={digest}" for voice, digest in sorted(hibari.BUNDLED.items())]
    return ";".join(parts)
