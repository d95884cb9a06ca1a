"""The options render, plan and build share (--set and the audio options), given to a command as one
Settings: the command line's layer of the settings (loading/settings.py)."""

from __future__ import annotations

import functools
import math

import click

from meditations.files import env_limit, shown
from meditations.loading import Settings, value_problem
from meditations.model import BITRATES, CHANNELS, LOUDNESS_RANGE, SAMPLE_RATES, excerpt, parse_duration


NOT_UTF8 = "is not valid UTF-8 text (set the terminal's encoding to UTF-8)"


def not_utf8(text: str) -> bool:
    """Whether an argument held bytes that are not UTF-8 (Python carries them as lone surrogates)."""
    return any("\udc80" <= character <= "\udcff" for character in text)


def utf8_text(_ctx, _param, value):
    """A text option (never a file name, which may be any bytes) must be UTF-8: it is matched against a
    script's words, spoken, or written into a page or feed."""
    for text in value if isinstance(value, tuple) else (value,):
        if text is not None and not_utf8(text):
            raise click.BadParameter(f"'{excerpt(shown(text))}' {NOT_UTF8}")
    return value


def parse_set(_ctx, _param, values) -> tuple[tuple[str, str], ...]:
    """--set KEY=VALUE pairs."""

    pairs = []
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{excerpt(shown(value))}' is not KEY=VALUE (for example --set name=Ana)")
        if not_utf8(key):
            raise click.BadParameter(f"the name '{excerpt(shown(key))}' {NOT_UTF8}")
        if not_utf8(text):
            raise click.BadParameter(f"the value of {excerpt(key.strip())} {NOT_UTF8}")
        problem = value_problem(text, env_limit("MEDITATE_MAX_TEXT_CHARS", 20_000))
        if problem is not None:
            raise click.BadParameter(f"the value of {excerpt(key.strip())} {problem}")
        pairs.append((key.strip(), text))
    return tuple(pairs)


def set_option(function):
    return click.option("--set", "overrides", multiple=True, callback=parse_set, metavar="KEY=VALUE",
                        help="Fill a {placeholder}: overrides the script's variables. Repeatable.")(function)


def parse_length(_ctx, _param, value):
    """--length 10m"""
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if seconds <= 0:
        raise click.BadParameter(f"'{value}' must be longer than zero")
    return seconds


def parse_loudness(_ctx, _param, value):
    """--loudness -18: a finite number (click's range check lets NaN through: it compares false)."""

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number meditate can use")
    return value


def audio_options(function):
    function = click.option("--length", callback=parse_length, metavar="DURATION",
                            help="Fit the track to this length (e.g. 10m): pauses and timed breathing "
                                 "stretch.")(function)
    function = click.option("--loudness", type=click.FloatRange(*LOUDNESS_RANGE), callback=parse_loudness,
                            metavar="LUFS", help="Target loudness in LUFS (default -16).")(function)
    function = click.option("--bitrate", type=click.Choice([str(b) for b in BITRATES]),
                            help="MP3 bitrate in kbit/s (default 64).")(function)
    function = click.option("--channels", type=click.Choice([str(c) for c in CHANNELS]),
                            help="1 mono (default) or 2 stereo.")(function)
    function = click.option("--sample-rate", type=click.Choice([str(r) for r in SAMPLE_RATES]),
                            help="Sample rate in Hz (default 44100).")(function)
    return function


def settings_options(function):
    """--set and the audio options, handed to the command as one `settings` (its `settings.variables` are the
    --set pairs). Use as the decorator nearest the function, after --set and the audio options."""

    @functools.wraps(function)
    def with_settings(*args, **options):
        options["settings"] = command_line_settings(
            variables=options.pop("overrides"), sample_rate=options.pop("sample_rate"),
            channels=options.pop("channels"), bitrate=options.pop("bitrate"), loudness=options.pop("loudness"),
            length=options.pop("length"))
        return function(*args, **options)

    return with_settings


def command_line_settings(*, variables=(), sample_rate=None, channels=None, bitrate=None, loudness=None,
                          length=None) -> Settings:
    """The command line's layer of the settings from the options' values (choices arrive as text)."""
    as_int = lambda v: int(v) if v else None  # noqa: E731
    return Settings(variables=tuple(variables), sample_rate=as_int(sample_rate), channels=as_int(channels),
                    bitrate=as_int(bitrate), loudness=loudness, length=length)


def check_overrides(scripts, overrides) -> None:
    """A --set name that no script declares or uses is a usage error: a typo must not pass silently."""
    if not scripts:
        return
    unused = [name for name, _ in overrides if all(name in s.unused_overrides(overrides) for s in scripts)]
    if unused:
        known = ", ".join(sorted({v for s in scripts for v in s.declared_variables})) or "none"
        if len(scripts) == 1:
            raise click.UsageError(f"--set {unused[0]}: {scripts[0].display} has no variable '{unused[0]}' "
                                   f"(its variables: {known})")
        raise click.UsageError(f"--set {unused[0]}: none of these scripts has a variable '{unused[0]}' "
                               f"(their variables: {known})")
