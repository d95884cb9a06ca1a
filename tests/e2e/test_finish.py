"""Breathing, bells, beds, loudness and length, checked on rendered audio read back from the MP3."""

import json
import re
import subprocess
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import decode, ffmpeg, ffmpeg_duration
from meditations.loading import load_script
from meditations.mixing.bed import duck_depth, duck_spans
from meditations.mixing.foreground import speech_samples
from meditations.building.clips import plan_with_speech as plan
from meditations.building.track import load, render
from meditations.audio.sounds import LoopedFile, seamless_loop


def ebur128(path):
    """Integrated loudness and true peak of a file, as ffmpeg's ebur128 meter reports them."""
    text = subprocess.run([ffmpeg(), "-hide_banner", "-nostats", "-i", str(path), "-af", "ebur128=peak=true",
                           "-f", "null", "-"], capture_output=True, text=True).stderr
    summary = text[text.rindex("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1))
    return integrated, peak


def first_onset(audio, rate, around, before=0.05, after=0.3, threshold=0.02):
    lo, hi = max(0, int((around - before) * rate)), int((around + after) * rate)
    loud = np.flatnonzero(np.abs(audio[lo:hi]) > threshold)
    return (lo + loud[0]) / rate if loud.size else None


BREATHING = """
title: Resonance
lead_in: 1s
fade_out: 1s
steps:
  - breathe: {pattern: resonance, cycles: 20, cue: voice}
"""


def test_breath_phases_are_exact_and_cues_do_not_drift(write, engine, tmp_path):
    script = load(write("resonance.yaml", BREATHING))
    result = render(script, tmp_path / "resonance.mp3", engine)
    rate = script.audio.sample_rate
    breaths = [e for e in result.timeline.to_json()["events"] if e["kind"] == "breath"]
    assert len(breaths) == 40
    assert [b["phase"] for b in breaths[:4]] == ["in", "out", "in", "out"]
    assert [b["start"] for b in breaths] == [round(1 + 5.5 * k, 6) for k in range(40)]
    audio = decode(result.path, rate)
    errors = [first_onset(audio, rate, b["start"]) - b["start"] for b in breaths]
    assert max(abs(e) for e in errors) < 0.05
    assert max(errors) - min(errors) < 0.02  # drift over 20 cycles


def test_every_bundled_style_of_cue_sounds_at_its_phase(write, engine, tmp_path):
    script = load(write("cues.yaml", """
        title: Cues
        lead_in: 1s
        fade_out: 1s
        steps:
          - breathe: {pattern: 4-7-8, cycles: 1, cue: tone}
          - breathe: {pattern: box, cycles: 1, cue: bell}
          - breathe: {pattern: 4-4-4, cycles: 1, cue: count}
        """))
    result = render(script, tmp_path / "cues.mp3", engine)
    rate = script.audio.sample_rate
    audio = decode(result.path, rate)
    events = result.timeline.to_json()["events"]
    assert [e["kind"] for e in events if e["kind"] in ("tone", "bell")] == ["tone"] * 3 + ["bell"] * 4
    counts = [e["text"] for e in events if e["kind"] == "speech"]
    assert counts == ["1", "2", "3", "4"] * 3
    for event in events:
        if event["kind"] in ("bell", "speech"):
            assert first_onset(audio, rate, event["start"], threshold=0.005) is not None, event
    # the tone rises while breathing in and falls while breathing out
    tone_in, tone_out = [e for e in events if e["kind"] == "tone"][0], [e for e in events if e["kind"] == "tone"][2]

    def pitch(start, end):
        part = audio[int(start * rate):int(end * rate)]
        crossings = np.flatnonzero(np.diff(np.signbit(part)))
        return len(crossings) / 2 / (end - start)

    assert pitch(tone_in["start"] + 0.4, tone_in["start"] + 1.4) < pitch(tone_in["end"] - 1.4, tone_in["end"] - 0.4)
    assert pitch(tone_out["start"] + 0.4, tone_out["start"] + 1.4) > pitch(tone_out["end"] - 1.4, tone_out["end"] - 0.4)


def test_a_voice_cue_longer_than_its_phase_is_a_located_error(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text(
        "title: x\nsteps:\n  - breathe:\n      pattern: 1-0-3\n      cycles: 2\n"
        "      words: {in: Now breathe in slowly through your nose}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert result.exit_code == 1
    line = result.stderr.strip()
    assert re.fullmatch(r"s\.yaml:4:7: the 'in' cue \"Now breathe in slowly through your nose\" takes \d\.\d\d s, "
                        r"\d\.\d\d s longer than its 1 s phase: use shorter words, a faster voice rate, or cue: tone",
                        line), line


def test_breathing_safety_warnings_do_not_fail_validation(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - breathe: {pattern: 4-12-8, cycles: 1, cue: none}\n"
                                     "  - breathe: {pattern: 1-0-2, cycles: 3, cue: none}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stdout) == (0, "1 script valid\n")
    assert result.stderr.splitlines() == [
        "s.yaml:3:24: warning: a 12-second breath hold is long for someone breathing along unsupervised (over 10 s)",
        "s.yaml:4:24: warning: a 3-second cycle is very fast breathing (under 4 s); it can cause light-headedness"]


@pytest.mark.parametrize("text, message", [
    ("  - breathe: {pattern: 4-7, cycles: 2}\n",
     "s.yaml:3:24: 'breathe.pattern': '4-7' is not a breathing pattern: use seconds like 4-7-8 or 4-4-4-4, "
     "or a preset: box, 4-7-8, resonance, soothing, sigh"),
    ("  - breathe: {pattern: box}\n",
     "s.yaml:3:14: 'breathe' needs 'cycles:' (how many breaths) or 'duration:' (how long)"),
    ("  - breathe: {pattern: box, cycles: 2, duration: 1m}\n",
     "s.yaml:3:40: 'breathe' takes 'cycles:' or 'duration:', not both"),
    ("  - breathe: {pattern: box, duration: 10s}\n",
     "s.yaml:3:39: 'breathe.duration' is shorter than one 16-second cycle of this pattern"),
    ("  - breathe: {pattern: box, cycles: 2, cue: whistle}\n",
     "s.yaml:3:45: 'breathe.cue' must be one of voice, tone, bell, count, none; got 'whistle'"),
    ("  - bell: {strikes: 0}\n", "s.yaml:3:21: 'bell.strikes' must be between 1 and 20, got 0"),
    ("  - bell: {sound: nothing.wav}\n", "s.yaml:3:19: 'bell.sound' file 'nothing.wav' not found"),
])
def test_bad_breathing_and_bells(tmp_path, monkeypatch, text, message):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n" + text)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr.splitlines()) == (1, [message])


@pytest.mark.parametrize("text, message", [
    ("background: {sound: rain}\n", "s.yaml:1:21: 'background.sound' 'rain' is not a known sound (use one of "
                                    "brown-noise, pink-noise, white-noise or a .wav, .mp3, .ogg, .flac, .m4a, .aac or .opus file)"),
    ("background: {sound: pink-nois}\n", "s.yaml:1:21: 'background.sound' 'pink-nois' is not a known sound "
                                         "(did you mean 'pink-noise'?)"),
    ("background: {sound: ../x.wav}\n", "s.yaml:1:21: 'background.sound' file '../x.wav' is outside the library "
                                        "folder '.'"),
    ("background: {sound: brown-noise, level: loud}\n",
     "s.yaml:1:41: 'background.level' must be a level in dB like -30dB, got 'loud'"),
    ("loudness: -3\n", "s.yaml:1:11: 'loudness' must be between -36 and -9 LUFS, got -3"),
    ("length: 0s\n", "s.yaml:1:9: 'length' must be longer than zero, got '0s'"),
])
def test_bad_finishing_settings(tmp_path, monkeypatch, text, message):
    (tmp_path / "s.yaml").write_text(text + "title: x\nsteps:\n  - say: Hi.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr.splitlines()) == (1, [message])


LOUDNESS_SCRIPT = """
title: Loudness
voice: {{volume: {volume}}}
background: {{sound: pink-noise, level: {level}}}
steps:
  - bell: 1
  - say: Let your breath slow down. Feel your feet on the floor. Let your shoulders soften.
  - pause: 4s
  - say: Notice the air as it moves in, and as it moves out again.
  - breathe: {{pattern: 4-2-6, cycles: 2, cue: voice}}
  - say: Rest here for a moment longer.
"""


@pytest.mark.parametrize("volume, level", [(0.3, "-35dB"), (1.0, "-18dB")])
def test_loudness_meets_the_target_whatever_the_levels(write, engine, tmp_path, volume, level):
    script = load(write("loud.yaml", LOUDNESS_SCRIPT.format(volume=volume, level=level)))
    result = render(script, tmp_path / "loud.mp3", engine)
    integrated, peak = ebur128(result.path)
    assert abs(integrated - -16) <= 1.0
    assert peak <= -1.0


def test_loudness_from_the_command_line_measured_by_a_second_meter(write, tmp_path, monkeypatch):
    import pyloudnorm

    write("loud.yaml", LOUDNESS_SCRIPT.format(volume=0.9, level="-30dB"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "loud.yaml", "--loudness", "-20", "-o", "out"])
    assert result.exit_code == 0, result.stderr
    audio = decode(tmp_path / "out" / "loud.mp3", 48000).astype(np.float64)
    assert abs(pyloudnorm.Meter(48000).integrated_loudness(audio) - -20) <= 1.0
    assert abs(ebur128(tmp_path / "out" / "loud.mp3")[0] - -20) <= 1.0


def test_the_bed_ducks_smoothly_under_speech(write, engine):
    script = load(write("duck.yaml", """
        title: Duck
        background: {sound: brown-noise, duck: 10dB}
        steps:
          - say: One sentence here. And another one close behind it.
          - pause: 20s
          - say: A last sentence.
        """))
    timeline = plan(script, engine)
    rate = timeline.sample_rate
    spans = duck_spans(timeline)
    assert len(spans) == 2  # sentences close together are one span: the bed does not pump between them
    depth = duck_depth(spans, 0, timeline.length, rate)
    assert depth[(spans[0][0] + spans[0][1]) // 2] == 1.0
    assert depth[spans[0][1] + 8 * rate] == 0.0
    assert np.max(np.abs(np.diff(depth))) * rate * 0.1 < 0.3  # under 30 % of the dip in any 100 ms


def test_a_recording_loops_without_a_seam(tmp_path):
    rate = 22050
    t = np.arange(int(2.3 * rate)) / rate  # 2.3 s of 440 Hz: a plain loop would jump mid-cycle
    samples = (0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
    with wave.open(str(tmp_path / "hum.wav"), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes(samples.tobytes())
    loop = LoopedFile(tmp_path / "hum.wav", rate)
    played = loop.next(loop.loop.size * 3)
    steps = np.abs(np.diff(played))
    normal = np.max(np.abs(np.diff(samples / 32768.0)))
    assert np.max(steps) <= normal * 1.05  # no jump at the seams larger than the signal's own steepest step
    naive = np.concatenate([samples, samples]) / 32768.0
    assert np.max(np.abs(np.diff(naive))) > normal * 1.5  # the test signal does have a seam to hide
    assert seamless_loop(np.zeros(0, np.float32), rate).size == 0


def test_clip_edges_are_faded(engine):
    from meditations.speaking.pool import SpeechRequest

    request = SpeechRequest("Soft edges.", "gmw/en-us", 130, 1.0)
    engine.synthesize([request])
    audio = speech_samples(request.key(), 44100, 30000)
    assert abs(audio[0]) < 1e-4 and abs(audio[-1]) < 1e-4


LENGTH_SCRIPT = """
title: Flexible
steps:
  - say: Settle in.
  - pause: 30s
  - breathe: {pattern: soothing, duration: 1m, cue: none}
  - say: Rest.
  - pause: 20s
  - bell: 1
"""


@pytest.mark.parametrize("target", ["3m", "90s", "10m"])
def test_length_fits_the_target_within_a_second(write, tmp_path, monkeypatch, target):
    write("flex.yaml", LENGTH_SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "flex.yaml", "--json", "--length", target])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    seconds = {"3m": 180, "90s": 90, "10m": 600}[target]
    assert abs(data["duration"] - seconds) < 1.0
    assert data["length_factor"] != 1.0
    if target == "90s":
        rendered = CliRunner().invoke(main, ["render", "flex.yaml", "--length", target])
        assert rendered.exit_code == 0, rendered.stderr
        assert abs(ffmpeg_duration(tmp_path / "audio_out" / "flex.mp3") - 90) < 1.0


def test_length_too_short_names_the_shortest(write, tmp_path, monkeypatch):
    write("flex.yaml", "length: 20s\n" + LENGTH_SCRIPT.lstrip())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "flex.yaml"])
    assert result.exit_code == 1
    assert re.fullmatch(r"flex\.yaml:1:9: a length of 0:20\.00 is too short: the fixed parts \(speech, bells, "
                        r"counted breaths\) need at least 0:\d\d\.\d\d\n", result.stderr), result.stderr
    result = CliRunner().invoke(main, ["plan", "flex.yaml", "--length", "15s"])
    assert result.stderr.startswith("Error: --length: a length of 0:15.00 is too short")


def test_nothing_to_stretch(write, tmp_path, monkeypatch):
    write("fixed.yaml", "title: x\nsteps:\n  - say: Hi.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "fixed.yaml", "--length", "5m"])
    assert (result.exit_code, result.stderr) == (1, "Error: --length: a length of 5:00.00 cannot be reached: nothing "
                                                    "in this script stretches (add pause steps, or breathe steps with "
                                                    "duration:)\n")


def test_bell_step_lasts_until_the_ring_has_decayed(write, engine):
    timeline = plan(load_script(write("bell.yaml", "title: x\nlead_in: 0\nfade_out: 0\nsteps:\n"
                                      "  - bell: {strikes: 3, gap: 4s}\n  - say: After.\n")), engine)
    bells = [e for e in timeline.to_json()["events"] if e["kind"] == "bell"]
    assert [b["start"] for b in bells] == [0.0, 4.0, 8.0]
    speech = [e for e in timeline.to_json()["events"] if e["kind"] == "speech"][0]
    assert speech["start"] == bells[-1]["end"] == 17.0


def test_an_mp3_background_is_decoded_with_the_bundled_ffmpeg(write, engine, tmp_path):
    hum = load(write("hum.yaml", "title: Hum\nlead_in: 0\nfade_out: 0\nsteps:\n  - breathe: {pattern: 2-0-2, cycles: 2,"
                                 " cue: tone}\n"))
    render(hum, tmp_path / "hum.mp3", engine)
    script = load(write("bed.yaml", "title: Bed\nbackground: {sound: hum.mp3, level: -20dB}\nsteps:\n"
                                    "  - say: Resting on a bed of sound.\n  - pause: 6s\n"))
    result = render(script, tmp_path / "bed.mp3", engine)
    audio = decode(result.path, script.audio.sample_rate)
    pause = [e for e in result.timeline.events if e.kind == "silence" and e.end - e.start > 5 * 44100][0]
    assert np.sqrt(np.mean(audio[pause.start + 22050:pause.end - 22050] ** 2)) > 0.003  # the bed is heard
