"""One settings model: everything from outside a script that shapes its render, and the one place the layers meet.

The order of precedence, lowest first:

    built-in defaults < library.yaml < the script < a client profile < the command line

The loader lays the first three (loading.SettingsBlock: a script's block over its library's, over the built-in
defaults). `Settings` holds the last two: a profile's (`profiles.Profile.settings`) and the command line's
(made in meditations/cli/options.py from its options), laid together by `layered`. `load` lays the result over
the script. A track's fingerprint holds `settings_key`, derived from the fields by `cache.cache_key`.

Adding a setting: a field below and its line in `applied_to` (or in `load_options`, for what the loader needs
while it reads the steps), its range in model/limits.py, its parser (a command-line option, a profile key),
its documentation and its test (docs/architecture.md lists the files). Layering and the key follow from the
field.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from meditations.files import cache_key
from meditations.model import RenderError, Script, VoiceSettings

from .assembly import load_script
from .blocks import audio_problem
from .context import LoadOptions


def _setting(default=None, in_key: bool = True):
    return field(default=default, compare=in_key)


@dataclass(frozen=True)
class Settings:
    """Settings given from outside a script; None (or no variables) leaves the script's own value.

    The loader takes the first three while it reads the steps (LoadOptions); `applied_to` lays the rest over
    the loaded script, one line each."""

    variables: tuple[tuple[str, str], ...] = _setting(())  # a profile's variables, then --set NAME=VALUE
    voice: VoiceSettings | None = _setting()  # a profile's voice, laid over the script's
    recordings: Path | None = _setting(in_key=False)  # a profile's recordings folder (its files are sources)
    sample_rate: int | None = _setting()
    channels: int | None = _setting()
    bitrate: int | None = _setting()
    loudness: float | None = _setting()
    length: float | None = _setting()

    def load_options(self) -> LoadOptions:
        """What the loader needs from these settings while it reads the steps."""
        return LoadOptions(overrides=self.variables, voice=self.voice, recordings=self.recordings)

    def applied_to(self, script: Script) -> Script:
        """The loaded script with every value given here in place of its own."""
        audio = replace(script.audio, **_given(sample_rate=self.sample_rate, channels=self.channels,
                                               bitrate=self.bitrate))
        finish = replace(script.finish, **_given(loudness=self.loudness))
        script = replace(script, audio=audio, finish=finish)
        if self.length is not None:  # given from outside, it has no place in the script's file
            script = replace(script, length=self.length, length_location=None)
        return script

    def changes_audio(self) -> bool:
        """Whether these settings change the script's output format (checked again once applied)."""
        return any(value is not None for value in (self.sample_rate, self.channels, self.bitrate))


def _given(**values) -> dict:
    """The values that were given (not None)."""
    return {name: value for name, value in values.items() if value is not None}


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
    script = settings.applied_to(load_script(path, settings.load_options()))
    problem = audio_problem(script.audio) if settings.changes_audio() else None
    if problem:
        raise RenderError(f"{script.display}: {problem}")
    return script
