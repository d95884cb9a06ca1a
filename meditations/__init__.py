"""meditate: YAML meditation scripts in, finished guided-meditation tracks out."""

__version__ = "0.3.0"
