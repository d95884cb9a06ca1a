"""What meditate writes and deletes stays inside the output folder, under names every player can list.

- A track's name (from its script's file name) must be valid UTF-8 without control characters: a line break
  in a name would break the playlist, and bytes that are not UTF-8 cannot go into the manifest, the page
  or the feed. Such a script is refused with a clear error (rename it).
- Two scripts that would make the same output file are an error, never a silent overwrite.
- A path read from the manifest is used only when it names a file below the output folder, reached
  without following a symbolic link (so a damaged or hostile library.json cannot make --prune delete
  anything else).
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path, PurePosixPath

from meditations.model import MeditateError

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_UNDECODABLE = re.compile(r"[\udc80-\udcff]")  # how Python carries file-name bytes that are not UTF-8


def shown(name) -> str:
    """A file name as it can be printed: control characters and undecodable bytes written as escapes."""
    text = str(name)
    text = _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)
    return _UNDECODABLE.sub(lambda m: f"\\x{ord(m.group(0)) - 0xdc00:02x}", text)


def name_problem(relative: str) -> str | None:
    """Why a track cannot have this name (a path inside the output folder), or None."""
    if _UNDECODABLE.search(relative):
        return "its name is not valid UTF-8 text"
    if _CONTROL.search(relative):
        return "its name holds a line break or another control character"
    return None


def bad_name_message(script: Path, relative: str) -> str:
    """What to tell about a script whose output name cannot be used."""
    return f"{shown(script)}: {name_problem(relative)}; rename the script (its name becomes the track's)"


def refuse_bad_name(script: Path, relative: str) -> None:
    """Raise MeditateError when a script's output name cannot be used."""
    if name_problem(relative) is not None:
        raise MeditateError(bad_name_message(script, relative))


def shared_outputs(pairs) -> list[tuple[list, str]]:
    """For (source, output path) pairs: each group of sources that would write one output, with its message."""
    by_output: dict[str, list] = {}
    for source, output in pairs:
        by_output.setdefault(os.path.normpath(os.path.abspath(output)), []).append((source, output))
    groups = []
    for sources in by_output.values():
        if len(sources) < 2:
            continue
        scripts = [source for source, _ in sources]
        if len({os.path.realpath(source) for source in scripts}) == 1:
            message = f"{shown(scripts[0])} is given {len(scripts)} times; give it once"
        else:
            names = " and ".join(shown(source) for source in scripts)
            message = f"{names} would both be written to {shown(sources[0][1])}; rename one of them"
        groups.append((scripts, message))
    return groups


def refuse_shared_outputs(pairs) -> None:
    """Raise MeditateError when two sources would write the same output file."""
    groups = shared_outputs(pairs)
    if groups:
        raise MeditateError(groups[0][1])


def inside(out_dir: Path, relative) -> Path | None:
    """out_dir/relative when `relative` (from the manifest) names an existing regular file below out_dir,
    reached without any symbolic link on the way; else None."""
    if not isinstance(relative, str) or not relative or name_problem(relative):
        return None
    parts = PurePosixPath(relative).parts
    if PurePosixPath(relative).is_absolute() or ".." in parts or "\\" in relative:
        return None
    path = out_dir
    for part in parts:
        path = path / part
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return None
        if stat.S_ISLNK(mode):
            return None
    return path if stat.S_ISREG(mode) else None
