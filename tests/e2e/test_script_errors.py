"""Every malformed script gets exact, located messages, exit 1, and no traceback (via `meditate validate`)."""

import pytest
from click.testing import CliRunner

from meditations.cli.commands import main

CASES = [
    ("unknown key with a suggestion", "title: x\ntitel: y\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:1: unknown key 'titel' (did you mean 'title'?)"]),
    ("unknown key without a close match", "title: x\nmood: calm\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:1: unknown key 'mood' (expected one of: title, description, author, album, genre, language, "
      "tags, voice, pace, audio, variables, background, length, lead_in, fade_out, loudness, cue_words, cover, "
      "steps)"]),
    ("missing title and steps", "description: x\n",
     ["s.yaml:1:1: missing required key 'title'", "s.yaml:1:1: missing required key 'steps'"]),
    ("every problem of a file is reported", "title: x\nvoice: {rate: fast, volume: 2}\nsteps:\n  - pause: 0s\n"
     "  - sya: hi\n",
     ["s.yaml:2:15: 'voice.rate' must be a whole number, got 'fast'",
      "s.yaml:2:29: 'voice.volume' must be between 0.1 and 1, got 2",
      "s.yaml:4:12: 'pause' must be longer than zero, got '0s'",
      "s.yaml:5:5: unknown step 'sya' (did you mean 'say'?)"]),
    ("negative pause", "title: x\nsteps:\n  - pause: -3s\n",
     ["s.yaml:3:12: 'pause' must be longer than zero, got '-3s'"]),
    ("bad duration", "title: x\nsteps:\n  - pause: soon\n",
     ["s.yaml:3:12: 'pause': 'soon' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]),
    ("bad gap", "title: x\npace: {sentence_gap: [1]}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:22: 'pace.sentence_gap' must be a duration, got a list"]),
    ("two actions in one step", "title: x\nsteps:\n  - say: Hi.\n    pause: 3s\n",
     ["s.yaml:4:5: a step does one thing: it has both 'say' and 'pause' (start the second with its own '- ')"]),
    ("a step that is not a mapping", "title: x\nsteps:\n  - say hi\n",
     ["s.yaml:3:5: a step must be a mapping such as '- say: Hello' or '- pause: 5s', got 'say hi'"]),
    ("steps not a list", "title: x\nsteps: hello\n",
     ["s.yaml:2:8: 'steps' must be a list of steps (each line starting with '- '), got 'hello'"]),
    ("empty steps", "title: x\nsteps: []\n", ["s.yaml:2:8: 'steps' is empty: add at least one step"]),
    ("unknown step keyword", "title: x\nsteps:\n  - speak: Hi.\n",
     ["s.yaml:3:5: unknown step 'speak' (a step is one of: say, pause, chapter, repeat, include, breathe, bell)"]),
    ("unknown key beside an action", "title: x\nsteps:\n  - say: Hi.\n    voise: {rate: 100}\n",
     ["s.yaml:4:5: unknown key 'voise' (did you mean 'voice'?)"]),
    ("repeat without steps and with zero", "title: x\nsteps:\n  - repeat: 0\n",
     ["s.yaml:3:5: 'repeat' needs 'steps:' listing what to repeat",
      "s.yaml:3:13: 'repeat' must be between 1 and 1000, got 0"]),
    ("repeat with text", "title: x\nsteps:\n  - repeat: twice\n    steps:\n      - say: Hi.\n",
     ["s.yaml:3:13: 'repeat' must be a whole number, got 'twice'"]),
    ("unknown placeholder with suggestion", "title: x\nvariables: {name: friend}\nsteps:\n  - say: Hello {nmae}.\n",
     ["s.yaml:4:16: unknown placeholder '{nmae}' (did you mean '{name}'?)"]),
    ("unknown placeholder in a block text", "title: x\nsteps:\n  - say: |\n      First line.\n      Then {place}.\n",
     ["s.yaml:5:12: unknown placeholder '{place}': define it under 'variables:' or pass --set place=VALUE"]),
    ("unknown placeholder in the title", "title: For {client}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:1:12: unknown placeholder '{client}': define it under 'variables:' or pass --set client=VALUE"]),
    ("stray brace", "title: x\nsteps:\n  - say: A { here.\n",
     ["s.yaml:3:12: a single '{' must be written '{{' to appear in the text"]),
    ("bad pause marker", "title: x\nsteps:\n  - say: Rest. [pause a while] Go on.\n",
     ["s.yaml:3:16: '[pause a while]' needs a duration, like [pause 3s]"]),
    ("empty say", "title: x\nsteps:\n  - say: ''\n", ["s.yaml:3:10: 'say' needs a value"]),
    ("say with a list", "title: x\nsteps:\n  - say: [a, b]\n", ["s.yaml:3:10: 'say' must be text, got a list"]),
    ("rate out of range", "title: x\nvoice: {rate: 1000}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:15: 'voice.rate' must be between 40 and 400 words per minute, got 1000"]),
    ("bad audio settings", "title: x\naudio: {sample_rate: 12345, channels: 3}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:22: 'audio.sample_rate' must be one of 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, "
      "48000; got 12345",
      "s.yaml:2:39: 'audio.channels' must be one of 1, 2; got 3"]),
    ("duplicate key", "title: x\ntitle: y\nsteps:\n  - say: Hi.\n", ["s.yaml:2:1: 'title' is given twice in 'script'"]),
    ("tab indentation", "title: x\nsteps:\n\t- say: Hi.\n",
     ["s.yaml:3:1: YAML syntax error: a tab character cannot indent YAML; use spaces"]),
    ("bad indentation", "title: x\nsteps:\n  - say: Hi.\n   - pause: 3s\n",
     ["s.yaml:4:4: YAML syntax error: this line is indented differently from the lines above it"]),
    ("unclosed quote", "title: \"x\nsteps:\n  - say: Hi.\n", ["s.yaml:1:8: YAML syntax error: this quote is never closed"]),
    ("colon inside text", "title: x\nsteps:\n  - say: Note: this.\n",
     ["s.yaml:3:14: YAML syntax error: unexpected ':' (put text that contains ': ' in quotes)"]),
    ("a list instead of a mapping", "- say: Hi.\n",
     ["s.yaml:1:1: a script must be a mapping with 'title:' and 'steps:', got a list"]),
    ("a bare word", "hello\n", ["s.yaml:1:1: a script must be a mapping with 'title:' and 'steps:', got a text"]),
    ("empty file", "", ["s.yaml:1:1: the script is empty: it needs 'title:' and 'steps:'"]),
    ("object-constructing tag", "title: !!python/object/apply:os.system [echo hi]\nsteps:\n  - say: Hi.\n",
     ["s.yaml:1:8: YAML tag '!!python/object/apply:os.system' is not allowed in a script"]),
    ("alias", "title: &t x\ndescription: *t\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:14: YAML aliases (*name) are not supported; write the value out"]),
    ("include outside the library", "title: x\nsteps:\n  - include: ../outside.yaml\n",
     ["s.yaml:3:14: include '../outside.yaml' is outside the library folder '.'"]),
    ("missing include", "title: x\nsteps:\n  - include: _partials/nothing.yaml\n",
     ["s.yaml:3:14: included file '_partials/nothing.yaml' not found"]),
    ("bad variable name", "title: x\nvariables: {2nd: a}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:13: variable names are words like 'name' or 'client_name', got '2nd'"]),
    ("tags not text", "title: x\ntags: {a: b}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:7: 'tags' must be a list of text, got a mapping"]),
]


def validate(tmp_path, monkeypatch, *names):
    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(main, ["validate", *names])


@pytest.mark.parametrize("text, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_script_gets_exact_located_messages(tmp_path, monkeypatch, text, expected):
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == expected


def test_binary_and_invalid_utf8(tmp_path, monkeypatch):
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    (tmp_path / "latin1.yaml").write_bytes(b"title: caf\xe9\nsteps: []\n")
    result = validate(tmp_path, monkeypatch, "bin.yaml", "latin1.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["bin.yaml:1:1: not a text file (it contains NUL bytes)",
                                          "latin1.yaml:1:11: not valid UTF-8 text"]


def test_include_cycle_names_the_cycle(tmp_path, monkeypatch):
    (tmp_path / "a.yaml").write_text("title: A\nsteps:\n  - include: _b.yaml\n")
    (tmp_path / "_b.yaml").write_text("steps:\n  - say: Hi.\n  - include: a.yaml\n")
    result = validate(tmp_path, monkeypatch, "a.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["_b.yaml:3:14: include cycle: a.yaml -> _b.yaml -> a.yaml"]


def test_problems_inside_a_partial_point_into_the_partial(tmp_path, monkeypatch):
    (tmp_path / "_partials").mkdir()
    (tmp_path / "_partials" / "end.yaml").write_text("steps:\n  - pause: never\n")
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - include: _partials/end.yaml\n")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert result.stderr.splitlines() == [
        "_partials/end.yaml:2:12: 'pause': 'never' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]


def test_unknown_voice_is_located(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nvoice:\n  name: no-such-voice\nsteps:\n  - say: Hi.\n")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines() == ["s.yaml:3:9: unknown voice 'no-such-voice'; run 'meditate voices' to list the voices"]


def test_library_yaml_problems_are_located_in_it(tmp_path, monkeypatch):
    (tmp_path / "library.yaml").write_text("album: Calm\nartits: Me\n")
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Hi.\n")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert result.stderr.splitlines() == ["library.yaml:2:1: unknown key 'artits' (did you mean 'artist'?)"]


def test_folder_validation_skips_partials_and_summarises(tmp_path, monkeypatch):
    (tmp_path / "_partials").mkdir()
    (tmp_path / "_partials" / "end.yaml").write_text("steps:\n  - say: Bye.\n")
    (tmp_path / "one.yaml").write_text("title: One\nsteps:\n  - include: _partials/end.yaml\n")
    (tmp_path / "two.yml").write_text("title: Two\nsteps:\n  - say: Hi.\n")
    result = validate(tmp_path, monkeypatch, ".")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "2 scripts valid\n", "")


def test_missing_file(tmp_path, monkeypatch):
    result = validate(tmp_path, monkeypatch, "nope.yaml")
    assert (result.exit_code, result.stderr) == (1, "nope.yaml:1:1: file not found\n")


MORE_CASES = [
    ("infinite pause", "title: x\nsteps:\n  - pause: .inf\n",
     ["s.yaml:3:12: 'pause': expected a duration such as 5s, 1m30s or 500ms, got inf"]),
    ("nan gap", "title: x\npace: {sentence_gap: nan}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:22: 'pace.sentence_gap': 'nan' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]),
    ("double minus", "title: x\nsteps:\n  - pause: --5s\n",
     ["s.yaml:3:12: 'pause': '--5s' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]),
    ("impossible mp3 settings", "title: x\naudio: {sample_rate: 8000, bitrate: 320}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:37: a bitrate of 320 kbit/s is not possible at 8000 Hz (at most 64)"]),
    ("text starting with a bracket", "title: x\nsteps:\n  - say: [pause 2s] Now breathe.\n",
     ["s.yaml:3:10: YAML syntax error: a text that starts with '[' or '{' must be put in quotes"]),
    ("silent voice", "title: x\nvoice: {volume: 0}\nsteps:\n  - say: Hi.\n",
     ["s.yaml:2:17: 'voice.volume' must be between 0.1 and 1, got 0"]),
]


@pytest.mark.parametrize("text, expected", [c[1:] for c in MORE_CASES], ids=[c[0] for c in MORE_CASES])
def test_more_bad_scripts(tmp_path, monkeypatch, text, expected):
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert (result.exit_code, result.stderr.splitlines()) == (1, expected)


def test_a_problem_in_a_partial_included_twice_is_reported_once(tmp_path, monkeypatch):
    (tmp_path / "_p.yaml").write_text("steps:\n  - pause: never\n")
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - include: _p.yaml\n  - include: _p.yaml\n")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert result.stderr.splitlines() == [
        "_p.yaml:2:12: 'pause': 'never' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"]


def test_include_depth_limit_counts_every_level(tmp_path, monkeypatch):
    from meditations.loading import LoadOptions

    depth = LoadOptions().max_include_depth
    for level in range(depth + 1):
        (tmp_path / f"_{level}.yaml").write_text(f"steps:\n  - include: _{level + 1}.yaml\n")
    (tmp_path / f"_{depth + 1}.yaml").write_text("steps:\n  - say: Deep.\n")
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - include: _0.yaml\n")
    result = validate(tmp_path, monkeypatch, "s.yaml")
    assert result.stderr.splitlines() == [
        f"_{depth - 1}.yaml:2:14: includes are nested deeper than the limit of {depth} (MEDITATE_MAX_INCLUDE_DEPTH)"]


def test_partials_and_library_settings_are_not_rendered(tmp_path, monkeypatch):
    (tmp_path / "library.yaml").write_text("album: A\n")
    (tmp_path / "_partials").mkdir()
    (tmp_path / "_partials" / "end.yaml").write_text("steps:\n  - say: Bye.\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["render", "_partials/end.yaml"])
    assert (result.exit_code, result.stderr) == (1, "Error: _partials/end.yaml is a partial (its name or a folder "
                                                    "above it starts with '_'): it is included by other scripts, "
                                                    "not rendered on its own\n")
    result = runner.invoke(main, ["render", "library.yaml"])
    assert (result.exit_code, result.stderr) == (1, "Error: library.yaml holds library settings, not a script\n")
    result = runner.invoke(main, ["validate", "_partials"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == ("Error: no scripts found in _partials (partials are checked through "
                                              "the scripts that include them)")
