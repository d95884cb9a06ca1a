"""Loading, the first stage: a script loaded and validated into a Script.

One small public validator per kind of value (validators.py), every problem collected and reported together,
unknown keys named (with a suggestion when one is close). The settings library.yaml and a script share are read
by one function (blocks.py); step kinds live in a registry (registry.py), so a new kind of step is one parser
function and one line in STEP_KINDS. docs/architecture.md ("Loading and settings") says where things go.
"""

from .assembly import load_script
from .blocks import SettingsBlock, audio_problem
from .context import LoadContext, LoadOptions, node_kind
from .discovery import find_scripts, find_scripts_with_names, is_partial, output_name, refuse_non_track
from .format_limits import check_track_length
from .keys import LIBRARY_KEYS, SCRIPT_KEYS
from .libraryyaml import LIBRARY_FILE, LibraryDefaults, find_library_root, load_library
from .profiles import AREA_PROFILE, area_profile, check_profile, load_profile, safe_folder_name
from .registry import STEP_KINDS
from .settings import Settings, layered, load, settings_key
from .templates import TEMPLATES, new_script
from .values import value_problem

__all__ = [
    "AREA_PROFILE", "LIBRARY_FILE", "LIBRARY_KEYS", "LibraryDefaults", "LoadContext", "LoadOptions", "SCRIPT_KEYS",
    "STEP_KINDS", "Settings", "SettingsBlock", "TEMPLATES", "area_profile", "audio_problem", "check_profile",
    "check_track_length", "find_library_root", "find_scripts", "find_scripts_with_names", "is_partial", "layered",
    "load", "load_library", "load_profile", "load_script", "new_script", "node_kind", "output_name",
    "refuse_non_track", "safe_folder_name", "settings_key", "value_problem",
]
