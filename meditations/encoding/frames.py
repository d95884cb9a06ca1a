"""MPEG audio Layer III frames: the four-byte header that starts each, read (verify.py walks a track's
frames, pieces.py splits an encoder's output) and made (gapless.py writes the Info frame).

A frame holds 1152 samples in MPEG-1 (32, 44.1 and 48 kHz) and 576 in MPEG-2 (16 to 24 kHz) and MPEG-2.5
(8 to 12 kHz); its size in bytes follows from its bitrate and sample rate, plus a padding byte when its
header says so.
"""

from __future__ import annotations

from meditations.model import MPEG1_BITRATES, MPEG2_BITRATES

# kbit/s by bitrate index and version bits: MPEG-1, then MPEG-2 and 2.5 (index 0 is "free format", 15 invalid)
BITRATES = {3: (0, *MPEG1_BITRATES), 2: (0, *MPEG2_BITRATES)}
RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # Hz by version bits
MAX_FRAME = 2881  # the largest Layer III frame: 1152 samples at 320 kbit/s and 32 kHz, padded


def frame_samples(rate: int) -> int:
    """Samples per MP3 frame at a sample rate: MPEG-1 above 32 kHz, else MPEG-2/2.5."""
    return 1152 if rate >= 32000 else 576


def version_bits(rate: int) -> int:
    """The header's version bits for a sample rate: 3 for MPEG-1, 2 for MPEG-2, 0 for MPEG-2.5."""
    return next(bits for bits, rates in RATES.items() if rate in rates)


def frame_size(rate: int, kbits: int, padded: bool = False) -> int:
    """The size in bytes of a Layer III frame at this sample rate and bitrate."""
    return frame_samples(rate) // 8 * kbits * 1000 // rate + int(padded)


def side_info_size(rate: int, channels: int) -> int:
    """Bytes of side information after a frame's header (no CRC): MPEG-1 mono 17, stereo 32; MPEG-2 and
    2.5 mono 9, stereo 17."""
    if frame_samples(rate) == 1152:
        return 17 if channels == 1 else 32
    return 9 if channels == 1 else 17


def make_header(rate: int, channels: int, kbits: int) -> bytes:
    """The header of an unpadded Layer III frame without CRC: mono, or joint stereo (as LAME writes
    stereo) for two channels."""
    version = version_bits(rate)
    word = (0x7FF << 21 | version << 19 | 1 << 17 | 1 << 16 | BITRATES[3 if version == 3 else 2].index(kbits) << 12
            | RATES[version].index(rate) << 10 | (3 if channels == 1 else 1) << 6)
    return word.to_bytes(4, "big")


def frame_header(data: bytes, position: int):
    """(size in bytes, samples, rate, channels, kbit/s) of the Layer III frame at position, or None."""
    if position + 4 > len(data):
        return None
    word = int.from_bytes(data[position:position + 4], "big")
    version, layer = (word >> 19) & 3, (word >> 17) & 3
    rate_index, bitrate_index = (word >> 10) & 3, (word >> 12) & 15
    if word >> 21 != 0x7FF or version == 1 or layer != 1 or rate_index == 3 or bitrate_index in (0, 15):
        return None
    kbits = BITRATES[3 if version == 3 else 2][bitrate_index]
    rate = RATES[version][rate_index]
    channels = 1 if (word >> 6) & 3 == 3 else 2
    return frame_size(rate, kbits, bool((word >> 9) & 1)), frame_samples(rate), rate, channels, kbits
