"""One build at a time per output folder: an flock on OUT_DIR/.meditate.lock, removed when the build ends."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from stat import S_ISREG

from meditations.files import shown
from meditations.model import MeditateError

LOCK = ".meditate.lock"


class BuildLock:
    """Held for a whole build; a second build on the folder is refused with a clear message."""

    def __init__(self, out_dir: Path):
        self.path = out_dir / LOCK
        self.fd: int | None = None

    def __enter__(self) -> BuildLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        while self.fd is None:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
                os.close(fd)
                raise MeditateError(f"another build is writing to {self.path.parent} ({holder}); "
                                    "wait for it to finish, then build again") from None
            if self._still_the_lock_file(fd):
                self.fd = fd
            else:
                os.close(fd)  # the build that held it removed it as we opened it: take the new one
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, f"pid {os.getpid()}".encode(), 0)
        return self

    def _open(self) -> int:
        """The lock file, never through a link (which could make the build truncate another file) and never
        blocking (a FIFO put there); anything but a regular file is refused."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise MeditateError(f"cannot use the lock file {shown(self.path)}: "
                                f"{'it is a link' if os.path.islink(self.path) else exc.strerror}") from None
        if not S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise MeditateError(f"cannot use the lock file {shown(self.path)}: it is not a regular file")
        return fd

    def _still_the_lock_file(self, fd: int) -> bool:
        try:
            return os.stat(self.path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except OSError:
            return False

    def __exit__(self, *exc) -> None:
        # Removed while still held, so no other build can be holding this file when it goes.
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        if self.fd is not None:
            os.close(self.fd)
        self.fd = None
