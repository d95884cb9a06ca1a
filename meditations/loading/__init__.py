"""Stage 1: load and validate a script into a Script.

One small public validator per kind of value (validators.py), every problem collected and reported together,
unknown keys named (with a suggestion when one is close). The settings library.yaml and a script share are read
by one function (blocks.py); step kinds live in a registry (registry.py), so a new kind of step is one parser
function and one line in STEP_KINDS. docs/architecture.md ("Loading and settings") says where things go.
"""

from .discovery import find_scripts, find_scripts_with_names, output_name, refuse_non_track
from .format_limits import check_track_length
from .profiles import check_profile, load_profile
from .settings import Settings, layered, load, settings_key
from .templates import TEMPLATES, new_script
from .values import value_problem

__all__ = [
    "Settings", "TEMPLATES", "check_profile", "check_track_length", "find_scripts", "find_scripts_with_names",
    "layered", "load", "load_profile", "new_script", "output_name", "refuse_non_track", "settings_key",
    "value_problem",
]
