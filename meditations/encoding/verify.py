"""Checks that a track is what its plan says before it is renamed into place.

Three parts, all cheap next to a render:

- `StreamCheck` watches the finished samples on their way to the encoder: every one a finite number,
  exactly the planned count.
- `DecodedCheck` hears the track as a listener gets it, the MP3 decoded (listening.py): loudness (BS.1770,
  K-weighted energy per 100 ms from an FFT of each) within LOUDNESS_TOLERANCE of the target (or of the
  mixer's prediction, when it had to stay under the target), and sound wherever the plan speaks. The mix
  before the encoder is not what is heard: the encoder's low-pass removes what lies above its band (a
  recording of a 17 kHz tone becomes silence).
- `check_mp3` reads the encoded file back: an ID3v2 tag, the gapless header (gapless.py), then MPEG audio
  frames, each with a valid header of the expected format, back to back to the last byte; the header's
  counts and checksums must be the frames', and what it makes a player play (the frames less LAME's delay
  and padding) the plan's length. It returns the SHA-256.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meditations.audio import integrated_loudness, k_weighting_power
from meditations.model import RenderError

from .frames import MAX_FRAME, frame_header, frame_samples
from .gapless import DECODER_DELAY, ENCODER_DELAY, GaplessHeader, crc16, read_info_frame, seek_table

# The finished mix measures within 0.1 LU of the target on the bundled library; a track whose gain the
# mixer had to cap lands between its prediction and the target. 1 LU is about the smallest change of level
# listeners notice: beyond it on either side, the gain or the mix went wrong.
LOUDNESS_TOLERANCE = 1.0
# Where the plan speaks, the finished track must peak above this (-50 dBFS): speech finished to any
# allowed loudness (-36 LUFS at the quietest) peaks near -20 dBFS or above, so this only fails on silence.
SPEECH_FLOOR = 10 ** (-50 / 20)


class TrackProblem(RenderError):
    """A track that is not what its plan says; the message says how (\"it holds no audio\")."""


@dataclass(frozen=True)
class SpeechSpan:
    """Where the plan speaks: samples [start, end) and the script location it comes from."""

    start: int
    end: int
    where: str


class StreamCheck:
    """Checks one track against its plan, in two parts: its samples on their way to the encoder (`feed` and
    `finish`: every one a finite number, exactly the planned count), then the MP3 as a listener gets it,
    decoded (`listener`: its loudness, and sound wherever the plan speaks)."""

    def __init__(self, rate: int, length: int, loudness: tuple[float, float] | None, speech: list[SpeechSpan]):
        """loudness: the target and what the mixer predicted for this track (it may have had to stay
        under the target, see mix.finish.MAX_LIMITING_DB); the track must land within tolerance of either.
        None for a plan with nothing to hear (pauses only): then the track must be silent."""

        self.rate, self.length = rate, length
        finite = [value for value in loudness or () if math.isfinite(value)]
        self.loudness_range = (min(finite) - LOUDNESS_TOLERANCE, max(finite) + LOUDNESS_TOLERANCE) if finite else None
        self.speech = sorted(speech, key=lambda s: s.start)
        self.seen = 0

    def feed(self, block: np.ndarray) -> None:
        """Check the next block of the mix."""
        if not math.isfinite(float(np.add.reduce(block, dtype=np.float64))):  # NaN and inf survive a sum
            raise TrackProblem(f"the mix made samples that are not numbers at {self.seen / self.rate:.2f} s")
        self.seen += block.size

    def finish(self) -> None:
        """Raise TrackProblem unless the mix made exactly the planned number of samples."""
        if self.seen != self.length:
            raise TrackProblem(f"the mix made {self.seen} samples where the plan has {self.length}")

    def listener(self) -> DecodedCheck:
        """A fresh check of the decoded track against this plan."""
        return DecodedCheck(self.rate, self.loudness_range, self.speech)


class DecodedCheck:
    """Checks the decoded track as it is read back, block by block (the track's own samples, from its first:
    the encoder's delay already skipped): loudness (BS.1770, K-weighted energy per 100 ms from an FFT of
    each) within tolerance of the plan, and sound wherever the plan speaks."""

    def __init__(self, rate: int, loudness_range: tuple[float, float] | None, speech: list[SpeechSpan]):
        self.rate, self.loudness_range, self.speech = rate, loudness_range, speech
        # The filter would need scipy.signal, whose import costs a render more than this check does; the FFT
        # agrees with it within 0.01 LU on the bundled tracks.
        self.chunk = 100 * max(1, rate // 1000)
        self.power = k_weighting_power(rate, self.chunk)
        self.energies: list[np.ndarray] = []
        self.rest = np.zeros(0, dtype=np.float32)
        self.seen = 0
        self.peaks = [0.0] * len(self.speech)
        self.first = 0  # spans before this one ended in an earlier block

    def feed(self, block: np.ndarray) -> None:
        """Measure the next block of decoded samples."""
        start, self.seen = self.seen, self.seen + block.size
        samples = np.concatenate([self.rest, block]) if self.rest.size else block
        whole = samples.size // self.chunk * self.chunk
        if whole:
            spectrum = np.fft.rfft(samples[:whole].reshape(-1, self.chunk), axis=1)
            self.energies.append((spectrum.real ** 2 + spectrum.imag ** 2) @ self.power)
        self.rest = samples[whole:].astype(np.float32, copy=True)
        while self.first < len(self.speech) and self.speech[self.first].end <= start:
            self.first += 1
        for index in range(self.first, len(self.speech)):
            span = self.speech[index]
            if span.start >= self.seen:
                break
            piece = block[max(span.start, start) - start:min(span.end, self.seen) - start]
            if piece.size:
                self.peaks[index] = max(self.peaks[index], float(piece.max()), -float(piece.min()))

    def finish(self) -> float:
        """Raise TrackProblem unless the track sounds as planned; returns its loudness (LUFS)."""
        for span, peak in zip(self.speech, self.peaks, strict=False):
            if span.end > span.start and peak < SPEECH_FLOOR:
                raise TrackProblem(f"it is silent where {span.where} speaks")
        loudness = self.loudness()
        if self.loudness_range is None:
            if math.isfinite(loudness):
                raise TrackProblem(f"it measures {loudness:.1f} LUFS where the plan is silent")
            return loudness
        if not math.isfinite(loudness):
            raise TrackProblem("it is silent")
        low, high = self.loudness_range
        if not low <= loudness <= high:
            planned = sorted({f"{low + LOUDNESS_TOLERANCE:.1f}", f"{high - LOUDNESS_TOLERANCE:.1f}"}, key=float)
            raise TrackProblem(f"it measures {loudness:.1f} LUFS where {' to '.join(planned)} LUFS was planned")
        return loudness

    def loudness(self) -> float:
        """The integrated loudness of what was fed (LUFS; -inf for silence)."""
        energies = list(self.energies)
        if self.rest.size:  # the last, shorter piece: zero-padded, its energy over its own samples
            spectrum = np.fft.rfft(self.rest, n=self.chunk)
            energies.append(np.array([(spectrum.real ** 2 + spectrum.imag ** 2) @ self.power
                                      * self.chunk / self.rest.size]))
        energy = np.repeat(np.concatenate(energies), 10) if energies else np.zeros(0)
        return integrated_loudness(energy) if energy.size else -math.inf


def speech_spans(timeline) -> list[SpeechSpan]:
    """The spans of a timeline where something is spoken (synthesized or recorded)."""
    return [SpeechSpan(e.start, e.end, str(e.location) if e.location else f"'{e.text[:40]}'")
            for e in timeline.events if e.kind == "speech" and e.audible and e.end > e.start]


@dataclass(frozen=True)
class Mp3Facts:
    """What reading an MP3 back found."""

    frames: int  # audio frames (the gapless header's frame not counted)
    seconds: float  # the audio a player plays: the frames' less the delay and padding the header gives
    sha256: str


READ_CHUNK = 1 << 20  # check_mp3 reads a track a megabyte at a time: memory does not grow with its length


class _ForwardReader:
    """A file read once from start to end, a chunk at a time, hashing every byte it reads (and, once told
    where the audio frames start, checksumming those as the gapless header does); it hands out the bytes
    from an ever-increasing position on."""

    def __init__(self, handle):
        self.handle, self.data, self.base, self.at_end = handle, b"", 0, False
        self.digest = hashlib.sha256()
        self.audio_crc: int | None = None  # CRC-16 of the bytes from the audio frames' start to what was read

    def window(self, position: int, need: int) -> tuple[bytes, int]:
        """(bytes, offset of `position` in them), at least `need` bytes from it unless the file ends first."""
        while position - self.base + need > len(self.data) and not self.at_end:
            offset = position - self.base
            keep = self.data[offset:]  # empty when position lies past what was read
            skipped = max(0, offset - len(self.data))
            size = max(READ_CHUNK, skipped + need)
            more = self._read(size)
            self.at_end = len(more) < size
            self.base, self.data = position, keep + more[skipped:]
        return self.data, position - self.base

    def checksum_from(self, position: int) -> None:
        """Start the audio's CRC at `position`, which lies in the bytes last handed out."""
        self.audio_crc = crc16(self.data[position - self.base:])

    def sha256(self) -> str:
        """The SHA-256 of the whole file (the rest is read if the caller stopped early)."""
        while not self.at_end:
            self.at_end = not self._read(READ_CHUNK)
        return self.digest.hexdigest()

    def _read(self, size: int) -> bytes:
        more = self.handle.read(size)
        self.digest.update(more)
        if self.audio_crc is not None:
            self.audio_crc = crc16(more, self.audio_crc)
        return more


def check_mp3(path: Path, seconds: float, channels: int | None = None, bitrate: int | None = None) -> Mp3Facts:
    """Read an MP3 back: an ID3v2 tag, a gapless header, then valid frames to the last byte, as many as the
    header says, holding `seconds` of audio once the header's delay and padding are removed. Raises
    TrackProblem saying what is wrong; returns the frame count, the audio's length and the SHA-256.
    The file is read in chunks, never whole."""
    try:
        with open(path, "rb") as handle:
            return _check_frames(_ForwardReader(handle), seconds, channels, bitrate)
    except OSError as exc:
        raise TrackProblem(f"it cannot be read back ({exc.strerror})") from None


def _check_frames(reader: _ForwardReader, seconds: float, channels: int | None, bitrate: int | None) -> Mp3Facts:
    data, offset = reader.window(0, 10)
    start = position = _skip_id3(data[offset:offset + 10])
    frames, rate, expected, gapless = 0, 0, (0, channels, bitrate), None
    while True:
        data, offset = reader.window(position, MAX_FRAME)
        if offset >= len(data):
            break
        header = frame_header(data, offset)
        if header is None:
            raise TrackProblem(f"it is damaged: no MP3 frame at byte {position}")
        size, _, frame_rate, frame_channels, frame_bitrate = header
        if offset + size > len(data):
            raise TrackProblem("it is damaged: its last MP3 frame is cut short")
        if gapless is None:  # the first frame: the gapless header, at the track's rate but a bitrate of its own
            gapless = _gapless_header(data[offset:offset + size])
            expected = (frame_rate, channels or frame_channels, bitrate)
            if frame_channels != expected[1]:
                raise TrackProblem("it is damaged: MP3 frame 1 is not in the track's format")
            reader.checksum_from(position + size)
        else:
            expected = (*expected[:2], expected[2] or frame_bitrate)
            if (frame_rate, frame_channels, frame_bitrate) != expected:
                raise TrackProblem(f"it is damaged: MP3 frame {frames + 2} is not in the track's format")
            frames += 1
        rate, position = frame_rate, position + size
    if frames == 0:
        raise TrackProblem("it holds no audio")
    assert gapless is not None and reader.audio_crc is not None
    plays = _check_gapless(gapless, frames, position - start, reader.audio_crc, rate, seconds)
    return Mp3Facts(frames, plays / rate, reader.sha256())


def _gapless_header(frame: bytes) -> GaplessHeader:
    """The track's gapless header, read from its first frame; TrackProblem when it has none or it is damaged."""
    gapless = read_info_frame(frame)
    if gapless is None:
        raise TrackProblem("it has no gapless header (a LAME Info frame): players would start it late")
    if not gapless.intact:
        raise TrackProblem("it is damaged: its gapless header fails its checksum")
    return gapless


def _check_gapless(gapless: GaplessHeader, frames: int, stream_bytes: int, audio_crc: int, rate: int,
                   seconds: float) -> int:
    """Raise TrackProblem unless the gapless header describes the frames that follow it and the plan's
    length; returns the samples a player plays."""
    if gapless.frames != frames:
        raise TrackProblem(f"its gapless header counts {gapless.frames} MP3 frames where it holds {frames}")
    for counted in (gapless.stream_bytes, gapless.music_bytes):  # the Xing header's count, then LAME's
        if counted != stream_bytes:
            raise TrackProblem(f"its gapless header counts {counted} bytes where it holds {stream_bytes}")
    if gapless.audio_crc != audio_crc:
        raise TrackProblem("it is damaged: its MP3 frames fail their checksum in its gapless header")
    if gapless.table != seek_table(frames):
        raise TrackProblem("its gapless header's seek table does not match its frames")
    if gapless.delay != ENCODER_DELAY:
        raise TrackProblem(f"its gapless header skips {gapless.delay} samples where the encoder's delay is "
                           f"{ENCODER_DELAY}")
    # The decoder's own delay (at the end too) must lie inside the frames, or a player plays less.
    plays = frames * frame_samples(rate) - ENCODER_DELAY - max(gapless.padding, DECODER_DELAY)
    if abs(plays - seconds * rate) > rate / 1000:  # a manifest's durations are rounded to the millisecond
        raise TrackProblem(f"it holds {plays / rate:.2f} s of audio where the plan has {seconds:.2f} s")
    return plays


def track_frames(data: bytes) -> list[bytes]:
    """The MP3 frames of a whole track file (after its ID3 tag; the gapless header frame among them), up to
    the first bytes that are not a frame."""
    frames, position = [], _skip_id3(data)
    while position < len(data) and (header := frame_header(data, position)) is not None:
        frames.append(data[position:position + header[0]])
        position += header[0]
    return frames


def _skip_id3(data: bytes) -> int:
    if data[:3] != b"ID3" or len(data) < 10:
        return 0
    size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
    return 10 + size + (10 if data[5] & 0x10 else 0)  # a footer follows when the flag says so


CHANGED_OUTSIDE = "its track was changed outside meditate"


def placed_track_problem(path: Path, entry: dict, sha, thorough: bool = False) -> str:
    """Why the track at `path` is not the one its manifest entry records ("" when it is).

    `sha(path)` gives the file's SHA-256 (a build's stat cache reads it again only when the size or time
    changed; --verify always reads it). Thorough: the MP3's frames are checked against the duration too."""
    try:
        size = path.stat().st_size
    except OSError:
        return "its track is missing"
    recorded = entry.get("sha256")
    if recorded is None:  # recorded by an older meditate, before tracks were hashed: compare the size
        if size != entry.get("size"):
            return CHANGED_OUTSIDE
    elif sha(path) != recorded:
        return CHANGED_OUTSIDE
    if thorough:
        try:
            check_mp3(path, float(entry.get("duration", 0)))
        except TrackProblem as problem:
            return f"its track failed its check: {problem}"
    return ""
