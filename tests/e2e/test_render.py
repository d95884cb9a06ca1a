"""End to end on real components: pyttsx3 + eSpeak NG, LAME in the bundled ffmpeg, mutagen tags, ffmpeg to read back."""

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import ROOT, decode, ffmpeg_duration, on_a_terminal
from meditations.building.track import load, render

SCRIPT = """
lead_in: 0
fade_out: 0
title: Timing check
author: Test Practice
album: Test Album
description: A short script whose timing is read back from the audio.
voice: {rate: 160}
pace: {sentence_gap: 0.8s, paragraph_gap: 2s}
variables: {name: friend}
steps:
  - chapter: Start
  - say: Close your eyes, {name}. Let your shoulders drop.
  - pause: 2.5s
  - say: |
      Notice your breath. [pause 1.5s] Let it be slow.

      Picture a calm place.
  - chapter: Breathing
  - repeat: 2
    steps:
      - say: Breathe in.
      - pause: 1s
  - say: Well done.
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, engine):
    folder = tmp_path_factory.mktemp("render")
    path = folder / "timing.yaml"
    path.write_text(SCRIPT.lstrip(), encoding="utf-8")
    script = load(path)
    result = render(script, folder / "timing.mp3", engine)
    return result, decode(result.path, script.audio.sample_rate)


def onset(audio, rate, around, window=0.3, threshold=0.01):
    """The first sample above threshold near a planned time."""
    start = max(0, int((around - window) * rate))
    loud = np.flatnonzero(np.abs(audio[start:int((around + window) * rate)]) > threshold)
    return (start + loud[0]) / rate if loud.size else None


def test_plan_places_gaps_and_pauses_exactly(rendered):
    result, _ = rendered
    data = result.timeline.to_json()
    kinds = [e["kind"] for e in data["events"]]
    assert kinds == ["speech", "silence"] * 7 + ["speech"]
    durations = [round(e["end"] - e["start"], 3) for e in data["events"] if e["kind"] == "silence"]
    # sentence gap, pause step, [pause] marker, paragraph gap, gap between steps (kept by the chapter), pauses
    assert durations == [0.8, 2.5, 1.5, 2.0, 2.0, 1.0, 1.0]
    assert [e["text"] for e in data["events"] if e["kind"] == "speech"] == [
        "Close your eyes, friend.", "Let your shoulders drop.", "Notice your breath.", "Let it be slow.",
        "Picture a calm place.", "Breathe in.", "Breathe in.", "Well done."]
    assert [c["title"] for c in data["chapters"]] == ["Start", "Breathing"]
    assert data["chapters"][0]["start"] == 0
    assert data["chapters"][1]["start"] == data["events"][10]["start"]
    assert data["chapters"][1]["end"] == data["duration"]


def test_speech_starts_in_the_audio_where_the_plan_says(rendered):
    result, audio = rendered
    rate = result.timeline.sample_rate
    for event in result.timeline.events:
        if event.kind == "speech":
            heard = onset(audio, rate, event.start / rate)
            assert heard is not None and abs(heard - event.start / rate) < 0.05, event.text


def test_silences_are_silent(rendered):
    result, audio = rendered
    rate = result.timeline.sample_rate
    for event in result.timeline.events:
        if event.kind == "silence":
            inner = audio[event.start + int(0.06 * rate):event.end - int(0.06 * rate)]
            assert np.max(np.abs(inner)) < 0.003


def test_mp3_duration_matches_the_plan(rendered):
    result, audio = rendered
    assert abs(ffmpeg_duration(result.path) - result.timeline.duration) < 0.1
    assert abs(audio.size / result.timeline.sample_rate - result.timeline.duration) < 0.1


def test_id3_tags(rendered):
    from mutagen.id3 import ID3

    tags = ID3(rendered[0].path)
    assert tags["TIT2"].text == ["Timing check"]
    assert tags["TPE1"].text == ["Test Practice"]
    assert tags["TALB"].text == ["Test Album"]
    assert tags["TCON"].text == ["Meditation"]
    assert tags.getall("COMM")[0].text == ["A short script whose timing is read back from the audio."]


def test_plan_json_is_one_object_on_stdout(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text(SCRIPT.lstrip(), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--json", "--set", "name=Ana"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) >= {"title", "duration", "events", "chapters"}
    assert data["events"][0] == {"kind": "speech", "start": 0.0, "end": data["events"][0]["end"],
                                 "text": "Close your eyes, Ana."}
    assert all(set(e) >= {"kind", "start", "end"} for e in data["events"])


def test_render_command_prints_only_what_a_person_needs(tmp_path, monkeypatch):
    (tmp_path / "calm.yaml").write_text("title: Calm\nsteps:\n  - say: Rest here.\n  - pause: 1s\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "calm.yaml", "-o", "out"])
    assert result.exit_code == 0, result.stderr
    duration = ffmpeg_duration(tmp_path / "out" / "calm.mp3")
    assert result.stdout.startswith("wrote out/calm.mp3 (0:0")
    assert result.stdout.count("\n") == 1 and "Audio saved" not in result.stdout
    assert result.stderr == ""
    assert 6.5 < duration < 9  # 2 s lead-in, the sentence, 1 s pause, 4 s tail


def test_render_on_a_terminal_shows_its_progress_then_only_what_it_wrote(tmp_path, monkeypatch):
    (tmp_path / "calm.yaml").write_text("title: Calm\nsteps:\n  - say: Rest here, on a terminal.\n"
                                        "  - pause: 30s\n")
    monkeypatch.chdir(tmp_path)
    screen = on_a_terminal([sys.executable, str(ROOT / "cli.py"), "render", "calm.yaml", "-o", "out"])
    assert "\rsynthesizing speech [" in screen and " 1/1 sentence" in screen
    assert "\rrendering calm.mp3 [" in screen and " of 0:3" in screen
    assert screen.splitlines()[-1].split("\r")[-1].startswith("wrote out/calm.mp3 (0:3")  # the line cleared


def test_audio_format_from_the_command_line(tmp_path, monkeypatch):
    import subprocess
    from helpers import ffmpeg

    (tmp_path / "calm.yaml").write_text("title: Calm\nsteps:\n  - say: Rest here.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "calm.yaml", "--sample-rate", "22050", "--channels", "2",
                                       "--bitrate", "96"])
    assert result.exit_code == 0, result.stderr
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", "audio_out/calm.mp3"], capture_output=True, text=True).stderr
    assert "22050 Hz, stereo" in info and "96 kb/s" in info


def test_a_bad_script_among_good_ones(tmp_path, monkeypatch):
    (tmp_path / "good.yaml").write_text("title: Good\nsteps:\n  - say: Hello.\n")
    (tmp_path / "bad.yaml").write_text("title: Bad\nsteps:\n  - pause: never\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "bad.yaml", "good.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "bad.yaml:3:12: 'pause': 'never' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h",
        "1 of 2 scripts failed"]
    assert result.stdout.startswith("wrote audio_out/good.mp3")
    assert not (tmp_path / "audio_out" / "bad.mp3").exists()


def test_chapters_and_transcript_travel_with_the_track(rendered):
    from mutagen.id3 import ID3

    result, _ = rendered
    tags = ID3(result.path)
    toc = tags.getall("CTOC")[0]
    chapters = [tags[f"CHAP:{element}"] for element in toc.child_element_ids]
    planned = result.timeline.to_json()["chapters"]
    assert [c.sub_frames["TIT2"].text[0] for c in chapters] == [p["title"] for p in planned]
    assert [(c.start_time, c.end_time) for c in chapters] == [(round(p["start"] * 1000), round(p["end"] * 1000))
                                                               for p in planned]
    vtt = result.path.with_suffix(".vtt").read_text()
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.000 --> 00:00:0")
    assert vtt.count(" --> ") == 8 and "Close your eyes, friend." in vtt


def test_ffmpeg_lists_the_chapters_at_their_planned_times(rendered):
    import re
    import subprocess
    from helpers import ffmpeg

    result, _ = rendered
    info = subprocess.run([ffmpeg(), "-hide_banner", "-i", str(result.path)], capture_output=True, text=True).stderr
    found = [(float(a), float(b)) for a, b in re.findall(r"Chapter #0:\d+: start ([\d.]+), end ([\d.]+)", info)]
    planned = [(c["start"], c["end"]) for c in result.timeline.to_json()["chapters"]]
    assert len(found) == len(planned) and all(abs(a - c) < 0.002 and abs(b - d) < 0.002
                                              for (a, b), (c, d) in zip(found, planned))
