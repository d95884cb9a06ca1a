"""The bed: its sound (seeded noise or a looped recording), ducked under speech and faded, block by block;
and a noise bed's K-weighted energy and peaks, estimated without filtering it or making its per-sample gains.

A noise bed is stationary: its energy per 10 ms is its mean energy (measured on BED_REFERENCE_SECONDS of
it) times the square of its gain there (ducking and fades, made per 1 ms as the mixer makes them); its
peaks are those of the noise itself (made as the mixer makes it: cheap next to filtering it) times the
gain's highest value in the window. The estimate of a bed's own loudness is within about 0.1 LU; under
the voice (-32 dB in the bundled library) it moves a track's measured loudness by far less than 0.01 LU,
and the limiter follows a bound, never less than the peaks. A recording used as a bed is not
stationary: it is measured as it is mixed (bed_blocks and a Meter).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from meditations.audio import LoopedFile, Meter, NoiseBed, integrated_loudness
from meditations.files import BlobCache, cache_key, cache_root
from meditations.model import Background, Problem, RenderError, ScriptError, Timeline

from .foreground import BLOCK_SECONDS, block_size
from .fades import fades_at, raised_cosine

DUCK_ATTACK = 0.6  # the bed starts dipping this long before speech ...
DUCK_RELEASE = 2.0  # ... and rises back over this long after it
DUCK_BRIDGE = 4.0  # speech closer together than this keeps the bed down: no pumping between sentences
BED_SEED = 20240611
BED_REFERENCE_SECONDS = 20.0  # how much of a bed its loudness is measured on
REFERENCE_RAMP_SECONDS = 0.5  # ... a recording faded in over this long


def bed_source(background: Background, rate: int, seconds: float):
    """The bed's sound at unit level: a looped file, or seeded noise."""
    if background.sound == "file" and background.file is not None:
        try:
            return LoopedFile(background.file, rate, seconds)
        except RenderError as exc:
            if background.location is None:
                raise
            raise ScriptError([Problem(background.location, str(exc))]) from None
    return NoiseBed(background.sound, rate, seed=BED_SEED)



def duck_spans(timeline: Timeline) -> list[tuple[int, int]]:
    """Stretches of speech, joined where the gaps are too short to let the bed rise and fall again."""
    bridge = int(DUCK_BRIDGE * timeline.sample_rate)
    spans: list[list[int]] = []
    for event in sorted((e for e in timeline.events if e.kind == "speech"), key=lambda e: e.start):
        if spans and event.start - spans[-1][1] < bridge:
            spans[-1][1] = max(spans[-1][1], event.end)
        else:
            spans.append([event.start, event.end])
    return [(s[0], s[1]) for s in spans]


def duck_depth(spans, start: int, end: int, rate: int, at: np.ndarray | None = None) -> np.ndarray:
    """How far down (0..1) the bed is at each sample of [start, end) (or at the ascending sample
    positions `at`): smooth raised-cosine ramps."""
    attack, release = int(DUCK_ATTACK * rate), int(DUCK_RELEASE * rate)
    t = np.arange(start, end) if at is None else at
    if at is not None and at.size:
        start, end = int(at[0]), int(at[-1]) + 1
    depth = np.zeros(t.size, dtype=np.float64)
    for span_start, span_end in spans:
        if span_end + release < start or span_start - attack > end:
            continue
        rise = raised_cosine((t - (span_start - attack)) / max(attack, 1))
        fall = 1.0 - raised_cosine((t - span_end) / max(release, 1))
        depth = np.maximum(depth, np.minimum(rise, fall))
    return depth


def bed_blocks(timeline: Timeline, background: Background,
               block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The bed at unit level, ducked under speech and faded in and out, block by block."""
    rate = timeline.sample_rate
    source = bed_source(background, rate, max(timeline.length / rate, BED_REFERENCE_SECONDS))
    gain_at = bed_gain(timeline, background)
    window = max(1, rate // 1000)
    block = block_size(rate, block_seconds)
    for start in range(0, timeline.length, block):
        end = min(start + block, timeline.length)
        # The ducking and fades change slowly: made per millisecond, interpolated in between.
        edges = np.arange(start, end + window, window)
        gain = np.interp(np.arange(start, end), edges, gain_at(np.minimum(edges, timeline.length - 1)))
        yield (source.next(end - start) * gain.astype(np.float32)).astype(np.float32)


def bed_gain(timeline: Timeline, background: Background):
    """The bed's gain (ducking under speech, fades in and out) as a function of sample positions."""
    rate = timeline.sample_rate
    spans = duck_spans(timeline)
    fade = int(background.fade * rate)
    duck = 10 ** (-background.duck_db / 20)

    def gain_at(positions: np.ndarray) -> np.ndarray:
        depth = duck_depth(spans, 0, 0, rate, positions)
        return (1.0 - (1.0 - duck) * depth) * fades_at(positions.astype(np.float64), timeline.length, fade, fade)

    return gain_at


def bed_reference_loudness(background: Background, rate: int, band_hz: float | None = None) -> float:
    """The loudness of the bed as made (no ducking, no fades), from 20 seconds of it, in the band below
    band_hz (what the encoder keeps); -inf for a bed too quiet to measure (under BS.1770's -70 LUFS gate)."""
    meter = Meter(rate, band_hz)
    source = bed_source(background, rate, BED_REFERENCE_SECONDS)
    for index in range(2):
        block = source.next(10 * rate)
        if index == 0 and background.sound == "file":
            # Faded in, as a track plays it: cut in at full level, a recording would start with a click (a
            # constant offset, a thump) that the meter would count as the bed's own sound.
            ramp = int(REFERENCE_RAMP_SECONDS * rate)
            block[:ramp] *= raised_cosine(np.arange(ramp) / ramp).astype(np.float32)
        meter.feed(block)
    meter.finish()
    return integrated_loudness(meter.energy())


PEAKS_VERSION = 1
PEAK_SAFETY = 1.001  # float32 rounding of the gains


def noise_bed_levels(timeline: Timeline, background: Background,
                     band_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(energy per 10 ms in the band below band_hz, peak per 1 ms) of the bed at unit level, ducked and faded,
    as mixed."""

    rate = timeline.sample_rate
    meter = Meter(rate, band_hz)
    reference = bed_source(background, rate, BED_REFERENCE_SECONDS)
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

    block = block_size(rate, BLOCK_SECONDS)
    count = -(-length // window)
    store = BlobCache(cache_root() / "bed-peaks")
    key = cache_key("bed-peaks", PEAKS_VERSION, background.sound, rate, BED_SEED, block, window)
    stored = store.get(key)
    if stored is not None and len(stored) // 4 >= count:
        return np.frombuffer(stored, dtype="<f4")[:count]
    made = -(-length // block) * block  # whole blocks: a later, shorter track reads a prefix
    source, peaks = bed_source(background, rate, made / rate), np.empty(made // window, dtype=np.float32)
    for start in range(0, made, block):
        peaks[start // window:(start + block) // window] = np.abs(source.next(block)).reshape(-1, window).max(1)
    store.put(key, peaks.astype("<f4").tobytes())
    return peaks[:count]


def _window_gains(timeline: Timeline, background: Background, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The bed's gain at the centre of every peak window, and the higher of its values at the window's two
    ends (the mixer interpolates linearly between those: the bound for its peaks)."""

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


def bed_levels(timeline: Timeline, background: Background,
               band_hz: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The bed's energy per 10 ms (in the band below band_hz) and peaks per 1 ms at unit level: estimated for
    noise, measured for a recording (it is not stationary)."""
    if background.sound != "file":
        return noise_bed_levels(timeline, background, band_hz)

    bed = Meter(timeline.sample_rate, band_hz)
    for block in bed_blocks(timeline, background):
        bed.feed(block)
    bed.finish()
    return bed.energy(), bed.peak()
