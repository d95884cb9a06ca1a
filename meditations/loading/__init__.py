"""Stage 1: load and validate a script into a Script.

One small public validator per kind of value (validators.py), every problem collected and reported together,
unknown keys named (with a suggestion when one is close). The settings library.yaml and a script share are read
by one function (blocks.py); step kinds live in a registry (registry.py), so a new kind of step is one parser
function and one line in STEP_KINDS. docs/architecture.md ("Loading and settings") says where things go.
"""

from .assembly import load_script
from .blocks import SettingsBlock, audio_problem
from .context import LoadContext, LoadOptions, clock, node_kind
from .keys import LIBRARY_KEYS, SCRIPT_KEYS
from .libraryyaml import LIBRARY_FILE, LibraryDefaults, find_library_root, is_partial, load_library
from .registry import STEP_KINDS

__all__ = ["LIBRARY_FILE", "LIBRARY_KEYS", "SCRIPT_KEYS", "STEP_KINDS", "LibraryDefaults", "LoadContext", "LoadOptions",
           "SettingsBlock", "audio_problem", "clock", "find_library_root", "is_partial", "load_library", "load_script",
           "node_kind"]
