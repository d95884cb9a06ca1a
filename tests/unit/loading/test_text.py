from meditations.model.script import ParagraphBreak, Sentence, TextPause
from meditations.loading.text import MAX_SENTENCE_CHARS, parse_say_text, split_sentences


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
