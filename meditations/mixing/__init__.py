"""Mixing: the timeline played into audio block by block (foreground.py), with its bed ducked under speech
(bed.py), and finished with one gain, a smooth limiter and fades (finish.py) in the one mixing pass."""

from .finish import Levels, finished_blocks, measure

__all__ = ["Levels", "finished_blocks", "measure"]
