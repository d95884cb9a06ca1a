"""feed.xml: an RSS 2.0 podcast feed of the library (with the iTunes tags podcast directories read)."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from email.utils import formatdate
from pathlib import Path

from meditations.model import clock, one_line, whole_seconds

from .common import FEED, PAGE, PublishSettings, file_size, file_url, track_ids, track_title

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
PODCAST = "https://podcastindex.org/namespace/1.0"


def feed(out_dir: Path, tracks: list[dict], settings: PublishSettings, private: bool = False) -> str:
    """An RSS 2.0 podcast feed (with the iTunes tags podcast directories read) of the tracks. A private feed (one
    client's set) asks directories never to list it (itunes:block) and hosts never to import it (podcast:locked)."""
    base = settings.base_url or ""
    album = one_line(settings.album) or "Meditations"
    description = one_line(settings.description) or album
    ET.register_namespace("itunes", ITUNES)
    ET.register_namespace("atom", ATOM)
    ET.register_namespace("podcast", PODCAST)  # declared only in a feed that uses it
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", album)
    _text(channel, "link", base.rstrip("/") + "/")
    _text(channel, "description", as_html(description))
    _text(channel, "language", settings.language)
    ET.SubElement(channel, f"{{{ATOM}}}link", {"href": file_url(base, FEED), "rel": "self",
                                                "type": "application/rss+xml"})
    items = [feed_item(out_dir, record, anchor, settings)
             for record, anchor in zip(tracks, track_ids(tracks), strict=True)]
    if items:
        newest = max(items, key=lambda item: item[1])[1]
        _text(channel, "lastBuildDate", formatdate(newest, usegmt=True))
    if settings.artist:
        _text(channel, f"{{{ITUNES}}}author", one_line(settings.artist))
    _text(channel, f"{{{ITUNES}}}summary", description)
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}type", "episodic")
    if private:
        _text(channel, f"{{{ITUNES}}}block", "Yes")
        _text(channel, f"{{{PODCAST}}}locked", "yes")
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
    title = track_title(record)
    item = ET.Element("item")
    _text(item, "title", title)
    _text(item, "description", as_html(str(record.get("description") or title)))
    _text(item, "link", f"{base.rstrip('/')}/{PAGE}#{anchor}")
    ET.SubElement(item, "enclosure", {"url": file_url(base, record["file"]), "length": str(file_size(out_dir, record)),
                                      "type": "audio/mpeg"})
    _text(item, "guid", str(record.get("fingerprint") or record["file"])).set("isPermaLink", "false")
    _text(item, "pubDate", formatdate(published, usegmt=True))
    _text(item, f"{{{ITUNES}}}duration", clock(whole_seconds(record.get("duration", 0)), "two-digit"))
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
