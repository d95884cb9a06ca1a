"""The client area: personal material kept apart from the public library.

    clients/NAME/profile.yaml     the client's profile (which practices, their name, voice, lengths)
    clients/NAME/scripts/         scripts written for this client alone
    client_sets/NAME/             their built set (client_sets/NAME-TOKEN/ once shared on the web)

A public build reads scripts/ and writes audio_out/; a client's build reads the client area (and the library's
scripts) and writes client_sets/. Neither writes into the other's folder: a client's set is refused inside a
folder that holds a public library's output.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from meditations.files import shown, write_atomic
from meditations.loading import AREA_PROFILE, LIBRARY_FILE, load_profile, safe_folder_name
from meditations.model import MeditateError

from .owners import LIBRARY, display_path, manifest_of, recorded_owner

CLIENTS = Path("clients")
CLIENT_SETS = Path("client_sets")
TOKEN_BYTES = 16  # 128 bits: a shared set's address cannot be guessed from the client's name


def client_folder(area: Path, name: str) -> Path:
    """Where a client's profile and own scripts live."""
    folder = safe_folder_name(name)
    if folder in (".", "..") or not name.strip():
        raise MeditateError(f"'{name}' cannot be a client's name: give a name, for example Ana")
    return area / folder


def find_client(area: Path, name: str) -> Path:
    """The profile of a client of the area, or an error that lists the clients there."""
    path = client_folder(area, name) / AREA_PROFILE
    if path.is_file():
        return path
    known = ", ".join(p.parent.name for p in area_profiles(area)) or "none yet"
    raise MeditateError(f"no client '{name}' in {shown(area)} (clients: {known}); "
                        f"add one with: meditate client new {name}")


def area_profiles(area: Path) -> list[Path]:
    """Every client's profile in the area (clients/NAME/profile.yaml), in name order."""
    if not area.is_dir():
        return []
    return sorted(p / AREA_PROFILE for p in area.iterdir() if (p / AREA_PROFILE).is_file())


def new_profile_text(name: str, spoken_name: str, scripts: list[str], length: str | None, rate: int | None,
                     voice: str | None) -> str:
    """A commented profile for a new client (plain YAML a therapist can edit)."""
    quoted = _quote(spoken_name)
    lines = [
        f"# {name}'s practices. This file is personal data: it stays on this machine (clients/ is never",
        "# published or committed). Build the set with: meditate client build " + _quote_arg(name),
        f"client: {_quote(name)}",
        "variables:",
        f"  name: {quoted}   # how the practices address them; \"\" says nothing there",
    ]
    if rate or voice:
        lines.append("voice:")
        if voice:
            lines.append(f"  name: {_quote(voice)}")
        if rate:
            lines.append(f"  rate: {rate}   # words per minute")
    else:
        lines.append("# voice: {rate: 120}   # a slower or faster voice for this client (words per minute)")
    lines.append(f"length: {length}   # every track fitted to this length" if length
                 else "# length: 10m   # fit every track to one length")
    lines.append("scripts:   # names from scripts/, or from this client's own scripts/ folder")
    lines += [f"  - {_quote(script)}" for script in scripts]
    return "\n".join(lines) + "\n"


def create_client(area: Path, name: str, text: str, library: Path | None = None) -> Path:
    """Write a new client's profile (never over an existing one) and their own scripts folder; with a library,
    a copy of its library.yaml goes into that folder, so the client's own scripts sound like the library's."""
    folder = client_folder(area, name)
    profile = folder / AREA_PROFILE
    if profile.exists():
        raise MeditateError(f"{shown(profile)} already exists: edit it, or remove the client first "
                            f"(meditate client remove {_quote_arg(name)})")
    (folder / "scripts").mkdir(parents=True, exist_ok=True)
    settings = library / LIBRARY_FILE if library is not None else None
    if settings is not None and settings.is_file() and not (folder / "scripts" / LIBRARY_FILE).exists():
        copied = (f"# The settings of {name}'s own scripts: a copy of {shown(settings)} made when the client was "
                  f"added.\n").encode() + settings.read_bytes()
        write_atomic(folder / "scripts" / LIBRARY_FILE, copied, private=True)
    write_atomic(profile, text.encode("utf-8"), private=True)
    return profile


def share_token(profile: Path, base_url: str) -> str:
    """The client's token, made (and kept in the profile with the base URL) on the first share."""
    text = profile.read_text(encoding="utf-8")
    found = re.search(r"(?m)^token:\s*['\"]?([A-Za-z0-9_-]{16,64})", text)
    token = found.group(1) if found else secrets.token_urlsafe(TOKEN_BYTES)
    text = re.sub(r"(?m)^(base_url|token):.*\n?", "", text)
    text = text.rstrip("\n") + f"\nbase_url: {_quote(base_url)}\ntoken: {token}   # secret: part of the set's address\n"
    write_atomic(profile, text.encode("utf-8"), private=True)
    return token


def refuse_public_output(sets_root: Path) -> None:
    """Raise when a folder for client sets is, or is inside, a folder holding a public library's output."""
    folder = Path(os.path.abspath(sets_root))
    for candidate in (folder, *folder.parents):
        owner = recorded_owner(candidate, manifest_of(candidate))
        if owner is not None and owner.kind == LIBRARY:
            where = ("is the public library's output" if candidate == folder
                     else f"is inside the public library's output {shown(display_path(candidate))}")
            raise MeditateError(f"{shown(sets_root)} {where}: client sets go into a private folder of their own "
                                f"(default {CLIENT_SETS}/)")


def _quote(text: str) -> str:
    """A YAML double-quoted string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _quote_arg(text: str) -> str:
    return f'"{text}"' if re.search(r"[^\w.-]", text) else text


def client_names_in(scripts_dir: Path, area: Path) -> list[str]:
    """Warnings for the library's scripts that mention a client's name (their `name` variable or their
    folder's name) as a word: a client's words belong in their own scripts folder, not in the public library."""
    names: dict[str, Path] = {}
    for profile in area_profiles(area):
        try:
            client = load_profile(profile)
        except MeditateError:
            continue  # a broken profile is reported when it is built
        for name in (dict(client.variables).get("name", ""), profile.parent.name):
            if len(name.strip()) >= 3:
                names.setdefault(name.strip(), profile)
    if not names:
        return []
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")\b")
    warnings = []
    for path in sorted(p for p in scripts_dir.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()):
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(lines, 1):
            found = pattern.search(_spoken_part(line))
            if found:
                profile = names[found.group(1)]
                warnings.append(f"{shown(path)}:{number}:{found.start() + 1}: warning: '{found.group(1)}' is a "
                                f"client's name ({shown(profile)}): a client's words belong in "
                                f"{shown(profile.parent / 'scripts')}/, not in the public library")
                break
    return warnings


def _spoken_part(line: str) -> str:
    """A YAML line without its comment (a note like "--set name=Ana" in a template names no one)."""
    if line.lstrip().startswith("#"):
        return ""
    return line.split(" #", 1)[0]
