from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.timeutil import parse_retry_after, to_iso


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2023-04-06T19:55:21.620368", "2023-04-06T19:55:21.620368Z"),
        ("2023-12-06T02:41:14.616844+00:00", "2023-12-06T02:41:14.616844Z"),
        ("2023-12-06T02:41:14.616Z", "2023-12-06T02:41:14.616000Z"),
        ("2023-04-06T12:27:51", "2023-04-06T12:27:51.000000Z"),
        ("2023-12-06T04:41:14+02:00", "2023-12-06T02:41:14.000000Z"),
        (1701830474.616844, "2023-12-06T02:41:14.616844Z"),
        (1701830474616, "2023-12-06T02:41:14.616000Z"),  # milliseconds (Bing)
        ("1701830474", "2023-12-06T02:41:14.000000Z"),
        (None, None),
        ("", None),
        ("yesterday", None),
        (True, None),
        (float("nan"), None),
        ({"a": 1}, None),
    ],
)
def test_every_timestamp_form_normalises_to_utc(value, expected):
    assert to_iso(value) == expected


def test_retry_after_seconds_and_http_date():
    now = datetime(2024, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _datetime_text(value: float) -> str:
    return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="microseconds")[:-6] + "Z"


@given(st.floats(min_value=0.0, max_value=1e11, exclude_max=True))
@settings(max_examples=3000)
def test_epoch_seconds_print_as_datetime_prints_them(value):
    assert to_iso(value) == _datetime_text(value)


@pytest.mark.parametrize(
    "value",
    [
        0.0,
        0.5e-6,  # half a microsecond: rounds to even (0)
        1.5e-6,  # rounds to even (2)
        86399.9999999,  # rounds up into the next day
        1700000000.9999995,  # rounds up into the next second
        1701830474.616844,
        1e11 - 1e-3,
    ],
)
def test_epoch_rounding_edges(value):
    assert to_iso(value) == _datetime_text(value)


def test_a_time_a_day_past_now_is_the_latest_believed():
    from archiver.timeutil import trusted_until

    assert trusted_until("2026-12-31T23:00:00.000000Z") == "2027-01-01T23:00:00.000000Z"
