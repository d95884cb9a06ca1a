"""Values put into texts ({placeholders} filled from variables:, profiles and --set), and texts that speak.

A value is put into a sentence as plain words. It may not change the structure of the text around it:
line breaks (a blank line starts a paragraph) and markup ([pause 2s], braces) are refused with a clear
error, and a value counts toward the text limit (MEDITATE_MAX_TEXT_CHARS) like the text it goes into.
A value never ends a sentence: "Dr. Ana" stays within the sentence it is put into (docs/script-format.md).
"""

from __future__ import annotations

import re

from meditations.model import Sentence

_LINE_BREAK = re.compile(r"[\n\r\v\f\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f\ue000]")  # U+E000 stands for a value's spaces in text.py
_MARKUP = re.compile(r"[\[\]{}]")


def value_problem(value: str, max_chars: int) -> str | None:
    """Why a variable's value cannot be put into a text, or None. The answer reads after the value's name."""
    if len(value) > max_chars:
        return f"is {len(value)} characters, over the limit of {max_chars} (MEDITATE_MAX_TEXT_CHARS)"
    if _LINE_BREAK.search(value):
        return "holds a line break: a value goes into a sentence, so it must be one line"
    if _CONTROL.search(value):
        return "holds a control character"
    found = _MARKUP.search(value)
    if found:
        return (f"holds '{found.group(0)}': a value is spoken as written, so it cannot hold markup "
                "([pause ...] or braces)")
    return None


_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")  # and lone surrogates


def control_character(text: str) -> str | None:
    """The first control character of a text (tabs and line breaks are fine) or half of a surrogate pair (which
    YAML's "\\ud800" escape can make), written as an escape; or None."""
    found = _TEXT_CONTROL.search(text)
    return None if found is None else found.group(0).encode("unicode_escape").decode("ascii")


def cue_word_problem(text: str) -> str | None:
    """Why a breathing cue's words cannot be spoken as they are, or None (they are spoken as written, so they
    need a word, and markup would be read out)."""
    if "[" in text or "]" in text:
        return "is spoken as written: markup such as [pause 2s] does not work in cue words"
    if not any(c.isalnum() for c in text):
        return "has nothing to speak: it has no words, only punctuation"
    return None


def speaks_words(pieces) -> bool:
    """Whether any sentence of a say text has a letter or a digit (a text of '...' alone says nothing)."""
    return any(isinstance(p, Sentence) and any(c.isalnum() for c in p.text) for p in pieces)
