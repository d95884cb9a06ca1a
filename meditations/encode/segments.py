"""Where a track is cut into pieces that are encoded separately (on every core) and joined frame by frame.

A cut is a whole number of MP3 frames from the track's start, so the joined frames are laid out exactly
as a single encoder's would be (same count, same delay: timings do not move). It lies in a pause of the
foreground (no speech, bell or tone within PREROLL of it), so whatever differs at a join is where
nothing but the bed is heard; each piece is encoded with PREROLL samples before its start and POSTROLL
after its end, whose frames are dropped, so the encoder's state at the join is that of a single encoder
(tests/test_segments.py compares the joins with a single-piece encode).
"""

from __future__ import annotations

from dataclasses import dataclass

SEGMENT_SECONDS = 60.0  # about this much audio per piece: ffmpeg starts in ~25 ms, so the cost is small
PREROLL = 4608  # samples before a piece fed to its encoder and dropped (4 frames at 44.1/48 kHz, 8 at 22 kHz)
POSTROLL = 4608  # samples after a piece: LAME looks ahead (its delay is 1105 samples) before it writes a frame


def frame_samples(rate: int) -> int:
    """Samples per MP3 frame at a sample rate: MPEG-1 above 32 kHz, else MPEG-2/2.5."""
    return 1152 if rate >= 32000 else 576


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
