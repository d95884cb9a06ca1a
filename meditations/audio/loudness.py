"""Loudness (ITU-R BS.1770 / EBU R 128) measured as the track streams by, and the gain that meets it.

The meter keeps only K-weighted energy per 10 ms and the sample peak per 1 ms (as float16), so a
track of any length is measured in a few megabytes (the mixer builds the same arrays from its clips'
statistics, clipstats.py). From them come the gain to the target loudness and a smooth gain curve that
keeps the true peak under the ceiling, applied as the track is mixed.
"""

from __future__ import annotations

import math

import numpy as np

ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
# The limiter works on sample peaks and keeps this far under the true-peak ceiling: the margin covers
# inter-sample peaks (small here: speech comes from a 22 kHz engine, so it is oversampled already) and
# the MP3 encoder's own overshoot, larger on the neural voice's consonants (with 1.5 dB one bundled track
# reached -0.9 dBTP). The tests check the result with ffmpeg's true-peak meter on the MP3.
LIMITER_MARGIN_DB = 1.75


def _shelf(rate: int):
    # The "pre-filter" of BS.1770: a high shelf of about +4 dB above ~1.5 kHz (head acoustics).
    gain_db, frequency, q = 3.99984385397, 1681.97445095, 0.7071752369554193
    a = 10 ** (gain_db / 40)
    w = 2 * math.pi * frequency / rate
    alpha = math.sin(w) / (2 * q)
    cos = math.cos(w)
    b0 = a * ((a + 1) + (a - 1) * cos + 2 * math.sqrt(a) * alpha)
    b1 = -2 * a * ((a - 1) + (a + 1) * cos)
    b2 = a * ((a + 1) + (a - 1) * cos - 2 * math.sqrt(a) * alpha)
    a0 = (a + 1) - (a - 1) * cos + 2 * math.sqrt(a) * alpha
    a1 = 2 * ((a - 1) - (a + 1) * cos)
    a2 = (a + 1) - (a - 1) * cos - 2 * math.sqrt(a) * alpha
    return [b0 / a0, b1 / a0, b2 / a0, 1.0, a1 / a0, a2 / a0]


def _highpass(rate: int):
    # The "RLB" weighting of BS.1770: a second-order high-pass near 38 Hz.
    frequency, q = 38.13547087602444, 0.5003270373238773
    w = 2 * math.pi * frequency / rate
    alpha = math.sin(w) / (2 * q)
    cos = math.cos(w)
    a0 = 1 + alpha
    return [(1 + cos) / 2 / a0, -(1 + cos) / a0, (1 + cos) / 2 / a0, 1.0, -2 * cos / a0, (1 - alpha) / a0]


def k_weighting(rate: int) -> np.ndarray:
    """The K-weighting filter for a sample rate, as second-order sections."""
    return np.array([_shelf(rate), _highpass(rate)])


def k_weighting_power(rate: int, size: int) -> np.ndarray:
    """|H|^2 of the K-weighting at the bins of a real FFT of `size` samples, times the bin's share of
    Parseval's sum (interior bins count twice) over size^2: (|rfft|^2 * this).sum() is the mean square
    of the K-weighted samples (the filter applied circularly: close enough for blocks of 100 ms)."""
    z = np.exp(-1j * 2 * np.pi * np.arange(size // 2 + 1) / size)
    power = np.ones(z.size)
    for b0, b1, b2, _, a1, a2 in k_weighting(rate):
        power *= np.abs((b0 + b1 * z + b2 * z * z) / (1 + a1 * z + a2 * z * z)) ** 2
    share = np.full(z.size, 2.0)
    share[0] = 1.0
    if size % 2 == 0:
        share[-1] = 1.0
    return power * share / (size * size)


# The low-pass that stands for the MP3 encoder's: LAME's falls by 40 dB within 2 % past its edge, and so does
# an elliptic filter of this order (0.1 dB of ripple below the edge, 80 dB down beyond it).
BAND_ORDER = 12


def band_limit(rate: int, band_hz: float | None) -> np.ndarray:
    """Second-order sections of a steep low-pass at band_hz (none when the band reaches half the rate)."""
    from scipy.signal import ellip

    if band_hz is None or band_hz >= 0.49 * rate:
        return np.zeros((0, 6))
    return ellip(BAND_ORDER, 0.1, 80, band_hz, fs=rate, output="sos")


class Meter:
    """Feeds on consecutive blocks; keeps K-weighted energy per 10 ms and sample peaks per 1 ms (windows of
    10 * (rate // 1000) and rate // 1000 samples: 440 and 44 at 44.1 kHz). With band_hz, the energy is that
    of the band below it (what the MP3 encoder keeps: audio/lame.py); the peaks are the samples' own."""

    def __init__(self, rate: int, band_hz: float | None = None):
        from scipy.signal import sosfilt_zi  # here: rendering a track without a bed never needs scipy.signal

        self.rate = rate
        self.sos = np.concatenate([k_weighting(rate), band_limit(rate, band_hz)])
        self.state = sosfilt_zi(self.sos) * 0.0
        self.window = max(1, rate // 1000)  # peaks per (about) 1 ms: the limiter's resolution
        self.step = 10 * self.window  # K-weighted energy per ten peak windows (about 10 ms)
        self._energy_rest = np.zeros(0)
        self._peak_rest = np.zeros(0, dtype=np.float32)
        self.energies: list[np.ndarray] = []
        self.peaks: list[np.ndarray] = []

    def feed(self, block: np.ndarray) -> None:
        """Measure the next block."""
        from scipy.signal import sosfilt

        weighted, self.state = sosfilt(self.sos, block.astype(np.float64), zi=self.state)
        self._energy_rest = self._collect(self._energy_rest, weighted ** 2, self.step, np.mean, self.energies)
        self._peak_rest = self._collect(self._peak_rest, np.abs(block), self.window, _max16, self.peaks)

    @staticmethod
    def _collect(rest, values, size, reduce, out) -> np.ndarray:
        if rest.size:
            values = np.concatenate([rest, values])
        whole = values.size // size * size
        if whole:
            out.append(reduce(values[:whole].reshape(-1, size), axis=1))
        return values[whole:]

    def finish(self) -> None:
        """Account for the samples left over at the end."""
        if self._energy_rest.size:
            self.energies.append(np.array([np.mean(self._energy_rest)]))
        if self._peak_rest.size:
            self.peaks.append(np.array([np.max(self._peak_rest)], dtype=np.float16))

    def energy(self) -> np.ndarray:
        """K-weighted mean square per 10 ms."""
        return np.concatenate(self.energies) if self.energies else np.zeros(0)

    def peak(self) -> np.ndarray:
        """Sample peak per 1 ms."""
        return np.concatenate(self.peaks) if self.peaks else np.zeros(0)


def _max16(values: np.ndarray, axis: int) -> np.ndarray:
    # float16 keeps peaks to 0.05 %: far inside the limiter's margin, and a quarter of the memory
    return np.max(values, axis=axis).astype(np.float16)


def integrated_loudness(energy: np.ndarray) -> float:
    """Gated integrated loudness in LUFS from 10 ms energies (400 ms blocks every 100 ms)."""
    whole = energy.size // 10 * 10
    tenths = energy[:whole].reshape(-1, 10).mean(axis=1) if whole else energy[:0]
    if energy.size > whole:
        tenths = np.append(tenths, energy[whole:].mean())
    if tenths.size < 4:
        tenths = np.pad(tenths, (0, 4 - tenths.size))
    blocks = np.convolve(tenths, np.ones(4) / 4, mode="valid")
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10 * np.log10(blocks)
    kept = blocks[loudness > ABSOLUTE_GATE]
    if kept.size == 0:
        return -math.inf
    relative = -0.691 + 10 * math.log10(np.mean(kept)) + RELATIVE_GATE
    with np.errstate(divide="ignore"):
        kept = kept[-0.691 + 10 * np.log10(kept) > relative]
    return -0.691 + 10 * math.log10(np.mean(kept))


LIMITER_HOLD = 21  # 1 ms windows: a gain reduction holds about 10 ms either side of a peak ...
LIMITER_RAMP = 7  # ... and ramps in and out over about 7 ms
HALO = LIMITER_HOLD // 2 + LIMITER_RAMP // 2 + 1  # windows either side a piece of the curve depends on
CHUNK = 60_000  # windows of the curve made at a time (a minute): memory does not grow with the track


def limiter_curve(peaks: np.ndarray, gain: float, ceiling_db: float, lo: int = 0, hi: int | None = None) -> np.ndarray:
    """Gain factors (<= gain) for peak windows [lo, hi) that keep gain * peak under the ceiling, smoothly.

    The minimum over neighbouring windows followed by an average over fewer windows is never above any
    window's own limit, so linear interpolation between window centres never lets a peak through. Any
    piece of the curve is the same as the whole curve's: it is made from the peaks around it (HALO)."""
    hi = peaks.size if hi is None else hi
    a, b = max(0, lo - HALO), min(peaks.size, hi + HALO)
    ceiling = np.float32(10 ** ((ceiling_db - LIMITER_MARGIN_DB) / 20))
    allowed = np.minimum(np.float32(gain), ceiling / np.maximum(peaks[a:b].astype(np.float32), np.float32(1e-9)))
    spread = _running(allowed, LIMITER_HOLD, np.min)
    return _running(spread, LIMITER_RAMP, np.mean)[lo - a:hi - a]


def _running(values: np.ndarray, size: int, reduce) -> np.ndarray:
    """reduce() over the `size` values centred on each (odd size), the ends repeated beyond the edges."""
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.pad(values, size // 2, mode="edge")
    return reduce(sliding_window_view(padded, size), axis=1).astype(values.dtype)


def limited_energy(energy: np.ndarray, peaks: np.ndarray, gain: float, ceiling_db: float) -> np.ndarray:
    """The 10 ms energies once the limiter curve (at this gain) is applied: each times the mean of the
    squared curve over its ten peak windows. Made a minute at a time."""
    out = np.empty_like(energy)
    for lo in range(0, energy.size * 10, CHUNK):
        hi = min(lo + CHUNK, energy.size * 10)
        curve = limiter_curve(peaks, gain, ceiling_db, lo, min(hi, peaks.size))
        if curve.size < hi - lo:  # the last energy window may be shorter than ten peak windows
            curve = np.pad(curve, (0, hi - lo - curve.size), mode="edge")
        out[lo // 10:hi // 10] = energy[lo // 10:hi // 10] * (curve.astype(np.float64) ** 2).reshape(-1, 10).mean(1)
    return out
