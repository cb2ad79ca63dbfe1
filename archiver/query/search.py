"""Full-text search over message text (the ``messages_fts`` FTS5 index), best matches first.

The ranking runs on the index alone and only the top ``limit`` hits are joined to their
messages and conversations and given a snippet, so a search costs little more than a bare
``MATCH ... ORDER BY rank LIMIT n``. Filters (provider, role, since) join inside the ranking
query because they decide which hits make the top ``limit``.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from archiver.errors import InputError
from archiver.timeutil import to_iso

DEFAULT_LIMIT = 20
SNIPPET_TOKENS = 16
_ELLIPSIS = "…"

# What SQLite says when the query text is not valid FTS5 syntax.
_SYNTAX_ERRORS = ("fts5:", "no such column", "unterminated string", "unknown special query")
_RELATIVE_SINCE = re.compile(r"^(\d+)\s*d$")
_YEAR = re.compile(r"^\d{4}$")
_MAX_DAYS_AGO = 700_000  # from today, a few thousand years short of datetime's year 1
_YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# How ``archiver search`` tells a user to search words as typed; other callers say their own.
LITERAL_HINT = "pass --literal to search for the words exactly as typed"


class Executes(Protocol):
    """A sqlite3.Connection or a sqlite_utils.Database: anything with ``execute``."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


class SearchSyntaxError(InputError):
    """The query is not valid FTS5 syntax (exit code 2)."""


@dataclass(frozen=True)
class SearchHit:
    conversation_id: str
    title: str | None
    provider: str
    node_id: str
    role: str | None
    date: str | None  # the message's time, else the conversation's
    snippet: str
    rank: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def literal_query(text: str) -> str:
    """Each whitespace-separated term as an FTS5 string: the words are searched as typed,
    all of them required, with no operators, prefixes or column filters."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in text.split())


def parse_since(value: str, name: str = "--since") -> str:
    """``2024``, ``2024-05``, ``2024-05-17``, a full ISO time, or ``30d`` (days ago) → ISO UTC:
    the start of that period. ``name`` is how the error message calls the value."""
    text = value.strip()
    relative = _RELATIVE_SINCE.match(text)
    if relative:
        digits = relative[1].lstrip("0") or "0"
        # Checked before int(): timedelta overflows before year 1, and int() refuses a string
        # of thousands of digits; either would be a traceback instead of this message.
        if len(digits) > len(str(_MAX_DAYS_AGO)) or int(digits) > _MAX_DAYS_AGO:
            raise InputError(
                f"cannot read {name} {value!r}: at most {_MAX_DAYS_AGO}d (days ago) is possible"
            )
        start = datetime.now(tz=UTC) - timedelta(days=int(digits))
        return start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if _YEAR.match(text):
        text += "-01-01"
    elif _YEAR_MONTH.match(text):
        text += "-01"
    iso = to_iso(text) if not _looks_numeric(text) else None
    if iso is None:
        raise InputError(
            f"cannot read {name} {value!r}: use 2024, 2024-05, 2024-05-17, an ISO time or 30d"
        )
    return iso


def parse_until(value: str, name: str = "--until") -> str:
    """The end of the period ``value`` names (exclusive), as ISO UTC: ``2024`` ends where 2025
    starts, ``2024-05`` where June starts, ``2024-05-17`` at the next midnight; a full time or
    ``30d`` ends at that moment. Compare with ``<``."""
    text = value.strip()
    start = parse_since(text, name)
    moment = datetime.strptime(start, "%Y-%m-%dT%H:%M:%S.%fZ")
    try:
        if _YEAR.match(text):
            end = moment.replace(year=moment.year + 1)
        elif _YEAR_MONTH.match(text):
            end = (moment.replace(day=28) + timedelta(days=4)).replace(day=1)
        elif _DAY.match(text):
            end = moment + timedelta(days=1)
        else:
            return start
    except (OverflowError, ValueError):  # the period ends past year 9999: no upper bound
        return "9999-12-31T23:59:59.999999Z"
    return end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def search_messages(
    db: Executes,
    query: str,
    *,
    provider: str | None = None,
    role: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int = DEFAULT_LIMIT,
    literal: bool = False,
    highlight: tuple[str, str] = ("**", "**"),
    literal_hint: str = LITERAL_HINT,
) -> list[SearchHit]:
    """The ``limit`` best-ranked messages matching ``query`` (FTS5 syntax unless ``literal``).

    ``since`` and ``until`` are ISO UTC times (see ``parse_since``, ``parse_until``; ``until``
    is exclusive); messages without a time of their own are dated by their conversation.
    Raises SearchSyntaxError for a malformed query, whose message ends with ``literal_hint``."""
    match = literal_query(query) if literal else query.strip()
    if not match:
        raise InputError("the search query is empty")
    if limit < 1:
        raise InputError("--limit must be at least 1")
    joins, conditions, params = _filters(provider, role, since, until)
    ranking = (
        "SELECT messages_fts.rowid AS hit, messages_fts.rank AS score FROM messages_fts "
        f"{joins} WHERE messages_fts MATCH :match {conditions} "
        "ORDER BY messages_fts.rank LIMIT :limit"
    )
    sql = (
        f"WITH top AS ({ranking}) "
        "SELECT m.conversation_id, c.title, c.provider, m.id, m.role, "
        "coalesce(m.create_time, c.update_time, c.create_time), "
        f"snippet(messages_fts, 0, :open, :close, :ellipsis, {SNIPPET_TOKENS}), top.score "
        # CROSS JOIN fixes the loop order: left alone, the planner may scan every match again
        # and join each one before keeping the top few.
        "FROM top "
        "CROSS JOIN messages_fts ON messages_fts.rowid = top.hit AND messages_fts MATCH :match "
        "CROSS JOIN messages AS m ON m.rowid = top.hit "
        "CROSS JOIN conversations AS c ON c.id = m.conversation_id "
        "ORDER BY top.score, top.hit"
    )
    params.update(
        match=match, limit=limit, open=highlight[0], close=highlight[1], ellipsis=_ELLIPSIS
    )
    try:
        rows = db.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if any(marker in str(exc) for marker in _SYNTAX_ERRORS):
            raise SearchSyntaxError(_syntax_message(query, exc, literal_hint)) from None
        raise
    return [SearchHit(*row) for row in rows]


# Each filter's condition, over the hit's message (m) and conversation (c), by parameter name.
_FILTER_CONDITIONS = {
    "provider": "c.provider = :provider",
    "role": "m.role = :role",
    "since": "coalesce(m.create_time, c.update_time, c.create_time) >= :since",
    "until": "coalesce(m.create_time, c.update_time, c.create_time) < :until",
}


def _filters(
    provider: str | None, role: str | None, since: str | None, until: str | None
) -> tuple[str, str, dict[str, Any]]:
    given = {"provider": provider, "role": role, "since": since, "until": until}
    params: dict[str, Any] = {name: value for name, value in given.items() if value}
    if not params:
        return "", "", params
    joins = (
        "JOIN messages AS m ON m.rowid = messages_fts.rowid "
        "JOIN conversations AS c ON c.id = m.conversation_id"
    )
    conditions = " AND ".join(_FILTER_CONDITIONS[name] for name in params)
    return joins, "AND " + conditions, params


def _syntax_message(query: str, exc: sqlite3.OperationalError, literal_hint: str) -> str:
    if '"' in query:
        # Quoting a query that already has quotes gives `"""x"`, which helps nobody.
        return (
            f"cannot read the search {query!r} ({exc}): check that every double quote is "
            f"closed, or {literal_hint}."
        )
    quoted = literal_query(query)
    return (
        f"cannot read the search {query!r} ({exc}). Words with punctuation need double quotes, "
        f"as in {quoted}; or {literal_hint}."
    )
