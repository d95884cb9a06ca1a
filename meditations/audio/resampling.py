"""Polyphase resampling in numpy (the engines' 22,050 Hz to a track's rate), so that rendering does not
import scipy.signal (about 0.8 s of CPU time in every process that does).

The same filter as scipy.signal.resample_poly's default: a Kaiser-windowed sinc (beta 5), 10 zero
crossings of the lower rate either side, zero phase: output sample n is input time n * down / up, and a
clip of L samples becomes ceil(L * up / down) (planner.resampled_length).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

CHUNK = 1 << 16  # output samples made at a time: the gathered taps stay a few MB
FEW_PHASES = 8  # up to this many phases (22,050 -> 44,100 Hz has 2), each is one numpy convolution


@lru_cache(maxsize=8)
def _phases(up: int, down: int) -> tuple[np.ndarray, int, int]:
    """The filter split into its `up` phases (phase r, tap j = h[r + j * up]), its half length and taps."""
    half = 10 * max(up, down)
    n = np.arange(-half, half + 1, dtype=np.float64)
    cutoff = 1.0 / max(up, down)
    h = np.sinc(cutoff * n) * np.kaiser(2 * half + 1, 5.0)
    h *= up / h.sum()
    taps = math.ceil((2 * half + 1) / up)
    padded = np.zeros(taps * up)
    padded[:h.size] = h
    return padded.reshape(taps, up).T.astype(np.float32).copy(), half, taps


def polyphase(audio: np.ndarray, up: int, down: int) -> np.ndarray:
    """`audio` (float32) at up/down times its rate: ceil(len * up / down) samples, float32."""
    if up == down:
        return audio.astype(np.float32, copy=True)
    phases, half, taps = _phases(up, down)
    size = -(-audio.size * up // down)
    padded = np.concatenate([np.zeros(taps, np.float32), audio.astype(np.float32), np.zeros(taps, np.float32)])
    out = np.empty(size, dtype=np.float32)
    if up <= FEW_PHASES:  # one convolution per phase (C speed); outputs n, n + up, ... share a phase
        for first in range(min(up, size)):
            start, phase = divmod(first * down + half, up)
            count = len(range(first, size, up))
            out[first::up] = np.convolve(padded, phases[phase])[start + taps:start + taps + (count - 1) * down + 1:down]
        return out
    back = np.arange(taps)
    for lo in range(0, size, CHUNK):
        n = np.arange(lo, min(size, lo + CHUNK), dtype=np.int64)
        positions = n * down + half  # in the upsampled signal, shifted by the filter's half length
        newest, phases_of = positions // up, positions % up
        samples = padded[(newest + taps)[:, None] - back[None, :]]
        out[lo:lo + n.size] = np.einsum("ij,ij->i", samples, phases[phases_of])
    return out
