"""Shared test set-up: a fresh speech cache per test session, and helpers that read audio back."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import textwrap
from pathlib import Path

import numpy as np
import pytest

# Set before anything spawns a speech worker, so workers inherit it. A fresh cache per session:
# every run synthesizes with the real engine at least once.
os.environ["MEDITATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="meditate-test-cache-")

ROOT = Path(__file__).resolve().parent.parent


def ffmpeg() -> str:
    """The ffmpeg binary from the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode(path: Path, rate: int = 44100) -> np.ndarray:
    """An audio file decoded by ffmpeg to mono float32 samples at `rate`."""
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate),
                          "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def ffmpeg_duration(path: Path) -> float:
    """The duration ffmpeg's demuxer reports for a file (the same estimate ffprobe prints)."""
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info).groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


@pytest.fixture
def write(tmp_path):
    """Write a dedented text file below tmp_path and return its path."""
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path
    return _write


@pytest.fixture(scope="session")
def engine():
    """One real speech engine pool for the session."""
    from meditations.speaking.pool import SpeechEngine

    with SpeechEngine(workers=2) as pool:
        yield pool
