"""The foreground, block by block: speech, bells and tones added into fresh numpy buffers.

The track is never held whole in memory and never assembled by appending (pydub's `+` in a loop copies the
whole track every time): each block is a fresh buffer into which only the sounds that overlap it are
added. Silence is simply the absence of sound, exact to the sample.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

from meditations.audio import (
    BellSound,
    RecordingSound,
    ToneSound,
    bell_strike,
    clip_samples,
    edge_fade,
    fit,
    read_audio_file,
    tone,
    trim_quiet,
)
from meditations.model import Event, RenderError, Timeline
from meditations.speaking import load_clip

BLOCK_SECONDS = 10


def speech_samples(key: str, rate: int, length: int) -> np.ndarray:
    """A cached speech clip as float32 at the track's rate, exactly `length` samples, edges faded."""
    clip = load_clip(key)
    if clip is None:
        raise RenderError("a speech clip vanished from the cache while mixing; run the command again")
    return clip_samples(clip, rate, length)


@lru_cache(maxsize=8)
def _user_file(path: str, rate: int, seconds: float | None = None) -> np.ndarray:
    return read_audio_file(Path(path), rate, seconds)


def made_sound(event: Event, rate: int) -> np.ndarray:
    """The audio of a bell or tone event."""
    length = event.end - event.start
    sound = event.sound
    if isinstance(sound, ToneSound):
        return tone(rate, length, sound.start_hz, sound.end_hz, sound.gain_db)
    if isinstance(sound, RecordingSound):
        audio = fit(trim_quiet(_user_file(sound.file, rate), rate), length).copy()
        return edge_fade(audio, rate) * np.float32(10 ** (sound.gain_db / 20))
    if isinstance(sound, BellSound):
        if sound.file:  # only as much of the file as the strike rings (plus a margin the resampler may look at)
            audio = fit(_user_file(sound.file, rate, length / rate + 0.1), length).copy()
            release = min(length, int(0.05 * rate))
            audio[length - release:] *= np.linspace(1.0, 0.0, release, dtype=np.float32)
            return edge_fade(audio, rate) * (10 ** (sound.gain_db / 20))
        return bell_strike(rate, length, sound.pitch) * np.float32(10 ** (sound.gain_db / 20))
    raise ValueError(f"no audio for {event.kind}")


class ClipSource:
    """Makes the audio of sounding events, keeping the few recently used ones."""

    def __init__(self, rate: int, capacity: int = 16):
        self.rate = rate
        self.capacity = capacity
        self._recent: OrderedDict = OrderedDict()

    def samples(self, event: Event) -> np.ndarray:
        """The event's audio, exactly as long as the event."""
        key = (event.clip, event.sound, event.end - event.start)
        if key in self._recent:
            self._recent.move_to_end(key)
            return self._recent[key]
        audio = speech_samples(event.clip, self.rate, event.end - event.start) if event.clip \
            else made_sound(event, self.rate)
        self._recent[key] = audio
        if len(self._recent) > self.capacity:
            self._recent.popitem(last=False)
        return audio


def block_size(rate: int, block_seconds: float) -> int:
    """About block_seconds of samples, a whole number of the loudness meter's 10 ms and 1 ms windows (so
    the meter never has to carry samples over from one block to the next)."""
    unit = 10 * max(1, rate // 1000)  # the meter's energy window: ten peak windows
    return max(1, round(block_seconds * rate / unit)) * unit


def mix_blocks(timeline: Timeline, source: ClipSource | None = None,
               block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The foreground (speech, bells, tones) as consecutive float32 mono blocks."""
    rate = timeline.sample_rate
    source = source or ClipSource(rate)
    sounding = sorted((e for e in timeline.events if e.audible), key=lambda e: e.start)
    block = block_size(rate, block_seconds)
    upcoming, active = 0, []
    for block_start in range(0, timeline.length, block):
        block_end = min(block_start + block, timeline.length)
        out = np.zeros(block_end - block_start, dtype=np.float32)
        while upcoming < len(sounding) and sounding[upcoming].start < block_end:
            active.append(sounding[upcoming])
            upcoming += 1
        for event in active:
            start, end = max(event.start, block_start), min(event.end, block_end)
            if start < end:
                audio = source.samples(event)
                out[start - block_start:end - block_start] += audio[start - event.start:end - event.start]
        active = [e for e in active if e.end > block_end]
        yield out
