"""The meditate command line: a thin click front end over the meditations engine."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from meditations import __version__
from meditations.durations import format_duration, parse_duration
from meditations.errors import MeditateError, ScriptError
from meditations.render import (AudioOverrides, default_workers, find_scripts, load, output_path, refuse_non_track,
                                render)
from meditations.speech import SpeechEngine

EXIT_FAILED = 1


class MeditateGroup(click.Group):
    """Turns engine errors into messages and exit codes, in this one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MeditateError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            report(exc)
            ctx.exit(EXIT_FAILED)


def report(exc: MeditateError) -> None:
    """Print an engine error: located problems as FILE:LINE:COL lines, anything else as 'Error: ...'."""
    if isinstance(exc, ScriptError):
        for line in exc.lines():
            click.echo(line, err=True)
    else:
        click.echo(f"Error: {exc}", err=True)


def parse_set(ctx, param, values) -> tuple[tuple[str, str], ...]:
    """--set KEY=VALUE pairs."""
    pairs = []
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"'{value}' is not KEY=VALUE (for example --set name=Ana)")
        pairs.append((key.strip(), text))
    return tuple(pairs)


def set_option(function):
    return click.option("--set", "overrides", multiple=True, callback=parse_set, metavar="KEY=VALUE",
                        help="Fill a {placeholder}: overrides the script's variables. Repeatable.")(function)


def parse_length(ctx, param, value):
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


def audio_options(function):
    function = click.option("--length", callback=parse_length, metavar="DURATION",
                            help="Fit the track to this length (e.g. 10m): pauses and timed breathing stretch.")(function)
    function = click.option("--loudness", type=click.FloatRange(-36, -9), metavar="LUFS",
                            help="Target loudness in LUFS (default -16).")(function)
    function = click.option("--bitrate", type=click.Choice(["32", "48", "64", "96", "128", "160", "192"]),
                            help="MP3 bitrate in kbit/s (default 64).")(function)
    function = click.option("--channels", type=click.Choice(["1", "2"]), help="1 mono (default) or 2 stereo.")(function)
    function = click.option("--sample-rate", type=click.Choice(["22050", "24000", "32000", "44100", "48000"]),
                            help="Sample rate in Hz (default 44100).")(function)
    return function


def audio_overrides(sample_rate, channels, bitrate, loudness=None, length=None) -> AudioOverrides:
    as_int = lambda v: int(v) if v else None  # noqa: E731
    return AudioOverrides(as_int(sample_rate), as_int(channels), as_int(bitrate), loudness, length)


def check_overrides(script, overrides) -> None:
    """A --set name that the script neither declares nor uses is a usage error: a typo must not pass."""
    unused = script.unused_overrides(overrides)
    if unused:
        known = ", ".join(script.declared_variables) or "none"
        raise click.UsageError(f"--set {unused[0]}: {script.display} has no variable '{unused[0]}' "
                               f"(its variables: {known})")


@click.group(cls=MeditateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="meditate")
@click.option("--debug", is_flag=True, help="Show a full traceback for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn YAML meditation scripts into finished guided-meditation tracks."""
    ctx.obj = {"debug": debug}


@main.command("render")
@click.argument("scripts", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", default="audio_out", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the MP3 files.")
@set_option
@audio_options
def render_command(scripts, out_dir, overrides, sample_rate, channels, bitrate, loudness, length) -> None:
    """Render SCRIPTS (files, or every script below folders) to OUTPUT/<name>.mp3."""
    audio = audio_overrides(sample_rate, channels, bitrate, loudness, length)
    scripts = find_scripts(scripts)
    failed = 0
    with SpeechEngine(workers=default_workers()) as engine:
        for path in scripts:
            try:
                refuse_non_track(path)
                script = load(path, overrides, audio)
                check_overrides(script, overrides)
                result = render(script, output_path(path, out_dir), engine)
            except MeditateError as exc:
                if len(scripts) == 1:
                    raise
                report(exc)
                failed += 1
                continue
            click.echo(f"wrote {result.path} ({format_duration(result.timeline.duration)})")
    if failed:
        click.echo(f"{failed} of {len(scripts)} scripts failed", err=True)
        sys.exit(EXIT_FAILED)


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(paths) -> None:
    """Check scripts (files, or every script below folders) without rendering."""
    from meditations.planner import check_cues

    scripts = find_scripts(paths)
    problems: list[str] = []
    with SpeechEngine(workers=default_workers()) as engine:
        for path in scripts:
            try:
                script = load(path)
                check_cues(script, engine)
                show_warnings(script)
            except ScriptError as exc:
                problems.extend(exc.lines())
    if problems:
        for line in problems:
            click.echo(line, err=True)
        sys.exit(EXIT_FAILED)
    if not scripts:
        raise click.UsageError("no scripts found in " + ", ".join(map(str, paths))
                               + " (partials are checked through the scripts that include them)")
    click.echo(f"{len(scripts)} script{'s' if len(scripts) != 1 else ''} valid")


@main.command("plan")
@click.argument("script_path", metavar="SCRIPT", type=click.Path(path_type=Path))
@set_option
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as one JSON object.")
@audio_options
def plan_command(script_path, overrides, as_json, sample_rate, channels, bitrate, loudness, length) -> None:
    """Show the exact timeline the renderer will produce."""
    from meditations.planner import plan

    script = load(script_path, overrides, audio_overrides(sample_rate, channels, bitrate, loudness, length))
    show_warnings(script)
    check_overrides(script, overrides)
    with SpeechEngine(workers=default_workers()) as engine:
        timeline = plan(script, engine)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), ensure_ascii=False))
        return
    click.echo(format_plan(timeline))


def show_warnings(script) -> None:
    """Print a script's warnings (breathing safety) on stderr."""
    for warning in script.warnings:
        click.echo(str(warning), err=True)


def format_plan(timeline) -> str:
    """The timeline as a table a person can read."""
    rate = timeline.sample_rate
    factor = f", pauses x{timeline.length_factor:.3f} to fit the length" if timeline.length_factor != 1 else ""
    lines = [f"{timeline.title} — {format_duration(timeline.duration)}, "
             f"{len(timeline.chapters)} chapter{'s' if len(timeline.chapters) != 1 else ''}{factor}", ""]
    chapters = list(timeline.chapters)
    lines.append(f"{'start':>9}  {'end':>9}  {'kind':<8} text")
    for event in timeline.events:
        while chapters and chapters[0].start <= event.start:
            lines.append(f"{format_duration(chapters[0].start / rate):>9}  chapter: {chapters.pop(0).title}")
        label = f"{event.kind} {event.phase}" if event.phase else event.kind
        lines.append(f"{format_duration(event.start / rate):>9}  {format_duration(event.end / rate):>9}  "
                     f"{label:<8} {event.text}".rstrip())
    return "\n".join(lines)


@main.command("voices")
def voices_command() -> None:
    """List the voices the speech engine offers."""
    with SpeechEngine(workers=1) as engine:
        voices = engine.voices()
    width = max(len(v.id) for v in voices)
    for voice in sorted(voices, key=lambda v: v.id):
        click.echo(f"{voice.id:<{width}}  {voice.language:<16} {voice.name}")


if __name__ == "__main__":
    main()
