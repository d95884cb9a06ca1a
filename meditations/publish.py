"""Stage 7: publish a built library: a playlist, one offline web page and (with a base URL) a podcast feed.

Everything here is made from the manifest (OUT_DIR/library.json) and the files beside it, and is
deterministic: the same library gives the same bytes, so each file is rewritten only when the library
changed. The page is a single static file (inline CSS and script, nothing fetched from elsewhere) that
works from disk (file://) and from any static host.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path, PurePosixPath
from urllib.parse import quote, urlsplit

from .cache import write_atomic
from .containment import inside
from .safe_files import is_regular_file
from .errors import MeditateError

PLAYLIST = "library.m3u8"
PAGE = "index.html"
FEED = "feed.xml"

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"


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
class Cue:
    """One caption of a transcript: its times in seconds and its plain text."""

    start: float
    end: float
    text: str


# ---------------------------------------------------------------- the whole step

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


# ---------------------------------------------------------------- small shared pieces

def one_line(text) -> str:
    """Text with every run of whitespace (newlines included) made one space, and no control characters."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", " ".join(str(text or "").split()))


def whole_seconds(seconds: float) -> int:
    """Seconds rounded half up to a whole number."""
    return int(float(seconds) + 0.5)


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour on, in whole seconds cut down (as browsers' players show times)."""
    total = int(float(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def hh_mm_ss(seconds: float) -> str:
    """HH:MM:SS (as itunes:duration wants it)."""
    hours, rest = divmod(whole_seconds(seconds), 3600)
    return f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"


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


# ---------------------------------------------------------------- transcripts

def transcript_path(out_dir: Path, record: dict) -> str | None:
    """The relative path of the track's WebVTT transcript when that file exists: the record's `transcript`,
    else <stem>.vtt beside the MP3."""
    name = record.get("transcript") or PurePosixPath(record["file"]).with_suffix(".vtt").as_posix()
    if inside(out_dir, name) is None:  # below out_dir, reached without a link, a usable name
        return None
    return PurePosixPath(name).as_posix()


_TIMING = re.compile(r"^\s*((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})\s+-->\s+((?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3})")
_TAG = re.compile(r"<[^>]*>")


def vtt_seconds(stamp: str) -> float:
    """A WebVTT timestamp ([hh:]mm:ss.ttt) in seconds."""
    seconds = 0.0
    for part in stamp.replace(",", ".").split(":"):
        seconds = seconds * 60 + float(part)
    return seconds


def parse_vtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file, their text without markup (voice spans, styling) or entities."""
    cues = []
    blocks = re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff"))
    for block in blocks:
        lines = block.strip("\n").split("\n")
        for i, line in enumerate(lines[:2]):
            match = _TIMING.match(line)
            if match:
                words = one_line(html.unescape(_TAG.sub("", " ".join(lines[i + 1:]))))
                if words:
                    cues.append(Cue(vtt_seconds(match[1]), vtt_seconds(match[2]), words))
                break
    return cues


def read_cues(out_dir: Path, relative: str | None) -> list[Cue]:
    """The cues of a transcript inside out_dir ([] when there is none or it cannot be read)."""
    if relative is None:
        return []
    try:
        return parse_vtt((out_dir / relative).read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return []


# ---------------------------------------------------------------- library.m3u8

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


# ---------------------------------------------------------------- index.html

def _e(text) -> str:
    """Text escaped for HTML content and double-quoted attributes."""
    return html.escape(str(text or ""), quote=True)


def page(out_dir: Path, tracks: list[dict], settings: PublishSettings) -> str:
    """The whole self-contained web page listing every track."""
    album = one_line(settings.album) or "Meditations"
    head = [
        "<!doctype html>",
        f'<html lang="{_e(settings.language)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="color-scheme" content="light dark">',
        f"<title>{_e(album)}</title>",
    ]
    if settings.description:
        head.append(f'<meta name="description" content="{_e(one_line(settings.description))}">')
    head += [f"<style>{_STYLE}</style>", "</head>", "<body>", '<a class="skip" href="#tracks">Skip to the tracks</a>',
             "<header>"]
    if settings.cover:
        head.append(f'<img class="cover" src="{_e(url_path(settings.cover))}" alt="" width="160" height="160">')
    head.append(f"<h1>{_e(album)}</h1>")
    if settings.artist:
        head.append(f'<p class="artist">{_e(one_line(settings.artist))}</p>')
    if settings.description:
        head.append(f"<p>{_e(settings.description)}</p>")
    count = f"{len(tracks)} track" + ("" if len(tracks) == 1 else "s")
    total = clock(sum(float(t.get("duration", 0)) for t in tracks))
    head.append(f'<p class="meta">{count}, {total} in all</p>')
    head += ["</header>", '<main id="tracks">']
    body = [track_html(out_dir, record, anchor, settings) for record, anchor in zip(tracks, track_ids(tracks))]
    if not tracks:
        body.append("<p>No tracks yet.</p>")
    tail = ["</main>", f"<script>{_SCRIPT}</script>", "</body>", "</html>"]
    return "\n".join(head + body + tail) + "\n"


def track_html(out_dir: Path, record: dict, anchor: str, settings: PublishSettings) -> str:
    """One track's article: heading, description, player with captions, chapters, transcript, download."""
    title = one_line(record.get("title")) or PurePosixPath(record["file"]).stem
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
    parts.append(chapters_html(record.get("chapters") or [], title, anchor))
    if vtt:
        parts.append(transcript_html(read_cues(out_dir, vtt), title))
    size = human_size(file_size(out_dir, record))
    parts.append(f'<p><a class="download" href="{src}" download aria-label="Download MP3: {_e(title)} ({size})">'
                 f"Download MP3</a> <span class=\"meta\">{size}</span></p>")
    parts.append("</article>")
    return "\n".join(parts)


def chapters_html(chapters: list[dict], title: str, anchor: str) -> str:
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


_STYLE = """
:root{--bg:#f7f5f0;--fg:#1f2421;--muted:#4f5a54;--card:#fff;--accent:#2f5d50;--accent-fg:#fff;--line:#d9d4c7}
@media (prefers-color-scheme:dark){:root{--bg:#161a18;--fg:#e9ece8;--muted:#b5beb8;--card:#1f2522;
--accent:#9fd3c0;--accent-fg:#0d1412;--line:#39433e}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.6 system-ui,-apple-system,"Segoe UI",Roboto,
sans-serif}
header,main{max-width:42rem;margin:0 auto;padding:1rem}
header{padding-top:2rem}
h1{font-size:1.8rem;line-height:1.2;margin:.5rem 0}
h2{font-size:1.3rem;line-height:1.3;margin:0 0 .25rem}
.cover{display:block;width:160px;height:160px;object-fit:cover;border-radius:12px}
.meta,.artist{color:var(--muted);margin:.25rem 0}
article{background:var(--card);border:1px solid var(--line);border-radius:14px;padding:1.25rem;margin:0 0 1.25rem}
audio{width:100%;margin:.75rem 0;min-height:48px}
ol.chapters{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.5rem}
button.chapter{font:inherit;font-size:1rem;min-height:48px;padding:.5rem .9rem;border-radius:24px;cursor:pointer;
border:1px solid var(--accent);background:transparent;color:var(--fg)}
button.chapter:hover,button.chapter[aria-current=true]{background:var(--accent);color:var(--accent-fg)}
button.chapter .time{opacity:.85;font-variant-numeric:tabular-nums}
a{color:var(--accent)}
a.download{display:inline-block;min-height:48px;padding:.6rem .25rem;font-weight:600}
details.transcript{margin:.75rem 0}
details.transcript summary{cursor:pointer;min-height:48px;padding:.6rem 0;font-weight:600}
ol.cues{list-style:none;padding:0;margin:0}
ol.cues li{padding:.2rem .4rem;border-radius:6px}
ol.cues li.current{background:var(--line)}
ol.cues .time{color:var(--muted);font-variant-numeric:tabular-nums;margin-right:.4rem}
:focus-visible{outline:3px solid var(--accent);outline-offset:3px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--card);padding:.5rem}
@media (prefers-reduced-motion:reduce){*{scroll-behavior:auto}}
"""

_SCRIPT = """
(function () {
  "use strict";
  var players = Array.prototype.slice.call(document.querySelectorAll("article audio"));
  function stamp(s) {
    var ms = Math.round(s * 1000), h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60,
        sec = Math.floor(ms / 1000) % 60, f = ms % 1000;
    function p(n, w) { n = String(n); while (n.length < w) n = "0" + n; return n; }
    return p(h, 2) + ":" + p(m, 2) + ":" + p(sec, 2) + "." + p(f, 3);
  }
  players.forEach(function (audio) {
    var article = audio.closest("article");
    var buttons = Array.prototype.slice.call(article.querySelectorAll("button.chapter"));
    var cues = Array.prototype.slice.call(article.querySelectorAll("ol.cues li"));
    var track = audio.querySelector("track");
    if (track && location.protocol === "file:" && cues.length) {
      /* a page opened from disk may not fetch the .vtt: give the player the same cues, from the page */
      var text = "WEBVTT\\n\\n" + cues.map(function (li) {
        var words = li.querySelector(".text").textContent.replace(/&/g, "&amp;").replace(/</g, "&lt;")
          .replace(/-->/g, "--&gt;");
        return stamp(+li.dataset.start) + " --> " + stamp(+li.dataset.end) + "\\n" + words + "\\n";
      }).join("\\n");
      track.src = "data:text/vtt;charset=utf-8," + encodeURIComponent(text);
    }
    if (track) { track.track.mode = "hidden"; }
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        audio.currentTime = parseFloat(button.dataset.start);
        var playing = audio.play();
        if (playing && playing.catch) { playing.catch(function () {}); }
      });
    });
    audio.addEventListener("play", function () {
      players.forEach(function (other) { if (other !== audio) { other.pause(); } });
    });
    audio.addEventListener("timeupdate", function () {
      var t = audio.currentTime;
      buttons.forEach(function (button, i) {
        var next = buttons[i + 1];
        var here = t >= parseFloat(button.dataset.start) && (!next || t < parseFloat(next.dataset.start));
        if (here) { button.setAttribute("aria-current", "true"); } else { button.removeAttribute("aria-current"); }
      });
      cues.forEach(function (li) {
        li.classList.toggle("current", t >= +li.dataset.start && t < +li.dataset.end);
      });
    });
  });
})();
"""


# ---------------------------------------------------------------- feed.xml

def feed(out_dir: Path, tracks: list[dict], settings: PublishSettings) -> str:
    """An RSS 2.0 podcast feed (with the iTunes tags podcast directories read) of the tracks."""
    base = settings.base_url or ""
    album = one_line(settings.album) or "Meditations"
    description = one_line(settings.description) or album
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("atom", ATOM)
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", album)
    _text(channel, "link", base.rstrip("/") + "/")
    _text(channel, "description", as_html(description))
    _text(channel, "language", settings.language)
    ET.SubElement(channel, f"{{{ATOM}}}link", {"href": file_url(base, FEED), "rel": "self",
                                                "type": "application/rss+xml"})
    items = [feed_item(out_dir, record, anchor, settings) for record, anchor in zip(tracks, track_ids(tracks))]
    if items:
        newest = max(items, key=lambda item: item[1])[1]
        _text(channel, "lastBuildDate", formatdate(newest, usegmt=True))
    if settings.artist:
        _text(channel, f"{{{ITUNES}}}author", one_line(settings.artist))
    _text(channel, f"{{{ITUNES}}}summary", description)
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}type", "episodic")
    category = ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    ET.SubElement(category, f"{{{ITUNES}}}category", {"text": "Mental Health"})
    if settings.cover:
        cover = file_url(base, settings.cover)
        ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": cover})
        image = ET.SubElement(channel, "image")
        _text(image, "url", cover)
        _text(image, "title", album)
        _text(image, "link", base.rstrip("/") + "/")
    for item, _ in items:
        channel.append(item)
    ET.indent(rss, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(rss, encoding="unicode") + "\n"


def feed_item(out_dir: Path, record: dict, anchor: str, settings: PublishSettings) -> tuple[ET.Element, float]:
    """One track's <item> and its publication time (the MP3's modification time, which changes only when the
    track is rebuilt)."""
    base = settings.base_url or ""
    path = out_dir / record["file"]
    published = path.stat().st_mtime
    title = one_line(record.get("title")) or PurePosixPath(record["file"]).stem
    item = ET.Element("item")
    _text(item, "title", title)
    _text(item, "description", as_html(str(record.get("description") or title)))
    _text(item, "link", f"{base.rstrip('/')}/{PAGE}#{anchor}")
    ET.SubElement(item, "enclosure", {"url": file_url(base, record["file"]), "length": str(file_size(out_dir, record)),
                                      "type": "audio/mpeg"})
    _text(item, "guid", str(record.get("fingerprint") or record["file"])).set("isPermaLink", "false")
    _text(item, "pubDate", formatdate(published, usegmt=True))
    _text(item, f"{{{ITUNES}}}duration", hh_mm_ss(record.get("duration", 0)))
    _text(item, f"{{{ITUNES}}}explicit", "false")
    _text(item, f"{{{ITUNES}}}episodeType", "full")
    return item, published


def as_html(text: str) -> str:
    """Plain text as the HTML that readers take an RSS description to be (so <b> in a script's description shows as
    written instead of being taken for markup)."""
    return html.escape(text, quote=False)


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = _xml_safe(text)
    return element


def _xml_safe(text: str) -> str:
    """Text without the control characters XML 1.0 cannot carry (ElementTree would write them unescaped)."""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "", text)
