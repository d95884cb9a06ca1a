"""The tool's version: part of every cache key and fingerprint (and light to import)."""

__version__ = "0.3.0"
