import pytest

from meditations.building.track import load
from meditations.loading.settings import Settings
from meditations.model.script import Breathe, Chapter, ParagraphBreak, Sentence, TextPause
from meditations.loading.text import MAX_SENTENCE_CHARS, fill_placeholders, parse_say_text, split_sentences


def parse(text, variables=None):
    problems = []
    pieces = parse_say_text(text, variables or {}, lambda offset, message: problems.append((offset, message)))
    return pieces, problems


def test_sentences_pauses_and_paragraphs():
    pieces, problems = parse("Imagine a video, {name}. [pause 3s] Notice the person! Really?\n\nPicture someone.",
                             {"name": "Ana"})
    assert problems == []
    assert pieces == (Sentence("Imagine a video, Ana."), TextPause(3.0), Sentence("Notice the person!"),
                      Sentence("Really?"), ParagraphBreak(), Sentence("Picture someone."))


def test_literal_braces_and_unknown_placeholders():
    pieces, problems = parse("Use {{braces}} for {nmae} and { x }.", {"name": "Ana"})
    assert pieces == (Sentence("Use {braces} for and ."),)
    assert problems == [(19, "unknown placeholder '{nmae}' (did you mean '{name}'?)"),
                        (30, "'{ x }' is not a placeholder name (write '{{' for a literal brace)")]


def test_stray_braces_and_bad_pause_markers():
    _, problems = parse("a } b [pause soon] c [pause 0s]")
    assert problems == [(2, "a single '}' must be written '}}' to appear in the text"),
                        (6, "'[pause soon]' needs a duration, like [pause 3s]"),
                        (21, "'[pause 0s]' must be longer than zero")]


def test_quotes_after_sentence_end_and_decimals_stay_whole():
    assert split_sentences('She said "rest." Then 5.5 seconds pass.') == [
        Sentence('She said "rest."'), Sentence("Then 5.5 seconds pass.")]


def test_over_long_sentences_are_cut_at_commas_and_marked_joined():
    sentence = ", ".join(["and breathe out slowly"] * 60) + "."
    pieces = split_sentences(sentence)
    assert len(pieces) > 1
    assert all(len(p.text) <= MAX_SENTENCE_CHARS for p in pieces)
    assert [p.joined for p in pieces] == [False] + [True] * (len(pieces) - 1)
    assert " ".join(p.text for p in pieces) == sentence


def test_blank_leading_and_trailing_paragraphs_vanish():
    pieces, _ = parse("\n\nHello.\n\n\n\n[pause 1s]\n\n")
    assert pieces == (Sentence("Hello."), TextPause(1.0))


def test_a_text_left_with_nothing_is_no_pieces():
    pieces, problems = parse("{nmae}", {"name": "Ana"})
    assert pieces == () and problems == [(0, "unknown placeholder '{nmae}' (did you mean '{name}'?)")]


def test_a_value_never_ends_a_sentence():
    pieces = parse_say_text("Welcome, {name}. Rest now. {name}!", {"name": "Dr. Ana  Smith"}, print)
    assert pieces == (Sentence("Welcome, Dr. Ana Smith."), Sentence("Rest now."), Sentence("Dr. Ana Smith!"))
    long = parse_say_text("A {v}", {"v": "word " * 100}, print)
    assert [len(s.text) for s in long] == [396, 104] and all(not s.text.endswith("wor") for s in long)


# An empty value (a script rendered without a client's name) says nothing, and the punctuation that only set
# it off goes with it; a value changes nothing around it.
EMPTY_VALUES = [
    ("Welcome, {name}.", "", "Welcome."),
    ("Welcome, {name}.", "Ana", "Welcome, Ana."),
    ("Welcome, {name}!", "", "Welcome!"),
    ("Are you ready, {name}?", "", "Are you ready?"),
    ("Rest, {name}; the day is done.", "", "Rest; the day is done."),
    ("Listen, {name}: the bell.", "", "Listen: the bell."),
    ("Rest here, {name}", "", "Rest here"),
    ("If warmth does not come easily, {name}, that is all right.", "",
     "If warmth does not come easily, that is all right."),
    ("If warmth does not come easily, {name}, that is all right.", "Ana",
     "If warmth does not come easily, Ana, that is all right."),
    ("{name}, breathe slowly.", "", "Breathe slowly."),
    ("{name}, breathe slowly.", "Ana", "Ana, breathe slowly."),
    ("Rest now. {name}, breathe slowly.", "", "Rest now. Breathe slowly."),
    ("Rest now. {name}, breathe slowly.", "Ana", "Rest now. Ana, breathe slowly."),
    ("Hello {name}.", "", "Hello."),
    ("Hello {name}.", "Ana", "Hello Ana."),
    ("Hello {name}, and welcome.", "", "Hello, and welcome."),
    ("Thank yourself, {name}, for looking", "", "Thank yourself, for looking"),
    ("Thank yourself, {name}, for looking", "Ana", "Thank yourself, Ana, for looking"),
    ("A practice for {name} and you.", "", "A practice for and you."),
    ("A practice for {name} and you.", "Ana", "A practice for Ana and you."),
    ("Welcome, {name}.", "   ", "Welcome."),  # only spaces is empty too
]


@pytest.mark.parametrize("template, value, expected", EMPTY_VALUES)
def test_an_empty_value_goes_with_the_punctuation_that_set_it_off(template, value, expected):
    assert fill_placeholders(template, {"name": value}, print) == expected
    pieces, problems = parse(template, {"name": value})
    assert problems == [] and " ".join(p.text for p in pieces) == expected


def test_empty_values_side_by_side_count_as_one():
    assert fill_placeholders("Welcome, {title} {name}.", {"title": "", "name": ""}, print) == "Welcome."
    assert fill_placeholders("Welcome, {title} {name}.", {"title": "Dr", "name": ""}, print) == "Welcome, Dr."


def test_pause_markers_and_literal_braces_around_an_empty_value():
    text = "[pause 2s] {name}, breathe. Welcome, {name}. [pause 3s] {{x}} is fine, {name}[pause 1s]"
    assert fill_placeholders(text, {"name": ""}, print) == \
        "[pause 2s] Breathe. Welcome. [pause 3s] {x} is fine[pause 1s]"
    pieces, problems = parse(text, {"name": ""})
    assert problems == []
    assert pieces == (TextPause(2.0), Sentence("Breathe."), Sentence("Welcome."), TextPause(3.0),
                      Sentence("{x} is fine"), TextPause(1.0))
    pieces, _ = parse(text, {"name": "Ana"})
    assert pieces == (TextPause(2.0), Sentence("Ana, breathe."), Sentence("Welcome, Ana."), TextPause(3.0),
                      Sentence("{x} is fine, Ana"), TextPause(1.0))


def test_a_text_of_an_empty_value_alone_says_nothing():
    assert fill_placeholders("{name}", {"name": ""}, print) == ""
    assert parse("{name}!", {"name": ""}) == ((), [])


BUNDLED_STYLE = """
title: Arriving
variables:
  name: ""   # without a client's name, nothing is said there
steps:
  - chapter: For you, {name}
  - say: Welcome, {name}.
  - say: |
      If warmth does not come easily, {name}, that is all right. You can invite it by taking on the shape of care.

      {name}, let your shoulders drop. Thank yourself for looking at this, {name}.
  - breathe: {pattern: box, cycles: 1, words: {in: "{name}, breathe in"}}
"""
WITHOUT_A_NAME = ["For you", "Welcome.", "If warmth does not come easily, that is all right.",
                  "You can invite it by taking on the shape of care.", "Let your shoulders drop.",
                  "Thank yourself for looking at this.", "Breathe in"]
WITH_A_NAME = ["For you, Ana", "Welcome, Ana.", "If warmth does not come easily, Ana, that is all right.",
               "You can invite it by taking on the shape of care.", "Ana, let your shoulders drop.",
               "Thank yourself for looking at this, Ana.", "Ana, breathe in"]


@pytest.mark.parametrize("overrides, said", [
    ((), WITHOUT_A_NAME),
    ((("name", "Ana"),), WITH_A_NAME),
    ((("name", ""),), WITHOUT_A_NAME),  # --set name= with nothing after it
])
def test_a_bundled_style_script_reads_naturally_with_and_without_a_name(tmp_path, overrides, said):
    (tmp_path / "arriving.yaml").write_text(BUNDLED_STYLE)
    steps = load(tmp_path / "arriving.yaml", Settings(variables=overrides)).steps
    assert [text for step in steps for text in spoken(step)] == said


def spoken(step) -> list[str]:
    """A chapter's title, a breathing step's first cue word, or a say text's sentences."""
    if isinstance(step, Chapter):
        return [step.title]
    if isinstance(step, Breathe):
        return [dict(step.words)["in"]]
    return [p.text for p in step.pieces if isinstance(p, Sentence)]
