"""What a build shows while it runs and when it ends: a progress bar on a terminal, a line per track
elsewhere; and the plan command's table."""

from __future__ import annotations

import sys
import time

import click

from meditations.building import eta_seconds
from meditations.model import format_duration

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
    """A progress bar with the tracks in hand and the time left on a terminal; else a line per track."""

    def __init__(self, quiet: bool, verbose: bool = False):
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self.terminal = sys.stdout.isatty() and not quiet and not self.verbose
        self.started = time.monotonic()
        self.running: list[str] = []
        self.total = 0
        self.finished = 0
        self.said: set[str] = set()

    def update(self, what: str, track) -> None:
        if what == "speech":
            self._speech(*track)
            return
        if what == "start":
            self.total += 1
            self.running.append(track.display)
            self._draw()
            return
        if track.display in self.running:
            self.running.remove(track.display)
            self.finished += 1
        if track.error is not None:
            self._clear()
            for line in error_lines(track.error):
                if line not in self.said:  # one problem of several tracks (a script given twice) is said once
                    click.echo(line, err=True)
                    self.said.add(line)
        elif not self.quiet and not self.terminal:
            worker = f" on {track.worker}" if self.verbose and track.worker else ""
            click.echo(f"built {track.display} ({format_duration(track.record.get('duration', 0))}){worker}")
        self._draw()

    def _speech(self, done: int, total: int) -> None:
        """The first build synthesizes every sentence once: say so, with progress (a bar on a terminal, a
        line per quarter elsewhere)."""
        if self.quiet:
            return
        if done == 0:
            click.echo(f"synthesizing speech: {total} sentence{'s' if total != 1 else ''} not yet in the cache "
                       "(made once; later builds reuse them)")
        if self.terminal:
            width = 24
            filled = int(width * done / total)
            click.echo(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} sentences", nl=False)
            if done == total:
                click.echo("")
        elif done and done * 4 // total != (done - 1) * 4 // total:
            click.echo(f"synthesizing speech: {done}/{total} sentences")

    def _draw(self) -> None:
        if not self.terminal or not self.total:
            return

        width = 24
        filled = int(width * self.finished / self.total)
        left = eta_seconds(self.started, self.finished, self.total)
        eta = f", about {format_duration(left).split('.')[0]} left" if left is not None else ""
        now = ", ".join(self.running[:2]) + (" ..." if len(self.running) > 2 else "")
        line = f"[{'#' * filled}{'.' * (width - filled)}] {self.finished}/{self.total}{eta}  {now}"
        click.echo("\r" + line[:118].ljust(118), nl=False)

    def _clear(self) -> None:
        if self.terminal:
            click.echo("\r" + " " * 118 + "\r", nl=False)

    def close(self) -> None:
        self._clear()
