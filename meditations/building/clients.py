"""Every client's set in one build (`meditate build --profiles FOLDER`): one output folder per client,
OUT/<profile name>/, each with its own manifest, page and feed, built together so that a sentence several
clients share is synthesized once. A broken profile is reported (located) and the others still build.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

from meditations.loading import AREA_PROFILE, check_profile, layered, load_profile
from meditations.model import Location, MeditateError, Problem, ScriptError

from .clientarea import area_profiles
from .owners import Owner


@dataclass(frozen=True)
class Clients:
    """The profiles of a folder: those that load, and the errors of those that do not."""

    profiles: tuple  # profiles.Profile, in file-name order
    broken: tuple[tuple[Path, MeditateError], ...]


def load_clients(folder: Path) -> Clients:
    """Load and check every profile of the folder: loose files (*.yaml, *.yml) and the client area's
    NAME/profile.yaml."""

    loose = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    files = loose + area_profiles(folder)
    if not files:
        raise MeditateError(f"no profiles (*.yaml, or NAME/{AREA_PROFILE}) in {folder}")
    profiles, broken, folders = [], [], {}  # type: ignore[var-annotated]
    for path in files:
        try:
            client = load_profile(path)
            check_profile(client)
        except MeditateError as exc:
            broken.append((path, exc))
            continue
        if client.folder in folders:
            broken.append((path, ScriptError([Problem(Location(str(path), 1, 1), (
                f"its output folder '{client.folder}' is also {folders[client.folder]}'s; "
                "give one of them another 'output:'"))])))
            continue
        folders[client.folder] = str(path)
        profiles.append(client)
    return Clients(tuple(profiles), tuple(broken))


def profile_request(client, request):
    """A build request for one client's set: their variables, voice and recordings over the build's
    settings (a command-line --set still wins), into OUT/<their folder>/ (OUT being the private root)."""

    settings = layered(client.settings(), request.settings)
    base_url = request.base_url or client.base_url
    if base_url:
        base_url = base_url.rstrip("/") + "/" + quote(client.folder) + "/"
    return replace(request, out_dir=request.out_dir / client.folder, settings=settings, base_url=base_url,
                   client=client.client,
                   scripts=tuple((t.script, t.length) for t in client.tracks), owner=Owner.profile(client))


def clients_summary(reports: list, broken: int) -> str:
    """One line: clients built, unchanged and failed, then their tracks."""
    failed = broken + sum(1 for r in reports if r.failed)
    built = sum(1 for r in reports if r.built and not r.failed)
    unchanged = len(reports) + broken - failed - built
    tracks = [sum(len(getattr(r, kind)) for r in reports) for kind in ("built", "unchanged", "failed")]
    return (f"clients: built {built}, unchanged {unchanged}, failed {failed}; "
            f"tracks: built {tracks[0]}, unchanged {tracks[1]}, failed {tracks[2]}")
