"""Where a `say` step's recording is found: a client's own recordings folder first (named by their profile),
then beside the script, inside the library.

A client's personal recordings can so live beside their profile, outside the shared library, while a
script names them the same way as any other recording.
"""

from __future__ import annotations

from pathlib import Path

from meditations.files import Lookups, is_regular_file, within


def in_client_folder(relative: str, folder: Path | None, lookups: Lookups) -> Path | None:
    """The client's own recording RELATIVE when their recordings folder holds it, else None (also without a
    folder, or when RELATIVE leads out of it). The place is looked up in LOOKUPS either way, so that a
    recording added there later is noticed by an incremental build."""
    if folder is None:
        return None
    real = lookups.resolve(folder / relative)
    if not within(real, folder):
        return None
    return real if is_regular_file(real) else None
