"""The parent's handle on one speech worker process (worker.py runs inside it): started with
`spawn`, it loads an engine when first asked and answers over a pipe; a worker that does not answer in
time is stopped."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import tempfile

from meditations.files import deaf_children
from meditations.model import MissingComponentError, RenderError

from .request import SpeechRequest
from .worker import worker_main


def cannot_start(engine: str, said: str) -> str:
    """The one line for an engine that cannot start in a worker, and what to do about it."""
    detail = f" ({said})" if said else ""
    if engine != "pyttsx3":  # the neural engines run on onnxruntime, which has no build for some machines
        shown = {"piper": "Piper"}.get(engine, engine)
        return (f"the {shown} speech engine could not start{detail}; it may not run on this machine: "
                "use 'voice: {engine: pyttsx3}' to speak with eSpeak NG instead")
    return (f"the eSpeak NG speech engine could not start{detail}; reinstall it with: "
            "pip install --force-reinstall espeakng-loader pyttsx3"
            + (" (and check ESPEAK_DATA_PATH)" if os.environ.get("ESPEAK_DATA_PATH") else ""))


class Hung(RenderError):
    """A worker that did not answer in time."""


class WorkerHandle:
    """The parent's end of one engine worker process: starting it, loading engines, one request at a time."""

    def __init__(self, cache_folder: str):
        context = multiprocessing.get_context("spawn")
        self.connection, child = context.Pipe()
        handle, self.log_path = tempfile.mkstemp(prefix="meditate-speech-", suffix=".log")
        os.close(handle)
        self.process = context.Process(target=worker_main, args=(child, cache_folder, self.log_path), daemon=True)
        with deaf_children():  # the parent alone decides when its speech workers stop
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
            raise Hung(f"{late} within {timeout:.0f} s")
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
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)
        if self.process.is_alive():
            with contextlib.suppress(OSError, ValueError):
                self.connection.send(None)
            self.process.join(timeout=1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.connection.close()
