"""index.html: one self-contained web page listing every track (its CSS and script, page.css and page.js
beside this module, are put inline: nothing is fetched from elsewhere), working from disk and any static host."""

from __future__ import annotations

import html
from collections.abc import Sequence
from functools import cache
from importlib.resources import files
from pathlib import Path

from meditations.encoding import Cue, read_cues
from meditations.model import clock, one_line

from .common import (
    PublishSettings,
    file_size,
    human_size,
    track_ids,
    track_title,
    tracks_summary,
    transcript_path,
    url_path,
)


@cache
def asset(name: str) -> str:
    """The text of a file beside this module (page.css, page.js)."""
    return files(__package__).joinpath(name).read_text(encoding="utf-8")


def _e(text) -> str:
    """Text escaped for HTML content and double-quoted attributes."""
    return html.escape(str(text or ""), quote=True)


def page(out_dir: Path, tracks: list[dict], settings: PublishSettings, robots: str = "",
         header: Sequence[str] = ()) -> str:
    """The whole self-contained web page listing every track. robots: what search engines are asked (a private
    page's "noindex, nofollow"); header: HTML lines shown below the count of tracks (a private page's links)."""
    album = one_line(settings.album) or "Meditations"
    head = [
        "<!doctype html>",
        f'<html lang="{_e(settings.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ]
    if robots:
        head.append(f'<meta name="robots" content="{_e(robots)}">')
    head += [
        '<meta name="referrer" content="no-referrer">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{_e(album)}</title>",
    ]
    if settings.description:
        head.append(f'<meta name="description" content="{_e(one_line(settings.description))}">')
    head += [f"<style>\n{asset('page.css')}</style>", "</head>", "<body>",
             '<a class="skip" href="#tracks">Skip to the tracks</a>', "<header>"]
    if settings.cover:
        head.append(f'<img class="cover" src="{_e(url_path(settings.cover))}" alt="" width="160" height="160">')
    head.append(f"<h1>{_e(album)}</h1>")
    if settings.artist:
        head.append(f'<p class="artist">{_e(one_line(settings.artist))}</p>')
    if settings.description:
        head.append(f"<p>{_e(settings.description)}</p>")
    head.append(f'<p class="meta">{tracks_summary(tracks)}</p>')
    head += [*header, "</header>", '<main id="tracks">']
    body = [track_html(out_dir, record, anchor, settings)
            for record, anchor in zip(tracks, track_ids(tracks), strict=True)]
    if not tracks:
        body.append("<p>No tracks yet.</p>")
    tail = ["</main>", f"<script>\n{asset('page.js')}</script>", "</body>", "</html>"]
    return "\n".join(head + body + tail) + "\n"


def track_html(out_dir: Path, record: dict, anchor: str, settings: PublishSettings) -> str:
    """One track's article: heading, description, player with captions, chapters, transcript, download."""
    title = track_title(record)
    duration = float(record.get("duration", 0))
    src = _e(url_path(record["file"]))
    vtt = transcript_path(out_dir, record)
    parts = [f'<article id="{anchor}" aria-labelledby="{anchor}-title">',
             f'<h2 id="{anchor}-title">{_e(title)}</h2>',
             f'<p class="meta"><span class="visually-hidden">Length </span>{clock(duration)}</p>']
    if record.get("description"):
        parts.append(f'<p class="description">{_e(record["description"])}</p>')
    parts.append(f'<audio controls preload="metadata" src="{src}" aria-label="{_e(title)}">')
    if vtt:
        parts.append(f'<track kind="captions" src="{_e(url_path(vtt))}" srclang="{_e(settings.language)}" '
                     f'label="Transcript" default>')
    parts.append("</audio>")
    parts.append(chapters_html(record.get("chapters") or [], title))
    if vtt:
        parts.append(transcript_html(read_cues(out_dir, vtt), title))
    size = human_size(file_size(out_dir, record))
    parts.append(f'<p><a class="download" href="{src}" download aria-label="Download MP3: {_e(title)} ({size})">'
                 f"Download MP3</a> <span class=\"meta\">{size}</span></p>")
    parts.append("</article>")
    return "\n".join(parts)


def chapters_html(chapters: list[dict], title: str) -> str:
    """The chapters as buttons that seek the track's player to their start and play it."""
    if not chapters:
        return ""
    items = []
    for chapter in chapters:
        name = one_line(chapter.get("title")) or "Chapter"
        start = float(chapter.get("start", 0))
        label = f"{name} {clock(start)}: play {title} from this chapter"
        items.append(f'<li><button type="button" class="chapter" data-start="{start:.3f}" aria-label="{_e(label)}">'
                     f'<span>{_e(name)}</span> <span class="time">{clock(start)}</span></button></li>')
    return (f'<nav aria-label="Chapters of {_e(title)}"><ol class="chapters">\n'
            + "\n".join(items) + "\n</ol></nav>")


def transcript_html(cues: list[Cue], title: str) -> str:
    """The transcript's cues as text inside a <details>, each with its start time (kept in data attributes, so
    the page can rebuild the captions where it cannot fetch the .vtt, as from file://)."""
    if not cues:
        return ""
    items = "\n".join(f'<li data-start="{c.start:.3f}" data-end="{c.end:.3f}"><span class="time">{clock(c.start)}'
                      f'</span> <span class="text">{_e(c.text)}</span></li>' for c in cues)
    return (f'<details class="transcript"><summary>Transcript<span class="visually-hidden"> of {_e(title)}</span>'
            f'</summary>\n<ol class="cues">\n{items}\n</ol></details>')
