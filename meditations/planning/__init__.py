"""Planning (pure): every sound and silence of a track at an exact sample, from a script and the lengths of
its clips. No engine, no file is touched here."""

from .layout import Clip, ClipLengths, Recordings
from .planner import plan
from .preview import preview_suffix, select_chapter, select_steps

__all__ = ["Clip", "ClipLengths", "Recordings", "plan", "preview_suffix", "select_chapter", "select_steps"]
