"""Reading a documentation page's fenced blocks and the HTML-comment directives above them (shared by the
tests that check every example of docs/script-format.md and docs/writing-scripts.md)."""

from __future__ import annotations

import re

DIRECTIVE = re.compile(r"<!--\s*([a-z-]+)\s*(?::\s*(.*?))?\s*-->")
FENCE = re.compile(r"^```(\w*)\s*$")


def directive_of(line: str) -> tuple[str, str] | None:
    """("file", "x.yaml") for a line `<!-- file: x.yaml -->`, else None."""
    found = DIRECTIVE.fullmatch(line.strip())
    return (found.group(1), (found.group(2) or "").strip()) if found else None


def read_fence(lines: list[str], start: int, page: str) -> tuple[str, str, tuple[str, str] | None, int]:
    """The fenced block opening at lines[start]: (language, text, directive above it, closing line index)."""
    lang = FENCE.match(lines[start]).group(1)
    end = start + 1
    while end < len(lines) and lines[end].rstrip() != "```":
        end += 1
    assert end < len(lines), f"{page}:{start + 1}: fence never closed"
    directive = directive_of(lines[start - 1]) if start > 0 else None
    return lang, "\n".join(lines[start + 1:end]) + "\n", directive, end


def table_rows(page_text: str, name: str) -> list[list[str]]:
    """The rows (cells) of the Markdown table right after <!-- table: NAME -->, header excluded."""
    lines = page_text.splitlines()
    marker = f"<!-- table: {name} -->"
    assert marker in lines, f"the page has no {marker}"
    rows = []
    for line in lines[lines.index(marker) + 1:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]])
    assert len(rows) > 2, f"table {name} is empty"
    return rows[2:]  # header and separator


def as_script(text: str) -> str:
    """A piece of a script made into a minimal complete script (a complete one is left as it is)."""
    import textwrap

    import yaml

    data = yaml.safe_load(text)
    if isinstance(data, list):
        return "title: Example\nsteps:\n" + textwrap.indent(text, "  ")
    assert isinstance(data, dict), f"a yaml example must be a mapping or a list, got {type(data).__name__}"
    if "title" not in data:
        text = "title: Example\n" + text
    if "steps" not in data:
        text += "steps:\n  - say: Hello.\n"
    return text
