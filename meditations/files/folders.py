"""The folders meditate writes into, held while it writes, and the files it keeps open to write in place.

- A build takes its output folder as it is when the build starts (`OutputFolder`: its path and its device
  and inode). Before a file goes into place the path must still name that folder: moved away or replaced
  (by a rename, a new folder of the same name), the build stops with FolderMoved; it never makes the folder
  again where it was, nor writes into another one.
- The folders below it that a track goes into are made or entered one at a time, never through a link.
- A file meditate opens to write in place (the build's lock and journal; everything else is written to a
  new name and renamed over its place) is opened without following a link and without blocking, and
  refused when it is not a regular file or when it has another name (a hard link): writing it would change
  that other file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from meditations.model import RenderError

from .containment import shown

_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class FolderMoved(RenderError):
    """The folder meditate was writing into was moved or replaced meanwhile: nothing more is written."""


def folder_moved(folder: Path) -> FolderMoved:
    """The error for a folder that is no longer where it was."""
    return FolderMoved(f"the folder {shown(folder)} was moved or replaced while meditate was writing into it; "
                       "what was finished before is in the moved folder; run the command again")


def identity(path) -> tuple[int, int] | None:
    """The (device, inode) a path names now (following links), or None when it names nothing."""
    try:
        found = os.stat(path)
    except OSError:
        return None
    return found.st_dev, found.st_ino


def identity_of(fd: int) -> tuple[int, int]:
    """The (device, inode) of an open file or folder."""
    found = os.fstat(fd)
    return found.st_dev, found.st_ino


@dataclass(frozen=True)
class OutputFolder:
    """An output folder as a build took it: its path, and the device and inode the path named then. It
    pickles, so a worker checks the same folder."""

    path: Path
    identity: tuple[int, int]

    def check(self) -> None:
        """Raise FolderMoved unless the path still names the folder the build took."""
        if identity(self.path) != self.identity:
            raise folder_moved(self.path)


def open_folder(folder: Path, root: OutputFolder | None = None) -> int:
    """A handle (O_DIRECTORY) on the folder a file goes into, made if missing. With `root` (the output folder
    of a build), the root is checked, never made, and each folder below it is made or entered without
    following a link; without it, the folder and its parents are made as needed."""
    if root is None:
        folder.mkdir(parents=True, exist_ok=True)
        return os.open(folder, _FOLDER_FLAGS)
    root.check()
    fd = os.open(root.path, _FOLDER_FLAGS)
    if identity_of(fd) != root.identity:  # replaced between the check and the open
        os.close(fd)
        raise folder_moved(root.path)
    reached = root.path
    for part in folder.relative_to(root.path).parts:
        reached = reached / part
        try:
            fd = _enter(fd, part, reached)
        except BaseException:
            os.close(fd)
            raise
    return fd


def _enter(parent: int, name: str, shown_as: Path) -> int:
    """The folder `name` inside the open folder `parent` (made if missing), never through a link; closes
    `parent` once the child is open."""
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o777, dir_fd=parent)
    try:
        child = os.open(name, _FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
    except OSError as exc:
        if exc.errno == errno.ELOOP or _is_link(name, parent):
            raise OSError(errno.ELOOP, f"{shown(shown_as)} is a link, and meditate writes only inside the "
                                       "output folder") from None
        raise
    os.close(parent)
    return child


def _is_link(name: str, parent: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode)
    except OSError:
        return False


def open_in_place(name, flags: int, dir_fd: int | None = None) -> int:
    """Open a file to write it in place (with os.O_CREAT to make it): never through a link, never blocking on
    a FIFO, and only a regular file no other name shares. An OSError otherwise, its strerror saying why."""
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "it is a link") from None
        raise
    found = os.fstat(fd)
    if not stat.S_ISREG(found.st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "it is not a regular file")
    if found.st_nlink > 1:
        os.close(fd)
        raise OSError(errno.EMLINK, "it is a hard link (the same file has another name)")
    return fd


def foreign(path: Path) -> bool:
    """Whether something is at `path` that meditate cannot have written in place there: a link, a file
    with another name (a hard link), or anything but a regular file."""
    try:
        found = os.lstat(path)
    except OSError:
        return False
    return not stat.S_ISREG(found.st_mode) or found.st_nlink > 1
