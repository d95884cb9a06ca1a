"""The planner on its own: given clip lengths and recording measurements it plans without speech or files,
and each step kind is one entry of the planning, speaking and walking registries (a new kind included)."""

from __future__ import annotations

import dataclasses
import inspect
import wave
from collections import defaultdict
from pathlib import Path

import pytest

from meditations.model import script as script_module
from meditations.audio import CLIP_RATE
from meditations.model.errors import Location, ScriptError
from meditations.planning.layout import Clip, Layout, Recordings
from meditations.loading import LoadOptions, load_script
from meditations.planning.planner import PLANNERS, lay_out, plan
from meditations.planning.preview import chapter_titles, select_chapter, select_steps
from meditations.model.script import Background, Chapter, Repeat, Say, VoiceSettings
from meditations.audio.sounds import RecordingSound
from meditations.model.walking import SILENT, SPEAKS, heard, spoken, walk


def every_clip(seconds: float):
    """Clip lengths for any text: each clip lasts `seconds`."""
    return defaultdict(lambda: Clip("key", int(seconds * CLIP_RATE)))


def load(write, text: str, name: str = "p.yaml"):
    return load_script(write(name, text), LoadOptions())


def spans(timeline):
    return [(e.kind, e.start, e.end) for e in timeline.events]


def test_the_planner_places_clips_gaps_and_pauses_exactly_without_speech(write):
    script = load(write, """
        title: x
        lead_in: 0
        fade_out: 0
        audio: {sample_rate: 44100}
        steps:
          - say: Hello. Bye.
          - pause: 2s
          - say: Last.
        """)
    timeline = plan(script, every_clip(1.0))
    second, gap = 44100, int(script.steps[0].pace.sentence_gap * 44100)
    assert spans(timeline) == [("speech", 0, second), ("silence", second, second + gap),
                               ("speech", second + gap, 2 * second + gap),
                               ("silence", 2 * second + gap, 4 * second + gap),
                               ("speech", 4 * second + gap, 5 * second + gap)]
    assert timeline.length == 5 * second + gap
    assert [e.clip for e in timeline.events if e.kind == "speech"] == ["key"] * 3


def test_clip_lengths_are_looked_up_by_text_and_voice_settings(write):
    script = load(write, "title: x\nlead_in: 0\nfade_out: 0\nsteps:\n  - say: Short.\n  - say: Long.\n")
    voice = script.steps[0].voice
    clips = {("Short.", voice): Clip("a", CLIP_RATE // 2), ("Long.", voice): Clip("b", 3 * CLIP_RATE)}
    speech = [e for e in plan(script, clips).events if e.kind == "speech"]
    rate = script.audio.sample_rate
    assert [(e.clip, e.end - e.start) for e in speech] == [("a", rate // 2), ("b", 3 * rate)]


def test_fitting_a_length_needs_no_speech(write):
    script = load(write, "title: x\nlength: 1m\nsteps:\n  - say: Hi.\n  - pause: 10s\n  - say: Bye.\n")
    timeline = plan(script, every_clip(2.0))
    assert timeline.length == 60 * script.audio.sample_rate
    assert timeline.length_factor > 1


def test_recordings_and_bell_sounds_are_given_measured_not_read(write, tmp_path):
    recording = tmp_path / "welcome.wav"
    with wave.open(str(recording), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x10" * 8000)
    script = load(write, """
        title: x
        lead_in: 0
        fade_out: 0
        steps:
          - say: {text: Welcome., recording: welcome.wav}
          - bell: {sound: welcome.wav}
        """)
    recording.unlink()  # planning must not need the file: its measurements are given
    measured = Recordings(voice={script.steps[0].recording: (1234, -3.5)}, bells={script.steps[1].sound: 0.5})
    timeline = plan(script, {}, measured)
    first, bell = timeline.events[0], timeline.events[-1]
    assert (first.start, first.end, first.sound) == (0, 1234, RecordingSound(str(script.steps[0].recording), -3.5))
    assert bell.kind == "bell" and bell.end - bell.start == script.audio.sample_rate // 2


def test_a_cue_too_long_for_its_phase_is_found_without_speech(write):
    script = load(write, "title: x\nsteps:\n  - breathe: {pattern: box, cycles: 1, cue: voice}\n")
    with pytest.raises(ScriptError) as caught:
        plan(script, every_clip(4.5))
    assert "longer than its 4 s phase" in str(caught.value.problems[0])


def step_kinds():
    """Every step dataclass of script.py: the located ones, but for the background settings block."""
    return [cls for _, cls in inspect.getmembers(script_module, inspect.isclass)
            if dataclasses.is_dataclass(cls) and cls.__module__ == script_module.__name__
            and "location" in {f.name for f in dataclasses.fields(cls)} and cls is not Background]


def test_every_step_kind_has_a_planning_entry():
    kinds = step_kinds()
    assert Say in kinds and Repeat in kinds
    assert [kind.__name__ for kind in kinds if kind not in PLANNERS] == []


@dataclasses.dataclass(frozen=True)
class Chime:
    """A newcomer's step kind: a spoken word, then a silence of its own."""

    word: str
    seconds: float
    voice: VoiceSettings
    location: Location


def plan_chime(layout: Layout, step: Chime) -> None:
    layout.begin(replaces_gap=False)
    event = layout.clip_event(step.word, step.voice, layout.now, step.location)
    layout.events.append(event)
    layout.now = event.end
    layout.silence(step.seconds, step.location)


@pytest.fixture
def chime_registered(monkeypatch):
    monkeypatch.setitem(PLANNERS, Chime, plan_chime)
    monkeypatch.setitem(SPEAKS, Chime, lambda step: [(step.word, step.voice, step.location)])


@pytest.mark.usefixtures("chime_registered")
def test_a_new_step_kind_is_planned_spoken_walked_and_previewed_through_the_registries(write):
    base = load(write, "title: x\nlead_in: 0\nfade_out: 0\nsteps:\n  - chapter: Start\n  - say: Hi.\n")
    chapter, say = base.steps
    chime = Chime("Ding.", 2.0, say.voice, say.location)
    script = dataclasses.replace(base, steps=(chapter, Repeat(2, (chime,), say.location), say))

    assert [text for text, _, _ in spoken(script)] == ["Ding.", "Hi."]  # a repeat's steps are walked once
    assert list(walk(script.steps)) == [chapter, chime, say]
    assert heard([chapter, Repeat(1, (chime,), say.location)]) and not heard([chapter])

    rate = script.audio.sample_rate
    timeline = plan(script, every_clip(1.0))
    assert [(e.kind, e.text) for e in timeline.events] == [("speech", "Ding."), ("silence", ""),
                                                           ("speech", "Ding."), ("silence", ""), ("speech", "Hi.")]
    assert timeline.length == 7 * rate and timeline.chapters[0].end == 7 * rate  # 1 + 2 + 1 + 2 + 1 s

    assert select_steps(script, "2").steps == (script.steps[1],)
    assert chapter_titles(script) == ["Start"] and select_chapter(script, "start").steps == script.steps


def test_a_step_kind_marked_silent_is_not_counted_as_heard(monkeypatch):
    location = Location("x.yaml", 1, 1)
    chime = Chime("Ding.", 1.0, VoiceSettings(volume=1.0), location)
    assert heard([chime])
    monkeypatch.setattr("meditations.model.walking.SILENT", SILENT | {Chime})
    assert not heard([chime, Chapter("A", location)])


def test_lay_out_without_fitting_places_the_steps_once(write):
    script = load(write, "title: x\nlength: 10m\nlead_in: 0\nfade_out: 0\nsteps:\n  - pause: 3s\n")
    placed = lay_out(script, Layout(script.audio.sample_rate, {}))
    assert placed.timeline.length == 3 * script.audio.sample_rate == placed.layout.flexible_pauses


def test_the_bundled_library_plans_with_any_clip_lengths():
    scripts = Path(__file__).resolve().parents[3] / "scripts"
    script = load_script(scripts / "box-breathing.yaml", LoadOptions())
    assert plan(script, every_clip(0.5)).length > 0
