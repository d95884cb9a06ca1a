"""Value validators: one public function per kind of value (text, duration, number, choice, level, file, list,
mapping keys...). Each reports what is wrong at the node, with FILE:LINE:COL, and returns None (or an empty
value) for a value it refused, so that every problem of a file is collected in one pass."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from meditations.files import file_problem, within
from meditations.model import LOUDNESS_RANGE, Location, excerpt, parse_duration

from .context import LoadContext, node_kind, scalar, show_path
from .text import fill_placeholders, is_variable_name
from .values import control_character, value_problem
from .yamlsource import location_of, scalar_value


def text_value(node, ctx: LoadContext, what: str, allow_empty: bool = False) -> str | None:
    """A single line or paragraph of text."""
    value = scalar(node, ctx, what, "text")
    if value is None:
        if isinstance(node, yaml.ScalarNode) and not allow_empty:
            ctx.error(node, f"'{what}' needs a value")
        return None
    if isinstance(value, bool):
        ctx.error(node, f"'{what}' must be text, got {node_kind(node)}")
        return None
    text = value if isinstance(value, str) else node.value  # a number or date: the text as written
    if not text.strip() and not allow_empty:
        ctx.error(node, f"'{what}' needs a value")
        return None
    control = control_character(text)
    if control is not None:  # written as an escape ("\0"): the speech engine would stop at it, tags break
        ctx.error(node, f"'{what}' holds a control character ({control}); remove it")
        return None
    return text


def filled_text(node, ctx: LoadContext, what: str) -> str | None:
    """Text with {placeholders} filled in from the variables."""
    raw = text_value(node, ctx, what)
    if raw is None:
        return None
    return fill_placeholders(raw, RecordingVariables(ctx.variables, ctx.used), text_reporter(node, raw, ctx)).strip()


def duration_value(node, ctx: LoadContext, what: str, allow_zero: bool = False) -> float | None:
    """A positive duration in seconds (or zero, where zero means "none")."""
    value = scalar(node, ctx, what, "a duration")
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        ctx.error(node, f"'{what}': {exc}")
        return None
    if seconds < 0 and allow_zero:
        ctx.error(node, f"'{what}' must be zero or longer, got {node_kind(node)}")
        return None
    if seconds <= 0 and not (allow_zero and seconds == 0):
        ctx.error(node, f"'{what}' must be longer than zero, got {node_kind(node)}")
        return None
    return seconds


def int_value(node, ctx: LoadContext, what: str, low: int, high: int, unit: str = "") -> int | None:
    """A whole number within [low, high]."""
    value = scalar(node, ctx, what, "a whole number")
    if not isinstance(node, yaml.ScalarNode):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.error(node, f"'{what}' must be a whole number, got {node_kind(node)}")
        return None
    if not low <= value <= high:
        ctx.error(node, f"'{what}' must be between {low} and {high}{unit}, got {excerpt(node.value)}")
        return None
    return value


def number_value(node, ctx: LoadContext, what: str, low: float, high: float) -> float | None:
    """A number within [low, high]."""
    value = scalar(node, ctx, what, "a number")
    if not isinstance(node, yaml.ScalarNode):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        ctx.error(node, f"'{what}' must be a number, got {node_kind(node)}")
        return None
    if not low <= value <= high:
        ctx.error(node, f"'{what}' must be between {low:g} and {high:g}, got {value:g}")
        return None
    return float(value)


def choice_value(node, ctx: LoadContext, what: str, choices) -> object | None:
    """One of a fixed set of values."""
    value = scalar(node, ctx, what, "one of " + ", ".join(map(str, choices)))
    if not isinstance(node, yaml.ScalarNode):
        return None
    if value not in choices:
        ctx.error(node, f"'{what}' must be one of {', '.join(map(str, choices))}; got {node_kind(node)}")
        return None
    return value


def decibel_value(node, ctx: LoadContext, what: str, low: float, high: float) -> float | None:
    """A level in dB, written -30dB, -30 dB or -30."""
    value = scalar(node, ctx, what, "a level in dB")
    if not isinstance(node, yaml.ScalarNode):
        return None
    text = str(value).strip().lower().removesuffix("db").strip() if not isinstance(value, bool) else ""
    try:
        number = float(text)
    except ValueError:
        ctx.error(node, f"'{what}' must be a level in dB like -30dB, got {node_kind(node)}")
        return None
    if not low <= number <= high:
        ctx.error(node, f"'{what}' must be between {low:g}dB and {high:g}dB, got {node_kind(node)}")
        return None
    return number


def library_file(node, ctx: LoadContext, what: str, kind: str = "audio") -> Path | None:
    """A file named relative to the current file that must exist inside the library, and be a regular file
    within the size limit of its kind (checked before anything reads it: see safe_files)."""
    relative = text_value(node, ctx, what)
    if relative is None:
        return None
    real = ctx.look_up(ctx.path.parent / relative)
    if not within(real, ctx.library_root):
        ctx.error(node, f"'{what}' file '{excerpt(relative)}' is outside the library folder "
                        f"'{show_path(ctx.library_root)}'")
        return None
    problem = file_problem(real, kind)
    if problem is not None:
        ctx.error(node, f"'{what}' file '{excerpt(relative)}' {problem}")
        return None
    ctx.sources.append(real)
    return real


def text_list(node, ctx: LoadContext, what: str) -> tuple[str, ...]:
    """A list of short texts (a single text is taken as a list of one)."""
    if isinstance(node, yaml.ScalarNode):
        value = text_value(node, ctx, what)
        return (value,) if value else ()
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"'{what}' must be a list of text, got {node_kind(node)}")
        return ()
    values = [text_value(item, ctx, what) for item in node.value]
    return tuple(v for v in values if v)


def mapping_keys(node, ctx: LoadContext, what: str, known: tuple[str, ...]) -> dict[str, tuple]:
    """The entries of a mapping as {key: (key node, value node)}, naming unknown and repeated keys."""
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"'{what}' must be a mapping of keys to values, got {node_kind(node)}")
        return {}
    entries: dict[str, tuple] = {}
    for key_node, value_node in node.value:
        key = scalar_value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            ctx.error(key_node, f"a key in '{what}' must be a word, got {node_kind(key_node)}")
            continue
        if key in entries:
            ctx.error(key_node, f"'{excerpt(key)}' is given twice in '{what}'")
            continue
        if key not in known:
            ctx.error(key_node, unknown_key_message(key, known))
            continue
        entries[key] = (key_node, value_node)
    return entries


def unknown_key_message(key: str, known) -> str:
    """'unknown key' with the closest known key, or the list of known keys."""
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        return f"unknown key '{excerpt(key)}' (did you mean '{close[0]}'?)"
    return f"unknown key '{excerpt(key)}' (expected one of: {', '.join(known)})"


class RecordingVariables(dict):
    """Variables that note which names the texts ask for."""

    def __init__(self, values: dict, used: set):
        super().__init__(values)
        self.used = used

    def __contains__(self, name) -> bool:
        self.used.add(name)
        return super().__contains__(name)


def text_reporter(node: yaml.Node, raw: str, ctx: LoadContext):
    """A report(offset, message) function that records a problem where that character of a text stands."""
    def report(offset: int, message: str) -> None:
        ctx.problems.add(text_location(node, raw, offset, ctx.display), message)
    return report


def text_location(node: yaml.Node, raw: str, offset: int, display: str) -> Location:
    """Where a character of a scalar's value stands in the file (found in the source text)."""
    buffer = node.start_mark.buffer
    start = location_of(node, display)
    if not buffer:
        return start
    token_end = offset + 1
    while token_end < len(raw) and raw[token_end - 1] not in "}]" and token_end - offset < 60:
        token_end += 1
    token = raw[offset:token_end]
    nth = raw.count(token, 0, offset)
    source = buffer[node.start_mark.pointer:node.end_mark.pointer]
    found = -1
    for _ in range(nth + 1):
        found = source.find(token, found + 1)
        if found < 0:
            return start
    pointer = node.start_mark.pointer + found
    line_start = buffer.rfind("\n", 0, pointer) + 1
    return Location(display, buffer.count("\n", 0, pointer) + 1, pointer - line_start + 1)


def percent_value(node, ctx: LoadContext, what: str, low: float, high: float) -> float | None:
    """A percentage written like 90%; None (and nothing reported) when the value is not written that way,
    0 when it is but out of range (reported)."""
    value = scalar_value(node) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, str) or not value.strip().endswith("%"):
        return None
    try:
        number = float(value.strip()[:-1])
    except ValueError:
        number = float("nan")
    if not low <= number <= high:
        ctx.error(node, f"'{what}' must be between {low:g}% and {high:g}%, got {node_kind(node)}")
        return 0.0
    return number


def variable_defaults(node, ctx: LoadContext) -> dict[str, str]:
    """A variables: mapping of placeholder names to default texts."""
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"'variables' must be a mapping of names to texts, got {node_kind(node)}")
        return {}
    values = {}
    for key_node, value_node in node.value:
        key = scalar_value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or not is_variable_name(key):
            ctx.error(key_node, f"variable names are words like 'name' or 'client_name', got {node_kind(key_node)}")
            continue
        if isinstance(value_node, yaml.ScalarNode) and scalar_value(value_node) is None:
            values[key] = ""
            continue
        value = text_value(value_node, ctx, f"variables.{key}", allow_empty=True)
        problem = value_problem(value, ctx.options.max_text_chars) if value is not None else None
        if problem is not None:
            ctx.error(value_node, f"'variables.{key}' {problem}")
        if value is not None:
            values[key] = value  # kept even when refused: its placeholders are then not "unknown" as well
    return values


def is_zero_duration(value) -> bool:
    """Whether a value is a duration of zero (written 0, 0s, ...)."""
    try:
        return parse_duration(value) == 0
    except ValueError:
        return False


def loudness_value(node, ctx: LoadContext) -> float | None:
    """A target loudness in LUFS, written -16, -16 LUFS or -16LUFS."""
    value = scalar(node, ctx, "loudness", "a loudness in LUFS")
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        number = float(str(value).strip().lower().removesuffix("lufs").strip())
    except ValueError:
        ctx.error(node, f"'loudness' must be a level in LUFS like -16, got {node_kind(node)}")
        return None
    low, high = LOUDNESS_RANGE
    if not low <= number <= high:
        ctx.error(node, f"'loudness' must be between {low:g} and {high:g} LUFS, got {number:g}")
        return None
    return number
