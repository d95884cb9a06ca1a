import pytest

from meditations.model.durations import parse_duration
from meditations.model.times import format_duration


@pytest.mark.parametrize("text, seconds", [
    ("500ms", 0.5), ("5s", 5.0), ("1.5s", 1.5), ("2m", 120.0), ("1m30s", 90.0), ("1h", 3600.0),
    ("10", 10.0), (3, 3.0), (2.5, 2.5), ("1h2m3s500ms", 3723.5), (" 5 s ", 5.0), ("-3s", -3.0),
])
def test_durations_parse(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "2m1h", "", "5x", "s", "1.2.3s", "5sms"])
def test_bad_durations_say_how_to_write_one(text):
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == f"'{text}' is not a duration: write it like 5s, 1.5s, 1m30s, 500ms or 1h"


@pytest.mark.parametrize("value, shown", [(None, "nothing"), (True, "true"), ([1], "a list")])
def test_non_text_durations(value, shown):
    with pytest.raises(ValueError) as info:
        parse_duration(value)
    assert str(info.value) == f"expected a duration such as 5s, 1m30s or 500ms, got {shown}"


def test_format_duration():
    assert format_duration(7.25) == "0:07.25"
    assert format_duration(723.5) == "12:03.50"
    assert format_duration(3723) == "1:02:03.00"
