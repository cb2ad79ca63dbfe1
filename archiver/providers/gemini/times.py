"""The times a Takeout's HTML activity page writes, as UTC (pure).

The page writes the account's local time, in the account's locale, to the second, with a zone
abbreviation: en-US ``Aug 8, 2026, 6:39:27 PM CEST``, en-GB ``8 Jun 2025, 13:37:50 BST`` or
``18 Sept 2024, 00:12:50 BST``. The abbreviation gives the offset (no time-zone database is
needed, and none could say which zone an abbreviation means better than this table). Newer
locale data puts a narrow no-break space before ``PM``; ISO times (the JSON form's) pass too.

An abbreviation that means several zones (``IST``: India, Ireland, Israel) is not guessed: the
entry is reported with the zone it used, and the rest imports."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from archiver.timeutil import to_iso


class TimeFormatError(ValueError):
    """A time this reader does not know (another language, an unknown zone)."""


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}

# Zone abbreviations Google's English locales write, in hours from UTC.
ZONE_HOURS: dict[str, float] = {
    "UTC": 0,
    "GMT": 0,
    "WET": 0,
    "WEST": 1,
    "BST": 1,
    "CET": 1,
    "CEST": 2,
    "MET": 1,
    "MEST": 2,
    "EET": 2,
    "EEST": 3,
    "MSK": 3,
    "EST": -5,
    "EDT": -4,
    "CST": -6,
    "CDT": -5,
    "MST": -7,
    "MDT": -6,
    "PST": -8,
    "PDT": -7,
    "AKST": -9,
    "AKDT": -8,
    "HST": -10,
    "AST": -4,
    "ADT": -3,
    "NST": -3.5,
    "NDT": -2.5,
    "BRT": -3,
    "ART": -3,
    "JST": 9,
    "KST": 9,
    "HKT": 8,
    "SGT": 8,
    "AWST": 8,
    "ACST": 9.5,
    "ACDT": 10.5,
    "AEST": 10,
    "AEDT": 11,
    "NZST": 12,
    "NZDT": 13,
    "SAST": 2,
    "WAT": 1,
    "CAT": 2,
    "EAT": 3,
}
_OFFSET = re.compile(r"^(?:GMT|UTC)(?:([+-−])(\d{1,2})(?::?(\d{2}))?)?$")
_CLOCK = r"(?P<h>\d{1,2}):(?P<m>\d{2}):(?P<s>\d{2})\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?"
_US = re.compile(
    rf"^(?P<mon>[A-Za-z]+)\.? (?P<day>\d{{1,2}}),? (?P<year>\d{{4}}),?(?: at)? {_CLOCK}\s+(?P<zone>\S+)$"
)
_GB = re.compile(
    rf"^(?P<day>\d{{1,2}}) (?P<mon>[A-Za-z]+)\.? (?P<year>\d{{4}}),?(?: at)? {_CLOCK}\s+(?P<zone>\S+)$"
)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")


def zone_offset(zone: str) -> timedelta:
    """The offset a zone abbreviation (``CEST``) or a numeric zone (``GMT+5:30``) means."""
    hours = ZONE_HOURS.get(zone.upper())
    if hours is not None:
        return timedelta(hours=hours)
    match = _OFFSET.match(zone.upper())
    if match is None:
        raise TimeFormatError(f"unknown time zone {zone!r}")
    if match[1] is None:
        return timedelta(0)
    sign = -1 if match[1] in "-−" else 1
    return sign * timedelta(hours=int(match[2]), minutes=int(match[3] or 0))


def local_to_utc(text: str) -> str:
    """A page's time (or an ISO time) → ISO-8601 UTC. Raises TimeFormatError."""
    cleaned = _SPACES.sub(" ", text).strip()
    match = _US.match(cleaned) or _GB.match(cleaned)
    if match is None:
        iso = to_iso(cleaned) if cleaned[:4].isdigit() and "-" in cleaned[:8] else None
        if iso is None:
            raise TimeFormatError(f"a time in a form archiver does not read: {cleaned[:60]!r}")
        return iso
    month = _MONTHS.get(match["mon"].lower())
    if month is None:
        raise TimeFormatError(f"unknown month {match['mon']!r} in {cleaned[:60]!r}")
    hour = int(match["h"])
    ampm = (match["ampm"] or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise TimeFormatError(f"hour {hour} with {ampm.upper()} in {cleaned[:60]!r}")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        local = datetime(
            int(match["year"]), month, int(match["day"]), hour, int(match["m"]), int(match["s"])
        )
    except ValueError:
        raise TimeFormatError(f"not a date: {cleaned[:60]!r}") from None
    utc = local - zone_offset(match["zone"])
    return utc.isoformat(timespec="microseconds") + "Z"


__all__ = ["ZONE_HOURS", "TimeFormatError", "local_to_utc", "zone_offset"]
