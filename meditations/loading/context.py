"""What loading one file carries along: the caller's options and the context every validator writes to."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from meditations.files import Lookups
from meditations.model import (
    DEFAULT_WORDS,
    Location,
    Pace,
    Problem,
    ProblemCollector,
    ScriptError,
    VoiceSettings,
    clock,
    excerpt,
)

from .yamlsource import Limits, compose, env_limit, location_of, read_text, scalar_value


@dataclass(frozen=True)
class LoadOptions:
    """What the loader is given besides the file: the limits, and the settings from outside the script that it
    needs while reading the steps (settings.load fills these three from a Settings)."""

    overrides: tuple[tuple[str, str], ...] = ()  # a profile's variables, then --set: over the declared ones
    voice: VoiceSettings | None = None  # a client profile's voice, over the script's
    limits: Limits = field(default_factory=Limits)
    max_repeat: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_REPEAT", 1000))
    max_include_depth: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_INCLUDE_DEPTH", 10))
    max_text_chars: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_TEXT_CHARS", 20_000))
    max_track_seconds: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_TRACK_SECONDS", 4 * 3600))
    recordings: Path | None = None  # a client profile's own recordings folder, searched before the library


@dataclass
class LoadContext:
    """What validators need while walking one file."""

    display: str
    path: Path
    problems: ProblemCollector
    variables: dict[str, str]
    voice: VoiceSettings
    pace: Pace
    library_root: Path
    options: LoadOptions
    include_chain: tuple[Path, ...] = ()
    sources: list[Path] = field(default_factory=list)  # the files read: part of the track's fingerprint
    lookups: Lookups = field(default_factory=Lookups)  # every path looked up, and where it led: part of it too
    used: set[str] = field(default_factory=set)
    cue_words: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WORDS))
    warnings: list = field(default_factory=list)
    repeats: int = 1  # how many times the steps being read will play (nested repeats multiply)
    estimate: list = field(default_factory=lambda: [0.0, False])  # [seconds at least, limit reported]

    def add_time(self, node: yaml.Node, seconds: float) -> None:
        """Count time the track will take at least; past the limit, one located error (found before any
        audio is made, so a hostile script cannot make the machine synthesize for hours)."""
        self.estimate[0] += seconds * self.repeats
        limit = self.options.max_track_seconds
        if self.estimate[0] > limit and not self.estimate[1]:
            self.estimate[1] = True
            self.error(node, f"the track would last over the limit of {clock(limit, 'always')} "
                             "(MEDITATE_MAX_TRACK_SECONDS)")

    def look_up(self, path: Path) -> Path:
        """The real path a name leads to (it may not exist). Every file a script names is looked up here, so
        that the track's fingerprint holds where each name led (see files.Lookups)."""
        return self.lookups.resolve(path)

    def warn(self, node: yaml.Node, message: str) -> None:
        """Record a warning at a node (shown, but the script still loads)."""
        self.warnings.append(Problem(self.at(node), message))

    def at(self, node: yaml.Node) -> Location:
        """Where a node stands in this file."""
        return location_of(node, self.display)

    def error(self, node: yaml.Node, message: str) -> None:
        """Record a problem at a node."""
        self.problems.add(self.at(node), message)


def scalar(node, ctx: LoadContext, what: str, expected: str):
    """A scalar node's value; anything else is reported as not being `expected` (and gives None)."""
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, f"'{what}' must be {expected}, got {node_kind(node)}")
        return None
    return scalar_value(node)


def node_kind(node: yaml.Node) -> str:
    """What a node holds, as an error message quotes it (a short excerpt of a text)."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if not isinstance(node, yaml.ScalarNode):
        return "a list"
    value = scalar_value(node)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{excerpt(value)}'"
    return excerpt(str(value))


def show_path(path: Path) -> str:
    """A path as a user would write it: relative to the working folder when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def compose_file(path: Path, display: str, problems: ProblemCollector, options: LoadOptions):
    """A YAML file's root node (None when empty or unreadable; its problems are collected)."""
    try:
        return compose(read_text(path, display, options.limits), display, options.limits)
    except ScriptError as exc:
        problems.problems.extend(exc.problems)
        return None
