"""A track that is not what its plan says is an error, never 'wrote ...': checks before the rename, the
SHA-256 in the manifest, `build --verify`, and non-finite numbers refused where they enter."""

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import as_written

import meditations.building.track as render_module
from meditations.cli.commands import main
from meditations.model.errors import RenderError
from meditations.building.track import load, render
from meditations.encoding.verify import TrackProblem, check_mp3

SCRIPT = "title: Checked\nlead_in: 0.2s\nfade_out: 0.2s\nsteps:\n  - say: Every track is checked.\n  - pause: 12s\n"


@pytest.fixture
def script(write):
    return load(write("s.yaml", SCRIPT))


def faulty(change):
    """The real finished blocks, changed on their way to the encoder (a mixer bug, made on purpose)."""
    real = render_module.finished_blocks

    def blocks(*args):
        return change(list(real(*args)))
    return blocks


def zero_speech(blocks):
    blocks[0] = np.zeros_like(blocks[0])
    return blocks


def with_nan(blocks):
    blocks[1] = blocks[1].copy()
    blocks[1][5] = np.nan
    return blocks


@pytest.mark.parametrize("change, message", [
    (lambda b: [x * np.float32(0.1) for x in b], "it measures {quiet:.1f} LUFS where -16.0 LUFS was planned"),
    (zero_speech, "it is silent where {script}:5:10 speaks"),
    (lambda b: b[:-1], "the mix made {short} samples where the plan has {length}"),  # the last block lost
    (with_nan, "the mix made samples that are not numbers at 10.00 s"),
])
def test_a_track_that_is_not_its_plan_is_never_written(script, engine, tmp_path, monkeypatch, change, message):
    from meditations.building.clips import plan_with_speech as plan

    out = tmp_path / "out" / "s.mp3"
    out.parent.mkdir()
    out.write_bytes(b"the previous track")
    from meditations.mixing.foreground import mix_blocks

    from meditations.encoding import Tags, encode_mp3
    from meditations.encoding.listening import Listener
    from meditations.encoding.verify import StreamCheck

    timeline = plan(script, engine)
    length, last = timeline.length, list(mix_blocks(timeline))[-1].size
    quiet_track = tmp_path / "quiet.mp3"  # the real track, 20 dB down, measured as a listener hears it
    levels = render_module.measure(timeline, script.background, script.finish, script.audio)
    real = render_module.finished_blocks(timeline, script.background, script.finish, levels)
    encode_mp3((block * np.float32(0.1) for block in real), script.audio, quiet_track, Tags("quiet"),
               render_module.track_pieces(timeline))
    listener = Listener(script.audio, StreamCheck(timeline.sample_rate, length, (-100.0, 0.0), []))  # it measures
    listener.feed(as_written(quiet_track))
    quiet = listener.finish()
    listener.stop()
    monkeypatch.setattr(render_module, "finished_blocks", faulty(change))
    with pytest.raises(RenderError) as failure:
        render(script, out, engine)
    message = message.format(script=tmp_path / "s.yaml", length=length, short=length - last,
                             quiet=quiet)
    assert str(failure.value) == f"{out} was not written: {message}"
    assert out.read_bytes() == b"the previous track"
    assert sorted(p.name for p in out.parent.iterdir()) == ["s.mp3"]


def test_the_render_command_says_so_in_one_line_and_exits_1(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(render_module, "finished_blocks", faulty(zero_speech))
    result = CliRunner().invoke(main, ["render", "s.yaml"])
    assert (result.exit_code, result.stdout, result.stderr) == (
        1, "", "Error: audio_out/s.mp3 was not written: it is silent where s.yaml:5:10 speaks\n")


@pytest.fixture
def track(script, engine, tmp_path):
    result = render(script, tmp_path / "s.mp3", engine)
    return result, tmp_path / "s.mp3"


@pytest.mark.parametrize("chunk", [1 << 20, 997])  # 997: the tag and frames straddle the chunks it reads
def test_reading_the_track_back(track, chunk, monkeypatch):
    monkeypatch.setattr("meditations.encoding.verify.READ_CHUNK", chunk)
    result, path = track
    data = path.read_bytes()
    facts = check_mp3(path, result.timeline.duration, 1, 64)
    assert facts.sha256 == result.sha256 and len(data) == result.size
    assert facts.seconds * 44100 == pytest.approx(result.timeline.length)  # what its gapless header plays
    starts = [len(data) - len(data.split(b"\xff\xfb")[-1]) - 2]  # the last frame's start ...
    starts.append(data.rindex(b"\xff\xfb", 0, starts[0]))  # ... and the one before it
    damaged = path.with_name("damaged.mp3")
    for cut, problem in [
        (lambda d: d[:-100], "it is damaged: its last MP3 frame is cut short"),
        (lambda d: d[:starts[1]], f"its gapless header counts {facts.frames} MP3 frames where it holds "
                                  f"{facts.frames - 2}"),
        (lambda d: d[:starts[1]] + b"\0" * 4 + d[starts[1] + 4:], f"it is damaged: no MP3 frame at byte {starts[1]}"),
        (lambda d: d[:d.index(b"\xff\xfb")], "it holds no audio"),
    ]:
        damaged.write_bytes(cut(data))
        with pytest.raises(TrackProblem) as failure:
            check_mp3(damaged, result.timeline.duration, 1, 64)
        assert str(failure.value) == problem
    with pytest.raises(TrackProblem) as failure:
        check_mp3(path, result.timeline.duration, 2, 64)
    assert str(failure.value) == "it is damaged: MP3 frame 1 is not in the track's format"


# ---------------------------------------------------------------- the manifest's SHA-256 and build --verify

@pytest.fixture
def library(tmp_path, monkeypatch):
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name in ("one", "two", "three"):
        (scripts / f"{name}.yaml").write_text(f"title: {name}\nsteps:\n  - say: Track {name}.\n  - pause: 3s\n")
    monkeypatch.chdir(tmp_path)
    assert build().exit_code == 0
    return tmp_path / "out"


def build(*args):
    return CliRunner().invoke(main, ["build", "scripts", "-o", "out", "-j", "2", *args])


def spoil(path, keep_time=False):
    """Change a byte in the middle of the file: same size, different content (and time, unless kept)."""
    stat = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    if keep_time:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_each_track_s_sha256_is_in_the_manifest(library):
    import hashlib

    for entry in json.loads((library / "library.json").read_text())["tracks"]:
        assert entry["sha256"] == hashlib.sha256((library / entry["file"]).read_bytes()).hexdigest()


def test_a_track_changed_to_the_same_size_is_noticed_and_rebuilt(library):
    spoil(library / "two.mp3")
    assert build("--dry-run").stdout.splitlines() == [
        "would build two.mp3: its track was changed outside meditate", "1 to build, 2 unchanged"]
    result = build()
    assert [line.split(" (")[0] for line in result.stdout.splitlines()] == [
        "built two.mp3", "built 1, unchanged 2, failed 0"]
    assert build().stdout == "built 0, unchanged 3, failed 0\n"


def test_verify_reads_every_track_again(library):
    assert build("--verify").stdout == "verified 3 tracks: all as built\nbuilt 0, unchanged 3, failed 0\n"
    spoil(library / "one.mp3", keep_time=True)  # size and time as before: only reading it again tells
    assert build().stdout == "built 0, unchanged 3, failed 0\n"
    result = build("--verify")
    assert result.exit_code == 0
    assert [line.split(" (")[0] for line in result.stdout.splitlines()] == [
        "built one.mp3",
        "verified 3 tracks: 1 not as built, rebuilt",
        "built 1, unchanged 2, failed 0"]
    assert result.stdout.splitlines()[1] == (
        "verified 3 tracks: 1 not as built, rebuilt (one.mp3: its track was changed outside meditate)")
    assert build("--verify").stdout == "verified 3 tracks: all as built\nbuilt 0, unchanged 3, failed 0\n"


def test_a_manifest_entry_without_its_hash_is_not_trusted_by_size(library):
    # An entry is trusted only as the build wrote it, digest and all (tests/e2e/test_hostile_sources.py).
    manifest = json.loads((library / "library.json").read_text())
    for entry in manifest["tracks"]:
        del entry["sha256"]
    (library / "library.json").write_text(json.dumps(manifest))
    (library / ".meditate-state.json").unlink()
    assert build("--dry-run").stdout.splitlines() == [
        f"would build {name}: its manifest entry was changed outside meditate"
        for name in ("one.mp3", "three.mp3", "two.mp3")] + ["3 to build, 0 unchanged"]


# ---------------------------------------------------------------- numbers that are not numbers

@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN"])
def test_a_loudness_that_is_not_a_number_is_refused(tmp_path, monkeypatch, value):
    (tmp_path / "s.yaml").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--loudness", value])
    assert result.exit_code == 2
    expected = {"nan": "nan is not a number meditate can use", "NaN": "nan is not a number meditate can use",
                "inf": "inf is not in the range -36<=x<=-9.", "-inf": "-inf is not in the range -36<=x<=-9."}[value]
    assert result.stderr.splitlines()[-1] == f"Error: Invalid value for '--loudness': {expected}"


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_a_length_that_is_not_a_number_is_refused(tmp_path, monkeypatch, value):
    (tmp_path / "s.yaml").write_text(SCRIPT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", ".", "--length", value])
    assert result.exit_code == 2
    shown = value.lstrip("-")  # the duration parser names the number it could not read
    assert result.stderr.splitlines()[-1] == (f"Error: Invalid value for '--length': '{shown}' is not a duration: "
                                              "write it like 5s, 1.5s, 1m30s, 500ms or 1h")


@pytest.mark.parametrize("yaml_value, message", [
    ("loudness: .nan", "s.yaml:2:11: 'loudness' must be between -36 and -9 LUFS, got nan"),
    ("loudness: -.inf", "s.yaml:2:11: 'loudness' must be between -36 and -9 LUFS, got -inf"),
    ("voice: {volume: .nan}", "s.yaml:2:17: 'voice.volume' must be between 0.1 and 1, got nan"),
    ("background: {sound: pink-noise, level: .nan}",
     "s.yaml:2:40: 'background.level' must be between -60dB and 0dB, got nan"),
    ("length: .inf", "s.yaml:2:9: 'length': expected a duration such as 5s, 1m30s or 500ms, got inf"),
])
def test_numbers_in_a_script_that_are_not_numbers_are_located(tmp_path, monkeypatch, yaml_value, message):
    (tmp_path / "s.yaml").write_text(f"title: x\n{yaml_value}\nsteps:\n  - say: hi\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["validate", "s.yaml"])
    assert (result.exit_code, result.stderr.splitlines()) == (1, [message])


def write_float_wav(path, samples):
    """A 32-bit float WAV (format 3), which ffmpeg decodes as it is: NaN included."""
    data = np.asarray(samples, dtype="<f4").tobytes()
    header = (b"RIFF" + (36 + len(data)).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
              + (3).to_bytes(2, "little") + (1).to_bytes(2, "little") + (22050).to_bytes(4, "little")
              + (22050 * 4).to_bytes(4, "little") + (4).to_bytes(2, "little") + (32).to_bytes(2, "little")
              + b"data" + len(data).to_bytes(4, "little"))
    path.write_bytes(header + data)


def test_a_recording_holding_samples_that_are_not_numbers_is_a_located_error(tmp_path, monkeypatch):
    tone = 0.3 * np.sin(np.arange(22050) / 22050 * 2 * np.pi * 220)
    tone[1000] = np.nan
    write_float_wav(tmp_path / "bell.flac", tone)  # any name: ffmpeg looks at what the file holds
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: hi\n  - bell: {sound: bell.flac}\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "s.yaml"])
    assert (result.exit_code, result.stderr) == (
        1, f"s.yaml:4:11: cannot read {tmp_path / 'bell.flac'}: it holds samples that are not numbers "
           "(NaN or infinity)\n")
    assert not os.path.exists("audio_out/s.mp3")
