"""Stage 4: mix the timeline into audio, block by block.

The track is never held whole in memory and never assembled by appending (pydub's `+` in a loop
copies the whole track every time): each block is a fresh numpy buffer into which only the clips
that overlap it are added. Silence is simply the absence of clips, exact to the sample.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Callable, Iterator

import numpy as np
from scipy.signal import resample_poly

from .planner import Event, Timeline
from .speech import ENGINE_SAMPLE_RATE, load_clip
from .errors import RenderError

BLOCK_SECONDS = 10
EDGE_FADE_SECONDS = 0.005  # a short fade on every clip edge: no clicks where a clip starts or stops


def edge_fade(samples: np.ndarray, rate: int) -> np.ndarray:
    """The clip with short raised-cosine fades at both ends (in place on a float copy)."""
    length = min(int(EDGE_FADE_SECONDS * rate), samples.size // 2)
    if length > 0:
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, length, dtype=np.float32))).astype(np.float32)
        samples[:length] *= ramp
        samples[-length:] *= ramp[::-1]
    return samples


def speech_samples(key: str, rate: int, length: int) -> np.ndarray:
    """A cached speech clip as float32 at the track's rate, exactly `length` samples, edges faded."""
    clip = load_clip(key)
    if clip is None:
        raise RenderError("a speech clip vanished from the cache while mixing; run the command again")
    audio = clip.astype(np.float32) / 32768.0
    if rate != ENGINE_SAMPLE_RATE:
        g = math.gcd(rate, ENGINE_SAMPLE_RATE)
        audio = resample_poly(audio, rate // g, ENGINE_SAMPLE_RATE // g).astype(np.float32)
    if audio.size < length:
        audio = np.pad(audio, (0, length - audio.size))
    return edge_fade(audio[:length].copy(), rate)


class ClipSource:
    """Loads the audio of sounding events, keeping the few recently used ones."""

    def __init__(self, rate: int, capacity: int = 16):
        self.rate = rate
        self.capacity = capacity
        self._recent: OrderedDict = OrderedDict()

    def samples(self, event: Event) -> np.ndarray:
        """The event's audio, exactly as long as the event."""
        key = (event.clip, event.end - event.start)
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        audio = self.load(event)
        self._recent[key] = audio
        if len(self._recent) > self.capacity:
            self._recent.popitem(last=False)
        return audio

    def load(self, event: Event) -> np.ndarray:
        """Make one event's audio."""
        return speech_samples(event.clip, self.rate, event.end - event.start)


def mix_blocks(timeline: Timeline, source: ClipSource | None = None,
               block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The track as consecutive float32 mono blocks (the last may be shorter)."""
    rate = timeline.sample_rate
    source = source or ClipSource(rate)
    sounding = sorted((e for e in timeline.events if e.clip), key=lambda e: e.start)
    block = max(1, int(block_seconds * rate))
    upcoming, active = 0, []
    for block_start in range(0, timeline.length, block):
        block_end = min(block_start + block, timeline.length)
        out = np.zeros(block_end - block_start, dtype=np.float32)
        while upcoming < len(sounding) and sounding[upcoming].start < block_end:
            active.append(sounding[upcoming])
            upcoming += 1
        for event in active:
            _add(out, block_start, block_end, event, source)
        active = [e for e in active if e.end > block_end]
        yield out


def _add(out: np.ndarray, block_start: int, block_end: int, event: Event, source: ClipSource) -> None:
    start, end = max(event.start, block_start), min(event.end, block_end)
    if start >= end:
        return
    audio = source.samples(event)
    out[start - block_start:end - block_start] += audio[start - event.start:end - event.start]


def mix_all(timeline: Timeline, source: ClipSource | None = None) -> np.ndarray:
    """The whole track in one array (for previews and tests; rendering streams instead)."""
    return np.concatenate(list(mix_blocks(timeline, source)) or [np.zeros(0, np.float32)])
