"""Stage 2: plan the timeline — every sound and silence at an exact sample position.

Planning needs each clip's length, so it asks the speech stage to fill the cache first. Times are
whole samples at the output rate, so nothing drifts however long the track is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .errors import Location, Problem, RenderError, ScriptError
from .script import Chapter, Include, ParagraphBreak, Pause, Repeat, Say, Script, Sentence, TextPause
from .speech import ENGINE_SAMPLE_RATE, SpeechEngine, SpeechRequest, Voice, load_clip, resolve_voice

JOINED_GAP = 0.25  # between the pieces of an over-long sentence that was cut up


@dataclass(frozen=True)
class Event:
    """One sound or silence on the timeline, in samples at the track's rate."""

    kind: str  # "speech" | "silence"
    start: int
    end: int
    text: str = ""
    clip: str = ""  # cache key of a speech clip
    location: Location | None = field(default=None, compare=False)

    def to_json(self, rate: int) -> dict:
        """The event as plan --json shows it (times in seconds)."""
        data = {"kind": self.kind, "start": _seconds(self.start, rate), "end": _seconds(self.end, rate)}
        if self.kind == "speech":
            data["text"] = self.text
        return data


@dataclass(frozen=True)
class ChapterMark:
    """A chapter's title and span, in samples."""

    title: str
    start: int
    end: int

    def to_json(self, rate: int) -> dict:
        """The chapter as plan --json shows it."""
        return {"title": self.title, "start": _seconds(self.start, rate), "end": _seconds(self.end, rate)}


@dataclass(frozen=True)
class Timeline:
    """The exact plan of a track."""

    title: str
    sample_rate: int
    length: int
    events: tuple[Event, ...]
    chapters: tuple[ChapterMark, ...]

    @property
    def duration(self) -> float:
        """The track's length in seconds."""
        return self.length / self.sample_rate

    def to_json(self) -> dict:
        """The plan as one JSON-ready object."""
        rate = self.sample_rate
        return {"title": self.title, "duration": _seconds(self.length, rate),
                "events": [e.to_json(rate) for e in self.events],
                "chapters": [c.to_json(rate) for c in self.chapters]}


def _seconds(samples: int, rate: int) -> float:
    return round(samples / rate, 6)


def resampled_length(engine_samples: int, rate: int) -> int:
    """How many samples a clip has once resampled from the engine's rate to the track's."""
    g = math.gcd(rate, ENGINE_SAMPLE_RATE)
    up, down = rate // g, ENGINE_SAMPLE_RATE // g
    return -(-engine_samples * up // down)


# ---------------------------------------------------------------- speech requests

def _walk_says(steps):
    for step in steps:
        if isinstance(step, Say):
            yield step
        elif isinstance(step, (Repeat, Include)):
            yield from _walk_says(step.steps)


def resolve_voices(script: Script, voices: list[Voice]) -> dict:
    """The engine voice id for every say step's voice settings; unknown voices are located errors."""
    chosen, problems = {}, []
    for say in _walk_says(script.steps):
        settings = say.voice
        if settings.name in chosen:
            continue
        voice = resolve_voice(settings.name, script.language, voices)
        if voice is None:
            where = settings.name_location or say.location
            if settings.name is None:
                problems.append(Problem(where, f"no voice speaks the language '{script.language}'; "
                                               "run 'meditate voices' to list the voices"))
            else:
                problems.append(Problem(where, f"unknown voice '{settings.name}'; "
                                               "run 'meditate voices' to list the voices"))
            chosen[settings.name] = None
            continue
        chosen[settings.name] = voice.id
    if problems:
        raise ScriptError(list(dict.fromkeys(problems)))
    return chosen


def speech_requests(script: Script, voice_ids: dict) -> dict[SpeechRequest, Say]:
    """Every clip the script needs, with the step that needs it (for locating failures)."""
    requests: dict[SpeechRequest, Say] = {}
    for say in _walk_says(script.steps):
        for piece in say.pieces:
            if isinstance(piece, Sentence):
                request = SpeechRequest(piece.text, voice_ids[say.voice.name], say.voice.rate, say.voice.volume)
                requests.setdefault(request, say)
    return requests


def prepare_speech(script: Script, engine: SpeechEngine, voice_ids: dict) -> dict[SpeechRequest, int]:
    """Make sure every clip is cached; returns each request's length in engine samples."""
    requests = speech_requests(script, voice_ids)
    failures = engine.synthesize(requests)
    if failures:
        raise ScriptError([Problem(requests[f.request].location,
                                   f"speech synthesis failed for '{_short(f.request.text)}': {f.reason}")
                           for f in failures])
    lengths = {}
    for request in requests:
        clip = load_clip(request.key(engine.engine))
        if clip is None:
            raise RenderError("the speech cache lost a clip while rendering; run the command again")
        lengths[request] = int(clip.size)
    return lengths


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- the timeline

class _Planner:
    def __init__(self, script: Script, lengths: dict, voice_ids: dict, engine_name: str):
        self.script = script
        self.rate = script.audio.sample_rate
        self.lengths = lengths
        self.voice_ids = voice_ids
        self.engine_name = engine_name
        self.now = 0
        self.events: list[Event] = []
        self.chapter_starts: list[tuple[str, int]] = []
        self.pending_gap = 0.0
        self.pending_chapters: list[str] = []

    def samples(self, seconds: float) -> int:
        return int(round(seconds * self.rate))

    def begin(self, replaces_gap: bool) -> None:
        """Before the next sound or exact silence: settle the pending gap, then open pending chapters."""
        if replaces_gap:
            self.pending_gap = 0.0
        else:
            self.flush_gap()
        for title in self.pending_chapters:
            self.chapter_starts.append((title, self.now))
        self.pending_chapters.clear()

    def pause(self, seconds: float, location=None) -> None:
        """An exact silence that replaces the pending gap."""
        self.begin(replaces_gap=True)
        self.silence(seconds, location)

    def silence(self, seconds: float, location=None) -> None:
        length = self.samples(seconds)
        if length > 0:
            self.events.append(Event("silence", self.now, self.now + length, location=location))
            self.now += length

    def flush_gap(self) -> None:
        if self.pending_gap:
            self.silence(self.pending_gap)
        self.pending_gap = 0.0

    def speak(self, say: Say, sentence: Sentence) -> None:
        self.begin(replaces_gap=False)
        request = SpeechRequest(sentence.text, self.voice_ids[say.voice.name], say.voice.rate, say.voice.volume)
        length = resampled_length(self.lengths[request], self.rate)
        self.events.append(Event("speech", self.now, self.now + length, sentence.text,
                                 request.key(self.engine_name), say.location))
        self.now += length

    def say(self, say: Say) -> None:
        for piece in say.pieces:
            if isinstance(piece, Sentence):
                if piece.joined and self.pending_gap:
                    self.pending_gap = min(self.pending_gap, JOINED_GAP)
                self.speak(say, piece)
                self.pending_gap = say.pace.sentence_gap
            elif isinstance(piece, TextPause):
                self.pause(piece.seconds, say.location)
            elif isinstance(piece, ParagraphBreak):
                self.pending_gap = say.pace.paragraph_gap
        if say.pieces and isinstance(say.pieces[-1], Sentence):
            self.pending_gap = say.pace.paragraph_gap

    def steps(self, steps) -> None:
        for step in steps:
            if isinstance(step, Say):
                self.say(step)
            elif isinstance(step, Pause):
                self.pause(step.seconds, step.location)
            elif isinstance(step, Chapter):
                self.pending_chapters.append(step.title)
            elif isinstance(step, Repeat):
                for _ in range(step.count):
                    self.steps(step.steps)
            elif isinstance(step, Include):
                self.steps(step.steps)

    def timeline(self) -> Timeline:
        self.steps(self.script.steps)
        return Timeline(self.script.title, self.rate, self.now, tuple(self.events), self._chapters())

    def _chapters(self) -> tuple[ChapterMark, ...]:
        starts = []
        for title, start in self.chapter_starts:
            if starts and starts[-1][1] == start:
                starts.pop()  # an empty chapter is replaced by the one that follows it
            starts.append((title, start))
        if starts and starts[0][1] > 0 and not any(e.kind == "speech" and e.start < starts[0][1]
                                                   for e in self.events):
            starts[0] = (starts[0][0], 0)  # nothing is heard before the first chapter: start it at 0
        ends = [start for _, start in starts[1:]] + [self.now]
        return tuple(ChapterMark(title, start, end) for (title, start), end in zip(starts, ends) if end > start)


def plan(script: Script, engine: SpeechEngine) -> Timeline:
    """The exact timeline of a script (synthesizing missing clips into the cache)."""
    voice_ids = resolve_voices(script, engine.voices())
    lengths = prepare_speech(script, engine, voice_ids)
    return _Planner(script, lengths, voice_ids, engine.engine).timeline()
