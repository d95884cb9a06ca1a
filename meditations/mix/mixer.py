"""Stage 4: mix the timeline into audio, block by block, and finish it (bed, ducking, loudness, fades).

The track is never held whole in memory and never assembled by appending (pydub's `+` in a loop
copies the whole track every time): each block is a fresh numpy buffer into which only the sounds
that overlap it are added. Silence is simply the absence of sound, exact to the sample.

The track is mixed once. Its loudness and peaks are known before: the foreground's from its clips'
statistics (clipstats.py, made when a clip is made), a noise bed's estimated (bedlevels.py); the one
mixing pass applies the gain, a smooth limiter curve and the fades, and feeds the encoder.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .bed import bed_levels
from meditations.audio.clipaudio import clip_samples, edge_fade, fit
from meditations.audio.clipstats import foreground_stats
from meditations.model.errors import Problem, RenderError, ScriptError
from meditations.audio.loudness import CHUNK, Meter, integrated_loudness, limited_energy, limiter_curve
from meditations.model.timeline import Event, Timeline
from meditations.model.script import Background, Finish
from meditations.audio.sounds import (
    BellSound, LoopedFile, NoiseBed, RecordingSound, ToneSound, bell_strike, read_audio_file, tone, trim_quiet,
)
from meditations.speech.pool import load_clip

BLOCK_SECONDS = 10
DUCK_ATTACK = 0.6  # the bed starts dipping this long before speech ...
DUCK_RELEASE = 2.0  # ... and rises back over this long after it
DUCK_BRIDGE = 4.0  # speech closer together than this keeps the bed down: no pumping between sentences
BED_SEED = 20240611


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


def _block_size(rate: int, block_seconds: float) -> int:
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
    block = _block_size(rate, block_seconds)
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


# ---------------------------------------------------------------- the bed

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


def _raised_cosine(x: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * np.clip(x, 0.0, 1.0))


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
        rise = _raised_cosine((t - (span_start - attack)) / max(attack, 1))
        fall = 1.0 - _raised_cosine((t - span_end) / max(release, 1))
        depth = np.maximum(depth, np.minimum(rise, fall))
    return depth


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
        envelope *= _raised_cosine(t / fade_in)
    if fade_out > 0:
        envelope *= _raised_cosine((total - t) / fade_out)
    return envelope


def _bed_source(background: Background, rate: int, seconds: float):
    if background.sound == "file" and background.file is not None:
        try:
            return LoopedFile(background.file, rate, seconds)
        except RenderError as exc:
            if background.location is None:
                raise
            raise ScriptError([Problem(background.location, str(exc))]) from None
    return NoiseBed(background.sound, rate, seed=BED_SEED)


BED_REFERENCE_SECONDS = 20.0  # how much of a bed its loudness is measured on


def bed_blocks(timeline: Timeline, background: Background,
               block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """The bed at unit level, ducked under speech and faded in and out, block by block."""
    rate = timeline.sample_rate
    source = _bed_source(background, rate, max(timeline.length / rate, BED_REFERENCE_SECONDS))
    gain_at = bed_gain(timeline, background)
    window = max(1, rate // 1000)
    block = _block_size(rate, block_seconds)
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


def bed_reference_loudness(background: Background, rate: int) -> float:
    """The loudness of the bed as made (no ducking, no fades), from 20 seconds of it."""
    meter = Meter(rate)
    source = _bed_source(background, rate, BED_REFERENCE_SECONDS)
    for _ in range(2):
        meter.feed(source.next(10 * rate))
    meter.finish()
    return integrated_loudness(meter.energy())


# ---------------------------------------------------------------- finishing

@dataclass(frozen=True)
class Levels:
    """What measuring decided: the bed's scale, the overall gain, and the peaks the limiter follows."""

    bed_scale: float
    gain: float
    peaks: np.ndarray  # per 1 ms window, foreground and bed together (float16)
    ceiling_db: float
    measured_lufs: float
    expected_lufs: float = -math.inf  # what the finished track should measure (checked before it is kept)

    def __hash__(self) -> int:
        return id(self)

    def curve(self, lo: int, hi: int) -> np.ndarray:
        """The limiter's gain factors for peak windows [lo, hi)."""
        return limiter_curve(self.peaks, self.gain, self.ceiling_db, lo, hi)


def measure(timeline: Timeline, background: Background | None, finish: Finish) -> Levels:
    """Loudness and peaks of the foreground (from its sounds' statistics) and of the bed (bedlevels.py for
    noise; a pass over a recording); the gain and limiter curve. Nothing is mixed."""
    rate = timeline.sample_rate
    foreground = foreground_stats(timeline, ClipSource(rate))
    energy, peaks = foreground.energy(), foreground.peak()
    speech_lufs = integrated_loudness(energy)
    bed_scale = 0.0
    if background is not None:
        bed_energy, bed_peaks = bed_levels(timeline, background)
        reference = speech_lufs if math.isfinite(speech_lufs) else finish.loudness
        bed_db = reference + background.level_db - bed_reference_loudness(background, rate)
        bed_scale = 10 ** (_steps(bed_db) / 20)
        # Independent signals: energies add; peaks at most add.
        energy = energy + bed_scale ** 2 * fit(bed_energy, energy.size)
        peaks = _add_peaks(peaks, fit(bed_peaks, peaks.size), bed_scale)
    measured = integrated_loudness(energy)
    if not math.isfinite(measured):
        return Levels(bed_scale, 1.0, peaks, finish.true_peak, measured, measured)
    # The limiter's effect is estimated on the 10 ms energies; on the bundled library the finished
    # mix then measures within 0.1 LU of the target (tests check the MP3 itself).
    gain_db, expected = _gain_for(finish.loudness, measured, energy, peaks, finish)
    return Levels(bed_scale, 10 ** (_steps(gain_db) / 20), peaks, finish.true_peak, measured, expected)


LEVEL_STEP_DB = 0.05


def _steps(db: float) -> float:
    """A level in whole steps of LEVEL_STEP_DB (at most 0.025 dB off): a track re-rendered with a few
    sentences changed usually keeps the very same gain, so its unchanged pieces are the same samples and
    their encoding is reused (pieces.py)."""
    return round(db / LEVEL_STEP_DB) * LEVEL_STEP_DB


def _add_peaks(foreground: np.ndarray, bed: np.ndarray, scale: float) -> np.ndarray:
    """foreground + scale * bed, a minute at a time, kept as float16."""
    total = np.empty_like(foreground)
    for lo in range(0, foreground.size, CHUNK):
        hi = lo + CHUNK
        total[lo:hi] = foreground[lo:hi].astype(np.float32) + np.float32(scale) * bed[lo:hi].astype(np.float32)
    return total


def _gain_for(target: float, measured: float, energy, peaks, finish: Finish) -> tuple[float, float]:
    """The gain (dB) that lands the limited mix on the target loudness, and the loudness it gives.

    The limiter takes back part of every decibel added, so more gain brings less and less loudness; with
    gating the loudness can even fall as quiet passages rise past the relative gate. So: a secant step
    where the last two trials show a plausible slope, else a plain step, each step capped, the gain held
    within MAX_LIMITING_DB of the plain gain, and the best trial kept."""
    gain_db, tried, best = target - measured, [], None
    for _ in range(LIMITER_ROUNDS):
        result = integrated_loudness(limited_energy(energy, peaks, 10 ** (gain_db / 20), finish.true_peak))
        if not math.isfinite(result):
            break
        if best is None or abs(target - result) < abs(target - best[1]):
            best = (gain_db, result)
        if abs(target - result) < 0.02:
            break
        tried.append((gain_db, result))
        step = target - result
        if len(tried) >= 2:
            (g0, r0), (g1, r1) = tried[-2:]
            slope = (r1 - r0) / (g1 - g0) if g1 != g0 else 0.0
            if 0.05 <= slope <= 1.5:
                step = (target - r1) / slope
        ceiling = target - measured + MAX_LIMITING_DB
        gain_db = min(ceiling, gain_db + max(-MAX_GAIN_STEP_DB, min(MAX_GAIN_STEP_DB, step)))
        if tried and gain_db == tried[-1][0]:
            break  # at the most limiting we allow: this is as loud as the track gets
    return best if best else (target - measured, target)


MAX_GAIN_STEP_DB = 6.0
# Never more than this much gain beyond the plain gain to the target: past it, peaks would be crushed and,
# with a loud bed and long pauses, the bed would be pushed up to the voice's level just to satisfy the
# meter's gating. Speech from the bundled library needs 2 to 3 dB.
MAX_LIMITING_DB = 6.0


LIMITER_ROUNDS = 8


def finished_blocks(timeline: Timeline, background: Background | None, finish: Finish,
                    levels: Levels | None = None) -> Iterator[np.ndarray]:
    """The finished track, block by block, ready for the encoder (the one mixing pass)."""
    levels = levels or measure(timeline, background, finish)
    rate = timeline.sample_rate
    window = max(1, rate // 1000)
    fade_out = int(finish.fade_out * rate)
    beds = bed_blocks(timeline, background) if background is not None else None
    start = 0
    for block in mix_blocks(timeline):
        end = start + block.size
        if beds is not None:
            block = block + np.float32(levels.bed_scale) * next(beds)
        lo, hi = max(0, start // window - 1), min(levels.peaks.size, (end - 1) // window + 2)
        centres = (np.arange(lo, hi) + 0.5) * window
        gain = np.interp(np.arange(start, end), centres, levels.curve(lo, hi))
        gain *= edge_envelope(start, end, timeline.length, 0, fade_out)
        yield (block * gain).astype(np.float32)
        start = end
