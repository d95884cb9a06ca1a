"""Formats an MP3 cannot have are refused when a script is loaded, located, never at the encoder."""

from __future__ import annotations

import pytest

from meditations.loading import Settings, load, load_script
from meditations.model import RenderError, ScriptError

MPEG1 = "32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320"


@pytest.mark.parametrize("bitrate", [8, 16, 24, 144])
def test_mpeg2_only_bitrates_are_refused_from_32000_hz_up(write, bitrate):
    path = write("s.yaml", f"title: x\naudio: {{bitrate: {bitrate}}}\nsteps:\n  - say: Hi.\n")
    with pytest.raises(ScriptError) as caught:
        load_script(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:2:18: a bitrate of {bitrate} kbit/s is not possible at 44100 Hz (from 32000 Hz up: {MPEG1})"]


def test_the_same_bitrate_is_fine_at_a_low_sample_rate(write):
    path = write("s.yaml", "title: x\naudio: {sample_rate: 22050, bitrate: 144}\nsteps:\n  - say: Hi.\n")
    assert load_script(path).audio.bitrate == 144


def test_a_bitrate_from_outside_the_script_is_checked_once_laid_over_it(write):
    path = write("s.yaml", "title: x\nsteps:\n  - say: Hi.\n")
    with pytest.raises(RenderError) as caught:
        load(path, Settings(bitrate=24))
    assert str(caught.value) == f"{path}: a bitrate of 24 kbit/s is not possible at 44100 Hz (from 32000 Hz up: {MPEG1})"
