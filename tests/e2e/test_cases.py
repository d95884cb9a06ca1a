"""Golden cases: each file of tests/cases/ is a script followed by the timeline `meditate plan --json` gives
for it, in comment lines starting `#| ` (the loader ignores them). A new case is one file: write the script,
then fill in its expected plan with

    MEDITATE_UPDATE_CASES=1 ./run.sh test tests/e2e/test_cases.py

and read the plan before committing it: it is what the test will hold the planner to."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from meditations.cli import main

CASES = Path(__file__).resolve().parents[1] / "cases"
MARK = "#| "


def split_case(text: str) -> tuple[str, str]:
    """The script part of a case file, and the expected plan's JSON text ('' when not yet written)."""
    script = [line for line in text.splitlines() if not line.startswith(MARK.rstrip())]
    expected = [line[len(MARK):] for line in text.splitlines() if line.startswith(MARK)]
    return "\n".join(script).rstrip() + "\n", "\n".join(expected)


def planned(path: Path, tmp_path: Path) -> dict:
    script, _ = split_case(path.read_text(encoding="utf-8"))
    (tmp_path / path.name).write_text(script, encoding="utf-8")
    result = CliRunner().invoke(main, ["plan", str(tmp_path / path.name), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("case", sorted(CASES.glob("*.yaml")), ids=lambda p: p.stem)
def test_the_plan_of_each_case_is_as_written(case, tmp_path):
    plan = planned(case, tmp_path)
    script, expected = split_case(case.read_text(encoding="utf-8"))
    if os.environ.get("MEDITATE_UPDATE_CASES") == "1":
        lines = json.dumps(plan, indent=1, ensure_ascii=False).splitlines()
        case.write_text(script + "".join(f"{MARK}{line}\n" for line in lines), encoding="utf-8")
        return
    assert expected, f"{case.name} has no expected plan: run with MEDITATE_UPDATE_CASES=1 and read it"
    assert plan == json.loads(expected)


def test_a_case_file_splits_into_its_script_and_its_plan():
    assert split_case("title: A\nsteps: []\n#| {\n#|  \"a\": 1\n#| }\n") == ("title: A\nsteps: []\n", '{\n "a": 1\n}')
