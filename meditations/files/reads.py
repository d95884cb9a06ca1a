"""Every file meditate reads is checked for its kind and size before it is opened.

A named pipe (FIFO), a device, a socket, a folder, a symbolic link that loops or a file over its limit is a
clear error at once: nothing ever waits on a FIFO, and nothing larger than its limit is read into memory.
Limits come from the environment of the person running meditate (MEDITATE_MAX_* variables, docs/security.md).
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from meditations.model import Location, MeditateError, Problem, ScriptError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def env_limit(name: str, default: int) -> int:
    """A limit from the environment (a positive whole number), else its default.

    Limits come from the environment of the person running meditate, never from a script: a shared
    script cannot raise its own limits."""

    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise MeditateError(f"{name}={value[:40]} is not a whole number") from None
    if number <= 0:
        raise MeditateError(f"{name}={value[:40]} must be above zero")
    return number


@dataclass(frozen=True)
class FileLimits:
    """How large each kind of file may be (bytes), and how long an audio file may play (seconds)."""

    script_bytes: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_FILE_BYTES", 1_000_000))
    audio_bytes: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_AUDIO_BYTES", 300_000_000))
    audio_seconds: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_AUDIO_SECONDS", 1800))
    cover_bytes: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_COVER_BYTES", 5_000_000))
    # a build's own records (library.json, its journal, its stat cache): about 3 kB a track
    manifest_bytes: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_MANIFEST_BYTES", 200_000_000))

    def byte_limit(self, kind: str) -> tuple[int, str]:
        """The size limit of a kind of file ("script", "audio", "cover", "manifest") and the variable that
        raises it."""
        return {"script": (self.script_bytes, "MEDITATE_MAX_FILE_BYTES"),
                "audio": (self.audio_bytes, "MEDITATE_MAX_AUDIO_BYTES"),
                "cover": (self.cover_bytes, "MEDITATE_MAX_COVER_BYTES"),
                "manifest": (self.manifest_bytes, "MEDITATE_MAX_MANIFEST_BYTES")}[kind]


def file_problem(path, kind: str = "script", noun: str = "file", limits: FileLimits | None = None) -> str | None:
    """Why `path` cannot be read as a file of this kind, or None. Never opens the file.

    The answer reads after a name: "not found", "is a folder, not a file", "is 5000000 bytes, over ..."."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return _os_problem(exc)
    return _kind_problem(info, kind, noun, limits)


def _kind_problem(info: os.stat_result, kind: str, noun: str, limits: FileLimits | None) -> str | None:
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        return f"is a folder, not a {noun}"
    if stat.S_ISFIFO(mode):
        return f"is a named pipe (FIFO), not a {noun}"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return f"is a device, not a {noun}"
    if not stat.S_ISREG(mode):
        return f"is not a regular {noun}"
    limit, variable = (limits or FileLimits()).byte_limit(kind)
    if info.st_size > limit:
        return f"is {info.st_size} bytes, over the limit of {limit} bytes ({variable})"
    return None


def _os_problem(exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "not found"
    if exc.errno == errno.ELOOP:
        return "is a symbolic link that loops (it never leads to a file)"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "cannot be read (permission denied)"
    if exc.errno == errno.ENAMETOOLONG:
        return "has a name too long for this system"
    return f"cannot be read ({exc.strerror})"


def read_checked(path, kind: str, where: Location, noun: str = "file", limits: FileLimits | None = None,
                 head: int | None = None) -> bytes:
    """The bytes of a file (or its first `head` bytes) once its kind and size are checked; a ScriptError
    located at `where` otherwise. The file is opened without blocking (a FIFO swapped in after the check
    is refused, not waited on) and never more than its limit is read."""
    problem = file_problem(path, kind, noun, limits)
    if problem is not None:
        raise ScriptError([Problem(where, file_sentence(problem))])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ScriptError([Problem(where, file_sentence(_os_problem(exc)))]) from None
    try:
        problem = _kind_problem(os.fstat(fd), kind, noun, limits)  # the file that was opened, not the name
        if problem is not None:
            raise ScriptError([Problem(where, file_sentence(problem))])
        limit, variable = (limits or FileLimits()).byte_limit(kind)
        if head is not None:
            return _read_at_most(fd, min(limit, head))
        data = _read_at_most(fd, limit + 1)  # one byte more: a file that grew since it was checked is noticed
        if len(data) > limit:
            raise ScriptError([Problem(where, f"file is over the limit of {limit} bytes ({variable})")])
        return data
    except OSError as exc:
        raise ScriptError([Problem(where, file_sentence(_os_problem(exc)))]) from None
    finally:
        os.close(fd)


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks, total = [], 0
    while total < limit:
        chunk = os.read(fd, min(1 << 20, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def file_sentence(problem: str) -> str:
    """A problem of the file itself, as the message of FILE:1:1."""
    return problem if problem.startswith(("is a ", "is not ")) else f"file {problem}"


def image_problem(path: Path, limits: FileLimits | None = None) -> str | None:
    """Why a cover cannot be used: its kind, its size, or contents that are not the image type its name
    says (PNG or JPEG, recognised by their first bytes). None when it is a usable image."""
    problem = file_problem(path, "cover", limits=limits)
    if problem is not None:
        return problem
    try:
        head = read_checked(path, "cover", Location(str(path), 1, 1), limits=limits, head=8)
    except ScriptError as exc:
        return exc.problems[0].message
    if path.suffix.lower() == ".png":
        return None if head.startswith(PNG_MAGIC) else "is not a PNG image (its contents are not PNG)"
    return None if head.startswith(JPEG_MAGIC) else "is not a JPEG image (its contents are not JPEG)"


def is_regular_file(path) -> bool:
    """Whether path is a regular file (following links), without opening it or raising."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def within(path, folder) -> bool:
    """Whether PATH is FOLDER or below it, both with every link resolved (so a link cannot lead out)."""
    real, root = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == root or root in real.parents
