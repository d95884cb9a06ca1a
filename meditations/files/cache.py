"""On-disk caches: where they live, keys derived from settings plus the tool's version, atomic writes,
and entries checked when read (a damaged entry, or another key's, is made again and replaced, never played)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from meditations.model import MeditateError, RenderError
from meditations.version import __version__

from .folders import OutputFolder
from .tempfiles import Temporary

_MAGIC = b"MDC2"  # format 2: the checksum covers the key; entries of format 1 are made again
_SPARE = "spare"
MIN_FREE_BYTES = 16_000_000  # a few minutes of speech clips
_DIGEST = 32


def cache_root() -> Path:
    """MEDITATE_CACHE_DIR, else $XDG_CACHE_HOME/meditate, else ~/.cache/meditate."""
    explicit = os.environ.get("MEDITATE_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "meditate"


def check_cache_root() -> Path:
    """The cache folder, made if needed and checked writable; a MeditateError saying what to do otherwise (a
    MEDITATE_CACHE_DIR that names a file, or a folder this user cannot write)."""

    root = cache_root()
    try:
        (root / "speech").mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=root / "speech", prefix=".probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
        free = os.statvfs(root).f_bavail * os.statvfs(root).f_frsize
    except OSError as exc:
        reason = "it is a file, not a folder" if root.exists() and not root.is_dir() else exc.strerror
        raise MeditateError(f"the speech cache folder {root} cannot be used ({reason}); set MEDITATE_CACHE_DIR "
                            "to a folder you can write") from None
    if free < MIN_FREE_BYTES:  # speech written to a full disk fails slowly, one sentence at a time
        raise MeditateError(f"the disk of the speech cache folder {root} is full ({free // 1000} kB free, meditate "
                            "needs 16 MB); free some space or set MEDITATE_CACHE_DIR to a folder on another disk")
    return root


def cache_key(*parts) -> str:
    """A stable hex key from frozen dataclasses and plain values, always including the tool's version."""
    payload = json.dumps([__version__, *[_plain(p) for p in parts]], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value) if f.compare}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def write_atomic(path: Path, data: bytes, durable: bool = True, private: bool = False,
                 root: OutputFolder | None = None) -> None:
    """Write through a new temporary file in the same folder and rename it into place (fsync'd when durable),
    so a link or a hard link at `path` is replaced, never written through. The file gets the permissions of
    any file the user makes (umask), or 0600 when private. With `root` (a build's output folder), the folder
    is made only below it and must still be where the build took it (else FolderMoved).
    A failure to write (a full disk, a read-only folder) is a RenderError naming the file."""
    try:
        _write_atomic(path, data, durable, private, root)
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_atomic(path: Path, data: bytes, durable: bool, private: bool, root: OutputFolder | None) -> None:
    with Temporary(path, root) as temporary:
        temporary.write(data, durable, private)
        temporary.place()  # while still locked: no clean-up can take it before it is in place


class BlobCache:
    """Checked blobs under one folder. Each entry carries a SHA-256 of its key and its payload together, so an
    entry copied over another's place (another sentence's clip, say) fails its check like a damaged one, and
    is made again. An entry has two places: when the first cannot be written (a folder or an immutable file
    is there, its folder is full or read-only), the second is used, so a place that is stuck never costs every
    render of its text."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path_for(self, key: str) -> Path:
        """Where an entry lives (two-level fan-out keeps folders small)."""
        return self.folder / key[:2] / f"{key}.bin"

    def places(self, key: str) -> tuple[Path, Path]:
        """An entry's first place, and its spare one (in another folder)."""
        return self.path_for(key), self.folder / _SPARE / key[:2] / f"{key}.bin"

    def get(self, key: str) -> bytes | None:
        """The payload, or None when missing, damaged or another key's (the next put replaces it)."""
        for path in self.places(key):
            data = _read_entry(path)
            if data is not None and data[:len(_MAGIC)] == _MAGIC:
                payload = data[len(_MAGIC) + _DIGEST:]
                if _digest(key, payload) == data[len(_MAGIC):len(_MAGIC) + _DIGEST]:
                    return payload
        return None

    def has(self, key: str) -> bool:
        """Whether an entry is present (checked: a damaged one counts as missing)."""
        return self.get(key) is not None

    def put(self, key: str, payload: bytes) -> bool:
        """Store a payload atomically (readers see the old state or the whole new entry), in its first place
        or else its spare one; False when neither can be written (the entry is then simply not cached)."""
        entry = _MAGIC + _digest(key, payload) + payload
        for path in self.places(key):
            try:
                # Not fsync'd: an entry torn by a power cut fails its checksum and is simply made again.
                _write_atomic(path, entry, durable=False, private=True, root=None)
            except OSError:
                continue
            return True
        return False


def _digest(key: str, payload: bytes) -> bytes:
    return hashlib.sha256(key.encode("ascii") + b"\0" + payload).digest()


def _read_entry(path: Path) -> bytes | None:
    """An entry's bytes: a regular file's, reached without following a link; None for anything else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # a folder or a FIFO where an entry goes
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read()
    except OSError:
        return None
    finally:
        os.close(fd)
