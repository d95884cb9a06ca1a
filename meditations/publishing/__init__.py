"""Making the published files of a library: the playlist, the web page and the podcast feed (outputs.py runs
them); and the hand-over of one client's private set (handover.py): its private page and feed, a zip, a QR code
and a printable handout."""

from .common import HandOverSettings, PublishSettings
from .handover import hand_over
from .outputs import check_base_url, publish, write_if_changed

__all__ = ["HandOverSettings", "PublishSettings", "check_base_url", "hand_over", "publish", "write_if_changed"]
