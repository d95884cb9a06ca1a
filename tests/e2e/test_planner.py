"""Gap, pause and chapter rules of the planner, on real clip lengths."""

import textwrap

import pytest

from meditations.loading import LoadOptions, load_script
from meditations.building.clips import plan_with_speech as plan


def timeline(write, text, engine, **options):
    """The plan of a script without lead-in and tail, so that only the gap rules show."""
    text = textwrap.dedent(text).lstrip()
    text = text.replace("title:", "lead_in: 0\nfade_out: 0\ntitle:", 1) if "lead_in" not in text else text
    return plan(load_script(write("p.yaml", text), LoadOptions(**options)), engine).to_json()


def silences(data):
    return [round(e["end"] - e["start"], 3) for e in data["events"] if e["kind"] == "silence"]


def test_a_chapter_does_not_stop_a_pause_from_replacing_the_gap(write, engine):
    data = timeline(write, """
        title: x
        steps:
          - say: Hello.
          - chapter: C
          - pause: 5s
          - say: Bye.
        """, engine)
    assert silences(data) == [5.0]
    assert data["chapters"][0]["start"] == data["events"][1]["start"]


def test_a_chapter_at_the_very_end_adds_nothing(write, engine):
    data = timeline(write, "title: x\nsteps:\n  - say: Hello.\n  - chapter: Late\n", engine)
    assert silences(data) == [] and data["chapters"] == []


def test_a_trailing_pause_marker_replaces_the_gap_after_its_step(write, engine):
    data = timeline(write, "title: x\nsteps:\n  - say: 'Hello. [pause 2s]'\n  - say: Bye.\n", engine)
    assert silences(data) == [2.0]


def test_empty_and_non_ascii_variables(write, engine):
    data = timeline(write, "title: x\nvariables: {prénom: Ana, extra: }\nsteps:\n  - say: Hi {prénom}{extra}.\n",
                    engine)
    assert data["events"][0]["text"] == "Hi Ana."


def test_pause_markers_stay_literal_in_titles_and_chapters(write, engine):
    data = timeline(write, "title: Rest [pause 3s] now\nsteps:\n  - chapter: A [pause 1s] B\n  - say: Hi.\n",
                    engine)
    assert data["title"] == "Rest [pause 3s] now" and data["chapters"][0]["title"] == "A [pause 1s] B"


@pytest.mark.parametrize("written, seconds", [("0:30", 30.0), ("1:30", 90.0), ("1:00:05", 3605.0)])
def test_clock_style_durations(write, engine, written, seconds):
    data = timeline(write, f"title: x\nsteps:\n  - say: Hi.\n  - pause: '{written}'\n", engine)
    assert silences(data) == [seconds]
