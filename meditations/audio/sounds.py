"""Sounds made without sample files: a singing-bowl bell, breathing tones, and noise beds; plus user files.

Every generator is deterministic (fixed seeds), so the same plan always gives the same audio and
the mixer can make a block twice (the loudness pass, then the encoding pass).
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from meditations.files import FileLimits, file_problem
from meditations.model import AudioFormat, RenderError

from .lame import encoder_band_hz
from .loudness import ABSOLUTE_GATE
from .pcm import resample, trim_silence
from .wav import WavLayout, frames_for, layout, read_frames

# A struck bowl's partials are inharmonic; these ratios and decay times are typical of a small
# singing bowl (higher partials die away faster). Each partial is a pair of slightly detuned
# sines: the slow beating is the bowl's characteristic "wah".
_BOWL_PARTIALS = ((1.0, 1.00, 9.0), (2.71, 0.55, 6.0), (5.12, 0.30, 3.5), (8.27, 0.16, 2.0), (11.9, 0.08, 1.2))
_BEAT_HZ = (1.3, 2.1, 3.2, 4.0, 5.5)
BELL_PITCH_HZ = 262.0
BELL_PEAK = 0.7


@dataclass(frozen=True)
class BellSound:
    """A synthesized bowl strike, or a user's file; `length` samples long."""

    pitch: float = BELL_PITCH_HZ
    gain_db: float = 0.0
    file: str = ""


@dataclass(frozen=True)
class ToneSound:
    """A breathing tone: pitch glides from `start_hz` to `end_hz` over the phase."""

    start_hz: float
    end_hz: float
    gain_db: float = -14.0


@dataclass(frozen=True)
class RecordingSound:
    """A therapist's recording played instead of synthesized speech, with its loudness-matching gain."""

    file: str
    gain_db: float = 0.0


QUIET = 0.005  # a recording's samples at most this loud (-46 dBFS) before and after its sound are trimmed
# The shortest a recording's sound may be: a spoken syllable lasts about a tenth of a second; anything shorter
# is heard as a click, not as a word (and a one-sample file would be a click boosted to the voice's level).
MIN_SOUND_SECONDS = 0.1


def trim_quiet(audio: np.ndarray, rate: int, threshold: float = QUIET) -> np.ndarray:
    """A recording without its silent lead-in and tail (a few ms kept either side)."""
    return trim_silence(audio, rate, threshold)


def sounding_seconds(audio: np.ndarray, rate: int) -> float:
    """How long a recording sounds: from its first sample louder than QUIET to its last."""
    loud = np.flatnonzero(np.abs(audio) > QUIET)
    return (int(loud[-1]) - int(loud[0]) + 1) / rate if loud.size else 0.0


def too_short(name: str) -> str:
    """The problem of a recording whose sound lasts less than MIN_SOUND_SECONDS."""
    return f"{name} is too short to be heard: it holds under {MIN_SOUND_SECONDS:g} s of sound"


def inaudible(name: str, audio: AudioFormat) -> str:
    """The problem of a recording with nothing above the loudness meter's gate in the band the MP3 keeps."""
    channels = "mono" if audio.channels == 1 else "stereo"
    return (f"{name} cannot be heard in the track: below {encoder_band_hz(audio) / 1000:g} kHz, all an MP3 keeps at "
            f"{audio.sample_rate} Hz and {audio.bitrate} kbit/s {channels}, it is quieter than {ABSOLUTE_GATE:g} LUFS")


def natural_ring_seconds() -> float:
    """How long a strike takes to decay to -60 dB: each partial's decay time is its own -60 dB time,
    so the slowest partial sets it."""
    return max(decay for _, _, decay in _BOWL_PARTIALS)


def bell_strike(rate: int, length: int, pitch: float = BELL_PITCH_HZ) -> np.ndarray:
    """One bowl strike, `length` samples, ringing out (faded to silence at the very end)."""
    return _bell_strike_cached(rate, length, round(pitch, 3)).copy()


@lru_cache(maxsize=16)
def _bell_strike_cached(rate: int, length: int, pitch: float) -> np.ndarray:
    t = np.arange(length, dtype=np.float64) / rate
    out = np.zeros(length, dtype=np.float64)
    for (ratio, amplitude, decay), beat in zip(_BOWL_PARTIALS, _BEAT_HZ, strict=False):
        frequency = pitch * ratio
        if frequency >= rate / 2.2:
            continue
        envelope = amplitude * np.exp(-t * 6.9 / decay)
        beating = np.sin(2 * math.pi * (frequency + beat) * t + 0.7)
        out += envelope * 0.5 * (np.sin(2 * math.pi * frequency * t) + beating)
    attack = min(length, int(0.004 * rate))  # a soft mallet: a few ms of attack, no click
    out[:attack] *= np.linspace(0.0, 1.0, attack)
    release = min(length, int(0.5 * rate))
    out[-release:] *= np.linspace(1.0, 0.0, release) ** 2
    peak = np.max(np.abs(out)) or 1.0
    return (out / peak * BELL_PEAK).astype(np.float32)


def tone(rate: int, length: int, start_hz: float, end_hz: float, gain_db: float) -> np.ndarray:
    """A soft breathing tone gliding in pitch, swelling in and out so it never clicks."""
    t = np.arange(length, dtype=np.float64) / rate
    frequency = start_hz + (end_hz - start_hz) * (t / max(t[-1], 1e-9) if length else t)
    phase = 2 * math.pi * np.cumsum(frequency) / rate
    wave = np.sin(phase) + 0.25 * np.sin(2 * phase) + 0.08 * np.sin(3 * phase)
    swell = min(length // 2, int(0.35 * rate))
    envelope = np.ones(length)
    if swell:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, math.pi, swell))
        envelope[:swell] = ramp
        envelope[-swell:] = ramp[::-1]
    return (wave * envelope * (10 ** (gain_db / 20)) / 1.33).astype(np.float32)


# ---------------------------------------------------------------- noise beds



class NoiseBed:
    """Endless deterministic noise, made block by block with its filter state carried along."""

    def __init__(self, kind: str, rate: int, seed: int = 1):
        self.kind = kind
        self.rate = rate
        self.random = np.random.default_rng(seed)
        self.state = np.zeros(7)
        self.brown = 0.0

    def next(self, length: int) -> np.ndarray:
        """The next `length` samples, roughly at -20 dBFS RMS."""
        white = self.random.standard_normal(length)
        if self.kind == "white-noise":
            return (white * 0.1).astype(np.float32)
        if self.kind == "pink-noise":
            return (self._pink(white) * 0.1).astype(np.float32)
        return (self._brown(white) * 0.1).astype(np.float32)

    def _pink(self, white: np.ndarray) -> np.ndarray:
        # A -3 dB/octave slope from a sum of first-order low-passes at spread-out corner frequencies.
        from scipy.signal import lfilter

        out = np.zeros_like(white)
        corners = (0.99886, 0.99332, 0.96900, 0.86650, 0.55000, -0.7616)
        weights = (0.0555179, 0.0750759, 0.1538520, 0.3104856, 0.5329522, -0.0168980)
        for index, (pole, weight) in enumerate(zip(corners, weights, strict=False)):
            filtered, self.state[index:index + 1] = lfilter([weight], [1.0, -pole], white,
                                                           zi=self.state[index:index + 1])
            out += filtered
        return (out + white * 0.5362) / 3.0

    def _brown(self, white: np.ndarray) -> np.ndarray:
        # Integrated white noise with a slight leak, so it never wanders off.
        from scipy.signal import lfilter

        out, zi = lfilter([0.02], [1.0, -0.998], white, zi=[self.brown])
        self.brown = zi[0]
        return out * 3.5


# ---------------------------------------------------------------- user audio files

def read_audio_file(path: Path, rate: int, seconds: float | None = None) -> np.ndarray:
    """A user's WAV, MP3, OGG or FLAC as mono float32 at `rate`.

    The file's kind and size are checked first (a FIFO or a device is never opened). With `seconds`, only
    that much is decoded (a long bed under a short track); without, a file that plays longer than
    MEDITATE_MAX_AUDIO_SECONDS is an error, found before decoding more than that.

    WAV files are read here (wav.py): their header is checked before any sample is read (a header that
    claims 1 Hz is found too long before its samples are read and resampled), then only the frames needed.
    Other files, and WAV codecs other than PCM and float, are decoded by the ffmpeg binary from the
    imageio-ffmpeg wheel."""

    path = Path(path)
    limits = FileLimits()
    problem = file_problem(path, "audio", limits=limits)
    if problem is not None:
        raise RenderError(f"cannot read {path}: {problem}")
    wanted = seconds if seconds is not None else limits.audio_seconds + 1.0
    try:
        wav = layout(path) if path.suffix.lower() == ".wav" else None
        if wav is not None and seconds is None and wav.seconds > limits.audio_seconds:
            raise _too_long(path, limits)
        audio = _read_wav(path, wav, rate, wanted) if wav is not None else _decode_with_ffmpeg(path, rate, wanted)
    except OSError as exc:
        raise RenderError(f"cannot read {path}: {exc.strerror}") from None
    if seconds is None and audio.size > limits.audio_seconds * rate:
        raise _too_long(path, limits)
    return audio


def _read_wav(path: Path, wav: WavLayout, rate: int, seconds: float) -> np.ndarray:
    """The first `seconds` of a WAV file at `rate`: only the frames that makes are read and resampled."""
    return resample(read_frames(path, wav, frames_for(seconds, wav.rate, rate)), wav.rate, rate)[:int(seconds * rate)]


def _too_long(path: Path, limits: FileLimits) -> RenderError:
    return RenderError(f"{path.name} plays longer than the limit of {limits.audio_seconds} seconds "
                       "(MEDITATE_MAX_AUDIO_SECONDS)")


def _decode_with_ffmpeg(path: Path, rate: int, seconds: float) -> np.ndarray:
    import imageio_ffmpeg

    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-nostdin", "-i", str(path), "-t", f"{seconds:.3f}",
               "-f", "f32le", "-ac", "1", "-ar", str(rate), "-"]
    result = subprocess.run(command, capture_output=True)
    if result.returncode != 0:
        raise RenderError(f"cannot read {path}: not an audio file ffmpeg can decode")
    audio = np.frombuffer(result.stdout, dtype="<f4").copy()
    if not np.isfinite(audio).all():  # a float WAV can hold NaN or infinity, whatever its name says
        raise RenderError(f"cannot read {path}: it holds samples that are not numbers (NaN or infinity)")
    return audio


LOOP_CROSSFADE_SECONDS = 2.0


def seamless_loop(audio: np.ndarray, rate: int, crossfade_seconds: float = LOOP_CROSSFADE_SECONDS) -> np.ndarray:
    """A loopable version of a recording: its end is cross-faded (equal power) into its beginning,
    so playing it end to start has no seam."""
    fade = min(int(crossfade_seconds * rate), audio.size // 3)
    if fade < 2:
        return audio
    t = np.linspace(0.0, math.pi / 2, fade, dtype=np.float64)
    head, body, tail = audio[:fade], audio[fade:-fade], audio[-fade:]
    joined = (tail * np.cos(t) + head * np.sin(t)).astype(np.float32)
    return np.concatenate([body, joined])


class LoopedFile:
    """A user's recording played endlessly without a seam."""

    def __init__(self, path: Path, rate: int, seconds: float | None = None):
        # Only as much as the track needs is decoded: a bed longer than the track never loops, so what is
        # cut off would never be heard (the loop's cross-fade takes its seconds from both ends).
        wanted = None if seconds is None else seconds + 2 * LOOP_CROSSFADE_SECONDS + 1.0
        audio = read_audio_file(path, rate, wanted)
        if audio.size == 0:
            raise RenderError(f"{path} holds no audio")
        if audio.size < int(MIN_SOUND_SECONDS * rate):  # looped, a file of a few samples would be a constant or a buzz
            raise RenderError(too_short(Path(path).name))
        self.loop = seamless_loop(audio, rate)
        self.position = 0

    def next(self, length: int) -> np.ndarray:
        """The next `length` samples of the loop."""
        indices = (self.position + np.arange(length)) % self.loop.size
        self.position = (self.position + length) % self.loop.size
        return self.loop[indices]
