"""The command line surface: help everywhere, version, usage errors (exit 2), --set checks."""

import pytest
from click.testing import CliRunner

from meditations.cli.commands import main
from meditations.version import __version__


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: main {command}")
    assert main.commands[command].help


def test_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.stdout == f"meditate, version {__version__}\n"


def test_missing_argument_is_a_usage_error():
    result = CliRunner().invoke(main, ["render"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: name the scripts to render, or a client --profile"


def test_malformed_set(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Hi.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--set", "name"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == \
        "Error: Invalid value for '--set': 'name' is not KEY=VALUE (for example --set name=Ana)"


def test_set_of_a_variable_the_script_does_not_have(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nvariables: {name: friend}\nsteps:\n  - say: Hi {name}.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--set", "nmae=Ana"])
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == "Error: --set nmae: s.yaml has no variable 'nmae' (its variables: name)"


def test_set_fills_a_placeholder_without_a_default(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nsteps:\n  - say: Hi {client}.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--json", "--set", "client=Ana"])
    assert result.exit_code == 0, result.stderr
    assert '"text": "Hi Ana."' in result.stdout


def test_set_with_nothing_after_the_equals_sign_leaves_the_name_out(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: x\nvariables: {name: friend}\nsteps:\n  - say: Hi, {name}.\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["plan", "s.yaml", "--json", "--set", "name="])
    assert result.exit_code == 0, result.stderr
    assert '"text": "Hi."' in result.stdout


def test_voices_lists_english(tmp_path):
    result = CliRunner().invoke(main, ["voices"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert any(line.split()[:3] == ["pyttsx3", "gmw/en-us", "en-us"] for line in lines)
    assert any(line.split()[:5] == ["piper", "en_US-joe-medium", "en-us", "22050", "Hz"] for line in lines)
    assert len(lines) > 50


def test_debug_is_off_by_default_no_traceback(tmp_path, monkeypatch):
    (tmp_path / "s.yaml").write_text("title: [\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["render", "s.yaml"])
    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("s.yaml:")
