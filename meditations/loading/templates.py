"""Starting points for new scripts: commented templates a therapist fills in."""

from __future__ import annotations

import os
from pathlib import Path

from meditations.model import MeditateError

TEMPLATES = ("visualization", "breathing", "body-scan", "blank")
_FOLDER = Path(__file__).parent / "templates"


def template_text(name: str, title: str) -> str:
    """A template with its title filled in."""
    return (_FOLDER / f"{name}.yaml").read_text(encoding="utf-8").replace("__TITLE__", title)


def title_from_name(stem: str) -> str:
    """'evening-calm' -> 'Evening Calm'."""
    words = stem.replace("_", " ").replace("-", " ").split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or "New Practice"


def new_script(path: Path, template: str) -> Path:
    """Write a new script from a template; never overwrites anything."""
    if path.suffix not in (".yaml", ".yml"):
        path = path.with_name(path.name + ".yaml")
    text = template_text(template, title_from_name(path.stem))
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as handle:  # "x": fails if the file exists, even in a race
            handle.write(text)
    except FileExistsError:
        raise MeditateError(f"{path} already exists; choose another name (nothing was changed)") from None
    except OSError as exc:
        raise MeditateError(f"cannot write {path}: {exc.strerror}") from None
    os.chmod(path, 0o644)
    return path
