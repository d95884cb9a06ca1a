"""The hand-over of a client's set, from its settings and manifest alone: the handout's words, exactly, and the
private page's links (tests/e2e/test_handover.py writes the files and opens them in a browser)."""

from __future__ import annotations

import re

from meditations.publishing import HandOverSettings, PublishSettings
from meditations.publishing.handout import handout
from meditations.publishing.handover import private_header

TRACKS = [{"title": "Evening <Rest> & calm", "file": "rest.mp3", "duration": 612.9},
          {"title": "", "file": "evening/sit quietly.mp3", "duration": 59.4}]
SETTINGS = HandOverSettings(client="Ana <B.>", album="Calm\nfor you", artist="Dr Lee & Partners",
                            base_url="https://example.org/sets/k7Qp2xVn/")
QR = '<svg viewBox="0 0 29 29" class="qr"></svg>'


def text_of(html: str) -> list[str]:
    """The handout's body as the reader sees it: each element's text on its own line (tags dropped, spaces as in
    the source), blank lines left out."""
    body = html.split("<main>", 1)[1].split("</main>", 1)[0]
    return [line for line in (re.sub(r"<[^>]+>", "", part).strip() for part in body.split("\n")) if line]


def test_the_handout_tells_the_client_how_to_listen_in_plain_words():
    page = handout(TRACKS, SETTINGS, QR, 34_567_000)
    assert text_of(page) == [
        "Calm for you",
        "Made for Ana &lt;B.&gt; by Dr Lee &amp; Partners",
        "These recordings were made just for you. Here is how to listen to them on your phone, whenever you like.",
        "Open your page",
        "Point your phone’s camera at this code and tap the link that appears, or type this address into your "
        "browser:",
        "https://example.org/sets/k7Qp2xVn/index.html",
        "Every track plays right there on the page, and you can download each one to keep.",
        "Or listen in a podcast app",
        "A podcast app remembers where you stopped and keeps playing with the screen off. Add this address to it:",
        "https://example.org/sets/k7Qp2xVn/feed.xml",
        "iPhone (Apple Podcasts): go to Library, tap the button with three dots at the top, choose “Follow a Show "
        "by URL”, paste the address and tap Follow.",
        "Android (for example AntennaPod): open the menu, tap “Add podcast”, then “Add podcast by RSS address” (in "
        "some versions “Add podcast by URL”), paste the address and confirm.",
        "Other apps: look for “Add by URL” or “RSS feed”, often behind the + or search button.",
        "Or keep the files",
        "All your tracks are in one file, tracks.zip (34.6 MB), which you can download from your page. Open it and "
        "copy the MP3 files into any music player you like. The words of each track are in the .vtt file with the "
        "same name.",
        "Your tracks",
        "Evening &lt;Rest&gt; &amp; calm 10:12",
        "sit quietly 0:59",
        "2 tracks, 11:12 in all",
        "This link is just for you. Please keep it to yourself, and don’t share it or post it anywhere: anyone who "
        "has it can listen.",
    ]
    assert QR in page
    assert "<title>Calm for you: how to listen</title>" in page
    assert '<meta name="robots" content="noindex, nofollow">' in page


def test_without_an_address_the_handout_tells_of_the_files_alone():
    page = handout(TRACKS[:1], HandOverSettings(client="Ana"), "", 900)
    assert text_of(page) == [
        "Meditations",
        "Made for Ana",
        "These recordings were made just for you. Here is how to listen to them on your phone, whenever you like.",
        "Copy the files to your phone",
        "All your tracks are in one file, tracks.zip (1 kB). Open it on your phone or computer and copy the MP3 "
        "files into any music player you like. The words of each track are in the .vtt file with the same name.",
        "Your tracks",
        "Evening &lt;Rest&gt; &amp; calm 10:12",
        "1 track, 10:12 in all",
    ]
    assert "<svg" not in page and "http" not in page


def test_a_handout_without_names_says_who_it_is_from_only_when_known():
    assert '<p class="for">' not in handout(TRACKS, HandOverSettings(client=" "), "", 1)
    assert '<p class="for">Made by Dr Lee</p>' in handout(TRACKS, HandOverSettings(client="", artist="Dr Lee"), "", 1)


def test_a_long_set_is_listed_in_two_columns_on_paper():
    many = [{"title": f"Track {n}", "file": f"{n}.mp3", "duration": 60} for n in range(7)]
    assert '<ol class="tracks many">' in handout(many, SETTINGS, QR, 1)
    assert '<ol class="tracks">' in handout(many[:6], SETTINGS, QR, 1)


def test_the_private_page_links_only_to_files_of_its_folder():
    assert private_header(SETTINGS, 34_567_000) == [
        '<p class="meta">Made for Ana &lt;B.&gt;. This page is private: please keep its address to yourself.</p>',
        '<p><a class="download" href="tracks.zip" download aria-label="Download all tracks (zip, 34.6 MB)">'
        'Download all tracks</a> <span class="meta">zip, 34.6 MB</span></p>',
        '<p><a class="download" href="HANDOUT.html">How to listen on your phone</a></p>',
        '<p class="meta">To listen in a podcast app, add this address: '
        '<span class="address">https://example.org/sets/k7Qp2xVn/feed.xml</span></p>',
    ]
    assert private_header(HandOverSettings(client=""), 2000)[0] == (
        '<p class="meta">This page is private: please keep its address to yourself.</p>')


def test_the_page_and_feed_settings_leave_the_client_out():
    assert SETTINGS.publishing() == PublishSettings(album="Calm\nfor you", artist="Dr Lee & Partners",
                                                    base_url="https://example.org/sets/k7Qp2xVn/")
