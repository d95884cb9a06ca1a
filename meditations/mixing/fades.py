"""Smooth gain shapes: the raised-cosine ramps of the bed's ducking and of the track's fades."""

from __future__ import annotations

import numpy as np


def raised_cosine(x: np.ndarray) -> np.ndarray:
    """0 at x <= 0, 1 at x >= 1, a half cosine in between."""
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


def edge_envelope(start: int, end: int, total: int, fade_in: int, fade_out: int) -> np.ndarray | float:
    """A fade in from the track's start and a fade out to its end, for samples [start, end)
    (1.0 when the block is in neither fade)."""
    if start >= fade_in and end <= total - fade_out:
        return 1.0
    return fades_at(np.arange(start, end, dtype=np.float64), total, fade_in, fade_out)


def fades_at(t: np.ndarray, total: int, fade_in: int, fade_out: int) -> np.ndarray:
    """The fade in and fade out gains at sample positions t."""
    envelope = np.ones(t.size)
    if fade_in > 0:
        envelope *= raised_cosine(t / fade_in)
    if fade_out > 0:
        envelope *= raised_cosine((total - t) / fade_out)
    return envelope
