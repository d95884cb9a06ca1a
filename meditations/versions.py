"""Versions that change the audio: part of every cache key and fingerprint (light to import)."""

from __future__ import annotations


def engine_identity() -> str:
    """Names the speech engine and the versions that make its audio."""
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for package in ("pyttsx3", "espeakng-loader"):
        try:
            parts.append(f"{package}={version(package)}")
        except PackageNotFoundError:
            parts.append(f"{package}=system")
    return ";".join(parts)
