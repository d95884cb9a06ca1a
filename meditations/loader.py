"""Stage 1: load and validate a script into a Script.

One small validator per kind of value, every problem collected and reported together, unknown keys
named (with a suggestion when one is close). Step kinds live in a registry, so a new kind of step
is one parser function and one line in STEP_KINDS.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable

import yaml

from .durations import parse_duration
from .recordings import in_client_folder
from .errors import Location, Problem, ProblemCollector, ScriptError, excerpt, shape
from .breathing import DEFAULT_WORDS, PRESETS, parse_pattern
from .script import (DEFAULT_VOICE, NOISE_KINDS, AudioFormat, Background, Bell, Breathe, Chapter, Finish, Include,
                     Pace, Pause, Repeat, Say, Script, VoiceSettings)
from .format_limits import check_chapter_count
from .safe_files import FileLimits, file_problem, file_sentence, image_problem, within
from .text import fill_placeholders, is_variable_name, parse_say_text
from .values import control_character, cue_word_problem, speaks_words, value_problem
from .yamlsource import Limits, compose, env_limit, location_of, read_text, scalar_value

LIBRARY_FILE = "library.yaml"
SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
BITRATES = (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320)


@dataclass(frozen=True)
class LoadOptions:
    """What the caller adds to a script: variable overrides (--set) and limits."""

    overrides: tuple[tuple[str, str], ...] = ()
    voice: VoiceSettings | None = None  # a client profile's voice, over the script's
    limits: Limits = field(default_factory=Limits)
    max_repeat: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_REPEAT", 1000))
    max_include_depth: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_INCLUDE_DEPTH", 10))
    max_text_chars: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_TEXT_CHARS", 20_000))
    max_track_seconds: int = field(default_factory=lambda: env_limit("MEDITATE_MAX_TRACK_SECONDS", 4 * 3600))
    recordings: Path | None = None  # a client profile's own recordings folder, searched before the library


@dataclass
class _Context:
    """What validators need while walking one file."""

    display: str
    path: Path
    problems: ProblemCollector
    variables: dict[str, str]
    voice: VoiceSettings
    pace: Pace
    library_root: Path
    options: LoadOptions
    include_chain: tuple[Path, ...] = ()
    sources: list[Path] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    cue_words: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WORDS))
    warnings: list = field(default_factory=list)
    repeats: int = 1  # how many times the steps being read will play (nested repeats multiply)
    estimate: list = field(default_factory=lambda: [0.0, False])  # [seconds at least, limit reported]

    def add_time(self, node: yaml.Node, seconds: float) -> None:
        """Count time the track will take at least; past the limit, one located error (found before any
        audio is made, so a hostile script cannot make the machine synthesize for hours)."""
        self.estimate[0] += seconds * self.repeats
        limit = self.options.max_track_seconds
        if self.estimate[0] > limit and not self.estimate[1]:
            self.estimate[1] = True
            self.error(node, f"the track would last over the limit of {clock(limit)} (MEDITATE_MAX_TRACK_SECONDS)")

    def warn(self, node: yaml.Node, message: str) -> None:
        self.warnings.append(Problem(self.at(node), message))

    def at(self, node: yaml.Node) -> Location:
        return location_of(node, self.display)

    def error(self, node: yaml.Node, message: str) -> None:
        self.problems.add(self.at(node), message)


# ---------------------------------------------------------------- value validators

def _scalar(node, ctx: _Context, what: str, expected: str):
    if not isinstance(node, yaml.ScalarNode):
        ctx.error(node, f"'{what}' must be {expected}, got {_kind(node)}")
        return None
    return scalar_value(node)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = scalar_value(node)
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{excerpt(value)}'"
    return excerpt(str(value))


def text_value(node, ctx: _Context, what: str, allow_empty: bool = False) -> str | None:
    """A single line or paragraph of text."""
    value = _scalar(node, ctx, what, "text")
    if value is None:
        if isinstance(node, yaml.ScalarNode) and not allow_empty:
            ctx.error(node, f"'{what}' needs a value")
        return None
    if isinstance(value, bool):
        ctx.error(node, f"'{what}' must be text, got {_kind(node)}")
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


def filled_text(node, ctx: _Context, what: str) -> str | None:
    """Text with {placeholders} filled in from the variables."""
    raw = text_value(node, ctx, what)
    if raw is None:
        return None
    return fill_placeholders(raw, _Recording(ctx.variables, ctx.used), _text_reporter(node, raw, ctx)).strip()


def duration_value(node, ctx: _Context, what: str, allow_zero: bool = False) -> float | None:
    """A positive duration in seconds (or zero, where zero means "none")."""
    value = _scalar(node, ctx, what, "a duration")
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        ctx.error(node, f"'{what}': {exc}")
        return None
    if seconds < 0 and allow_zero:
        ctx.error(node, f"'{what}' must be zero or longer, got {_kind(node)}")
        return None
    if seconds <= 0 and not (allow_zero and seconds == 0):
        ctx.error(node, f"'{what}' must be longer than zero, got {_kind(node)}")
        return None
    return seconds


def int_value(node, ctx: _Context, what: str, low: int, high: int, unit: str = "") -> int | None:
    """A whole number within [low, high]."""
    value = _scalar(node, ctx, what, "a whole number")
    if not isinstance(node, yaml.ScalarNode):
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        ctx.error(node, f"'{what}' must be a whole number, got {_kind(node)}")
        return None
    if not low <= value <= high:
        ctx.error(node, f"'{what}' must be between {low} and {high}{unit}, got {excerpt(node.value)}")
        return None
    return value


def number_value(node, ctx: _Context, what: str, low: float, high: float) -> float | None:
    """A number within [low, high]."""
    value = _scalar(node, ctx, what, "a number")
    if not isinstance(node, yaml.ScalarNode):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        ctx.error(node, f"'{what}' must be a number, got {_kind(node)}")
        return None
    if not low <= value <= high:
        ctx.error(node, f"'{what}' must be between {low:g} and {high:g}, got {value:g}")
        return None
    return float(value)


def choice_value(node, ctx: _Context, what: str, choices) -> object | None:
    """One of a fixed set of values."""
    value = _scalar(node, ctx, what, "one of " + ", ".join(map(str, choices)))
    if not isinstance(node, yaml.ScalarNode):
        return None
    if value not in choices:
        ctx.error(node, f"'{what}' must be one of {', '.join(map(str, choices))}; got {_kind(node)}")
        return None
    return value


def decibel_value(node, ctx: _Context, what: str, low: float, high: float) -> float | None:
    """A level in dB, written -30dB, -30 dB or -30."""
    value = _scalar(node, ctx, what, "a level in dB")
    if not isinstance(node, yaml.ScalarNode):
        return None
    text = str(value).strip().lower().removesuffix("db").strip() if not isinstance(value, bool) else ""
    try:
        number = float(text)
    except ValueError:
        ctx.error(node, f"'{what}' must be a level in dB like -30dB, got {_kind(node)}")
        return None
    if not low <= number <= high:
        ctx.error(node, f"'{what}' must be between {low:g}dB and {high:g}dB, got {_kind(node)}")
        return None
    return number


def library_file(node, ctx: _Context, what: str, kind: str = "audio") -> Path | None:
    """A file named relative to the current file that must exist inside the library, and be a regular file
    within the size limit of its kind (checked before anything reads it: see safe_files)."""
    relative = text_value(node, ctx, what)
    if relative is None:
        return None
    real = Path(os.path.realpath(ctx.path.parent / relative))
    if not within(real, ctx.library_root):
        ctx.error(node, f"'{what}' file '{excerpt(relative)}' is outside the library folder "
                        f"'{_show_path(ctx.library_root)}'")
        return None
    problem = file_problem(real, kind)
    if problem is not None:
        ctx.error(node, f"'{what}' file '{excerpt(relative)}' {problem}")
        return None
    ctx.sources.append(real)
    return real


def text_list(node, ctx: _Context, what: str) -> tuple[str, ...]:
    """A list of short texts (a single text is taken as a list of one)."""
    if isinstance(node, yaml.ScalarNode):
        value = text_value(node, ctx, what)
        return (value,) if value else ()
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"'{what}' must be a list of text, got {_kind(node)}")
        return ()
    values = [text_value(item, ctx, what) for item in node.value]
    return tuple(v for v in values if v)


def mapping_keys(node, ctx: _Context, what: str, known: tuple[str, ...]) -> dict[str, tuple]:
    """The entries of a mapping as {key: (key node, value node)}, naming unknown and repeated keys."""
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"'{what}' must be a mapping of keys to values, got {_kind(node)}")
        return {}
    entries: dict[str, tuple] = {}
    for key_node, value_node in node.value:
        key = scalar_value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str):
            ctx.error(key_node, f"a key in '{what}' must be a word, got {_kind(key_node)}")
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


class _Recording(dict):
    """Variables that note which names the texts ask for."""

    def __init__(self, values: dict, used: set):
        super().__init__(values)
        self.used = used

    def __contains__(self, name) -> bool:
        self.used.add(name)
        return super().__contains__(name)


def _text_reporter(node: yaml.Node, raw: str, ctx: _Context):
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


# ---------------------------------------------------------------- settings blocks

PACE_KEYS = ("sentence_gap", "paragraph_gap")
AUDIO_KEYS = ("sample_rate", "channels", "bitrate")


def voice_settings(node, ctx: _Context, what: str = "voice") -> VoiceSettings:
    """A voice block (see voicespec.py)."""
    from .voicespec import voice_settings as parse

    return parse(node, ctx, what)


def percent_value(node, ctx: _Context, what: str, low: float, high: float) -> float | None:
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
        ctx.error(node, f"'{what}' must be between {low:g}% and {high:g}%, got {_kind(node)}")
        return 0.0
    return number


def pace_settings(node, ctx: _Context, base: Pace) -> Pace:
    """A pace: mapping (sentence_gap, paragraph_gap) over the inherited pace."""
    entries = mapping_keys(node, ctx, "pace", PACE_KEYS)
    values = {}
    for key in PACE_KEYS:
        if key in entries:
            seconds = duration_value(entries[key][1], ctx, f"pace.{key}", allow_zero=True)
            if seconds is not None:
                values[key] = seconds
    return replace(base, **values)


def max_bitrate(sample_rate: int) -> int:
    """The highest MP3 bitrate at a sample rate (MPEG-1 above 32 kHz, MPEG-2 and 2.5 below)."""
    return 320 if sample_rate >= 32000 else 160 if sample_rate >= 16000 else 64


def audio_problem(audio: AudioFormat) -> str | None:
    """Why an MP3 cannot have these settings, or None."""
    if audio.bitrate > max_bitrate(audio.sample_rate):
        return (f"a bitrate of {audio.bitrate} kbit/s is not possible at {audio.sample_rate} Hz "
                f"(at most {max_bitrate(audio.sample_rate)})")
    return None


def audio_format(node, ctx: _Context, base: AudioFormat) -> AudioFormat:
    """An audio: mapping (sample_rate, channels, bitrate) over the inherited format."""
    entries = mapping_keys(node, ctx, "audio", AUDIO_KEYS)
    values = {}
    if "sample_rate" in entries:
        values["sample_rate"] = choice_value(entries["sample_rate"][1], ctx, "audio.sample_rate", SAMPLE_RATES)
    if "channels" in entries:
        values["channels"] = choice_value(entries["channels"][1], ctx, "audio.channels", (1, 2))
    if "bitrate" in entries:
        values["bitrate"] = choice_value(entries["bitrate"][1], ctx, "audio.bitrate", BITRATES)
    audio = replace(base, **{k: v for k, v in values.items() if v is not None})
    problem = audio_problem(audio)
    if problem:
        ctx.error(entries.get("bitrate", entries.get("sample_rate", (node, node)))[1], problem)
        return base
    return audio


def variable_defaults(node, ctx: _Context) -> dict[str, str]:
    """A variables: mapping of placeholder names to default texts."""
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"'variables' must be a mapping of names to texts, got {_kind(node)}")
        return {}
    values = {}
    for key_node, value_node in node.value:
        key = scalar_value(key_node) if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or not is_variable_name(key):
            ctx.error(key_node, f"variable names are words like 'name' or 'client_name', got {_kind(key_node)}")
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


# ---------------------------------------------------------------- steps

@dataclass(frozen=True)
class StepKind:
    """How to read one kind of step: its parser and the keys it accepts beside its own."""

    parse: Callable
    extra_keys: tuple[str, ...] = ()


SAY_KEYS = ("text", "recording")


def parse_say(entries, ctx: _Context):
    """- say: TEXT  or  - say: {text: TEXT, recording: FILE}  (with an optional voice: override)"""
    node = entries["say"][1]
    recording = recording_location = None
    if isinstance(node, yaml.MappingNode):
        fields = mapping_keys(node, ctx, "say", SAY_KEYS)
        if "recording" in fields:
            recording = recording_file(fields["recording"][1], ctx)
            recording_location = ctx.at(fields["recording"][1])
            if recording is not None and recording.suffix.lower() not in AUDIO_SUFFIXES:
                ctx.error(fields["recording"][1], f"'say.recording' must be {AUDIO_FORMATS}")
                return None
            if recording is None:
                return None
        if "text" not in fields:
            ctx.error(node, "'say' needs 'text:' (the words, also for a recording: they go into the transcript)")
            return None
        node = fields["text"][1]
    raw = text_value(node, ctx, "say")
    voice = ctx.voice
    if "voice" in entries:
        voice = voice_settings(entries["voice"][1], ctx).over(ctx.voice)
    if raw is None:
        return None
    if len(raw) > ctx.options.max_text_chars:
        ctx.error(node, f"this text is {len(raw)} characters, over the limit of {ctx.options.max_text_chars} "
                        "(MEDITATE_MAX_TEXT_CHARS)")
        return None
    filled = len(fill_placeholders(raw, ctx.variables, lambda offset, message: None))
    if filled > ctx.options.max_text_chars:  # values count too: a huge --set value is refused like a huge text
        ctx.error(node, f"this text is {filled} characters once its placeholders are filled in, over the limit of "
                        f"{ctx.options.max_text_chars} (MEDITATE_MAX_TEXT_CHARS)")
        return None
    pieces = parse_say_text(raw, _Recording(ctx.variables, ctx.used), _text_reporter(node, raw, ctx))
    if not pieces:
        ctx.error(node, "'say' needs some text to speak")
        return None
    if recording is None and not speaks_words(pieces):
        ctx.error(node, "'say' has nothing to speak: its text has no words, only punctuation or markup")
        return None
    words = sum(len(p.text.split()) for p in pieces if hasattr(p, "text"))
    ctx.add_time(node, 0.6 * words * 60 / (voice.rate or 130))  # at least this long: eSpeak keeps to its rate
    return Say(pieces=pieces, voice=voice, pace=ctx.pace, location=ctx.at(node), recording=recording,
               recording_location=recording_location)


def recording_file(node, ctx: _Context) -> Path | None:
    """A recording: in the profile's recordings folder if it is there, else inside the library."""
    relative = text_value(node, ctx, "say.recording")
    if relative is None:
        return None
    found, looked = in_client_folder(relative, ctx.options.recordings)
    if found is not None:
        ctx.sources.append(found)
        return found
    if looked is not None:
        ctx.sources.append(looked)
    return library_file(node, ctx, "say.recording")


def parse_pause(entries, ctx: _Context):
    """- pause: 10s"""
    node = entries["pause"][1]
    seconds = duration_value(node, ctx, "pause")
    if seconds is None:
        return None
    ctx.add_time(node, seconds)
    return Pause(seconds, ctx.at(node))


def parse_chapter(entries, ctx: _Context):
    """- chapter: TITLE"""
    node = entries["chapter"][1]
    title = filled_text(node, ctx, "chapter")
    return None if title is None else Chapter(title, ctx.at(node))


def parse_repeat(entries, ctx: _Context):
    """- repeat: N  with  steps: [...]"""
    key_node, node = entries["repeat"]
    count = int_value(node, ctx, "repeat", 1, ctx.options.max_repeat)
    if "steps" not in entries:
        ctx.error(key_node, "'repeat' needs 'steps:' listing what to repeat")
        return None
    if count is not None and ctx.repeats * count > ctx.options.max_repeat:
        ctx.error(node, f"repeats inside repeats play these steps {ctx.repeats * count} times, over the limit of "
                        f"{ctx.options.max_repeat} (MEDITATE_MAX_REPEAT)")
        return None
    outer = ctx.repeats
    ctx.repeats = outer * (count or 1)
    try:
        steps = parse_steps(entries["steps"][1], ctx, "steps")
    finally:
        ctx.repeats = outer
    if count is None:
        return None
    return Repeat(count, steps, ctx.at(key_node))


def parse_include(entries, ctx: _Context):
    """- include: _partials/closing.yaml"""
    node = entries["include"][1]
    relative = text_value(node, ctx, "include")
    if relative is None:
        return None
    target = (ctx.path.parent / relative)
    real = Path(os.path.realpath(target))
    display = os.path.normpath(os.path.join(os.path.dirname(ctx.display), relative))
    if not within(real, ctx.library_root):
        ctx.error(node, f"include '{excerpt(relative)}' is outside the library folder '{_show_path(ctx.library_root)}'")
        return None
    chain = ctx.include_chain + (ctx.path,)
    if real in chain:
        chain = [p.name for p in chain[chain.index(real):]] + [real.name]
        ctx.error(node, "include cycle: " + " -> ".join(chain))
        return None
    if len(ctx.include_chain) + 1 > ctx.options.max_include_depth:
        ctx.error(node, f"includes are nested deeper than the limit of {ctx.options.max_include_depth} "
                        "(MEDITATE_MAX_INCLUDE_DEPTH)")
        return None
    problem = file_problem(real, "script", limits=FileLimits(script_bytes=ctx.options.limits.max_file_bytes))
    if problem == "not found":
        ctx.error(node, f"included file '{excerpt(relative)}' not found")
        return None
    if problem is not None:
        ctx.error(node, f"include '{excerpt(relative)}' {problem}")
        return None
    steps = _load_partial(real, display, ctx)
    return Include(real, steps, ctx.at(node))


BREATHE_KEYS = ("pattern", "cycles", "duration", "cue", "words", "voice")
CUES = ("voice", "tone", "bell", "count", "none")
WORD_KEYS = tuple(DEFAULT_WORDS)
MAX_HOLD_SECONDS = 10.0
MIN_CYCLE_SECONDS = 4.0


def cue_words(node, ctx: _Context, base: dict[str, str], what: str = "words") -> dict[str, str]:
    """words: {in, in_again, hold, out} spoken by voice cues."""
    entries = mapping_keys(node, ctx, what, WORD_KEYS)
    words = dict(base)
    for key, (_, value_node) in entries.items():
        text = filled_text(value_node, ctx, f"{what}.{key}")
        problem = cue_word_problem(text) if text else None
        if problem is not None:
            ctx.error(value_node, f"'{what}.{key}' {problem}")
        elif text:
            words[key] = text
    return words


def parse_breathe(entries, ctx: _Context):
    """- breathe: {pattern: 4-7-8, cycles: 4 | duration: 2m, cue: voice}  (or  - breathe: box)"""
    node = entries["breathe"][1]
    if isinstance(node, yaml.ScalarNode):
        ctx.error(node, "'breathe' needs 'pattern:' and 'cycles:' or 'duration:', "
                        "like breathe: {pattern: box, cycles: 4}")
        return None
    fields = mapping_keys(node, ctx, "breathe", BREATHE_KEYS)
    pattern = None
    if "pattern" not in fields:
        ctx.error(node, f"'breathe' needs 'pattern:' (seconds like 4-7-8, or one of: {', '.join(PRESETS)})")
    else:
        pattern_node = fields["pattern"][1]
        try:
            pattern = parse_pattern(_scalar(pattern_node, ctx, "breathe.pattern", "a pattern"))
        except ValueError as exc:
            ctx.error(pattern_node, f"'breathe.pattern': {exc}")
    cycles = duration = None
    if "cycles" in fields and "duration" in fields:
        ctx.error(fields["duration"][0], "'breathe' takes 'cycles:' or 'duration:', not both")
    elif "cycles" in fields:
        cycles = int_value(fields["cycles"][1], ctx, "breathe.cycles", 1, ctx.options.max_repeat)
    elif "duration" in fields:
        duration = duration_value(fields["duration"][1], ctx, "breathe.duration")
    else:
        ctx.error(node, "'breathe' needs 'cycles:' (how many breaths) or 'duration:' (how long)")
    cue = "voice"
    if "cue" in fields:
        cue = choice_value(fields["cue"][1], ctx, "breathe.cue", CUES) or cue
    words = cue_words(fields["words"][1], ctx, ctx.cue_words) if "words" in fields else ctx.cue_words
    voice = voice_settings(fields["voice"][1], ctx).over(ctx.voice) if "voice" in fields else ctx.voice
    if pattern is None or (cycles is None and duration is None):
        return None
    if duration is not None and duration < pattern.cycle_seconds:
        ctx.error(fields["duration"][1], f"'breathe.duration' is shorter than one {pattern.cycle_seconds:g}-second "
                                         "cycle of this pattern")
        return None
    _breathing_safety(pattern, fields["pattern"][1], ctx)
    ctx.add_time(node, cycles * pattern.cycle_seconds if cycles else duration)
    return Breathe(pattern, cycles, duration, cue, tuple(sorted(words.items())), voice, ctx.at(node))


def _breathing_safety(pattern, node, ctx: _Context) -> None:
    # Clients breathe along alone: long holds and very fast cycles can make people dizzy or anxious.
    if pattern.longest_hold > MAX_HOLD_SECONDS:
        ctx.warn(node, f"warning: a {pattern.longest_hold:g}-second breath hold is long for someone breathing "
                       f"along unsupervised (over {MAX_HOLD_SECONDS:g} s)")
    if pattern.cycle_seconds < MIN_CYCLE_SECONDS:
        ctx.warn(node, f"warning: a {pattern.cycle_seconds:g}-second cycle is very fast breathing "
                       f"(under {MIN_CYCLE_SECONDS:g} s); it can cause light-headedness")


BELL_KEYS = ("strikes", "gap", "ring", "sound")
AUDIO_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac", ".m4a", ".aac", ".opus")
AUDIO_FORMATS = "a .wav, .mp3, .ogg, .flac, .m4a, .aac or .opus file"


def parse_bell(entries, ctx: _Context):
    """- bell: 1   or   - bell: {strikes: 3, gap: 5s, ring: 8s, sound: bells/mine.wav}"""
    node = entries["bell"][1]
    if isinstance(node, yaml.ScalarNode):
        strikes = int_value(node, ctx, "bell", 1, 20)
        return None if strikes is None else Bell(strikes, 5.0, None, None, ctx.at(node))
    fields = mapping_keys(node, ctx, "bell", BELL_KEYS)
    strikes = int_value(fields["strikes"][1], ctx, "bell.strikes", 1, 20) if "strikes" in fields else 1
    gap = duration_value(fields["gap"][1], ctx, "bell.gap") if "gap" in fields else 5.0
    ring = duration_value(fields["ring"][1], ctx, "bell.ring") if "ring" in fields else None
    sound = library_file(fields["sound"][1], ctx, "bell.sound") if "sound" in fields else None
    if sound is not None and sound.suffix.lower() not in AUDIO_SUFFIXES:
        ctx.error(fields["sound"][1], f"'bell.sound' must be {AUDIO_FORMATS}")
        return None
    if strikes is None or gap is None or ("ring" in fields and ring is None) or ("sound" in fields and sound is None):
        return None
    ctx.add_time(node, (strikes - 1) * gap)
    return Bell(strikes, gap, ring, sound, ctx.at(node))


BACKGROUND_KEYS = ("sound", "level", "duck", "fade")


def background_settings(node, ctx: _Context) -> Background | None:
    """background: {sound: brown-noise | pink-noise | white-noise | PATH, level, duck, fade}"""
    if isinstance(node, yaml.ScalarNode) and scalar_value(node) in (None, False, "none"):
        return None
    fields = mapping_keys(node, ctx, "background", BACKGROUND_KEYS)
    if "sound" not in fields:
        if isinstance(node, yaml.MappingNode):
            ctx.error(node, f"'background' needs 'sound:' ({', '.join(NOISE_KINDS)} or an audio file)")
        return None
    sound_node = fields["sound"][1]
    sound = text_value(sound_node, ctx, "background.sound")
    if sound is None:
        return None
    file = None
    if sound not in NOISE_KINDS:
        if not sound.lower().endswith(AUDIO_SUFFIXES):
            close = difflib.get_close_matches(sound, NOISE_KINDS, n=1)
            hint = (f"did you mean '{close[0]}'?" if close
                    else f"use one of {', '.join(NOISE_KINDS)} or {AUDIO_FORMATS}")
            ctx.error(sound_node, f"'background.sound' '{sound}' is not a known sound ({hint})")
            return None
        file = library_file(sound_node, ctx, "background.sound")
        if file is None:
            return None
        sound = "file"
    values = {}
    if "level" in fields:
        values["level_db"] = decibel_value(fields["level"][1], ctx, "background.level", -60, 0)
    if "duck" in fields:
        values["duck_db"] = decibel_value(fields["duck"][1], ctx, "background.duck", 0, 40)
    if "fade" in fields:
        values["fade"] = duration_value(fields["fade"][1], ctx, "background.fade")
    if any(v is None for v in values.values()):
        return None
    return Background(sound=sound, file=file, location=ctx.at(sound_node), **values)


FINISH_KEYS = ("lead_in", "fade_out", "loudness")


def finish_settings(entries, ctx: _Context, base: Finish) -> Finish:
    """lead_in, fade_out and loudness, where given."""
    values = {}
    for key in ("lead_in", "fade_out"):
        if key in entries:
            node = entries[key][1]
            if isinstance(node, yaml.ScalarNode) and _is_zero_duration(scalar_value(node)):
                values[key] = 0.0
            else:
                seconds = duration_value(node, ctx, key)
                if seconds is not None:
                    values[key] = seconds
    if "loudness" in entries:
        loudness = loudness_value(entries["loudness"][1], ctx)
        if loudness is not None:
            values["loudness"] = loudness
    return replace(base, **values)


def _is_zero_duration(value) -> bool:
    try:
        return parse_duration(value) == 0
    except ValueError:
        return False


def loudness_value(node, ctx: _Context) -> float | None:
    """A target loudness in LUFS, written -16, -16 LUFS or -16LUFS."""
    value = _scalar(node, ctx, "loudness", "a loudness in LUFS")
    if not isinstance(node, yaml.ScalarNode):
        return None
    try:
        number = float(str(value).strip().lower().removesuffix("lufs").strip())
    except ValueError:
        ctx.error(node, f"'loudness' must be a level in LUFS like -16, got {_kind(node)}")
        return None
    if not -36 <= number <= -9:
        ctx.error(node, f"'loudness' must be between -36 and -9 LUFS, got {number:g}")
        return None
    return number


def clock(seconds: float) -> str:
    """A limit as h:mm:ss."""
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def _show_path(path: Path) -> str:
    """A path as a user would write it: relative to the working folder when below it."""
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


STEP_KINDS: dict[str, StepKind] = {
    "say": StepKind(parse_say, extra_keys=("voice",)),
    "pause": StepKind(parse_pause),
    "chapter": StepKind(parse_chapter),
    "repeat": StepKind(parse_repeat, extra_keys=("steps",)),
    "include": StepKind(parse_include),
    "breathe": StepKind(parse_breathe),
    "bell": StepKind(parse_bell),
}


def parse_steps(node, ctx: _Context, what: str = "steps") -> tuple:
    """A list of steps."""
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"'{what}' must be a list of steps (each line starting with '- '), got {_kind(node)}")
        return ()
    if not node.value:
        ctx.error(node, f"'{what}' is empty: add at least one step")
        return ()
    steps = []
    for item in node.value:
        step = parse_step(item, ctx)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def parse_step(node, ctx: _Context):
    """One step: a mapping with exactly one action key."""
    example = "a mapping such as '- say: Hello' or '- pause: 5s'"
    if not isinstance(node, yaml.MappingNode):
        ctx.error(node, f"a step must be {example}, got {_kind(node)}")
        return None
    keys = [(scalar_value(k) if isinstance(k, yaml.ScalarNode) else None, k) for k, _ in node.value]
    actions = [(key, key_node) for key, key_node in keys if key in STEP_KINDS]
    if not actions:
        for key, key_node in keys:
            ctx.error(key_node, _unknown_step_message(key))
        return None
    if len(actions) > 1:
        ctx.error(actions[1][1], f"a step does one thing: it has both '{actions[0][0]}' and '{actions[1][0]}'"
                                 " (start the second with its own '- ')")
        return None
    action = actions[0][0]
    kind = STEP_KINDS[action]
    entries = mapping_keys(node, ctx, action, (action,) + kind.extra_keys)
    if action not in entries:
        return None
    return kind.parse(entries, ctx)


def _unknown_step_message(key) -> str:
    close = difflib.get_close_matches(str(key), list(STEP_KINDS), n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else f" (a step is one of: {', '.join(STEP_KINDS)})"
    return f"unknown step '{excerpt(str(key))}'{hint}"


def _load_partial(real: Path, display: str, parent: _Context) -> tuple:
    root = _compose_file(real, display, parent.problems, parent.options)
    ctx = replace(parent, display=display, path=real, include_chain=parent.include_chain + (parent.path,),
                  variables=dict(parent.variables))
    parent.sources.append(real)
    if root is None:
        if not any(p.location.file == display for p in ctx.problems.problems):
            ctx.problems.add(Location(display, 1, 1), "the included file is empty: it needs 'steps:'")
        return ()
    if isinstance(root, yaml.SequenceNode):
        return parse_steps(root, ctx)
    # A complete script (it has a title) plays its steps; its other settings are its own business.
    whole = isinstance(root, yaml.MappingNode) and any(getattr(k, "value", None) == "title" for k, _ in root.value)
    entries = mapping_keys(root, ctx, "script" if whole else "partial", SCRIPT_KEYS if whole else PARTIAL_KEYS)
    if "description" in entries:
        text_value(entries["description"][1], ctx, "description")
    if "variables" in entries:
        ctx.variables = {**variable_defaults(entries["variables"][1], ctx), **parent.variables}
    if "steps" not in entries:
        if isinstance(root, yaml.MappingNode):
            ctx.error(root, "an included file needs 'steps:'")
        return ()
    return parse_steps(entries["steps"][1], ctx)


PARTIAL_KEYS = ("steps", "description", "variables")


# ---------------------------------------------------------------- files

def _compose_file(path: Path, display: str, problems: ProblemCollector, options: LoadOptions):
    try:
        return compose(read_text(path, display, options.limits), display, options.limits)
    except ScriptError as exc:
        problems.problems.extend(exc.problems)
        return None


SCRIPT_KEYS = ("title", "description", "author", "album", "genre", "language", "tags", "voice", "pace",
               "audio", "variables", "background", "length", "lead_in", "fade_out", "loudness", "cue_words", "cover",
               "steps")
LIBRARY_KEYS = ("album", "artist", "genre", "language", "voice", "pace", "audio", "variables", "background",
                "lead_in", "fade_out", "loudness", "cue_words", "cover", "description", "base_url")


@dataclass(frozen=True)
class LibraryDefaults:
    """What library.yaml gives every script below it."""

    root: Path
    file: Path | None = None
    album: str = ""
    artist: str = "meditate"
    genre: str = "Meditation"
    language: str = "en"
    voice: VoiceSettings = DEFAULT_VOICE
    pace: Pace = Pace()
    audio: AudioFormat = AudioFormat()
    variables: tuple[tuple[str, str], ...] = ()
    background: Background | None = None
    finish: Finish = Finish()
    cue_words: tuple[tuple[str, str], ...] = tuple(DEFAULT_WORDS.items())
    cover: Path | None = None
    description: str = ""  # the library's own description (the podcast feed's)
    base_url: str | None = None  # where the library is published (for the podcast feed)
    sources: tuple[Path, ...] = ()  # files library.yaml uses (background, cover): part of every fingerprint


def find_library_root(script_path: Path) -> Path:
    """The nearest folder at or above the script's that holds library.yaml; else the script's folder."""
    folder = Path(os.path.realpath(script_path)).parent  # realpath: a link loop is reported, never raised
    for candidate in (folder, *folder.parents):
        if os.path.lexists(candidate / LIBRARY_FILE):  # a library.yaml that cannot be read is reported
            return candidate
    return folder


def load_library(root: Path, problems: ProblemCollector, options: LoadOptions) -> LibraryDefaults:
    """Read ROOT/library.yaml if there is one."""
    path = root / LIBRARY_FILE
    if not os.path.lexists(path):
        return LibraryDefaults(root=root)
    display = _show_path(path)
    node = _compose_file(path, display, problems, options)
    if node is None:
        return LibraryDefaults(root=root, file=path)
    ctx = _Context(display, path, problems, {}, DEFAULT_VOICE, Pace(), root, options)
    entries = mapping_keys(node, ctx, "library", LIBRARY_KEYS)
    values: dict = {"root": root, "file": path}
    for key in ("album", "artist", "genre", "language"):
        if key in entries:
            value = text_value(entries[key][1], ctx, key)
            if value is not None:
                values[key] = value
    if "voice" in entries:
        values["voice"] = voice_settings(entries["voice"][1], ctx).over(DEFAULT_VOICE)
    if "pace" in entries:
        values["pace"] = pace_settings(entries["pace"][1], ctx, Pace())
    if "audio" in entries:
        values["audio"] = audio_format(entries["audio"][1], ctx, AudioFormat())
    if "variables" in entries:
        values["variables"] = tuple(variable_defaults(entries["variables"][1], ctx).items())
        ctx.variables = dict(values["variables"])  # cue words in library.yaml may use the library's variables
    if "background" in entries:
        values["background"] = background_settings(entries["background"][1], ctx)
    values["finish"] = finish_settings(entries, ctx, Finish())
    if "cue_words" in entries:
        values["cue_words"] = tuple(cue_words(entries["cue_words"][1], ctx, DEFAULT_WORDS, "cue_words").items())
    if "cover" in entries:
        values["cover"] = cover_image(entries["cover"][1], ctx)
    for key in ("description", "base_url"):
        if key in entries:
            value = text_value(entries[key][1], ctx, key)
            if value is not None:
                values[key] = value
    if values.get("base_url") and not values["base_url"].startswith(("http://", "https://")):
        ctx.error(entries["base_url"][1], "'base_url' must start with http:// or https://")
    values["sources"] = tuple(ctx.sources)
    return LibraryDefaults(**values)


def cover_image(node, ctx: _Context) -> Path | None:
    """A PNG or JPEG inside the library."""
    path = library_file(node, ctx, "cover", kind="cover")
    if path is not None and path.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        ctx.error(node, "'cover' must be a .png or .jpg image")
        return None
    problem = image_problem(path) if path is not None else None
    if problem is not None:
        ctx.error(node, f"'cover' file '{excerpt(text_value(node, ctx, 'cover'))}' {problem}")
        return None
    return path


def load_script(path: str | Path, options: LoadOptions | None = None) -> Script:
    """Load, validate and resolve a script file; raises ScriptError listing every problem."""
    options = options or LoadOptions()
    path = Path(path)
    display = str(path)
    problems = ProblemCollector()
    root_problem = file_problem(path, "script", "script file", FileLimits(script_bytes=options.limits.max_file_bytes))
    if root_problem is not None:  # before anything resolves the path (a link loop) or opens it (a FIFO)
        raise ScriptError([Problem(Location(display, 1, 1), file_sentence(root_problem))])
    library = load_library(find_library_root(path), problems, options)
    root = _compose_file(path, display, problems, options)
    if root is None:
        if not problems.problems:
            problems.add(Location(display, 1, 1), "the script is empty: it needs 'title:' and 'steps:'")
        problems.raise_if_any()
    if not isinstance(root, yaml.MappingNode):
        problems.add(location_of(root, display),
                     f"a script must be a mapping with 'title:' and 'steps:', got {shape(root)}")
        problems.raise_if_any()
    real = Path(os.path.realpath(path))
    ctx = _Context(display, real, problems, {}, library.voice, library.pace, library.root, options,
                   include_chain=(), sources=[real] + ([library.file] if library.file else []) + list(library.sources))
    entries = mapping_keys(root, ctx, "script", SCRIPT_KEYS)
    script = _script_from_entries(root, entries, ctx, library)
    problems.raise_if_any()
    check_chapter_count(script.steps)
    return script


def _script_from_entries(root, entries, ctx: _Context, library: LibraryDefaults) -> Script | None:
    declared = dict(library.variables)
    if "variables" in entries:
        declared.update(variable_defaults(entries["variables"][1], ctx))
    ctx.variables = {**declared, **dict(ctx.options.overrides)}
    if "voice" in entries:
        ctx.voice = voice_settings(entries["voice"][1], ctx).over(library.voice)
    if ctx.options.voice is not None:
        ctx.voice = ctx.options.voice.over(ctx.voice)
    if "pace" in entries:
        ctx.pace = pace_settings(entries["pace"][1], ctx, library.pace)
    audio = library.audio
    if "audio" in entries:
        audio = audio_format(entries["audio"][1], ctx, library.audio)
    ctx.cue_words = dict(library.cue_words)
    if "cue_words" in entries:
        ctx.cue_words = cue_words(entries["cue_words"][1], ctx, ctx.cue_words, "cue_words")
    background = library.background
    if "background" in entries:
        background = background_settings(entries["background"][1], ctx)
    finish = finish_settings(entries, ctx, library.finish)
    length = length_location = None
    if "length" in entries:
        length = duration_value(entries["length"][1], ctx, "length")
        length_location = ctx.at(entries["length"][1])

    def text_of(key: str, default: str) -> str:
        if key not in entries:
            return default
        value = filled_text(entries[key][1], ctx, key)
        return default if value is None else value

    if "title" not in entries:
        ctx.error(root, "missing required key 'title'")
    if "steps" not in entries:
        ctx.error(root, "missing required key 'steps'")
    steps = parse_steps(entries["steps"][1], ctx) if "steps" in entries else ()
    if steps and not ctx.problems.problems and not _audible(steps):
        ctx.error(entries["steps"][1], "the steps have nothing to hear: add a say, pause, breathe or bell step")
    tags = text_list(entries["tags"][1], ctx, "tags") if "tags" in entries else ()
    return Script(
        path=ctx.path, display=ctx.display, title=text_of("title", ""),
        description=text_of("description", ""), author=text_of("author", library.artist),
        album=text_of("album", library.album), genre=text_of("genre", library.genre),
        language=text_of("language", library.language), tags=tags, voice=ctx.voice, pace=ctx.pace,
        audio=audio, variables=tuple(sorted({**declared, **dict(ctx.options.overrides)}.items())),
        declared_variables=tuple(sorted(declared)), placeholders=tuple(sorted(ctx.used)),
        background=background, finish=finish, length=length, length_location=length_location,
        cover=cover_image(entries["cover"][1], ctx) if "cover" in entries else library.cover,
        max_track_seconds=ctx.options.max_track_seconds, estimated_seconds=ctx.estimate[0],
        warnings=tuple(dict.fromkeys(ctx.warnings)),
        steps=steps, sources=tuple(dict.fromkeys(ctx.sources)), library_root=library.root,
    )


def _audible(steps) -> bool:
    """Whether any step makes sound or time (chapters alone do not)."""
    for step in steps:
        if isinstance(step, (Repeat, Include)):
            if _audible(step.steps):
                return True
        elif not isinstance(step, Chapter):
            return True
    return False


def is_partial(path: Path, root: Path) -> bool:
    """Files named _x, or below a folder named _x (relative to root), are partials, never tracks."""
    try:
        parts = Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).parts
    except ValueError:
        parts = path.parts
    return any(part.startswith("_") for part in parts)
