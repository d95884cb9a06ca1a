"""Pieces shared by the playlist, the web page and the podcast feed: their settings, file names, and
text, URL and size forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from meditations.files import inside
from meditations.model import clock, one_line

PLAYLIST = "library.m3u8"
PAGE = "index.html"
FEED = "feed.xml"
# the hand-over files of one client's private set (handover.py), beside its page and feed
ARCHIVE = "tracks.zip"
QR_IMAGE = "qr.png"
HANDOUT = "HANDOUT.html"


@dataclass(frozen=True)
class PublishSettings:
    """How the library is presented: names for the playlist, page and feed, and where it is hosted."""

    album: str = "Meditations"
    artist: str = ""
    description: str = ""
    base_url: str | None = None  # where OUT_DIR is served (http:// or https://); a feed is written only with it
    cover: str | None = None  # a cover image inside OUT_DIR, as a relative path with / separators
    language: str = "en"


@dataclass(frozen=True)
class HandOverSettings:
    """How one client's private set is handed over: their name, names for its page and feed, and the private
    folder's address (which carries an unguessable part: whoever has it can listen)."""

    client: str  # the client's display name: personal, written into the private page and handout only
    album: str = "Meditations"
    artist: str = ""  # who made the set (the therapist or the practice)
    description: str = ""
    base_url: str | None = None  # where the private folder is served; the feed and QR code are written only with it
    cover: str | None = None  # a cover image inside the folder, as a relative path with / separators
    language: str = "en"

    def publishing(self) -> PublishSettings:
        """The same set as the page and feed of a library take it (without the client's name)."""
        return PublishSettings(album=self.album, artist=self.artist, description=self.description,
                               base_url=self.base_url, cover=self.cover, language=self.language)


def url_path(relative: str) -> str:
    """A relative file path as a URL path: every part percent-encoded, / kept."""
    return quote(relative, safe="/")


def file_url(base_url: str, relative: str) -> str:
    """The absolute URL of a file of out_dir served at base_url."""
    return base_url.rstrip("/") + "/" + url_path(relative)


def file_size(out_dir: Path, record: dict) -> int:
    """The MP3's byte size: the record's, else the file's."""
    size = record.get("size")
    return int(size) if isinstance(size, int) and size > 0 else (out_dir / record["file"]).stat().st_size


def human_size(size: int) -> str:
    """A byte count as people read it (for example 5.2 MB)."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{max(1, round(size / 1000))} kB"


def track_title(record: dict) -> str:
    """A track's title on one line, or its file's name when it has none."""
    return one_line(record.get("title")) or PurePosixPath(record["file"]).stem


def tracks_summary(tracks: list[dict]) -> str:
    """How many tracks and how long they last together (for example 3 tracks, 24:10 in all)."""
    count = f"{len(tracks)} track" + ("" if len(tracks) == 1 else "s")
    return f"{count}, {clock(sum(float(t.get('duration', 0)) for t in tracks))} in all"


def track_ids(tracks: list[dict]) -> list[str]:
    """A unique, stable HTML id per track, made from its file name."""
    ids, seen = [], set()
    for record in tracks:
        stem = re.sub(r"[^a-z0-9]+", "-", PurePosixPath(record["file"]).with_suffix("").as_posix().lower())
        base = "track-" + (stem.strip("-") or "x")
        name, n = base, 2
        while name in seen:
            name, n = f"{base}-{n}", n + 1
        seen.add(name)
        ids.append(name)
    return ids


def transcript_path(out_dir: Path, record: dict) -> str | None:
    """The relative path of the track's WebVTT transcript when that file exists: the record's `transcript`,
    else <stem>.vtt beside the MP3."""
    name = record.get("transcript") or PurePosixPath(record["file"]).with_suffix(".vtt").as_posix()
    if inside(out_dir, name) is None:  # below out_dir, reached without a link, a usable name
        return None
    return PurePosixPath(name).as_posix()
