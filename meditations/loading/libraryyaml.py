"""library.yaml: the defaults a library gives every script below it, and where a library's root is."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from meditations.files import Lookups, file_problem
from meditations.model import DEFAULT_VOICE, Location, Pace, ProblemCollector

from .blocks import SettingsBlock, settings_block
from .context import LoadContext, LoadOptions, compose_file, show_path
from .foreign import has_a_key_of, leads_out, leads_out_message, unquoted
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


def library_where_it_stands(path: Path) -> Path:
    """The library folder of the place a script's name stands (its links not followed): the nearest folder at or
    above it that holds library.yaml, else its own folder."""
    folder = Path(os.path.abspath(path)).parent
    places = Lookups()  # only to decide what a message may quote: not a source of any track
    for candidate in (folder, *folder.parents):
        if places.present(candidate / LIBRARY_FILE):
            return candidate
    return folder


NOT_A_LIBRARY_FILE = ("is not a library.yaml: it has none of the keys a library.yaml has (its keys are not "
                      "shown)")


def load_library(root: Path, problems: ProblemCollector, options: LoadOptions,
                 lookups: Lookups | None = None) -> LibraryDefaults:
    """Read ROOT/library.yaml if there is one (its problems added to `problems`; one line that quotes nothing
    of it when it was not written as a library.yaml: foreign.py); the files it names are looked up in LOOKUPS
    (a script's)."""
    lookups = lookups or Lookups()
    path = root / LIBRARY_FILE
    if not lookups.present(path):
        return LibraryDefaults(root=root)
    display = show_path(path)
    own = ProblemCollector()
    library = _library(root, path, display, own, options, lookups)
    if own.problems and not file_problem(path, "script") and leads_out(path, root):
        own.problems = [unquoted(display, leads_out_message(root, "library.yaml", "its folder", "fix the file it "
                                                            "leads to, or make library.yaml a file of the library"))]
    problems.problems.extend(own.problems)
    return library


def _library(root: Path, path: Path, display: str, problems: ProblemCollector, options: LoadOptions,
             lookups: Lookups) -> LibraryDefaults:
    node = compose_file(path, display, problems, options)
    if node is None:
        return LibraryDefaults(root=root, file=path)
    if not has_a_key_of(node, LIBRARY_KEYS):
        problems.add(Location(display, 1, 1), NOT_A_LIBRARY_FILE)
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
