"""The data every stage shares: a validated script, its timeline, breathing patterns, durations, times as
people write them, and the errors the engine raises. Imports nothing else of meditate."""

from .breathing import DEFAULT_WORDS, PRESETS, parse_pattern
from .plaintext import one_line
from .times import clock, format_duration, whole_seconds
from .durations import parse_duration
from .errors import (
    Location, MeditateError, MissingComponentError, Problem, ProblemCollector, RenderError, ScriptError, as_failure,
    excerpt, relocated, shape,
)
from .script import (
    DEFAULT_ENGINE, ENGINE_NAMES,
    AudioFormat, Background, Bell, Breathe, Chapter, DEFAULT_VOICE, Finish, Include, NOISE_KINDS, Pace, ParagraphBreak,
    Pause, Repeat, Say, Script, Sentence, Step, TextPause, TextPiece, VoiceSettings, scaled_rate,
)
from .timeline import ChapterMark, Event, Timeline
from .walking import cue_texts, heard, spoken, walk

__all__ = [
    "AudioFormat", "Background", "Bell", "Breathe", "Chapter", "ChapterMark", "DEFAULT_VOICE", "DEFAULT_WORDS",
    "Event", "Finish", "Include", "Location", "MeditateError", "MissingComponentError", "NOISE_KINDS", "PRESETS",
    "Pace", "ParagraphBreak", "Pause", "Problem", "ProblemCollector", "RenderError", "Repeat", "Say", "Script",
    "ScriptError", "Sentence", "Step", "TextPause", "TextPiece", "Timeline", "VoiceSettings", "as_failure", "clock",
    "cue_texts", "excerpt", "format_duration", "heard", "parse_duration", "parse_pattern", "relocated", "scaled_rate",
    "shape", "spoken", "walk", "whole_seconds",
]
