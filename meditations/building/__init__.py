"""Building: one track from script to checked MP3, a whole library (incremental, parallel, on a cluster),
every client's set, and the manifest, journal and lock that keep a build safe to stop."""

from .clientarea import (
    CLIENT_SETS,
    CLIENTS,
    area_profiles,
    client_names_in,
    create_client,
    find_client,
    new_profile_text,
    refuse_public_output,
    share_token,
)
from .clients import clients_summary, load_clients, profile_request
from .forget import folder_size, plan_removal, remove
from .clips import check_cues, check_sounds, plan_with_speech
from .library import BuildRequest, build_all, refuse_taken_folder
from .owners import Owner, refuse_replacing, refuse_taken
from .public import build_library, default_workers, plan_script, render_script
from .samples import choose_voices, load, render_sample
from .track import render

__all__ = [
    "BuildRequest", "CLIENTS", "CLIENT_SETS", "Owner", "area_profiles", "build_all", "build_library", "check_cues",
    "check_sounds", "choose_voices", "client_names_in", "clients_summary", "create_client", "default_workers",
    "find_client", "folder_size", "load", "load_clients", "new_profile_text", "plan_removal", "plan_script",
    "plan_with_speech", "profile_request", "refuse_public_output", "refuse_replacing", "refuse_taken",
    "refuse_taken_folder", "remove", "render", "render_sample", "render_script", "share_token",
]
