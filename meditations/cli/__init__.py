"""The meditate command line, over the engine's public calls: its commands (commands.py), options, messages
and progress display. Only this package imports click; the engine (every other package) never does."""

from . import clients  # noqa: F401 (registers `meditate client`)
from .commands import main

__all__ = ["main"]
