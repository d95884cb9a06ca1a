"""What a clinician checks in the bundled practices, on the scripts and their plans (no audio is made).

- every track carries the shared safety lines; breath-hold practices add the health caution;
- the practices that reach into distress ground the listener before the closing;
- every question is given its silence: at least 5 s before the next sentence, whatever it is;
- the narration keeps a calm pace, and each guided practice arrives in words of its own;
- without a client's name nothing is said in its place, and with one only the address is added;
- faithful to the source article but in our own words: no run of eight words is shared with it.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from pathlib import Path

import pytest

from meditations.planning.layout import Clip, Layout
from meditations.planning.planner import lay_out
from meditations.building.track import load
from meditations.loading.settings import Settings
from meditations.model.script import Breathe, Include, Repeat, Say, VoiceSettings
from meditations.speaking.pool import ENGINE_SAMPLE_RATE

ROOT = Path(__file__).resolve().parents[3]
SCRIPTS = ROOT / "scripts"
PARTIALS = SCRIPTS / "_partials"
MIN_SECONDS_AFTER_A_QUESTION = 5.0
LIBRARY_RATE = 135  # words per minute of speech, the rate library.yaml gives the voice
CALM_PACE = (120, 140)
SHARED_BY_DESIGN = ("safety.yaml", "breath-hold-caution.yaml")  # guided narration's usual pace, words per minute
# The practices that ask the listener to dwell on suffering, their own (a struggle, a distress, a past
# decision) or someone else's (compassion-for-others and noticing-what-moves-you: the source article's
# empathic distress, which the grounding leads out of): each grounds the listener before the closing.
DISTRESS = ("preparing-a-re-decision", "three-steps-of-self-compassion", "watch-yourself-from-a-distance",
            "just-do-it", "fake-it", "compassion-for-others", "noticing-what-moves-you")


def bundled() -> list[str]:
    names = sorted(p.stem for p in SCRIPTS.glob("*.yaml") if p.name != "library.yaml")
    assert len(names) >= 14
    return names


def included(steps) -> list[Path]:
    """Every file included, in order of first appearance, at any depth."""
    found = []
    for step in steps:
        if isinstance(step, Include):
            found.append(step.path)
        if isinstance(step, (Include, Repeat)):
            found.extend(included(step.steps))
    return found


def breathing_steps(steps) -> list[Breathe]:
    found = []
    for step in steps:
        if isinstance(step, Breathe):
            found.append(step)
        elif isinstance(step, (Include, Repeat)):
            found.extend(breathing_steps(step.steps))
    return found


def silent_timeline(script):
    """The script's timeline with every clip half a second long (short enough for every breathing cue). The silence between the end of one sentence and
    the start of the next comes from gaps, pauses, bells and breaths alone, never from clip lengths, so it is
    exact without synthesizing the whole library."""
    clips = defaultdict(lambda: Clip("any", ENGINE_SAMPLE_RATE // 2))
    return lay_out(script, Layout(script.audio.sample_rate, clips)).timeline


@pytest.mark.parametrize("name", bundled())
def test_every_track_carries_the_safety_lines_once(name):
    script = load(SCRIPTS / f"{name}.yaml")
    assert included(script.steps).count(PARTIALS / "safety.yaml") == 1


@pytest.mark.parametrize("name", bundled())
def test_breath_holds_come_with_the_health_caution(name):
    script = load(SCRIPTS / f"{name}.yaml")
    holds = any(p.phase == "hold" for step in breathing_steps(script.steps) for p in step.pattern.phases)
    assert (PARTIALS / "breath-hold-caution.yaml" in included(script.steps)) == holds


@pytest.mark.parametrize("name", DISTRESS)
def test_distress_practices_ground_the_listener_before_the_closing(name):
    files = included(load(SCRIPTS / f"{name}.yaml").steps)
    assert files.index(PARTIALS / "grounding.yaml") == files.index(PARTIALS / "closing.yaml") - 1


@pytest.mark.parametrize("name", bundled())
def test_each_question_has_its_own_silence(name):
    timeline = silent_timeline(load(SCRIPTS / f"{name}.yaml"))
    rate = timeline.sample_rate
    sentences = [e for e in timeline.events if e.kind == "speech"]
    assert sentences
    for before, after in zip(sentences, sentences[1:]):
        if before.text.endswith("?"):
            silence = (after.start - before.end) / rate
            assert silence >= MIN_SECONDS_AFTER_A_QUESTION, (before.text, after.text, silence)


def test_the_silence_check_sees_questions_that_crowd_each_other(tmp_path):
    """The check above finds a question followed a sentence gap later by anything, and accepts a [pause 5s]."""
    crowded = tmp_path / "crowded.yaml"
    crowded.write_text("title: x\nsteps:\n  - say: Who was it? What did they say?\n  - pause: 5s\n"
                       "  - say: What did you feel? [pause 5s] And after?\n", encoding="utf-8")
    timeline = silent_timeline(load(crowded))
    speech = [e for e in timeline.events if e.kind == "speech"]
    silences = [(b.start - a.end) / timeline.sample_rate for a, b in zip(speech, speech[1:])]
    assert silences == [1.5, 5.0, 5.0]


SEED = Path(os.environ.get("MEDITATE_SEED_DIR", ROOT.parent / "shared" / "seed"))
RUN = 8


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'", ""))


def runs(text: str) -> set[tuple[str, ...]]:
    tokens = words(text)
    return {tuple(tokens[i:i + RUN]) for i in range(len(tokens) - RUN + 1)}


@pytest.mark.skipif(not SEED.is_dir(), reason=f"the source article is not here ({SEED}; set MEDITATE_SEED_DIR)")
def test_no_run_of_eight_words_is_shared_with_the_source_article():
    seed = set().union(*(runs(p.read_text(encoding="utf-8")) for p in SEED.glob("*.txt")))
    assert seed
    for path in sorted(SCRIPTS.rglob("*.yaml")):
        shared = runs(path.read_text(encoding="utf-8")) & seed
        assert not shared, (path.name, [" ".join(r) for r in shared])


def says(steps):
    for step in steps:
        if isinstance(step, (Include, Repeat)):
            yield from says(step.steps)
        elif isinstance(step, Say):
            yield step


@pytest.mark.parametrize("client_rate", [None, 100, 160])
def test_closings_are_slower_than_the_rest_at_any_clients_rate(client_rate):
    """The closing partial's pace is relative to the voice it would otherwise have, so it stays the slowest
    part of a track whatever rate a client's profile sets."""
    settings = Settings(voice=VoiceSettings(rate=client_rate) if client_rate else None)
    for name in bundled():
        script = load(SCRIPTS / f"{name}.yaml", settings)
        closing = {step.voice.rate for step in says(script.steps) if step.location.file.endswith("closing.yaml")}
        assert script.voice.rate == (client_rate or LIBRARY_RATE)
        assert closing and max(closing) <= round(script.voice.rate * 0.92), (name, closing)


@pytest.mark.parametrize("name", bundled())
def test_the_narration_keeps_a_calm_pace(name):
    rates = {step.voice.rate for step in says(load(SCRIPTS / f"{name}.yaml").steps)}
    assert rates and all(CALM_PACE[0] <= rate <= CALM_PACE[1] for rate in rates), rates


def test_each_guided_practice_arrives_in_words_of_its_own():
    """Only the safety lines (and the breathing tracks' short welcome) are shared: no two guided practices
    open with the same sentences."""
    openings = {}
    for name in bundled():
        script = load(SCRIPTS / f"{name}.yaml")
        if not any(PARTIALS / "closing.yaml" == path for path in included(script.steps)):
            continue  # the short breathing tracks
        spoken = [step for step in says(script.steps) if not step.location.file.endswith(SHARED_BY_DESIGN)]
        openings[name] = [step.text for step in spoken[:5]]
    assert len(openings) == 10
    for sentence in {text for texts in openings.values() for text in texts}:
        sharing = [name for name, texts in openings.items() if sentence in texts]
        assert len(sharing) <= 2, (sentence, sharing)


@pytest.mark.parametrize("name", bundled())
def test_without_a_name_nothing_is_said_in_its_place(name):
    """The library's default name is empty: a sentence that addresses the client by name reads naturally
    without one, and with a name only the address (", Ana") is added."""
    unnamed = [step.text for step in says(load(SCRIPTS / f"{name}.yaml").steps)]
    named = [step.text for step in says(load(SCRIPTS / f"{name}.yaml", Settings(variables=(("name", "Ana"),))).steps)]
    assert len(unnamed) == len(named)
    for without, with_name in zip(unnamed, named, strict=True):
        assert without == with_name.replace(", Ana", ""), with_name
        assert not re.search(r"\s[,.?!;:]|,[.?!;:]|,\s*friend[.,!?]", without), without
    assert any("Ana" in text for text in named)
