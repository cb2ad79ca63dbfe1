"""The HTML form's local times, in the account's locale, as UTC."""

from __future__ import annotations

import pytest

from archiver.providers.gemini.times import TimeFormatError, local_to_utc


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        # en-US, as the real 2026 page writes them
        ("Aug 8, 2026, 6:39:27 PM CEST", "2026-08-08T16:39:27.000000Z"),
        ("Apr 29, 2025, 10:25:51 AM CEST", "2025-04-29T08:25:51.000000Z"),
        ("Jan 3, 2026, 12:05:00 AM CET", "2026-01-02T23:05:00.000000Z"),
        ("Jan 3, 2026, 12:05:00 PM CET", "2026-01-03T11:05:00.000000Z"),
        ("Apr 12, 2026, 3:34:31 PM EDT", "2026-04-12T19:34:31.000000Z"),
        # newer locale data: a narrow no-break space before PM
        ("Aug 8, 2026, 6:39:27\u202fPM CEST", "2026-08-08T16:39:27.000000Z"),
        # en-GB: day first, 24 hours, "Sept"
        ("8 Jun 2025, 13:37:50 BST", "2025-06-08T12:37:50.000000Z"),
        ("18 Sept 2024, 00:12:50 BST", "2024-09-17T23:12:50.000000Z"),
        ("2 Dec 2025, 09:00:01 GMT", "2025-12-02T09:00:01.000000Z"),
        ("2 Dec 2025, 09:00:01 GMT+05:30", "2025-12-02T03:30:01.000000Z"),
        ("2 Dec 2025, 09:00:01 UTC-3", "2025-12-02T12:00:01.000000Z"),
        # an ISO time (the JSON form's) passes through
        ("2026-08-08T16:39:27.123Z", "2026-08-08T16:39:27.123000Z"),
    ],
)
def test_local_times_to_utc(text: str, utc: str) -> None:
    assert local_to_utc(text) == utc


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("10 de mai. de 2026, 03:46:09 BRT", "form"),  # pt-BR: another language
        ("8 Juni 2025, 13:37:50 MESZ", "month"),  # de: a month this reader does not know
        ("8 Jun 2025, 13:37:50 IST", "zone"),  # India, Ireland or Israel: not guessed
        ("Feb 30, 2026, 1:00:00 PM CET", "not a date"),
        ("Aug 8, 2026, 13:39:27 PM CEST", "hour"),
    ],
)
def test_times_not_read_say_why(text: str, says: str) -> None:
    with pytest.raises(TimeFormatError, match=says):
        local_to_utc(text)
