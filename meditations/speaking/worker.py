"""The speech worker process: loads engines when first needed, makes clips, stores them in the cache.

Started with `spawn` by its handle in workerhandle.py, for the pool in pool.py; one per core. Each clip
is brought to one loudness per voice (VOICE_LOUDNESS), then the step's volume, and trimmed, so two engines
in a track sit at one level.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from meditations.audio import clip_loudness, resample, store_for_new_clip
from meditations.files import BlobCache, cache_key
from meditations.model import MissingComponentError, RenderError

from .engines import CLIP_RATE, engine_module
from .request import SpeechRequest, trim_clip

VOICE_LOUDNESS = -20.0  # LUFS every voice is brought to (before the step's volume)
_REFERENCE_TEXT = "Breathe in slowly, and let your shoulders soften as you breathe out."


class _Speaker:
    """The engines one worker has loaded, and the clips it makes with them."""

    def __init__(self, cache: BlobCache, gains: BlobCache):
        self.cache = cache
        self.gain_cache = gains
        self.synthesizers: dict[str, Any] = {}
        self.gains: dict[str, float] = {}

    def open(self, engine: str) -> None:
        if engine not in self.synthesizers:
            self.synthesizers[engine] = engine_module(engine).Synthesizer()

    def samples(self, request: SpeechRequest, text: str, seed: int) -> np.ndarray:
        """Float samples at CLIP_RATE, unscaled."""
        module = engine_module(request.engine)
        audio = self.synthesizers[request.engine].speak(request.voice, text, module.control(request.rate), seed)
        if request.sample_rate != CLIP_RATE and audio.size:
            audio = resample(audio, request.sample_rate, CLIP_RATE)
        return audio

    def gain(self, request: SpeechRequest) -> float:
        """The gain that brings this voice to VOICE_LOUDNESS, measured once on a reference sentence."""
        key = cache_key("voice-gain", request.engine, request.identity, request.voice_id)
        if key not in self.gains:
            stored = self.gain_cache.get(key)
            if stored is None:
                reference = replace(request, text=_REFERENCE_TEXT, rate=130, volume=1.0)
                loudness = _loudness(self.samples(reference, _REFERENCE_TEXT, 1))
                value = 10 ** ((VOICE_LOUDNESS - loudness) / 20) if np.isfinite(loudness) else 1.0
                stored = repr(float(value)).encode()
                self.gain_cache.put(key, stored)
            self.gains[key] = float(stored)
        return self.gains[key]

    def clip(self, request: SpeechRequest) -> int:
        """Make one clip and store it; returns its length in samples."""
        key = request.key()
        audio = self.samples(request, request.text, int(key[:15], 16)) * (self.gain(request) * request.volume)
        samples = trim_clip((np.clip(audio, -1.0, 32767 / 32768) * 32768).astype("<i2"))
        if not self.cache.put(key, samples.tobytes()):  # the renders read every clip from the cache
            raise RenderError(f"the speech cache folder {self.cache.folder} cannot be written; set "
                              "MEDITATE_CACHE_DIR to a folder you can write")
        # the mixer's loudness statistics, while the clip is at hand
        store_for_new_clip(key, samples, self.cache.folder.parent)
        return int(samples.size)


def worker_main(connection, cache_folder: str, log_path: str) -> None:
    """Serve requests from the parent until told to stop. Replies: ("ok", value) or ("error", text)."""

    # Nothing from an engine may reach the user's terminal: not Python prints, not what a C library
    # writes to file descriptors 1 and 2. Complaints go to a log the parent reads when an engine fails
    # (eSpeak NG calls exit() when its data is missing).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = os.fdopen(os.dup(devnull), "w")  # for the life of the worker
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 2)
    speaker = _Speaker(BlobCache(Path(cache_folder)), BlobCache(Path(cache_folder).parent / "voice-gain"))
    connection.send(("ready", None))
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        command, payload = message
        try:
            if command == "open":
                speaker.open(payload)
                connection.send(("ok", None))
            elif command == "voices":
                connection.send(("ok", engine_module(payload).list_voices()))
            elif command == "speak":
                connection.send(("ok", speaker.clip(payload)))
        except MissingComponentError as exc:
            connection.send(("missing", str(exc)))
        except RenderError as exc:  # says itself what to do
            connection.send(("error", str(exc)))
        except Exception as exc:  # reported to the parent, which locates it
            connection.send(("error", f"{type(exc).__name__}: {exc}"))


def _loudness(audio: np.ndarray) -> float:
    return clip_loudness(audio, CLIP_RATE)
