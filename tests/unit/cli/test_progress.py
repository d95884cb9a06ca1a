"""What a build and a render show while they run: the time left from measured rates (estimate.py), driven by
simulated builds on a fake clock, and the lines a terminal shows (progress.py)."""

from __future__ import annotations

import heapq
import random
import re
from types import SimpleNamespace

import pytest

from meditations.cli.estimate import KNOWN_PART, MIN_SECONDS, MIN_SENTENCES, Dealing, Rate
from meditations.cli.progress import BuildProgress, RenderProgress
from meditations.model import MeditateError


class FakeClock:
    """A clock the test moves."""

    def __init__(self):
        self.time = 0.0

    def __call__(self) -> float:
        return self.time


def track(name: str, estimate: float, duration: float = 0.0, error=None):
    return SimpleNamespace(display=name, estimate=estimate, record={"duration": duration}, error=error, worker="")


def simulated_build(seed: int, sentences: int = 300, count: int = 14, workers: int = 2):
    """A cold build, as (time, event, payload) in the order they happen, and when its speech and its renders
    end. The speech engines take 3 s to start; then each worker makes one sentence after another, short and
    long ones (0.1 to 0.8 s). The render workers take 1 to 5 s to start; then each track renders on the first
    worker free, longest first by its estimate (which under-reads its length, as a script's estimate does),
    in 1 s plus its length at 20 seconds of audio per second, give or take 15 %."""
    rng = random.Random(seed)
    lengths = [rng.uniform(240, 960) for _ in range(count)]
    tracks = [track(f"t{i}.mp3", length * rng.uniform(0.65, 0.85), length) for i, length in enumerate(lengths)]
    order = sorted(tracks, key=lambda t: t.estimate, reverse=True)
    events = [(0.0, "start", t) for t in order] + [(0.0, "speech", (0, sentences))]
    free = [3.0 + rng.uniform(0, 1) for _ in range(workers)]
    made = []
    for _ in range(sentences):
        made.append(heapq.heappop(free) + rng.uniform(0.1, 0.8))
        heapq.heappush(free, made[-1])
    made.sort()
    events += [(at, "speech", (done, sentences)) for done, at in enumerate(made, 1)]
    speech_end = made[-1]
    begin = speech_end + 0.2
    events.append((begin, "workers", workers))
    free = [begin + rng.uniform(1, 5) for _ in range(workers)]  # each worker process starts before its first track
    ends = []
    for t in order:
        ends.append((heapq.heappop(free) + 1.0 + t.record["duration"] / (20 * rng.uniform(0.85, 1.15)), t))
        heapq.heappush(free, ends[-1][0])
    events += [(at, "done", t) for at, t in sorted(ends, key=lambda end: end[0])]
    return events, speech_end, max(at for at, _ in ends)


def drawn(chunk: str) -> str:
    """The last text written over a terminal's line (what it shows once the chunk is written)."""
    pieces = [piece.rstrip() for piece in re.split(r"[\r\n]", chunk) if piece.strip()]
    return pieces[-1] if pieces else ""


def seconds(text: str) -> float:
    parts = [int(part) for part in text.split(":")]
    return sum(part * 60 ** power for power, part in enumerate(reversed(parts)))


LEFT = re.compile(r", about (\d+(?::\d\d)+) left( for speech)?")


def shown_estimates(seed: int, shape: tuple[int, int], capsys, monkeypatch):
    """Run a simulated build (of `shape`: so many tracks on so many workers) through the terminal's progress:
    each time left shown, with when, the true time left of what it is the time left of (the speech, or the
    build), and the first sentence made."""
    monkeypatch.setenv("COLUMNS", "200")
    clock = FakeClock()
    events, speech_end, build_end = simulated_build(seed, count=shape[0], workers=shape[1])
    progress = BuildProgress(quiet=False, terminal=True, now=clock)
    capsys.readouterr()
    shown, first_sentence, worked = [], None, 0.0
    for at, what, payload in events:
        clock.time = at
        progress.update(what, payload)
        if what == "speech" and payload[0] and first_sentence is None:
            first_sentence = (at, payload[0])
        found = LEFT.search(drawn(capsys.readouterr().out))
        if found:
            truth = (speech_end if found.group(2) else build_end) - at
            shown.append(SimpleNamespace(at=at, left=seconds(found.group(1)), truth=truth,
                                         speech=bool(found.group(2)), what=what, payload=payload,
                                         first_sentence=first_sentence))
    return shown, speech_end


SEEDS = range(8)
SHAPES = [(14, 2), (3, 8), (60, 4)]  # the bundled library on two cores; fewer tracks than workers; a clinic's


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_a_time_left_is_shown_only_after_enough_measured_work(seed, shape, capsys, monkeypatch):
    shown, speech_end = shown_estimates(seed, shape, capsys, monkeypatch)
    speech = [s for s in shown if s.speech]
    render = [s for s in shown if not s.speech]
    first = speech[0]
    since, before = first.first_sentence
    assert first.at - since >= MIN_SECONDS and first.payload[0] - before >= MIN_SENTENCES
    if shape[0] <= shape[1]:  # every track renders at once, each as its worker's first: nothing to go by
        assert not render
    else:
        assert render[0].at - speech_end >= MIN_SECONDS  # no render has ended before that


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", SEEDS)
def test_every_time_left_shown_is_within_a_factor_of_two(seed, shape, capsys, monkeypatch):
    shown, _ = shown_estimates(seed, shape, capsys, monkeypatch)
    for estimate in shown:
        if estimate.truth >= 10:
            assert estimate.truth / 2 <= estimate.left <= estimate.truth * 2, estimate
        else:  # the last seconds: the line shows whole seconds, and the last sentence or track ends when it does
            assert abs(estimate.left - estimate.truth) <= 4, estimate


@pytest.mark.parametrize("shape", SHAPES)
def test_the_time_left_converges(shape, capsys, monkeypatch):
    """Over the simulated builds, each stage's time left is off by less in its last third of estimates than in
    its first (one build's last track may still be off by more than its first lucky guess)."""
    early, late = {True: 0.0, False: 0.0}, {True: 0.0, False: 0.0}
    for seed in SEEDS:
        shown, _ = shown_estimates(seed, shape, capsys, monkeypatch)
        for speech in (True, False):
            errors = [abs(s.left - s.truth) for s in shown if s.speech == speech]
            third = len(errors) // 3
            if third:
                early[speech] += sum(errors[:third]) / third
                late[speech] += sum(errors[-third:]) / third
    assert early[True] > 0 and late[True] < early[True]
    assert late[False] < early[False] or shape[0] <= shape[1]  # (tracks all at once: never said)


def screen(out: str) -> tuple[list[str], list[str]]:
    """What a terminal shows of `out`: the lines written for good, and each text of the line redrawn in place
    below them, in turn."""
    lines, states, current = [], [], ""
    column = 0
    for piece in re.split(r"(\r|\n)", out):
        if piece == "\n":
            lines.append(current.rstrip())
            current, column = "", 0
        elif piece == "\r":
            column = 0
        elif piece:
            current = current[:column] + piece + current[column + len(piece):]
            column += len(piece)
            if piece.strip():
                states.append(current.rstrip())
    return lines + ([current.rstrip()] if current.strip() else []), states


def small_build(progress: BuildProgress, clock: FakeClock) -> None:
    """Four tracks on two workers, after twenty sentences; one track fails."""
    tracks = [track("a.mp3", 300, 300, error=MeditateError("a.yaml cannot be read")), track("b.mp3", 250, 250),
              track("c.mp3", 200, 200), track("d.mp3", 150, 150)]
    a, b, c, d = tracks
    steps = [(0, "start", t) for t in tracks] + [(0, "speech", (0, 20)), (2, "speech", (1, 20)),
                                                  (6, "speech", (11, 20)), (7.5, "speech", (12, 20)),
                                                  (11.5, "speech", (20, 20)), (12, "workers", 2), (17, "done", b),
                                                  (18, "done", a), (21, "done", c), (21.5, "done", d)]
    for at, what, payload in steps:
        clock.time = at
        progress.update(what, payload)
    progress.close()


def test_a_terminal_shows_the_stage_the_tracks_finished_and_a_time_left_once_trusted(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    clock = FakeClock()
    small_build(BuildProgress(quiet=False, terminal=True, now=clock), clock)
    out, err = capsys.readouterr()
    lines, states = screen(out)
    assert lines == [
        "synthesizing speech: 20 sentences not yet in the cache (made once; later builds reuse them)",
        "synthesizing speech: 20/20 sentences",
        "built b.mp3 (4:10.00)",
        "built c.mp3 (3:20.00)",
        "built d.mp3 (2:30.00)",
    ]
    assert err == "Error: a.yaml cannot be read\n"
    assert states == [
        "synthesizing speech: 20 sentences not yet in the cache (made once; later builds reuse them)",
        "synthesizing speech [........................]  0/20 sentences",
        "synthesizing speech [#.......................]  1/20 sentences",
        "synthesizing speech [#############...........] 11/20 sentences",  # 4 s measured: not yet
        "synthesizing speech [##############..........] 12/20 sentences, about 0:04 left for speech",
        "synthesizing speech: 20/20 sentences",
        "rendering tracks [........................] 0/4 tracks  a.mp3, b.mp3",
        "built b.mp3 (4:10.00)",
        "rendering tracks [######..................] 1/4 tracks, about 0:04 left  a.mp3, c.mp3",
        "rendering tracks [############............] 2/4 tracks, about 0:03 left  c.mp3, d.mp3",
        "built c.mp3 (3:20.00)",
        "rendering tracks [##################......] 3/4 tracks  d.mp3",  # late: what is left is not known
        "built d.mp3 (2:30.00)",
        "rendering tracks [########################] 4/4 tracks",
    ]


def test_elsewhere_a_build_says_a_line_per_track_and_the_speech_by_quarters(capsys):
    clock = FakeClock()
    progress = BuildProgress(quiet=False, terminal=False, now=clock)
    progress.update("speech", (0, 8))
    for done in range(1, 9):
        progress.update("speech", (done, 8))
    small_build(progress, clock)
    out, err = capsys.readouterr()
    assert "\r" not in out
    assert out.splitlines() == [
        "synthesizing speech: 8 sentences not yet in the cache (made once; later builds reuse them)",
        "synthesizing speech: 2/8 sentences", "synthesizing speech: 4/8 sentences",
        "synthesizing speech: 6/8 sentences", "synthesizing speech: 8/8 sentences",
        "synthesizing speech: 20 sentences not yet in the cache (made once; later builds reuse them)",
        "synthesizing speech: 20/20 sentences",
        "built b.mp3 (4:10.00)", "built c.mp3 (3:20.00)", "built d.mp3 (2:30.00)",
    ]
    assert err == "Error: a.yaml cannot be read\n"


def test_quiet_says_only_the_errors(capsys):
    clock = FakeClock()
    small_build(BuildProgress(quiet=True, terminal=True, now=clock), clock)
    assert capsys.readouterr() == ("", "Error: a.yaml cannot be read\n")


def test_a_render_on_a_terminal_shows_its_speech_then_its_mix_and_clears_the_line(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    clock = FakeClock()
    with RenderProgress("box-breathing.mp3", terminal=True, now=clock) as progress:
        for at, what, payload in [(0, "speech", (0, 30)), (1, "speech", (1, 30)), (7, "speech", (12, 30)),
                                  (9, "speech", (30, 30)), (12, "audio", (10, 396)), (16, "audio", (100, 396)),
                                  (18, "audio", (200, 396))]:
            clock.time = at
            progress.update(what, payload)
    lines, states = screen(capsys.readouterr().out)
    assert lines == []
    assert states == [
        "synthesizing speech [........................]  0/30 sentences",
        "synthesizing speech [........................]  1/30 sentences",
        "synthesizing speech [#########...............] 12/30 sentences, about 0:10 left for speech",
        "synthesizing speech [########################] 30/30 sentences",
        "rendering box-breathing.mp3 [........................] 0:10 of 6:36",
        "rendering box-breathing.mp3 [######..................] 1:40 of 6:36",  # 4 s measured: not yet
        "rendering box-breathing.mp3 [############............] 3:20 of 6:36, about 0:07 left",
    ]


def test_a_render_elsewhere_shows_nothing_while_it_runs(capsys):
    with RenderProgress("box-breathing.mp3", terminal=False, now=FakeClock()) as progress:
        progress.update("speech", (0, 30))
        progress.update("audio", (10, 396))
    assert capsys.readouterr() == ("", "")


def test_a_rate_waits_for_enough_work_then_counts_down():
    clock = FakeClock()
    rate = Rate(clock, least=MIN_SENTENCES)
    rate.update(0, 100)
    clock.time = 3
    rate.update(1, 100)  # the engines took 3 s to start: not work of the stage
    clock.time = 3 + MIN_SECONDS
    rate.update(MIN_SENTENCES, 100)
    assert rate.left() is None  # one sentence short of MIN_SENTENCES measured
    rate.update(MIN_SENTENCES + 1, 100)
    assert rate.left() == pytest.approx(89 * MIN_SECONDS / MIN_SENTENCES)
    clock.time += 2
    assert rate.left() == pytest.approx(89 * MIN_SECONDS / MIN_SENTENCES - 2)


def test_dealing_follows_the_workers_learns_nothing_from_a_failure_and_stops_saying_late_ends():
    clock = FakeClock()
    dealing = Dealing([100, 80, 60, 40, 20], workers=2, now=clock)
    assert dealing.rendering() == [0, 1]
    clock.time = 3
    dealing.finished(1, ok=False)
    assert (dealing.rendering(), dealing.left()) == ([0, 2], None)
    clock.time = 10
    dealing.finished(0)  # 100 planned seconds in 10 s: track 2 is late (6 s from 3), track 3 needs 4 s from 10
    assert (dealing.rendering(), dealing.left()) == ([2, 3], 4)  # and track 4 2 s, from 10 on track 2's worker
    clock.time = 12
    dealing.finished(2)  # 60 in 9 s: not a worker's first track, so it is the rate now (6.67 s a second)
    assert (dealing.rendering(), dealing.left()) == ([3, 4], pytest.approx(4))  # track 3 needs 6 s from 10
    clock.time = 10 + 6 * KNOWN_PART + 0.1  # the end rests on track 3, now past a third of its time
    assert dealing.left() is None


def test_tracks_that_all_render_at_once_say_no_time_left():
    clock = FakeClock()
    dealing = Dealing([100, 80], workers=2, now=clock)
    clock.time = 10
    dealing.finished(1)
    assert (dealing.rendering(), dealing.left()) == ([0], None)


def test_on_a_narrow_terminal_the_bar_shrinks_before_the_time_left_is_cut(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    clock = FakeClock()
    progress = BuildProgress(quiet=False, terminal=True, now=clock)
    for at, done in [(0, 0), (1, 1), (101, 248)]:  # 247 sentences in 100 s: 342 left take 138.5 s
        clock.time = at
        progress.update("speech", (done, 590))
    _, states = screen(capsys.readouterr().out)
    assert states[-3:] == [
        "synthesizing speech [...........]   0/590 sentences",  # room kept for the count and a time left
        "synthesizing speech [...........]   1/590 sentences",
        "synthesizing speech [####.......] 248/590 sentences, about 2:19 left for speech"]
    assert len(states[-1]) == 79
