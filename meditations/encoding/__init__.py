"""Encoding and checking: MP3 pieces joined frame by frame, tags and chapters, WebVTT transcripts, and the
checks that a track is what its plan says."""

from .encoder import Tags, encode_mp3, read_fingerprint
from .gapless import TRACK_LAYOUT
from .pieces import Segment, cut_points, quiet_stretches, segments, split_frames
from .verify import StreamCheck, TrackProblem, check_mp3, placed_track_problem, speech_spans, track_frames
from .webvtt import Cue, read_cues, transcript_text

__all__ = [
    "Cue", "Segment", "StreamCheck", "TRACK_LAYOUT", "Tags", "TrackProblem", "check_mp3", "cut_points",
    "encode_mp3", "placed_track_problem", "quiet_stretches", "read_cues", "read_fingerprint", "segments",
    "speech_spans", "split_frames", "track_frames", "transcript_text",
]
