"""The track as a listener gets it: its MP3 frames decoded by an ffmpeg of their own as they are written, and
what comes out checked against the plan (verify.DecodedCheck) in a thread, a chunk at a time, so a long
track is never held in memory and decoding runs while the rest of the track is still being encoded.

The mix before the encoder is not what is heard: LAME's low-pass removes what lies above its band, so a
recording of a 17 kHz tone is mixed at full loudness and encoded to silence. Every check of loudness and of
sound where the plan speaks therefore runs on the decoded samples. ffmpeg reads the track's gapless header
(gapless.py, written first with the frame count, delay and padding: it hears the header as first written,
which matters to ffmpeg reading a pipe) and removes LAME's delay and padding as a player does: what it
decodes must be exactly the planned samples, each at its planned position. A stereo track is heard as the
mean of its channels (they are the same: the mix is mono).
"""

from __future__ import annotations

import contextlib
import subprocess
import threading

import numpy as np

from meditations.model import AudioFormat

from .pieces import Sink, ffmpeg_exe
from .verify import StreamCheck, TrackProblem

DECODE_CHUNK = 1 << 20  # bytes of decoded samples read at a time (about 6 s of mono 44.1 kHz)


def decoder_command(exe: str) -> list[str]:
    """ffmpeg decoding MP3 data on stdin to 32-bit float samples on stdout, stopping at the first damaged frame."""
    return [exe, "-v", "quiet", "-nostdin", "-xerror", "-f", "mp3", "-i", "pipe:0", "-f", "f32le", "pipe:1"]


class Listener:
    """Hears one track: `feed` it the MP3's bytes in order, then `finish` checks what was decoded (or `stop`)."""

    def __init__(self, audio: AudioFormat, check: StreamCheck):
        self.channels, self.length, self.rate = audio.channels, check.length, check.rate
        self.heard, self.check = 0, check.listener()
        self.failure: BaseException | None = None
        # Its own session, like the encoders: a Ctrl-C reaches meditate, which stops it.
        self.process = subprocess.Popen(decoder_command(ffmpeg_exe()), stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        self.thread = threading.Thread(target=self._hear, name="mp3-listener", daemon=True)
        self.thread.start()

    def feed(self, data: bytes) -> None:
        """The next bytes of the MP3 file."""
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # the decoder stopped at damaged data: finish() says so
            self.process.stdin.write(data)

    def finish(self) -> float:
        """Raise TrackProblem unless the decoded track holds its plan; returns its loudness (LUFS)."""
        assert self.process.stdin is not None
        with contextlib.suppress(BrokenPipeError):
            self.process.stdin.close()
        self.thread.join()
        if self.failure is not None:
            raise self.failure
        if self.process.wait() != 0:
            raise TrackProblem("it does not decode: its MP3 data is damaged")
        if self.heard != self.length:
            raise TrackProblem(f"it decodes to {self.heard / self.rate:.2f} s of audio where the plan has "
                               f"{self.length / self.rate:.2f} s")
        return self.check.finish()

    def stop(self) -> None:
        """End the decoder, whatever state it is in (after finish, or on an error or an interruption)."""
        if self.process.poll() is None:
            self.process.kill()
        self.thread.join()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(BrokenPipeError):
                    pipe.close()

    def _hear(self) -> None:
        assert self.process.stdout is not None
        width = 4 * self.channels
        try:
            while data := self.process.stdout.read(DECODE_CHUNK // width * width):
                samples = np.frombuffer(data[:len(data) // width * width], dtype="<f4")
                if self.channels > 1:
                    samples = samples.reshape(-1, self.channels).mean(axis=1, dtype=np.float32)
                self.heard += samples.size
                self.check.feed(samples)
        except BaseException as exc:  # handed to finish(), in the thread that waits for it
            self.failure = exc
            self.process.kill()  # nothing reads its output any more: feed() must not wait on it


class ListenedFile:
    """A file being written that is heard as it goes: every write reaches the file and the listener."""

    def __init__(self, out: Sink, listener: Listener):
        self.out, self.listener = out, listener

    def write(self, data: bytes) -> int:
        """Write to the file, and decode."""
        written = self.out.write(data)
        self.listener.feed(data)
        return written
