"""A noise bed's K-weighted energy and peaks, estimated without filtering it or making its per-sample gains.

A noise bed is stationary: its energy per 10 ms is its mean energy (measured on BED_REFERENCE_SECONDS of
it) times the square of the ducking and fade gain there (computed per 1 ms, not per sample); its peaks
are those of the noise itself (made as the mixer makes it, which is cheap: filtering it with the
K-weighting and the per-sample gains are what cost) times that gain, with PEAK_SAFETY for the gain's
movement within a window. The estimate of a bed's own loudness is within about 0.1 LU; under the voice
(-32 dB in the bundled library) it moves a track's measured loudness by far less than 0.01 LU, and the
limiter follows a bound, never less than the peaks. A recording used as a bed
is not stationary: it is measured as it is mixed (mixer.bed_blocks and a Meter).
"""

from __future__ import annotations

import numpy as np

from .loudness import Meter
from .planner import Timeline
from .script import Background

PEAK_SAFETY = 1.02


def noise_bed_levels(timeline: Timeline, background: Background) -> tuple[np.ndarray, np.ndarray]:
    """(energy per 10 ms, peak per 1 ms) of the bed at unit level, ducked and faded, as mixed."""
    from .mixer import BED_REFERENCE_SECONDS, _bed_source, _block_size

    rate = timeline.sample_rate
    meter = Meter(rate)
    reference = _bed_source(background, rate, BED_REFERENCE_SECONDS)
    for _ in range(int(BED_REFERENCE_SECONDS // 10)):
        meter.feed(reference.next(10 * rate))
    meter.finish()
    mean_energy = float(np.mean(meter.energy()))
    window = meter.window
    gains, highest = _window_gains(timeline, background, window)
    # The noise itself, made exactly as the mixer makes it (same source, same blocks), for its peaks.
    source, block = _bed_source(background, rate, timeline.length / rate), _block_size(rate, 10)
    peaks = np.empty(gains.size, dtype=np.float32)
    for start in range(0, timeline.length, block):
        noise = np.abs(source.next(min(block, timeline.length - start)))
        whole = noise.size // window * window
        first = start // window
        peaks[first:first + whole // window] = noise[:whole].reshape(-1, window).max(axis=1)
        if whole < noise.size:
            peaks[-1] = noise[whole:].max()
    squared = gains.astype(np.float64) ** 2
    whole = gains.size // 10 * 10
    energy = squared[:whole].reshape(-1, 10).mean(axis=1)
    if whole < gains.size:
        energy = np.append(energy, squared[whole:].mean())
    # the gain moves by far less than PEAK_SAFETY within a window: the bound holds
    return energy * mean_energy, (peaks * highest * np.float32(PEAK_SAFETY)).astype(np.float16)


def _window_gains(timeline: Timeline, background: Background, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The bed's ducking and fade gain at the centre of every peak window, and the higher of its values at
    the window's two ends (ramps are monotonic over a millisecond: the bound for its peaks)."""
    from .mixer import BLOCK_SECONDS, duck_depth, duck_spans, fades_at

    rate = timeline.sample_rate
    count = -(-timeline.length // window)
    centre, edges = np.empty(count, dtype=np.float32), np.empty(count + 1, dtype=np.float32)
    spans = duck_spans(timeline)
    duck = 10 ** (-background.duck_db / 20)
    fade = int(background.fade * rate)

    def gain_at(positions: np.ndarray) -> np.ndarray:
        depth = duck_depth(spans, 0, 0, rate, positions)
        return (1.0 - (1.0 - duck) * depth) * fades_at(positions.astype(np.float64), timeline.length, fade, fade)

    per_block = int(BLOCK_SECONDS * 1000)
    for lo in range(0, count, per_block):
        hi = min(count, lo + per_block)
        starts = np.arange(lo, hi + 1) * window
        centre[lo:hi] = gain_at(np.minimum(starts[:-1] + window // 2, timeline.length - 1))
        edges[lo:hi + 1] = gain_at(np.minimum(starts, timeline.length - 1))
    return centre, np.maximum(edges[:-1], edges[1:])
