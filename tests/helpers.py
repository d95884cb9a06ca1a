"""Functions tests import (`from helpers import ...`; pyproject.toml puts tests/ on the path): where the
checkout is, a command run on a terminal, and reading audio back with the bundled ffmpeg."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def on_a_terminal(command: list[str], timeout: float = 120) -> str:
    """What a command writes (stdout and stderr) when they are a terminal, as the terminal received it."""
    import os
    import pty

    main_end, child_end = pty.openpty()
    process = subprocess.Popen(command, stdin=child_end, stdout=child_end, stderr=child_end)
    os.close(child_end)
    seen = b""
    while True:
        try:
            chunk = os.read(main_end, 4096)
        except OSError:  # the command ended: its end of the terminal is closed
            break
        if not chunk:
            break
        seen += chunk
    os.close(main_end)
    process.wait(timeout=timeout)
    return seen.decode(errors="replace")


def ffmpeg() -> str:
    """The ffmpeg binary from the imageio-ffmpeg wheel."""
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def decode(path: Path, rate: int = 44100) -> np.ndarray:
    """An audio file decoded by ffmpeg to mono float32 samples at `rate`."""
    raw = subprocess.run([ffmpeg(), "-v", "error", "-i", str(path), "-f", "f32le", "-ac", "1", "-ar", str(rate),
                          "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype="<f4")


def ffmpeg_duration(path: Path) -> float:
    """The duration ffmpeg's demuxer reports for a file (the same estimate ffprobe prints)."""
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    hours, minutes, seconds = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info).groups()
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def write_wav(path, seconds, amplitude, rate=44100):
    """A WAV recording: half a second of silence, a warbling 180 Hz tone, half a second of silence."""
    t = np.arange(int(seconds * rate)) / rate
    tone = amplitude * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) / 1.5
    audio = np.concatenate([np.zeros(rate // 2), tone, np.zeros(rate // 2)])
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes((audio * 32767).astype("<i2").tobytes())


def as_written(path: Path) -> bytes:
    """A track of meditate's as its render's listener hears it (encoding/listening.py): its MP3 frames as the
    encoder wrote them, without the ID3 tag added later, and the gapless header as first written, before its
    byte counts and its audio's checksum were filled in. (ffmpeg reading a pipe removes a track's end padding
    only while the header's byte count is unknown; from a file it always does.)"""
    from meditations.encoding.frames import frame_header
    from meditations.encoding.gapless import InfoFrame, read_info_frame
    from meditations.model import AudioFormat

    data = path.read_bytes()
    start = 10 + ((data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]) if data[:3] == b"ID3" else 0
    size, _, rate, channels, _ = frame_header(data, start)
    kbits = frame_header(data, start + size)[4]
    header = read_info_frame(data[start:start + size])
    first = InfoFrame(AudioFormat(rate, channels, kbits), header.frames, header.padding).encode()
    return first + data[start + size:]


def words_per_minute(pool, voice, texts, rate) -> float:
    """Words per minute of speech of a voice speaking TEXTS at RATE: the words over the clips' trimmed lengths."""
    from meditations.speaking import SpeechRequest, load_clip

    requests = [SpeechRequest.of(voice, text, rate, 0.9) for text in texts]
    assert pool.synthesize(requests) == []
    seconds = sum(load_clip(r.key()).size for r in requests) / 22050
    return sum(len(re.findall(r"[\w']+", t)) for t in texts) / seconds * 60


# Sentences of the bundled library's kind, for measuring a voice's pace.
CALIBRATION_TEXTS = [
    "Find a position that lets you rest, and let your eyes close or soften.",
    "Notice the places where your body meets the chair or the floor.",
    "There is nothing you need to do right now, except to be here.",
    "Bring to mind a moment when someone was kind to you.",
    "Let the breath out be a little longer than the breath in.",
    "If your attention wanders, gently bring it back, without blame.",
    "Imagine a warm light settling around your shoulders.",
    "You might say quietly to yourself: may I be kind to myself.",
]
