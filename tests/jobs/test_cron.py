"""Cron expressions: validation, matching, and the systemd OnCalendar conversion."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import datetime

import pytest

from archiver.errors import ConfigError
from archiver.jobs.cron import parse_cron, to_on_calendar


@pytest.mark.parametrize(
    ("expression", "minute", "hour", "day", "month", "weekday"),
    [
        ("30 2 * * *", {30}, {2}, set(range(1, 32)), set(range(1, 13)), set(range(7))),
        (
            "*/20 9-17/4 1,15 jan-mar mon-fri",
            {0, 20, 40},
            {9, 13, 17},
            {1, 15},
            {1, 2, 3},
            {1, 2, 3, 4, 5},
        ),
        ("0 0 * * 7", {0}, {0}, set(range(1, 32)), set(range(1, 13)), {0}),
        ("0 0 * * 5-7", {0}, {0}, set(range(1, 32)), set(range(1, 13)), {5, 6, 0}),
        ("@hourly", {0}, set(range(24)), set(range(1, 32)), set(range(1, 13)), set(range(7))),
        ("@weekly", {0}, {0}, set(range(1, 32)), set(range(1, 13)), {0}),
    ],
)
def test_fields(expression, minute, hour, day, month, weekday):
    schedule = parse_cron(expression)
    assert schedule.minute.values == minute
    assert schedule.hour.values == hour
    assert schedule.day.values == day
    assert schedule.month.values == month
    assert schedule.weekday.values == weekday
    assert len(schedule.fields_text.split()) == 5


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("", "cron expression"),
        ("* * * *", "needs 5 fields"),
        ("* * * * * *", "needs 5 fields"),
        ("60 * * * *", "minute: 60 is out of range 0-59"),
        ("* 24 * * *", "hour: 24"),
        ("* * 0 * *", "day of month: 0"),
        ("* * * 13 *", "month: 13"),
        ("* * * * 8", "day of week: 8"),
        ("* * * foo *", "'foo' is not a number"),
        ("10-5 * * * *", "runs backwards"),
        ("*/0 * * * *", "step must be at least 1"),
        ("5/10 * * * *", "a step needs * or a range"),
        ("1,,2 * * * *", "cannot read ''"),
        ("@reboot", "unsupported macro"),
        ("0 0 31 2 *", "never matches a date"),  # February has no 31st
    ],
)
def test_invalid(expression, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_cron(expression)


def test_day_of_month_or_weekday_when_both_restricted():
    schedule = parse_cron("0 12 13 * fri")  # the 13th, and every Friday (cron's OR)
    assert schedule.matches(datetime(2024, 9, 13, 12, 0))  # Friday the 13th
    assert schedule.matches(datetime(2024, 9, 6, 12, 0))  # a Friday
    assert schedule.matches(datetime(2024, 8, 13, 12, 0))  # a Tuesday the 13th
    assert not schedule.matches(datetime(2024, 9, 7, 12, 0))
    starred = parse_cron("0 12 */2 * fri")  # a starred field: both must match
    assert not starred.matches(datetime(2024, 9, 6, 12, 0))  # Friday the 6th: even day


def test_next_after():
    schedule = parse_cron("30 2 * * mon-fri")
    assert schedule.next_after(datetime(2024, 9, 6, 2, 30)) == datetime(2024, 9, 9, 2, 30)
    assert schedule.next_after(datetime(2024, 9, 9, 1, 0)) == datetime(2024, 9, 9, 2, 30)
    leap = parse_cron("0 0 29 2 *")
    assert leap.next_after(datetime(2024, 3, 1)) == datetime(2028, 2, 29)


@pytest.mark.parametrize(
    ("expression", "on_calendar"),
    [
        ("30 2 * * *", "*-*-* 02:30:00"),
        ("*/15 * * * *", "*-*-* *:00/15:00"),
        ("0 9-17 * * mon-fri", "Mon..Fri *-*-* 09..17:00:00"),
        ("0 4 1 * *", "*-*-01 04:00:00"),
        ("0 0 * * sat,sun", "Sat,Sun *-*-* 00:00:00"),
        ("@monthly", "*-*-01 00:00:00"),
        ("0 3 */2 */3 *", "*-01/3-01/2 03:00:00"),
        ("5,35 1-10/3 * * *", "*-*-* 01,04,07,10:05,35:00"),
    ],
)
def test_on_calendar(expression, on_calendar):
    assert to_on_calendar(parse_cron(expression)) == on_calendar


def test_on_calendar_refuses_day_or_weekday():
    with pytest.raises(ConfigError, match="EITHER"):
        to_on_calendar(parse_cron("0 0 1 * mon"))


CALENDAR_CASES = [
    "30 2 * * *",
    "*/15 * * * *",
    "0 9-17 * * mon-fri",
    "0 4 1 * *",
    "0 0 * * sat,sun",
    "0 3 */2 */3 *",
    "5,35 1-10/3 * * *",
    "0 0 29 2 *",
]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
@pytest.mark.parametrize("expression", CALENDAR_CASES)
def test_systemd_agrees_with_cron(expression):
    """systemd's next elapses from a fixed base time are exactly cron's next matches."""
    schedule = parse_cron(expression)
    base = datetime(2024, 1, 1, 0, 0)
    proc = subprocess.run(
        [
            "systemd-analyze",
            "calendar",
            "--iterations=6",
            "--base-time=2024-01-01 00:00:00 UTC",
            to_on_calendar(schedule),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC"},
        check=False,
    )
    if proc.returncode != 0 and "base-time" in proc.stderr:
        pytest.skip("this systemd-analyze has no --base-time")
    assert proc.returncode == 0, proc.stderr
    elapses = [
        datetime.strptime(m, "%Y-%m-%d %H:%M:%S")
        for m in re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\S+ \S+)", proc.stdout)
    ]
    expected = []
    when = base
    for _ in elapses:
        when = schedule.next_after(when)
        expected.append(when)
    assert len(elapses) == 6
    assert elapses == expected
