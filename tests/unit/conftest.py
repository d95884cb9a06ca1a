"""The unit tier: fast tests of one stage at a time, with no speech engine (`./run.sh test tests/unit`).

A test here that starts a speech engine fails and says where it belongs: the engine is not mocked, the test
moves to tests/e2e/."""

from __future__ import annotations

import pytest

from meditations.speaking import SpeechEngine


@pytest.fixture(autouse=True)
def no_speech_engine(monkeypatch):
    """Starting a speech engine is an error in this tier."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a unit test started a speech engine: move it to tests/e2e/")

    monkeypatch.setattr(SpeechEngine, "__enter__", refuse)
    monkeypatch.setattr(SpeechEngine, "start", refuse, raising=False)
