"""The hibari voice, for real: it speaks, a clip depends only on its key, its pace, the voice list, errors."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from helpers import CALIBRATION_TEXTS, words_per_minute
from meditations.cli.commands import main
from meditations.speaking.engines import hibari
from meditations.speaking.pool import SpeechRequest, clip_cache, load_clip


@pytest.fixture(scope="module")
def heart():
    """The voice inside the hibari-tts wheel."""
    return next(v for v in hibari.list_voices() if v.id == "heart")


def test_heart_is_the_pinned_model_at_24_khz(heart):
    assert (heart.engine, heart.language, heart.sample_rate, heart.problem) == ("hibari", "en-us", 24000, "")
    assert heart.source == "hibari-tts 0.2.1 (pip)"
    assert heart.identity.endswith(f";model={hibari.BUNDLED['heart']}")


def test_hibari_speaks_a_sentence(alone, heart):
    request = SpeechRequest.of(heart, "Rest here for a moment, and let the breath be easy.", 140, 0.9)
    assert alone.synthesize([request]) == []
    clip = load_clip(request.key())
    # about 11 words at 140 a minute, resampled from 24 kHz to the clips' 22,050 Hz
    assert 22050 * 3.5 < clip.size < 22050 * 6.5, clip.size / 22050
    assert np.abs(clip.astype(np.int32)).max() > 3000


def again_after(pool, request: SpeechRequest, before: list[SpeechRequest]) -> np.ndarray:
    """The clip made once more, by a worker that has just spoken `before`."""
    for each in [request, *before]:
        clip_cache().path_for(each.key()).unlink(missing_ok=True)
    assert pool.synthesize(before) == [] and pool.synthesize([request]) == []
    return load_clip(request.key()).copy()


def test_a_clip_depends_only_on_its_key_not_on_what_the_worker_spoke_before(alone, heart):
    def request(text: str, rate: int) -> SpeechRequest:
        return SpeechRequest.of(heart, text, rate, 0.9)

    target = request("Let your shoulders soften, and breathe out slowly.", 150)
    first = again_after(alone, target, [])
    after_long = again_after(alone, target, [request("A long question, with commas, numbers like 42, and more?", 200)])
    after_short = again_after(alone, target, [request("Wow!", 100), request("Hello there.", 180)])
    assert first.size > 22050
    assert np.array_equal(first, after_long) and np.array_equal(first, after_short)
    # another key (another rate) draws other noise: the seed comes from the key
    other = again_after(alone, request("Let your shoulders soften, and breathe out slowly.", 151), [])
    assert not np.array_equal(first[:other.size], other[:first.size])


@pytest.mark.parametrize("asked", [120, 135, 150])
def test_a_rate_is_words_per_minute_of_speech(alone, heart, asked):
    measured = words_per_minute(alone, heart, CALIBRATION_TEXTS, asked)
    assert abs(measured - asked) <= 0.05 * asked, (asked, measured)


def test_voices_lists_all_three_engines():
    result = CliRunner().invoke(main, ["voices"])
    assert result.exit_code == 0, result.stderr
    engines = {line.split()[0] for line in result.stdout.splitlines()}
    assert engines == {"pyttsx3", "piper", "hibari"}
    assert CliRunner().invoke(main, ["voices", "heart"]).stdout == (
        "hibari   heart  en-us            24000 Hz  Heart (hibari, English, American, female), "
        "from hibari-tts 0.2.1 (pip)\n")


def test_a_script_library_or_profile_may_choose_the_hibari_voice(engine, tmp_path, monkeypatch):
    from meditations.building.clips import plan_with_speech as plan
    from meditations.building.track import load

    (tmp_path / "library.yaml").write_text("voice: {engine: hibari, name: heart}\n")
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Rest here.\n"
                                     "  - say: And here.\n    voice: {engine: pyttsx3}\n")
    monkeypatch.chdir(tmp_path)
    speech = [e for e in plan(load(tmp_path / "s.yaml"), engine).events if e.kind == "speech"]
    heart = next(v for v in hibari.list_voices() if v.id == "heart")
    assert speech[0].clip == SpeechRequest.of(heart, "Rest here.", hibari.DEFAULT_RATE, 0.9).key()
    assert speech[1].clip == SpeechRequest("And here.", "gmw/en", 150, 0.9).key()  # eSpeak NG for "en"


BAD_VOICES = [
    ("voice: {engine: hibari, name: bob}",
     "s.yaml:2:31: unknown hibari voice 'bob' (the hibari voices: heart)"),
    ("voice: {engine: hibari, name: emma}",
     "s.yaml:2:31: the hibari voice 'emma' is not inside the hibari-tts wheel (hibari downloads it on first use, "
     "and meditate never downloads while it runs); the hibari voices: heart"),
    ("voice: {engine: hibari}\nlanguage: de",
     "s.yaml:5:10: no hibari voice speaks the language 'de' (the hibari voices: heart); "
     "name a voice, or use 'engine: pyttsx3'"),
    ("voice: {engine: hibari, model: voices/x.onnx}",
     "s.yaml:2:32: 'voice.model' is a Piper voice file: use it with 'engine: piper'"),
]


@pytest.mark.parametrize("voice, message", BAD_VOICES, ids=[m.split(": ", 1)[1][:40] for _, m in BAD_VOICES])
def test_each_bad_hibari_voice_is_one_located_line(tmp_path, monkeypatch, voice, message):
    (tmp_path / "s.yaml").write_text(f"title: x\n{voice}\nsteps:\n  - say: Hello.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr) == (1, message + "\n")


def test_a_bundled_model_that_fails_its_check_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(hibari.BUNDLED, "heart", "0" * 64)
    (tmp_path / "s.yaml").write_text("title: x\nvoice: {engine: hibari, name: heart}\nsteps:\n  - say: Hi.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "s.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, "s.yaml:2:31: the hibari voice 'heart' is not the model file meditate was made for "
           "(SHA-256 5f70741d4e90..., expected 000000000000...); reinstall it with: "
           "pip install --force-reinstall hibari-tts==0.2.1\n")
    assert not (tmp_path / "audio_out" / "s.mp3").exists()
