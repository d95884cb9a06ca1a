"""Encoding a track in pieces, on every core, with the bundled ffmpeg's LAME, joined frame by frame.

Where a track is cut: a cut is a whole number of MP3 frames from the track's start, so the joined frames are
laid out exactly as a single encoder's would be (same count, same delay: timings do not move). It lies in a
pause of the foreground (no speech, bell or tone within PREROLL of it), so whatever differs at a join is where
nothing but the bed is heard; each piece is encoded with PREROLL samples before its start and POSTROLL after
its end, whose frames are dropped, so the encoder's state at the join is that of a single encoder
(tests/e2e/test_pieces.py compares the joins with a single-piece encode).

Each piece's 16-bit PCM goes to an ffmpeg of its own (in a thread: the thread waits on pipes, so
Python's lock is free for the mixer), with `-reservoir 0`: LAME's bit
reservoir lets a frame borrow bytes from earlier frames, so frames of separately encoded pieces could not
be joined. The frames that belong to the pre-roll and post-roll are dropped. An encoded piece is cached
by what was fed to its encoder (its samples, format, and the encoder's version), so a render whose audio
is the same in a piece reuses it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import threading
from collections import deque
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, cast

import numpy as np

from meditations.files import cache_key
from meditations.model import AudioFormat, MissingComponentError, RenderError

from .frames import frame_header, frame_samples

SEGMENT_SECONDS = 60.0  # about this much audio per piece: ffmpeg starts in ~25 ms, so the cost is small
PREROLL = 4608  # samples before a piece fed to its encoder and dropped (4 frames at 44.1/48 kHz, 8 at 22 kHz)
POSTROLL = 4608  # samples after a piece: LAME looks ahead (its delay is 1105 samples) before it writes a frame


@dataclass(frozen=True)
class Segment:
    """Samples [start, end) of the track, and what its encoder is fed: [feed_start, feed_end)."""

    start: int
    end: int
    feed_start: int
    feed_end: int

    skip: int  # frames of its encoder's output that belong to the previous piece (its pre-roll)


def cut_points(quiet: list[tuple[int, int]], length: int, rate: int,
               segment_seconds: float | None = None) -> list[int]:
    """Frame-aligned cuts, about segment_seconds apart, each inside one of the quiet stretches [a, b)
    with at least PREROLL of quiet on either side. The track's start and end are not included."""
    frame = frame_samples(rate)
    wanted = int((segment_seconds or SEGMENT_SECONDS) * rate)
    cuts: list[int] = []
    last = 0
    for a, b in quiet:
        lo, hi = a + PREROLL, b - PREROLL
        if hi < lo:
            continue
        middle = ((lo + hi) // 2) // frame * frame
        if middle < lo:
            middle += frame
        if middle > hi or middle - last < wanted or length - middle < wanted // 2:
            continue
        cuts.append(middle)
        last = middle
    return cuts


def quiet_stretches(events, length: int) -> list[tuple[int, int]]:
    """The stretches [a, b) of a timeline where no foreground sound plays (the bed may)."""
    stretches, heard_until = [], 0
    for event in sorted((e for e in events if e.audible and e.end > e.start), key=lambda e: e.start):
        if event.start > heard_until:
            stretches.append((heard_until, event.start))
        heard_until = max(heard_until, event.end)
    if heard_until < length:
        stretches.append((heard_until, length))
    return stretches


def segments(cuts: list[int], length: int, rate: int) -> list[Segment]:
    """The pieces between consecutive cuts, with what each encoder is fed."""
    frame = frame_samples(rate)
    bounds = [0, *cuts, length]
    pieces = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        feed_start = max(0, start - PREROLL // frame * frame)
        feed_end = length if end == length else min(length, end + POSTROLL)
        pieces.append(Segment(start, end, feed_start, feed_end, (start - feed_start) // frame))
    return pieces


LAME_QUALITY = 5  # LAME's -q 5: its documented good-speed setting; the benchmark peer uses the same


def ffmpeg_exe() -> str:
    """The ffmpeg binary of the imageio-ffmpeg wheel; MissingComponentError when it is not installed."""
    try:
        import imageio_ffmpeg

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        raise MissingComponentError("the MP3 encoder is missing; install it with: pip install imageio-ffmpeg") \
            from None


def encoder_command(exe: str, audio: AudioFormat) -> list[str]:
    """ffmpeg reading 16-bit PCM on stdin, writing bare MP3 frames (no tag, no Xing frame: the track's own
    gapless header is written by gapless.py) on stdout."""
    return [exe, "-v", "error", "-nostdin", "-f", "s16le", "-ar", str(audio.sample_rate), "-ac",
            str(audio.channels), "-i", "pipe:0", "-c:a", "libmp3lame", "-b:a", f"{audio.bitrate}k",
            "-compression_level", str(LAME_QUALITY), "-reservoir", "0", "-write_xing", "0",
            "-id3v2_version", "0", "-write_id3v1", "0", "-map_metadata", "-1", "-fflags", "+bitexact",
            "-flags:a", "+bitexact", "-f", "mp3", "pipe:1"]


def split_frames(data: bytes) -> list[bytes]:
    """The MP3 frames of bare frame data (what the encoder writes)."""

    frames, position = [], 0
    while position < len(data):
        header = frame_header(data, position)
        if header is None:
            raise RenderError(f"the MP3 encoder wrote something that is not an MP3 frame at byte {position}")
        frames.append(data[position:position + header[0]])
        position += header[0]
    return frames


class Sink(Protocol):
    """Where encoded frames go, in order: a file (or a file that is heard as it is written)."""

    def write(self, data: bytes, /) -> int:
        """Write the bytes; returns how many."""


class PieceEncoder:
    """Encodes the pieces of one track as its PCM arrives, `jobs` at a time, writing them in order."""

    def __init__(self, audio: AudioFormat, pieces: list[Segment], out: Sink, jobs: int | None = None,
                 cache=None):
        self.audio, self.pieces, self.out, self.cache = audio, pieces, out, cache
        self.jobs = max(1, jobs or len(os.sched_getaffinity(0)))
        self.exe = ffmpeg_exe()
        self.frame = frame_samples(audio.sample_rate)
        self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="mp3-piece")
        self._running: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self._queued: deque[Future] = deque()
        self._buffer: list[np.ndarray] = []
        self._buffer_start = 0
        self._fed = 0
        self._next = 0

    def feed(self, pcm: np.ndarray) -> None:
        """The next int16 samples (frames x channels); pieces whose audio is complete start encoding."""
        self._buffer.append(pcm)
        self._fed += pcm.shape[0]
        while self._next < len(self.pieces) and self._fed >= self.pieces[self._next].feed_end:
            self._submit(self.pieces[self._next])
            self._next += 1
        while self._queued and (self._queued[0].done() or len(self._queued) > self.jobs):
            self.out.write(self._queued.popleft().result())

    def finish(self) -> None:
        """Wait for every piece and write the rest, in order."""
        if self._next != len(self.pieces):
            raise RenderError(f"the mix ended at sample {self._fed} before its last piece")
        while self._queued:
            self.out.write(self._queued.popleft().result())
        self._pool.shutdown()

    def stop(self) -> None:
        """Stop every encoder at once (an error or an interruption); nothing more is started."""
        with self._lock:
            self._stopped = True
            for process in self._running:
                if process.poll() is None:
                    process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _submit(self, piece: Segment) -> None:
        whole = np.concatenate(self._buffer) if len(self._buffer) > 1 else self._buffer[0]
        pcm = whole[piece.feed_start - self._buffer_start:piece.feed_end - self._buffer_start]
        following = self._next + 1
        keep_from = self.pieces[following].feed_start if following < len(self.pieces) else self._fed
        self._buffer = [whole[keep_from - self._buffer_start:]]
        self._buffer_start = keep_from
        # The samples' own bytes (no copy): the encoder's thread reads them while the mix goes on.
        data = np.ascontiguousarray(pcm, dtype="<i2").data.cast("B")
        self._queued.append(self._pool.submit(self._encode, piece, data))

    def _encode(self, piece: Segment, pcm: memoryview) -> bytes:
        last = piece.end == self.pieces[-1].end
        count = None if last else (piece.end - piece.start) // self.frame
        key = self._key(piece, pcm, last)
        if key is not None:
            stored = self.cache.get(key)
            if stored is not None:
                return stored
        frames = split_frames(self._run(pcm))
        kept = frames[piece.skip:] if count is None else frames[piece.skip:piece.skip + count]
        if count is not None and len(kept) < count:
            raise RenderError(f"the MP3 encoder made {len(kept)} frames where {count} were needed")
        data = b"".join(kept)
        if key is not None:
            self.cache.put(key, data)
        return data

    def _key(self, piece: Segment, pcm: memoryview, last: bool) -> str | None:
        if self.cache is None:
            return None

        return cache_key("mp3-piece", os.path.basename(self.exe), self.audio.sample_rate, self.audio.channels,
                         self.audio.bitrate, LAME_QUALITY, piece.skip, piece.end - piece.start, last,
                         hashlib.sha256(pcm).hexdigest())

    def _run(self, pcm: memoryview) -> bytes:
        with self._lock:
            if self._stopped:
                raise RenderError("the MP3 encoder was stopped")
            # Its own session: a Ctrl-C at the terminal reaches meditate, which stops it; if meditate dies,
            # it sees the end of its input, and its output pipe is gone: it never writes a file.
            process = subprocess.Popen(encoder_command(self.exe, self.audio), stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
            self._running.add(process)
        try:
            data, said = process.communicate(cast(bytes, pcm))  # it writes any bytes-like object
        finally:
            with self._lock:
                self._running.discard(process)
        if process.returncode != 0:
            if self._stopped:
                raise RenderError("the MP3 encoder was stopped")
            raise RenderError(f"the MP3 encoder failed: {said.decode(errors='replace').strip()}")
        return data


def encode_pieces(encoder: PieceEncoder, blocks: Iterable[np.ndarray]) -> None:
    """Feed all blocks (int16, frames x channels) and finish, stopping every encoder on any error."""
    try:
        for block in blocks:
            encoder.feed(block)
        encoder.finish()
    except BaseException:
        encoder.stop()
        raise
