"""HANDOUT.html: one printable page that tells a client, in plain words, how to listen to their set on a phone.

It fits on one A4 or Letter sheet for a set of up to 12 tracks (print styles in handout.css, put inline with the
QR code: nothing is fetched from elsewhere, so it prints and opens from disk as well as from the private folder)."""

from __future__ import annotations

from meditations.model import clock, one_line

from .common import ARCHIVE, FEED, PAGE, HandOverSettings, file_url, human_size, track_title, tracks_summary
from .page import _e, asset

# more tracks than this are listed in two columns on paper, so the handout stays one page
ONE_COLUMN = 6


def handout(tracks: list[dict], settings: HandOverSettings, qr_svg: str, archive_size: int) -> str:
    """The handout's whole page. qr_svg: the QR code of the page's address, as inline SVG ("" without a base URL,
    when there is no address: the handout then tells of the files alone)."""
    album = one_line(settings.album) or "Meditations"
    client, artist = one_line(settings.client), one_line(settings.artist)
    credit = " ".join(([f"for {_e(client)}"] if client else []) + ([f"by {_e(artist)}"] if artist else []))
    lines = [
        "<!doctype html>",
        f'<html lang="{_e(settings.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex, nofollow">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>{_e(album)}: how to listen</title>",
        f"<style>\n{asset('handout.css')}</style>",
        "</head>",
        "<body>",
        "<main>",
        f"<h1>{_e(album)}</h1>",
        f'<p class="for">Made {credit}</p>' if credit else "",
        '<p class="lead">These recordings were made just for you. Here is how to listen to them on your phone, '
        "whenever you like.</p>",
    ]
    base = settings.base_url
    size = human_size(archive_size)
    if base is not None:
        lines += online_sections(file_url(base, PAGE), file_url(base, FEED), qr_svg)
        lines += ["<section>", "<h2>Or keep the files</h2>",
                  f"<p>All your tracks are in one file, {ARCHIVE} ({size}), which you can download from your page. "
                  "Open it and copy the MP3 files into any music player you like. The words of each track are in "
                  "the .vtt file with the same name.</p>", "</section>"]
    else:
        lines += ["<section>", "<h2>Copy the files to your phone</h2>",
                  f"<p>All your tracks are in one file, {ARCHIVE} ({size}). Open it on your phone or computer and "
                  "copy the MP3 files into any music player you like. The words of each track are in the .vtt "
                  "file with the same name.</p>", "</section>"]
    lines += tracks_section(tracks)
    if base is not None:
        lines.append('<p class="private">This link is just for you. Please keep it to yourself, and don’t share '
                     "it or post it anywhere: anyone who has it can listen.</p>")
    lines += ["</main>", "</body>", "</html>"]
    return "\n".join(line for line in lines if line) + "\n"


def online_sections(page_url: str, feed_url: str, qr_svg: str) -> list[str]:
    """The page's address (with its QR code) and how to add the feed to a podcast app."""
    return [
        '<section class="open">',
        "<h2>Open your page</h2>",
        qr_svg,
        "<p>Point your phone’s camera at this code and tap the link that appears, or type this address into "
        "your browser:</p>",
        f'<p class="address">{_e(page_url)}</p>',
        "<p>Every track plays right there on the page, and you can download each one to keep.</p>",
        "</section>",
        "<section>",
        "<h2>Or listen in a podcast app</h2>",
        "<p>A podcast app remembers where you stopped and keeps playing with the screen off. "
        "Add this address to it:</p>",
        f'<p class="address">{_e(feed_url)}</p>',
        "<ul>",
        "<li><strong>iPhone (Apple Podcasts):</strong> go to Library, tap the button with three dots at the top, "
        "choose “Follow a Show by URL”, paste the address and tap Follow.</li>",
        "<li><strong>Android (for example AntennaPod):</strong> open the menu, tap “Add podcast”, then “Add "
        "podcast by RSS address” (in some versions “Add podcast by URL”), paste the address and confirm.</li>",
        "<li><strong>Other apps:</strong> look for “Add by URL” or “RSS feed”, often behind the + or search "
        "button.</li>",
        "</ul>",
        "</section>",
    ]


def tracks_section(tracks: list[dict]) -> list[str]:
    """The tracks of the set, in order, each with its length, and their count and total."""
    items = []
    for record in tracks:
        title, length = _e(track_title(record)), clock(float(record.get("duration", 0)))
        items.append(f'<li><span class="title">{title}</span> <span class="time">{length}</span></li>')
    many = " many" if len(tracks) > ONE_COLUMN else ""
    return ["<section>", "<h2>Your tracks</h2>", f'<ol class="tracks{many}">', *items, "</ol>",
            f'<p class="meta">{tracks_summary(tracks)}</p>', "</section>"]
