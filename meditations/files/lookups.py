"""Where each name a script uses led when it was loaded.

A source is what a name leads to, not the file it led to last time: a folder link retargeted, a library.yaml
put nearer to a script or a recording added where one was looked for all change a track without changing
any file it read. So every path the loader looks up goes through `Lookups.resolve`, which records the path
as it was named with the real path it led to (every link followed), or None when nothing was there; a
track's fingerprint holds the record, and a build looks every name up again.
"""

from __future__ import annotations

import os
from pathlib import Path


class Lookups:
    """The paths looked up while loading one script, each with the real file or folder it led to (or None)."""

    def __init__(self) -> None:
        self.places: dict[Path, Path | None] = {}

    def resolve(self, path: str | Path) -> Path:
        """The real path PATH leads to (it may not exist), recorded with PATH."""
        looked = Path.cwd() / path  # absolute, with its '..' kept: a '..' after a link leads from the link's target
        real = Path(os.path.realpath(looked))  # realpath: a link loop leads nowhere, never an exception
        self.places[looked] = _existing(real)
        return real

    def present(self, path: str | Path) -> bool:
        """Whether anything is at PATH itself (a link that leads nowhere too: it is then reported, not passed
        over), its lookup recorded."""
        self.resolve(path)
        return os.path.lexists(Path.cwd() / path)


def led_to(path: Path) -> Path | None:
    """Where PATH leads now, as `Lookups.resolve` records it: its real path, or None when nothing is there."""
    return _existing(Path(os.path.realpath(path)))


def _existing(real: Path) -> Path | None:
    return real if os.path.exists(real) else None
