"""Speaking, the second stage: speech synthesized one sentence per clip, cached on disk, with any engine of
engines/.

The engines run in worker processes started with `spawn`, never in the calling process: a crash or hang
in an engine costs one clip (a clear error after a timeout), not the build. A worker loads an engine (and
a Piper model) the first time a clip needs it and keeps it. Every clip is stored as mono 16-bit samples
at CLIP_RATE, brought to one loudness per voice (so two engines in one track sit at the same level), with
the engine's silent lead-in and tail trimmed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import wait

from meditations.files import cache_key

from .engines import ENGINES, Voice, engine_module
from .request import ENGINE_SAMPLE_RATE, SpeechRequest, clip_cache, load_clip
from .voices import resolve_voice, voices_from_json, voices_json
from .workerhandle import Hung, WorkerHandle

# what the rest of the engine, the tests and the benchmarks import from here
__all__ = ["ENGINE_SAMPLE_RATE", "SpeechEngine", "SpeechRequest", "SynthesisFailure", "clip_cache", "load_clip",
           "resolve_voice"]


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
        self._workers: list[WorkerHandle] = []
        self._voices: dict[str, list[Voice]] = {}  # given: no worker is started just to list them
        self._progress = _no_progress
        for voice in voices or ():
            self._voices.setdefault(voice.engine, []).append(voice)

    def __enter__(self) -> SpeechEngine:
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

    def _spawn(self) -> WorkerHandle:
        return WorkerHandle(str(self.cache.folder))

    def voices(self) -> list[Voice]:
        """Every engine's voices."""

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
        self._progress = progress or _no_progress
        self._progress(0, len(missing))
        while len(self._workers) < min(self.size, max(1, len(missing) // 8 + 1)):
            self._workers.append(self._spawn())
        for worker in self._workers:
            worker.wait_ready(self.timeout)
        return self._run(missing)

    def _assign(self, index: int, request: SpeechRequest) -> WorkerHandle:
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
        total, queue = len(queue), list(reversed(queue))
        failures: list[SynthesisFailure] = []
        busy: dict = {}
        while queue or busy:
            for index, worker in enumerate(self._workers):
                if worker.job is None and queue:
                    request = queue.pop()
                    try:
                        worker = self._assign(index, request)
                    except (BrokenPipeError, OSError, Hung) as exc:
                        failures.append(SynthesisFailure(request, f"the speech engine hung for over "
                                                                  f"{self.timeout:.0f} s" if isinstance(exc, Hung)
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
                    status, value = worker.connection.recv()
                except (EOFError, OSError):  # its end of the pipe closed: it is dying, perhaps not yet dead
                    status, value = "crashed", "the speech engine crashed"
                if status != "ok":
                    failures.append(SynthesisFailure(worker.job, value))
                if status == "crashed" or (status == "error" and not worker.process.is_alive()):
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


def _no_progress(_done: int, _total: int) -> None:
    """Progress nobody follows."""
