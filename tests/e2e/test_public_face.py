"""The calls a program uses (meditations.load, plan, render, build, Settings), as docs/architecture.md shows
them: on a tiny library, with the real engine and encoder."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import meditations
from helpers import ROOT, ffmpeg_duration

SCRIPT = "title: Tiny\nsteps:\n  - say: Rest here.\n  - pause: 1s\n  - bell: {}\n"


def test_load_plan_render_and_build(tmp_path, engine):
    (tmp_path / "scripts").mkdir()
    path = tmp_path / "scripts" / "tiny.yaml"
    path.write_text(SCRIPT, encoding="utf-8")
    script = meditations.load(path, meditations.Settings(loudness=-18.0))
    assert script.finish.loudness == -18.0
    timeline = meditations.plan(script, engine)
    assert [e.kind for e in timeline.events if e.kind in ("speech", "bell")] == ["speech", "bell"]
    result = meditations.render(script, tmp_path / "out" / "tiny.mp3", engine)
    assert result.timeline == timeline and (tmp_path / "out" / "tiny.vtt").is_file()
    assert abs(ffmpeg_duration(result.path) - timeline.duration) < 0.1
    report = meditations.build(tmp_path / "scripts", tmp_path / "library", jobs=1)
    assert report.summary == "built 1, unchanged 0, failed 0"
    assert meditations.build(tmp_path / "scripts", tmp_path / "library", jobs=1).summary == \
        "built 0, unchanged 1, failed 0"


def test_the_architecture_example_uses_only_calls_that_exist():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    example = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    used = {node.attr for node in ast.walk(ast.parse(example))
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "meditations"}
    assert used == {"load", "Settings", "plan", "render", "build"}
    assert all(callable(getattr(meditations, name)) for name in used)
    assert set(meditations.__all__) >= used


def test_an_unknown_name_is_an_attribute_error():
    try:
        meditations.nothing_here  # noqa: B018
    except AttributeError as exc:
        assert str(exc) == "module 'meditations' has no attribute 'nothing_here'"
    else:
        raise AssertionError("no error")


def test_the_root_entry_runs_the_package_command_line():
    result = subprocess.run([sys.executable, str(ROOT / "cli.py"), "--version"], capture_output=True, text=True)
    assert (result.returncode, result.stdout) == (0, f"meditate, version {meditations.__version__}\n")
