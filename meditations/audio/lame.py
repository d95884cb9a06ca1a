"""What the MP3 encoder (LAME 3.100, in the bundled ffmpeg) keeps of a track: the band below its low-pass, and
its level.

A listener hears the decoded MP3, not the mix: LAME removes everything above a low-pass that depends on the
bitrate, the channels and the sample rate (a recording of a 17 kHz tone is encoded to silence at 64 kbit/s
mono, whose band ends at 16.5 kHz), and it scales its input down a little at most bitrates. The mixer sets
the track's level on what this band keeps and aims past the scale; the checks measure the decoded track
(encoding/listening.py); a recording with nothing audible in the band is refused when the script is checked.

LAME's low-pass for a constant bitrate is its table by total bitrate (lame.c, optimum_bandwidth), half as
wide again for mono, and never above what the sample rate lets it keep (measured with the bundled encoder,
like its scale; tests/e2e/test_hostile_audio.py checks both against it). One exception: at 8 kbit/s in
stereo at 22,050 or 24,000 Hz the encoder runs out of bits and keeps less than its band; the checks of the
decoded track still find a track that misses its plan.
"""

from __future__ import annotations

from meditations.model import AudioFormat

_LOWPASS_HZ = {8: 2000, 16: 3700, 24: 3900, 32: 5500, 40: 7000, 48: 7500, 56: 10000, 64: 11000, 80: 13500,
               96: 15100, 112: 15600, 128: 17000, 160: 17500, 192: 18600, 224: 19400, 256: 19700, 320: 20500}
_HIGHEST_KEPT_HZ = {8000: 3900, 11025: 5000, 12000: 5450, 16000: 7250, 22050: 10000, 24000: 11300, 32000: 15250,
                    44100: 20100, 48000: 20400}
# LAME scales its input by this much below 192 kbit/s (and 0.97, 0.98 at 192, 224): its presets' "scale".
_SCALE = {192: 0.97, 224: 0.98, 256: 1.0, 320: 1.0}
LOW_BITRATE_SCALE = 0.95


def encoder_band_hz(audio: AudioFormat) -> float:
    """The highest frequency the MP3 encoder keeps at this format (Hz)."""
    table = sorted(_LOWPASS_HZ)
    nearest = min(table, key=lambda kbits: (abs(kbits - audio.bitrate), -kbits))  # a tie goes up, as in LAME
    band = _LOWPASS_HZ[nearest] * (1.5 if audio.channels == 1 else 1.0)
    return min(band, _HIGHEST_KEPT_HZ.get(audio.sample_rate, audio.sample_rate * 0.45))


def encoder_scale(audio: AudioFormat) -> float:
    """The factor the MP3 encoder scales the samples by at this format's bitrate."""
    return _SCALE.get(audio.bitrate, LOW_BITRATE_SCALE)
