"""Audio primitives: samples, resampling, loudness (BS.1770), generated sounds and user recordings, and the
statistics cached with each clip. Imports the model and files."""

from .clipaudio import CLIP_RATE, clip_samples, edge_fade, fit
from .clipstats import clip_loudness, foreground_stats, store_for_new_clip
from .lame import encoder_band_hz, encoder_scale
from .loudness import ABSOLUTE_GATE, CHUNK, Meter, integrated_loudness, k_weighting_power, limited_energy, limiter_curve
from .pcm import resample, resampled_length, trim_silence
from .sounds import (
    BellSound,
    MIN_SOUND_SECONDS,
    QUIET,
    LoopedFile,
    NoiseBed,
    RecordingSound,
    ToneSound,
    bell_strike,
    inaudible,
    natural_ring_seconds,
    read_audio_file,
    sounding_seconds,
    tone,
    too_short,
    trim_quiet,
)

__all__ = [
    "ABSOLUTE_GATE", "BellSound", "CHUNK", "CLIP_RATE", "LoopedFile", "MIN_SOUND_SECONDS", "Meter", "NoiseBed",
    "QUIET", "RecordingSound", "ToneSound", "bell_strike", "clip_loudness", "clip_samples", "edge_fade",
    "encoder_band_hz", "encoder_scale", "fit", "foreground_stats", "inaudible", "integrated_loudness",
    "k_weighting_power", "limited_energy", "limiter_curve", "natural_ring_seconds", "read_audio_file", "resample",
    "resampled_length", "sounding_seconds", "store_for_new_clip", "tone", "too_short", "trim_quiet", "trim_silence",
]
