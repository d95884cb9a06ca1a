"""Encoding, the fifth stage: encode to MP3 (LAME in the bundled ffmpeg, constant bitrate) and tag it (mutagen
ID3v2), atomically.

The encoders run in processes of their own, one per piece of the track (pieces.py), fed from the blocks
as they are mixed, so no whole-track WAV is ever written. Constant bitrate, so every piece's frames are the
same size class; the first frame is the track's gapless header (gapless.py), which players read to remove
the encoder's delay and padding.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from meditations.files import OutputFolder, Temporary, umask
from meditations.model import AudioFormat, RenderError

from .gapless import GaplessStream
from .listening import ListenedFile, Listener
from .pieces import LAME_QUALITY, PieceEncoder, Segment, encode_pieces
from .verify import StreamCheck, TrackProblem, check_mp3

__all__ = ["LAME_QUALITY", "Encoded", "Tags", "encode_mp3", "read_fingerprint", "write_tags"]


@dataclass(frozen=True)
class Tags:
    """The ID3 tags of a track."""

    title: str
    artist: str = ""
    album: str = ""
    genre: str = ""
    comment: str = ""
    fingerprint: str = ""  # what the track was built from: lets builds skip it and prune know it is ours
    chapters: tuple[tuple[str, int, int], ...] = ()  # (title, start ms, end ms)
    cover: str = ""  # path of a PNG or JPEG to embed

FINGERPRINT_TAG = "meditate-fingerprint"


def to_pcm16(block: np.ndarray, channels: int) -> np.ndarray:
    """Float mono samples in [-1, 1] as 16-bit samples, one column per channel."""
    pcm = np.clip(np.round(block * 32767.0), -32768, 32767).astype("<i2")
    return np.repeat(pcm[:, None], channels, axis=1)


def write_tags(path: Path, tags: Tags) -> None:
    """Write ID3v2.4 tags to an MP3 file."""
    from mutagen.id3 import COMM, ID3, TALB, TCON, TIT2, TPE1, TXXX

    id3 = ID3()
    id3.add(TIT2(encoding=3, text=tags.title))
    if tags.artist:
        id3.add(TPE1(encoding=3, text=tags.artist))
    if tags.album:
        id3.add(TALB(encoding=3, text=tags.album))
    if tags.genre:
        id3.add(TCON(encoding=3, text=tags.genre))
    if tags.comment:
        id3.add(COMM(encoding=3, lang="eng", desc="", text=tags.comment))
    if tags.fingerprint:
        id3.add(TXXX(encoding=3, desc=FINGERPRINT_TAG, text=tags.fingerprint))
    _add_chapters(id3, tags.chapters)
    if tags.cover:
        _add_cover(id3, Path(tags.cover))
    id3.save(str(path), v2_version=4)
    if len(tags.chapters) > 1:
        order_chapter_frames(path)


def _syncsafe(data: bytes) -> int:
    return (data[0] << 21) | (data[1] << 14) | (data[2] << 7) | data[3]


def order_chapter_frames(path: Path) -> None:
    """Put the CHAP frames of an ID3v2.4 tag in chronological order, in place.

    mutagen orders frames of equal importance by their size, so chapters come out in the order of their
    titles' lengths; ffprobe and several players list chapters in the order of the frames."""
    with open(path, "r+b") as handle:
        header = handle.read(10)
        if header[:3] != b"ID3" or header[3] != 4:
            return
        body = handle.read(_syncsafe(header[6:10]))
        frames, position = [], 0
        while position + 10 <= len(body) and body[position:position + 4] != b"\x00\x00\x00\x00":
            size = _syncsafe(body[position + 4:position + 8])
            frames.append(body[position:position + 10 + size])
            position += 10 + size
        chapters = [f for f in frames if f[:4] == b"CHAP"]
        by_time = iter(sorted(chapters, key=_chapter_start))
        reordered = b"".join(next(by_time) if f[:4] == b"CHAP" else f for f in frames)
        handle.seek(10)
        handle.write(reordered)


def _chapter_start(frame: bytes) -> int:
    element_end = frame.index(b"\x00", 10)
    return int.from_bytes(frame[element_end + 1:element_end + 5], "big")


def _add_chapters(id3, chapters) -> None:
    """ID3v2 chapters: a CHAP frame per chapter under one top-level, ordered CTOC table of contents."""
    from mutagen.id3 import CHAP, CTOC, TIT2, CTOCFlags

    if not chapters:
        return
    ids = [f"chp{index}" for index in range(len(chapters))]
    for element_id, (title, start, end) in zip(ids, chapters, strict=False):
        id3.add(CHAP(element_id=element_id, start_time=start, end_time=end, start_offset=0xFFFFFFFF,
                     end_offset=0xFFFFFFFF, sub_frames=[TIT2(encoding=3, text=title)]))
    id3.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED, child_element_ids=ids,
                 sub_frames=[TIT2(encoding=3, text="Chapters")]))


def _add_cover(id3, image: Path) -> None:
    from mutagen.id3 import APIC

    mime = "image/png" if image.suffix.lower() == ".png" else "image/jpeg"
    id3.add(APIC(encoding=3, mime=mime, type=3, desc="Cover", data=image.read_bytes()))


def read_fingerprint(path: Path) -> str | None:
    """The fingerprint meditate stored in a track, or None (not ours, unreadable or missing)."""
    from mutagen import MutagenError
    from mutagen.id3 import ID3

    try:
        frames = ID3(str(path)).getall(f"TXXX:{FINGERPRINT_TAG}")
    except (MutagenError, OSError):
        return None
    return str(frames[0].text[0]) if frames else None


@dataclass(frozen=True)
class Encoded:
    """A track written and checked: its size and the SHA-256 of its bytes."""

    size: int
    sha256: str


def encode_mp3(blocks: Iterable[np.ndarray], audio: AudioFormat, out_path: Path, tags: Tags, pieces: list[Segment],
               check: StreamCheck | None = None, before_rename: Callable[[Encoded], None] | None = None,
               cache=None, root: OutputFolder | None = None) -> Encoded:
    """Encode blocks to out_path through a temporary file renamed into place once it has been checked.

    The track is encoded in `pieces` (pieces.py), each by an ffmpeg of its own, as many at once as
    there are cores, while the blocks are mixed (pieces.py); `cache` (a BlobCache, optional) keeps
    encoded pieces for reuse. `check` sees every block on its way, and the frames are decoded as they are
    written (listening.Listener: what a listener hears is checked, not the mix); the file is read back
    (verify.check_mp3) before the rename, so a track that does not hold its plan raises RenderError and
    never replaces anything. `before_rename` is called with the checked file's facts just before it goes
    into place (a build records it then). With `root` (a build's output folder), the track goes only
    below it, and only while it is where the build took it (else FolderMoved, and nothing is placed). The
    gapless header goes first, and is completed in place once the last frame is written, before the tags."""
    try:
        temporary = Temporary(out_path, root)  # locked until renamed: no clean-up takes it meanwhile
    except OSError as exc:
        raise RenderError(f"cannot write {out_path}: {exc.strerror}") from None
    with temporary:
        try:
            return _encode_into(temporary, blocks, audio, tags, pieces, check, before_rename, cache)
        except (TrackProblem, OSError) as exc:
            temporary.check()  # a folder moved away is what to say: the file's path no longer leads to it
            if isinstance(exc, TrackProblem):
                raise RenderError(f"{out_path} was not written: {exc}") from None
            raise RenderError(f"cannot write {out_path}: {exc.strerror}") from None


def _encode_into(temporary: Temporary, blocks: Iterable[np.ndarray], audio: AudioFormat, tags: Tags,
                 pieces: list[Segment], check: StreamCheck | None, before_rename: Callable[[Encoded], None] | None,
                 cache) -> Encoded:
    samples = 0
    listener = Listener(audio, check) if check is not None else None
    try:
        with os.fdopen(os.dup(temporary.fd), "wb") as out:
            stream = GaplessStream(ListenedFile(out, listener) if listener else out, audio, pieces[-1].end)
            encoder = PieceEncoder(audio, pieces, stream, cache=cache)

            def pcm() -> Iterator[np.ndarray]:
                nonlocal samples
                for block in blocks:
                    if check is not None:
                        check.feed(block)
                    samples += block.size
                    yield to_pcm16(block, audio.channels)
                if check is not None:  # before the last piece is waited for: a short mix is this error
                    check.finish()

            encode_pieces(encoder, pcm())
        os.pwrite(temporary.fd, stream.complete(), 0)
        _tag(temporary.path, tags)
        os.fchmod(temporary.fd, 0o666 & ~umask())  # made 0600; a track is an ordinary file
        facts = check_mp3(temporary.path, samples / audio.sample_rate, audio.channels, audio.bitrate)
        if listener is not None:
            listener.finish()
        if os.fstat(temporary.fd).st_ino != os.stat(temporary.path).st_ino:
            raise TrackProblem("its temporary file was replaced while it was written")
        os.fsync(temporary.fd)
        encoded = Encoded(os.fstat(temporary.fd).st_size, facts.sha256)
        temporary.check()  # before the build records it
        if before_rename is not None:
            before_rename(encoded)
        temporary.place()
    finally:
        if listener is not None:
            listener.stop()
    return encoded


def _tag(path: Path, tags: Tags) -> None:
    from mutagen import MutagenError

    try:
        write_tags(path, tags)
    except MutagenError as exc:  # mutagen wraps the OSError of a full disk
        cause = exc.__cause__ or exc.__context__
        raise OSError(getattr(cause, "errno", None), getattr(cause, "strerror", None) or str(exc)) from None
