"""Finishing: the track's gain, a smooth limiter and the fade out, decided before mixing and applied in the
one mixing pass that feeds the encoder.

The foreground's loudness and peaks come from its clips' statistics (made when a clip is made), a noise
bed's are estimated (bed.py): nothing is mixed to measure.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from meditations.audio import (
    CHUNK,
    encoder_band_hz,
    encoder_scale,
    fit,
    QUIET,
    foreground_stats,
    inaudible,
    integrated_loudness,
    limited_energy,
    limiter_curve,
)
from meditations.model import (
    AudioFormat,
    Background,
    Finish,
    MeditateError,
    Problem,
    RenderError,
    ScriptError,
    Timeline,
)

from .bed import bed_blocks, bed_levels, bed_reference_loudness
from .foreground import ClipSource, mix_blocks
from .fades import edge_envelope


@dataclass(frozen=True)
class Levels:
    """What measuring decided: the bed's scale, the overall gain, and the peaks the limiter follows."""

    bed_scale: float
    gain: float
    peaks: np.ndarray  # per 1 ms window, foreground and bed together (float16)
    ceiling_db: float
    measured_lufs: float
    expected_lufs: float = -math.inf  # what the finished track should measure, decoded (checked before it is kept)

    def __hash__(self) -> int:
        return id(self)

    def curve(self, lo: int, hi: int) -> np.ndarray:
        """The limiter's gain factors for peak windows [lo, hi)."""
        return limiter_curve(self.peaks, self.gain, self.ceiling_db, lo, hi)


def measure(timeline: Timeline, background: Background | None, finish: Finish,
            encoder: AudioFormat | None = None) -> Levels:
    """Loudness and peaks of the foreground (from its sounds' statistics) and of the bed (bed.py for
    noise; a pass over a recording); the gain and limiter curve. Nothing is mixed.

    With the track's format (`encoder`), the levels are those of the decoded MP3, what a listener hears
    (audio/lame.py): the foreground as the encoder scales it (LAME plays tones and speech 0.45 dB down below
    192 kbit/s), the bed in the band the encoder keeps (a white-noise bed loses a quarter of its energy above
    16.5 kHz at 64 kbit/s mono) and unscaled (the coding noise of a noise makes up for the scale). Speech,
    bells and tones lie below every band but the narrowest (the engines speak at 22,050 Hz), so their
    statistics stay full-band: at a 3 kHz band they move the track by under 0.1 LU."""
    rate = timeline.sample_rate
    band = encoder_band_hz(encoder) if encoder is not None else None
    heard = encoder_scale(encoder) ** 2 if encoder is not None else 1.0
    foreground = foreground_stats(timeline, ClipSource(rate))
    energy, peaks = foreground.energy() * heard, foreground.peak()
    speech_lufs = integrated_loudness(energy)
    bed_scale = 0.0
    if background is not None:
        bed_energy, bed_peaks = bed_levels(timeline, background, band)
        reference = speech_lufs if math.isfinite(speech_lufs) else finish.loudness
        bed_lufs = bed_reference_loudness(background, rate, band)
        if not math.isfinite(bed_lufs) and float(np.max(bed_peaks, initial=0.0)) > QUIET:
            raise _inaudible_bed(background, encoder or AudioFormat(sample_rate=rate))
        bed_scale = _bed_scale(reference + background.level_db, bed_lufs)
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


def _bed_scale(wanted_lufs: float, bed_lufs: float) -> float:
    """The factor that brings a bed measuring bed_lufs to wanted_lufs. A quiet bed too quiet to measure
    (digital silence, or room tone a few bits above it: under the meter's -70 LUFS gate) plays as it is: no
    level can be computed for it, and boosting it by 50 dB or more would turn its noise floor into hiss."""
    if not math.isfinite(bed_lufs):
        return 1.0
    return 10 ** (_steps(wanted_lufs - bed_lufs) / 20)


def _inaudible_bed(background: Background, audio: AudioFormat) -> MeditateError:
    """A bed whose samples are loud but which measures nothing a listener would hear (a constant offset,
    rumble below the meter's 38 Hz, or all above the encoder's band): played as it is it would be a wrong
    track, not a quiet one."""
    message = inaudible(background.file.name if background.file else background.sound, audio)
    if background.location is None:
        return RenderError(message)
    return ScriptError([Problem(background.location, message)])


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
