"""Audio primitives: samples, resampling, loudness (BS.1770), generated sounds and user recordings, and the
statistics cached with each clip. Imports the model and files."""

from .clipaudio import CLIP_RATE, clip_samples, edge_fade, fit
from .clipstats import clip_loudness, foreground_stats, store_for_new_clip
from .loudness import CHUNK, Meter, integrated_loudness, k_weighting_power, limited_energy, limiter_curve
from .pcm import resample, resampled_length, trim_silence
from .sounds import (
    BellSound,
    LoopedFile,
    NoiseBed,
    RecordingSound,
    ToneSound,
    bell_strike,
    natural_ring_seconds,
    read_audio_file,
    tone,
    trim_quiet,
)

__all__ = [
    "BellSound", "CHUNK", "CLIP_RATE", "LoopedFile", "Meter", "NoiseBed", "RecordingSound", "ToneSound", "bell_strike",
    "clip_loudness", "clip_samples", "edge_fade", "fit", "foreground_stats", "integrated_loudness", "k_weighting_power",
    "limited_energy", "limiter_curve", "natural_ring_seconds", "read_audio_file", "resample", "resampled_length",
    "store_for_new_clip", "tone", "trim_quiet", "trim_silence",
]
