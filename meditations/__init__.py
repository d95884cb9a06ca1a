"""meditate: YAML meditation scripts in, finished guided-meditation tracks out."""

from .version import __version__

__all__ = ["__version__"]
