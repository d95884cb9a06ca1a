"""Loudness statistics of each sound of a track, made once per clip and cached, so the loudness and peaks of
the foreground are known without mixing the track a first time.

For each clip (at the track's rate, exactly as the mixer plays it): the K-weighted energy (BS.1770) per
peak window (about 1 ms) and its sample peak per window, on the clip's own grid, its filter's ringing
included. A track's statistics are the sum of its clips', each spread over the two track windows its
windows straddle: energies in proportion, peaks in full, and peaks of sounds that overlap added (an upper
bound, so the limiter never lets one through). Loudness is gated over 400 ms blocks, so the spreading
moves a measurement by far less than 0.01 LU. Speech clips' statistics are stored in a cache of their
own (keyed by the clip, rate and length): a re-render, or another track with the same sentences, reads
them; bells, tones and recordings are cheap and measured each time.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from .cache import BlobCache, cache_key, cache_root
from .engines import CLIP_RATE
from .loudness import k_weighting

STATS_VERSION = 1
MADE_FOR_RATE = 44100  # a new clip's statistics are made at once for the default output rate
RING_SECONDS = 0.05  # measured past a clip's end: the K-weighting filter's ringing


def measure_clip(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(sum of squared K-weighted samples, sample peak) per peak window of one clip, as float32.

    The K-weighting is applied as its impulse response (RING_SECONDS long: the filter has rung out by
    then) by FFT convolution: numpy only, so a speech worker need not import scipy.signal for it."""
    window = max(1, rate // 1000)
    size = math.ceil((audio.size + int(RING_SECONDS * rate) - 1) / window) * window
    n = 1 << (size - 1).bit_length()
    weighted = np.fft.irfft(np.fft.rfft(audio, n) * _k_spectrum(rate, n), n)[:size]
    energy = np.square(weighted, out=weighted).reshape(-1, window).sum(axis=1).astype(np.float32)
    magnitude = np.zeros(size, dtype=np.float32)
    magnitude[:audio.size] = np.abs(audio)
    return energy, magnitude.reshape(-1, window).max(axis=1)


@lru_cache(maxsize=8)
def _k_spectrum(rate: int, n: int) -> np.ndarray:
    """The spectrum of the truncated impulse response for FFTs of n samples (clips share a few sizes)."""
    return np.fft.rfft(_k_impulse(rate), n)


@lru_cache(maxsize=4)
def _k_impulse(rate: int) -> np.ndarray:
    """The K-weighting filter's impulse response, RING_SECONDS of it, from its frequency response."""
    n = 1 << 18
    z = np.exp(-1j * 2 * np.pi * np.arange(n // 2 + 1) / n)
    response = np.ones(z.size, dtype=complex)
    for b0, b1, b2, _, a1, a2 in k_weighting(rate):
        response *= (b0 + b1 * z + b2 * z * z) / (1 + a1 * z + a2 * z * z)
    return np.fft.irfft(response, n)[:int(RING_SECONDS * rate)]


class TrackStats:
    """The foreground's energy and peaks per peak window, accumulated clip by clip."""

    def __init__(self, rate: int, length: int):
        self.rate, self.length = rate, length
        self.window = max(1, rate // 1000)
        count = math.ceil(length / self.window)
        self.sums = np.zeros(count, dtype=np.float64)
        self.peaks = np.zeros(count, dtype=np.float32)

    def add(self, start: int, energy: np.ndarray, peaks: np.ndarray) -> None:
        """A clip's statistics, the clip starting at sample `start`."""
        first, offset = divmod(start, self.window)
        share = offset / self.window
        spread = np.zeros(energy.size + 1)
        spread[:-1] += energy * (1 - share)
        spread[1:] += energy * share
        top = np.zeros(peaks.size + 1, dtype=np.float32)
        top[:-1] = peaks
        if offset:
            top[1:] = np.maximum(top[1:], peaks)
        else:
            top[-1] = 0.0
        room = max(0, min(spread.size, self.sums.size - first))
        self.sums[first:first + room] += spread[:room]
        self.peaks[first:first + room] += top[:room]

    def energy(self, step_windows: int = 10) -> np.ndarray:
        """Mean square per meter step (10 peak windows, about 10 ms), the last step possibly shorter."""
        samples = np.full(self.sums.size, float(self.window))
        samples[-1] = self.length - (self.sums.size - 1) * self.window
        whole = self.sums.size // step_windows * step_windows
        sums = self.sums[:whole].reshape(-1, step_windows).sum(axis=1)
        counts = samples[:whole].reshape(-1, step_windows).sum(axis=1)
        if whole < self.sums.size:
            sums = np.append(sums, self.sums[whole:].sum())
            counts = np.append(counts, samples[whole:].sum())
        return sums / counts

    def peak(self) -> np.ndarray:
        """Sample peak per window (an upper bound where sounds overlap), as float16 like the meter's."""
        return self.peaks.astype(np.float16)


def stats_key(clip: str, rate: int, length: int) -> str:
    """The cache key of a clip's statistics when it is played at `rate`, `length` samples long."""
    return cache_key("clip-stats", STATS_VERSION, clip, rate, length)


def store_for_new_clip(key: str, clip: np.ndarray, cache_folder: Path) -> None:
    """Measure a clip just made (16-bit samples at the engine's rate) as the mixer will play it at the
    default output rate, and store that beside the speech cache: a render then reads it instead of
    resampling and filtering the clip before mixing it."""
    from .clipaudio import clip_samples
    from .pcm import resampled_length

    length = resampled_length(clip.size, CLIP_RATE, MADE_FOR_RATE)
    stats = measure_clip(clip_samples(clip, MADE_FOR_RATE, length), MADE_FOR_RATE)
    BlobCache(cache_folder / "clip-stats").put(stats_key(key, MADE_FOR_RATE, length),
                                               np.concatenate(stats).astype("<f4").tobytes())


class ClipStatsCache:
    """Statistics of speech clips, stored beside the speech cache and memoized for one render."""

    def __init__(self, rate: int):
        self.rate = rate
        self.store = BlobCache(cache_root() / "clip-stats")
        self.seen: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]] = {}

    def get(self, clip: str, length: int, audio_of) -> tuple[np.ndarray, np.ndarray]:
        """The statistics of a clip played `length` samples long; `audio_of()` makes its audio if needed."""
        if (clip, length) in self.seen:
            return self.seen[(clip, length)]
        key = stats_key(clip, self.rate, length)
        stored = self.store.get(key)
        if stored is not None and len(stored) % 8 == 0:
            both = np.frombuffer(stored, dtype="<f4")
            stats = (both[:both.size // 2], both[both.size // 2:])
        else:
            stats = measure_clip(audio_of(), self.rate)
            self.store.put(key, np.concatenate(stats).astype("<f4").tobytes())
        self.seen[(clip, length)] = stats
        return stats


def foreground_stats(timeline, source) -> TrackStats:
    """The foreground's K-weighted energy and peaks, from each sound's statistics (a speech clip's are
    cached), without mixing it. `source` makes a sound's audio when its statistics are not stored
    (mixer.ClipSource)."""
    rate = timeline.sample_rate
    stats, clips = TrackStats(rate, timeline.length), ClipStatsCache(rate)
    for event in sorted((e for e in timeline.events if e.audible and e.end > e.start), key=lambda e: e.start):
        if event.clip:
            energy, peaks = clips.get(event.clip, event.end - event.start, lambda e=event: source.samples(e))
        else:
            energy, peaks = measure_clip(source.samples(event), rate)
        stats.add(event.start, energy, peaks)
    return stats
