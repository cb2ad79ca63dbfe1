"""Which conversations a listing or an export takes: by provider, by a part of the title, and
by a period they were active in (started before its end, last updated after its start)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.query.search import Executes


@dataclass(frozen=True)
class ConversationFilter:
    provider: str | None = None
    title: str | None = None  # a case-insensitive part of the title
    since: str | None = None  # ISO UTC (parse_since)
    until: str | None = None  # ISO UTC, exclusive (parse_until)

    def where(self, alias: str = "c") -> tuple[str, list[Any]]:
        """A WHERE condition over ``conversations AS <alias>`` and its parameters."""
        wanted = (
            (self.provider, f"{alias}.provider = ?"),
            (self.title, f"instr(lower(coalesce({alias}.title, '')), lower(?)) > 0"),
            (self.since, f"coalesce({alias}.update_time, {alias}.create_time) >= ?"),
            (self.until, f"coalesce({alias}.create_time, {alias}.update_time) < ?"),
        )
        given = [(value, condition) for value, condition in wanted if value]
        conditions = ["1", *(condition for _, condition in given)]
        return " AND ".join(conditions), [value for value, _ in given]

    def count(self, db: Executes) -> int:
        condition, params = self.where()
        sql = f"SELECT count(*) FROM conversations AS c WHERE {condition}"
        return int(db.execute(sql, params).fetchone()[0])

    def ids(self, db: Executes) -> list[str]:
        """The matching ids, oldest first (the order exports write them in)."""
        condition, params = self.where()
        sql = (
            f"SELECT c.id FROM conversations AS c WHERE {condition} "
            "ORDER BY coalesce(c.create_time, c.update_time), c.id"
        )
        return [row[0] for row in db.execute(sql, params)]
