"""How long a build or a render has left: rates measured while it runs, never a guess made before them.

A build has two stages, each measured in its own unit: the speech (sentences made per second), then the
renders (seconds of audio rendered per second of a worker's time). The time left is the work left at the
measured rates: sentences left / sentence rate while the speech is made, then the tracks left dealt to
the workers. The two are never added: the render rate cannot be measured before the first render ends,
and by then every sentence is made (the build makes all of them first), so the speech stage says its own
time left and the render stage the build's. One `meditate render` is measured the same way, its mix in
seconds of the track mixed per second.

A time left is shown only once its rate rests on enough measured work: MIN_SECONDS of it, and
MIN_SENTENCES in the speech stage (in simulated builds, a time left from the first sentence or two was
off by up to four times). And the end of a track already rendering in a build is said only while the
track has had less than a third of its expected time (KNOWN_PART): no render says how far it has got, and
how long one takes is foretold only roughly (a script's planned seconds are an estimate, and renders
vary), which late in a render is more than the time it has left. A build whose tracks all render at once
(no more tracks than workers) shows no time left while it renders: each render's time is its worker's
start-up as much as its audio, and none says how far it has got. Otherwise, in simulated builds
(tests/unit/cli/test_progress.py), every time left shown is within a factor of two of the truth (in the
last ten seconds, within four seconds).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

MIN_SECONDS = 5.0  # of measured work before a rate is used
MIN_SENTENCES = 10  # made, before the sentence rate is used
KNOWN_PART = 1 / 3  # of a render's expected time: past it, its end is not said

Clock = Callable[[], float]


class Rate:
    """A stage whose work is counted as it is done: sentences made, or the seconds of one track mixed.

    Its rate is measured from the first unit done (starting the speech engines, or planning the mix, is not
    work of the stage), over everything done since: work done / time taken. Its time left is the work left
    at that rate, counted down from the last report; None until the rate rests on `least` units and
    MIN_SECONDS."""

    def __init__(self, now: Clock, least: float = 0):
        self.now = now
        self.least = least
        self.first: tuple[float, float] | None = None  # (when, done) at the first report of work done
        self.at = 0.0
        self.done = 0.0
        self.total = 0.0

    def update(self, done: float, total: float) -> None:
        """`done` units of `total` are done now."""
        self.at, self.done, self.total = self.now(), done, total
        if self.first is None and done > 0:
            self.first = (self.at, done)

    def left(self) -> float | None:
        """Seconds left in the stage, or None while the rate cannot be trusted."""
        if self.first is None:
            return None
        since, before = self.first
        measured, units = self.at - since, self.done - before
        if measured < MIN_SECONDS or units <= 0 or units < self.least:
            return None
        return max(0.0, (self.total - self.done) * measured / units - (self.now() - self.at))


class Dealing:
    """A build's renders: tracks dealt in a known order to a fixed number of workers, each taking the next
    track when it is free (the local pool does that; a cluster nearly), and each track `planned` seconds long.

    A track's render took from when its worker took it (the start of the stage, or the end of the track
    before it on that worker) to when it ended. The rate of a worker is the planned seconds of the tracks
    rendered / the time they took: a worker's first track also paid for starting the worker, so once later
    tracks have taken MIN_SECONDS, only they count. The time left: each running track needs its planned
    seconds at that rate, less the time it has had; the tracks waiting are dealt, in order, to the first
    worker free; the last worker to finish ends the stage. With many tracks left, that is the audio left /
    (workers x rate). None until tracks taking MIN_SECONDS have been rendered; when the end rests on a track
    past KNOWN_PART of its expected time; and always when every track is a worker's first (no track waits
    for a worker: each render's time is its worker's start-up as much as its audio)."""

    def __init__(self, planned: list[float], workers: int, now: Clock):
        self.now = now
        self.planned = planned
        self.workers = max(1, workers)
        self.waiting = list(range(len(planned)))
        self.running: dict[int, float] = {}  # track -> when its worker took it
        self.first = {"worked": 0.0, "rendered": 0.0}  # the workers' first tracks: the time they took, their seconds
        self.later = {"worked": 0.0, "rendered": 0.0}  # the other tracks
        self.began = now()
        self._deal(self.began)

    def finished(self, track: int, ok: bool = True) -> None:
        """Track number `track` (in the order dealt) ended now; `ok` False when it failed (its time says
        nothing of the rate)."""
        at = self.now()
        if track in self.running:
            began = self.running.pop(track)
            if ok:
                measured = self.first if began == self.began else self.later
                measured["worked"] += at - began
                measured["rendered"] += self.planned[track]
        elif track in self.waiting:  # failed before it was sent, or a cluster took it out of turn
            self.waiting.remove(track)
        self._deal(at)

    def _deal(self, at: float) -> None:
        while self.waiting and len(self.running) < self.workers:
            self.running[self.waiting.pop(0)] = at

    def rendering(self) -> list[int]:
        """The tracks being rendered now, as far as the dealing knows."""
        return list(self.running)

    def left(self) -> float | None:
        """Seconds left until the last track ends, or None while they cannot be trusted."""
        measured = self.later if self.later["worked"] >= MIN_SECONDS else self.first
        if measured["worked"] < MIN_SECONDS or measured["rendered"] <= 0 or len(self.planned) <= self.workers:
            return None
        per_second = measured["rendered"] / measured["worked"]
        now = self.now()
        free = []  # (when a worker is free, whether that rests on a track past KNOWN_PART)
        for track, began in self.running.items():
            needs = self.planned[track] / per_second
            free.append((max(now, began + needs), now - began > needs * KNOWN_PART))
        free += [(now, False)] * (self.workers - len(free))
        heapq.heapify(free)
        for track in self.waiting:
            heapq.heapreplace(free, (free[0][0] + self.planned[track] / per_second, False))
        end, unsure = max(free)
        return None if unsure else end - now
