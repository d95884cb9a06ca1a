"""`meditate client ...`: the client area from the command line: add a client, build their set, hand it over,
remove them completely."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import click

from meditations.building import (
    CLIENT_SETS,
    CLIENTS,
    area_profiles,
    create_client,
    find_client,
    folder_size,
    new_profile_text,
    plan_removal,
    remove,
    share_token,
)
from meditations.files import shown
from meditations.loading import check_profile, find_scripts, load_profile, output_name
from meditations.model import MeditateError
from meditations.publishing import check_base_url

from .commands import build_command, main, speech_engine
from .options import utf8_text

AREA_OPTION = click.option("--area", type=click.Path(file_okay=False, path_type=Path), default=str(CLIENTS),
                           show_default=True, help="The client area: a folder per client.")
SETS_OPTION = click.option("-o", "--output", "sets_root", type=click.Path(file_okay=False, path_type=Path),
                           default=str(CLIENT_SETS), show_default=True,
                           help="The private folder for client sets (never inside the public output).")


@main.group("client")
def client_group() -> None:
    """A client's private set: add a client, build, hand over, remove (personal data stays in clients/ and
    client_sets/, never in the public library)."""


@client_group.command("new")
@click.argument("name", callback=utf8_text)
@click.option("--spoken-name", callback=utf8_text, help="How the practices address the client [default: NAME].")
@click.option("--scripts", "script_names", callback=utf8_text, metavar="A,B,...",
              help="The practices of the set (names from the library's scripts/ or the client's own).")
@click.option("--length", callback=utf8_text, metavar="DURATION", help="Fit every track to this length (e.g. 10m).")
@click.option("--rate", type=click.IntRange(80, 450), help="The voice's pace for this client, words per minute.")
@click.option("--voice", callback=utf8_text, help="A voice for this client (see meditate voices).")
@click.option("--library", type=click.Path(file_okay=False, path_type=Path), default="scripts", show_default=True,
              help="The library whose practices the set draws on.")
@AREA_OPTION
def client_new(name, spoken_name, script_names, length, rate, voice, library, area) -> None:
    """Add client NAME: a profile in clients/NAME/ (asked for on a terminal, else from the options)."""
    available = [output_name(p) for p in find_scripts([library])] if library.is_dir() else []
    asked = not any((spoken_name, script_names, length, rate, voice)) and sys.stdin.isatty()
    if asked:
        spoken_name = click.prompt(f"How should the practices address {name}? (empty: no name)",
                                   default=name, show_default=True)
        click.echo("Practices: " + ", ".join(available))
        script_names = click.prompt("Which practices, separated by commas", default=_default_scripts(available))
        length = click.prompt("Fit every track to a length (e.g. 10m; empty: each practice's own)", default="",
                              show_default=False) or None
    names = [s.strip() for s in (script_names or _default_scripts(available)).split(",") if s.strip()]
    if not names:
        raise click.BadParameter("name at least one practice", param_hint="'--scripts'")
    text = new_profile_text(name, name if spoken_name is None else spoken_name, names, length, rate, voice)
    profile = create_client(area, name, text, library)
    try:
        check_profile(load_profile(profile))
    except MeditateError:
        profile.unlink()
        (profile.parent / "scripts" / "library.yaml").unlink(missing_ok=True)
        _remove_if_empty(profile.parent / "scripts")
        _remove_if_empty(profile.parent)
        raise
    click.echo(f"wrote {profile}: build the set with: meditate client build {_arg(name)}")


@client_group.command("list")
@AREA_OPTION
def client_list(area) -> None:
    """List the clients of the area and their practices."""
    profiles = area_profiles(area)
    if not profiles:
        click.echo(f"no clients in {area} yet: add one with meditate client new NAME")
    for path in profiles:
        client = load_profile(path)
        click.echo(f"{path.parent.name}: " + ", ".join(output_name(t.script) for t in client.tracks))


@client_group.command("build")
@click.argument("names", nargs=-1, callback=utf8_text)
@click.option("--all", "every", is_flag=True, help="Every client of the area.")
@click.option("-j", "--jobs", type=click.IntRange(1, 64), help="Tracks rendered at once (default: one per core).")
@click.option("--force", is_flag=True, help="Rebuild every track.")
@click.option("--prune", is_flag=True, help="Remove tracks no longer in a client's set.")
@click.option("--cluster", envvar="MEDITATE_CLUSTER", metavar="ADDRESS", callback=utf8_text,
              help="Render on a Dask cluster (tcp://HOST:8786, or 'local').")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@AREA_OPTION
@SETS_OPTION
@click.pass_context
def client_build(ctx, names, every, jobs, force, prune, cluster, quiet, area, sets_root) -> int:
    """Build the sets of the clients NAMES (or --all) into client_sets/, rebuilding only what changed."""
    if every == bool(names):
        raise click.UsageError("name the clients to build, or --all")
    if every:
        return _build(ctx, sets_root, jobs=jobs, force=force, prune=prune, cluster=cluster, quiet=quiet,
                      profiles=area)
    failed = 0
    for name in names:
        failed += _build(ctx, sets_root, jobs=jobs, force=force, prune=prune, cluster=cluster, quiet=quiet,
                         profile=find_client(area, name))
    return failed


@client_group.command("share")
@click.argument("name", callback=utf8_text)
@click.option("--base-url", metavar="URL", callback=utf8_text,
              help="Where client_sets/ is published (e.g. https://example.org/sets/): adds a private feed and a QR "
                   "code, and a secret token to the set's folder name.")
@AREA_OPTION
@SETS_OPTION
@click.pass_context
def client_share(ctx, name, base_url, area, sets_root) -> int:
    """Build client NAME's set and its hand-over: a private page, zip and HANDOUT.html (with a base URL also a
    private feed and a QR code); then say what to give the client."""
    profile = find_client(area, name)
    client = load_profile(profile)
    if base_url:
        check_base_url(base_url)
        before = sets_root / client.folder
        share_token(profile, base_url)
        client = load_profile(profile)
        if before.is_dir() and not (sets_root / client.folder).exists():
            before.rename(sets_root / client.folder)  # the set moves to its secret address; nothing is rebuilt
    failed = _build(ctx, sets_root, profile=profile)
    if failed:
        return failed
    folder = sets_root / client.folder
    click.echo(f"{name}'s set is ready in {shown(folder)}/: give them HANDOUT.html (print it, or send it)")
    if client.base_url:
        address = f"{client.base_url.rstrip('/')}/{quote(client.folder)}/"
        click.echo(f"upload {shown(folder)}/ to {address} (that folder only); their page: {address}index.html")
    else:
        click.echo("or, to listen by a link and in a podcast app, publish it: add --base-url URL")
    return 0


@client_group.command("remove")
@click.argument("name", callback=utf8_text)
@click.option("--yes", is_flag=True, help="Remove without asking.")
@click.option("--library", type=click.Path(file_okay=False, path_type=Path), default="scripts", show_default=True,
              help="The public library (its speech stays in the cache).")
@AREA_OPTION
@SETS_OPTION
def client_remove(name, yes, library, area, sets_root) -> None:
    """Remove client NAME completely: profile, own scripts, set, hand-over, and their audio in the cache."""
    profile = find_client(area, name)
    with speech_engine() as engine:
        removal = plan_removal(profile, sets_root, library, engine.voices())
    for folder in removal.folders:
        click.echo(f"  {shown(folder)}/ ({folder_size(folder) // 1024} KB)")
    click.echo(f"  {len(removal.clips)} speech clips and {len(removal.pieces)} MP3 pieces of theirs in the cache")
    if not yes:
        if not sys.stdin.isatty():
            raise click.UsageError("this removes the client's files for good: add --yes to do it without a terminal")
        click.confirm(f"Remove {name} and everything above for good?", abort=True)
    remove(removal)
    click.echo(f"removed {name}")


def _build(ctx, sets_root: Path, profile: Path | None = None, profiles: Path | None = None,
           jobs=None, force=False, prune=False, cluster=None, quiet=False) -> int:
    return ctx.invoke(build_command, out_dir=sets_root, jobs=jobs, force=force, prune=prune, profile=profile,
                      profiles_dir=profiles, cluster=cluster, quiet=quiet)


def _default_scripts(available: list[str]) -> str:
    return "compassionate-breathing" if "compassionate-breathing" in available else ",".join(available[:1])


def _remove_if_empty(folder: Path) -> None:
    if folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()


def _arg(text: str) -> str:
    return text if text.replace("-", "").replace("_", "").isalnum() else f'"{text}"'
