"""Property-based tests of the third hostile round: whatever a manifest, a journal or a WAV header holds, a
build or a check ends in a good track or one located line, never a traceback, a hang or a stopped build.

`./run.sh fuzz` runs these with forty times as many examples (the "fuzz" profile of test_properties.py).
"""

from __future__ import annotations

import json
import shutil
import struct

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import LOCATED, examples

from meditations.cli import main

SCRIPT = "title: Rest\nsteps:\n  - say: Rest here.\n  - pause: 1s\n"

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10 ** 30, 10 ** 30), st.floats(allow_nan=False),
              st.text(max_size=20), st.sampled_from(["rest.mp3", "rest.vtt", "../x.mp3", "/etc/hostname", ""])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["tracks", "file", "title", "duration", "chapters", "sha256", "size", "digest", "sources",
                         "lookups", "owner", "nested", "transcript", "x"]), inner, max_size=5)),
    max_leaves=25)
DEEP = st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A one-track library, built once."""
    root = tmp_path_factory.mktemp("records")
    (root / "scripts").mkdir()
    (root / "scripts" / "rest.yaml").write_text(SCRIPT, encoding="utf-8")
    result = CliRunner().invoke(main, ["build", str(root / "scripts"), "-o", str(root / "out"), "-j", "1", "-q"])
    assert result.exit_code == 0, result.stderr
    return root


def build_again(built, tmp_path, damage) -> tuple:
    """Copy the built library, damage it, build it again: the result and the output folder."""
    shutil.copytree(built / "scripts", tmp_path / "scripts", dirs_exist_ok=True)
    shutil.copytree(built / "out", tmp_path / "out", dirs_exist_ok=True)
    damage(tmp_path / "out")
    result = CliRunner().invoke(main, ["build", str(tmp_path / "scripts"), "-o", str(tmp_path / "out"), "-j", "1",
                                       "-q"])
    return result, tmp_path / "out"


def assert_whole(result, out) -> None:
    """The build ended well and left the track, its transcript and a manifest naming it as built."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((out / "library.json").read_text(encoding="utf-8"))
    assert [t["file"] for t in manifest["tracks"]] == ["rest.mp3"]
    assert (out / "rest.mp3").stat().st_size > 1000 and (out / "rest.vtt").is_file()
    assert "Rest" in (out / "index.html").read_text(encoding="utf-8")


@settings(max_examples=examples(12))
@given(value=st.one_of(JSON_VALUES.map(json.dumps), DEEP, st.text(max_size=40)))
def test_any_manifest_ends_in_a_whole_library(built, tmp_path_factory, value):
    result, out = build_again(built, tmp_path_factory.mktemp("manifest"),
                              lambda out: (out / "library.json").write_text(value, encoding="utf-8"))
    assert_whole(result, out)


@settings(max_examples=examples(12))
@given(lines=st.lists(st.one_of(JSON_VALUES.map(json.dumps), DEEP, st.text(max_size=40)), max_size=4))
def test_any_journal_ends_in_a_whole_library(built, tmp_path_factory, lines):
    def damage(out):
        (out / ".meditate-journal.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")

    result, out = build_again(built, tmp_path_factory.mktemp("journal"), damage)
    assert_whole(result, out)


def wav_bytes(channels: int, rate: int, bits: int, declared: int, data: bytes, fmt_tag: int = 1) -> bytes:
    """A WAV file whose header says what it is given to say, whatever the data."""
    block = max(1, channels * max(bits, 8) // 8)
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", declared) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


@settings(max_examples=examples(40))
@given(channels=st.integers(0, 65535), rate=st.integers(0, 2 ** 32 - 1), bits=st.sampled_from([0, 1, 8, 16, 24, 32, 64]),
       declared=st.integers(0, 2 ** 32 - 1), data=st.binary(max_size=2000), fmt_tag=st.sampled_from([1, 3, 2, 0xFFFE]))
def test_any_wav_header_ends_in_a_check_or_one_located_line(tmp_path_factory, channels, rate, bits, declared, data,
                                                             fmt_tag):
    folder = tmp_path_factory.mktemp("wav")
    (folder / "r.wav").write_bytes(wav_bytes(channels & 0xFFFF, rate, bits, declared, data, fmt_tag))
    (folder / "s.yaml").write_text("title: x\nsteps:\n  - say: {text: Hello., recording: r.wav}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(folder / "s.yaml")])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code:
        lines = result.stderr.splitlines()
        assert result.exit_code == 1 and lines and all(LOCATED.match(line) for line in lines), result.stderr
