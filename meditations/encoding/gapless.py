"""The gapless header: a LAME "Info" frame, written as a track's first MP3 frame, that tells a player how
many samples the encoder added before the track's first sample and after its last, so that the track plays
exactly its planned samples and every sound lands on its planned sample. ffmpeg and mutagen read it
(tests/e2e/test_gapless.py), as do the players of browsers, Apple and Android.

LAME delays the audio by 576 samples and pads the end to whole frames; an MP3 decoder adds 529 samples of
its own at both ends, which a decoder that reads the header removes too (the LAME convention). Without the
header every sound is heard 1105 samples late (25 ms at 44.1 kHz) and the track runs up to 52 ms long.

Its layout, from the public descriptions of the Xing header and of LAME's "Mp3 Info Tag rev 1": a frame of
the track's format whose side information is zero (a decoder that does not know it plays one frame of
silence), then, where the side information ends:

- "Info" (the Xing header's name for a constant bitrate) and flags saying the four fields follow: the audio
  frames' count (the Info frame not counted), the stream's bytes (the Info frame counted, the ID3 tag not),
  a table of 100 positions, one per 1 % of the duration, in 256ths of the audio frames, and a quality figure;
- LAME's 36 bytes: the encoder's name and version, the tag's revision (0) and bitrate method (1: constant),
  fields left zero for what meditate does not record (low-pass, peak, replay gains, encoder flags), the
  bitrate, the encoder's delay and the end's padding (12 bits each), the source rate and stereo mode, the
  stream's bytes again, a CRC-16 of the audio frames, and a CRC-16 of the frame up to that point.

The whole header must fit in one frame: at low bitrates the track's frames are too small, and the Info
frame takes the lowest bitrate at which it fits (as LAME's own VBR header does). The frame count, delay and
padding are known before the first frame is encoded (`encoded_frames`), so the header is written first,
with them, and the decoder that hears the track as it is written (listening.py) trims it as a player will;
the byte counts and the audio's CRC are filled in when the last frame is written. (ffmpeg reading a pipe
removes the end's padding only while the byte count is 0, as it is then; reading a file, it always does.)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from meditations.model import AudioFormat

from .frames import BITRATES, frame_header, frame_samples, frame_size, make_header, side_info_size
from .pieces import LAME_QUALITY, Sink

ENCODER_DELAY = 576  # samples LAME 3.100 puts before the track's first (its header field)
DECODER_DELAY = 529  # samples every MP3 decoder adds at both ends: readers of the header remove them too
ENCODER_TAIL = 576  # LAME encodes at least this much past the last sample (measured at every format)
ENCODER = b"LAME3.100"  # the encoder in the bundled ffmpeg; ffmpeg and mutagen read the delay after "LAME"

# What a track's file holds besides its audio: part of every track's fingerprint, so a build after a change
# here rebuilds the tracks written before it (1: frames alone; 2: a gapless header first).
TRACK_LAYOUT = 2

XING_FIELDS = 120  # "Info", flags, frames, bytes, the 100-byte table, quality
LAME_FIELDS = 36
TAG_CRC_AT = XING_FIELDS + LAME_FIELDS - 2  # the tag's own CRC covers the frame from its first byte to here


def encoded_frames(length: int, rate: int) -> int:
    """The frames LAME makes of `length` samples: its delay, the samples, and its tail, in whole frames
    (check_mp3 holds the header's count to the frames the encoder wrote)."""
    return -(-(length + ENCODER_DELAY + ENCODER_TAIL) // frame_samples(rate))


def end_padding(length: int, rate: int) -> int:
    """The samples of silence after the track's last sample, in the frames LAME makes of it."""
    return encoded_frames(length, rate) * frame_samples(rate) - ENCODER_DELAY - length


def info_bitrate(audio: AudioFormat) -> int:
    """The Info frame's bitrate: the track's own when the header fits a frame at it, else the lowest that fits."""
    needed = 4 + side_info_size(audio.sample_rate, audio.channels) + XING_FIELDS + LAME_FIELDS
    table = BITRATES[3 if frame_samples(audio.sample_rate) == 1152 else 2]
    return next(kbits for kbits in table[1:]
                if kbits >= audio.bitrate and frame_size(audio.sample_rate, kbits) >= needed)


@dataclass(frozen=True)
class InfoFrame:
    """What the gapless header of a track says."""

    audio: AudioFormat
    frames: int  # audio frames after the Info frame
    padding: int  # samples after the track's last, in those frames
    stream_bytes: int = 0  # the Info frame and the audio frames; 0 until the last frame is written
    audio_crc: int = 0  # CRC-16 of the audio frames' bytes

    def encode(self) -> bytes:
        """The frame's bytes."""
        rate, kbits = self.audio.sample_rate, info_bitrate(self.audio)
        frame = bytearray(frame_size(rate, kbits))
        frame[:4] = make_header(rate, self.audio.channels, kbits)
        at = 4 + side_info_size(rate, self.audio.channels)
        table = seek_table(self.frames)
        frame[at:at + XING_FIELDS] = b"".join([
            b"Info", (0xF).to_bytes(4, "big"), self.frames.to_bytes(4, "big"),
            self.stream_bytes.to_bytes(4, "big"), bytes(table),
            (100 - LAME_QUALITY).to_bytes(4, "big")])  # LAME's figure: 100 - 10 x its VBR quality (none) - q
        lame = at + XING_FIELDS
        frame[lame:lame + 9] = ENCODER
        frame[lame + 9] = 0x01  # revision 0, constant bitrate
        frame[lame + 20] = min(self.audio.bitrate, 255)
        frame[lame + 21:lame + 24] = (ENCODER_DELAY << 12 | self.padding).to_bytes(3, "big")
        frame[lame + 24] = source_rate_code(rate) << 6 | (0 if self.audio.channels == 1 else 3) << 2
        frame[lame + 28:lame + 32] = self.stream_bytes.to_bytes(4, "big")
        frame[lame + 32:lame + 34] = self.audio_crc.to_bytes(2, "big")
        frame[at + TAG_CRC_AT:at + TAG_CRC_AT + 2] = crc16(bytes(frame[:at + TAG_CRC_AT])).to_bytes(2, "big")
        return bytes(frame)


def source_rate_code(rate: int) -> int:
    """LAME's two bits for the source's sample rate: 32 kHz or less, 44.1 kHz, 48 kHz, more."""
    return 0 if rate <= 32000 else 1 if rate == 44100 else 2 if rate == 48000 else 3


def seek_table(frames: int) -> list[int]:
    """The Xing table: for each 1 % of the duration, where its frame starts among the audio frames, in 256ths
    (LAME's reckoning). At a constant bitrate the frames are evenly spaced, so their count is enough."""
    return [256 * (percent * frames // 100) // frames if frames else 0 for percent in range(100)]


@dataclass(frozen=True)
class GaplessHeader:
    """A gapless header as read from a file."""

    frames: int
    stream_bytes: int
    table: list[int]
    delay: int
    padding: int
    music_bytes: int  # LAME's own count of the stream's bytes
    audio_crc: int
    intact: bool  # its own CRC matches


def read_info_frame(frame: bytes) -> GaplessHeader | None:
    """The gapless header in an MP3 frame, or None when the frame holds none (an audio frame, or a
    Xing header without LAME's extension or some of its fields)."""
    header = frame_header(frame, 0)
    if header is None:
        return None
    at = 4 + side_info_size(header[2], header[3])
    lame = at + XING_FIELDS
    if len(frame) < lame + LAME_FIELDS or frame[at:at + 4] not in (b"Info", b"Xing") \
            or int.from_bytes(frame[at + 4:at + 8], "big") & 0xF != 0xF or frame[lame:lame + 4] != b"LAME":
        return None
    gaps = int.from_bytes(frame[lame + 21:lame + 24], "big")
    return GaplessHeader(
        frames=int.from_bytes(frame[at + 8:at + 12], "big"),
        stream_bytes=int.from_bytes(frame[at + 12:at + 16], "big"), table=list(frame[at + 16:at + 116]),
        delay=gaps >> 12, padding=gaps & 0xFFF, music_bytes=int.from_bytes(frame[lame + 28:lame + 32], "big"),
        audio_crc=int.from_bytes(frame[lame + 32:lame + 34], "big"),
        intact=crc16(frame[:at + TAG_CRC_AT]) == int.from_bytes(frame[at + TAG_CRC_AT:at + TAG_CRC_AT + 2], "big"))


class GaplessStream:
    """A track's MP3 frames on their way to its file: the Info frame first, with the frame count, delay and
    padding its planned length gives, then the audio frames, counted and checksummed as they pass.
    `complete()` is the Info frame with everything filled in, to be written over the first."""

    def __init__(self, out: Sink, audio: AudioFormat, length: int):
        self.out = out
        self.header = InfoFrame(audio, encoded_frames(length, audio.sample_rate),
                                end_padding(length, audio.sample_rate))
        first = self.header.encode()
        out.write(first)
        self.written, self.audio_crc = len(first), 0

    def write(self, data: bytes) -> int:
        """Write audio frames."""
        self.audio_crc = crc16(data, self.audio_crc)
        self.written += len(data)
        return self.out.write(data)

    def complete(self) -> bytes:
        """The Info frame as it must be once every frame is written."""
        return replace(self.header, stream_bytes=self.written, audio_crc=self.audio_crc).encode()


# ------------------------------------------------------------------------------------------------ CRC-16

CRC_ROW = 1024  # bytes: a long run of bytes is checksummed as rows of this length, all rows at once


@functools.cache
def _crc_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The byte table of CRC-16/ARC (polynomial 0x8005, bit-reversed: 0xA001), and what CRC_ROW zero bytes do
    to a CRC's low and high byte (a CRC is linear: the two parts' results combine by XOR)."""
    table = np.arange(256, dtype=np.uint16)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ 0xA001, table >> 1).astype(np.uint16)
    low, high = np.arange(256, dtype=np.uint16), np.arange(256, dtype=np.uint16) << 8
    for _ in range(CRC_ROW):
        low, high = table[low & 0xFF] ^ (low >> 8), table[high & 0xFF] ^ (high >> 8)
    return table, low, high


def crc16(data: bytes | memoryview, crc: int = 0) -> int:
    """CRC-16/ARC, the LAME tag's checksum, of `data` continued from `crc` (0 for the first bytes).

    The bytes before the last whole rows go one at a time; the rows are checksummed side by side from 0
    (numpy, one step per column), then joined: a row's CRC after what came before is what came before run
    through CRC_ROW zero bytes, XOR the row's own."""
    table, low, high = _crc_tables()
    view = np.frombuffer(data, dtype=np.uint8)
    head = view.size % CRC_ROW
    lookup = table.tolist()
    for byte in view[:head].tolist():
        crc = lookup[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    rows = view[head:].reshape(-1, CRC_ROW)
    if rows.shape[0]:
        row_crcs = np.zeros(rows.shape[0], dtype=np.uint16)
        for column in rows.T:
            row_crcs = table[(row_crcs ^ column) & 0xFF] ^ (row_crcs >> 8)
        low_table, high_table = low.tolist(), high.tolist()
        for row_crc in row_crcs.tolist():
            crc = low_table[crc & 0xFF] ^ high_table[crc >> 8] ^ row_crc
    return crc
