"""Files the user did not write as scripts or profiles: their problems are reported without quoting a word of
them (not a key, not a value), so that a secret file a link or a mistake put where a script belongs never
reaches a build's log.

A file is taken for one when
- it leads out of the folder it is found in: a link (or a file in a linked folder) whose real place is outside
  the library folder of the place where it stands (a script), or outside its own folder (a profile or a
  library.yaml). It is still read: a valid file elsewhere is used; only its problems become one line;
- or none of its top-level keys is one its kind has (compared without case, so that `Title:` is a script's key
  written wrongly): it was not written as a script (a profile, a library.yaml) at all, so no key is named.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from meditations.files import within
from meditations.model import Location, Problem, ScriptError

from .context import show_path


def leads_out(path: Path, folder: Path) -> bool:
    """Whether the file at path, once its links are followed, lies outside folder."""
    return not within(path, folder)


def unquoted(display: str, message: str) -> Problem:
    """The one problem reported for a file not written as a script (a profile...): at its start, quoting nothing."""
    return Problem(Location(display, 1, 1), message)


def refuse_unquoted(display: str, message: str) -> ScriptError:
    """That one problem, as the error to raise."""
    return ScriptError([unquoted(display, message)])


def has_a_key_of(root: yaml.Node, keys: tuple[str, ...]) -> bool:
    """Whether a mapping has no keys, or one of `keys` (in any case) among them: else it was never written as
    this kind of file."""
    if not isinstance(root, yaml.MappingNode) or not root.value:
        return True
    return any(isinstance(key, yaml.ScalarNode) and key.value.lower() in keys for key, _ in root.value)


def leads_out_message(folder: Path, kind: str, folder_name: str, check: str) -> str:
    """What to say of a file that leads out of `folder` and is not a valid `kind`; `check` says how to see why."""
    return (f"leads out of {folder_name} '{show_path(folder)}' to a file that is not a valid {kind}; nothing of that "
            f"file is shown ({check})")
