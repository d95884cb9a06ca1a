"""Finding the scripts that become tracks (light: no audio libraries are imported here)."""

from __future__ import annotations

import os
from pathlib import Path

from meditations.files import within
from meditations.model import RenderError

from .libraryyaml import LIBRARY_FILE, find_library_root

SCRIPT_SUFFIXES = (".yaml", ".yml")


def is_track_script(path: Path, named_folder: Path | None = None) -> bool:
    """A script that becomes a track: not library.yaml, and not a partial as seen from the library root,
    the folder the user named, or the working folder."""
    if path.name == LIBRARY_FILE:
        return False
    roots = [find_library_root(path), Path.cwd()] + ([named_folder] if named_folder else [])
    return not any(is_partial(path, root) for root in roots if within(path, root))


def is_partial(path: Path, root: Path) -> bool:
    """Files named _x, or below a folder named _x (relative to root), are partials, never tracks."""
    try:
        parts = Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).parts
    except ValueError:
        parts = path.parts
    return any(part.startswith("_") for part in parts)


def find_scripts(paths) -> list[Path]:
    """Script files named directly, and every track script below named folders (sorted)."""
    return [script for script, _ in find_scripts_with_names(paths)]


def find_scripts_with_names(paths) -> list[tuple[Path, str]]:
    """Like find_scripts, each with its output name (see output_name)."""
    found: list[tuple[Path, str]] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend((candidate, output_name(candidate, path)) for candidate in sorted(path.rglob("*"))
                         # not only regular files: a FIFO or a broken link named *.yaml is reported, not skipped
                         if candidate.suffix in SCRIPT_SUFFIXES and not candidate.is_dir()
                         and is_track_script(candidate, path))
        else:
            found.append((path, output_name(path)))
    return found


def output_name(script: Path, folder: Path | None = None) -> str:
    """Where a script's track goes inside the output folder, without the .mp3: below a named FOLDER its path
    inside that folder (so its subfolders are mirrored: a/calm.yaml -> a/calm), else its file name's stem."""
    if folder is None:
        return script.stem
    return Path(os.path.relpath(script, folder)).with_suffix("").as_posix()


def refuse_non_track(path: Path) -> None:
    """A partial or library.yaml named directly cannot be rendered: say so."""
    if path.name == LIBRARY_FILE:
        raise RenderError(f"{path} holds library settings, not a script")
    if path.is_file() and not is_track_script(path):
        raise RenderError(f"{path} is a partial (its name or a folder above it starts with '_'): "
                          "it is included by other scripts, not rendered on its own")
