"""Where a `say` step's recording is found: a client's own recordings folder first (named by their profile),
then beside the script, inside the library.

A client's personal recordings can so live beside their profile, outside the shared library, while a
script names them the same way as any other recording.
"""

from __future__ import annotations

import os
from pathlib import Path

from meditations.files import within


def in_client_folder(relative: str, folder: Path | None) -> tuple[Path | None, Path | None]:
    """(the file, None) when the client's recordings folder holds RELATIVE; else (None, the place it was looked
    for, so that a recording added there later is noticed by an incremental build). (None, None) without a
    folder, or when RELATIVE leads out of it."""
    if folder is None:
        return None, None
    real = Path(os.path.realpath(folder / relative))
    if not within(real, folder):
        return None, None
    return (real, None) if real.is_file() else (None, real)
