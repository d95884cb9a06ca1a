"""Read a YAML file into located nodes, safely.

The file is composed into PyYAML nodes (never constructed into objects), so every key and value
keeps its line and column. Anchors, aliases and non-standard tags are refused before anything is built:
aliases (of anchors) are how "billion laughs" documents blow up, and tags are how YAML constructs objects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from meditations.files import FileLimits, env_limit, read_checked
from meditations.model import Location, Problem, ScriptError, excerpt

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + name
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
}
_SCALAR = yaml.constructor.SafeConstructor()


@dataclass(frozen=True)
class Limits:
    """Size limits for script files (see docs/security.md); raised with MEDITATE_MAX_* variables."""

    max_file_bytes: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_FILE_BYTES", 1_000_000))
    max_nesting: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_NESTING", 40))


def location_of(node: yaml.Node, file: str) -> Location:
    """The location where a node starts, 1-based."""
    mark = node.start_mark
    return Location(file, mark.line + 1, mark.column + 1)


def _mark_location(mark, file: str) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def read_text(path, display: str, limits: Limits | None = None) -> str:
    """Read a script file as UTF-8 text, with located errors for binary, oversized or unreadable files (a
    FIFO, a device or a link loop is refused before it is opened: see safe_files)."""
    limits = limits or Limits()
    data = read_checked(path, "script", Location(display, 1, 1), noun="script file",
                        limits=FileLimits(script_bytes=limits.max_file_bytes))
    if b"\x00" in data:
        raise ScriptError([Problem(Location(display, 1, 1), "not a text file (it contains NUL bytes)")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ScriptError([Problem(Location(display, line, column), "not valid UTF-8 text")]) from None
    return text.removeprefix("\ufeff")


def compose(text: str, display: str, limits: Limits | None = None) -> yaml.Node | None:
    """Compose YAML text into a node tree; None for an empty document."""
    limits = limits or Limits()
    try:
        _refuse_aliases_and_depth(text, display, limits)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark, message = _plain_syntax_error(exc)
        raise ScriptError([Problem(_mark_location(mark, display), f"YAML syntax error: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ScriptError([Problem(Location(display, 1, 1), f"YAML syntax error: {exc}")]) from None
    if node is not None:
        _refuse_tags(node, display)
    return node


def _plain_syntax_error(exc: yaml.MarkedYAMLError):
    """PyYAML's complaint in words a script writer can act on, at the place to look."""
    problem = exc.problem or ""
    context = exc.context or ""
    if "'\\t'" in problem:
        return exc.problem_mark, "a tab character cannot indent YAML; use spaces"
    if context in ("while parsing a flow sequence", "while parsing a flow mapping") and exc.context_mark is not None:
        bracket = "[" if "sequence" in context else "{"
        return exc.context_mark, f"this '{bracket}' is never closed"
    if "<stream end>" in problem and context == "while parsing a flow node":
        return exc.problem_mark, "the file ends inside a '[' or '{' that is never closed"
    if "quoted scalar" in context and exc.context_mark is not None:
        return exc.context_mark, "this quote is never closed"
    line = _line_of(exc.problem_mark)
    if re.match(r"\s*-[^\s-]", line):
        start = len(line) - len(line.lstrip())
        return _at_column(exc.problem_mark, start), "put a space after '-' to start a list item ('- pause: 5s')"
    if ("“" in line or "”" in line or "‘" in line or "’" in line) and "':'" in problem + _plain_hint(problem):
        return exc.problem_mark, ("curly quotes (“ ”) are not quotes in YAML: use straight quotes (\" \") around a "
                                  "text that contains ': '")
    flow_start = _flow_value_start(exc.problem_mark)
    if flow_start is not None:
        return flow_start, "a text that starts with '[' or '{' must be put in quotes"
    if problem.startswith("expected <block end>"):
        return exc.problem_mark, "this line is indented differently from the lines above it"
    if "mapping values are not allowed here" in problem:
        return exc.problem_mark, "unexpected ':' (put text that contains ': ' in quotes)"
    if "but found another document" in problem:
        return exc.problem_mark, ("a script holds one document: remove this '---' and what follows "
                                  "(or make it a file of its own)")
    if "could not find expected ':'" in problem:
        return exc.problem_mark, "a key here is missing its ':'"
    message = problem or context or "invalid YAML"
    return exc.problem_mark or exc.context_mark, message


def _plain_hint(problem: str) -> str:
    return "':'" if "mapping values are not allowed here" in problem else ""


def _line_of(mark) -> str:
    if mark is None or not mark.buffer:
        return ""
    start = mark.buffer.rfind("\n", 0, mark.pointer) + 1
    end = mark.buffer.find("\n", mark.pointer)
    return mark.buffer[start:end if end >= 0 else len(mark.buffer)]


def _at_column(mark, column: int):
    return yaml.Mark(mark.name, mark.index, mark.line, column, mark.buffer, mark.pointer)


def _flow_value_start(mark):
    """Where a value starting with [ or { begins on the failing line, if YAML read it as a list/mapping."""
    if mark is None or not mark.buffer:
        return None
    start = mark.buffer.rfind("\n", 0, mark.pointer) + 1
    line = mark.buffer[start:mark.pointer]
    found = re.search(r":\s+([\[{])[^\]}]*[\]}]\s*$", line)
    if not found:
        return None
    return yaml.Mark(mark.name, mark.index, mark.line, found.start(1), mark.buffer, mark.pointer)


def _refuse_aliases_and_depth(text: str, display: str, limits: Limits) -> None:
    """Aliases, anchors and nesting past the limit, refused while parsing (before a node is built). An alias is
    reported before an anchor: its message says what to do about both."""
    depth = 0
    anchor = None
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            raise ScriptError([Problem(_mark_location(event.start_mark, display),
                                       "YAML aliases (*name) are not supported; write the value out")])
        if anchor is None and getattr(event, "anchor", None) is not None:
            anchor = event.start_mark  # where its '&' stands
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > limits.max_nesting:
                raise ScriptError([Problem(_mark_location(event.start_mark, display),
                                           f"nested deeper than the limit of {limits.max_nesting} levels "
                                           "(MEDITATE_MAX_NESTING)")])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    if anchor is not None:
        raise ScriptError([Problem(_mark_location(anchor, display),
                                   "YAML anchors (&name) are not supported; remove the anchor")])


def _refuse_tags(root: yaml.Node, display: str) -> None:
    problems = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.tag not in _STANDARD_TAGS:
            tag = excerpt(node.tag.replace("tag:yaml.org,2002:", "!!"))
            problems.append(Problem(location_of(node, display), f"YAML tag '{tag}' is not allowed in a script"))
            continue
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    if problems:
        raise ScriptError(problems)


def scalar_value(node: yaml.ScalarNode):
    """The Python value of a scalar node (str, int, float, bool, None or date); the text as written when it cannot
    be made into its type (a whole number of thousands of digits, an impossible date)."""
    try:
        return _SCALAR.construct_object(node, deep=False)
    except (ValueError, OverflowError, yaml.YAMLError):
        _SCALAR.recursive_objects.pop(node, None)  # else the shared constructor calls the node "recursive" next time
        return node.value
