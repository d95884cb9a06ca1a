"""Authoring additions: including a complete script, zero gaps, a client's own recordings folder, and `render`
of a folder mirroring its subfolders. Real engine, real renders."""

import json

from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import write_wav

BOX = """
title: Box
description: Not part of the session.
voice: {rate: 300}
pace: {sentence_gap: 9s}
variables: {place: the garden}
length: 1h
steps:
  - chapter: Box breathing
  - say: Breathe at {place}.
  - breathe: {pattern: box, cycles: 1, cue: none}
"""

SESSION = """
title: Session
pace: {sentence_gap: 1s, paragraph_gap: 2s}
lead_in: 0
fade_out: 0
steps:
  - chapter: Welcome
  - say: Welcome. Let us begin.
  - include: box.yaml
  - chapter: Rest
  - pause: 3s
"""


def plan_json(*args):
    result = CliRunner().invoke(main, ["plan", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_an_included_script_plays_its_steps_with_its_chapters_and_nothing_else(tmp_path, monkeypatch):
    (tmp_path / "box.yaml").write_text(BOX)
    (tmp_path / "session.yaml").write_text(SESSION)
    monkeypatch.chdir(tmp_path)
    plan = plan_json("session.yaml")
    assert plan["title"] == "Session"
    assert [c["title"] for c in plan["chapters"]] == ["Welcome", "Box breathing", "Rest"]
    speech = [e for e in plan["events"] if e["kind"] == "speech"]
    assert [e["text"] for e in speech] == ["Welcome.", "Let us begin.", "Breathe at the garden."]
    # The session's pace and voice, not the included script's: 1 s between sentences, 2 s between steps.
    assert round(speech[1]["start"] - speech[0]["end"], 6) == 1.0
    assert round(speech[2]["start"] - speech[1]["end"], 6) == 2.0
    (tmp_path / "fast.yaml").write_text("title: x\nsteps:\n  - say: Breathe at the garden.\n    voice: {rate: 300}\n")
    fast = next(e for e in plan_json("fast.yaml")["events"] if e["kind"] == "speech")
    assert fast["end"] - fast["start"] < 0.7 * (speech[2]["end"] - speech[2]["start"])  # box.yaml's rate is not used
    assert plan["duration"] == round(speech[2]["end"] + 2 + 16 + 3, 6)  # the gap, its one box breath, the rest


def test_an_included_scripts_problems_are_located_in_it(tmp_path, monkeypatch):
    (tmp_path / "box.yaml").write_text(BOX.replace("length: 1h", "lenght: 1h"))
    (tmp_path / "session.yaml").write_text(SESSION)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "session.yaml"])
    assert (result.exit_code, result.stderr) == (1, "box.yaml:7:1: unknown key 'lenght' (did you mean 'length'?)\n")


def test_zero_gaps_leave_no_silence_but_negative_ones_and_zero_pauses_are_errors(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nlead_in: 0\npace: {sentence_gap: 0s, paragraph_gap: 0}\nsteps:\n"
                                     "  - say: |\n      One. Two.\n\n      Three.\n  - say: Four.\n")
    monkeypatch.chdir(tmp_path)
    speech = [e for e in plan_json("s.yaml")["events"] if e["kind"] == "speech"]
    assert [e["text"] for e in speech] == ["One.", "Two.", "Three.", "Four."]
    assert all(b["start"] == a["end"] for a, b in zip(speech, speech[1:]))
    assert CliRunner().invoke(main, ["render", "s.yaml", "-o", "."]).exit_code == 0
    (tmp_path / "s.yaml").write_text("title: x\npace: {sentence_gap: -1s, paragraph_gap: 0ms}\nsteps:\n"
                                     "  - say: One.\n  - pause: 0s\n")
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr.splitlines()) == (1, [
        "s.yaml:2:22: 'pace.sentence_gap' must be zero or longer, got '-1s'",
        "s.yaml:5:12: 'pause' must be longer than zero, got '0s'"])


def client_library(tmp_path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "library.yaml").write_text("album: Shared\n")
    (tmp_path / "scripts" / "welcome.yaml").write_text(
        "title: Welcome\nlead_in: 0\nfade_out: 0\nsteps:\n"
        "  - say: {text: 'Welcome, Ana.', recording: welcome.wav}\n  - say: Let us begin.\n")
    (tmp_path / "profiles" / "ana-recordings").mkdir(parents=True)
    (tmp_path / "profiles" / "ana.yaml").write_text(
        "client: Ana\nlibrary: ../scripts\nrecordings: ana-recordings\nscripts: [welcome]\n")
    write_wav(tmp_path / "profiles" / "ana-recordings" / "welcome.wav", 2.0, 0.3)


def test_a_profiles_recordings_folder_holds_the_clients_recordings(tmp_path, monkeypatch):
    client_library(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["validate", "--profile", "profiles/ana.yaml"]).stdout == (
        "profiles/ana.yaml: 1 script valid\n")
    result = runner.invoke(main, ["build", "--profile", "profiles/ana.yaml", "-q"])
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "client_sets" / "ana" / "library.json").read_text())
    assert not (tmp_path / "audio_out").exists()  # the client's set is private: nothing public is written
    track = manifest["tracks"][0]
    assert "../profiles/ana-recordings/welcome.wav" in track["sources"]
    assert 2.0 + 3.0 < track["duration"] < 2.1 + 3.0 + 2.0  # the recording (trimmed), a 3 s gap, a sentence
    assert runner.invoke(main, ["build", "--profile", "profiles/ana.yaml"]).stdout == (
        "built 0, unchanged 1, failed 0\n")
    write_wav(tmp_path / "profiles" / "ana-recordings" / "welcome.wav", 3.0, 0.3)  # Ana's recording, made again
    result = runner.invoke(main, ["build", "--profile", "profiles/ana.yaml"])
    assert result.stdout.splitlines()[-1] == "built 1, unchanged 0, failed 0"
    # Without the profile, the shared library has no such recording.
    result = runner.invoke(main, ["validate", "scripts/welcome.yaml"])
    assert result.stderr == "scripts/welcome.yaml:5:45: 'say.recording' file 'welcome.wav' not found\n"


def test_a_recording_added_to_the_library_later_is_noticed_and_the_clients_wins(tmp_path, monkeypatch):
    client_library(tmp_path)
    (tmp_path / "profiles" / "ana-recordings" / "welcome.wav").unlink()
    write_wav(tmp_path / "scripts" / "welcome.wav", 1.0, 0.3)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(main, ["build", "--profile", "profiles/ana.yaml", "-q"]).exit_code == 0
    short = json.loads((tmp_path / "client_sets" / "ana" / "library.json").read_text())["tracks"][0]["duration"]
    write_wav(tmp_path / "profiles" / "ana-recordings" / "welcome.wav", 3.0, 0.3)
    result = runner.invoke(main, ["build", "--profile", "profiles/ana.yaml"])
    assert result.stdout.splitlines()[-1] == "built 1, unchanged 0, failed 0"
    long = json.loads((tmp_path / "client_sets" / "ana" / "library.json").read_text())["tracks"][0]["duration"]
    assert abs(long - short - 2.0) < 0.2


def test_a_profiles_recordings_folder_must_exist_and_cannot_be_left(tmp_path, monkeypatch):
    client_library(tmp_path)
    write_wav(tmp_path / "secret.wav", 1.0, 0.3)
    (tmp_path / "scripts" / "welcome.yaml").write_text(
        "title: Welcome\nsteps:\n  - say: {text: 'Welcome, Ana.', recording: ../../secret.wav}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "--profile", "profiles/ana.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, "profiles/../scripts/welcome.yaml:3:45: 'say.recording' file '../../secret.wav' is outside the library "
           "folder "
           "'scripts'\n")
    (tmp_path / "profiles" / "ana.yaml").write_text("recordings: ana-recs\nscripts: [welcome]\nlibrary: ../scripts\n")
    result = CliRunner().invoke(main, ["render", "--profile", "profiles/ana.yaml"])
    assert (result.exit_code, result.stderr) == (1, "profiles/ana.yaml:1:13: recordings folder 'ana-recs' not found\n")


def test_render_of_a_folder_mirrors_its_subfolders(tmp_path, monkeypatch):
    for group in ("morning", "evening"):
        (tmp_path / "lib" / group).mkdir(parents=True)
        (tmp_path / "lib" / group / "calm.yaml").write_text(f"title: Calm\nsteps:\n  - say: Good {group}.\n")
    (tmp_path / "lib" / "top.yaml").write_text("title: Top\nsteps:\n  - say: Hello.\n")
    (tmp_path / "one.yaml").write_text("title: One\nsteps:\n  - say: One.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "lib", "one.yaml", "-o", "out"])
    assert result.exit_code == 0, result.stderr
    assert [line.split(" (")[0] for line in result.stdout.splitlines()] == [
        "wrote out/evening/calm.mp3", "wrote out/morning/calm.mp3", "wrote out/top.mp3", "wrote out/one.mp3"]
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.mp3")) == [
        "evening/calm.mp3", "morning/calm.mp3", "one.mp3", "top.mp3"]
    assert "Good evening." in (tmp_path / "out" / "evening" / "calm.vtt").read_text()
    assert "Good morning." in (tmp_path / "out" / "morning" / "calm.vtt").read_text()


def test_a_relative_rate_follows_the_rate_it_would_otherwise_have(tmp_path, monkeypatch):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "calm.yaml").write_text(
        "title: Calm\nvoice: {rate: 140}\nsteps:\n  - say: Hello.\n  - say: Goodbye.\n    voice: {rate: 90%}\n")
    (tmp_path / "ana.yaml").write_text("library: scripts\nvoice: {rate: 100}\nscripts: [calm]\n")
    (tmp_path / "ben.yaml").write_text("library: scripts\nvoice: {rate: 80%}\nscripts: [calm]\n")
    monkeypatch.chdir(tmp_path)
    from meditations.loading.profiles import load_profile
    from meditations.building.track import load

    def rates(settings=None):
        script = load("scripts/calm.yaml", settings)
        return [step.voice.rate for step in script.steps]

    assert rates() == [140, 126]
    assert rates(load_profile("ana.yaml").settings()) == [100, 90]
    assert rates(load_profile("ben.yaml").settings()) == [112, 101]
    result = CliRunner().invoke(main, ["build", "--profile", "ben.yaml", "-q"])
    assert result.exit_code == 0, result.stderr
    (tmp_path / "scripts" / "calm.yaml").write_text("title: Calm\nvoice: {rate: 300%}\nsteps:\n  - say: Hi.\n")
    result = CliRunner().invoke(main, ["validate", "scripts/calm.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, "scripts/calm.yaml:2:15: 'voice.rate' must be between 50% and 200%, got '300%'\n")
