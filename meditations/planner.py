"""Stage 2: plan the timeline — every sound and silence at an exact sample position.

Planning needs each clip's length, so it asks the speech stage to fill the cache first. Times are
whole samples at the output rate, so nothing drifts however long the track is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from .durations import format_duration
from .loading.format_limits import check_track_length
from .loading import clock
from .errors import Location, Problem, RenderError, ScriptError, excerpt
from .script import (Bell, Breathe, Chapter, Include, ParagraphBreak, Pause, Repeat, Say, Script, Sentence, TextPause,
                     VoiceSettings)
from .sounds import BellSound, RecordingSound, ToneSound, natural_ring_seconds, read_audio_file, trim_quiet
from .speech import ENGINE_SAMPLE_RATE, SpeechEngine, SpeechRequest, load_clip
from .voicechoice import request_for, resolve_voices  # noqa: F401  (resolve_voices: re-exported)

JOINED_GAP = 0.25  # between the pieces of an over-long sentence that was cut up


@dataclass(frozen=True)
class Event:
    """One sound or silence on the timeline, in samples at the track's rate."""

    kind: str  # "speech" | "silence" | "breath" | "bell" | "tone"
    start: int
    end: int
    text: str = ""
    clip: str = ""  # cache key of a speech clip
    location: Location | None = field(default=None, compare=False)
    phase: str = ""  # breath events: in | hold | out
    sound: object = None  # BellSound or ToneSound for made sounds

    @property
    def audible(self) -> bool:
        """Whether the mixer has something to play for this event."""
        return bool(self.clip) or self.sound is not None

    def to_json(self, rate: int) -> dict:
        """The event as plan --json shows it (times in seconds)."""
        data = {"kind": self.kind, "start": _seconds(self.start, rate), "end": _seconds(self.end, rate)}
        if self.kind == "speech":
            data["text"] = self.text
        if self.kind == "breath":
            data["phase"] = self.phase
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
    length_factor: float = 1.0

    @property
    def duration(self) -> float:
        """The track's length in seconds."""
        return self.length / self.sample_rate

    def to_json(self) -> dict:
        """The plan as one JSON-ready object."""
        rate = self.sample_rate
        return {"title": self.title, "duration": _seconds(self.length, rate),
                "length_factor": round(self.length_factor, 6),
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

def _walk(steps):
    for step in steps:
        if isinstance(step, (Repeat, Include)):
            yield from _walk(step.steps)
        else:
            yield step


def cue_texts(step: Breathe) -> list[str]:
    """What a breathe step's cues speak: its phase words, or the seconds to count."""
    words = dict(step.words)
    if step.cue == "voice":
        return list(dict.fromkeys(words[p.word] for p in step.pattern.phases))
    if step.cue == "count":
        longest = int(max(p.seconds for p in step.pattern.phases) + 1e-9)
        return [str(n) for n in range(1, longest + 1)]
    return []


def spoken(script: Script):
    """Every (text, voice settings, location) the script speaks: sentences and breathing cues."""
    for step in _walk(script.steps):
        if isinstance(step, Say) and step.recording is None:
            for piece in step.pieces:
                if isinstance(piece, Sentence):
                    yield piece.text, step.voice, step.location
        elif isinstance(step, Breathe):
            for text in cue_texts(step):
                yield text, step.voice, step.location


def speech_requests(script: Script, voice_ids: dict) -> dict[SpeechRequest, Location]:
    """Every clip the script needs, with where it is asked for (for locating failures)."""
    requests: dict[SpeechRequest, Location] = {}
    for text, settings, location in spoken(script):
        requests.setdefault(request_for(text, settings, voice_ids), location)
    return requests


def prepare_speech(script: Script, engine: SpeechEngine, voice_ids: dict) -> dict[SpeechRequest, int]:
    """Make sure every clip is cached; returns each request's length in engine samples."""
    requests = speech_requests(script, voice_ids)
    failures = engine.synthesize(requests)
    if failures:
        raise ScriptError([Problem(requests[f.request],
                                   f"speech synthesis failed for '{_short(f.request.text)}': {f.reason}")
                           for f in failures])
    lengths = {}
    for request in requests:
        clip = load_clip(request.key())
        if clip is None:
            raise RenderError("the speech cache lost a clip while rendering; run the command again")
        lengths[request] = int(clip.size)
    return lengths


def check_cues(script: Script, engine: SpeechEngine) -> None:
    """What validate checks beyond the file: voices exist, and every spoken breathing cue fits its phase
    (only the cue words are synthesized, not the whole script)."""
    voice_ids = resolve_voices(script, engine)
    breathing = [step for step in _walk(script.steps) if isinstance(step, Breathe) and cue_texts(step)]
    if not breathing:
        return
    cues_only = replace(script, steps=tuple(breathing), length=None)
    lengths = prepare_speech(cues_only, engine, voice_ids)
    _Planner(cues_only, lengths, voice_ids).timeline()


def measure_recordings(script: Script, lengths: dict) -> dict:
    """For each recording: its length at the track's rate and the gain that matches it to the voice."""
    says = [step for step in _walk(script.steps) if isinstance(step, Say) and step.recording is not None]
    if not says:
        return {}
    rate = script.audio.sample_rate
    reference = _voice_loudness(lengths)
    measured = {}
    for say in says:
        if say.recording in measured:
            continue
        try:
            audio = trim_quiet(read_audio_file(say.recording, rate), rate)
        except RenderError as exc:
            raise ScriptError([Problem(say.recording_location or say.location, str(exc))]) from None
        if audio.size == 0:
            raise ScriptError([Problem(say.recording_location or say.location, f"{say.recording.name} is silent")])
        measured[say.recording] = (audio.size, reference - loudness_of(audio, rate))
    return measured


VOICE_REFERENCE_LUFS = -20.0  # used when a script has no synthesized speech to match recordings to


def _voice_loudness(lengths: dict) -> float:
    """The loudness of the synthesized speech in a script (a sample of its clips)."""
    import numpy as np

    clips = [load_clip(request.key()) for request in list(lengths)[:40]]
    clips = [c for c in clips if c is not None and c.size]
    if not clips:
        return VOICE_REFERENCE_LUFS
    return loudness_of(np.concatenate(clips).astype(np.float32) / 32768.0, ENGINE_SAMPLE_RATE)


def loudness_of(audio, rate: int) -> float:
    """Integrated loudness of a whole clip."""
    from .loudness import Meter, integrated_loudness

    meter = Meter(rate)
    meter.feed(audio)
    meter.finish()
    return integrated_loudness(meter.energy())


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------- the timeline

class _Planner:
    def __init__(self, script: Script, lengths: dict, voice_ids: dict,
                 pause_factor: float = 1.0, breathe_factor: float = 1.0, extra_tail: int = 0):
        self.script = script
        self.rate = script.audio.sample_rate
        self.lengths = lengths
        self.voice_ids = voice_ids
        self.pause_factor = pause_factor
        self.breathe_factor = breathe_factor
        self.extra_tail = extra_tail  # samples added to the closing silence so a fitted length lands on target
        self.now = 0
        self.events: list[Event] = []
        self.chapter_starts: list[tuple[str, int]] = []
        self.pending_gap = 0.0
        self.pending_chapters: list[str] = []
        self.flexible_pauses = 0  # samples of pauses placed (they stretch with `length`)
        self.flexible_breathing = 0  # samples of breathe-by-duration placed
        self.shortest_breathing = 0  # one cycle of each breathe-by-duration: the least they can take
        self.problems: list[Problem] = []
        self.recordings: dict = {}

    def samples(self, seconds: float) -> int:
        return int(round(seconds * self.rate))

    def flush_gap(self) -> None:
        if self.pending_gap:
            self.silence(self.pending_gap)
        self.pending_gap = 0.0

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
        """An exact silence that replaces the pending gap; it stretches with the length factor."""
        self.begin(replaces_gap=True)
        before = self.now
        self.silence(seconds * self.pause_factor, location)
        self.flexible_pauses += self.now - before

    def silence(self, seconds: float, location=None) -> None:
        length = self.samples(seconds)
        if length > 0:
            self.events.append(Event("silence", self.now, self.now + length, location=location))
            self.now += length

    def clip_event(self, text: str, settings: VoiceSettings, at: int, location) -> Event:
        request = request_for(text, settings, self.voice_ids)
        length = resampled_length(self.lengths[request], self.rate)
        return Event("speech", at, at + length, text, request.key(), location)

    def speak(self, say: Say, sentence: Sentence) -> None:
        self.begin(replaces_gap=False)
        event = self.clip_event(sentence.text, say.voice, self.now, say.location)
        self.events.append(event)
        self.now = event.end

    def recorded(self, say: Say) -> None:
        """A therapist's recording of the whole text, matched in loudness to the synthesized voice."""
        self.begin(replaces_gap=False)
        length, gain_db = self.recordings[say.recording]
        sound = RecordingSound(str(say.recording), gain_db)
        self.events.append(Event("speech", self.now, self.now + length, say.text, location=say.location, sound=sound))
        self.now += length
        self.pending_gap = say.pace.paragraph_gap

    def say(self, say: Say) -> None:
        if say.recording is not None:
            self.recorded(say)
            return
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

    def breathe(self, step: Breathe) -> None:
        self.begin(replaces_gap=False)
        pattern = step.pattern
        cycle = pattern.cycle_seconds
        if step.cycles is not None:
            cycles = step.cycles
        else:
            cycles = max(1, int(step.duration * self.breathe_factor / cycle + 1e-9))
        start, offset = self.now, 0.0
        for _ in range(cycles):
            for phase in pattern.phases:
                phase_start = start + self.samples(offset)
                offset += phase.seconds
                phase_end = start + self.samples(offset)  # from the step's start: no drift, ever
                self.events.append(Event("breath", phase_start, phase_end, dict(step.words)[phase.word],
                                         phase=phase.phase, location=step.location))
                self.cue(step, phase, phase_start, phase_end)
        self.now = start + self.samples(offset)
        if step.cycles is None:
            self.flexible_breathing += self.now - start
            self.shortest_breathing += self.samples(cycle)
        self.pending_gap = 0.0

    def cue(self, step: Breathe, phase, start: int, end: int) -> None:
        if step.cue == "voice":
            self.timed_clip(step, dict(step.words)[phase.word], start, end, phase.word)
        elif step.cue == "count":
            for second in range(int(phase.seconds + 1e-9)):
                at = start + self.samples(second)
                self.timed_clip(step, str(second + 1), at, min(end, at + self.rate), phase.phase)
        elif step.cue == "tone":
            low, high = TONE_LOW_HZ, TONE_HIGH_HZ
            glide = {"in": (low, high), "out": (high, low)}.get(phase.phase)
            if phase.word == "in_again":
                glide = (high, high * 1.12)
            if glide is None:  # a hold stays where the breath left it
                glide = (high, high) if self._after_in(step, phase) else (low, low)
            self.events.append(Event("tone", start, end, sound=ToneSound(*glide), location=step.location))
        elif step.cue == "bell":
            ring = min(self.samples(natural_ring_seconds()), end - start + self.samples(1.5))
            self.events.append(Event("bell", start, start + ring, sound=BellSound(pitch=CUE_BELL_HZ, gain_db=-14.0),
                                     location=step.location))

    @staticmethod
    def _after_in(step: Breathe, phase) -> bool:
        phases = step.pattern.phases
        index = phases.index(phase)
        return index > 0 and phases[index - 1].phase == "in"

    def timed_clip(self, step: Breathe, text: str, start: int, end: int, phase: str) -> None:
        event = self.clip_event(text, step.voice, start, step.location)
        if event.end > end:
            over = (event.end - end) / self.rate
            room = (end - start) / self.rate
            self.problems.append(Problem(step.location, f"the '{phase}' cue \"{text}\" takes "
                                         f"{(event.end - start) / self.rate:.2f} s, {over:.2f} s longer than its "
                                         f"{room:g} s {'second' if step.cue == 'count' else 'phase'}: use shorter "
                                         "words, a faster voice rate, or cue: tone"))
        self.events.append(event)

    def bell(self, step: Bell) -> None:
        self.begin(replaces_gap=False)
        if step.ring is not None:
            ring = step.ring
        elif step.sound is not None:
            try:
                ring = _file_seconds(step.sound)
            except RenderError as exc:
                raise ScriptError([Problem(step.location, str(exc))]) from None
        else:
            ring = natural_ring_seconds()
        start = self.now
        sound = BellSound(file=str(step.sound) if step.sound else "")
        for strike in range(step.strikes):
            at = start + self.samples(strike * step.gap)
            self.events.append(Event("bell", at, at + self.samples(ring), sound=sound, location=step.location))
        self.now = start + self.samples((step.strikes - 1) * step.gap + ring)
        self.pending_gap = 0.0

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
            elif isinstance(step, Breathe):
                self.breathe(step)
            elif isinstance(step, Bell):
                self.bell(step)

    def timeline(self) -> Timeline:
        self.silence(self.script.finish.lead_in)
        self.steps(self.script.steps)
        self.pending_chapters.clear()
        self.silence(self.script.finish.fade_out + self.extra_tail / self.rate)
        if self.problems:
            raise ScriptError(self.problems)
        limit = self.script.max_track_seconds
        if limit and self.now > limit * self.rate:
            crossing = next(e for e in self.events if e.end > limit * self.rate)
            raise ScriptError([Problem(crossing.location or Location(self.script.display, 1, 1),
                                       f"the track would last over the limit of {clock(limit)} "
                                       "(MEDITATE_MAX_TRACK_SECONDS)")])
        overhang = max((e.end for e in self.events), default=0) - self.now
        if overhang > 0:  # a ring that outlasts the last step: the track lasts until it has died away
            self.silence(overhang / self.rate)
        events = tuple(sorted(self.events, key=lambda e: e.start))
        return Timeline(self.script.title, self.rate, self.now, events, self._chapters())

    def _chapters(self) -> tuple[ChapterMark, ...]:
        starts = []
        for title, start in self.chapter_starts:
            if starts and starts[-1][1] == start:
                starts.pop()  # an empty chapter is replaced by the one that follows it
            starts.append((title, start))
        if starts and starts[0][1] > 0 and not any(e.audible and e.start < starts[0][1] for e in self.events):
            starts[0] = (starts[0][0], 0)  # nothing is heard before the first chapter: start it at 0
        ends = [start for _, start in starts[1:]] + [self.now]
        return tuple(ChapterMark(title, start, end) for (title, start), end in zip(starts, ends) if end > start)


TONE_LOW_HZ = 196.0
TONE_HIGH_HZ = 294.0
CUE_BELL_HZ = 523.0


def _file_seconds(path) -> float:
    from .sounds import read_audio_file

    return read_audio_file(path, 8000).size / 8000


def plan(script: Script, engine: SpeechEngine) -> Timeline:
    """The exact timeline of a script (synthesizing missing clips into the cache), fitted to its length."""
    voice_ids = resolve_voices(script, engine)
    lengths = prepare_speech(script, engine, voice_ids)

    recordings = measure_recordings(script, lengths)

    def attempt(pause_factor: float = 1.0, breathe_factor: float = 1.0, extra_tail: int = 0) -> _Planner:
        planner = _Planner(script, lengths, voice_ids, pause_factor, breathe_factor, extra_tail)
        planner.recordings = recordings
        planner.result = planner.timeline()
        return planner

    first = attempt()
    timeline = first.result if script.length is None else _fit_length(script, first, attempt)
    check_track_length(timeline.duration, script.display)
    return timeline


def _fit_length(script: Script, first: _Planner, attempt) -> Timeline:
    """Stretch or shrink pauses and breathe-by-duration steps by one factor to land on the target."""
    rate = first.rate
    target = int(round(script.length * rate))
    flexible = first.flexible_pauses + first.flexible_breathing
    fixed = first.now - flexible
    shortest = fixed + first.shortest_breathing
    where = script.length_location
    if flexible == 0:
        raise _length_problem(where, f"a length of {format_duration(script.length)} cannot be reached: nothing in "
                                     "this script stretches (add pause steps, or breathe steps with duration:)")
    if target <= shortest:
        raise _length_problem(where, f"a length of {format_duration(script.length)} is too short: the fixed parts "
                                     "(speech, bells, counted breaths) need at least "
                                     f"{format_duration(shortest / rate)}")
    factor = (target - fixed) / flexible
    second = attempt(factor, factor)
    # Whole breathing cycles leave a remainder: the pauses take it up so the track lands on target,
    # or, where there are no pauses, the closing silence does.
    pause_factor = factor
    if second.flexible_pauses and second.now != target:
        pause_factor = factor * (second.flexible_pauses + target - second.now) / second.flexible_pauses
        if pause_factor > 0:
            second = attempt(pause_factor, factor)
        else:
            pause_factor = factor
    if second.now < target:
        second = attempt(pause_factor, factor, extra_tail=target - second.now)
    return replace(second.result, length_factor=pause_factor if first.flexible_pauses else factor)


def _length_problem(where: Location | None, message: str):
    if where is None:  # the length came from the command line
        return RenderError(f"--length: {message}")
    return ScriptError([Problem(where, message)])
