"""The pyttsx3 engine: eSpeak NG (from the espeakng-loader wheel) through pyttsx3's binding of its C library.

eSpeak NG keeps state from one utterance to the next (the same sentence came out up to 10 ms longer or
shorter depending on what was spoken before), so no utterance is ever spoken in the worker itself: the
worker initialises eSpeak NG once, in synchronous mode (no thread of its own, so forking is safe), and each
clip is spoken by a forked child that starts from exactly that state and exits. A fork costs a few
milliseconds; the clip then depends only on its text and settings.
"""

from __future__ import annotations

import ctypes
import os
import select
import signal
import time

import numpy as np

from meditations.model import MissingComponentError

from . import CLIP_RATE, Voice, package_version

NAME = "pyttsx3"
LISTS_IN_WORKER = True
# A rate is words per minute of speech in every engine. eSpeak NG's own number runs faster than that (at 170 it
# speaks about 210 words a minute): seconds per word = WORD_BASE + WORD_SCALE / its own rate, fitted on the
# en-us voice speaking twelve of the bundled library's sentences at its rates 80 to 240 (every point within
# 3 % of the fit; bench/rate_fit.py measures it again). Its own rate cannot go below 80: about 100 words a
# minute of speech is as slow as it speaks.
WORD_BASE = 0.0181
WORD_SCALE = 46.31
OWN_RATES = (80, 450)
DEFAULT_RATE = 150  # words per minute of speech: calm, and still clear in eSpeak NG's voice
SPEAK_TIMEOUT = 50.0  # below the pool's own timeout: the worker reports a hang itself


def version() -> str:
    """The packages that make this engine's audio."""
    return (f"pyttsx3={package_version('pyttsx3')};espeakng-loader={package_version('espeakng-loader')};"
            f"pace={WORD_BASE},{WORD_SCALE}")


def control(wpm: int) -> float:
    """eSpeak NG's own rate for a pace in words per minute of speech."""
    seconds_per_word = max(60.0 / wpm - WORD_BASE, 1e-3)
    return min(float(OWN_RATES[1]), max(float(OWN_RATES[0]), WORD_SCALE / seconds_per_word))


def _load_library():
    """pyttsx3's binding of eSpeak NG, pointed at the espeakng-loader wheel's library and data."""

    try:
        import espeakng_loader

        os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
        ctypes.CDLL(espeakng_loader.get_library_path())
    except ImportError:
        pass  # a system eSpeak NG, if there is one
    try:
        from pyttsx3.drivers import _espeak
    except (ImportError, OSError, RuntimeError) as exc:
        raise MissingComponentError(
            f"the eSpeak NG speech library could not be loaded ({exc}); "
            "install it with: pip install espeakng-loader pyttsx3") from None
    return _espeak


def _initialise():
    espeak = _load_library()
    if espeak.Initialize(espeak.AUDIO_OUTPUT_SYNCHRONOUS, 1000) == -1:
        raise RuntimeError("eSpeak NG could not initialise")
    return espeak


def list_voices() -> list[Voice]:
    """eSpeak NG's voices (needs the library: runs in a worker)."""
    espeak = _initialise()
    identity = f"{NAME}:{version()}"
    source = f"eSpeak NG (espeakng-loader {package_version('espeakng-loader')})"
    voices = []
    for v in espeak.ListVoices(None):
        language = v.languages[1:].decode("utf-8", errors="ignore") if v.languages else ""
        voices.append(Voice(v.identifier.decode("utf-8").lower(), v.name.decode("utf-8"), language, NAME, CLIP_RATE,
                            source, identity))
    return voices


class Synthesizer:
    """eSpeak NG in one worker process; every clip spoken by a fresh fork of it."""

    def __init__(self):
        self.espeak = _initialise()
        self._chunks: list[bytes] = []
        # Kept on the instance: the C library holds a pointer to it.
        self._callback = self._collect
        self.espeak.SetSynthCallback(self._callback)

    def _collect(self, wav, count, _events) -> int:
        if count > 0:
            self._chunks.append(ctypes.string_at(wav, count * 2))
        return 0

    def _speak_here(self, voice: Voice, text: str, rate: float) -> bytes:
        espeak = self.espeak
        if espeak.SetVoiceByName(voice.id.encode("utf-8")) != 0:
            raise RuntimeError(f"eSpeak NG has no voice '{voice.id}'")
        espeak.SetParameter(espeak.RATE, int(round(rate)), 0)
        espeak.SetParameter(espeak.VOLUME, 100, 0)
        self._chunks.clear()
        espeak.Synth(text.encode("utf-8"), flags=espeak.ENDPAUSE | espeak.CHARS_UTF8)
        return b"".join(self._chunks)

    def speak(self, voice: Voice, text: str, control: float, seed: int) -> np.ndarray:  # noqa: ARG002
        """One utterance, spoken by a forked child from the freshly initialised state (eSpeak NG draws
        nothing at random: the engine interface's seed is not needed)."""
        reader, writer = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: speak, hand the samples over, leave without running any clean-up
            code = 0
            try:
                os.close(reader)
                _die_with_parent()
                data = self._speak_here(voice, text, control)
                view = memoryview(data)
                while view:
                    view = view[os.write(writer, view):]
            except BaseException:
                code = 1
            os._exit(code)
        os.close(writer)
        try:
            data = _read_all(reader, SPEAK_TIMEOUT)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            raise RuntimeError(f"eSpeak NG did not finish within {SPEAK_TIMEOUT:.0f} s") from None
        finally:
            os.close(reader)
            _, status = os.waitpid(pid, 0)
        if status != 0:
            raise RuntimeError("eSpeak NG failed while speaking")
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def _read_all(fd: int, timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        block = os.read(fd, 1 << 16)
        if not block:
            return b"".join(parts)
        parts.append(block)


def _die_with_parent() -> None:
    """Linux: the child is killed if its worker is (a hung child never outlives the build)."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
