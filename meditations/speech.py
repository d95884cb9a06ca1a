"""Stage 3: synthesize speech, one sentence per clip, cached on disk, with any engine of engines/.

The engines run in worker processes started with `spawn`, never in the calling process: a crash or hang
in an engine costs one clip (a clear error after a timeout), not the build. A worker loads an engine (and
a Piper model) the first time a clip needs it and keeps it. Every clip is stored as mono 16-bit samples
at CLIP_RATE, brought to one loudness per voice (so two engines in one track sit at the same level), with
the engine's silent lead-in and tail trimmed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np

from .cache import BlobCache, cache_key, cache_root
from .engines import CLIP_RATE, DEFAULT_ENGINE, Voice, engine_module
from .errors import MissingComponentError, RenderError

ENGINE_SAMPLE_RATE = CLIP_RATE  # the rate of every cached clip (the mixer and planner resample from it)
_SILENCE_THRESHOLD = 150  # of 32767: below this the engine's lead-in and tail are trimmed
_KEEP_BEFORE = int(0.010 * CLIP_RATE)
_KEEP_AFTER = int(0.040 * CLIP_RATE)


@dataclass(frozen=True)
class SpeechRequest:
    """Everything that changes a clip's audio."""

    text: str
    voice_id: str
    rate: int
    volume: float
    engine: str = DEFAULT_ENGINE
    identity: str = ""  # the engine's versions and the voice file's hash (filled in for eSpeak NG)
    model: str = field(default="", compare=False)  # where a Piper model is (not part of the key)
    sample_rate: int = field(default=CLIP_RATE, compare=False)

    def __post_init__(self):
        if not self.identity and self.engine == DEFAULT_ENGINE:
            object.__setattr__(self, "identity", f"{DEFAULT_ENGINE}:{engine_module(DEFAULT_ENGINE).version()}")

    @classmethod
    def of(cls, voice: Voice, text: str, rate: int, volume: float) -> "SpeechRequest":
        """The request for a text in one of the engines' voices."""
        return cls(text, voice.id, rate, volume, voice.engine, voice.identity, voice.model, voice.sample_rate)

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


def trim_silence(samples: np.ndarray) -> np.ndarray:
    """The clip without the engine's silent lead-in and tail (a few ms kept either side)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > _SILENCE_THRESHOLD)
    if loud.size == 0:
        return samples[:0]
    start = max(0, loud[0] - _KEEP_BEFORE)
    end = min(samples.size, loud[-1] + 1 + _KEEP_AFTER)
    return samples[start:end]


def cannot_start(engine: str, said: str) -> str:
    """The one line for an engine that cannot start in a worker, and what to do about it."""
    detail = f" ({said})" if said else ""
    if engine == "piper":
        return (f"the Piper speech engine could not start{detail}; it may not run on this machine: "
                "use 'voice: {engine: pyttsx3}' to speak with eSpeak NG instead")
    return (f"the eSpeak NG speech engine could not start{detail}; reinstall it with: "
            "pip install --force-reinstall espeakng-loader pyttsx3"
            + (" (and check ESPEAK_DATA_PATH)" if os.environ.get("ESPEAK_DATA_PATH") else ""))


def resolve_voice(wanted: str | None, language: str, voices: list[Voice]) -> Voice | None:
    """The voice for a name (voice id, language code or display name) or, if none, a language."""
    query = (wanted or language or "en").strip().lower()
    for test in (lambda v: v.id.lower() == query,
                 lambda v: v.language.lower() == query,
                 lambda v: v.id.rsplit("/", 1)[-1].lower() == query,
                 lambda v: v.name.lower() == query):
        for voice in voices:
            if test(voice):
                return voice
    if wanted is None:
        for voice in voices:
            if voice.language.lower().startswith(query + "-"):
                return voice
    return None


def voices_json(voices: list[Voice]) -> bytes:
    """A voice list as stored in the cache."""
    return json.dumps([[v.id, v.name, v.language, v.engine, v.sample_rate, v.source, v.identity, v.model]
                       for v in voices]).encode("utf-8")


def voices_from_json(payload: bytes) -> list[Voice] | None:
    """A stored voice list, or None when damaged."""
    try:
        return [Voice(*entry) for entry in json.loads(payload)]
    except (ValueError, TypeError):
        return None




# ---------------------------------------------------------------- the pool the engines run in

class _Hung(RenderError):
    """A worker that did not answer in time."""


class _Worker:
    def __init__(self, cache_folder: str):
        import tempfile

        from .speechworker import _worker_main

        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        handle, self.log_path = tempfile.mkstemp(prefix="meditate-speech-", suffix=".log")
        os.close(handle)
        self.process = context.Process(target=_worker_main, args=(child, cache_folder, self.log_path), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.opened: set[str] = set()
        self.job: SpeechRequest | None = None
        self.started = 0.0

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        status = self._reply(timeout, "the speech worker did not start")[0]
        if status != "ready":
            self.stop()
            raise RenderError("the speech worker did not start")
        self.ready = True

    def _reply(self, timeout: float, late: str):
        if not self.connection.poll(timeout):
            self.stop()
            raise _Hung(f"{late} within {timeout:.0f} s")
        try:
            return self.connection.recv()
        except EOFError:
            return "died", self.last_words()

    def open(self, engine: str, timeout: float) -> None:
        """Load an engine in this worker (once); an engine that cannot start is a MissingComponentError."""
        if engine in self.opened:
            return
        self.wait_ready(timeout)
        self.connection.send(("open", engine))
        status, detail = self._reply(timeout, f"the {engine} speech engine did not start")
        if status == "missing":
            self.stop()
            raise MissingComponentError(detail)
        if status != "ok":
            self.stop()
            raise MissingComponentError(cannot_start(engine, detail or ""))
        self.opened.add(engine)

    def ask(self, command: str, payload, timeout: float):
        """One request answered at once (a voice list)."""
        self.connection.send((command, payload))
        status, value = self._reply(timeout, "the speech engine did not answer")
        if status == "missing":
            raise MissingComponentError(value)
        if status != "ok":
            raise RenderError(f"the speech engine could not list its voices: {value}")
        return value

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
        self.cache = clip_cache()
        self._workers: list[_Worker] = []
        self._voices: dict[str, list[Voice]] = {}  # given: no worker is started just to list them
        self._progress = lambda done, total: None
        for voice in voices or ():
            self._voices.setdefault(voice.engine, []).append(voice)

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
        return _Worker(str(self.cache.folder))

    def voices(self) -> list[Voice]:
        """Every engine's voices."""
        from .engines import ENGINES

        return [voice for name in ENGINES for voice in self.voices_of(name)]

    def voices_of(self, engine: str) -> list[Voice]:
        """One engine's voices. Those that need the engine loaded are remembered on disk per engine
        version: a render whose clips are all cached starts no engine at all."""
        if engine not in self._voices:
            module = engine_module(engine)
            if not module.LISTS_IN_WORKER:
                self._voices[engine] = module.list_voices()
            else:
                key = cache_key("voices", engine, module.version())
                stored = self.cache.get(key)
                listed = voices_from_json(stored) if stored is not None else None
                if listed is None:
                    listed = self._ask_voices(engine)
                    self.cache.put(key, voices_json(listed))
                self._voices[engine] = listed
        return self._voices[engine]

    def _ask_voices(self, engine: str) -> list[Voice]:
        if not self._workers:
            self._workers.append(self._spawn())
        worker = self._workers[0]
        worker.open(engine, self.timeout)
        return worker.ask("voices", engine, self.timeout)

    def synthesize(self, requests: Iterable[SpeechRequest], progress=None) -> list[SynthesisFailure]:
        """Make every missing clip; returns the requests that failed (crash, hang or error).
        progress(done, total), if given, hears of every clip made (nothing when all are cached)."""
        missing = [r for r in dict.fromkeys(requests) if not self.cache.has(r.key())]
        if not missing:
            return []
        self._progress = progress or (lambda done, total: None)
        self._progress(0, len(missing))
        while len(self._workers) < min(self.size, max(1, len(missing) // 8 + 1)):
            self._workers.append(self._spawn())
        for worker in self._workers:
            worker.wait_ready(self.timeout)
        return self._run(missing)

    def _assign(self, index: int, request: SpeechRequest) -> _Worker:
        worker = self._workers[index]
        if not worker.process.is_alive():  # died while idle: nothing was lost, start another
            self._replace(index)
            worker = self._workers[index]
        worker.open(request.engine, self.timeout)
        worker.job = request
        worker.started = time.monotonic()
        worker.connection.send(("speak", request))
        return worker

    def _run(self, queue: list[SpeechRequest]) -> list[SynthesisFailure]:
        from multiprocessing.connection import wait

        total, queue = len(queue), list(reversed(queue))
        failures: list[SynthesisFailure] = []
        busy: dict = {}
        while queue or busy:
            for index, worker in enumerate(self._workers):
                if worker.job is None and queue:
                    request = queue.pop()
                    try:
                        worker = self._assign(index, request)
                    except (BrokenPipeError, OSError, _Hung) as exc:
                        failures.append(SynthesisFailure(request, f"the speech engine hung for over "
                                                                  f"{self.timeout:.0f} s" if isinstance(exc, _Hung)
                                                         else "the speech engine crashed"))
                        self._workers[index].job = None
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
                self._progress(total - len(queue) - len(busy), total)
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
