"""WAV files, read by meditate itself: the header first, checked before a single sample is read, then only the
frames that are needed, as mono float32 at the file's own rate.

A header can say anything. One that claims 1 Hz makes a few megabytes of samples play for weeks, and
resampling them to the track's rate would fill the memory; one that claims 0 channels or 0 Hz has no length
at all; one that claims 4 GHz would make the resampler's filter gigabytes long. So the frames, rate and
channels are checked first, and the caller compares frames / rate with its duration limit before reading.

Integer PCM (8, 16, 24 or 32 bits) and IEEE float (32 or 64 bits) are read here, plain or in the extensible
format; any other codec inside a WAV (A-law, ADPCM...) is left to ffmpeg (`layout` returns None).
"""

from __future__ import annotations

import math
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meditations.model import RenderError

MAX_RATE = 384_000  # Hz: the highest rate recorders offer; the resampler's filter grows with the rate
MAX_CHUNKS = 64  # chunks before "data" (a real file has a handful: fmt, LIST, bext, fact...)
READ_FRAMES = 1 << 20  # frames converted at a time: a long file is never held twice, as bytes and as floats
PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
WIDTHS = {PCM: (1, 2, 3, 4), FLOAT: (4, 8)}


@dataclass(frozen=True)
class WavLayout:
    """Where a WAV file's samples are and what they are."""

    codec: int  # PCM or FLOAT
    channels: int
    rate: int
    width: int  # bytes per sample
    data_offset: int
    frames: int

    @property
    def seconds(self) -> float:
        """How long the file plays, by its header and its actual size."""
        return self.frames / self.rate


def layout(path: Path) -> WavLayout | None:
    """What a WAV file's header says, checked: RenderError for a header meditate cannot use (no channels, a
    rate outside 1 to MAX_RATE Hz, no fmt or data chunk); None for a codec ffmpeg has to decode."""
    with _open_regular(path) as handle:
        size = handle.seek(0, 2)
        handle.seek(0)
        head = handle.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            raise _not_wav(path)
        fmt, (data_offset, data_size) = _chunks(handle, size, path)
    codec, channels, rate, bits = fmt
    if channels == 0:
        raise RenderError(f"cannot read {path}: its WAV header says it has no channels")
    if not 1 <= rate <= MAX_RATE:
        raise RenderError(f"cannot read {path}: its WAV header says it plays at {rate} Hz, where meditate reads "
                          f"1 to {MAX_RATE} Hz")
    if codec not in WIDTHS:
        return None
    width = bits // 8
    if bits % 8 or width not in WIDTHS[codec]:
        raise _not_wav(path)
    available = size - data_offset
    stored = available if data_size == 0xFFFFFFFF else min(data_size, available)  # streamed files say "unknown"
    return WavLayout(codec, channels, rate, width, data_offset, stored // (channels * width))


def _chunks(handle, size: int, path: Path) -> tuple[tuple[int, int, int, int], tuple[int, int]]:
    """The fmt chunk's (codec, channels, rate, bits) and the data chunk's (offset, declared size)."""
    fmt = None
    position = 12
    for _ in range(MAX_CHUNKS):
        handle.seek(position)
        header = handle.read(8)
        if len(header) < 8:
            break
        name, length = header[:4], struct.unpack("<I", header[4:])[0]
        if name == b"data":
            if fmt is None:
                break
            return fmt, (position + 8, length)
        if name == b"fmt ":
            body = handle.read(min(length, 40))
            if len(body) < 16:
                break
            codec, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if codec == EXTENSIBLE and len(body) >= 26:
                codec = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID starts with the codec
            fmt = (codec, channels, rate, bits)
        position += 8 + length + (length & 1)  # chunks are padded to an even size
        if position >= size:
            break
    raise _not_wav(path)


def _open_regular(path: Path):
    """The file opened for reading without ever waiting (a FIFO swapped in after its check is refused)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise RenderError(f"cannot read {path}: it is not a regular file")
    return os.fdopen(fd, "rb")


def _not_wav(path: Path) -> RenderError:
    return RenderError(f"cannot read {path}: not a WAV file meditate can decode")


def read_frames(path: Path, wav: WavLayout, frames: int) -> np.ndarray:
    """The first `frames` frames of the file (at most all it holds), mixed to mono float32 in [-1, 1]."""
    frames = min(frames, wav.frames)
    out = np.empty(frames, dtype=np.float32)
    block = wav.channels * wav.width
    with _open_regular(path) as handle:
        handle.seek(wav.data_offset)
        for start in range(0, frames, READ_FRAMES):
            count = min(READ_FRAMES, frames - start)
            data = handle.read(count * block)
            if len(data) < count * block:
                raise RenderError(f"cannot read {path}: it is shorter than its header says (it changed while read)")
            samples = _samples(data, wav)
            out[start:start + count] = samples.reshape(count, wav.channels).mean(axis=1, dtype=np.float64)
    if wav.codec == FLOAT and not np.isfinite(out).all():
        raise RenderError(f"cannot read {path}: it holds samples that are not numbers (NaN or infinity)")
    return out


def _samples(data: bytes, wav: WavLayout) -> np.ndarray:
    """Raw little-endian samples as float64 in [-1, 1]."""
    if wav.codec == FLOAT:
        return np.frombuffer(data, dtype="<f4" if wav.width == 4 else "<f8").astype(np.float64)
    if wav.width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(data, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if wav.width == 3:
        triples = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        return np.where(values >= 1 << 23, values - (1 << 24), values) / float(1 << 23)
    kind = "<i2" if wav.width == 2 else "<i4"
    return np.frombuffer(data, dtype=kind).astype(np.float64) / float(1 << (8 * wav.width - 1))


def frames_for(seconds: float, source_rate: int, target_rate: int) -> int:
    """How many frames at source_rate make `seconds` at target_rate once resampled, with the frames the
    resampler's filter looks at past the last one (audio/resampling.py: 10 zero crossings of the lower rate),
    so cutting the source there changes none of the samples kept."""
    return math.ceil(seconds * source_rate) + math.ceil(10 * max(1.0, source_rate / target_rate)) + 2
