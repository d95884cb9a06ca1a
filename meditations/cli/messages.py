"""How engine errors reach the user: the lines of an error, and a batch that goes on past a failing item.

commands.py's MeditateGroup is the one boundary that maps what is left to exit codes."""

from __future__ import annotations

import click

from meditations.model import MeditateError, ScriptError


def error_lines(exc: MeditateError) -> list[str]:
    """An engine error as the lines a user sees: located problems as FILE:LINE:COL lines, anything else as
    'Error: ...'."""
    if isinstance(exc, ScriptError):
        return [str(problem) for problem in exc.problems]
    return [f"Error: {exc}"]


def report(exc: MeditateError) -> None:
    """Print an engine error on stderr."""
    for line in error_lines(exc):
        click.echo(line, err=True)


class Batch:
    """Runs each item of a command (a script to render or validate), reports each failure and goes on past
    it, and counts the failures (the command returns the count: MeditateGroup maps it to the exit code).

    `alone`: the command has one item, whose error ends it like any other error. `catch`: the errors that
    cost one item (others end the command). `deferred`: the failures are said together at the end."""

    def __init__(self, total: int, alone: bool = False, catch: type[MeditateError] = MeditateError,
                 deferred: bool = False):
        self.total = total
        self.alone = alone
        self.catch = catch
        self.deferred = deferred
        self.errors: list[MeditateError] = []

    def run(self, action, *args):
        """action(*args), or None when it raised an error of this batch's kind (reported, counted)."""
        try:
            return action(*args)
        except MeditateError as exc:
            if self.alone or not isinstance(exc, self.catch):
                raise
            self.errors.append(exc)
            if not self.deferred:
                report(exc)
            return None

    def finish(self, summary: bool = True) -> int:
        """Say the deferred failures and (with `summary`) how many items failed; returns that count."""
        if self.deferred:
            for exc in self.errors:
                report(exc)
        if self.errors and summary:
            click.echo(f"{len(self.errors)} of {self.total} scripts failed", err=True)
        return len(self.errors)
