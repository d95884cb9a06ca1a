"""A speech clip: the request that makes it (everything that changes its audio) and where it is cached.

Every clip is stored as mono 16-bit samples at CLIP_RATE, with the engine's silent lead-in and tail trimmed.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, field

import numpy as np

from meditations.audio import trim_silence
from meditations.files import BlobCache, cache_key, cache_root

from .engines import CLIP_RATE, DEFAULT_ENGINE, Voice, engine_module

ENGINE_SAMPLE_RATE = CLIP_RATE  # the rate of every cached clip (the mixer and planner resample from it)
CLIP_SILENCE = 150  # of 32767: below this the engine's lead-in and tail are trimmed


@dataclass(frozen=True)
class SpeechRequest:
    """Everything that changes a clip's audio."""

    text: str
    voice_id: str
    rate: int
    volume: float
    _: KW_ONLY  # what follows is named where given
    engine: str = DEFAULT_ENGINE
    identity: str = ""  # the engine's versions and the voice file's hash (filled in for eSpeak NG)
    model: str = field(default="", compare=False)  # where a Piper model is (not part of the key)
    sample_rate: int = field(default=CLIP_RATE, compare=False)

    def __post_init__(self):
        if not self.identity and self.engine == DEFAULT_ENGINE:
            object.__setattr__(self, "identity", f"{DEFAULT_ENGINE}:{engine_module(DEFAULT_ENGINE).version()}")

    @classmethod
    def of(cls, voice: Voice, text: str, rate: int, volume: float) -> SpeechRequest:
        """The request for a text in one of the engines' voices."""
        return cls(text, voice.id, rate, volume, engine=voice.engine, identity=voice.identity, model=voice.model,
                   sample_rate=voice.sample_rate)

    def key(self) -> str:
        """The clip's cache key: this request (engine, versions, voice hash), the tool's version."""
        return cache_key("speech", self)

    @property
    def voice(self) -> Voice:
        """The voice this request is spoken in."""
        return Voice(self.voice_id, self.voice_id, "", self.engine, self.sample_rate, "", self.identity, self.model)


def clip_cache() -> BlobCache:
    """The shared on-disk cache of synthesized clips."""
    return BlobCache(cache_root() / "speech")


def load_clip(key: str) -> np.ndarray | None:
    """A cached clip as int16 samples at CLIP_RATE, or None."""
    payload = clip_cache().get(key)
    if payload is None:
        return None
    return np.frombuffer(payload, dtype="<i2")


def trim_clip(samples: np.ndarray) -> np.ndarray:
    """The clip without the engine's silent lead-in and tail (a few ms kept either side)."""
    return trim_silence(samples, CLIP_RATE, CLIP_SILENCE)
