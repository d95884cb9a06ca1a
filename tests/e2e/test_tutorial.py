"""Every example in docs/writing-scripts.md is checked here, in the order a new user meets them.

The guide is a walk-through: each command changes the folder the next one runs in. So this test
walks the page from top to bottom in one *tutorial folder* (a temporary copy of the project's
`scripts/` folder, the bundled library, standing in for the meditate folder), and does what the
reader is told to do, with the real speech engine and the real encoder. Nothing is mocked.

How the page marks its examples. An HTML comment on the line right before a fence is an instruction
to this test (readers of the rendered page do not see it); a comment on a line of its own (not
before a fence) is an action.

```yaml after `<!-- file: PATH -->`
    The reader saves this text as PATH: it is written there at this point of the walk.
      - followed directly (only blank lines between) by a ```text block: a mistake. `meditate
        validate PATH` must fail (exit 1) printing exactly the lines of the text block; then PATH
        is put back as it was (a mistake never stays in the folder).
      - a client's profile (`clients/NAME/profile.yaml`, or a PATH under `profiles/`): it must load without
        problems.
      - any other PATH: a script; `meditate validate PATH` must print `1 script valid`.

```yaml after `<!-- shows: PATH -->`
    What a command made: the file PATH must hold exactly this text.

```yaml after `<!-- excerpt: PATH -->`
    The beginning of a bundled file: the file must start with exactly these lines.

```yaml without a comment
    A piece of a script (a list of steps, or some keys), checked as `scripts/example.yaml` inside the
    tutorial folder (so the library's settings and the reader's recordings apply), then removed.
    A list becomes the script's `steps:`; `title:` and a one-step `steps:` are added when missing.
    It must pass `meditate validate`. A complete script is checked as written.

```console after `<!-- run -->`, `<!-- run: exit N -->`, `<!-- run: times vary -->` (or both)
    Every `$ ./run.sh meditate ARGS` line is run (click's CliRunner on cli.main, in the tutorial
    folder) and must print what the page shows below it, with exit code 0 (or N). The page may
    leave out what is inherently variable (how long speech takes depends on the voice and the
    engine's version, the order of a parallel build on the machine):
      - a line that is just `...` stands for any number of lines (none included);
      - `...` inside a line stands for any text within that line;
      - with `times vary`, every time or length written like `0:12.43` or `4:37.45` (minutes,
        seconds and hundredths, as meditate prints them) stands for any such time. The page
        shows real numbers from one machine, so that the reader sees what to expect.
    Everything else must match exactly.
    Console blocks without the comment are illustrative (they would take too long, or they only
    show how to start something): each `./run.sh meditate ...` command in them must still be a
    valid command line (known command, known options, valid values), each `./run.sh TASK` a task of
    run.sh, and no other command than `cd` may appear.

```text after `<!-- folder: PATH -->`
    The names of the files in PATH (not those starting with a dot), sorted, one per line.

`<!-- record: PATH -->` on a line of its own
    The reader saves a recording of their own voice as PATH. The test makes one: the welcome line
    spoken by the real engine in another voice, quiet, with half a second of silence around it
    (what a phone recording looks like).

Tables after `<!-- table: NAME -->`
    messages: every message is one the engine's source can produce (the check of
    tests/test_docs.py); the rows about the reader's own files (TABLE_MESSAGES) are produced for
    real at the end of the walk. breathing: every script exists and has the title shown.

Any other ```text block is illustrative. The walk must cover the whole path of the guide's promise,
in order: `new`, `validate`, `render --chapter`, a profile, a recording, `build --profile`.
"""

from __future__ import annotations

import re
import shlex
import shutil
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from test_docs import _code, _explained, _message_templates, _source_texts

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "writing-scripts.md"
RUN_SH = "./run.sh"
WELCOME = "Welcome, Ana. I am glad you are taking this time for yourself."

from markdown_blocks import DIRECTIVE as _DIRECTIVE, as_script, read_fence, table_rows  # noqa: E402


# ---------------------------------------------------------------- reading the page

@dataclass(frozen=True)
class Item:
    """A fenced block of the page, or an action comment on a line of its own."""

    kind: str  # "block" or "action"
    line: int  # 1-based line of the opening fence (or of the comment)
    lang: str = ""
    text: str = ""
    directive: tuple[str, str] | None = None
    expected: tuple[str, ...] | None = None  # a yaml block's mistake lines (the text block after it)

    @property
    def where(self) -> str:
        return f"{PAGE.name}:{self.line}"


def read_items() -> list[Item]:
    lines = PAGE.read_text(encoding="utf-8").splitlines()
    raw: list[tuple] = []  # (kind, line, lang, text, directive, closing line index)
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\w*)\s*$", lines[i])
        comment = _DIRECTIVE.fullmatch(lines[i].strip())
        if comment and not (i + 1 < len(lines) and lines[i + 1].startswith("```")):
            raw.append(("action", i + 1, "", "", (comment.group(1), (comment.group(2) or "").strip()), i))
            i += 1
            continue
        if not fence:
            i += 1
            continue
        lang, text, directive, close = read_fence(lines, i, PAGE.name)
        raw.append(("block", i + 1, lang, text, directive, close))
        i = close + 1
    items = []
    for index, (kind, line, lang, text, directive, close) in enumerate(raw):
        expected = None
        following = raw[index + 1] if index + 1 < len(raw) else None
        if lang == "yaml" and following and following[0] == "block" and following[2] == "text" \
                and following[4] is None and all(not b.strip() for b in lines[close + 1: following[1] - 1]):
            expected = tuple(following[3].splitlines())
        items.append(Item(kind, line, lang, text, directive, expected))
    return items


ITEMS = read_items()
BLOCKS = [item for item in ITEMS if item.kind == "block"]


def commands(item: Item) -> list[tuple[list[str], list[str]]]:
    """The `$ ...` lines of a console block, each with the lines shown below it."""
    found: list[tuple[list[str], list[str]]] = []
    for line in item.text.splitlines():
        if line.startswith("$ "):
            found.append((shlex.split(line[2:]), []))
        else:
            assert found, f"{item.where}: output before the first command"
            found[-1][1].append(line)
    return found


def meditate_args(words: list[str], where: str) -> list[str]:
    assert words[:2] == [RUN_SH, "meditate"], f"{where}: a command to run must start with './run.sh meditate'"
    return words[2:]


# ---------------------------------------------------------------- matching shown output

_TIME = re.compile(r"\d+:\d\d\.\d\d")


def _line_matches(shown: str, real: str, times_vary: bool) -> bool:
    def literal(text: str) -> str:
        if not times_vary:
            return re.escape(text)
        return _TIME.pattern.join(re.escape(piece) for piece in _TIME.split(text))

    pattern = ".*".join(literal(part) for part in shown.split("..."))
    return re.fullmatch(pattern, real) is not None


def output_matches(shown: list[str], real: list[str], times_vary: bool = False) -> bool:
    """`...` on its own line: any lines (or none); `...` inside a line: any text in that line; with
    times_vary, a time like 0:12.43 stands for any time."""
    if not shown:
        return not real
    if shown[0] == "...":
        return any(output_matches(shown[1:], real[skip:], times_vary) for skip in range(len(real) + 1))
    return bool(real) and _line_matches(shown[0], real[0], times_vary) \
        and output_matches(shown[1:], real[1:], times_vary)


@pytest.mark.parametrize("shown, real, times_vary, ok", [
    (["a", "...", "z"], ["a", "b", "c", "z"], False, True),
    (["a", "...", "z"], ["a", "z"], False, True),
    (["a", "...", "z"], ["a", "b"], False, False),
    (["wrote x.mp3 (...)"], ["wrote x.mp3 (1:02.50)"], False, True),
    (["wrote x.mp3 (...)"], ["wrote y.mp3 (1:02.50)"], False, False),
    (["one"], ["one", "two"], False, False),
    (["..."], [], False, True),
    (["wrote x.mp3 (1:02.50)"], ["wrote x.mp3 (1:02.51)"], False, False),
    (["wrote x.mp3 (1:02.50)"], ["wrote x.mp3 (11:42.07)"], True, True),
    (["wrote x.mp3 (1:02.50)"], ["wrote x.mp3 (1:02)"], True, False),
    (["wrote x.mp3 (1:02.50)"], ["wrote x-mp3 (1:02.50)"], True, False),
    (["  0:11.00  chapter: One"], ["  0:12.00  chapter: Two"], True, False),
])
def test_the_wildcards(shown, real, times_vary, ok):
    assert output_matches(shown, real, times_vary) is ok


# ---------------------------------------------------------------- doing what the reader does

def run_meditate(args: list[str]):
    from meditations.cli.commands import main

    result = CliRunner().invoke(main, args, prog_name="meditate")
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"meditate {shlex.join(args)} crashed: {result.exception!r}"
    return result


def make_recording(path: Path) -> None:
    """A therapist's recording of the welcome: another voice, much quieter than meditate's, with
    half a second of silence either side."""
    from meditations.speaking.pool import ENGINE_SAMPLE_RATE, SpeechEngine, SpeechRequest, load_clip

    request = SpeechRequest(WELCOME, "gmw/en-us", 110, 0.9)
    with SpeechEngine(workers=1) as engine:
        assert engine.synthesize([request]) == []
        clip = load_clip(request.key())
    quiet = np.zeros(ENGINE_SAMPLE_RATE // 2, dtype="<i2")
    audio = np.concatenate([quiet, (clip.astype(np.float64) * 0.25).astype("<i2"), quiet])
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(ENGINE_SAMPLE_RATE)
        handle.writeframes(audio.tobytes())


class Walk:
    """The reader's progress through the page, in the tutorial folder."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.done: list[str] = []  # what was done, for the check that the whole path is covered

    def item(self, item: Item) -> None:
        if item.kind == "action":
            return self.action(item)
        kind, argument = item.directive or ("", "")
        if item.lang == "yaml":
            {"file": self.save, "shows": self.shows, "excerpt": self.excerpt, "": self.piece}[kind](item, argument)
        elif item.lang == "console" and kind == "run":
            self.run(item, argument)
        elif item.lang == "console":
            assert not kind, f"{item.where}: <!-- {kind} --> does not go with a console block"
            check_illustrative(item)
        elif item.lang == "text" and kind == "folder":
            names = sorted(p.name for p in (self.folder / argument).iterdir() if not p.name.startswith("."))
            assert names == item.text.splitlines(), f"{item.where}: {argument} holds {names}"
        else:
            assert not kind or kind == "table", f"{item.where}: <!-- {kind} --> does not go with a {item.lang} block"

    def action(self, item: Item) -> None:
        kind, argument = item.directive
        if kind == "table":
            return
        assert kind == "record", f"{item.where}: unknown action <!-- {kind} -->"
        make_recording(self.folder / argument)
        self.done.append("record")

    def save(self, item: Item, relative: str) -> None:
        target = self.folder / relative
        before = target.read_bytes() if target.exists() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(item.text, encoding="utf-8")
        if item.expected is not None:
            result = run_meditate(["validate", relative])
            assert (result.exit_code, result.output.splitlines()) == (1, list(item.expected)), item.where
            if before is None:
                target.unlink()
            else:
                target.write_bytes(before)
            return
        if relative.startswith("profiles/") or (relative.startswith("clients/") and relative.endswith("/profile.yaml")):
            from meditations.loading.profiles import load_profile

            profile = load_profile(relative)
            assert profile.tracks, item.where
            self.done.append("profile")
            return
        result = run_meditate(["validate", relative])
        assert (result.exit_code, result.output) == (0, "1 script valid\n"), f"{item.where}: {result.output}"

    def shows(self, item: Item, relative: str) -> None:
        assert (self.folder / relative).read_text(encoding="utf-8") == item.text, \
            f"{item.where}: {relative} is not what the page shows"

    def excerpt(self, item: Item, relative: str) -> None:
        text = (self.folder / relative).read_text(encoding="utf-8")
        assert text.startswith(item.text), f"{item.where}: {relative} does not start with the lines shown"

    def piece(self, item: Item, _: str) -> None:
        assert item.expected is None, f"{item.where}: a mistake needs <!-- file: PATH --> (its messages name the file)"
        # Where the page's scripts live: the library's folder, or a client's own (a piece that names a client's
        # recording is checked where that recording is).
        folders = ["scripts"] + sorted(str(p.relative_to(self.folder)) for p in self.folder.glob("clients/*/scripts"))
        outputs = []
        for folder in folders:
            target = self.folder / folder / "example.yaml"
            target.write_text(as_script(item.text), encoding="utf-8")
            try:
                result = run_meditate(["validate", f"{folder}/example.yaml"])
            finally:
                target.unlink()
            if (result.exit_code, result.output) == (0, "1 script valid\n"):
                return
            outputs.append(result.output)
        raise AssertionError(f"{item.where}: {outputs[0]}")

    def run(self, item: Item, argument: str) -> None:
        exit_code, times_vary = 0, False
        for part in filter(None, (p.strip() for p in argument.split(","))):
            match = re.fullmatch(r"exit (\d+)", part)
            assert match or part == "times vary", \
                f"{item.where}: write <!-- run -->, <!-- run: exit N -->, <!-- run: times vary --> or both"
            if match:
                exit_code = int(match.group(1))
            else:
                times_vary = True
        for words, shown in commands(item):
            args = meditate_args(words, item.where)
            result = run_meditate(args)
            real = result.output.splitlines()
            assert result.exit_code == exit_code and output_matches(shown, real, times_vary), (
                f"{item.where}: meditate {shlex.join(args)} exited {result.exit_code} and printed:\n"
                + "\n".join(real))
            self.done.append(" ".join(a for a in args if a.startswith("-") or a in ("client", "new", "validate", "render", "share",
                                                                                    "plan", "build", "voices")))


def check_illustrative(item: Item) -> None:
    """A console block that is not run: its commands must still be valid."""
    from meditations.cli.commands import main
    import click

    tasks = re.findall(r"^\s{4}([a-z]+)\)$", (ROOT / "run.sh").read_text(encoding="utf-8"), re.M)
    for words, _ in commands(item):
        if words[0] == "cd":
            continue
        assert words[0] == RUN_SH, f"{item.where}: only ./run.sh and cd commands may be shown"
        assert words[1] in tasks, f"{item.where}: run.sh has no task {words[1]!r} (it has {tasks})"
        if words[1] != "meditate" or words[2:] == ["--help"]:
            continue
        name, args = words[2], words[3:]
        command = main.get_command(click.Context(main), name)
        assert command is not None, f"{item.where}: meditate has no command {name!r}"
        try:
            command.make_context(name, list(args), parent=click.Context(main, info_name="meditate"))
        except click.exceptions.Exit:
            pass  # --help
        except click.UsageError as exc:
            pytest.fail(f"{item.where}: meditate {shlex.join(words[2:])}: {exc}")


# ---------------------------------------------------------------- the walk

@pytest.fixture
def tutorial_folder(tmp_path, monkeypatch) -> Path:
    """The meditate folder as a new user has it: the bundled library in scripts/, nothing else."""
    folder = tmp_path / "meditate"
    shutil.copytree(ROOT / "scripts", folder / "scripts",
                    ignore=shutil.ignore_patterns("recordings", "evening-calm*", "try-out.yaml", "morning-breath*"))
    for parent in folder.resolve().parents:
        assert not (parent / "library.yaml").exists(), f"a stray {parent / 'library.yaml'} would change the examples"
    monkeypatch.chdir(folder)
    return folder


def test_the_guide_from_start_to_finish(tutorial_folder):
    walk = Walk(tutorial_folder)
    for item in ITEMS:
        walk.item(item)
    # The guide's promise, in order: scaffold, check, preview a chapter, a profile, a recording, the
    # client's set.
    path = ["new --template", "validate", "render --chapter", "client new", "profile", "record", "client build"]
    position = 0
    for step in walk.done:
        if position < len(path) and step.startswith(path[position]):
            position += 1
    assert position == len(path), f"the walk covered only {path[:position]} in order; it did {walk.done}"
    # What the guide says about the results.
    ana = tutorial_folder / "client_sets" / "Ana"
    assert sorted(p.name for p in ana.glob("*.mp3")) == ["evening-calm-ana.mp3", "four-seven-eight-breathing.mp3"]
    assert WELCOME in (ana / "evening-calm-ana.vtt").read_text(encoding="utf-8")  # the recorded line's text
    assert (ana / "HANDOUT.html").is_file() and (ana / "tracks.zip").is_file()
    assert not (tutorial_folder / "scripts" / "try-out.yaml").exists()
    # Nothing of Ana's is in the public library: not in its scripts, not in its output, and its build
    # (which reads scripts/ alone) would make no track of hers.
    public = [p for folder in ("scripts", "audio_out") for p in (tutorial_folder / folder).rglob("*") if p.is_file()]
    assert [p for p in public if "ana" in p.name.lower() or re.search(rb"\bAna\b", p.read_bytes())] == []
    planned = run_meditate(["build", "--dry-run", "--base-url", "https://example.org/library/"])
    assert planned.exit_code == 0 and "ana" not in planned.output.lower(), planned.output
    # The messages of section 10 that name the reader's own files are what meditate says about them.
    table = [_code(row[0]) for row in _table("messages")]
    for args, message in TABLE_MESSAGES:
        assert message in table, message
        result = run_meditate(args)
        assert result.exit_code != 0 and output_matches([f"...{message}"], result.output.splitlines()[-1:], True), \
            (args, result.output)


# Rows of the messages table, and a command that gives each in the tutorial folder at the end of the walk
# (times vary: the shortest length depends on the voice).
TABLE_MESSAGES = [
    (["render", "scripts/evening-calm.yaml", "--steps", "3-50"], "--steps 3-50: the script has steps 1 to 16"),
    (["render", "scripts/evening-calm.yaml", "--chapter", "Image"],
     "--chapter 'Image': no chapter of that name (chapters: 'Settling', 'The image', 'Returning')"),
    (["render", "--profile", "clients/Ana/profile.yaml", "--chapter", "Settling"],
     "--steps and --chapter preview one script at a time"),
    (["new", "scripts/evening-calm"],
     "scripts/evening-calm.yaml already exists; choose another name (nothing was changed)"),
    (["plan", "scripts/four-seven-eight-breathing.yaml", "--length", "30s"],
     "a length of 0:30.00 is too short: the fixed parts (speech, bells, counted breaths) need at least 5:15.51"),
]


# ---------------------------------------------------------------- the page itself

def test_the_page_has_the_examples_it_should():
    kinds = [item.directive[0] for item in ITEMS if item.directive]
    assert kinds.count("run") >= 8 and "record" in kinds and "shows" in kinds
    assert sum(1 for b in BLOCKS if b.expected) >= 3, "the YAML pitfalls are shown with their messages"
    for item in BLOCKS:
        if item.directive:
            kind = item.directive[0]
            assert (kind, item.lang) in {("file", "yaml"), ("shows", "yaml"), ("excerpt", "yaml"), ("run", "console"),
                                         ("folder", "text")}, \
                f"{item.where}: <!-- {kind} --> does not go with a ```{item.lang} block"


def _table(name: str) -> list[list[str]]:
    """The rows of the page's table NAME."""
    return table_rows(PAGE.read_text(encoding="utf-8"), name)


def test_the_messages_table_matches_the_engine():
    templates, texts = _message_templates(), _source_texts()
    rows = _table("messages")
    assert len(rows) >= 15
    assert [_code(row[0]) for row in rows if not _explained(_code(row[0]), templates, texts)] == []


def test_the_breathing_table_names_the_bundled_scripts():
    rows = _table("breathing")
    assert rows
    for row in rows:
        path = ROOT / _code(row[0])
        assert path.is_file(), row[0]
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["title"] == row[1]


def test_profiles_are_kept_out_of_git():
    """The guide tells the reader that git never picks up profiles/ (nor audio_out)."""
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "/profiles/" in ignored and "/audio_out/*" in ignored
