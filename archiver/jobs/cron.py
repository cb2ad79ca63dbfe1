"""Cron expressions: parse and validate the classic 5 fields, match times, convert to systemd.

Supported per field: ``*``, numbers, ranges ``a-b``, steps ``*/n`` and ``a-b/n``, lists ``a,b``,
month and weekday names (``jan``, ``mon-fri``), weekday 7 for Sunday, and the macros
``@hourly @daily @midnight @weekly @monthly @yearly @annually``. As in Vixie cron, when both the
day of month and the weekday are restricted (neither starts with ``*``) a day matching EITHER
runs the job."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from archiver.errors import ConfigError

MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
WEEKDAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
SYSTEMD_WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]


@dataclass(frozen=True)
class FieldSpec:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()  # names[i] means low + i

    def value(self, token: str, expression: str) -> int:
        lowered = token.lower()
        if self.names and lowered in self.names:
            return self.low + self.names.index(lowered)
        if not token.isdigit():
            raise _error(expression, f"{self.name}: {token!r} is not a number")
        number = int(token)
        if not self.low <= number <= self.high:
            raise _error(
                expression, f"{self.name}: {number} is out of range {self.low}-{self.high}"
            )
        return number


FIELDS = (
    FieldSpec("minute", 0, 59),
    FieldSpec("hour", 0, 23),
    FieldSpec("day of month", 1, 31),
    FieldSpec("month", 1, 12, tuple(MONTH_NAMES)),
    FieldSpec("day of week", 0, 7, tuple(WEEKDAY_NAMES)),
)


@dataclass(frozen=True)
class CronField:
    spec: FieldSpec
    text: str
    values: frozenset[int]

    @property
    def starred(self) -> bool:
        """Vixie cron's rule: a field starting with ``*`` does not restrict the day."""
        return self.text.startswith("*")

    @property
    def is_all(self) -> bool:
        return self.values == frozenset(range(self.spec.low, self.spec.high + 1))


@dataclass(frozen=True)
class CronSchedule:
    expression: str  # as written (a macro stays a macro)
    minute: CronField
    hour: CronField
    day: CronField
    month: CronField
    weekday: CronField  # values 0-6, Sunday is 0

    @property
    def fields_text(self) -> str:
        """The 5 fields, macros expanded: what a crontab line starts with."""
        return " ".join(
            f.text for f in (self.minute, self.hour, self.day, self.month, self.weekday)
        )

    def day_matches(self, when: datetime) -> bool:
        weekday = (when.weekday() + 1) % 7  # Python: Monday 0; cron: Sunday 0
        day_ok = when.day in self.day.values
        weekday_ok = weekday in self.weekday.values
        if not self.day.starred and not self.weekday.starred:
            return day_ok or weekday_ok
        return day_ok and weekday_ok

    def matches(self, when: datetime) -> bool:
        return (
            when.minute in self.minute.values
            and when.hour in self.hour.values
            and when.month in self.month.values
            and self.day_matches(when)
        )

    def next_after(self, when: datetime) -> datetime:
        """The first matching minute strictly after ``when`` (same time zone as ``when``)."""
        candidate = when.replace(second=0, microsecond=0) + timedelta(minutes=1)
        for _ in range(366 * 5):  # every schedule matches within 5 years (Feb 29 leaps)
            if candidate.month in self.month.values and self.day_matches(candidate):
                for hour in sorted(h for h in self.hour.values if h >= candidate.hour):
                    first = candidate.minute if hour == candidate.hour else 0
                    minutes = sorted(m for m in self.minute.values if m >= first)
                    if minutes:
                        return candidate.replace(hour=hour, minute=minutes[0])
            candidate = (candidate + timedelta(days=1)).replace(hour=0, minute=0)
        raise ValueError(f"schedule {self.expression!r} never matches")  # parse_cron refuses it


def _error(expression: str, message: str) -> ConfigError:
    return ConfigError(f"schedule {expression!r}: {message}")


_ITEM = re.compile(r"^(?P<range>\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:/(?P<step>[0-9]+))?$")


def _parse_field(spec: FieldSpec, text: str, expression: str) -> CronField:
    values: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        if not match:
            raise _error(expression, f"{spec.name}: cannot read {item!r}")
        part, step_text = match["range"], match["step"]
        if part == "*":
            low, high = spec.low, spec.high
        elif "-" in part:
            first, last = part.split("-", 1)
            low, high = spec.value(first, expression), spec.value(last, expression)
            if low > high:
                raise _error(expression, f"{spec.name}: range {item!r} runs backwards")
        else:
            if step_text is not None:
                raise _error(expression, f"{spec.name}: a step needs * or a range ({item!r})")
            low = high = spec.value(part, expression)
        step = 1
        if step_text is not None:
            step = int(step_text)
            if step < 1:
                raise _error(expression, f"{spec.name}: step must be at least 1 ({item!r})")
        values.update(range(low, high + 1, step))
    if spec.name == "day of week" and 7 in values:  # 7 is Sunday too
        values = (values - {7}) | {0}
        spec = FieldSpec(spec.name, 0, 6, spec.names)
    elif spec.name == "day of week":
        spec = FieldSpec(spec.name, 0, 6, spec.names)
    return CronField(spec, text, frozenset(values))


def parse_cron(expression: str) -> CronSchedule:
    """Parse and validate a 5-field cron expression (or a macro); ConfigError says what is wrong."""
    if not isinstance(expression, str) or not expression.strip():
        raise ConfigError("schedule must be a cron expression such as '30 2 * * *'")
    written = expression.strip()
    text = MACROS.get(written.lower(), written)
    if text.startswith("@"):
        raise _error(written, f"unsupported macro (use one of {', '.join(MACROS)})")
    parts = text.split()
    if len(parts) != 5:
        raise _error(
            written,
            f"needs 5 fields (minute hour day-of-month month day-of-week), got {len(parts)}",
        )
    fields = [_parse_field(spec, part, written) for spec, part in zip(FIELDS, parts, strict=True)]
    schedule = CronSchedule(written, *fields)
    try:  # "0 0 31 2 *" parses but never runs: say so when the job file is read
        schedule.next_after(datetime(2000, 1, 1))
    except ValueError:
        raise _error(written, "never matches a date (check the day and month)") from None
    return schedule


# --- systemd OnCalendar -------------------------------------------------------------------------


def _component(field: CronField, width: int = 2) -> str:
    """One OnCalendar component: ``*``, ``0/15``, or a list of values and ``a..b`` ranges."""
    if field.is_all:
        return "*"
    values = sorted(field.values)
    if len(values) > 2:
        step = values[1] - values[0]
        progression = list(range(values[0], field.spec.high + 1, step))
        if step > 1 and values == progression:
            return f"{values[0]:0{width}d}/{step}"
    return ",".join(_ranges(values, lambda v: f"{v:0{width}d}"))


def _ranges(values: list[int], fmt: Callable[[int], str]) -> list[str]:
    """Consecutive runs of three or more become ``a..b``."""
    out: list[str] = []
    start = prev = values[0]
    for value in [*values[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        if prev - start >= 2:
            out.append(f"{fmt(start)}..{fmt(prev)}")
        else:
            out.extend(fmt(v) for v in range(start, prev + 1))
        if value is not None:
            start = prev = value
    return out


def to_on_calendar(schedule: CronSchedule) -> str:
    """The systemd ``OnCalendar=`` value equivalent to the cron schedule (in local time, like
    cron). Raises ConfigError for the one form systemd cannot say: a restricted day of month AND
    a restricted weekday, which cron treats as "either"."""
    if not schedule.day.starred and not schedule.weekday.starred:
        raise ConfigError(
            f"schedule {schedule.expression!r} restricts both the day of month and the weekday: "
            "cron runs on EITHER, systemd only on days matching BOTH; split it into two jobs "
            "(one per field) or use crontab"
        )
    weekday = ""
    if not schedule.weekday.is_all and schedule.weekday.values:
        # Monday-first order so that Mon..Fri compresses into one range.
        monday_first = sorted((v + 6) % 7 for v in schedule.weekday.values)
        weekday = ",".join(_ranges(monday_first, lambda v: SYSTEMD_WEEKDAYS[(v + 1) % 7])) + " "
    date = f"*-{_component(schedule.month)}-{_component(schedule.day)}"
    time = f"{_component(schedule.hour)}:{_component(schedule.minute)}:00"
    return f"{weekday}{date} {time}"
