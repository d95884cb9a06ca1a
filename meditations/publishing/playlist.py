"""library.m3u8: an extended M3U playlist of the library."""

from __future__ import annotations

from meditations.model import one_line, whole_seconds

from .common import PublishSettings


def playlist(tracks: list[dict], settings: PublishSettings) -> str:
    """An extended M3U playlist of the tracks, in order, with relative paths."""
    lines = ["#EXTM3U", f"#PLAYLIST:{one_line(settings.album)}"]
    for record in tracks:
        title = one_line(record.get("title"))
        label = f"{one_line(settings.artist)} - {title}" if one_line(settings.artist) else title
        entry = record["file"]
        lines += [f"#EXTINF:{whole_seconds(record.get('duration', 0))},{label}",
                  f"./{entry}" if entry.startswith("#") else entry]  # a line starting with # is not an entry
    return "\n".join(lines) + "\n"
