"""Building: one track from script to checked MP3, a whole library (incremental, parallel, on a cluster),
every client's set, and the manifest, journal and lock that keep a build safe to stop."""

from .clients import clients_summary, load_clients, profile_request
from .clips import check_cues, check_sounds, plan_with_speech
from .library import BuildRequest, build_all, refuse_taken_folder
from .owners import Owner, refuse_taken
from .public import build_library, default_workers, plan_script, render_script
from .samples import choose_voices, load, render_sample
from .track import render

__all__ = [
    "BuildRequest", "Owner", "build_all", "build_library", "check_cues", "check_sounds", "choose_voices",
    "clients_summary", "default_workers", "load", "load_clients", "plan_script", "plan_with_speech",
    "profile_request", "refuse_taken", "refuse_taken_folder", "render", "render_sample", "render_script",
]
