"""meditate build: incremental by fingerprint, parallel, failures contained, prune, manifest, progress."""

import json
import os
import shutil
import subprocess
import sys
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from helpers import ROOT, on_a_terminal

LIBRARY = {
    "library.yaml": "album: Build test\nlead_in: 0.3s\nfade_out: 0.5s\nvariables: {name: friend}\n",
    "_partials/closing.yaml": "steps:\n  - say: Thank you for practising.\n",
    "hello.yaml": "title: Hello\nsteps:\n  - say: Hello {name}.\n  - include: _partials/closing.yaml\n",
    "calm/breath.yaml": "title: Breath\nsteps:\n  - breathe: {pattern: 2-0-3, cycles: 2, cue: voice}\n"
                        "  - include: ../_partials/closing.yaml\n",
    "voice.yaml": "title: Voice\nsteps:\n  - say: {text: A recorded line., recording: recordings/line.wav}\n",
}


def write_wav(path, amplitude=0.3, seconds=1.0, rate=22050):
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes((amplitude * np.sin(2 * np.pi * 200 * t) * 32767).astype("<i2").tobytes())


@pytest.fixture
def library(tmp_path, monkeypatch):
    scripts = tmp_path / "scripts"
    for name, text in LIBRARY.items():
        (scripts / name).parent.mkdir(parents=True, exist_ok=True)
        (scripts / name).write_text(text)
    write_wav(scripts / "recordings" / "line.wav")
    monkeypatch.chdir(tmp_path)
    return scripts


def build(*args):
    return CliRunner().invoke(main, ["build", "scripts", "-o", "out", "-j", "2", *args])


def built_names(result):
    return sorted(line.split()[1] for line in result.stdout.splitlines() if line.startswith("built ") and ".mp3" in line)


def test_first_build_mirrors_the_folders_and_a_second_does_nothing(library, tmp_path):
    first = build()
    assert first.exit_code == 0, first.stderr
    assert built_names(first) == ["calm/breath.mp3", "hello.mp3", "voice.mp3"]
    assert first.stdout.splitlines()[-1] == "built 3, unchanged 0, failed 0"
    assert (tmp_path / "out" / "calm" / "breath.vtt").is_file()
    second = build()
    assert (second.exit_code, second.stdout) == (0, "built 0, unchanged 3, failed 0\n")


@pytest.mark.parametrize("change, rebuilt, reason", [
    (lambda s: (s / "_partials" / "closing.yaml").write_text("steps:\n  - say: Thank you, and goodbye.\n"),
     ["calm/breath.mp3", "hello.mp3"], "changed: _partials/closing.yaml"),
    (lambda s: write_wav(s / "recordings" / "line.wav", amplitude=0.5), ["voice.mp3"], "changed: recordings/line.wav"),
    (lambda s: (s / "library.yaml").write_text(LIBRARY["library.yaml"].replace("friend", "dear friend")),
     ["calm/breath.mp3", "hello.mp3", "voice.mp3"], "changed: library.yaml"),
    (lambda s: (s / "hello.yaml").write_text(LIBRARY["hello.yaml"].replace("Hello {name}.", "Hi {name}.")),
     ["hello.mp3"], "changed: hello.yaml"),
])
def test_an_edit_rebuilds_exactly_what_depends_on_it(library, change, rebuilt, reason):
    assert build().exit_code == 0
    change(library)
    dry = build("--dry-run")
    assert dry.stdout.splitlines() == [f"would build {name}: {reason}" for name in rebuilt] + [
        f"{len(rebuilt)} to build, {3 - len(rebuilt)} unchanged"]
    result = build()
    assert built_names(result) == rebuilt


def test_a_variable_or_a_setting_rebuilds_everything_it_touches(library):
    assert build().exit_code == 0
    by_variable = build("--set", "name=Ana")
    assert built_names(by_variable) == ["calm/breath.mp3", "hello.mp3", "voice.mp3"]
    assert build("--set", "name=Ana").stdout == "built 0, unchanged 3, failed 0\n"
    by_setting = build("--set", "name=Ana", "--loudness", "-18")
    assert built_names(by_setting) == ["calm/breath.mp3", "hello.mp3", "voice.mp3"]
    assert build("--set", "name=Ana", "--loudness", "-18", "--dry-run").stdout.splitlines()[-1] == \
        "0 to build, 3 unchanged"


def test_tracks_written_before_their_layout_changed_are_built_again(library):
    """A track written before the gapless header (layout 1) is rebuilt by the next build, so it gains one."""
    import meditations.building.fingerprint as fingerprints

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(fingerprints, "TRACK_LAYOUT", 1)
        assert build().exit_code == 0
    assert build("--dry-run").stdout.splitlines()[-1] == "3 to build, 0 unchanged"
    assert built_names(build()) == ["calm/breath.mp3", "hello.mp3", "voice.mp3"]
    assert build().stdout == "built 0, unchanged 3, failed 0\n"


def test_touching_a_file_without_changing_it_rebuilds_nothing(library):
    assert build().exit_code == 0
    os.utime(library / "hello.yaml", None)
    assert build().stdout == "built 0, unchanged 3, failed 0\n"


def test_force_and_a_missing_track(library, tmp_path):
    assert build().exit_code == 0
    (tmp_path / "out" / "hello.mp3").unlink()
    assert build("--dry-run").stdout.splitlines()[0] == "would build hello.mp3: its track is missing"
    assert built_names(build("--force")) == ["calm/breath.mp3", "hello.mp3", "voice.mp3"]


def test_a_broken_script_among_good_ones_keeps_its_old_track(library, tmp_path):
    assert build().exit_code == 0
    before = (tmp_path / "out" / "hello.mp3").read_bytes()
    (library / "hello.yaml").write_text("title: Hello\nsteps:\n  - pause: never\n")
    (library / "voice.yaml").write_text(LIBRARY["voice.yaml"].replace("A recorded line.", "The recorded line."))
    result = build()
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "scripts/hello.yaml:3:12: 'pause': 'never' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]
    assert built_names(result) == ["voice.mp3"]
    assert result.stdout.splitlines()[-1] == "built 1, unchanged 1, failed 1"
    assert (tmp_path / "out" / "hello.mp3").read_bytes() == before
    manifest = json.loads((tmp_path / "out" / "library.json").read_text())
    assert [t["file"] for t in manifest["tracks"]] == ["calm/breath.mp3", "hello.mp3", "voice.mp3"]


def test_prune_removes_only_what_meditate_made(library, tmp_path):
    assert build().exit_code == 0
    (tmp_path / "out" / "mine.mp3").write_bytes(b"a file the user put here")
    (library / "hello.yaml").unlink()
    result = build("--prune")
    assert result.stdout.splitlines()[-1] == "built 0, unchanged 2, failed 0, pruned 1 (hello.mp3)"
    assert not (tmp_path / "out" / "hello.mp3").exists() and not (tmp_path / "out" / "hello.vtt").exists()
    assert (tmp_path / "out" / "mine.mp3").exists()


def test_two_builds_of_the_same_inputs_give_the_same_manifest(library, tmp_path):
    assert build().exit_code == 0
    first = (tmp_path / "out" / "library.json").read_text()
    shutil.rmtree(tmp_path / "out")
    assert build().exit_code == 0
    assert (tmp_path / "out" / "library.json").read_text() == first
    manifest = json.loads(first)
    assert [t["file"] for t in manifest["tracks"]] == sorted(t["file"] for t in manifest["tracks"])
    track = manifest["tracks"][1]
    assert set(track) >= {"title", "file", "duration", "chapters", "fingerprint"}


def test_two_workers_racing_on_one_cache_entry_leave_it_valid(tmp_path):
    # Two separate engines (as two build workers would be) make the same clip at the same moment.
    code = ("import sys; from meditations.speaking.pool import SpeechEngine, SpeechRequest\n"
            "r = SpeechRequest('The same words, spoken twice at once.', 'gmw/en-us', 130, 0.9)\n"
            "with SpeechEngine(workers=1) as e:\n    sys.exit(len(e.synthesize([r])))\n")
    env = {**os.environ, "MEDITATE_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT)}
    racers = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(4)]
    assert [p.wait(timeout=60) for p in racers] == [0, 0, 0, 0]
    entries = list((tmp_path / "cache" / "speech").rglob("*.bin"))
    assert len(entries) == 1
    os.environ["MEDITATE_CACHE_DIR"], saved = str(tmp_path / "cache"), os.environ["MEDITATE_CACHE_DIR"]
    try:
        from meditations.speaking.pool import SpeechRequest, load_clip
        from meditations.speaking.versions import engine_identity

        clip = load_clip(SpeechRequest("The same words, spoken twice at once.", "gmw/en-us", 130, 0.9)
                         .key())
        assert clip is not None and clip.size > 22050
    finally:
        os.environ["MEDITATE_CACHE_DIR"] = saved
    assert not list((tmp_path / "cache").rglob("*.tmp"))


def test_progress_on_a_terminal_and_plain_lines_elsewhere(library, tmp_path):
    command = [sys.executable, str(ROOT / "cli.py"), "build", "scripts", "-o", "out", "-j", "2"]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert [line.split(" (")[0] for line in plain.stdout.splitlines()[:-1]] == [
        "built calm/breath.mp3", "built hello.mp3", "built voice.mp3"] or len(plain.stdout.splitlines()) == 4
    assert "\r" not in plain.stdout
    shutil.rmtree(tmp_path / "out")
    screen = on_a_terminal(command)
    assert "\rrendering tracks [" in screen and "/3 tracks" in screen  # the stage, a bar, the count
    finished = [line.split("\r")[-1] for line in screen.splitlines() if "built " in line and ".mp3 (" in line]
    assert sorted(line.split(" (")[0] for line in finished) == [  # each track on its line as it finishes
        "built calm/breath.mp3", "built hello.mp3", "built voice.mp3"]
    assert screen.rstrip().endswith("built 3, unchanged 0, failed 0")


def test_a_profile_build_goes_into_its_own_folder(library, tmp_path):
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "ana.yaml").write_text("client: Ana\nlibrary: ../scripts\nvariables: {name: Ana}\n"
                                                     "scripts: [hello]\n")
    result = CliRunner().invoke(main, ["build", "--profile", "profiles/ana.yaml", "-o", "out"])
    assert result.exit_code == 0, result.stderr
    assert "Hello Ana." in (tmp_path / "out" / "ana" / "hello.vtt").read_text()
    assert json.loads((tmp_path / "out" / "ana" / "library.json").read_text())["tracks"][0]["title"] == "Hello"


def test_a_build_says_when_it_synthesizes_speech_and_how_far_it_got(library, tmp_path, monkeypatch):
    monkeypatch.setenv("MEDITATE_CACHE_DIR", str(tmp_path / "empty-cache"))
    (library / "more.yaml").write_text("title: More\nsteps:\n  - say: One. Two. Three. Four. Five. Six. Seven.\n")
    first = build()
    assert first.exit_code == 0, first.stderr
    lines = [line for line in first.stdout.splitlines() if line.startswith("synthesizing speech")]
    total = int(lines[0].split()[2])
    assert lines == [f"synthesizing speech: {total} sentences not yet in the cache (made once; later builds "
                     "reuse them)"] + [f"synthesizing speech: {total * q // 4 + (total * q % 4 > 0)}/{total} sentences"
                                       for q in (1, 2, 3, 4)]
    (library / "more.yaml").write_text("title: More\nsteps:\n  - say: One. Two. Three. Four. Five. Six. Seven.\n"
                                       "  - pause: 1s\n")
    again = build()
    assert again.exit_code == 0 and "synthesizing" not in again.stdout  # every sentence is cached now
