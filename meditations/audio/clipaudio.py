"""A speech clip as the mixer plays it: float32 at the track's rate, exactly as long as its event, its
edges faded. Light (numpy only), so a speech worker can measure a clip it just made (clipstats.py)
without importing the mixer."""

from __future__ import annotations

import math

import numpy as np

from .pcm import resample

CLIP_RATE = 22050  # every cached speech clip is mono 16-bit at this rate, whatever its engine's own rate
EDGE_FADE_SECONDS = 0.005  # a short fade on every clip edge: no clicks where a clip starts or stops


def edge_fade(samples: np.ndarray, rate: int) -> np.ndarray:
    """The clip with short raised-cosine fades at both ends (in place on a float copy)."""
    length = min(int(EDGE_FADE_SECONDS * rate), samples.size // 2)
    if length > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, length, dtype=np.float32))).astype(np.float32)
        samples[:length] *= ramp
        samples[-length:] *= ramp[::-1]
    return samples


def fit(audio: np.ndarray, length: int) -> np.ndarray:
    """Exactly `length` samples: cut, or padded with silence."""
    if audio.size < length:
        return np.pad(audio, (0, length - audio.size))
    return audio[:length]


def clip_samples(clip: np.ndarray, rate: int, length: int) -> np.ndarray:
    """A clip's 16-bit samples as float32 at the track's rate, exactly `length` samples, edges faded."""
    audio = clip.astype(np.float32) / 32768.0
    if rate != CLIP_RATE:
        audio = resample(audio, CLIP_RATE, rate)
    return edge_fade(fit(audio, length).copy(), rate)
