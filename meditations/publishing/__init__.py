"""Making the published files of a library: the playlist, the web page and the podcast feed (outputs.py runs
them)."""

from .common import PublishSettings
from .outputs import check_base_url, publish, write_if_changed

__all__ = ["PublishSettings", "check_base_url", "publish", "write_if_changed"]
