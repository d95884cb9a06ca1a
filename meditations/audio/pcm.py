"""Primitives on raw audio samples: changing the sample rate, and trimming silent edges."""

from __future__ import annotations

import math

import numpy as np

from .resampling import polyphase


def rate_ratio(source_rate: int, target_rate: int) -> tuple[int, int]:
    """The smallest whole (up, down) factors that take audio from one sample rate to another."""
    g = math.gcd(target_rate, source_rate)
    return target_rate // g, source_rate // g


def resampled_length(samples: int, source_rate: int, target_rate: int) -> int:
    """How many samples `samples` become once resampled (what `resample` returns, rounded up)."""
    up, down = rate_ratio(source_rate, target_rate)
    return -(-samples * up // down)


def resample(audio: np.ndarray, source_rate: int, target_rate: int) -> np.ndarray:
    """Float audio at another sample rate (polyphase filtering, in numpy: resampling.py), as float32."""

    up, down = rate_ratio(source_rate, target_rate)
    return polyphase(audio, up, down)


def trim_silence(audio: np.ndarray, rate: int, threshold: float) -> np.ndarray:
    """The audio without its silent lead-in and tail: everything at most `threshold` (in the samples' own
    units) before the first and after the last louder sample goes, keeping 10 ms before and 40 ms after."""
    magnitude = np.abs(audio.astype(np.int32)) if audio.dtype.kind == "i" else np.abs(audio)
    loud = np.flatnonzero(magnitude > threshold)
    if loud.size == 0:
        return audio[:0]
    return audio[max(0, loud[0] - int(0.010 * rate)):loud[-1] + 1 + int(0.040 * rate)]
