"""Engine errors cross process boundaries as they are, and only cli.py turns them into the lines a user sees."""

import pickle
from pathlib import Path

from cli import error_lines
from meditations.errors import Location, MeditateError, Problem, RenderError, ScriptError, UnexpectedError


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
