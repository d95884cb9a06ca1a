"""Files and processes: checked reads, where each name a script uses led (lookups), containment in the output
folder, the output folder held while a build writes into it, temporary files that name their owner, on-disk
caches, and the signals that stop a run. Imports only the model."""

from .cache import BlobCache, cache_key, cache_root, check_cache_root, write_atomic
from .folders import FolderMoved, OutputFolder, foreign, identity_of, open_in_place
from .containment import (
    bad_name_message,
    inside,
    name_problem,
    refuse_bad_name,
    refuse_shared_outputs,
    shared_outputs,
    shown,
)
from .lookups import Lookups, led_to
from .reads import (
    FileLimits,
    env_limit,
    file_problem,
    file_sentence,
    image_problem,
    is_regular_file,
    read_checked,
    within,
)
from .signals import Interrupted, deaf_children, interruptible, stop_processes, worker_initializer, working
from .tempfiles import Temporary, make_temporary, remove_abandoned, remove_quietly, umask

__all__ = [
    "BlobCache", "FileLimits", "FolderMoved", "Interrupted", "Lookups", "OutputFolder", "Temporary", "bad_name_message",
    "deaf_children",
    "cache_key", "cache_root", "check_cache_root", "env_limit", "file_problem", "file_sentence", "foreign",
    "identity_of", "image_problem", "inside", "interruptible", "is_regular_file", "led_to", "make_temporary",
    "name_problem", "open_in_place", "read_checked", "refuse_bad_name", "refuse_shared_outputs", "remove_abandoned",
    "remove_quietly", "shared_outputs", "shown", "stop_processes", "umask", "within", "worker_initializer", "working",
    "write_atomic",
]
