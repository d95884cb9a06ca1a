"""Temporary files that say who made them, so a clean-up removes only its own or a dead owner's.

Every file meditate writes goes first to `.NAME.PID-XXXXXXXX.tmp` beside its final place (PID: the
process writing it; X: random hex digits), made by the call that writes it (never a file or link already
there), held with an exclusive flock while it is written, then renamed into place in the folder it was
made in (held open meanwhile: `Temporary`). A clean-up removes a temporary file only when both say its owner is gone:
no process has that PID, and nobody holds its lock. Another live program's file, or one whose name
does not carry a PID (an older meditate's, or not ours at all), is never touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
from pathlib import Path

from .folders import OutputFolder, folder_moved, identity, identity_of, open_folder

_OWNED = re.compile(r"^\..+\.(\d+)-[A-Za-z0-9_]+\.tmp$")


def make_temporary(path: Path) -> tuple[int, Path]:
    """A new, locked temporary file beside `path`: (open descriptor, its path). Closing the descriptor
    releases the lock; the caller renames or removes the file."""
    folder = open_folder(path.parent)
    try:
        fd, name = _create(folder, path.name)
    finally:
        os.close(folder)
    return fd, path.parent / name


def _create(folder: int, target: str) -> tuple[int, str]:
    """A new file `.TARGET.PID-XXXXXXXX.tmp` in the open folder, made by this call (O_EXCL: never a file or
    link already there), locked; (descriptor, name)."""
    for _ in range(100):
        name = f".{target}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=folder)
        except FileExistsError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)  # a fresh file nobody else knows: never blocks
        return fd, name
    raise FileExistsError(f"no free temporary name beside {target}")


class Temporary:
    """A new, locked temporary file beside `target`, in its folder held open (O_DIRECTORY): it goes into place
    by a rename in the folder it was made in, or is removed from there, even when that folder has moved.
    Renamed over the target, it replaces whatever was there (a link, a file with other names) without
    writing to it. With `root` (a build's output folder), the folder is made below the root only, never
    through a link (folders.open_folder)."""

    def __init__(self, target: Path, root: OutputFolder | None = None):
        self.target, self.root = target, root
        self.folder = open_folder(target.parent, root)
        try:
            self.fd, self.name = _create(self.folder, target.name)
        except BaseException:
            os.close(self.folder)
            raise
        self.path = target.parent / self.name
        self.placed = False

    def __enter__(self) -> Temporary:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def check(self) -> None:
        """Raise FolderMoved when the target's folder (or the build's output folder) is not where it was."""
        if self.root is not None:
            self.root.check()
        if identity(self.target.parent) != identity_of(self.folder):
            raise folder_moved(self.target.parent)

    def write(self, data: bytes, durable: bool = True, private: bool = False) -> None:
        """Write the file's whole contents (fsync'd when durable). It gets the permissions of any file the user
        makes (umask), or 0600 when private."""
        with os.fdopen(os.dup(self.fd), "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        if not private:
            os.fchmod(self.fd, 0o666 & ~umask())  # made 0600: a page or transcript is ordinary

    def place(self, checked: bool = True) -> None:
        """Rename the file over its target, in the folder it was made in: checked first (raises FolderMoved),
        unless it goes beside a file just placed there (a track's transcript follows its track)."""
        if checked:
            self.check()
        os.replace(self.name, self.target.name, src_dir_fd=self.folder, dst_dir_fd=self.folder)
        self.placed = True

    def close(self) -> None:
        """Remove the file unless it was placed, and release it (the lock goes with its descriptor)."""
        if not self.placed:
            with contextlib.suppress(OSError):
                os.unlink(self.name, dir_fd=self.folder)
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        if self.folder >= 0:
            os.close(self.folder)
            self.folder = -1


def umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


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
