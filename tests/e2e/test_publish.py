"""Publishing a built library: the playlist, the offline page (in a real headless Chromium) and the podcast feed
(read by a real feed parser), all made from a tiny library really built."""

from __future__ import annotations

import functools
import html
import http.server
import io
import json
import re
import shutil
import subprocess
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from meditations.building.library import BuildRequest, build_all
from meditations.publishing.outputs import PublishSettings, publish
from meditations.publishing.feed import ITUNES

HOSTILE = "Rest & <script>window.injected = 1</script> \"now\""
SCRIPTS = {
    "short-rest.yaml": f"""
        title: '{HOSTILE}'
        description: 'A <b>tiny</b> track & <img src=x onerror="window.injected = 2">'
        steps:
          - chapter: Arriving
          - say: Hello there.
          - pause: 2s
          - chapter: Breathing
          - say: Breathe in slowly.
          - pause: 2s
          - chapter: Closing
          - say: Goodbye.
        """,
    "evening/sit quietly.yaml": """
        title: Sit Quietly
        description: Two short chapters.
        steps:
          - chapter: Settling
          - say: Sit and rest.
          - pause: 3s
          - chapter: Ending
          - say: That is all.
        """,
}
VTT = """WEBVTT

1
00:00:00.000 --> 00:00:01.500
<v Narrator>Hello there.</v>

00:00:01.500 --> 00:00:04.000
Breathe in &amp; out <i>slowly</i>.

00:00:04.000 --> 00:00:06.000
Goodbye.
"""
SETTINGS = PublishSettings(album="Quiet <Practice>", artist="Ana & Co", description="Short practices.",
                           base_url="https://example.org/meditations/", cover="cover.png", language="en")
# a 1x1 PNG: the cover image of the feed and page
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c63f8cf"
                    "c0f01f0005000201a5f0d5ad0000000049454e44ae426082")


def build_library(scripts: Path, out: Path) -> dict:
    """Build scripts into out with the real build; the manifest it wrote."""
    report = build_all([BuildRequest(scripts_dir=scripts, out_dir=out, jobs=2)], lambda *args: None)[0]
    assert not report.failed, [t.error for t in report.failed]
    return json.loads((out / "library.json").read_text(encoding="utf-8"))


def prepare(out: Path) -> None:
    """A hand-written transcript with markup and entities in place of the built one of short-rest (the other track
    keeps the transcript the build wrote), and a cover."""
    assert (out / "evening" / "sit quietly.vtt").is_file(), "the build writes a transcript beside every track"
    (out / "short-rest.vtt").write_text(VTT, encoding="utf-8")
    (out / "cover.png").write_bytes(PNG)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tiny library, built once: (scripts folder, output folder)."""
    root = tmp_path_factory.mktemp("library")
    for name, text in SCRIPTS.items():
        path = root / "scripts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(line[8:] for line in text.strip("\n").splitlines()) + "\n", encoding="utf-8")
    build_library(root / "scripts", root / "out")
    prepare(root / "out")
    return root / "scripts", root / "out"


@pytest.fixture
def library(built, tmp_path):
    """A private copy of the built library (times kept), so a test may change it: (scripts, out, manifest)."""
    scripts, out = tmp_path / "scripts", tmp_path / "out"
    shutil.copytree(built[0], scripts)
    shutil.copytree(built[1], out)
    return scripts, out, json.loads((out / "library.json").read_text(encoding="utf-8"))


# ---------------------------------------------------------------- playlist

def test_playlist_is_exact(library):
    _, out, manifest = library
    publish(out, manifest, SETTINGS)
    sit, rest = manifest["tracks"]
    assert [r["file"] for r in manifest["tracks"]] == ["evening/sit quietly.mp3", "short-rest.mp3"]
    assert (out / "library.m3u8").read_text(encoding="utf-8") == (
        "#EXTM3U\n"
        "#PLAYLIST:Quiet <Practice>\n"
        f"#EXTINF:{int(sit['duration'] + 0.5)},Ana & Co - Sit Quietly\n"
        "evening/sit quietly.mp3\n"
        f"#EXTINF:{int(rest['duration'] + 0.5)},Ana & Co - {HOSTILE}\n"
        "short-rest.mp3\n")


# ---------------------------------------------------------------- page, as text

def test_page_escapes_every_text_from_scripts(library):
    _, out, manifest = library
    publish(out, manifest, SETTINGS)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<script") == 1  # ours
    assert "onerror=" not in page.replace("onerror=&quot;", "")
    assert "Rest &amp; &lt;script&gt;window.injected = 1&lt;/script&gt; &quot;now&quot;" in page
    assert "A &lt;b&gt;tiny&lt;/b&gt; track &amp; &lt;img" in page
    assert "<title>Quiet &lt;Practice&gt;</title>" in page
    assert 'src="evening/sit%20quietly.mp3"' in page


def test_page_is_self_contained_and_deterministic(library):
    _, out, manifest = library
    publish(out, manifest, SETTINGS)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page and "url(" not in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    # captions with their cues embedded as text (no fetch needed)
    assert page.count("<track ") == 2 and 'src="short-rest.vtt"' in page and 'src="evening/sit%20quietly.vtt"' in page
    assert "Breathe in &amp; out slowly." in page and "Narrator" not in page
    assert '<span class="text">Sit and rest.</span>' in page
    (out / "index.html").unlink()
    publish(out, manifest, SETTINGS)
    assert (out / "index.html").read_text(encoding="utf-8") == page


def test_a_missing_transcript_just_leaves_out_captions(library):
    _, out, manifest = library
    assert manifest["tracks"][1]["transcript"] == "short-rest.vtt"
    (out / "short-rest.vtt").rename(out / "words.vtt")
    publish(out, manifest, SETTINGS)
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("<track ") == 1 and "short-rest.vtt" not in page and page.count("<details") == 1
    manifest["tracks"][1]["transcript"] = "words.vtt"  # the record names the transcript
    publish(out, manifest, SETTINGS)
    assert 'src="words.vtt"' in (out / "index.html").read_text(encoding="utf-8")
    del manifest["tracks"][1]["transcript"]  # a record without the field: <stem>.vtt beside the MP3
    (out / "words.vtt").rename(out / "short-rest.vtt")
    publish(out, manifest, SETTINGS)
    assert 'src="short-rest.vtt"' in (out / "index.html").read_text(encoding="utf-8")


# ---------------------------------------------------------------- rewriting only on change

def test_files_are_rewritten_only_when_their_content_changes(library):
    _, out, manifest = library
    names = ["library.m3u8", "index.html", "feed.xml"]
    assert publish(out, manifest, SETTINGS) == [out / n for n in names]
    times = {n: (out / n).stat().st_mtime_ns for n in names}
    assert publish(out, manifest, SETTINGS) == []
    assert {n: (out / n).stat().st_mtime_ns for n in names} == times
    assert not list(out.glob(".*.tmp"))
    # a new transcript changes the page only
    (out / "short-rest.vtt").write_text(VTT.replace("Goodbye.", "Farewell."), encoding="utf-8")
    assert publish(out, manifest, SETTINGS) == [out / "index.html"]
    # without a base URL there is no feed to write (an old one is left alone)
    assert publish(out, manifest, PublishSettings(album="Other")) == [out / "library.m3u8", out / "index.html"]


# ---------------------------------------------------------------- feed

def parse_feed(out: Path):
    import feedparser

    return feedparser.parse((out / "feed.xml").read_bytes())


def test_feed_reads_cleanly_in_a_feed_library(library):
    pytest.importorskip("feedparser")
    _, out, manifest = library
    publish(out, manifest, SETTINGS)
    parsed = parse_feed(out)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20"
    channel = parsed.feed
    assert channel.title == "Quiet <Practice>"
    assert channel.link == "https://example.org/meditations/"
    assert channel.language == "en" and channel.author == "Ana & Co"
    assert channel.image.href == "https://example.org/meditations/cover.png"
    assert [t.term for t in channel.tags] == ["Health & Fitness", "Mental Health"]
    assert len(parsed.entries) == 2
    by_title = {e.title: e for e in parsed.entries}
    for record in manifest["tracks"]:
        entry = by_title[record["title"]]
        enclosure = entry.enclosures[0]
        assert enclosure.href == "https://example.org/meditations/" + record["file"].replace(" ", "%20")
        assert int(enclosure.length) == record["size"] == (out / record["file"]).stat().st_size
        assert enclosure.type == "audio/mpeg"
        seconds = int(record["duration"] + 0.5)
        assert entry.itunes_duration == f"00:{seconds // 60:02d}:{seconds % 60:02d}"
        assert entry.id == record["fingerprint"] and not entry.guidislink
        assert entry.published_parsed is not None
        # a description is HTML to a reader: the script's text is escaped so it shows as written, never as markup
        assert entry.summary_detail.type == "text/html"
        assert html.unescape(entry.summary) == record["description"]


def test_feed_has_what_podcast_directories_require(library):
    _, out, manifest = library
    publish(out, manifest, SETTINGS)
    root = ET.parse(out / "feed.xml").getroot()
    assert root.tag == "rss" and root.get("version") == "2.0"
    assert (out / "feed.xml").read_text(encoding="utf-8").startswith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss xmlns:atom="http://www.w3.org/2005/Atom" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" version="2.0">')
    channel = root.find("channel")
    it = f"{{{ITUNES}}}"
    for tag in ("title", "link", "description", "language", f"{it}author", f"{it}explicit"):
        assert (channel.findtext(tag) or "").strip(), tag
    assert channel.findtext(f"{it}explicit") == "false"
    assert channel.find(f"{it}image").get("href").endswith("/cover.png")
    category = channel.find(f"{it}category")
    assert category.get("text") == "Health & Fitness"
    assert category.find(f"{it}category").get("text") == "Mental Health"
    items = channel.findall("item")
    assert len(items) == len(manifest["tracks"])
    for item in items:
        assert item.findtext("title")
        enclosure = item.find("enclosure")
        assert enclosure.get("url").startswith("https://") and int(enclosure.get("length")) > 0
        assert enclosure.get("type") == "audio/mpeg"
        assert re.fullmatch(r"[0-9a-f]{64}", item.findtext("guid")) and item.find("guid").get("isPermaLink") == "false"
        assert re.fullmatch(r"\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT", item.findtext("pubDate"))
        assert re.fullmatch(r"\d{2}:\d{2}:\d{2}", item.findtext(f"{it}duration"))
        assert item.findtext(f"{it}explicit") == "false"


def test_feed_without_a_cover_has_no_image(library):
    _, out, manifest = library
    publish(out, manifest, PublishSettings(base_url="http://localhost:8000"))
    channel = ET.parse(out / "feed.xml").getroot().find("channel")
    assert channel.find(f"{{{ITUNES}}}image") is None and channel.find("image") is None
    assert channel.find(f"{{{ITUNES}}}author") is None  # no artist: no author rather than an empty one
    url = channel.find("item/enclosure").get("url")
    assert url == "http://localhost:8000/evening/sit%20quietly.mp3"


def guids_and_dates(out: Path) -> dict:
    """Each item's title -> (guid, pubDate)."""
    channel = ET.parse(out / "feed.xml").getroot().find("channel")
    return {i.findtext("title"): (i.findtext("guid"), i.findtext("pubDate")) for i in channel.findall("item")}


def test_guid_and_date_stay_for_an_unchanged_track_and_change_with_it(library):
    scripts, out, _ = library
    manifest = build_library(scripts, out)  # the transcript prepare() wrote by hand is rebuilt first
    publish(out, manifest, SETTINGS)
    before = guids_and_dates(out)
    # a rebuild of the unchanged library keeps every guid and date (and so the feed's bytes)
    again = build_library(scripts, out)
    assert again == manifest
    publish(out, again, SETTINGS)  # build publishes with the library's own settings; these tests use theirs
    assert publish(out, again, SETTINGS) == []
    assert guids_and_dates(out) == before
    # change one script: that track gets a new guid (and date); the other keeps both
    path = scripts / "evening" / "sit quietly.yaml"
    path.write_text(path.read_text().replace("That is all.", "That is all for now."))
    changed = build_library(scripts, out)
    assert out / "feed.xml" in publish(out, changed, SETTINGS)
    after = guids_and_dates(out)
    assert after[HOSTILE] == before[HOSTILE]
    assert after["Sit Quietly"][0] != before["Sit Quietly"][0]
    assert after["Sit Quietly"][0] == changed["tracks"][0]["fingerprint"]


# ---------------------------------------------------------------- the page in a real browser (conftest.py starts it)

class StaticHost(http.server.SimpleHTTPRequestHandler):
    """A static host as real ones behave: byte ranges (players seek with them) and the WebVTT type."""

    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, ".vtt": "text/vtt",
                      ".mp3": "audio/mpeg", ".m3u8": "audio/x-mpegurl"}

    def send_head(self):
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        path = Path(self.translate_path(self.path))
        if not match or not path.is_file() or match.groups() == ("", ""):
            return super().send_head()
        data = path.read_bytes()
        first, last = match.groups()
        start = len(data) - int(last) if first == "" else int(first)
        end = len(data) - 1 if first == "" or last == "" else min(int(last), len(data) - 1)
        if start >= len(data):
            self.send_error(416)
            return None
        self.send_response(206)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        return io.BytesIO(data[start:end + 1])

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(built, tmp_path_factory):
    """The published tiny library (a copy of its own): its folder, manifest, and its page's address over HTTP
    (served on loopback only)."""
    out = tmp_path_factory.mktemp("site") / "out"
    shutil.copytree(built[1], out)
    manifest = json.loads((out / "library.json").read_text(encoding="utf-8"))
    publish(out, manifest, SETTINGS)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(StaticHost, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield out, manifest, f"http://127.0.0.1:{server.server_address[1]}/index.html"
    server.shutdown()
    server.server_close()


def page_urls(site) -> list[str]:
    out, _, http_url = site
    return [http_url, (out / "index.html").as_uri()]


LOADED = """
const done = arguments[arguments.length - 1];
const players = Array.from(document.querySelectorAll("article audio"));
Promise.all(players.map(a => a.readyState >= 1 ? null : new Promise(resolve => {
  a.addEventListener("loadedmetadata", resolve, {once: true});
  a.addEventListener("error", resolve, {once: true});
}))).then(() => done(players.map(a => ({
  id: a.closest("article").id, duration: a.duration, error: a.error && a.error.code}))));
"""

CAPTIONS = """
const done = arguments[arguments.length - 1];
const tracks = Array.from(document.querySelectorAll("article audio track"));
const ready = t => t.readyState >= 2;  // 2 loaded, 3 failed
const cues = t => t.track.cues ? Array.from(t.track.cues) : [];
const check = () => tracks.every(ready) ? done(tracks.map(t => ({
  id: t.closest("article").id, state: t.readyState, cues: cues(t).length,
  first: cues(t).length ? cues(t)[0].getCueAsHTML().textContent : null}))) : setTimeout(check, 50);
check();
"""


def by_title(manifest) -> dict:
    return {r["title"]: r for r in manifest["tracks"]}


@pytest.mark.parametrize("where", ["http", "file"])
def test_every_player_loads_with_its_duration(browser, site, where):
    out, manifest, _ = site
    browser.get(page_urls(site)[where == "file"])
    players = browser.execute_async_script(LOADED)
    records = manifest["tracks"]
    assert len(players) == len(records)
    for player, record in zip(players, records):
        assert player["error"] is None, player
        assert player["duration"] == pytest.approx(record["duration"], abs=0.5), (player, record["duration"])
    assert browser.execute_script("return window.injected") is None
    headings = [h.text for h in browser.find_elements("css selector", "article h2")]
    assert headings == [r["title"] for r in records]


@pytest.mark.parametrize("where", ["http", "file"])
def test_captions_load(browser, site, where):
    browser.get(page_urls(site)[where == "file"])
    tracks = browser.execute_async_script(CAPTIONS)
    assert tracks == [{"id": "track-evening-sit-quietly", "state": 2, "cues": 2, "first": "Sit and rest."},
                      {"id": "track-short-rest", "state": 2, "cues": 3, "first": "Hello there."}]
    cues = browser.find_elements("css selector", "#track-short-rest ol.cues li .text")
    assert [c.get_attribute("textContent") for c in cues] == ["Hello there.", "Breathe in & out slowly.",
                                                               "Goodbye."]


def current_time(browser, article_id: str) -> float:
    return browser.execute_script(f"return document.querySelector('#{article_id} audio').currentTime")


@pytest.mark.parametrize("where", ["http", "file"])
def test_chapter_buttons_seek_their_player_and_play(browser, site, where):
    from selenium.webdriver.common.keys import Keys

    _, manifest, _ = site
    browser.get(page_urls(site)[where == "file"])
    browser.execute_async_script(LOADED)
    for article in browser.find_elements("css selector", "article"):
        record = by_title(manifest)[article.find_element("css selector", "h2").text]
        buttons = article.find_elements("css selector", "button.chapter")
        assert len(buttons) == len(record["chapters"]) > 1
        for button, chapter in reversed(list(zip(buttons, record["chapters"]))):
            if where == "http":
                button.click()
            else:
                button.send_keys(Keys.ENTER)  # the keyboard works as the mouse does
            assert current_time(browser, article.get_attribute("id")) == pytest.approx(chapter["start"], abs=0.3)
            playing = browser.execute_script("return !arguments[0].querySelector('audio').paused", article)
            assert playing, "a chapter button must also start the player"
    # one player at a time: the first track was paused when the second started
    paused = browser.execute_script("return Array.from(document.querySelectorAll('audio')).map(a => a.paused)")
    assert paused == [True, False]
    browser.execute_script("document.querySelectorAll('audio').forEach(a => a.pause())")


def tab_order(browser, limit: int = 200) -> list:
    """The elements focus visits when Tab is pressed from the top of the page, once round."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    browser.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    visited = []
    for _ in range(limit):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        element = browser.execute_script("return document.activeElement")
        if element.tag_name == "body" or (visited and element == visited[0] and len(visited) > 1):
            break
        if not visited or visited[-1] != element:
            visited.append(element)
    return visited


def test_every_control_is_reachable_by_keyboard_and_named(browser, site):
    _, manifest, _ = site
    browser.get(page_urls(site)[0])
    browser.execute_async_script(LOADED)
    controls = browser.find_elements("css selector", "audio, button, summary, a[href]")
    reached = tab_order(browser)
    missing = [c.get_attribute("outerHTML")[:80] for c in controls if c not in reached]
    assert not missing
    assert reached == controls  # in the page's order: each track's controls together, tracks in order
    for article in browser.find_elements("css selector", "article"):
        title = by_title(manifest)[article.find_element("css selector", "h2").text]["title"]
        for control in article.find_elements("css selector", "audio, button, summary, a[href]"):
            name = control.accessible_name
            assert title in name, (control.tag_name, name)
        for button in article.find_elements("css selector", "button.chapter"):
            chapter = button.find_element("css selector", "span").text
            assert button.accessible_name.startswith(chapter + " ")
        download = article.find_element("css selector", "a[download]")
        assert download.accessible_name.startswith("Download MP3")


def test_build_publishes_the_page_and_playlist_and_leaves_them_alone_when_nothing_changed(library):
    scripts, out, _ = library
    build_library(scripts, out)
    times = {name: (out / name).stat().st_mtime_ns for name in ("index.html", "library.m3u8")}
    build_library(scripts, out)
    assert {name: (out / name).stat().st_mtime_ns for name in times} == times


def test_chapters_as_ffprobe_shows_them(tmp_path, monkeypatch):
    ffprobe = shutil.which("ffprobe")
    if not ffprobe:
        pytest.skip("ffprobe is not installed (apt-get install ffmpeg); CI installs it")
    (tmp_path / "c.yaml").write_text("title: Chapters\nsteps:\n  - chapter: Arriving\n  - say: Hello there.\n"
                                     "  - pause: 2s\n  - chapter: Resting\n  - say: Rest now.\n")
    monkeypatch.chdir(tmp_path)
    from click.testing import CliRunner
    from meditations.cli.commands import main

    assert CliRunner().invoke(main, ["render", "c.yaml", "-o", "."]).exit_code == 0
    plan = json.loads(CliRunner().invoke(main, ["plan", "c.yaml", "--json"]).stdout)
    shown = json.loads(subprocess.run([ffprobe, "-v", "error", "-show_chapters", "-of", "json", "c.mp3"],
                                      capture_output=True, text=True, check=True).stdout)["chapters"]
    assert [c["tags"]["title"] for c in shown] == [c["title"] for c in plan["chapters"]]
    assert all(abs(float(s["start_time"]) - c["start"]) < 0.002 and abs(float(s["end_time"]) - c["end"]) < 0.002
               for s, c in zip(shown, plan["chapters"]))
    duration = float(subprocess.run([ffprobe, "-v", "error", "-show_entries", "format=duration", "-of",
                                     "csv=p=0", "c.mp3"], capture_output=True, text=True).stdout)
    assert abs(duration - plan["duration"]) < 0.1


def test_cover_art_is_embedded_and_published(tmp_path, monkeypatch):
    import struct
    import zlib

    from click.testing import CliRunner
    from mutagen.id3 import ID3

    from meditations.cli.commands import main

    def png(width, height):
        rows = b"".join(b"\x00" + bytes([90, 140, 120]) * width for _ in range(height))
        chunk = lambda kind, data: (struct.pack(">I", len(data)) + kind + data  # noqa: E731
                                    + struct.pack(">I", zlib.crc32(kind + data)))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))

    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "cover.png").write_bytes(png(64, 64))
    (scripts / "library.yaml").write_text("album: Calm\ncover: cover.png\nbase_url: https://example.org/calm/\n"
                                          "description: Practices for clients.\n")
    (scripts / "one.yaml").write_text("title: One\nsteps:\n  - say: Hello.\n")
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["build", "scripts", "-o", "out", "-j", "1"]).exit_code == 0
    art = ID3(tmp_path / "out" / "one.mp3").getall("APIC")
    assert len(art) == 1 and art[0].mime == "image/png" and art[0].data == (scripts / "cover.png").read_bytes()
    assert (tmp_path / "out" / "cover.png").read_bytes() == (scripts / "cover.png").read_bytes()
    import feedparser

    parsed = feedparser.parse((tmp_path / "out" / "feed.xml").read_text())
    assert parsed.feed.image.href == "https://example.org/calm/cover.png"
