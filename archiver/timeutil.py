"""Timestamps: upstreams send ISO strings (with or without zone), float epoch seconds, epoch
milliseconds, or null. The archive stores ISO-8601 UTC text (``2023-12-06T02:41:14.616844Z``)
so that SQL string comparison orders correctly."""

from __future__ import annotations

import functools
import math
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

# Epoch values above this are milliseconds (1e11 seconds is the year 5138).
_MILLIS_THRESHOLD = 1e11


def to_iso(value: Any) -> str | None:
    """Any upstream timestamp as ISO-8601 UTC ending in ``Z``; None if absent or unparseable."""
    if type(value) is float and 0.0 <= value < _MILLIS_THRESHOLD:
        return _epoch_iso(value)  # the common case, once per node of an import
    dt = to_datetime(value)
    if dt is None:
        return None
    if dt.year >= 1000:  # isoformat is much faster than strftime and, from year 1000, the same
        return dt.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Minutes since the epoch -> "YYYY-MM-DDTHH:MM:" (the nodes of a conversation share a few).
_minute_text: dict[int, str] = {}
_MINUTES_KEPT = 50_000


def _epoch_iso(value: float) -> str:
    """What ``datetime.fromtimestamp(value, UTC)`` prints, for epoch seconds from 0 to year 5138,
    at a third of its cost: the microseconds are rounded as CPython rounds them (the fraction
    times 10**6, half to even, carried into the seconds at 10**6) and the text up to the minute
    is looked up. A test compares the two on many values."""
    fraction, whole = math.modf(value)
    micro = round(fraction * 1e6)
    seconds = int(whole)
    if micro >= 1_000_000:
        micro -= 1_000_000
        seconds += 1
    minute, second = divmod(seconds, 60)
    prefix = _minute_text.get(minute)
    if prefix is None:
        if len(_minute_text) >= _MINUTES_KEPT:
            _minute_text.clear()
        day, in_day = divmod(minute, 1440)
        hour, minute_of_hour = divmod(in_day, 60)
        prefix = f"{date.fromordinal(_EPOCH_ORDINAL + day)}T{hour:02d}:{minute_of_hour:02d}:"
        _minute_text[minute] = prefix
    # %-formatting: measured 40% faster than the f-string here, once per node of an import.
    return "%s%02d.%06dZ" % (prefix, second, micro)  # noqa: UP031


def to_datetime(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = float(value)
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            return None
        if abs(seconds) >= _MILLIS_THRESHOLD:
            seconds /= 1000.0
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            return to_datetime(float(text))
        except ValueError:
            pass
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
        if dt.tzinfo is None:  # no zone means UTC on these upstreams
            dt = dt.replace(tzinfo=UTC)
        return dt.astimezone(UTC)
    return None


def to_epoch(value: Any) -> float | None:
    """Any upstream timestamp as epoch seconds (for ordering); None if absent or unparseable."""
    moment = to_datetime(value)
    return moment.timestamp() if moment is not None else None


def utc_now_iso() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# How far ahead of our clock an upstream time is still believed (clocks disagree a little).
FUTURE_SLACK = timedelta(days=1)


@functools.lru_cache(maxsize=8)
def trusted_until(now_iso: str) -> str:
    """The latest ``update_time`` believed at ``now_iso`` (ISO UTC, as ``utc_now_iso``): a
    later one is a bogus time (an export saying 2100), which must not make a copy look newer
    than every other."""
    now = datetime.strptime(now_iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return (now + FUTURE_SLACK).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` is delta-seconds or an HTTP-date; return seconds to wait (>= 0)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(tz=UTC)
    return max(0.0, (when - now).total_seconds())


def local_display(value: str | None) -> str | None:
    """An archived ISO timestamp as a person reads it, in this machine's time zone, to the
    minute: ``2023-12-06 15:30 IST``. None when it is not a timestamp."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # the archive's times are UTC
    try:
        local = moment.astimezone()
    except (OverflowError, OSError, ValueError):  # outside what the platform's clock knows
        return None
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or local.strftime("%z"))
