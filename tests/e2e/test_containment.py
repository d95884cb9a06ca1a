"""Hostile files, folders and disks around a render or build: one clear line and the right exit code, never a
traceback; nothing written or deleted outside the output folder; names that cannot break a playlist."""

import json
import os
import shutil
import subprocess
import wave

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main

SCRIPT = "title: Short\nsteps:\n  - say: Rest here.\n  - pause: 1s\n"


def run(*args, **env):
    return CliRunner(env=env or None).invoke(main, list(args))


def write_wav(path, seconds, rate=8000):
    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes((0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2").tobytes())


@pytest.fixture
def work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(SCRIPT)
    return tmp_path


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 kB file system (a tmpfs): writing more fails with ENOSPC, as on a full disk."""
    folder = tmp_path / "full"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip("needs permission to mount a small tmpfs")
    yield folder
    subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@pytest.fixture
def immutable(tmp_path):
    """A folder nobody may write in or delete from, root included (chattr +i)."""
    folder = tmp_path / "locked"
    folder.mkdir()

    def lock():
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
            pytest.skip("needs chattr on this file system")
    yield folder, lock
    subprocess.run(["chattr", "-i", str(folder)], capture_output=True)


# ---------------------------------------------------------------- errors, never tracebacks

def test_an_empty_name_for_new_is_a_usage_error(work):
    for name in ("", " "):
        result = run("new", name)
        assert result.exit_code == 2
        assert result.stderr.splitlines()[-1] == ("Error: Invalid value for NAME: give the new script a file name, "
                                                  "for example scripts/evening-calm")
    result = run("new", ".")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (2, "Error: Invalid value for 'NAME': File '.' is "
                                                                     "a directory.")
    assert sorted(p.name for p in work.iterdir()) == ["s.yaml"]


def test_a_cache_folder_that_is_a_file(work):
    (work / "cache").write_text("")
    result = run("plan", "s.yaml", MEDITATE_CACHE_DIR=str(work / "cache"))
    assert (result.exit_code, result.stderr) == (1, f"Error: the speech cache folder {work / 'cache'} cannot be used "
                                                    "(it is a file, not a folder); set MEDITATE_CACHE_DIR to a folder "
                                                    "you can write\n")


def test_a_cache_folder_nobody_may_write(work, immutable):
    folder, lock = immutable
    lock()
    result = run("render", "s.yaml", MEDITATE_CACHE_DIR=str(folder))
    assert (result.exit_code, result.stderr) == (1, f"Error: the speech cache folder {folder} cannot be used "
                                                    "(Operation not permitted); set MEDITATE_CACHE_DIR to a folder "
                                                    "you can write\n")


def test_a_cache_on_a_full_disk(work, tiny_disk):
    result = run("build", ".", "-o", "out", MEDITATE_CACHE_DIR=str(tiny_disk / "cache"))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: the disk of the speech cache folder {tiny_disk / 'cache'} is full (")
    assert result.stderr.endswith(" kB free, meditate needs 16 MB); free some space or set MEDITATE_CACHE_DIR to a "
                                  "folder on another disk\n")


def test_a_full_disk_while_writing_a_track(work, tiny_disk):
    (work / "long.yaml").write_text("title: Long\nsteps:\n  - say: Rest.\n  - pause: 60s\n")
    result = run("render", "long.yaml", "-o", str(tiny_disk))
    assert (result.exit_code, result.stderr) == (1, f"Error: cannot write {tiny_disk / 'long.mp3'}: "
                                                    "No space left on device\n")
    assert os.listdir(tiny_disk) == []  # its temporary file is gone too


def test_a_read_only_output_folder(work, immutable):
    folder, lock = immutable
    lock()
    result = run("render", "s.yaml", "-o", "locked")
    assert (result.exit_code, result.stderr) == (1, "Error: cannot write locked/s.mp3: Operation not permitted\n")
    result = run("build", ".", "-o", "locked")
    assert (result.exit_code, result.stderr) == (1, "Error: cannot use the lock file locked/.meditate.lock: "
                                                    "Operation not permitted\n")


def test_a_track_that_cannot_be_pruned(work, immutable):
    folder, lock = immutable
    (work / "scripts").mkdir()
    (work / "scripts" / "s.yaml").write_text(SCRIPT)
    (work / "scripts" / "t.yaml").write_text(SCRIPT)
    assert run("build", "scripts", "-o", "locked", "-q").exit_code == 0
    (work / "scripts" / "t.yaml").unlink()
    lock()
    result = run("build", "scripts", "-o", "locked", "--prune")
    # the lock file is removed after every build, so a folder that cannot change stops the build there
    assert (result.exit_code, result.stderr) == (1, "Error: cannot use the lock file locked/.meditate.lock: "
                                                    "Operation not permitted\n")
    assert (folder / "t.mp3").exists()


def test_a_track_that_cannot_be_deleted(work):
    (work / "scripts").mkdir()
    (work / "scripts" / "s.yaml").write_text(SCRIPT)
    (work / "scripts" / "t.yaml").write_text(SCRIPT)
    assert run("build", "scripts", "-o", "out", "-q").exit_code == 0
    (work / "scripts" / "t.yaml").unlink()
    if subprocess.run(["chattr", "+i", str(work / "out" / "t.mp3")], capture_output=True).returncode != 0:
        pytest.skip("needs chattr on this file system")
    try:
        result = run("build", "scripts", "-o", "out", "--prune")
    finally:
        subprocess.run(["chattr", "-i", str(work / "out" / "t.mp3")], capture_output=True)
    assert (result.exit_code, result.stderr) == (1, "Error: cannot remove out/t.mp3: Operation not permitted\n")


def test_too_many_chapters_is_the_real_limit_of_id3():
    """255 chapters fit in one ID3v2 table of contents (its entry count is one byte); 256 do not."""
    import tempfile
    from pathlib import Path

    from mutagen.id3 import ID3

    from meditations.encoding.encoder import Tags, write_tags

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.mp3"
        path.write_bytes(b"")
        write_tags(path, Tags(title="t", chapters=tuple((f"c{i}", i * 10, i * 10 + 10) for i in range(255))))
        assert len(ID3(str(path)).getall("CTOC")[0].child_element_ids) == 255
        with pytest.raises(ValueError):
            write_tags(path, Tags(title="t", chapters=tuple((f"c{i}", i * 10, i * 10 + 10) for i in range(256))))


# ---------------------------------------------------------------- limits on what is read

def test_a_fifo_given_as_a_profile_does_not_block(work):
    os.mkfifo(work / "client.yaml")
    result = run("validate", "--profile", "client.yaml")
    assert (result.exit_code, result.stderr) == (1, "client.yaml:1:1: is a named pipe (FIFO), not a script file\n")


def test_a_profile_value_that_would_change_the_text(work):
    (work / "scripts").mkdir()
    (work / "scripts" / "s.yaml").write_text("title: x\nvariables: {name: friend}\nsteps:\n  - say: Hi {name}.\n")
    (work / "client.yaml").write_text("library: scripts\nvariables: {name: \"Ana\\n\\n[pause 60s]\"}\nscripts: [s]\n")
    result = run("validate", "--profile", "client.yaml")
    assert (result.exit_code, result.stderr) == (1, "client.yaml:2:19: 'variables.name' holds a line break: a value "
                                                    "goes into a sentence, so it must be one line\n")


@pytest.mark.parametrize("value, message", [
    ("Ana\nBye", "the value of name holds a line break: a value goes into a sentence, so it must be one line"),
    ("{other}", "the value of name holds '{': a value is spoken as written, so it cannot hold markup "
                "([pause ...] or braces)"),
    ("x" * 20001, "the value of name is 20001 characters, over the limit of 20000 (MEDITATE_MAX_TEXT_CHARS)"),
])
def test_set_values_that_would_change_the_text(work, value, message):
    result = run("plan", "s.yaml", "--set", f"name={value}")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--set': {message}"


def test_a_value_counts_toward_the_text_limit(work):
    (work / "v.yaml").write_text("title: x\nvariables: {name: friend}\nsteps:\n  - say: Hello {name}, {name}.\n")
    result = run("validate", "v.yaml", MEDITATE_MAX_TEXT_CHARS="30")
    assert result.exit_code == 0, result.stderr
    result = run("plan", "v.yaml", "--set", "name=" + "n" * 12, MEDITATE_MAX_TEXT_CHARS="30")
    assert (result.exit_code, result.stderr) == (1, "v.yaml:4:10: this text is 33 characters once its placeholders "
                                                    "are filled in, over the limit of 30 (MEDITATE_MAX_TEXT_CHARS)\n")


def test_audio_and_cover_sizes_have_limits(work):
    write_wav(work / "r.wav", 2.0)
    (work / "c.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(2000))
    (work / "a.yaml").write_text("title: x\ncover: c.png\nsteps:\n  - say: {text: hi, recording: r.wav}\n")
    assert run("validate", "a.yaml").exit_code == 0
    result = run("validate", "a.yaml", MEDITATE_MAX_AUDIO_BYTES="1000", MEDITATE_MAX_COVER_BYTES="1000")
    assert (result.exit_code, result.stderr.splitlines()) == (1, [
        "a.yaml:2:8: 'cover' file 'c.png' is 2008 bytes, over the limit of 1000 bytes (MEDITATE_MAX_COVER_BYTES)",
        "a.yaml:4:32: 'say.recording' file 'r.wav' is 32044 bytes, over the limit of 1000 bytes "
        "(MEDITATE_MAX_AUDIO_BYTES)"])


def test_a_recording_longer_than_its_limit(work):
    write_wav(work / "r.wav", 3.0)
    (work / "a.yaml").write_text("title: x\nsteps:\n  - say: {text: hi, recording: r.wav}\n")
    result = run("plan", "a.yaml", MEDITATE_MAX_AUDIO_SECONDS="2")
    assert (result.exit_code, result.stderr) == (1, "a.yaml:3:32: r.wav plays longer than the limit of 2 seconds "
                                                    "(MEDITATE_MAX_AUDIO_SECONDS)\n")


def test_a_long_bed_is_decoded_only_as_far_as_the_track_needs(work, tmp_path):
    """A bed far longer than the audio limit plays under a short track: only what the track needs is read."""
    from helpers import ffmpeg

    from meditations.audio.sounds import read_audio_file

    bed = work / "bed.ogg"
    subprocess.run([ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=110:duration=40", "-ar", "8000",
                    "-c:a", "libvorbis", str(bed)], check=True)
    assert read_audio_file(bed, 8000, seconds=5).size == 5 * 8000
    (work / "b.yaml").write_text("title: x\nbackground: {sound: bed.ogg}\nsteps:\n  - say: Rest.\n  - pause: 2s\n")
    result = run("render", "b.yaml", "-o", "out", MEDITATE_MAX_AUDIO_SECONDS="10")
    assert result.exit_code == 0, result.stderr
    with pytest.raises(Exception, match="plays longer than the limit of 10 seconds"):
        os.environ["MEDITATE_MAX_AUDIO_SECONDS"] = "10"
        try:
            read_audio_file(bed, 8000)
        finally:
            del os.environ["MEDITATE_MAX_AUDIO_SECONDS"]


# ---------------------------------------------------------------- containment

def test_the_lock_file_is_never_followed_through_a_link(work):
    (work / "out").mkdir()
    (work / "victim.txt").write_text("keep me")
    (work / "out" / ".meditate.lock").symlink_to(work / "victim.txt")
    result = run("build", ".", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "Error: cannot use the lock file out/.meditate.lock: "
                                                    "it is a link\n")
    assert (work / "victim.txt").read_text() == "keep me"


def test_a_lock_file_that_is_a_fifo_is_refused_at_once(work):
    (work / "out").mkdir()
    os.mkfifo(work / "out" / ".meditate.lock")
    result = run("build", ".", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "Error: cannot use the lock file out/.meditate.lock: "
                                                    "it is not a regular file\n")


def test_prune_deletes_only_below_the_output_folder(work):
    """A manifest naming files with ../, an absolute path or a path through a link deletes none of them, even
    when they are tracks meditate made (their fingerprint matches)."""
    (work / "scripts").mkdir()
    (work / "scripts" / "s.yaml").write_text(SCRIPT)
    assert run("build", "scripts", "-o", "elsewhere", "-q").exit_code == 0
    assert run("build", "scripts", "-o", "out", "-q").exit_code == 0
    (work / "out" / "link").symlink_to(work / "elsewhere")
    manifest = json.loads((work / "out" / "library.json").read_text())
    ours = manifest["tracks"][0]
    manifest["tracks"] += [{**ours, "file": "../elsewhere/s.mp3"}, {**ours, "file": str(work / "elsewhere" / "s.mp3")},
                           {**ours, "file": "link/s.mp3"}]
    (work / "out" / "library.json").write_text(json.dumps(manifest))
    result = run("build", "scripts", "-o", "out", "--prune")
    assert (result.exit_code, result.stdout) == (0, "built 0, unchanged 1, failed 0\n")
    assert (work / "elsewhere" / "s.mp3").exists() and (work / "elsewhere" / "s.vtt").exists()


def test_transcripts_escape_what_webvtt_requires(work):
    (work / "t.yaml").write_text("title: x\nsteps:\n  - say: 'Tom & Jerry <b>rest</b> --> here.'\n")
    assert run("render", "t.yaml", "-o", "out").exit_code == 0
    vtt = (work / "out" / "t.vtt").read_text()
    assert vtt.splitlines()[4] == "Tom &amp; Jerry &lt;b&gt;rest&lt;/b&gt; --&gt; here."
    assert vtt.count("-->") == 1  # the timing line only

    from meditations.encoding.webvtt import parse_vtt

    assert parse_vtt(vtt)[0].text == "Tom & Jerry <b>rest</b> --> here."


def test_names_that_would_break_a_playlist(work):
    scripts = work / "scripts"
    scripts.mkdir()
    for name in ("#1 calm & <b>.yaml", "line\nbreak.yaml", os.fsdecode(b"caf\xe9.yaml"), "a.yaml", "a.yml"):
        (scripts / name).write_text(SCRIPT)
    result = run("build", "scripts", "-o", "out", "--base-url", "https://example.org/calm/")
    assert result.exit_code == 1
    assert sorted(result.stderr.splitlines()) == [
        "Error: scripts/a.yaml would be written to out/a.mp3, like scripts/a.yml; rename one of them",
        "Error: scripts/a.yml would be written to out/a.mp3, like scripts/a.yaml; rename one of them",
        "Error: scripts/caf\\xe9.yaml: its name is not valid UTF-8 text; rename the script (its name becomes "
        "the track's)",
        "Error: scripts/line\\nbreak.yaml: its name holds a line break or another control character; rename the "
        "script (its name becomes the track's)"]
    assert (work / "out" / "library.m3u8").read_text().splitlines()[-1] == "./#1 calm & <b>.mp3"
    assert sorted(p.name for p in (work / "out").glob("*.mp3")) == ["#1 calm & <b>.mp3"]
    import xml.etree.ElementTree as ET

    enclosure = ET.parse(work / "out" / "feed.xml").getroot().find("channel/item/enclosure")
    assert enclosure.get("url") == "https://example.org/calm/%231%20calm%20%26%20%3Cb%3E.mp3"
    page = (work / "out" / "index.html").read_text()
    assert 'src="%231%20calm%20%26%20%3Cb%3E.mp3"' in page and "<b>.mp3" not in page


def test_two_scripts_given_to_render_that_make_one_track(work):
    shutil.copy(work / "s.yaml", work / "s.yml")
    result = run("render", "s.yaml", "s.yml", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "Error: s.yaml and s.yml would both be written to out/s.mp3; "
                                                    "rename one of them\n")
    assert not (work / "out").exists()


def test_a_script_given_twice(work):
    (work / "scripts").mkdir()
    (work / "scripts" / "a.yaml").write_text(SCRIPT)
    (work / "client.yaml").write_text("library: scripts\nscripts:\n  - a\n  - {script: a.yaml, length: 20s}\n")
    result = run("build", "--profile", "client.yaml", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "Error: scripts/a.yaml is given 2 times; give it once\n")
    result = run("render", "s.yaml", "s.yaml", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "Error: s.yaml is given 2 times; give it once\n")


def test_a_track_too_short_for_an_mp3(work):
    (work / "tiny.yaml").write_text("title: x\nlead_in: 1ms\nfade_out: 1ms\nsteps:\n"
                                    "  - bell: {strikes: 3, gap: 1ms, ring: 1ms}\n")
    result = run("render", "tiny.yaml", "-o", "out")
    assert (result.exit_code, result.stderr) == (1, "tiny.yaml:1:1: the track would last only 0.005 s; a track lasts "
                                                    "at least 0.1 s (lengthen its steps, lead_in or fade_out)\n")
    assert not (work / "out").exists()


def test_a_damaged_manifest_is_rebuilt_not_a_crash(work):
    (work / "scripts").mkdir()
    (work / "scripts" / "s.yaml").write_text(SCRIPT)
    assert run("build", "scripts", "-o", "out", "-q").exit_code == 0
    for damaged in ('{"tracks": [1, {"x": 2}, {"file": 5}]}', '{"tracks": "abc"}', "[]",
                    '{"tracks": [{"file": "s.mp3", "duration": "long", "sources": 3}]}'):
        (work / "out" / "library.json").write_text(damaged)
        result = run("build", "scripts", "-o", "out")
        assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "built 1, unchanged 0, failed 0")
        assert [t["file"] for t in json.loads((work / "out" / "library.json").read_text())["tracks"]] == ["s.mp3"]
    state = work / "out" / ".meditate-state.json"
    for damaged in ({name: 5 for name in json.loads(state.read_text())}, {"x": [1]}, [1, 2]):
        state.write_text(json.dumps(damaged))
        result = run("build", "scripts", "-o", "out")
        assert (result.exit_code, result.stdout) == (0, "built 0, unchanged 1, failed 0\n")


def test_voice_samples_of_any_voice_name_and_no_empty_language(work):
    result = run("voices", "--sample", "K'iche'")  # a quote in the voice's name broke the sample's script
    assert (result.exit_code, result.stdout) == (0, "wrote drafts/voices/myn-quc.mp3 (K'iche')\n")
    result = run("voices", "--sample", "--language", "")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2, "Error: Invalid value for '--language': give a language code, for example en or fr-fr")


def test_half_a_surrogate_pair_in_a_text(work):
    (work / "u.yaml").write_text('title: x\nsteps:\n  - say: "Hi \\ud800 there."\n')
    result = run("validate", "u.yaml")
    assert (result.exit_code, result.stderr) == (1, "u.yaml:3:10: 'say' holds a control character (\\ud800); "
                                                    "remove it\n")


def test_new_refuses_a_name_no_track_could_have(work):
    result = run("new", "evening\ncalm")
    assert (result.exit_code, result.stderr.splitlines()[-1]) == (
        2, "Error: Invalid value for NAME: 'evening\\ncalm': its name holds a line break or another control character")
    assert sorted(p.name for p in work.iterdir()) == ["s.yaml"]


def test_a_long_bell_sound_is_read_as_far_as_it_rings(work):
    from helpers import ffmpeg

    subprocess.run([ffmpeg(), "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=40", "-ar", "8000",
                    "-c:a", "libvorbis", str(work / "gong.ogg")], check=True)
    (work / "ring.yaml").write_text("title: x\nsteps:\n  - bell: {sound: gong.ogg, ring: 2s}\n")
    result = run("render", "ring.yaml", "-o", "out", MEDITATE_MAX_AUDIO_SECONDS="10")
    assert result.exit_code == 0, result.stderr
    (work / "whole.yaml").write_text("title: x\nsteps:\n  - bell: {sound: gong.ogg}\n")
    result = run("plan", "whole.yaml", MEDITATE_MAX_AUDIO_SECONDS="10")
    assert (result.exit_code, result.stderr) == (1, "whole.yaml:3:11: gong.ogg plays longer than the limit of 10 "
                                                    "seconds (MEDITATE_MAX_AUDIO_SECONDS)\n")
