"""Domain exceptions. The engine raises these and never formats them into 'Error:' lines: the command line
(meditations/cli/) alone turns them into messages and exit codes. They pickle, so a worker process hands them
back as they are."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a script file: 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One located problem in a script."""

    location: Location
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


EXCERPT_CHARS = 40


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """At most a short excerpt of a text for an error message: its first line, cut to `limit` characters.

    Messages quote what they complain about, but never more than this: a script that is a link to a
    secret file must not print the secret."""
    line = str(text).split("\n", 1)[0]
    cut = line[:limit] + ("…" if len(line) > limit or "\n" in str(text) else "")
    # control characters (some of which end a line on a terminal) and undecodable bytes as escapes
    cut = re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", lambda m: m.group(0).encode("unicode_escape").decode(), cut)
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def shape(node) -> str:
    """What kind of YAML value a node holds, without quoting it (for a whole file that is not a mapping)."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag.endswith((":int", ":float")):
        return "a number"
    if node.tag.endswith(":null") or node.value == "":
        return "nothing"
    return "a text"


class MeditateError(Exception):
    """Base of every error the engine reports to a user."""


class ScriptError(MeditateError):
    """A script (or a file it uses) is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(dict.fromkeys(problems), key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self):  # rebuilt from its problems, not from the joined text in args
        return type(self), (self.problems,)


def _problem_order(problem: Problem):
    loc = problem.location
    return (loc.file, loc.line, loc.column)


class RenderError(MeditateError):
    """Rendering failed for a reason that is not the script's fault (engine, encoder, disk)."""


class MissingComponentError(MeditateError):
    """A needed component (speech library, voice, encoder) is not available; says how to get it."""


class UnexpectedError(MeditateError):
    """A bug met while making one item of a batch (a track of a build): it costs that item, not the batch,
    and is reported with it. Carries only text, so it crosses process boundaries whatever the original was."""

    @classmethod
    def of(cls, item, exc: Exception) -> UnexpectedError:
        """The error for `exc`, raised while making `item` (a script path)."""
        return cls(f"{item}: unexpected {type(exc).__name__}: {exc}")


def as_failure(item, exc: BaseException) -> MeditateError:
    """What making `item` (a script path) failed with, as an engine error: a MeditateError as it is, anything
    else (a bug) as an UnexpectedError that carries only text."""
    return exc if isinstance(exc, MeditateError) else UnexpectedError.of(item, exc)  # type: ignore[arg-type]


def relocated(exc: MeditateError, old: str, new: str) -> MeditateError:
    """The same error with the path `old` written as `new` (a worker's temporary folder as the build
    machine's library folder)."""
    if isinstance(exc, ScriptError):
        return ScriptError([Problem(Location(p.location.file.replace(old, new), p.location.line, p.location.column),
                                    p.message.replace(old, new)) for p in exc.problems])
    moved = type(exc)(str(exc).replace(old, new))
    return moved


class ProblemCollector:
    """Collects problems while validating, so that every problem of a file is reported at once."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, location: Location, message: str) -> None:
        """Record one problem at a location."""
        self.problems.append(Problem(location, message))

    def raise_if_any(self) -> None:
        """Raise a ScriptError carrying every problem recorded so far."""
        if self.problems:
            raise ScriptError(self.problems)
