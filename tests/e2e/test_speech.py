"""The speech stage on the real engine: cache keys, checked cache entries, voices, clean stdout."""

import os
import subprocess
import sys

import pytest

from helpers import CALIBRATION_TEXTS, ROOT, words_per_minute
from meditations.speaking.pool import SpeechRequest, clip_cache, load_clip, resolve_voice
from meditations.speaking.request import trim_clip


def test_cache_key_changes_with_everything_that_changes_the_audio():
    base = SpeechRequest("Breathe in.", "gmw/en-us", 130, 0.9)
    variants = [SpeechRequest("Breathe out.", "gmw/en-us", 130, 0.9), SpeechRequest("Breathe in.", "gmw/en", 130, 0.9),
                SpeechRequest("Breathe in.", "gmw/en-us", 120, 0.9), SpeechRequest("Breathe in.", "gmw/en-us", 130, 0.8),
                SpeechRequest("Breathe in.", "gmw/en-us", 130, 0.9, identity="pyttsx3:another version"),
                SpeechRequest("Breathe in.", "gmw/en-us", 130, 0.9, engine="piper", identity="piper:v;model=abc")]
    keys = {base.key()} | {v.key() for v in variants}
    assert len(keys) == 7
    assert base.key() == SpeechRequest("Breathe in.", "gmw/en-us", 130, 0.9).key()
    assert "espeakng-loader=" in base.identity


def test_clips_are_trimmed_mono_16_bit(engine):
    request = SpeechRequest("Let your shoulders soften.", "gmw/en-us", 130, 0.9)
    assert engine.synthesize([request]) == []
    clip = load_clip(request.key())
    assert clip.dtype.str == "<i2" and 22050 * 0.8 < clip.size < 22050 * 4
    assert abs(int(clip[0])) < 200 and abs(int(clip[-1])) < 400
    assert trim_clip(clip).size == clip.size


def test_a_damaged_cache_entry_is_discarded_and_made_again(engine):
    request = SpeechRequest("A clip that will be damaged.", "gmw/en-us", 130, 0.9)
    engine.synthesize([request])
    key = request.key()
    path = clip_cache().path_for(key)
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    assert load_clip(key) is None
    assert engine.synthesize([request]) == []
    assert abs(load_clip(key).size - (len(good) - 36) // 2) < 2000 and path.read_bytes() != good[: len(good) // 2]


def test_voice_resolution(engine):
    voices = engine.voices()
    assert resolve_voice("gmw/en-us", "en", voices).id == "gmw/en-us"
    assert resolve_voice("en-us", "en", voices).id == "gmw/en-us"
    assert resolve_voice("English (America)", "en", voices).id == "gmw/en-us"
    assert resolve_voice(None, "de", voices).language == "de"
    assert resolve_voice("no-such-voice", "en", voices) is None


def test_nothing_from_the_speech_library_reaches_stdout(tmp_path):
    (tmp_path / "s.yaml").write_text("title: Quiet\nsteps:\n  - say: Nothing else is printed.\n")
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "render", "s.yaml", "-o", "out"], cwd=tmp_path,
                            capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("wrote out/s.mp3 (0:0") and result.stdout.count("\n") == 1
    assert result.stderr == ""


def test_back_to_back_utterances_never_borrow_the_previous_settings(engine):
    # Regression: the espeak driver used to run a request with the previous rate, or cut it short,
    # when the next request arrived while it was still finishing the last one.
    texts = [f"Number {n}, rest your hands and soften your jaw." for n in range(16)]
    slow = [SpeechRequest(t, "gmw/en-us", 100, 0.9) for t in texts]
    fast = [SpeechRequest(t, "gmw/en-us", 200, 0.9) for t in texts]
    interleaved = [r for pair in zip(slow, fast) for r in pair]
    assert engine.synthesize(interleaved) == []
    for s, f in zip(slow, fast):
        ratio = load_clip(s.key()).size / load_clip(f.key()).size
        assert 1.5 < ratio < 2.3, s.text


@pytest.mark.parametrize("engine_name", ["pyttsx3", pytest.param("piper", marks=pytest.mark.slow)])
@pytest.mark.parametrize("asked", [120, 150, 200])
def test_a_rate_is_words_per_minute_of_speech_in_every_engine(engine, engine_name, asked):
    """The same `rate` is the same pace whichever engine speaks: within 5 % of the words per minute asked."""
    voice = next(v for v in engine.voices() if v.engine == engine_name and v.id in ("gmw/en-us", "en_US-joe-medium"))
    measured = words_per_minute(engine, voice, CALIBRATION_TEXTS, asked)
    assert abs(measured - asked) <= 0.05 * asked, (engine_name, asked, measured)
