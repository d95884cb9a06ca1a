"""Therapist tools: templates, profiles, recordings, previews and voice samples, on real renders."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import write_wav, decode, ffmpeg_duration
from meditations.loading.templates import TEMPLATES


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_is_a_valid_script_that_renders(tmp_path, monkeypatch, template):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["new", "evening-calm", "--template", template])
    assert (result.exit_code, result.stdout) == (
        0, "wrote evening-calm.yaml: edit it, then try: meditate render evening-calm.yaml\n")
    text = (tmp_path / "evening-calm.yaml").read_text()
    assert "title: Evening Calm" in text and text.count("#") >= 3
    assert runner.invoke(main, ["validate", "evening-calm.yaml"]).exit_code == 0
    if template == "breathing":
        assert runner.invoke(main, ["render", "evening-calm.yaml", "--length", "2m"]).exit_code == 0


def test_new_never_overwrites(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text("title: Mine\n")
    result = CliRunner().invoke(main, ["new", "mine"])
    assert (result.exit_code, result.stderr) == (1, "Error: mine.yaml already exists; choose another name "
                                                    "(nothing was changed)\n")
    assert (tmp_path / "mine.yaml").read_text() == "title: Mine\n"


@pytest.mark.parametrize("amplitude", [0.02, 0.6])
def test_a_recording_replaces_speech_and_matches_its_loudness(tmp_path, monkeypatch, amplitude):
    import pyloudnorm

    write_wav(tmp_path / "recordings" / "welcome.wav", 2.0, amplitude)
    (tmp_path / "s.yaml").write_text(
        "title: Rec\nlead_in: 0\nfade_out: 0\nsteps:\n  - say: This sentence is made by the speech engine.\n"
        "  - say: {text: 'Welcome, this is my own voice.', recording: recordings/welcome.wav}\n"
        "  - say: And the engine speaks again here.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--json"])
    events = [e for e in json.loads(result.stdout)["events"] if e["kind"] == "speech"]
    assert [e["text"] for e in events][1] == "Welcome, this is my own voice."
    assert abs((events[1]["end"] - events[1]["start"]) - 2.05) < 0.1  # the recording, its silence trimmed
    assert CliRunner().invoke(main, ["render", "s.yaml", "-o", "."]).exit_code == 0
    audio = decode(tmp_path / "s.mp3", 48000).astype(np.float64)
    meter = pyloudnorm.Meter(48000)
    level = [meter.integrated_loudness(audio[int(e["start"] * 48000):int(e["end"] * 48000)]) for e in events]
    assert abs(level[1] - (level[0] + level[2]) / 2) < 3.0


def test_a_missing_or_broken_recording_is_located(tmp_path, monkeypatch):
    (tmp_path / "broken.wav").write_bytes(b"RIFF not really a wav file")
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: {text: Hi., recording: gone.wav}\n"
                                     "  - say:\n      text: Hello.\n      recording: broken.wav\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert result.stderr.splitlines() == ["s.yaml:3:33: 'say.recording' file 'gone.wav' not found"]
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say:\n      text: Hello.\n      recording: broken.wav\n")
    result = CliRunner().invoke(main, ["render", "s.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, f"s.yaml:5:18: cannot read {tmp_path / 'broken.wav'}: not a WAV file meditate can decode\n")


PROFILE = """
client: Ana
library: scripts
variables: {name: Ana}
voice: {rate: 110}
output: ana-set
scripts:
  - hello
  - {script: breathe, length: 70s}
"""


def test_a_profile_renders_the_clients_set_into_its_own_folder(tmp_path, monkeypatch):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "hello.yaml").write_text("title: Hello\nvariables: {name: friend}\n"
                                                     "steps:\n  - say: Hello {name}.\n")
    (tmp_path / "scripts" / "breathe.yaml").write_text("title: Breathe\nsteps:\n  - say: Breathe with me.\n"
                                                       "  - breathe: {pattern: soothing, duration: 30s}\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ana.yaml").write_text(PROFILE.replace("library: scripts", "library: ../scripts"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "--profile", "profiles/ana.yaml"])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "client_sets" / "ana-set").iterdir()) == [
        "breathe.mp3", "breathe.vtt", "hello.mp3", "hello.vtt"]
    assert abs(ffmpeg_duration(tmp_path / "client_sets" / "ana-set" / "breathe.mp3") - 70) < 1.0
    assert not (tmp_path / "audio_out").exists()  # a client's set goes into the private folder alone
    plan = CliRunner().invoke(main, ["plan", "scripts/hello.yaml", "--json", "--set", "name=Ana"])
    assert json.loads(plan.stdout)["events"][1]["text"] == "Hello Ana."


def test_profile_problems_are_located(tmp_path, monkeypatch):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "ana.yaml").write_text("client: Ana\nvoice: {rate: slow}\nscripts:\n  - nothing-here\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "--profile", "ana.yaml"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["ana.yaml:2:15: 'voice.rate' must be a whole number, got 'slow'",
                                          f"ana.yaml:4:5: no script 'nothing-here' in {tmp_path / 'scripts'}"]


PREVIEW = """
title: Preview
steps:
  - chapter: One
  - say: First part.
  - pause: 2s
  - chapter: Two
  - say: Second part.
  - pause: 1s
  - say: Still the second part.
"""


def test_previews_render_one_chapter_or_some_steps(tmp_path, monkeypatch):
    (tmp_path / "p.yaml").write_text(PREVIEW)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["render", "p.yaml", "--chapter", "two"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("wrote drafts/p-chapter-two.mp3")  # a scratch folder, never the published one
    plan = runner.invoke(main, ["plan", "p.yaml", "--json"])
    full = json.loads(plan.stdout)["duration"]
    assert ffmpeg_duration(tmp_path / "drafts" / "p-chapter-two.mp3") < full - 3
    result = runner.invoke(main, ["render", "p.yaml", "--steps", "2-3"])
    assert result.stdout.startswith("wrote drafts/p-steps-2-3.mp3")
    assert not (tmp_path / "drafts" / "p.mp3").exists() and not (tmp_path / "audio_out").exists()
    result = runner.invoke(main, ["render", "p.yaml", "--steps", "4-9"])
    assert (result.exit_code, result.stderr) == (1, "Error: --steps 4-9: the script has steps 1 to 7\n")
    result = runner.invoke(main, ["render", "p.yaml", "--chapter", "Three"])
    assert (result.exit_code, result.stderr) == (
        1, "Error: --chapter 'Three': no chapter of that name (chapters: 'One', 'Two')\n")


def test_voice_samples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["voices", "--sample", "en-us", "--language", "en"])
    assert (result.exit_code, result.stdout) == (0, "wrote drafts/voices/gmw-en-us.mp3 (English (America))\n")
    assert 3 < ffmpeg_duration(tmp_path / "drafts" / "voices" / "gmw-en-us.mp3") < 12
    result = CliRunner().invoke(main, ["voices", "--sample", "klingonese"])
    assert (result.exit_code, result.stderr) == (1, "Error: unknown voice 'klingonese'; run 'meditate voices' to "
                                                    "list the voices\n")


def test_a_typo_in_a_profiles_variables_is_a_located_error(tmp_path, monkeypatch):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "hello.yaml").write_text("title: Hello\nvariables: {name: friend}\n"
                                                     "steps:\n  - say: Hello {name}.\n")
    (tmp_path / "ana.yaml").write_text("client: Ana\nvariables:\n  nmae: Ana\nscripts: [hello]\n")
    monkeypatch.chdir(tmp_path)
    expected = "ana.yaml:3:3: no script of this profile has a variable 'nmae' (their variables: name)\n"
    for command in (["validate", "--profile", "ana.yaml"], ["render", "--profile", "ana.yaml"],
                    ["build", "--profile", "ana.yaml"]):
        result = CliRunner().invoke(main, command)
        assert (result.exit_code, result.stderr) == (1, expected), command
    assert [p for name in ("audio_out", "client_sets") for p in (tmp_path / name).rglob("*.mp3")] == []
    (tmp_path / "ana.yaml").write_text("client: Ana\nvariables:\n  name: Ana\nscripts: [hello]\n")
    result = CliRunner().invoke(main, ["validate", "--profile", "ana.yaml"])
    assert (result.exit_code, result.stdout) == (0, "ana.yaml: 1 script valid\n")


def test_a_chapter_preview_with_a_clients_settings(tmp_path, monkeypatch):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "p.yaml").write_text(PREVIEW.replace("First part.", "First part, {name}.")
                                                 .replace("title: Preview", "title: Preview\nvariables: {name: friend}"))
    (tmp_path / "ana.yaml").write_text("variables: {name: Ana}\nscripts: [p]\nlibrary: scripts\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "scripts/p.yaml", "--profile", "ana.yaml", "--chapter", "One"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("wrote client_sets/ana/p-chapter-one.mp3")
    assert "First part, Ana." in (tmp_path / "client_sets" / "ana" / "p-chapter-one.vtt").read_text()
    assert not (tmp_path / "audio_out").exists()


def test_published_files_are_readable_by_a_web_server(tmp_path, monkeypatch):
    import stat

    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "hello.yaml").write_text("title: Hello\nsteps:\n  - say: Hello.\n")
    monkeypatch.chdir(tmp_path)
    old = os.umask(0o022)
    try:
        assert CliRunner().invoke(main, ["build", "scripts", "-o", "out", "-j", "1"]).exit_code == 0
    finally:
        os.umask(old)
    for name in ("hello.mp3", "hello.vtt", "library.json", "index.html", "library.m3u8"):
        assert stat.S_IMODE((tmp_path / "out" / name).stat().st_mode) == 0o644, name


@pytest.mark.parametrize("line, message", [
    ("  - say: “Notice this: your feet.”\n",
     "s.yaml:3:22: YAML syntax error: curly quotes (“ ”) are not quotes in YAML: use straight quotes (\" \") around "
     "a text that contains ': '"),
    ("  -pause: 5s\n", "s.yaml:4:3: YAML syntax error: put a space after '-' to start a list item ('- pause: 5s')"),
])
def test_slips_of_a_word_processor_get_plain_advice(tmp_path, monkeypatch, line, message):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Hi.\n".replace("  - say: Hi.\n", line)
                                     if line.startswith("  - say") else "title: x\nsteps:\n  - say: Hi.\n" + line)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr.strip()) == (1, message)
