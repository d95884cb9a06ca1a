"""Never a stale or silent track (issue 22, third round): a source is what a name leads to, not the file it led
to last time; a hand-edited manifest entry is never published as built; a damaged manifest or journal never
stops a build. Real builds: eSpeak NG, the encoder, real links and files."""

import json
import os
import wave
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from meditations.cli.commands import main


def build(*args, out="out"):
    return CliRunner().invoke(main, ["build", "scripts", "-o", out, "-j", "2", *args])


def dry_run(*args):
    return build("--dry-run", *args).stdout.splitlines()


def write(root: Path, files: dict) -> None:
    """Files below root; "->target" makes a symbolic link."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content.startswith("->"):
            path.symlink_to(content[2:])
        else:
            path.write_text(content, encoding="utf-8")


def relink(link: Path, target: str) -> None:
    link.unlink()
    link.symlink_to(target)


def tone(path: Path, hertz: float, seconds: float = 0.6, rate: int = 22050) -> None:
    t = np.arange(int(seconds * rate)) / rate
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes((0.3 * np.sin(2 * np.pi * hertz * t) * 32767).astype("<i2").tobytes())


def transcript(out: Path, name: str) -> str:
    return (out / name).with_suffix(".vtt").read_text(encoding="utf-8")


QUICK = "lead_in: 0.2s\nfade_out: 0.2s\n"
PAUSES = ("title: Rest\ndescription: A quiet rest.\nlead_in: 0\nfade_out: 0\nsteps:\n  - chapter: Arrive\n"
          "  - pause: 2s\n  - chapter: Stay\n  - pause: 3s\n")  # no speech: quick to build


# ---------------------------------------------------------------- 3. a damaged manifest never stops a build

DEEP = "[" * 100000 + "]" * 100000


@pytest.fixture
def built(tmp_path, monkeypatch):
    write(tmp_path / "scripts", {"s.yaml": PAUSES})
    monkeypatch.chdir(tmp_path)
    assert build("-q").exit_code == 0
    return tmp_path / "out"


@pytest.mark.parametrize("damage", [DEEP, '{"tracks": ' + DEEP + "}", '{"tracks": [{"file": "s.mp3", "title": '
                                    + "[" * 5000 + "]" * 5000 + "}]}", '{"tracks": ' + "{\"a\": " * 50000 + "1"
                                    + "}" * 50000 + "}"], ids=["a list", "its tracks", "a title", "mappings"])
def test_a_deeply_nested_manifest_is_rebuilt_and_never_stops_a_build(built, damage):
    (built / "library.json").write_text(damage)
    assert dry_run() == ["would build s.mp3: new", "1 to build, 0 unchanged"]
    result = build()
    assert (result.exit_code, result.stdout.splitlines()[-1]) == (0, "built 1, unchanged 0, failed 0")
    assert "Traceback" not in result.output
    assert build().stdout == "built 0, unchanged 1, failed 0\n"  # and every later build goes on


def test_a_deeply_nested_journal_line_is_skipped_and_the_others_are_read(built):
    entry = json.loads((built / "library.json").read_text())["tracks"][0]
    (built / "library.json").write_text(DEEP)  # only the journal still knows the track
    (built / ".meditate-journal.jsonl").write_text(DEEP + "\n" + json.dumps(entry) + "\n" + DEEP + "\n")
    assert dry_run() == ["0 to build, 1 unchanged"]
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    assert not (built / ".meditate-journal.jsonl").exists()
    assert json.loads((built / "library.json").read_text())["tracks"] == [entry]


def test_a_deeply_nested_stat_cache_is_read_again(built):
    (built / ".meditate-state.json").write_text(DEEP)
    assert build().stdout == "built 0, unchanged 1, failed 0\n"
    assert json.loads((built / ".meditate-state.json").read_text())


def test_a_manifest_over_its_size_limit_is_not_read(built, monkeypatch):
    size = (built / "library.json").stat().st_size
    monkeypatch.setenv("MEDITATE_MAX_MANIFEST_BYTES", str(size - 1))
    assert dry_run() == ["would build s.mp3: new", "1 to build, 0 unchanged"]
    monkeypatch.setenv("MEDITATE_MAX_MANIFEST_BYTES", str(size))
    assert dry_run() == ["0 to build, 1 unchanged"]
    monkeypatch.setenv("MEDITATE_MAX_MANIFEST_BYTES", "lots")
    result = build()
    assert (result.exit_code, result.stderr) == (1, "Error: MEDITATE_MAX_MANIFEST_BYTES=lots is not a whole number\n")
    assert os.path.exists(built / "s.mp3")
