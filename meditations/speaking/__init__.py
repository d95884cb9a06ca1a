"""Speech: sentences synthesized by the engines of engines/ (one interface) in worker processes, each clip
cached on disk with its loudness statistics. building/clips.py asks for a script's clips and hands their
lengths to the planner."""

from .engines import CLIP_RATE, ENGINES, Voice
from .pool import SpeechEngine
from .request import ENGINE_SAMPLE_RATE, SpeechRequest, clip_cache, load_clip
from .versions import engine_identity
from .voicechoice import request_for, resolve_voices
from .voices import resolve_voice

__all__ = [
    "CLIP_RATE", "ENGINES", "ENGINE_SAMPLE_RATE", "SpeechEngine", "SpeechRequest", "Voice", "clip_cache",
    "engine_identity", "load_clip", "request_for", "resolve_voice", "resolve_voices",
]
