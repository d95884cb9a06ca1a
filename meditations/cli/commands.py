"""The meditate command line: a thin click front end over the meditations engine."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from meditations import BuildRequest, build_all, load, plan, render
from meditations.building import (
    CLIENT_SETS,
    CLIENTS,
    client_names_in,
    Owner,
    check_cues,
    check_sounds,
    choose_voices,
    clients_summary,
    default_workers,
    load_clients,
    profile_request,
    refuse_public_output,
    refuse_replacing,
    refuse_taken,
    refuse_taken_folder,
    render_sample,
)
from meditations.files import (
    Interrupted,
    check_cache_root,
    interruptible,
    name_problem,
    refuse_bad_name,
    refuse_shared_outputs,
    shown,
)
from meditations.loading import (
    TEMPLATES,
    check_profile,
    find_scripts,
    find_scripts_with_names,
    layered,
    load_profile,
    new_script,
    output_name,
    refuse_non_track,
    settings_key,
)
from meditations.model import MeditateError, ScriptError, format_duration
from meditations.planning import preview_suffix, select_chapter, select_steps
from meditations.publishing import check_base_url
from meditations.speaking import SpeechEngine
from meditations.version import __version__

from .messages import Batch, report
from .options import audio_options, check_overrides, set_option, settings_options, utf8_text
from .progress import BuildProgress, RenderProgress, format_plan, verify_summary

EXIT_FAILED = 1
DRAFTS = Path("drafts")  # previews and voice samples: outside the public and the private outputs


class MeditateGroup(click.Group):
    """Turns engine errors into messages and exit codes, in this one place. A command returns how many of its
    items (scripts, tracks) failed; any failure makes the exit code EXIT_FAILED."""

    def invoke(self, ctx: click.Context):
        try:
            with interruptible():
                failed = super().invoke(ctx)
        except MeditateError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            report(exc)
            ctx.exit(EXIT_FAILED)
        except Interrupted as stop:
            # Everything has unwound by now: workers stopped and reaped, temporary files gone, lock released.
            click.echo(f"Stopped by {stop.name}: finished tracks are kept; run the same command again "
                       "to make the rest", err=True)
            ctx.exit(stop.exit_code)
        except OSError as exc:  # the disk or the system refused (full, read-only, permissions): one line
            if ctx.obj and ctx.obj.get("debug"):
                raise
            where = f"{shown(exc.filename)}: " if exc.filename else ""
            click.echo(f"Error: {where}{exc.strerror or exc}", err=True)
            ctx.exit(EXIT_FAILED)
        if failed:
            ctx.exit(EXIT_FAILED)


def speech_engine():
    """The speech engine, once its cache folder is known to be usable (else one clear line, not a crash of
    its worker processes)."""

    check_cache_root()
    return SpeechEngine(workers=default_workers())


@click.group(cls=MeditateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="meditate")
@click.option("--debug", is_flag=True, help="Show a full traceback for errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Turn YAML meditation scripts into finished guided-meditation tracks."""
    ctx.obj = {"debug": debug}


@main.command("render")
@click.argument("scripts", nargs=-1, type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the MP3 files [default: audio_out; a preview (--steps, --chapter): drafts; with "
                   "--profile: client_sets].")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path),
              help="A client profile: render the client's set into OUTPUT/<client>/.")
@click.option("--steps", "step_spec", metavar="N[-M]", callback=utf8_text,
              help="Preview only these steps (e.g. 3-5) of one script.")
@click.option("--chapter", metavar="NAME", callback=utf8_text, help="Preview only this chapter of one script.")
@click.option("--force", is_flag=True, help="Replace a track a build made from other inputs (another script, "
                                            "or other settings).")
@set_option
@audio_options
@settings_options
def render_command(scripts, out_dir, profile, step_spec, chapter, force, settings) -> int:
    """Render SCRIPTS (files, or every script below folders) to OUTPUT/<name>.mp3."""
    if out_dir is None and (step_spec or chapter) and profile is None:
        out_dir = DRAFTS  # a preview is a scratch file: never in the published folder
    jobs, out_dir, client = render_jobs(scripts, profile, out_dir, settings, preview=bool(step_spec or chapter))
    if (step_spec or chapter) and len(jobs) != 1:
        raise click.UsageError("--steps and --chapter preview one script at a time")

    def load_one(path, settings):
        refuse_non_track(path)
        script = load(path, settings)
        show_warnings(script)
        if step_spec:
            return select_steps(script, step_spec)
        if chapter:
            return select_chapter(script, chapter)
        return script

    def render_one(path, script, target):
        refuse_bad_name(path, target.name)
        with RenderProgress(target.name) as shown:
            return render(script, target, engine, progress=shown.update)

    batch = Batch(len(jobs), alone=len(jobs) == 1)
    loaded = [(path, name, batch.run(load_one, path, settings)) for path, settings, name in jobs]
    scripts_loaded = [(path, name, script) for path, name, script in loaded if script is not None]
    check_overrides([s for _, _, s in scripts_loaded], settings.variables)
    suffix = preview_suffix(step_spec, chapter)
    targets = [(path, script, out_dir / f"{name}{suffix}.mp3") for path, name, script in scripts_loaded]
    refuse_shared_outputs([(path, target) for path, _, target in targets])  # never a silent overwrite
    for path, _, target in targets:  # never into a folder another library or client owns
        refuse_taken(out_dir, Owner.profile(client) if client else Owner.render(path),
                     [(path, target.relative_to(out_dir).as_posix())])
        if not force:  # nor over a track built from other inputs (a personalised render over the library's)
            track_settings = layered(client.settings(), settings) if client else settings
            refuse_replacing(out_dir, target.relative_to(out_dir).as_posix(), path, settings_key(track_settings))
    with speech_engine() as engine:
        for path, script, target in targets:
            result = batch.run(render_one, path, script, target)
            if result is not None:
                click.echo(f"wrote {result.path} ({format_duration(result.timeline.duration)})")
    return batch.finish()


def render_jobs(scripts, profile, out_dir, command_line, preview=False):
    """What to render: (script path, settings, output name) triples, the output folder and the client's profile
    (or None). A preview of a named script with a --profile uses the client's settings for that script alone."""

    jobs, named, client = [], command_line, None
    if profile is not None:
        client = load_profile(profile)
        check_profile(client)
        named = layered(client.settings(), command_line)
        refuse_public_output(out_dir or CLIENT_SETS)
        out_dir = (out_dir or CLIENT_SETS) / client.folder
        if not (preview and scripts):
            jobs = [(track.script, layered(client.settings(track), command_line), output_name(track.script))
                    for track in client.tracks]
    jobs += [(path, named, name) for path, name in find_scripts_with_names(scripts)]
    if not jobs:
        raise click.UsageError("name the scripts to render, or a client --profile")
    return jobs, out_dir or Path("audio_out"), client


@main.command("validate")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path),
              help="Check a client profile, and its scripts with the client's settings.")
def validate_command(paths, profile) -> int:
    """Check scripts (files, or every script below folders) without rendering."""

    if profile is not None:
        client = load_profile(profile)
        check_profile(client)
        if not paths:
            click.echo(f"{profile}: {len(client.tracks)} script{'s' if len(client.tracks) != 1 else ''} valid")
            return 0
    if not paths:
        raise click.UsageError("name the scripts or folders to check, or a --profile")
    scripts = find_scripts(paths)

    def check(path):
        script = load(path)
        show_warnings(script)
        check_sounds(script)
        check_cues(script, engine)

    batch = Batch(len(scripts), catch=ScriptError, deferred=True)  # problems after every warning, as a list
    with speech_engine() as engine:
        for path in scripts:
            batch.run(check, path)
    failed = batch.finish(summary=False)
    if failed:
        return failed
    if not scripts:
        raise click.UsageError("no scripts found in " + ", ".join(map(str, paths))
                               + " (partials are checked through the scripts that include them)")
    click.echo(f"{len(scripts)} script{'s' if len(scripts) != 1 else ''} valid")
    return 0


@main.command("plan")
@click.argument("script_path", metavar="SCRIPT", type=click.Path(path_type=Path))
@set_option
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as one JSON object.")
@audio_options
@settings_options
def plan_command(script_path, as_json, settings) -> None:
    """Show the exact timeline the renderer will produce."""
    script = load(script_path, settings)
    show_warnings(script)
    check_overrides([script], settings.variables)
    with speech_engine() as engine:
        timeline = plan(script, engine)
    if as_json:
        click.echo(json.dumps(timeline.to_json(), ensure_ascii=False))
        return
    click.echo(format_plan(timeline))


def show_warnings(script) -> None:
    """Print a script's warnings (breathing safety) on stderr."""
    for warning in script.warnings:
        click.echo(str(warning), err=True)


@main.command("voices")
@click.argument("wanted", nargs=-1, metavar="[VOICE]...", callback=utf8_text)
@click.option("--sample", is_flag=True, help="Render a short sample of each voice (or of those named) to listen to.")
@click.option("--language", metavar="CODE", callback=utf8_text, help="Only voices of this language (e.g. en, de, fr).")
@click.option("-o", "--output", "out_dir", default="drafts/voices", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the samples (a scratch folder: never the published one).")
def voices_command(wanted, sample, language, out_dir) -> None:
    """List the voices of every speech engine, or render samples to choose one by ear."""

    if language is not None and not language.strip():  # "" would match every voice: a sample of each
        raise click.BadParameter("give a language code, for example en or fr-fr", param_hint="'--language'")
    with speech_engine() as engine:
        voices = choose_voices(engine.voices(), wanted, language)
        if not sample:
            width = max((len(v.id) for v in voices), default=0)
            for voice in voices:
                click.echo(f"{voice.engine:<8} {voice.id:<{width}}  {voice.language:<16} {voice.sample_rate:>5} Hz  "
                           f"{voice.name}, from {voice.source}")
            return
        for voice in voices:
            result = render_sample(voice, out_dir, engine)
            click.echo(f"wrote {result.path} ({voice.name})")


@main.command("new")
@click.argument("name", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--template", type=click.Choice(TEMPLATES),
              default="visualization", show_default=True, help="What kind of practice to start from.")
def new_command(name, template) -> None:
    """Start a new script NAME(.yaml) from a commented template (never overwrites a file)."""

    if not name.name or not str(name).strip() or name.name in (".", ".."):
        raise click.BadParameter("give the new script a file name, for example scripts/evening-calm",
                                 param_hint="NAME")

    if name_problem(str(name)) is not None:  # the build would refuse to make a track of it
        raise click.BadParameter(f"'{shown(name)}': {name_problem(str(name))}", param_hint="NAME")
    path = new_script(name, template)
    click.echo(f"wrote {path}: edit it, then try: meditate render {path}")


@main.command("build")
@click.argument("scripts_dir", default="scripts", type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the library's tracks [default: audio_out; with --profile(s), client_sets].")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), help="Tracks rendered at once (default: one per core).")
@click.option("--force", is_flag=True, help="Rebuild every track.")
@click.option("--dry-run", is_flag=True, help="List what would be rebuilt, and why; change nothing.")
@click.option("--prune", is_flag=True, help="Remove tracks this tool made whose script no longer exists.")
@click.option("--verify", is_flag=True, help="Read every track again (its SHA-256 and MP3 frames); rebuild any that "
                                              "is not as built.")
@click.option("--profile", type=click.Path(dir_okay=False, path_type=Path),
              help="Build a client's set (a profile) into OUTPUT/<client>/.")
@click.option("--profiles", "profiles_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Build every client's set (each profile of this folder, e.g. clients/) into OUTPUT/<client>/.")
@click.option("--cluster", envvar="MEDITATE_CLUSTER", metavar="ADDRESS", callback=utf8_text,
              help="Render on a Dask cluster: its scheduler (tcp://HOST:8786), or 'local' for one on this machine.")
@click.option("--base-url", metavar="URL", callback=utf8_text,
              help="Where OUTPUT will be published: also write a podcast feed.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option("-v", "--verbose", is_flag=True, help="A line per track built, saying which worker built it.")
@set_option
@audio_options
@settings_options
def build_command(scripts_dir, out_dir, jobs, force, dry_run, prune, verify, profile, profiles_dir, cluster, base_url,
                  quiet, verbose, settings) -> int:
    """Build every script below SCRIPTS_DIR (default scripts/) into OUTPUT, rebuilding only what changed."""
    if profile is not None and profiles_dir is not None:
        raise click.UsageError("give --profile or --profiles, not both")
    if profile is None and profiles_dir is None and not scripts_dir.is_dir():
        raise click.UsageError(f"no folder {scripts_dir}")
    if base_url:
        check_base_url(base_url)
    personal = profile is not None or profiles_dir is not None
    out_dir = out_dir or (CLIENT_SETS if personal else Path("audio_out"))
    if personal:
        refuse_public_output(out_dir)
    request = BuildRequest(scripts_dir=scripts_dir, out_dir=out_dir, jobs=jobs or default_workers(), force=force,
                           dry_run=dry_run, prune=prune, verify=verify, settings=settings, base_url=base_url,
                           cluster=(cluster or "").strip() or None)
    clients, broken = [], 0
    if profile is not None:
        client = load_profile(profile)
        check_profile(client)
        requests = [profile_request(client, request)]
    elif profiles_dir is not None:
        requests, broken = profile_requests(profiles_dir, request)
        clients = requests
    else:
        requests = [request]
    if not dry_run:
        check_cache_root()
    if not personal:
        for warning in client_names_in(scripts_dir, CLIENTS):
            click.echo(warning, err=True)
    show = BuildProgress(quiet, verbose)
    try:
        reports = build_all(requests, show.update)
    finally:
        show.close()  # also when stopped: the one-line message then starts on a clean line
    if dry_run:
        tracks = [t for r in reports for t in r.built]
        for track in tracks:
            click.echo(f"would build {track.display}: {track.reason}")
        click.echo(f"{len(tracks)} to build, {sum(len(r.unchanged) for r in reports)} unchanged")
        return broken
    for built in reports:
        if verify and not quiet:
            click.echo(verify_summary(built))
        if not quiet and not clients:
            click.echo(built.summary + (f" ({', '.join(built.pruned)})" if built.pruned else ""))
    if clients and not quiet:
        click.echo(clients_summary(reports, broken))
    return broken + sum(len(r.failed) for r in reports)


def profile_requests(folder: Path, request):
    """A build request per client of the folder, and how many profiles are broken (each reported here)."""

    if not folder.is_dir():
        raise click.UsageError(f"no folder {folder}")
    loaded = load_clients(folder)
    for _, exc in loaded.broken:
        report(exc)
    requests, refused = [], 0
    for client in loaded.profiles:
        client_request = replace(profile_request(client, request), label=client.folder)
        try:
            refuse_taken_folder(client_request)  # one client refused; the others still build
        except MeditateError as exc:
            report(exc)
            refused += 1
            continue
        requests.append(client_request)
    return requests, len(loaded.broken) + refused

