"""library.yaml: the defaults a library gives every script below it, and where a library's root is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from meditations.files import Lookups
from meditations.model import DEFAULT_VOICE, Pace, ProblemCollector

from .blocks import SettingsBlock, settings_block
from .context import LoadContext, LoadOptions, compose_file, show_path
from .keys import LIBRARY_KEYS
from .validators import mapping_keys, text_value

LIBRARY_FILE = "library.yaml"


@dataclass(frozen=True, kw_only=True)
class LibraryDefaults(SettingsBlock):
    """What library.yaml gives every script below it: its settings block and the library's own details."""

    root: Path
    file: Path | None = None
    album: str = ""
    artist: str = "meditate"
    genre: str = "Meditation"
    language: str = "en"
    description: str = ""  # the library's own description (the podcast feed's)
    base_url: str | None = None  # where the library is published (for the podcast feed)
    sources: tuple[Path, ...] = ()  # files library.yaml uses (background, cover): part of every fingerprint


def find_library_root(script_path: Path, lookups: Lookups | None = None) -> Path:
    """The nearest folder at or above the script's real folder that holds library.yaml; else the script's folder.
    Each place looked in is recorded in LOOKUPS (a library.yaml put nearer later makes the script's tracks stale)."""
    lookups = lookups or Lookups()
    folder = lookups.resolve(script_path).parent  # realpath: a link loop is reported, never raised
    for candidate in (folder, *folder.parents):
        if lookups.present(candidate / LIBRARY_FILE):  # a library.yaml that cannot be read is reported
            return candidate
    return folder


def load_library(root: Path, problems: ProblemCollector, options: LoadOptions,
                 lookups: Lookups | None = None) -> LibraryDefaults:
    """Read ROOT/library.yaml if there is one; the files it names are looked up in LOOKUPS (a script's)."""
    lookups = lookups or Lookups()
    path = root / LIBRARY_FILE
    if not lookups.present(path):
        return LibraryDefaults(root=root)
    display = show_path(path)
    node = compose_file(path, display, problems, options)
    if node is None:
        return LibraryDefaults(root=root, file=path)
    ctx = LoadContext(display, path, problems, {}, DEFAULT_VOICE, Pace(), root, options, lookups=lookups)
    entries = mapping_keys(node, ctx, "library", LIBRARY_KEYS)
    block = settings_block(entries, ctx, SettingsBlock())  # --set overrides are a script's, not the library's
    values: dict = {"root": root, "file": path}
    for key in ("album", "artist", "genre", "language", "description", "base_url"):
        if key in entries:
            value = text_value(entries[key][1], ctx, key)
            if value is not None:
                values[key] = value
    if values.get("base_url") and not values["base_url"].startswith(("http://", "https://")):
        ctx.error(entries["base_url"][1], "'base_url' must start with http:// or https://")
    return LibraryDefaults(**vars(block), **values, sources=tuple(ctx.sources))
