"""The parts of the command line behind cli.py: its options, its messages, its progress display.

Like cli.py, and unlike the engine (meditations/), these modules import click."""
