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

from meditations.files import BlobCache, cache_key, cache_root

from .clipaudio import CLIP_RATE, clip_samples
from .loudness import integrated_loudness, k_weighting
from .pcm import resampled_length

STATS_VERSION = 1
MADE_FOR_RATE = 44100  # a new clip's statistics are made at once for the default output rate
RING_SECONDS = 0.05  # measured past a clip's end: the K-weighting filter's ringing


FFT_SIZE = 1 << 15  # the K-weighting is applied by overlap-add in FFTs of this many samples


def measure_clip(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """(sum of squared K-weighted samples, sample peak) per peak window of one clip, as float32.

    The K-weighting is applied as its impulse response (RING_SECONDS long: the filter has rung out by
    then) by FFT convolution, overlap-add in FFTs of a fixed size: numpy only, so a speech worker need not
    import scipy.signal for it, and a long clip needs no FFT (and no cached filter spectrum) of its own size."""
    window = max(1, rate // 1000)
    size = math.ceil((audio.size + int(RING_SECONDS * rate) - 1) / window) * window
    weighted = _k_weighted(audio, rate, size)
    energy = np.square(weighted, out=weighted).reshape(-1, window).sum(axis=1).astype(np.float32)
    magnitude = np.zeros(size, dtype=np.float32)
    magnitude[:audio.size] = np.abs(audio)
    return energy, magnitude.reshape(-1, window).max(axis=1)


def _k_weighted(audio: np.ndarray, rate: int, size: int) -> np.ndarray:
    """The first `size` samples of the clip convolved with the K-weighting's impulse response."""
    taps = int(RING_SECONDS * rate)
    n = max(FFT_SIZE, 1 << (2 * taps - 1).bit_length())
    step = n - taps + 1  # input samples per FFT: each block's convolution fits in n without wrapping
    spectrum = _k_spectrum(rate, n)
    out = np.zeros(max(size, audio.size) + n)
    for lo in range(0, audio.size, step):
        out[lo:lo + n] += np.fft.irfft(np.fft.rfft(audio[lo:lo + step], n) * spectrum, n)
    return out[:size]


@lru_cache(maxsize=4)
def _k_spectrum(rate: int, n: int) -> np.ndarray:
    """The spectrum of the truncated impulse response for FFTs of n samples."""
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


STEP_WINDOWS = 10  # peak windows per loudness meter step (about 10 ms)


class TrackStats:
    """The foreground's energy per meter step and peaks per peak window, accumulated clip by clip.

    Energy is summed per step, not per window: only steps are measured, and a 60-minute track's
    per-window sums would take 29 MB (float64) where its steps take 2.9 MB."""

    def __init__(self, rate: int, length: int):
        self.rate, self.length = rate, length
        self.window = max(1, rate // 1000)
        count = math.ceil(length / self.window)
        self.sums = np.zeros(math.ceil(count / STEP_WINDOWS), dtype=np.float64)
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
        room = max(0, min(spread.size, self.peaks.size - first))
        self.peaks[first:first + room] += top[:room]
        if room:
            lead = first % STEP_WINDOWS  # the clip's first window within its step
            steps = np.bincount((np.arange(room) + lead) // STEP_WINDOWS, weights=spread[:room])
            step = first // STEP_WINDOWS
            self.sums[step:step + steps.size] += steps

    def energy(self) -> np.ndarray:
        """Mean square per meter step (STEP_WINDOWS peak windows, about 10 ms), the last step possibly shorter."""
        counts = np.full(self.sums.size, float(self.window * STEP_WINDOWS))
        counts[-1] = self.length - (self.sums.size - 1) * self.window * STEP_WINDOWS
        return self.sums / counts

    def peak(self) -> np.ndarray:
        """Sample peak per window (an upper bound where sounds overlap), as float16 like the meter's."""
        return self.peaks.astype(np.float16)


def clip_loudness(audio: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of one whole clip, numpy only: a speech worker measuring a voice's
    reference sentence need not import scipy.signal (tens of MB in every worker) for the meter's filter."""

    stats = TrackStats(rate, max(1, audio.size))
    stats.add(0, *measure_clip(audio, rate))
    return integrated_loudness(stats.energy())


def stats_key(clip: str, rate: int, length: int) -> str:
    """The cache key of a clip's statistics when it is played at `rate`, `length` samples long."""
    return cache_key("clip-stats", STATS_VERSION, clip, rate, length)


def store_for_new_clip(key: str, clip: np.ndarray, cache_folder: Path) -> None:
    """Measure a clip just made (16-bit samples at the engine's rate) as the mixer will play it at the
    default output rate, and store that beside the speech cache: a render then reads it instead of
    resampling and filtering the clip before mixing it."""

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
    (mixing.foreground.ClipSource)."""
    rate = timeline.sample_rate
    stats, clips = TrackStats(rate, timeline.length), ClipStatsCache(rate)
    for event in sorted((e for e in timeline.events if e.audible and e.end > e.start), key=lambda e: e.start):
        if event.clip:
            energy, peaks = clips.get(event.clip, event.end - event.start, lambda e=event: source.samples(e))
        else:
            energy, peaks = measure_clip(source.samples(event), rate)
        stats.add(event.start, energy, peaks)
    return stats
