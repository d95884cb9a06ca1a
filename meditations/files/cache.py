"""On-disk caches: where they live, keys derived from settings plus the tool's version, atomic writes,
and entries checked when read (a damaged entry is discarded and made again, never played)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

from meditations.model import MeditateError, RenderError
from meditations.version import __version__

from .tempfiles import make_temporary, remove_quietly

_MAGIC = b"MDC1"
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


def write_atomic(path: Path, data: bytes, durable: bool = True, private: bool = False) -> None:
    """Write through a temporary file in the same folder and rename it into place (fsync'd when durable).
    The file gets the permissions of any file the user makes (umask), or 0600 when private.
    A failure to write (a full disk, a read-only folder) is a RenderError naming the file."""
    try:
        _write_atomic(path, data, durable, private)
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from None


def _write_atomic(path: Path, data: bytes, durable: bool, private: bool) -> None:
    fd, temporary = make_temporary(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
            if not private:
                os.chmod(temporary, 0o666 & ~umask())  # mkstemp makes 0600: a page or transcript is ordinary
            os.replace(temporary, path)  # while still locked: no clean-up can take it before it is in place
    except BaseException:
        remove_quietly(temporary)
        raise


def umask() -> int:
    """The process's file-creation mask."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


class BlobCache:
    """Checked blobs under one folder: each entry carries a SHA-256 of its payload."""

    def __init__(self, folder: Path):
        self.folder = folder

    def path_for(self, key: str) -> Path:
        """Where an entry lives (two-level fan-out keeps folders small)."""
        return self.folder / key[:2] / f"{key}.bin"

    def get(self, key: str) -> bytes | None:
        """The payload, or None when missing or damaged (a damaged entry is removed)."""
        path = self.path_for(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        payload = data[len(_MAGIC) + _DIGEST:]
        if data[:len(_MAGIC)] != _MAGIC or hashlib.sha256(payload).digest() != data[len(_MAGIC):len(_MAGIC) + _DIGEST]:
            remove_quietly(path)
            return None
        return payload

    def has(self, key: str) -> bool:
        """Whether a sound entry is present (checked: a damaged one counts as missing)."""
        return self.get(key) is not None

    def put(self, key: str, payload: bytes) -> None:
        """Store a payload atomically: readers see the old state or the whole new entry."""
        # Not fsync'd: a cache entry torn by a power cut fails its checksum and is simply made again.
        write_atomic(self.path_for(key), _MAGIC + hashlib.sha256(payload).digest() + payload, durable=False,
                     private=True)
