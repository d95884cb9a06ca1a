"""Say texts: {placeholders}, [pause 3s] markers, paragraphs and sentences."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from itertools import groupby

from meditations.model import ParagraphBreak, Sentence, TextPause, TextPiece, excerpt, parse_duration

# One token of a raw text: a literal brace, a placeholder, a pause marker, or a stray brace.
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}\n]*)\}|\[pause\b([^\]\n]*)\]|[{}]", re.IGNORECASE)
_PARAGRAPH = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'”’)])\s+")
_SOFT_BREAK = re.compile(r"(?<=[,;:—])\s+")
MAX_SENTENCE_CHARS = 400

Report = Callable[[int, str], None]  # (offset in the raw text, message)


_KEEP = "\ue000"  # a private-use character: stands for a space inside a value while sentences are cut
_KEEP_RUN = re.compile(r"\s+")


class _Value(str):
    """A placeholder's value inside a text being assembled."""


class _Written(str):
    """A pause marker that fill_placeholders keeps as written."""


# An empty value (no client's name) says nothing, and takes with it the punctuation that only set it off, so
# that "Welcome, {name}." reads "Welcome." While the text is tidied it stands as a NUL, which no text or value
# can hold (both refuse control characters).
_EMPTY = "\x00"
_EMPTY_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # empty values side by side ("{title} {name}") count as one
    (re.compile(r"\x00(?:\s*\x00)+"), _EMPTY),
    # a comma before, and punctuation or the end after: "Welcome, {name}." and "easily, {name}, that"
    (re.compile(r",\s*\x00(?=\s*(?:[,.!?;:…]|$))"), ""),
    # starting a sentence (or the text, a paragraph, the text after a pause), punctuation after:
    # "{name}, breathe" -> "Breathe"
    (re.compile(r"(^\s*|[.!?…][\"'”’)]?\s+|\n[ \t]*\n\s*)\x00[,.!?;:…]+\s*(.?)"), lambda m: m[1] + m[2].upper()),
    # no comma, punctuation after: "Hello {name}." -> "Hello."
    (re.compile(r"\s+\x00(?=[,.!?;:…])"), ""),
    # anywhere else nothing, without a doubled space
    (re.compile(r"(\s*)\x00(\s*)"), lambda m: m[1] or m[2]),
)


class _Marker:
    """A pause inside the text while it is being assembled."""

    def __init__(self, seconds: float):
        self.seconds = seconds


def fill_placeholders(raw: str, variables: Mapping[str, str], report: Report) -> str:
    """The text with {placeholders} filled in and {{ }} made literal; pause markers kept as written. An empty
    value is left out with the punctuation that set it off (see _drop_empty)."""
    parts = _scan(raw, variables, report, markers=False)
    return "".join("".join(run) if marker else _drop_empty("".join(run))  # a pause marker bounds a text, as in say
                   for marker, run in groupby(parts, key=lambda p: isinstance(p, _Written)))


def parse_say_text(raw: str, variables: Mapping[str, str], report: Report) -> tuple[TextPiece, ...]:
    """Split a say text into sentences, exact pauses and paragraph breaks."""
    parts = _scan(raw, variables, report)
    pieces: list[TextPiece] = []
    buffer: list[str] = []

    def flush_text() -> None:
        # a value's spaces are held while the text is cut into sentences: a value never ends a sentence
        text = _drop_empty("".join(_KEEP_RUN.sub(_KEEP, p) if isinstance(p, _Value) else p for p in buffer))
        buffer.clear()
        for index, paragraph in enumerate(_PARAGRAPH.split(text)):
            if index:
                pieces.append(ParagraphBreak())
            pieces.extend(Sentence(" ".join(s.text.replace(_KEEP, " ").split()), s.joined)
                          for s in split_sentences(paragraph))

    for part in parts:
        if isinstance(part, _Marker):
            flush_text()
            pieces.append(TextPause(part.seconds))
        else:
            buffer.append(part)
    flush_text()
    return _tidy(pieces)


def _drop_empty(text: str) -> str:
    """The text with its empty values left out, with the comma or space that set each off, so that the sentence
    reads as if it had been written without it. A text without empty values is returned as it is."""
    if _EMPTY not in text:
        return text
    for pattern, replace in _EMPTY_RULES:
        text = pattern.sub(replace, text)
    return text


def split_sentences(paragraph: str) -> list[Sentence]:
    """Sentences of a paragraph; an over-long sentence is cut at commas, then at spaces."""
    sentences = []
    for sentence in _SENTENCE_END.split(" ".join(paragraph.split())):
        sentence = sentence.strip()
        if not sentence:
            continue
        for index, piece in enumerate(_cut_long(sentence)):
            sentences.append(Sentence(piece, joined=index > 0))
    return sentences


def _cut_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    pieces, current = [], ""
    for chunk in _SOFT_BREAK.split(sentence):
        while len(chunk) > MAX_SENTENCE_CHARS:
            cut = max(chunk.rfind(" ", 0, MAX_SENTENCE_CHARS), chunk.rfind(_KEEP, 0, MAX_SENTENCE_CHARS))
            cut = cut if cut > 0 else MAX_SENTENCE_CHARS
            if current:
                pieces.append(current)
                current = ""
            pieces.append(chunk[:cut].strip())
            chunk = chunk[cut:].strip()
        if current and len(current) + 1 + len(chunk) > MAX_SENTENCE_CHARS:
            pieces.append(current)
            current = chunk
        else:
            current = f"{current} {chunk}".strip()
    if current:
        pieces.append(current)
    return [p for p in pieces if p]


def _tidy(pieces: list[TextPiece]) -> tuple[TextPiece, ...]:
    """Drop paragraph breaks that separate nothing (leading, trailing, doubled, next to a pause)."""
    tidy: list[TextPiece] = []
    for piece in pieces:
        if isinstance(piece, ParagraphBreak) and (not tidy or not isinstance(tidy[-1], Sentence)):
            continue
        tidy.append(piece)
    while tidy and isinstance(tidy[-1], ParagraphBreak):
        tidy.pop()
    return tuple(piece for piece, following in zip(tidy, (tidy + [None])[1:], strict=True)
                 if not (isinstance(piece, ParagraphBreak) and isinstance(following, TextPause)))


def _scan(raw: str, variables: Mapping[str, str], report: Report, markers: bool = True):
    parts: list = []
    position = 0
    for match in _TOKEN.finditer(raw):
        parts.append(raw[position:match.start()])
        position = match.end()
        token = match.group(0)
        if token == "{{":
            parts.append("{")
        elif token == "}}":
            parts.append("}")
        elif token in ("{", "}"):
            report(match.start(), f"a single '{token}' must be written '{token}{token}' to appear in the text")
        elif token.startswith("{"):
            parts.append(_placeholder(match.group(1), match.start(), variables, report))
        elif not markers:
            parts.append(_Written(token))
        else:
            marker = _pause_marker(match.group(2), match.start(), report)
            if marker is not None:
                parts.append(marker)
    parts.append(raw[position:])
    return [p for p in parts if not (isinstance(p, str) and p == "")]


def is_variable_name(name: str) -> bool:
    """Names of variables and placeholders: a word of letters, digits and underscores, not starting with a digit."""
    return name.isidentifier()


def _placeholder(name: str, offset: int, variables: Mapping[str, str], report: Report) -> str:
    if not is_variable_name(name):
        report(offset, f"'{{{excerpt(name)}}}' is not a placeholder name (write '{{{{' for a literal brace)")
        return ""
    if name in variables:
        value = variables[name]
        return _Value(value) if value.strip() else _EMPTY
    close = difflib.get_close_matches(name, list(variables), n=1)
    if close:
        report(offset, f"unknown placeholder '{{{name}}}' (did you mean '{{{close[0]}}}'?)")
    else:
        report(offset, f"unknown placeholder '{{{name}}}': define it under 'variables:' or pass --set {name}=VALUE")
    return ""


def _pause_marker(argument: str, offset: int, report: Report):
    argument = argument.strip()
    try:
        seconds = parse_duration(argument)
    except ValueError:
        report(offset, f"'[pause {excerpt(argument)}]' needs a duration, like [pause 3s]")
        return None
    if seconds <= 0:
        report(offset, f"'[pause {excerpt(argument)}]' must be longer than zero")
        return None
    return _Marker(seconds)
