"""The options several commands share (--set and the audio options) and the command line's settings layer."""

from __future__ import annotations

import click

from meditations.model import parse_duration


def parse_set(_ctx, _param, values) -> tuple[tuple[str, str], ...]:
    """--set KEY=VALUE pairs."""
    from meditations.model import excerpt
    from meditations.files import env_limit
    from meditations.loading import value_problem

    pairs = []
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{excerpt(value)}' is not KEY=VALUE (for example --set name=Ana)")
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
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number meditate can use")
    return value


def audio_options(function):
    function = click.option("--length", callback=parse_length, metavar="DURATION",
                            help="Fit the track to this length (e.g. 10m): pauses and timed breathing "
                                 "stretch.")(function)
    function = click.option("--loudness", type=click.FloatRange(-36, -9), callback=parse_loudness, metavar="LUFS",
                            help="Target loudness in LUFS (default -16).")(function)
    function = click.option("--bitrate", type=click.Choice(["32", "48", "64", "96", "128", "160", "192"]),
                            help="MP3 bitrate in kbit/s (default 64).")(function)
    function = click.option("--channels", type=click.Choice(["1", "2"]), help="1 mono (default) or 2 stereo.")(function)
    function = click.option("--sample-rate", type=click.Choice(["22050", "24000", "32000", "44100", "48000"]),
                            help="Sample rate in Hz (default 44100).")(function)
    return function


def command_line_settings(overrides, sample_rate, channels, bitrate, loudness=None, length=None):
    """The command line's layer of the settings (meditations.settings): --set and the audio options."""
    from meditations.loading import Settings

    as_int = lambda v: int(v) if v else None  # noqa: E731
    return Settings(variables=tuple(overrides), sample_rate=as_int(sample_rate), channels=as_int(channels),
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
