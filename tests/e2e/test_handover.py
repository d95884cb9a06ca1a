"""Handing over a client's private set: the private feed read by a real feed parser, the QR code read back by a
real decoder, the zip, and the private page and handout in a real headless Chromium at a phone's size and on
paper. The set's tracks are tiny MP3s encoded by the bundled ffmpeg (no speech is needed)."""

from __future__ import annotations

import base64
import html.parser
import json
import os
import re
import struct
import subprocess
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from helpers import ffmpeg

from meditations.publishing import HandOverSettings, hand_over, publish
from meditations.publishing.feed import PODCAST

CLIENT = "Ana Müller-Okafor"
BASE = "https://example.org/sets/k7Qp2xVn9wLmR4tZ/"
SETTINGS = HandOverSettings(client=CLIENT, album="Calm evenings", artist="Dr Lee", description="Short practices.",
                            base_url=BASE)
TITLES = ["Arriving after a long day", "Breathing space", "Kindness towards yourself, a longer practice"]
VTT = "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nBreathe in.\n"


def write_mp3(path: Path, seconds: float) -> None:
    """A tiny MP3: a quiet tone, mono, 32 kbit/s, encoded by the bundled ffmpeg."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", f"sine=frequency=220:duration={seconds}",
                    "-ac", "1", "-ar", "22050", "-c:a", "libmp3lame", "-b:a", "32k", str(path)], check=True)


def make_set(folder: Path, titles: list[str] = TITLES) -> dict:
    """A client's private folder as the build leaves it: an MP3 and transcript per track (one in a sub-folder, one
    without a transcript) and library.json; its manifest."""
    tracks = []
    for n, title in enumerate(titles):
        name = f"{n + 1:02d} {title.split(',')[0].lower()}.mp3" if n != 1 else "breathing/space.mp3"
        write_mp3(folder / name, 1 + n * 0.5)
        if n != 2:
            (folder / name).with_suffix(".vtt").write_text(VTT, encoding="utf-8")
        tracks.append({"file": name, "title": title, "description": f"Practice {n + 1}.", "duration": 600.0 + n * 61,
                       "size": (folder / name).stat().st_size, "fingerprint": f"{n:064x}"})
    manifest = {"tool": "meditate", "tracks": tracks}
    (folder / "library.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


@pytest.fixture
def client_set(tmp_path):
    """A client's folder with its set handed over: (folder, manifest)."""
    folder = tmp_path / "client_sets" / "ana"
    manifest = make_set(folder)
    hand_over(folder, manifest, SETTINGS)
    return folder, manifest


# ---------------------------------------------------------------- what is written

def test_every_file_is_written_once_and_then_only_when_its_content_changes(client_set):
    folder, manifest = client_set
    names = ["tracks.zip", "library.m3u8", "index.html", "feed.xml", "qr.png", "HANDOUT.html"]
    assert all((folder / name).is_file() for name in names)
    times = {name: (folder / name).stat().st_mtime_ns for name in names}
    assert hand_over(folder, manifest, SETTINGS) == []
    assert {name: (folder / name).stat().st_mtime_ns for name in names} == times
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temporary file left behind
    # another address: the page (its feed address), the feed, the QR code and the handout change; the zip does not
    moved = replace(SETTINGS, base_url="https://example.org/sets/other/")
    assert [p.name for p in hand_over(folder, manifest, moved)] == [
        "index.html", "feed.xml", "qr.png", "HANDOUT.html"]


def test_without_an_address_there_is_no_feed_nor_qr_code(tmp_path):
    manifest = make_set(tmp_path)
    written = hand_over(tmp_path, manifest, HandOverSettings(client=CLIENT))
    assert [p.name for p in written] == ["tracks.zip", "library.m3u8", "index.html", "HANDOUT.html"]
    assert not (tmp_path / "feed.xml").exists() and not (tmp_path / "qr.png").exists()
    assert "http" not in (tmp_path / "HANDOUT.html").read_text(encoding="utf-8")


def test_the_clients_name_is_only_in_the_private_page_and_handout(client_set):
    folder, _ = client_set
    holding = sorted(p.name for p in folder.rglob("*") if p.is_file() and CLIENT.encode() in p.read_bytes())
    assert holding == ["HANDOUT.html", "index.html"]


# ---------------------------------------------------------------- the private feed

def test_the_feed_asks_directories_not_to_list_it_and_parses_cleanly(client_set):
    import feedparser

    folder, manifest = client_set
    text = (folder / "feed.xml").read_text(encoding="utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:atom="http://www.w3.org/2005/Atom" '
                           'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" '
                           'xmlns:podcast="https://podcastindex.org/namespace/1.0" version="2.0">')
    assert "    <itunes:block>Yes</itunes:block>\n    <podcast:locked>yes</podcast:locked>\n" in text
    parsed = feedparser.parse(text.encode("utf-8"))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    assert parsed.feed.itunes_block == 1 and parsed.feed.podcast_locked == "yes"
    assert parsed.namespaces["podcast"] == PODCAST
    assert parsed.feed.title == "Calm evenings" and parsed.feed.link == BASE
    assert [e.title for e in parsed.entries] == TITLES
    assert [e.enclosures[0].href for e in parsed.entries] == [BASE + r["file"].replace(" ", "%20")
                                                               for r in manifest["tracks"]]


def test_a_librarys_public_feed_stays_listed(tmp_path):
    manifest = make_set(tmp_path)
    publish(tmp_path, manifest, SETTINGS.publishing())
    text = (tmp_path / "feed.xml").read_text(encoding="utf-8")
    assert PODCAST not in text and "<itunes:block>" not in text and "locked" not in text


# ---------------------------------------------------------------- the QR code

def decode_png(data: bytes) -> list[str]:
    """The texts of the QR codes in a PNG image (decoded to grey pixels by the bundled ffmpeg, read by zxing-cpp)."""
    zxingcpp = pytest.importorskip("zxingcpp", reason="zxing-cpp is not installed (pip install -e '.[test]')")
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk, first in every PNG
    grey = subprocess.run([ffmpeg(), "-v", "error", "-f", "png_pipe", "-i", "-", "-f", "rawvideo", "-pix_fmt", "gray",
                           "-"], input=data, check=True, capture_output=True).stdout
    image = np.frombuffer(grey, dtype=np.uint8).reshape(height, width)
    return [code.text for code in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def test_the_qr_code_reads_back_as_the_private_pages_address(client_set):
    folder, _ = client_set
    data = (folder / "qr.png").read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert decode_png(data) == [BASE + "index.html"]


# ---------------------------------------------------------------- the zip

def test_the_zip_holds_exactly_the_mp3s_and_transcripts_stored(client_set):
    folder, manifest = client_set
    with zipfile.ZipFile(folder / "tracks.zip") as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == ["01 arriving after a long day.mp3", "01 arriving after a long day.vtt",
                                               "03 kindness towards yourself.mp3", "breathing/space.mp3",
                                               "breathing/space.vtt"]
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert archive.read(info) == (folder / info.filename).read_bytes()
        assert archive.testzip() is None


def test_the_same_set_gives_the_same_zip_and_a_changed_one_another(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    manifest = make_set(first)
    make_set(second)
    for path in second.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))  # another build time changes nothing
    hand_over(first, manifest, SETTINGS)
    hand_over(second, {**manifest, "tracks": manifest["tracks"][::-1]}, SETTINGS)  # nor the manifest's order
    assert (first / "tracks.zip").read_bytes() == (second / "tracks.zip").read_bytes()
    (second / "breathing" / "space.vtt").write_text(VTT.replace("in", "out"), encoding="utf-8")
    assert second / "tracks.zip" in hand_over(second, manifest, SETTINGS)
    assert (first / "tracks.zip").read_bytes() != (second / "tracks.zip").read_bytes()


# ---------------------------------------------------------------- the private page

class Links(html.parser.HTMLParser):
    """Every address an HTML page links or loads (href, src), and its robots meta."""

    def __init__(self):
        super().__init__()
        self.addresses, self.robots = [], None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.addresses += [attrs[name] for name in ("href", "src") if attrs.get(name) is not None]
        if tag == "meta" and attrs.get("name") == "robots":
            self.robots = attrs.get("content")


@pytest.mark.parametrize("name", ["index.html", "HANDOUT.html"])
def test_the_page_and_handout_ask_not_to_be_indexed_and_link_only_inside_the_folder(client_set, name):
    folder, _ = client_set
    links = Links()
    links.feed((folder / name).read_text(encoding="utf-8"))
    assert links.robots == "noindex, nofollow"
    for address in links.addresses:
        if address.startswith("#"):
            continue
        assert not re.match(r"[a-z][a-z0-9+.-]*:|/|\.\.", address), address
        assert (folder / address.replace("%20", " ")).is_file(), address


def test_the_page_offers_the_zip_the_handout_and_the_feed(client_set):
    folder, _ = client_set
    text = (folder / "index.html").read_text(encoding="utf-8")
    links = Links()
    links.feed(text)
    assert {"tracks.zip", "HANDOUT.html"} <= set(links.addresses)
    assert f'<span class="address">{BASE}feed.xml</span>' in text
    assert "Made for Ana Müller-Okafor. This page is private: please keep its address to yourself." in text


def test_the_handout_loads_nothing_from_anywhere(client_set):
    folder, _ = client_set
    text = (folder / "HANDOUT.html").read_text(encoding="utf-8")
    assert not re.search(r"\b(src|href)=|url\(|@import", text)


# ---------------------------------------------------------------- in a real browser: a phone, and paper

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}

OVERFLOW = """
const width = document.documentElement.clientWidth;
const wide = Array.from(document.querySelectorAll("body *")).filter(e => {
  const box = e.getBoundingClientRect();
  return box.width > 0 && box.right > width + 0.5 && !e.closest(".visually-hidden, .skip");
}).map(e => e.outerHTML.slice(0, 80));
return {width: width, scroll: document.documentElement.scrollWidth, wide: wide};
"""


@pytest.fixture
def phone(browser):
    """The browser with a phone's screen (390x844 CSS pixels, three device pixels each, touch-sized viewport)."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    yield browser
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@pytest.mark.parametrize("name", ["index.html", "HANDOUT.html"])
def test_nothing_overflows_a_phones_screen(phone, client_set, name):
    folder, _ = client_set
    phone.get((folder / name).as_uri())
    found = phone.execute_script(OVERFLOW)
    assert found == {"width": 390, "scroll": 390, "wide": []}


def test_the_handout_opened_from_disk_fetches_nothing(phone, client_set):
    folder, _ = client_set
    phone.get((folder / "HANDOUT.html").as_uri())
    assert phone.execute_script("return performance.getEntriesByType('resource').length") == 0


def test_the_handouts_qr_code_scans_on_screen(phone, client_set):
    folder, _ = client_set
    phone.get((folder / "HANDOUT.html").as_uri())
    code = phone.find_element("css selector", "svg.qr")
    assert code.accessible_name == "QR code of your page’s address"
    assert decode_png(code.screenshot_as_png) == [BASE + "index.html"]


def pdf_pages(pdf: bytes) -> int:
    """The number of pages of a PDF Chromium printed (its page objects: Chromium writes them uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.mark.parametrize("paper", ["A4", "LETTER"])
@pytest.mark.parametrize("tracks", [3, 12])
def test_the_handout_prints_on_one_page(browser, tmp_path, paper, tracks):
    from selenium.webdriver.common.print_page_options import PrintOptions

    titles = [f"{TITLES[n % 3]} ({n + 1})" for n in range(tracks)]
    hand_over(tmp_path, make_set(tmp_path, titles), SETTINGS)
    browser.get((tmp_path / "HANDOUT.html").as_uri())
    options = PrintOptions()
    options.set_page_size(getattr(PrintOptions, paper))
    pdf = base64.b64decode(browser.print_page(options))
    assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 1
