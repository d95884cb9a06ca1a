"""What a build or a render shows while it runs and when it ends: a line per track, and on a terminal a
progress line redrawn below them; and the plan command's table."""

from __future__ import annotations

import math
import shutil
import sys
import time

import click

from meditations.model import format_duration

from .estimate import MIN_SENTENCES, Clock, Dealing, Rate
from .messages import error_lines


def format_plan(timeline) -> str:
    """The timeline as a table a person can read."""
    rate = timeline.sample_rate
    factor = f", pauses x{timeline.length_factor:.3f} to fit the length" if timeline.length_factor != 1 else ""
    lines = [f"{timeline.title} — {format_duration(timeline.duration)}, "
             f"{len(timeline.chapters)} chapter{'s' if len(timeline.chapters) != 1 else ''}{factor}", ""]
    chapters = list(timeline.chapters)
    lines.append(f"{'start':>9}  {'end':>9}  {'kind':<8} text")
    for event in timeline.events:
        while chapters and chapters[0].start <= event.start:
            lines.append(f"{format_duration(chapters[0].start / rate):>9}  chapter: {chapters.pop(0).title}")
        label = f"{event.kind} {event.phase}" if event.phase else event.kind
        lines.append(f"{format_duration(event.start / rate):>9}  {format_duration(event.end / rate):>9}  "
                     f"{label:<8} {event.text}".rstrip())
    return "\n".join(lines)


def verify_summary(report) -> str:
    """What --verify found: every track read again, and those that were not as built."""
    tracks = report.built + report.unchanged + report.failed
    bad = [t for t in tracks if t.found]
    text = f"verified {len(tracks)} track{'s' if len(tracks) != 1 else ''}: "
    if not bad:
        return text + "all as built"
    return text + f"{len(bad)} not as built, rebuilt (" + "; ".join(f"{t.relative}: {t.found}" for t in bad) + ")"


class BuildProgress:
    """What a build shows while it runs (the events building.Progress lists). Elsewhere than on a terminal:
    a line per track finished, and the speech made by quarters. On a terminal the same track lines, and
    below them one line redrawn in place: the stage, a bar, the count, the tracks being rendered and, once it
    can be trusted (estimate.py), the time left."""

    def __init__(self, quiet: bool, verbose: bool = False, terminal: bool | None = None,
                 now: Clock = time.monotonic):
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.terminal = not quiet and (sys.stdout.isatty() if terminal is None else terminal)
        self.now = now
        self.line = _Line()
        self.speech = Rate(now, MIN_SENTENCES)
        self.speaking = False
        self.tracks: list = []  # the tracks to render, in the order the workers take them
        self.places: dict[int, int] = {}  # id(track) -> its place in that order, until it is done
        self.dealing: Dealing | None = None  # once the renders begin
        self.finished = 0
        self.said: set[str] = set()

    def update(self, what: str, payload) -> None:
        """Hear one event of the build."""
        if what == "start":
            self.places[id(payload)] = len(self.tracks)
            self.tracks.append(payload)
        elif what == "speech":
            self._speech(*payload)
        elif what == "workers":
            self.speaking = False  # (a cluster's lost batch of sentences is made by its tracks' renders)
            self.dealing = Dealing([track.estimate for track in self.tracks], payload, self.now)
            self._draw()
        elif what == "done":
            self._done(payload)

    def _done(self, track) -> None:
        place = self.places.pop(id(track), None)
        if place is not None:
            self.finished += 1
            if self.dealing is not None:
                self.dealing.finished(place, ok=track.error is None)
        self.line.clear()
        if track.error is not None:
            for line in error_lines(track.error):
                if line not in self.said:  # one problem of several tracks (a script given twice) is said once
                    click.echo(line, err=True)
                    self.said.add(line)
        elif not self.quiet:
            worker = f" on {track.worker}" if self.verbose and track.worker else ""
            click.echo(f"built {track.display} ({format_duration(track.record.get('duration', 0))}){worker}")
        self._draw()

    def _speech(self, done: int, total: int) -> None:
        """The first build synthesizes every sentence once: say so, with progress (the line below on a
        terminal, a line per quarter elsewhere)."""
        self.speech.update(done, total)
        if self.quiet:
            return
        if done == 0:
            self.line.clear()
            click.echo(f"synthesizing speech: {total} sentence{'s' if total != 1 else ''} not yet in the cache "
                       "(made once; later builds reuse them)")
        self.speaking = done < total
        if not self.terminal:
            if done and done * 4 // total != (done - 1) * 4 // total:
                click.echo(f"synthesizing speech: {done}/{total} sentences")
        elif self.speaking:
            self._draw()
        else:
            self.line.clear()
            click.echo(f"synthesizing speech: {done}/{total} sentences")

    def _draw(self) -> None:
        if not self.terminal:
            return
        if self.speaking:
            done, total = int(self.speech.done), int(self.speech.total)
            self.line.draw("synthesizing speech", done / total, counted(done, total, "sentences"),
                           self.speech.left(), " for speech")
        elif self.dealing is not None and self.tracks:
            total = len(self.tracks)
            running = [self.tracks[place].display for place in self.dealing.rendering()]
            now = ", ".join(running[:2]) + (" ..." if len(running) > 2 else "")
            self.line.draw("rendering tracks", self.finished / total,
                           counted(self.finished, total, "tracks" if total != 1 else "track"), self.dealing.left(),
                           more=f"  {now}" if now else "")

    def close(self) -> None:
        """Clear the line drawn below (a summary or a message follows)."""
        self.line.clear()


class RenderProgress:
    """One track of `meditate render` on a terminal: a line redrawn in place, the speech made and then the
    track mixed, each with a bar and, once it can be trusted (estimate.py), the time left; cleared when the
    track is done. Nothing elsewhere."""

    def __init__(self, name: str, terminal: bool | None = None, now: Clock = time.monotonic):
        self.name = name
        self.terminal = sys.stdout.isatty() if terminal is None else terminal
        self.speech = Rate(now, MIN_SENTENCES)
        self.audio = Rate(now)
        self.line = _Line()

    def __enter__(self) -> RenderProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.line.clear()

    def update(self, what: str, payload: tuple) -> None:
        """Hear one event of the render."""
        if not self.terminal:
            return
        done, total = payload
        if what == "speech":
            self.speech.update(done, total)
            self.line.draw("synthesizing speech", done / total, counted(done, total, "sentences"),
                           self.speech.left(), " for speech")
        elif what == "audio":
            self.audio.update(done, total)
            self.line.draw(f"rendering {self.name}", done / total,
                           f"{clock(done):>{len(clock(total))}} of {clock(total)}", self.audio.left())


def bar(share: float, width: int = 24) -> str:
    """A bar `share` full, `width` characters inside its brackets."""
    filled = int(width * min(1.0, max(0.0, share)))
    return f"[{'#' * filled}{'.' * (width - filled)}]"


def counted(done: int, total: int, unit: str) -> str:
    """The count as wide as its total ("  7/590 sentences"), so that the line does not shift as it grows."""
    return f"{done:>{len(str(total))}}/{total} {unit}"


def clock(seconds: float) -> str:
    """Seconds as a clock reads, to the second: 1:05, 1:02:03."""
    return format_duration(round(seconds)).split(".")[0]


def time_left(seconds: float | None, of: str = "") -> str:
    """The time left as the line says it (", about 1:05 left", and what it is left of); nothing without an
    estimate, or when it has run out (the work is late: what is left is not known)."""
    if seconds is None or seconds <= 0:
        return ""
    return f", about {clock(math.ceil(seconds))} left{of}"


class _Line:
    """The one line redrawn in place at the bottom of a terminal: "stage [bar] count, about 1:05 left", then
    what else fits (a line that wrapped would not be redrawn in place). The bar is 24 characters, or as few as
    10 to leave room on a narrow terminal for the count and a time left (room kept before one is known, so
    the bar does not shrink when it comes)."""

    def __init__(self):
        self.shown = 0

    def draw(self, stage: str, share: float, count: str, left: float | None = None, of: str = "",
             more: str = "") -> None:
        columns = shutil.get_terminal_size().columns - 1
        room = max(len(time_left(left, of)), len(time_left(1, of)))
        width = min(24, max(10, columns - len(stage) - len(count) - room - 4))
        text = f"{stage} {bar(share, width)} {count}{time_left(left, of)}{more}"[:columns]
        click.echo("\r" + text.ljust(self.shown), nl=False)
        self.shown = len(text)

    def clear(self) -> None:
        if self.shown:
            click.echo("\r" + " " * self.shown + "\r", nl=False)
            self.shown = 0
