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
        conditions, params = ["1"], []
        if self.provider:
            conditions.append(f"{alias}.provider = ?")
            params.append(self.provider)
        if self.title:
            conditions.append(f"instr(lower(coalesce({alias}.title, '')), lower(?)) > 0")
            params.append(self.title)
        if self.since:
            conditions.append(f"coalesce({alias}.update_time, {alias}.create_time) >= ?")
            params.append(self.since)
        if self.until:
            conditions.append(f"coalesce({alias}.create_time, {alias}.update_time) < ?")
            params.append(self.until)
        return " AND ".join(conditions), params

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
