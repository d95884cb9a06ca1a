"""Every example in docs/script-format.md is checked here.

How the page marks its examples (an HTML comment on the line right before a fence is an instruction
to this test; readers of the rendered page do not see it):

```yaml blocks
    `<!-- file: PATH -->` before the block: the block is a file of the page's *example library*. All
    such files are written to one temporary folder (at PATH) before anything is checked, so scripts
    can include the partials shown elsewhere on the page and get the page's library.yaml.
      - `library.yaml` must load without problems.
      - a partial (a part of PATH starts with "_") is checked through the scripts that include it:
        every partial must be read by at least one script of the example library.
      - any other PATH is a script, loaded as PATH from inside the example library.
    No comment: the block is checked on its own, as `example.yaml` in a fresh folder that holds a
    copy of every partial of the example library (but not its library.yaml).
      - a complete script (a mapping with both `title` and `steps`) is loaded as written;
      - a fragment (a list of steps, or a mapping without `title` or `steps`) is wrapped into a
        minimal script first: `title: Example` is added, and the list becomes `steps:`, or, when
        there is no list, `steps: [say: Hello.]` is added.
    Error examples: a yaml block followed directly (only blank lines between) by a ```text block.
    The yaml block is loaded exactly as written and must fail with exactly the lines of the text
    block, in order; file names read `example.yaml:LINE:COL` (or PATH for `file:` blocks) because
    the loader is given a relative path from inside the folder.
    "Loads" always means what `meditate validate` does: meditations.loading.load_script, then
    meditations.speaking.prepare.check_cues with the real speech engine (every voice exists, and every
    spoken breathing cue fits its phase). Nothing is mocked. Warnings (which do not fail a script)
    are shown with `<!-- run -->` console blocks.

```json blocks after `<!-- plan: PATH -->`
    The `meditate plan PATH --json` output for a script of the example library. Speech times depend
    on the voice, so they are illustrative; checked against a real plan (real engine): the keys at
    every level, the number, kinds and texts of the events, the phase of every breath, the length of
    every event that is not speech (silences, breaths, bells, tones), the length_factor (unless the
    script has both speech and a length, which makes the factor depend on the voice too), and the
    chapter titles. The example must also be consistent in itself: events in order of their start,
    no holes (each event starts where an earlier one ended, or before), events overlap only around
    breathing and bells (a cue inside its breath, strikes ringing into each other), and the duration
    is where the last event ends.

```console blocks after `<!-- run -->` or `<!-- run: exit N -->`
    Every `$ meditate ...` line is run inside the example library (click's CliRunner) and must print
    exactly the lines that follow it, with exit code 0 (or N). Console blocks without the comment
    are illustrative (render output and the voice list depend on the machine).

Tables after `<!-- table: NAME -->`
    script-keys, library-keys, steps: the first column lists exactly the keys the loader knows.
    durations: each `value` means the number of seconds shown.
    messages: each message matches a message the engine's source can produce (its f-string
    templates; a long filled-in part must itself be such a message).

`<!-- sound: PATH -->` on a line of its own
    A recording the page's examples name: a short tone is written to PATH in the example library.

A `file:` block that is a profile (a mapping with `scripts:` and no `title`) is checked as `validate
--profile` does: it loads, and every script of its set loads with the client's settings.

Any other ```text block is illustrative.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest
import yaml
from click.testing import CliRunner

from meditations import loading as loader
from meditations.cli.messages import error_lines
from meditations.model.errors import ProblemCollector, ScriptError
from meditations.loading import LoadOptions, load_library, load_script
from meditations.building.clips import check_cues, plan_with_speech as plan
from meditations.speaking.pool import SpeechEngine

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "script-format.md"

from markdown_blocks import FENCE, as_script, read_fence, table_rows  # noqa: E402


# ---------------------------------------------------------------- reading the page

@dataclass(frozen=True)
class Block:
    """One fenced block of the page."""

    lang: str
    text: str
    line: int  # line of the opening fence, 1-based
    directive: tuple[str, str] | None  # ("file", "x.yaml"), ("plan", ...), ("run", ...)
    expected: tuple[str, ...] | None = None  # for a yaml block: the text block that follows it

    @property
    def id(self) -> str:
        name = f"{self.directive[0]}:{self.directive[1]}" if self.directive and self.directive[1] else ""
        return f"line{self.line}" + (f"-{name}" if name else "")


def _read_blocks() -> list[Block]:
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    raw = []
    i = 0
    while i < len(lines):
        if not FENCE.match(lines[i]):
            i += 1
            continue
        lang, text, directive, close = read_fence(lines, i, PAGE.name)
        raw.append((lang, text, i + 1, directive, close))
        i = close + 1
    blocks = []
    for index, (lang, text, line, directive, close) in enumerate(raw):
        expected = None
        if lang == "yaml" and index + 1 < len(raw) and raw[index + 1][0] == "text":
            between = lines[close + 1: raw[index + 1][2] - 1]
            if all(not b.strip() for b in between):
                expected = tuple(raw[index + 1][1].splitlines())
        blocks.append(Block(lang, text, line, directive, expected))
    return blocks


BLOCKS = _read_blocks()
YAML_BLOCKS = [b for b in BLOCKS if b.lang == "yaml"]
LIBRARY_BLOCKS = [b for b in YAML_BLOCKS if b.directive and b.directive[0] == "file"]
ALONE_BLOCKS = [b for b in YAML_BLOCKS if b not in LIBRARY_BLOCKS]
PLAN_BLOCKS = [b for b in BLOCKS if b.lang == "json" and b.directive and b.directive[0] == "plan"]
RUN_BLOCKS = [b for b in BLOCKS if b.lang == "console" and b.directive and b.directive[0] == "run"]


def _is_partial(relative: str) -> bool:
    return any(part.startswith("_") for part in PurePosixPath(relative).parts)


def _table(name: str) -> list[list[str]]:
    """The rows of the page's table NAME."""
    return table_rows(PAGE.read_text(encoding="utf-8"), name)


def _code(cell: str) -> str:
    match = re.fullmatch(r"`(.*)`", cell)
    assert match, f"expected a `code` cell, got {cell!r}"
    return match.group(1).replace("\\|", "|")


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def doc_engine():
    """The real speech engine (one worker): voices and plans are checked for real."""
    with SpeechEngine(workers=1) as engine:
        yield engine


@pytest.fixture(scope="module")
def example_library(tmp_path_factory) -> Path:
    """The page's example library: every `<!-- file: PATH -->` block written to PATH."""
    root = tmp_path_factory.mktemp("doc-library")
    for block in LIBRARY_BLOCKS:
        relative = block.directive[1]
        assert relative and not Path(relative).is_absolute() and ".." not in Path(relative).parts, block.id
        target = root / relative
        assert not target.exists(), f"{block.id}: {relative} is given twice on the page"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(block.text, encoding="utf-8")
    for relative in SOUNDS:
        _write_tone(root / relative)
    return root


SOUNDS = re.findall(r"^<!--\s*sound:\s*(\S+)\s*-->$", PAGE.read_text(encoding="utf-8"), re.MULTILINE)


def _write_tone(path: Path, seconds: float = 1.5, rate: int = 22050) -> None:
    """A quiet, slowly pulsing tone: something a recording's loudness can be measured on."""
    import wave

    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    tone = 0.2 * np.sin(2 * np.pi * 180 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) / 1.5
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1), handle.setsampwidth(2), handle.setframerate(rate)
        handle.writeframes((tone * 32767).astype("<i2").tobytes())


def _is_profile(text: str) -> bool:
    data = yaml.safe_load(text)
    return isinstance(data, dict) and "scripts" in data and "title" not in data


@pytest.fixture
def alone_folder(tmp_path, example_library) -> Path:
    """A fresh folder with a copy of every partial of the example library (no library.yaml)."""
    folder = tmp_path / "alone"
    folder.mkdir()
    for block in LIBRARY_BLOCKS:
        relative = block.directive[1]
        if _is_partial(relative):
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(example_library / relative, folder / relative)
    return folder


def _no_library_above(folder: Path) -> None:
    for parent in folder.resolve().parents:
        assert not (parent / loader.LIBRARY_FILE).exists(), f"a stray {parent / loader.LIBRARY_FILE} would change the examples"


def validate(relative: str, engine: SpeechEngine):
    """What `meditate validate` does for one file: load it, then check every voice and breathing cue."""
    script = load_script(relative)
    check_cues(script, engine)
    return script


def problems_of(relative: str, engine: SpeechEngine) -> list[str]:
    try:
        validate(relative, engine)
    except ScriptError as exc:
        return error_lines(exc)
    return []


def is_complete(text: str) -> bool:
    data = yaml.safe_load(text)
    return isinstance(data, dict) and "title" in data and "steps" in data


# ---------------------------------------------------------------- yaml examples

def test_the_page_has_the_examples_it_should():
    assert len(YAML_BLOCKS) >= 20
    assert any(b.expected for b in YAML_BLOCKS), "no error examples found"
    assert PLAN_BLOCKS and RUN_BLOCKS
    assert [b.directive[1] for b in LIBRARY_BLOCKS].count("library.yaml") == 1
    for block in BLOCKS:
        if block.directive:
            kind = block.directive[0]
            assert (kind, block.lang) in {("file", "yaml"), ("plan", "json"), ("run", "console")}, \
                f"{block.id}: <!-- {kind} --> does not go with a ```{block.lang} block"


@pytest.mark.parametrize("block", ALONE_BLOCKS, ids=[b.id for b in ALONE_BLOCKS])
def test_example_on_its_own(block, alone_folder, monkeypatch, doc_engine):
    _no_library_above(alone_folder)
    monkeypatch.chdir(alone_folder)
    if block.expected is not None:
        (alone_folder / "example.yaml").write_text(block.text, encoding="utf-8")
        assert problems_of("example.yaml", doc_engine) == list(block.expected)
        return
    text = block.text if is_complete(block.text) else as_script(block.text)
    (alone_folder / "example.yaml").write_text(text, encoding="utf-8")
    assert problems_of("example.yaml", doc_engine) == []


@pytest.mark.parametrize("block", LIBRARY_BLOCKS, ids=[b.id for b in LIBRARY_BLOCKS])
def test_example_library_file(block, example_library, monkeypatch, doc_engine):
    _no_library_above(example_library)
    monkeypatch.chdir(example_library)
    relative = block.directive[1]
    if relative == loader.LIBRARY_FILE:
        assert block.expected is None, "error examples of library.yaml are not supported"
        collector = ProblemCollector()
        defaults = load_library(example_library, collector, LoadOptions())
        assert [str(p) for p in collector.problems] == []
        assert defaults.file is not None
        return
    if _is_partial(relative):
        assert block.expected is None, f"{block.id}: show a partial's errors through a script that includes it"
        readers = []
        for other in LIBRARY_BLOCKS:
            name = other.directive[1]
            if name != loader.LIBRARY_FILE and not _is_partial(name):
                try:
                    readers.extend(load_script(name).sources)
                except ScriptError:
                    pass
        assert (example_library / relative).resolve() in {p.resolve() for p in readers}, \
            f"no script of the example library includes {relative}"
        return
    if _is_profile(block.text):
        from meditations.loading.profiles import check_profile, load_profile

        assert block.expected is None, "error examples of profiles are not supported"
        profile = load_profile(relative)
        check_profile(profile)
        assert profile.tracks
        return
    if block.expected is not None:
        assert problems_of(relative, doc_engine) == list(block.expected)
    else:
        assert is_complete(block.text), f"{relative} must be a complete script (title and steps)"
        assert problems_of(relative, doc_engine) == []


# ---------------------------------------------------------------- plan --json

EVENT_KINDS = {"speech", "silence", "breath", "bell", "tone"}


def _check_shape(example: dict) -> None:
    """The example is consistent in itself: events in order, no holes, duration is the end."""
    start, end = 0.0, 0.0  # the latest start so far, and where everything so far has ended
    for index, event in enumerate(example["events"]):
        assert event["start"] >= start - 1e-6, f"{event} starts before the event above it"
        assert event["start"] <= end + 1e-6, f"a hole before {event}"
        assert event["end"] > event["start"]
        # Only breathing and bells overlap: cues inside a breath, strikes ringing into each other.
        overlapped = [e for e in example["events"][:index] if e["end"] > event["start"] + 1e-6]
        assert not overlapped or any(e["kind"] in ("breath", "bell") for e in overlapped + [event]), \
            f"{event} overlaps {overlapped}"
        start, end = event["start"], max(end, event["end"])
    assert example["duration"] == pytest.approx(end, abs=1e-6)
    bounds = {0.0} | {e["start"] for e in example["events"]} | {e["end"] for e in example["events"]}
    for chapter in example["chapters"]:
        assert any(chapter["start"] == pytest.approx(b, abs=1e-6) for b in bounds)
        assert any(chapter["end"] == pytest.approx(b, abs=1e-6) for b in bounds)


@pytest.mark.parametrize("block", PLAN_BLOCKS, ids=[b.id for b in PLAN_BLOCKS])
def test_plan_json_example(block, example_library, monkeypatch, doc_engine):
    monkeypatch.chdir(example_library)
    example = json.loads(block.text)
    script = load_script(block.directive[1])
    real = plan(script, doc_engine).to_json()
    json.dumps(real)  # what `plan --json` prints
    _check_shape(example)
    assert set(example) == set(real) == {"title", "duration", "length_factor", "events", "chapters"}
    assert example["title"] == real["title"]
    assert isinstance(example["duration"], float) and isinstance(example["length_factor"], float)
    if script.length is None or not any(e["kind"] == "speech" for e in real["events"]):
        assert example["length_factor"] == pytest.approx(real["length_factor"], abs=1e-6)
    assert len(example["events"]) == len(real["events"])
    for shown, made in zip(example["events"], real["events"]):
        assert set(shown) == set(made)
        assert shown["kind"] == made["kind"] and made["kind"] in EVENT_KINDS
        if made["kind"] == "speech":
            assert set(made) == {"kind", "start", "end", "text"}
            assert shown["text"] == made["text"]
            continue
        if made["kind"] == "breath":
            assert set(made) == {"kind", "start", "end", "phase"}
            assert shown["phase"] == made["phase"]
        else:
            assert set(made) == {"kind", "start", "end"}
        assert shown["end"] - shown["start"] == pytest.approx(made["end"] - made["start"], abs=1e-4)
    assert [c["title"] for c in example["chapters"]] == [c["title"] for c in real["chapters"]]
    for shown, made in zip(example["chapters"], real["chapters"]):
        assert set(shown) == set(made) == {"title", "start", "end"}


# ---------------------------------------------------------------- console runs

def _commands(block: Block) -> list[tuple[list[str], list[str]]]:
    commands: list[tuple[list[str], list[str]]] = []
    for line in block.text.splitlines():
        if line.startswith("$ "):
            words = shlex.split(line[2:])
            assert words[0] == "meditate", f"{block.id}: only meditate commands can be run"
            commands.append((words[1:], []))
        else:
            assert commands, f"{block.id}: output before the first command"
            commands[-1][1].append(line)
    return commands


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[b.id for b in RUN_BLOCKS])
def test_console_example(block, example_library, monkeypatch):
    from meditations.cli.commands import main

    monkeypatch.chdir(example_library)
    exit_code = 0
    if block.directive[1]:
        match = re.fullmatch(r"exit (\d+)", block.directive[1])
        assert match, f"{block.id}: write <!-- run --> or <!-- run: exit N -->"
        exit_code = int(match.group(1))
    for args, expected in _commands(block):
        result = CliRunner().invoke(main, args, prog_name="meditate")
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert (result.exit_code, result.output.splitlines()) == (exit_code, expected)


# ---------------------------------------------------------------- tables

def test_script_keys_table_lists_every_key():
    assert [_code(row[0]) for row in _table("script-keys")] == list(loader.SCRIPT_KEYS)


def test_library_keys_table_lists_every_key():
    assert [_code(row[0]) for row in _table("library-keys")] == list(loader.LIBRARY_KEYS)


def test_steps_table_lists_every_action():
    assert [_code(row[0]) for row in _table("steps")] == list(loader.STEP_KINDS)


def test_durations_table(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rows = _table("durations")
    steps = "".join(f"  - pause: {_code(row[0])}\n" for row in rows)
    Path("durations.yaml").write_text(f"title: Durations\nsteps:\n{steps}", encoding="utf-8")
    script = load_script("durations.yaml")
    for row, step in zip(rows, script.steps):
        seconds = re.fullmatch(r"([\d.]+) seconds?", row[1])
        assert seconds, f"write the meaning as 'N seconds', got {row[1]!r}"
        assert step.seconds == pytest.approx(float(seconds.group(1))), row


def _source_nodes():
    for source in [*(ROOT / "meditations").rglob("*.py"), ROOT / "cli.py"]:
        yield from ast.walk(ast.parse(source.read_text(encoding="utf-8")))


def _source_texts() -> list[str]:
    """Every plain string of the engine's source (pieces such as ' words per minute')."""
    return sorted({n.value.strip() for n in _source_nodes()
                   if isinstance(n, ast.Constant) and isinstance(n.value, str) and len(n.value.strip()) >= 8})


def _message_templates() -> list[re.Pattern]:
    """Every text the engine can put in a message, as a regex; {…} parts are captured."""
    def pattern(node) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return re.escape(node.value)
        if isinstance(node, ast.JoinedStr):
            return "".join(re.escape(part.value) if isinstance(part, ast.Constant) else "(.+?)"
                           for part in node.values)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = pattern(node.left), pattern(node.right)
            return (left or "(.+?)") + (right or "(.+?)") if (left or right) else None
        return None

    found = set()
    for node in _source_nodes():
        if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp)):
            text = pattern(node)
            if text and len(re.sub(r"\(\.\+\?\)|\\", "", text)) >= 4:
                found.add(text)
    return [re.compile(t) for t in found]


_PROSE = re.compile(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+")


def _explained(message: str, templates, texts, depth: int = 0) -> bool:
    """The message is one of the engine's texts; its filled-in parts are values (no prose) or, when
    they read like prose, engine texts themselves."""
    if depth > 3:
        return False

    def plain_value(part: str) -> bool:
        for text in texts:
            part = part.replace(text, " ")
        return not _PROSE.search(part)

    for template in templates:
        match = template.fullmatch(message)
        if match and all(plain_value(part) or _explained(part, templates, texts, depth + 1)
                         for part in match.groups()):
            return True
    return False


def test_messages_table_matches_the_engine():
    templates, texts = _message_templates(), _source_texts()
    rows = _table("messages")
    assert len(rows) >= 20
    unexplained = [_code(row[0]) for row in rows if not _explained(_code(row[0]), templates, texts)]
    assert unexplained == []


def test_error_examples_messages_appear_in_the_table_format():
    """The messages the error examples show are FILE:LINE:COL: message lines."""
    for block in YAML_BLOCKS:
        for line in block.expected or ():
            assert re.fullmatch(r"[\w./-]+:\d+:\d+: .+", line), f"{block.id}: {line!r}"


@pytest.mark.parametrize("message", [
    "unknown key 'x' (did you mean something else entirely?)",
    "YAML syntax error: the file is upside down",
    "'pause' must be shorter than a day, got '2d'",
    "'pause': 'soon' is far too vague for a duration",
    "include cycle is not allowed here",
])
def test_the_messages_check_refuses_made_up_messages(message):
    assert not _explained(message, _message_templates(), _source_texts())
