"""One output folder, one owner: a library (its scripts folder) or a client's profile (its file).

A build records its owner in the folder's manifest (library.json), as a path relative to the folder (a project
moved whole keeps its owners), and the sub-folders that other builds own (`nested`): a client's folder inside
the library's (the default layout: audio_out/ and audio_out/ana/). Before it writes anything, a build, or a
render, is refused in one line when
- its folder is another's (two profiles with one output, a library built into a client's folder, a render of
  a script from elsewhere into a library's folder, or into a client's folder without that client's profile);
- its folder is inside a client's folder: nothing but the client's own tracks goes there;
- its folder holds tracks of the library built into a folder above it (scripts/ana/ and profiles/ana.yaml);
- one of its tracks would go into a sub-folder another build owns.
A library's page, playlist and feed never list a track below a nested owner's folder, and --prune never deletes
one. A folder whose recorded owner is gone (a scripts folder or profile renamed) is taken over by an owner of the
same kind. A render claims no folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from meditations.files import shown, within
from meditations.loading import Settings, settings_key
from meditations.model import Location, MeditateError, Problem, ScriptError

from .manifest import MANIFEST, read_json

LIBRARY, PROFILE, RENDER = "library", "profile", "render"


@dataclass(frozen=True)
class Owner:
    """Who writes into an output folder: a library (path: its scripts folder), a client's profile (path: its
    file), or a render of one script (path: the script), which may write only where nobody owns the folder, or
    into its own library's folder."""

    kind: str
    path: Path
    where: Location | None = None  # where a profile names its folder: its refusals are located there

    @classmethod
    def library(cls, scripts: Path) -> Owner:
        """The library of a scripts folder."""
        return cls(LIBRARY, scripts)

    @classmethod
    def profile(cls, client) -> Owner:
        """A client's profile (loading.Profile), its refusals located at its 'output:'."""
        return cls(PROFILE, client.path, client.output_location)

    @classmethod
    def render(cls, script: Path) -> Owner:
        """A render of one script."""
        return cls(RENDER, script)

    def record(self, folder: Path) -> dict:
        """How the manifest of `folder` names this owner."""
        return {self.kind: Path(os.path.relpath(os.path.realpath(self.path), os.path.realpath(folder))).as_posix()}

    def owns(self, recorded: Owner) -> bool:
        """Whether this writer may write into a folder `recorded` owns."""
        if self.kind == RENDER:
            return recorded.kind == LIBRARY and within(self.path, recorded.path)
        same = os.path.realpath(self.path) == os.path.realpath(recorded.path)
        return recorded.kind == self.kind and (same or not os.path.lexists(recorded.path))

    def refusal(self, message: str) -> MeditateError:
        """The error for a refused folder: located at a profile's 'output:', else one line."""
        if self.kind == PROFILE:
            return ScriptError([Problem(self.where or Location(str(self.path), 1, 1), message)])
        return MeditateError(message)

    def advice(self) -> str:
        """What this writer can do instead."""
        if self.kind == PROFILE:
            return "give it another 'output:'"
        if self.kind == LIBRARY:
            return f"build {shown(self.path)} into another folder (-o)"
        return f"render {shown(self.path)} into another folder (-o)"


def described(owner: Owner | None) -> str:
    """An owner as a message names it."""
    if owner is None:
        return "another build"
    return f"the {owner.kind} {shown(display_path(owner.path))}"


def display_path(path: Path) -> str:
    """A path as messages show it: relative to the working folder when inside it."""
    relative = os.path.relpath(path, os.path.realpath(os.getcwd()))
    return str(path) if relative.startswith("..") else relative


def manifest_of(folder: Path) -> dict | None:
    """The meditate manifest of a folder, or None when it has none (or one meditate did not write)."""
    data = read_json(folder / MANIFEST)
    return data if data.get("tool") == "meditate" else None


def recorded_owner(folder: Path, manifest: dict | None) -> Owner | None:
    """The owner a manifest records (None for a manifest of an older meditate, or a damaged one)."""
    owner = (manifest or {}).get("owner")
    if not isinstance(owner, dict) or len(owner) != 1:
        return None
    ((kind, relative),) = owner.items()
    if kind not in (LIBRARY, PROFILE) or not isinstance(relative, str) or not relative:
        return None
    return Owner(kind, Path(os.path.normpath(os.path.join(os.path.realpath(folder), relative))))


def nested_folders(manifest: dict | None) -> list[str]:
    """The sub-folders a manifest records as other builds' (plain relative paths only)."""
    nested = (manifest or {}).get("nested")
    if not isinstance(nested, list):
        return []
    return [n for n in nested if isinstance(n, str) and n and ".." not in PurePosixPath(n).parts
            and not PurePosixPath(n).is_absolute()]


def below(name: str, folders: list[str]) -> bool:
    """Whether a path inside the output folder lies in one of these sub-folders."""
    return any(name.startswith(folder + "/") for folder in folders)


# ---------------------------------------------------------------- the check before a build or render writes

def refuse_taken(out_dir: Path, writer: Owner, tracks: list[tuple[Path, str]]) -> None:
    """Raise (one line, or located at a profile) when `writer` may not write these tracks ((script, path inside
    out_dir) pairs) into out_dir; called before anything is written."""
    subject = f"its output folder {shown(out_dir)}" if writer.kind == PROFILE else shown(out_dir)
    manifest = manifest_of(out_dir)
    problem = (_taken(out_dir, manifest, writer, subject) or _inside_another(out_dir, subject)
               or _into_another(out_dir, manifest, tracks))
    if problem:
        raise writer.refusal(f"{problem}; {writer.advice()}")
    inside = _client_inside(out_dir, writer)
    if inside:
        raise MeditateError(inside)


def _taken(out_dir: Path, manifest: dict | None, writer: Owner, subject: str) -> str | None:
    recorded = recorded_owner(out_dir, manifest)
    if recorded is not None and not writer.owns(recorded):  # (a folder an older meditate built names none)
        return f"{subject} belongs to {described(recorded)}"
    return None


def _inside_another(out_dir: Path, subject: str) -> str | None:
    """A folder above out_dir that is a client's, or whose library has tracks below out_dir."""
    real = Path(os.path.realpath(out_dir))
    for folder in real.parents:
        manifest = manifest_of(folder)
        if manifest is None:
            continue
        owner = recorded_owner(folder, manifest)
        if owner is not None and owner.kind == PROFILE:
            return f"{subject} is inside {shown(display_path(folder))}, which belongs to {described(owner)}"
        inner = real.relative_to(folder).as_posix()
        theirs = sorted(e["file"] for e in manifest.get("tracks", [])
                        if isinstance(e, dict) and isinstance(e.get("file"), str) and below(e["file"], [inner]))
        if theirs:
            return (f"{subject} holds tracks of {described(owner)} "
                    f"({shown(display_path(folder / theirs[0]))})")
    return None


def _client_inside(out_dir: Path, writer: Owner) -> str | None:
    """A client's set inside a library's (public) output, as an older meditate laid them out: the library's
    manifest would name its folder and the whole folder would be published with it."""
    if writer.kind != LIBRARY:
        return None
    for name in nested_owners(out_dir, None):
        owner = recorded_owner(out_dir / name, manifest_of(out_dir / name))
        if owner is not None and owner.kind == PROFILE:
            return (f"{shown(out_dir / name)} holds a client's set ({described(owner)}) inside the public output: "
                    f"move it out (for example to client_sets/{name}) and build again")
    return None


def _into_another(out_dir: Path, manifest: dict | None, tracks: list[tuple[Path, str]]) -> str | None:
    """A track that would go into a sub-folder of out_dir another build owns."""
    nested = nested_folders(manifest)
    seen: dict[str, str | None] = {}
    for script, relative in sorted(tracks, key=lambda pair: pair[1]):
        for part in reversed(PurePosixPath(relative).parents[:-1]):  # the outermost sub-folder first
            folder = part.as_posix()
            if folder not in seen:
                theirs = manifest_of(out_dir / folder)
                seen[folder] = described(recorded_owner(out_dir / folder, theirs)) \
                    if theirs is not None or folder in nested else None
            if seen[folder] is not None:
                return (f"{shown(script)} would be written into {shown(out_dir / folder)}, which belongs to "
                        f"{seen[folder]}")
    return None


def refuse_replacing(out_dir: Path, relative: str, script: Path, settings: str) -> None:
    """Raise when a render would replace a track a build made from other inputs (another script, or other
    settings: a personalised render over the library's own track). `settings` is the render's settings_key."""
    manifest = manifest_of(out_dir) or {}
    entry = next((e for e in manifest.get("tracks", []) if isinstance(e, dict) and e.get("file") == relative), None)
    if entry is None or not isinstance(entry.get("script"), str):
        return
    built_from = Path(os.path.normpath(os.path.join(os.path.realpath(out_dir), entry["script"])))
    same_script = os.path.realpath(built_from) == os.path.realpath(script)
    # a manifest of an older meditate holds no settings: the build's own are then the defaults
    if same_script and entry.get("settings", settings_key(Settings())) == settings:
        return
    owner = recorded_owner(out_dir, manifest)
    inputs = "with other settings" if same_script else f"from {shown(display_path(built_from))}"
    raise MeditateError(f"{shown(out_dir / relative)} is a track of {described(owner)}, built {inputs}: "
                        f"rendering {shown(script)} over it would replace it; render into another folder (-o), "
                        "or add --force to replace it")


# ---------------------------------------------------------------- what a build records

def nested_owners(out_dir: Path, manifest: dict | None) -> list[str]:
    """The sub-folders of out_dir that other builds own: those holding a meditate manifest now (found without
    following a link), and those recorded before that are still there."""
    found = set()
    for folder, subfolders, files in os.walk(out_dir):
        if Path(folder) != out_dir and MANIFEST in files and manifest_of(Path(folder)) is not None:
            found.add(Path(folder).relative_to(out_dir).as_posix())
            subfolders[:] = []  # what is below is theirs to know
    found.update(n for n in nested_folders(manifest) if (out_dir / n).is_dir())
    return sorted(found)
