"""The hand-over of one client's private set: what a therapist gives a client so they can listen on a phone.

Written into the client's own folder, beside their tracks and manifest, from the same manifest as a library's
files: the library's page and feed made private (the page asks search engines to stay away, the feed asks
podcast directories never to list it and hosts never to import it), their playlist, one zip of the MP3s and
transcripts (archive.py), a QR code of the page's address, and a printable handout (handout.py) that says how to
listen. The folder's address (the base URL) carries an unguessable part, chosen by whoever builds the folder:
it is the set's only key, so nothing here links outside the folder.

The client's name is written into the page and the handout only: the feed is read by podcast services' servers,
the zip and the QR code are made to be passed on.
"""

from __future__ import annotations

import io
from pathlib import Path

import segno

from meditations.model import one_line

from .archive import archive_names, write_archive
from .common import ARCHIVE, FEED, HANDOUT, PAGE, PLAYLIST, QR_IMAGE, HandOverSettings, file_url, human_size
from .feed import feed
from .handout import handout
from .outputs import check_base_url, check_cover, present_tracks, write_if_changed
from .page import _e, page
from .playlist import playlist

ROBOTS = "noindex, nofollow"


def hand_over(out_dir: Path, manifest: dict, settings: HandOverSettings) -> list[Path]:
    """Write the hand-over files of the client's set in out_dir, each only if its content changed: tracks.zip,
    library.m3u8, the private index.html and HANDOUT.html, and with settings.base_url the private feed.xml and
    qr.png (the QR code of the page's address). Returns the files written.

    Tracks whose MP3 is not in out_dir are left out of all of them. Raises MeditateError for a base URL that is not
    http(s) or a cover that is not a file inside out_dir, RenderError when a file cannot be written.
    """
    if settings.base_url is not None:
        check_base_url(settings.base_url)
    if settings.cover is not None:
        check_cover(out_dir, settings.cover)
    tracks = present_tracks(out_dir, manifest)
    written = []
    if write_archive(out_dir, archive_names(out_dir, tracks), out_dir / ARCHIVE):
        written.append(out_dir / ARCHIVE)
    archive_size = (out_dir / ARCHIVE).stat().st_size
    shared = settings.publishing()
    outputs = {PLAYLIST: playlist(tracks, shared).encode("utf-8")}
    outputs[PAGE] = page(out_dir, tracks, shared, robots=ROBOTS,
                         header=private_header(settings, archive_size)).encode("utf-8")
    qr_svg = ""
    if settings.base_url is not None:
        outputs[FEED] = feed(out_dir, tracks, shared, private=True).encode("utf-8")
        code = qr_code(file_url(settings.base_url, PAGE))
        outputs[QR_IMAGE] = qr_png(code)
        qr_svg = code.svg_inline(omitsize=True, light="#fff", svgclass="qr", title="QR code of your page’s address")
    outputs[HANDOUT] = handout(tracks, settings, qr_svg, archive_size).encode("utf-8")
    for name, data in outputs.items():
        if write_if_changed(out_dir / name, data):
            written.append(out_dir / name)
    return written


def private_header(settings: HandOverSettings, archive_size: int) -> list[str]:
    """The private page's lines below its count of tracks: who it is for, the zip, the handout and (with a base
    URL) the feed's address, all inside the folder."""
    client, size = one_line(settings.client), human_size(archive_size)
    made_for = f"Made for {_e(client)}. " if client else ""
    lines = [f'<p class="meta">{made_for}This page is private: please keep its address to yourself.</p>',
             f'<p><a class="download" href="{ARCHIVE}" download aria-label="Download all tracks (zip, {size})">'
             f'Download all tracks</a> <span class="meta">zip, {size}</span></p>',
             f'<p><a class="download" href="{HANDOUT}">How to listen on your phone</a></p>']
    if settings.base_url is not None:
        lines.append('<p class="meta">To listen in a podcast app, add this address: '
                     f'<span class="address">{_e(file_url(settings.base_url, FEED))}</span></p>')
    return lines


def qr_code(url: str) -> segno.QRCode:
    """The QR code of an address: a full QR code (phones' cameras read no Micro QR) with medium error correction,
    so a printed one still scans when smudged or folded."""
    return segno.make(url, error="m", micro=False)


def qr_png(code: segno.QRCode) -> bytes:
    """The QR code as a PNG large enough to print sharp (10 pixels a module) with the quiet border readers need."""
    buffer = io.BytesIO()
    code.save(buffer, kind="png", scale=10, border=4)
    return buffer.getvalue()
