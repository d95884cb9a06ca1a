"""A noise bed's K-weighted energy and peaks, estimated without filtering it or making its per-sample gains.

A noise bed is stationary: its energy per 10 ms is its mean energy (measured on BED_REFERENCE_SECONDS of
it) times the square of its gain there (ducking and fades, made per 1 ms as the mixer makes them); its
peaks are those of the noise itself (made as the mixer makes it: cheap next to filtering it) times the
gain's highest value in the window. The estimate of a bed's own loudness is within about 0.1 LU; under
the voice (-32 dB in the bundled library) it moves a track's measured loudness by far less than 0.01 LU,
and the limiter follows a bound, never less than the peaks. A recording used as a bed is not
stationary: it is measured as it is mixed (mixer.bed_blocks and a Meter).
"""

from __future__ import annotations

import numpy as np

from meditations.files.cache import BlobCache, cache_key, cache_root
from meditations.audio.loudness import Meter
from meditations.model.timeline import Timeline
from meditations.model.script import Background

PEAKS_VERSION = 1
PEAK_SAFETY = 1.001  # float32 rounding of the gains


def noise_bed_levels(timeline: Timeline, background: Background) -> tuple[np.ndarray, np.ndarray]:
    """(energy per 10 ms, peak per 1 ms) of the bed at unit level, ducked and faded, as mixed."""
    from .mixer import BED_REFERENCE_SECONDS, _bed_source

    rate = timeline.sample_rate
    meter = Meter(rate)
    reference = _bed_source(background, rate, BED_REFERENCE_SECONDS)
    for _ in range(int(BED_REFERENCE_SECONDS // 10)):
        meter.feed(reference.next(10 * rate))
    meter.finish()
    mean_energy = float(np.mean(meter.energy()))
    window = meter.window
    gains, highest = _window_gains(timeline, background, window)
    peaks = noise_peaks(background, rate, timeline.length, window)
    squared = gains.astype(np.float64) ** 2
    whole = gains.size // 10 * 10
    energy = squared[:whole].reshape(-1, 10).mean(axis=1)
    if whole < gains.size:
        energy = np.append(energy, squared[whole:].mean())
    return energy * mean_energy, (peaks * highest * np.float32(PEAK_SAFETY)).astype(np.float16)


def noise_peaks(background: Background, rate: int, length: int, window: int) -> np.ndarray:
    """The peak per window of the unit noise over `length` samples, made exactly as the mixer makes it
    (same source, same blocks). The noise is the same for every track (one seed), so its peaks are
    cached: a track reads the prefix it needs."""
    from .mixer import BED_SEED, BLOCK_SECONDS, _bed_source, _block_size

    block = _block_size(rate, BLOCK_SECONDS)
    count = -(-length // window)
    store = BlobCache(cache_root() / "bed-peaks")
    key = cache_key("bed-peaks", PEAKS_VERSION, background.sound, rate, BED_SEED, block, window)
    stored = store.get(key)
    if stored is not None and len(stored) // 4 >= count:
        return np.frombuffer(stored, dtype="<f4")[:count]
    made = -(-length // block) * block  # whole blocks: a later, shorter track reads a prefix
    source, peaks = _bed_source(background, rate, made / rate), np.empty(made // window, dtype=np.float32)
    for start in range(0, made, block):
        peaks[start // window:(start + block) // window] = np.abs(source.next(block)).reshape(-1, window).max(1)
    store.put(key, peaks.astype("<f4").tobytes())
    return peaks[:count]


def _window_gains(timeline: Timeline, background: Background, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The bed's gain at the centre of every peak window, and the higher of its values at the window's two
    ends (the mixer interpolates linearly between those: the bound for its peaks)."""
    from .mixer import BLOCK_SECONDS, bed_gain

    gain_at, last = bed_gain(timeline, background), timeline.length - 1
    count = -(-timeline.length // window)
    centre, edges = np.empty(count, dtype=np.float32), np.empty(count + 1, dtype=np.float32)
    per_block = int(BLOCK_SECONDS * 1000)
    for lo in range(0, count, per_block):
        hi = min(count, lo + per_block)
        starts = np.arange(lo, hi + 1) * window
        centre[lo:hi] = gain_at(np.minimum(starts[:-1] + window // 2, last))
        edges[lo:hi + 1] = gain_at(np.minimum(starts, last))
    return centre, np.maximum(edges[:-1], edges[1:])


def bed_levels(timeline: Timeline, background: Background) -> tuple[np.ndarray, np.ndarray]:
    """The bed's energy per 10 ms and peaks per 1 ms at unit level: estimated for noise, measured for a
    recording (it is not stationary)."""
    if background.sound != "file":
        return noise_bed_levels(timeline, background)
    from .mixer import bed_blocks

    bed = Meter(timeline.sample_rate)
    for block in bed_blocks(timeline, background):
        bed.feed(block)
    bed.finish()
    return bed.energy(), bed.peak()
