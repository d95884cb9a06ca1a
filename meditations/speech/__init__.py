"""Speech: the clips a script needs, synthesized by the engines of engines/ in worker processes and cached
on disk, then measured and handed to the planner."""

from .engines import CLIP_RATE, ENGINES, Voice
from .pool import SpeechEngine, clip_cache, load_clip
from .prepare import check_cues, plan_with_speech, speech_requests
from .versions import engine_identity
from .voicechoice import resolve_voices
from .voices import resolve_voice

__all__ = [
    "CLIP_RATE", "ENGINES", "SpeechEngine", "Voice", "check_cues", "clip_cache", "engine_identity", "load_clip",
    "plan_with_speech", "resolve_voice", "resolve_voices", "speech_requests",
]
