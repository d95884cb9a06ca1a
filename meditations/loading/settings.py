"""One settings model: everything from outside a script that shapes its render, and the one place the layers meet.

The order of precedence, lowest first:

    built-in defaults < library.yaml < the script < a client profile < the command line

The loader lays the first three (loading.SettingsBlock: a script's block over its library's, over the built-in
defaults). `Settings` holds the last two: a profile's (`profiles.Profile.settings`) and the command line's (made
in cli.py from its options), laid together by `layered`. `load` lays the result over the script. A track's
fingerprint holds `settings_key`, derived from the fields by `cache.cache_key`.

Adding a setting: a field below (its `applies` metadata names the value of the loaded Script it replaces, or
"load" for what the loader needs while reading the steps), its parser (a command-line option, a profile key)
and its documentation. Layering, the key and applying it follow from the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from meditations.files import cache_key
from meditations.model import RenderError
from . import LoadOptions, audio_problem, load_script
from meditations.model import Script, VoiceSettings


def _setting(applies: str, default=None, in_key: bool = True):
    return field(default=default, compare=in_key, metadata={"applies": applies})


@dataclass(frozen=True)
class Settings:
    """Settings given from outside a script; None (or no variables) leaves the script's own value."""

    variables: tuple[tuple[str, str], ...] = _setting("load", ())  # a profile's variables, then --set NAME=VALUE
    voice: VoiceSettings | None = _setting("load")  # a profile's voice, laid over the script's
    recordings: Path | None = _setting("load", in_key=False)  # a profile's recordings folder (its files are sources)
    sample_rate: int | None = _setting("audio.sample_rate")
    channels: int | None = _setting("audio.channels")
    bitrate: int | None = _setting("audio.bitrate")
    loudness: float | None = _setting("finish.loudness")
    length: float | None = _setting("length")


def layered(*layers: Settings) -> Settings:
    """Settings laid over each other, lowest first (a profile's, then the command line's; see the module's
    docstring for the whole order). A value given in a higher layer wins; variables are merged by name, the
    higher layer's value winning; a voice is laid over the voice below it (VoiceSettings.over: a relative
    rate scales the rate below)."""
    result = Settings()
    for layer in layers:
        result = Settings(**{f.name: _merged(getattr(result, f.name), getattr(layer, f.name))
                             for f in fields(Settings)})
    return result


def _merged(low, high):
    if high is None or low is None:
        return low if high is None else high
    if isinstance(high, tuple):
        return low + high
    if isinstance(high, VoiceSettings):
        return high.over(low)
    return high


def settings_key(settings: Settings) -> str:
    """The settings' part of a track's fingerprint: every field but those kept out of it (compare=False)."""
    return cache_key(settings)


def load(path: str | Path, settings: Settings | None = None) -> Script:
    """Load a script with `settings` laid over its own values: the one place every layer meets, in the order
    built-in defaults < library.yaml < the script < a client profile < the command line (`settings` holds
    the last two, already `layered`). What the steps need is given to the loader; the rest replaces the
    loaded script's values. An output format no MP3 can have is a RenderError naming the script."""
    settings = settings or Settings()
    options = LoadOptions(overrides=settings.variables, voice=settings.voice, recordings=settings.recordings)
    script = load_script(path, options)
    changes: dict[str, dict] = {}
    for f in fields(Settings):
        value = getattr(settings, f.name)
        if value is not None and f.metadata["applies"] != "load":
            part, _, name = f.metadata["applies"].partition(".")
            changes.setdefault(part, {})[name] = value
    for part, values in changes.items():
        if "" in values:  # a value of the script itself; given from outside, it has no place in the file
            given: dict[str, Any] = {part: values[""]}
            if hasattr(script, f"{part}_location"):
                given[f"{part}_location"] = None
            script = replace(script, **given)
        else:
            script = replace(script, **{part: replace(getattr(script, part), **values)})
    problem = audio_problem(script.audio) if "audio" in changes else None
    if problem:
        raise RenderError(f"{script.display}: {problem}")
    return script
