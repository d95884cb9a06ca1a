"""The data every stage shares: a validated script, its timeline, breathing patterns, durations, times as
people write them, and the errors the engine raises. Imports nothing else of meditate."""

from .breathing import DEFAULT_WORDS, PRESETS, parse_pattern
from .durations import parse_duration
from .errors import (
    Location,
    MeditateError,
    MissingComponentError,
    Problem,
    ProblemCollector,
    RenderError,
    ScriptError,
    as_failure,
    excerpt,
    relocated,
    shape,
)
from .limits import BITRATES, CHANNELS, LOUDNESS_RANGE, MPEG1_BITRATES, MPEG2_BITRATES, SAMPLE_RATES
from .plaintext import one_line
from .script import (
    DEFAULT_ENGINE,
    DEFAULT_VOICE,
    ENGINE_NAMES,
    NOISE_KINDS,
    AudioFormat,
    Background,
    Bell,
    Breathe,
    Chapter,
    Finish,
    Include,
    Pace,
    ParagraphBreak,
    Pause,
    Repeat,
    Say,
    Script,
    Sentence,
    Step,
    TextPause,
    TextPiece,
    VoiceSettings,
    scaled_rate,
)
from .timeline import ChapterMark, Event, Timeline
from .times import clock, format_duration, whole_seconds
from .walking import cue_texts, heard, spoken, walk

__all__ = [
    "AudioFormat", "BITRATES", "Background", "Bell", "Breathe", "CHANNELS", "Chapter", "ChapterMark", "DEFAULT_ENGINE",
    "DEFAULT_VOICE", "DEFAULT_WORDS", "ENGINE_NAMES", "Event", "Finish", "Include", "LOUDNESS_RANGE", "Location",
    "MPEG1_BITRATES", "MPEG2_BITRATES", "MeditateError", "MissingComponentError", "NOISE_KINDS", "PRESETS", "Pace",
    "ParagraphBreak", "Pause", "Problem", "ProblemCollector", "RenderError", "Repeat", "SAMPLE_RATES", "Say", "Script",
    "ScriptError", "Sentence", "Step", "TextPause", "TextPiece", "Timeline", "VoiceSettings", "as_failure", "clock",
    "cue_texts", "excerpt", "format_duration", "heard", "one_line", "parse_duration", "parse_pattern", "relocated",
    "scaled_rate", "shape", "spoken", "walk", "whole_seconds",
]
