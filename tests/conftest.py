"""Shared test set-up: a fresh speech cache per test session, and the fixtures every tier uses (helpers.py
holds the functions tests import)."""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path

import pytest

# Set before anything spawns a speech worker, so workers inherit it. A fresh cache per session:
# every run synthesizes with the real engine at least once.
os.environ["MEDITATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="meditate-test-cache-")


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
