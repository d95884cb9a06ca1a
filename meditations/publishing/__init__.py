"""Making the published files of a library: the playlist, the web page and the podcast feed (publish.py runs
them)."""

from .publish import PublishSettings, check_base_url, publish, write_if_changed

__all__ = ["PublishSettings", "check_base_url", "publish", "write_if_changed"]
