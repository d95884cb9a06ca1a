"""One build at a time per output folder: an flock on OUT_DIR/.meditate.lock, removed when the build ends.

The lock holds the folder itself open (O_DIRECTORY) for the whole build: the lock file is made, checked and
removed in that folder even if it is moved meanwhile, and `folder` (its path and identity as taken) is what
every placement of the build checks (files/folders.py)."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from meditations.files import OutputFolder, identity_of, open_in_place, shown
from meditations.model import MeditateError

LOCK = ".meditate.lock"


class BuildLock:
    """Held for a whole build; a second build on the folder is refused with a clear message."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / LOCK
        self.fd: int | None = None
        self.dir_fd: int | None = None
        self.folder = OutputFolder(out_dir, (0, 0))

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dir_fd = os.open(self.path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        self.folder = OutputFolder(self.path.parent, identity_of(self.dir_fd))
        try:
            self._take(self.dir_fd)
        except BaseException:
            self._close()
            raise
        return self

    def _take(self, folder: int) -> None:
        while self.fd is None:
            fd = self._open(folder)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise MeditateError(f"another build is writing to {self.path.parent} ({holder}); "
                                    "wait for it to finish, then build again") from None
            if self._still_the_lock_file(fd, folder):
                self.fd = fd
            else:
                os.close(fd)  # the build that held it removed it as we opened it: take the new one
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"pid {os.getpid()}".encode(), 0)

    def _open(self, folder: int) -> int:
        """The lock file, never through a link (which could make the build truncate another file), nor one
        with another name (a hard link: the same), and never blocking (a FIFO put there); anything but a
        regular file is refused."""
        try:
            return open_in_place(LOCK, os.O_RDWR | os.O_CREAT, dir_fd=folder)
        except OSError as exc:
            raise MeditateError(f"cannot use the lock file {shown(self.path)}: {exc.strerror}") from None

    @staticmethod
    def _still_the_lock_file(fd: int, folder: int) -> bool:
        try:
            return os.stat(LOCK, dir_fd=folder, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except OSError:
            return False

    def __exit__(self, *exc) -> None:
        # Removed while still held, so no other build can be holding this file when it goes; removed from
        # the folder the build took, wherever it is now.
        if self.fd is not None and self.dir_fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(LOCK, dir_fd=self.dir_fd)
        self._close()

    def _close(self) -> None:
        for fd in (self.fd, self.dir_fd):
            if fd is not None:
                os.close(fd)
        self.fd = self.dir_fd = None
