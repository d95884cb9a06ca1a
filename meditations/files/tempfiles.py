"""Temporary files that say who made them, so a clean-up removes only its own or a dead owner's.

Every file meditate writes goes first to `.NAME.PID-XXXXXXXX.tmp` beside its final place (PID: the
process writing it; X: mkstemp's random letters), held with an exclusive flock while it is written,
then renamed into place. A clean-up removes a temporary file only when both say its owner is gone:
no process has that PID, and nobody holds its lock. Another live program's file, or one whose name
does not carry a PID (an older meditate's, or not ours at all), is never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import tempfile
from pathlib import Path

_OWNED = re.compile(r"^\..+\.(\d+)-[A-Za-z0-9_]+\.tmp$")


def make_temporary(path: Path) -> tuple[int, Path]:
    """A new, locked temporary file beside `path`: (open descriptor, its path). Closing the descriptor
    releases the lock; the caller renames or removes the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-", suffix=".tmp")
    fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file nobody else knows: never blocks
    return fd, Path(name)


def remove_quietly(path: Path) -> None:
    """Remove a file if it is there (never following a link: unlink removes the link itself)."""
    with contextlib.suppress(OSError):
        path.unlink()


def owner(path: Path) -> int | None:
    """The PID in a temporary file's name, or None when the name carries none."""
    match = _OWNED.match(path.name)
    return int(match.group(1)) if match else None


def process_alive(pid: int) -> bool:
    """Whether a process with this PID exists (one of another user's counts as alive)."""
    if pid <= 0:
        return True  # not a real owner: treat as alive, so its file is kept
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    # A killed process whose parent died too stays a zombie until init reaps it (in a container, maybe
    # never): it answers kill(pid, 0) but holds nothing and will never finish its file.
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state in (b"Z", b"X")


def _locked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return True  # cannot look: keep it
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def abandoned(path: Path) -> bool:
    """Whether a temporary file was left by a process that is gone (and so may be removed)."""
    pid = owner(path)
    if pid is None or pid == os.getpid() or process_alive(pid):
        return False
    return path.is_file() and not path.is_symlink() and not _locked(path)


def remove_abandoned(folder: Path) -> list[Path]:
    """Remove the temporary files below `folder` whose owner is gone; returns what was removed."""
    removed = []
    for path in sorted(folder.rglob(".*.tmp")):
        if abandoned(path):
            remove_quietly(path)
            removed.append(path)
    return removed
