"""Publishing from a manifest alone: the playlist's lines, and the settings refused before anything is written."""

from __future__ import annotations

import pytest

from meditations.model import MeditateError
from meditations.publishing import PublishSettings, publish


def test_playlist_without_artist_and_with_a_multi_line_title(tmp_path):
    (tmp_path / "a.mp3").write_bytes(b"x")
    manifest = {"tracks": [{"title": "Two\nlines", "file": "a.mp3", "duration": 61.5, "size": 1},
                           {"title": "Gone", "file": "missing.mp3", "duration": 3, "size": 1}]}
    publish(tmp_path, manifest, PublishSettings())
    assert (tmp_path / "library.m3u8").read_text() == "#EXTM3U\n#PLAYLIST:Meditations\n#EXTINF:62,Two lines\na.mp3\n"


@pytest.mark.parametrize("url", ["ftp://example.org/", "example.org/med", "https://", "/med/", "",
                                 "https://exa mple.org/", "https://example.org/?page=2"])
def test_base_url_must_be_a_web_address(tmp_path, url):
    with pytest.raises(MeditateError, match="must start with http:// or https://"):
        publish(tmp_path, {"tracks": []}, PublishSettings(base_url=url))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("cover", ["missing.png", "../cover.png", "/etc/hostname"])
def test_cover_must_be_a_file_inside_the_output(tmp_path, cover):
    with pytest.raises(MeditateError, match="no such image inside"):
        publish(tmp_path, {"tracks": []}, PublishSettings(cover=cover))
