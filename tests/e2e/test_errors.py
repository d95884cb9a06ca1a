"""Engine errors cross process boundaries as they are, and only cli.py turns them into the lines a user sees."""

import pickle
from pathlib import Path

from meditations.cli.messages import error_lines
from meditations.model.errors import Location, MeditateError, Problem, RenderError, ScriptError, UnexpectedError


def round_trip(exc):
    return pickle.loads(pickle.dumps(exc))


def test_a_script_error_pickles_with_its_problems_in_order():
    exc = ScriptError([Problem(Location("b.yaml", 2, 1), "second"), Problem(Location("a.yaml", 9, 3), "first")])
    copy = round_trip(exc)
    assert type(copy) is ScriptError
    assert copy.problems == exc.problems
    assert error_lines(copy) == ["a.yaml:9:3: first", "b.yaml:2:1: second"]


def test_other_errors_are_one_error_line():
    assert error_lines(round_trip(RenderError("the encoder stopped"))) == ["Error: the encoder stopped"]
    assert error_lines(MeditateError("cannot remove out/a.mp3: Permission denied")) == [
        "Error: cannot remove out/a.mp3: Permission denied"]


def test_a_bug_in_one_track_is_carried_as_text():
    class Unpicklable(Exception):
        def __reduce__(self):
            raise TypeError("not picklable")

    exc = UnexpectedError.of(Path("scripts/calm.yaml"), Unpicklable("boom"))
    assert error_lines(round_trip(exc)) == ["Error: scripts/calm.yaml: unexpected Unpicklable: boom"]


def test_a_track_that_fails_in_its_worker_is_reported_by_the_cli_and_the_build_goes_on(tmp_path, monkeypatch):
    """The recording is found only when the track is rendered (in a worker process): its located error comes
    back across the process boundary and is said like any other, once; the other track is built."""
    from click.testing import CliRunner

    from meditations.cli.commands import main

    scripts = tmp_path / "scripts"
    scripts.mkdir()
    (scripts / "bad.yaml").write_text("title: Bad\nsteps:\n  - say:\n      text: Hello there.\n"
                                      "      recording: bad.wav\n")
    (scripts / "bad.wav").write_bytes(b"RIFF but not a wave file")
    (scripts / "good.yaml").write_text("title: Good\nsteps:\n  - pause: 1s\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["build", "scripts", "-o", "out", "-j", "2"])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"scripts/bad.yaml:5:18: cannot read {scripts / 'bad.wav'}: not a WAV file meditate can decode"]
    assert result.stdout.splitlines()[-1] == "built 1, unchanged 0, failed 1"
    assert (tmp_path / "out" / "good.mp3").is_file() and not (tmp_path / "out" / "bad.mp3").exists()
