"""Stage 3: synthesize speech with pyttsx3 (eSpeak NG), one sentence per clip, cached on disk.

The engine runs in worker processes started with `spawn`, never in the calling process: a crash or
hang in eSpeak NG costs one clip (a clear error after a timeout), not the build, and a process that
never initialised the engine can fork safely. Each worker speaks one utterance per engine run (only
the last queued save_to_file is ever written) and waits for `finished-utterance` and the file.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import numpy as np

from .cache import BlobCache, cache_key, cache_root
from .versions import engine_identity  # noqa: F401  (re-exported)
from .errors import MissingComponentError, RenderError

ENGINE_SAMPLE_RATE = 22050  # pyttsx3's espeak driver always writes mono 16-bit 22,050 Hz
_SILENCE_THRESHOLD = 150  # of 32767: below this the engine's lead-in and tail are trimmed
_KEEP_BEFORE = int(0.010 * ENGINE_SAMPLE_RATE)
_KEEP_AFTER = int(0.040 * ENGINE_SAMPLE_RATE)


@dataclass(frozen=True)
class Voice:
    """A voice the engine offers."""

    id: str
    name: str
    language: str


@dataclass(frozen=True)
class SpeechRequest:
    """Everything that changes a clip's audio."""

    text: str
    voice_id: str
    rate: int
    volume: float

    def key(self, engine: str) -> str:
        """The clip's cache key: this request, the engine and its version, the tool's version."""
        return cache_key("speech", engine, self)


def clip_cache() -> BlobCache:
    """The shared on-disk cache of synthesized clips."""
    return BlobCache(cache_root() / "speech")


def load_clip(key: str) -> np.ndarray | None:
    """A cached clip as int16 samples at ENGINE_SAMPLE_RATE, or None."""
    payload = clip_cache().get(key)
    if payload is None:
        return None
    return np.frombuffer(payload, dtype="<i2")


# ---------------------------------------------------------------- the worker process

def _prepare_espeak() -> None:
    """Point pyttsx3 at the espeakng-loader wheel's library and data (system eSpeak NG otherwise)."""
    try:
        import espeakng_loader
    except ImportError:
        return
    import ctypes

    os.environ.setdefault("ESPEAK_DATA_PATH", espeakng_loader.get_data_path())
    ctypes.CDLL(espeakng_loader.get_library_path())


def _start_engine():
    _prepare_espeak()
    try:
        import pyttsx3
        engine = pyttsx3.init("espeak")
    except (ImportError, OSError, RuntimeError) as exc:
        raise MissingComponentError(
            f"the eSpeak NG speech library could not be loaded ({exc}); "
            "install it with: pip install espeakng-loader pyttsx3") from None
    finished = _Finished()
    engine.connect("finished-utterance", lambda name, completed: finished.mark(completed))
    return engine, finished


class _Finished:
    """Set from eSpeak's thread when an utterance ends (after the driver has written its file)."""

    def __init__(self):
        import threading

        self.event = threading.Event()
        self.completed: list[bool] = []

    def clear(self) -> None:
        self.completed.clear()
        self.event.clear()

    def mark(self, completed: bool) -> None:
        self.completed.append(completed)
        self.event.set()


def _speak_to_file(engine, finished: "_Finished", request: SpeechRequest, path: str) -> None:
    """One utterance to a WAV file through pyttsx3's espeak driver.

    The driver is driven directly rather than through pyttsx3's command queue, because that queue
    races with eSpeak's callback thread (both seen here): commands sent just after one utterance
    were queued and ran against it (the previous rate, or the previous text written to the new file),
    and runAndWait() calls stop(), which cancels the new utterance while eSpeak still reports the
    last one as playing. Its loop also sleeps 10 ms a turn; instead we wait for the driver's own
    finished-utterance notification, which it sends once it has written the file.
    """
    from pyttsx3.drivers import _espeak

    driver = engine.proxy._driver
    _wait_until(lambda: not _espeak.IsPlaying(), "eSpeak NG stayed busy")
    try:
        os.unlink(path)
    except OSError:
        pass
    driver.setProperty("voice", request.voice_id)
    driver.setProperty("rate", request.rate)
    driver.setProperty("volume", request.volume)
    finished.clear()
    driver.save_to_file(request.text, path)
    driver._start_synthesis(request.text)
    if not finished.event.wait(timeout=SPEAK_TIMEOUT):
        raise RuntimeError(f"the engine did not finish within {SPEAK_TIMEOUT:.0f} s")
    if finished.completed != [True] or not os.path.exists(path):
        raise RuntimeError("the engine cancelled the utterance")


SPEAK_TIMEOUT = 50.0


def _wait_until(condition, failure: str, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(failure)
        time.sleep(0.002)


def trim_silence(samples: np.ndarray) -> np.ndarray:
    """The clip without the engine's silent lead-in and tail (a few ms kept either side)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_THRESHOLD)
    if loud.size == 0:
        return samples[:0]
    start = max(0, loud[0] - _KEEP_BEFORE)
    end = min(samples.size, loud[-1] + 1 + _KEEP_AFTER)
    return samples[start:end]


def _read_wav(path: str) -> np.ndarray:
    import wave

    with wave.open(path, "rb") as handle:
        if handle.getsampwidth() != 2 or handle.getnchannels() != 1:
            raise RuntimeError("unexpected WAV format from the engine")
        return np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")


def _worker_main(connection, cache_folder: str, engine_name: str, log_path: str) -> None:
    """Serve requests from the parent until told to stop. Replies: ("ok", value) or ("error", text)."""
    import sys

    # Nothing from the speech library may reach the user's terminal: not the driver's Python prints,
    # not what the C library writes to file descriptors 1 and 2. Its complaints go to a log that the
    # parent reads when the engine fails (eSpeak NG calls exit() when its data is missing).
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 2)
    try:
        engine, finished = _start_engine()
    except MissingComponentError as exc:
        connection.send(("missing", str(exc)))
        return
    connection.send(("ready", None))
    cache = BlobCache(Path(cache_folder))
    scratch = Path(cache_folder) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    while True:
        try:
            message = connection.recv()
        except EOFError:
            return
        if message is None:
            return
        command, payload = message
        try:
            if command == "voices":
                voices = [Voice(v.id, v.name, (v.languages or [""])[0]) for v in engine.getProperty("voices")]
                connection.send(("ok", voices))
            elif command == "speak":
                connection.send(("ok", _synthesize_into_cache(engine, finished, payload, cache, scratch,
                                                              engine_name)))
        except Exception as exc:  # reported to the parent, which locates it
            connection.send(("error", f"{type(exc).__name__}: {exc}"))


def _synthesize_into_cache(engine, finished, request: SpeechRequest, cache: BlobCache, scratch: Path,
                           engine_name: str) -> int:
    path = scratch / f"{os.getpid()}-{time.monotonic_ns()}.wav"
    try:
        _speak_to_file(engine, finished, request, str(path))
        samples = trim_silence(_read_wav(str(path)))
    finally:
        try:
            path.unlink()
        except OSError:
            pass
    cache.put(request.key(engine_name), samples.astype("<i2").tobytes())
    return int(samples.size)


# ---------------------------------------------------------------- the pool the engine runs in

class _Worker:
    def __init__(self, cache_folder: str, engine_name: str):
        import tempfile

        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        handle, self.log_path = tempfile.mkstemp(prefix="meditate-speech-", suffix=".log")
        os.close(handle)
        self.process = context.Process(target=_worker_main, args=(child, cache_folder, engine_name, self.log_path),
                                       daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.job: SpeechRequest | None = None
        self.started = 0.0

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.connection.poll(timeout):
            self.stop()
            raise RenderError("the speech engine did not start within "
                              f"{timeout:.0f} s")
        try:
            status, detail = self.connection.recv()
        except EOFError:
            said = self.last_words()
            self.stop()
            raise MissingComponentError("the eSpeak NG speech engine could not start"
                                        + (f" ({said})" if said else "")
                                        + "; reinstall it with: pip install --force-reinstall espeakng-loader pyttsx3"
                                        + (" (and check ESPEAK_DATA_PATH)" if os.environ.get("ESPEAK_DATA_PATH")
                                           else "")) from None
        if status == "missing":
            self.stop()
            raise MissingComponentError(detail)
        self.ready = True

    def last_words(self) -> str:
        """The last line the engine wrote to its error log (why it failed, if it said)."""
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                lines = [line.strip() for line in handle if line.strip()]
        except OSError:
            return ""
        return lines[-1][:200] if lines else ""

    def stop(self) -> None:
        try:
            os.unlink(self.log_path)
        except OSError:
            pass
        if self.process.is_alive():
            try:
                self.connection.send(None)
            except (OSError, ValueError):
                pass
            self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()


@dataclass(frozen=True)
class SynthesisFailure:
    """A clip that could not be made, and why."""

    request: SpeechRequest
    reason: str


class SpeechEngine:
    """A pool of engine worker processes that fills the clip cache."""

    def __init__(self, workers: int = 1, timeout: float = 60.0, voices: list[Voice] | None = None):
        self.size = max(1, workers)
        self.timeout = timeout
        self.engine = engine_identity()
        self.cache = clip_cache()
        self._workers: list[_Worker] = []
        self._voices: list[Voice] | None = voices  # given: no worker is started just to list them

    def __enter__(self) -> "SpeechEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker."""
        for worker in self._workers:
            worker.stop()
        self._workers.clear()

    def start(self, count: int = 1) -> None:
        """Start `count` engine workers now (otherwise they start when first needed)."""
        while len(self._workers) < count:
            self._workers.append(self._spawn())
        for worker in self._workers:
            worker.wait_ready(self.timeout)

    def _spawn(self) -> _Worker:
        return _Worker(str(self.cache.folder), self.engine)

    def voices(self) -> list[Voice]:
        """The voices the engine offers (remembered on disk per engine version: a render whose clips are
        all cached starts no engine at all)."""
        if self._voices is None:
            self._voices = self._remembered_voices()
        if self._voices is None:
            self._voices = self._ask_voices()
            payload = json.dumps([[v.id, v.name, v.language] for v in self._voices]).encode("utf-8")
            self.cache.put(cache_key("voices", self.engine), payload)
        return self._voices

    def _remembered_voices(self) -> list[Voice] | None:
        payload = self.cache.get(cache_key("voices", self.engine))
        if payload is None:
            return None
        try:
            return [Voice(*entry) for entry in json.loads(payload)]
        except (ValueError, TypeError):
            return None

    def _ask_voices(self) -> list[Voice]:
        worker = self._workers[0] if self._workers else self._spawn()
        if not self._workers:
            self._workers.append(worker)
        worker.wait_ready(self.timeout)
        worker.connection.send(("voices", None))
        if not worker.connection.poll(self.timeout):
            raise RenderError("the speech engine did not list its voices in time")
        status, value = worker.connection.recv()
        if status != "ok":
            raise RenderError(f"the speech engine could not list its voices: {value}")
        return value

    def synthesize(self, requests: Iterable[SpeechRequest]) -> list[SynthesisFailure]:
        """Make every missing clip; returns the requests that failed (crash, hang or error)."""
        missing = [r for r in dict.fromkeys(requests) if not self.cache.has(r.key(self.engine))]
        if not missing:
            return []
        while len(self._workers) < min(self.size, max(1, len(missing) // 8 + 1)):
            self._workers.append(self._spawn())
        for worker in self._workers:
            worker.wait_ready(self.timeout)
        return self._run(missing)

    def _run(self, queue: list[SpeechRequest]) -> list[SynthesisFailure]:
        from multiprocessing.connection import wait

        queue = list(reversed(queue))
        failures: list[SynthesisFailure] = []
        busy: dict = {}
        while queue or busy:
            for index, worker in enumerate(self._workers):
                if worker.job is None and queue:
                    if not worker.process.is_alive():  # died while idle: nothing was lost, start another
                        self._replace(index)
                        worker = self._workers[index]
                    worker.job = queue.pop()
                    worker.started = time.monotonic()
                    try:
                        worker.connection.send(("speak", worker.job))
                    except (BrokenPipeError, OSError):
                        failures.append(SynthesisFailure(worker.job, "the speech engine crashed"))
                        worker.job = None
                        self._replace(index)
                        continue
                    busy[worker.connection] = index
            ready = wait(list(busy), timeout=1.0)
            for connection in ready:
                index = busy.pop(connection)
                worker = self._workers[index]
                try:
                    status, value = connection.recv()
                except (EOFError, OSError):
                    status, value = "error", "the speech engine crashed"
                if status != "ok":
                    failures.append(SynthesisFailure(worker.job, value))
                if status == "error" and not worker.process.is_alive():
                    self._replace(index)
                worker.job = None
            now = time.monotonic()
            for connection, index in list(busy.items()):
                worker = self._workers[index]
                if now - worker.started > self.timeout or not worker.process.is_alive():
                    said = worker.last_words()
                    reason = ("the speech engine crashed" if not worker.process.is_alive()
                              else f"the speech engine hung for over {self.timeout:.0f} s")
                    reason += f" ({said})" if said else ""
                    failures.append(SynthesisFailure(worker.job, reason))
                    busy.pop(connection)
                    self._replace(index)
        return failures

    def _replace(self, index: int) -> None:
        self._workers[index].stop()
        self._workers[index] = self._spawn()
        self._workers[index].wait_ready(self.timeout)


def resolve_voice(wanted: str | None, language: str, voices: list[Voice]) -> Voice | None:
    """The engine voice for a name (voice id, language code or display name) or, if none, a language."""
    query = (wanted or language or "en").strip().lower()
    for test in (lambda v: v.id == query,
                 lambda v: v.language.lower() == query,
                 lambda v: v.id.rsplit("/", 1)[-1] == query,
                 lambda v: v.name.lower() == query):
        for voice in voices:
            if test(voice):
                return voice
    if wanted is None:
        for voice in voices:
            if voice.language.lower().startswith(query + "-"):
                return voice
    return None
