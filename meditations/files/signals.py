"""Ctrl-C, SIGTERM and SIGHUP stop meditate the same way: the work unwinds (every `finally` and context
manager runs: workers stopped and reaped, temporary files removed, the lock released), then the command line prints
one line and exits with 128 + the signal's number (130, 143, 129).

Build workers do not listen to the terminal: a Ctrl-C reaches every process of the foreground group, and
the parent alone decides. It stops each worker with SIGTERM, which unwinds the worker's track (its encoder
killed, its temporary file removed, its speech workers stopped) before the worker exits.
"""

from __future__ import annotations

import os
import signal
import time
from contextlib import contextmanager

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TERMINAL = {signal.SIGINT, signal.SIGHUP}  # what the terminal sends to every process of its foreground group


class Interrupted(BaseException):
    """A stopping signal arrived. A BaseException, like KeyboardInterrupt: `except Exception` lets it pass."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        """SIGINT, SIGTERM or SIGHUP."""
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process ended by this signal."""
        return 128 + self.signum


_raised = False


def _raise_once(signum, _frame) -> None:
    # Only the first signal raises: a second Ctrl-C must not cut the clean-up the first one started.
    global _raised
    if not _raised:
        _raised = True
        raise Interrupted(signum)


@contextmanager
def interruptible():
    """Within this block (main thread only) SIGINT, SIGTERM and SIGHUP raise Interrupted."""
    global _raised
    _raised = False
    previous = {number: signal.signal(number, _raise_once) for number in STOPPING}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@contextmanager
def deaf_children():
    """Processes started within this block never hear the terminal's Ctrl-C or hang-up, not even while they
    start (before they could ignore it, a Ctrl-C printed their KeyboardInterrupt): the two signals are blocked
    while they start, a child keeps a blocked signal across exec, and this process gets any that arrived."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, TERMINAL)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# ---------------------------------------------------------------- in a build worker

_working = False


def worker_initializer() -> None:
    """Set up a build worker: deaf to the terminal; SIGTERM (from the parent) stops it cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)


def _worker_stop(signum, _frame) -> None:
    if _working:
        raise Interrupted(signum)
    os._exit(128 + signum)  # idle: nothing to clean up


@contextmanager
def working():
    """A worker's task: a SIGTERM during it unwinds the task (its clean-up runs), then the worker exits."""
    global _working
    try:
        _working = True
        yield
    except Interrupted as stop:
        os._exit(stop.exit_code)
    finally:
        _working = False


def stop_processes(processes, grace: float = 10.0) -> None:
    """SIGTERM each process, wait for all (up to `grace` seconds in all), SIGKILL any left, reap them."""

    for process in processes:
        if process.is_alive():
            process.terminate()
    deadline = time.monotonic() + grace
    for process in processes:
        process.join(max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()
