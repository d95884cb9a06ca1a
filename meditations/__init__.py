"""meditate: YAML meditation scripts in, finished guided-meditation tracks out.

The calls a program uses; the `meditate` command line is built on the same ones:

    from pathlib import Path
    import meditations

    script = meditations.load("scripts/box-breathing.yaml", meditations.Settings(loudness=-18.0))
    timeline = meditations.plan(script)                       # every sound and silence at its sample
    result = meditations.render(script, Path("out/box.mp3"))  # out/box.mp3 and out/box.vtt, checked
    report = meditations.build("scripts", "audio_out")        # the whole library, only what changed
    print(report.summary)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .version import __version__

# name: (module, its name there). Imported on first use: speech and cluster workers import this package too,
# and need none of the engine's stages loaded for them.
_PUBLIC = {
    "load": ("meditations.loading", "load"),
    "Settings": ("meditations.loading", "Settings"),
    "plan": ("meditations.building", "plan_script"),
    "render": ("meditations.building", "render_script"),
    "build": ("meditations.building", "build_library"),
    "build_all": ("meditations.building", "build_all"),
    "BuildRequest": ("meditations.building", "BuildRequest"),
    "MeditateError": ("meditations.model", "MeditateError"),
}

if TYPE_CHECKING:
    from .building import BuildRequest, build_all
    from .building import build_library as build
    from .building import plan_script as plan
    from .building import render_script as render
    from .loading import Settings, load
    from .model import MeditateError

__all__ = ["BuildRequest", "MeditateError", "Settings", "__version__", "build", "build_all", "load", "plan", "render"]


def __getattr__(name: str):
    if name not in _PUBLIC:
        raise AttributeError(f"module 'meditations' has no attribute '{name}'")
    module, attribute = _PUBLIC[name]
    return getattr(importlib.import_module(module), attribute)
