"""The one formatter of times (model/times.py): the forms the page, the feed, the playlist and transcripts use."""

import pytest

from meditations.model.times import clock, whole_seconds


@pytest.mark.parametrize("seconds, hours, millis, expected", [
    (0, "when-needed", False, "0:00"),
    (59.9, "when-needed", False, "0:59"),  # cut down, as players show times
    (3725.25, "when-needed", False, "1:02:05"),
    (600, "always", False, "0:10:00"),  # the loader's limits
    (3725.25, "two-digit", False, "01:02:05"),
    (3723.2496, "two-digit", True, "01:02:03.250"),  # WebVTT: rounded to the millisecond
    (59.9996, "two-digit", True, "00:01:00.000"),
])
def test_clock_forms(seconds, hours, millis, expected):
    assert clock(seconds, hours, millis) == expected


def test_whole_seconds_round_half_up():
    assert [whole_seconds(s) for s in (0.49, 0.5, 1.5, 2.5, 599.999)] == [0, 1, 2, 3, 600]
