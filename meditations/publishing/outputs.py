"""Publishing, the last stage: a playlist, one offline web page and (with a base URL) a podcast feed.

Everything here is made from the manifest (OUT_DIR/library.json) and the files beside it, and is
deterministic: the same library gives the same bytes, so each file is rewritten only when the library
changed. Each file is made by its own module of `publishing/`: `playlist.py`, `page.py` (a single static
page whose CSS and script, `page.css` and `page.js`, are put inline: it works from disk and from any static
host) and `feed.py`.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from meditations.files import inside, is_regular_file, write_atomic
from meditations.model import MeditateError

from .common import FEED, PAGE, PLAYLIST, PublishSettings
from .feed import feed
from .page import page
from .playlist import playlist


def publish(out_dir: Path, manifest: dict, settings: PublishSettings) -> list[Path]:
    """Write library.m3u8, index.html and (when settings.base_url) feed.xml into out_dir, each only if its
    content changed (compare with what is on disk; write atomically). Returns the files written.

    Tracks whose MP3 is not in out_dir are left out of all three (a link to them would be broken).
    Raises MeditateError for a base URL that is not http(s) or a cover that is not a file inside out_dir.
    """
    if settings.base_url is not None:
        check_base_url(settings.base_url)
    if settings.cover is not None:
        check_cover(out_dir, settings.cover)
    tracks = present_tracks(out_dir, manifest)
    outputs = {PLAYLIST: playlist(tracks, settings), PAGE: page(out_dir, tracks, settings)}
    if settings.base_url is not None:
        outputs[FEED] = feed(out_dir, tracks, settings)
    written = []
    for name, text in outputs.items():
        if write_if_changed(out_dir / name, text.encode("utf-8")):
            written.append(out_dir / name)
    return written


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write data to path atomically unless the file already holds exactly these bytes; True if written."""
    try:
        if is_regular_file(path) and path.read_bytes() == data:  # never read a FIFO a user left here
            return False
    except OSError:
        pass
    write_atomic(path, data)
    return True


def check_base_url(base_url: str) -> None:
    """Raise MeditateError unless base_url is an absolute http:// or https:// address of a folder (no ? or #)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in base_url) \
            or "?" in base_url or "#" in base_url:
        raise MeditateError(f"base URL {base_url!r} is not a web address: it must start with http:// or https:// "
                            "and name a host and folder, without ? or # (for example https://example.org/meditations/)")


def check_cover(out_dir: Path, cover: str) -> None:
    """Raise MeditateError unless cover is a relative path to a file inside out_dir."""
    path = PurePosixPath(cover)
    if path.is_absolute() or ".." in path.parts or "\\" in cover or not (out_dir / path).is_file():
        raise MeditateError(f"cover {cover!r}: no such image inside {out_dir} (give its path relative to the "
                            "output folder, for example cover.jpg)")


def present_tracks(out_dir: Path, manifest: dict) -> list[dict]:
    """The manifest's tracks, in its order, whose MP3 is a file inside out_dir (reached without a link) and
    whose name can be written into a playlist, a page and a feed (UTF-8, no control characters)."""
    return [record for record in manifest.get("tracks", []) if isinstance(record, dict)
            and inside(out_dir, record.get("file")) is not None]
