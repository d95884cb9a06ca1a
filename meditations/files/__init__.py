"""Files and processes: checked reads, where each name a script uses led (lookups), containment in the output
folder, temporary files that name their owner, on-disk caches, and the signals that stop a run. Imports only the
model."""

from .cache import BlobCache, cache_key, cache_root, check_cache_root, umask, write_atomic
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
from .signals import Interrupted, interruptible, stop_processes, worker_initializer, working
from .tempfiles import make_temporary, remove_abandoned, remove_quietly

__all__ = [
    "BlobCache", "FileLimits", "Interrupted", "Lookups", "bad_name_message", "cache_key", "cache_root",
    "check_cache_root", "env_limit", "file_problem", "file_sentence", "image_problem", "inside", "interruptible",
    "is_regular_file", "led_to", "make_temporary", "name_problem", "read_checked", "refuse_bad_name",
    "refuse_shared_outputs", "remove_abandoned", "remove_quietly", "shared_outputs", "shown", "stop_processes", "umask",
    "within", "worker_initializer", "working", "write_atomic",
]
