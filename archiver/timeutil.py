"""Timestamps: upstreams send ISO strings (with or without zone), float epoch seconds, epoch
milliseconds, or null. The archive stores ISO-8601 UTC text (``2023-12-06T02:41:14.616844Z``)
so that SQL string comparison orders correctly."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

# Epoch values above this are milliseconds (1e11 seconds is the year 5138).
_MILLIS_THRESHOLD = 1e11


def to_iso(value: Any) -> str | None:
    """Any upstream timestamp as ISO-8601 UTC ending in ``Z``; None if absent or unparseable."""
    if type(value) is float and 0.0 <= value < _MILLIS_THRESHOLD:
        # The common case (epoch seconds from ChatGPT), once per node of an import: same result
        # as the general path below, without its checks.
        return datetime.fromtimestamp(value, tz=UTC).isoformat(timespec="microseconds")[:-6] + "Z"
    dt = to_datetime(value)
    if dt is None:
        return None
    if dt.year >= 1000:  # isoformat is much faster than strftime and, from year 1000, the same
        return dt.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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


def utc_now_iso() -> str:
    return datetime.now(tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
