"""What the archive holds: conversations and messages per provider and per month, the models
that answered most, and the database's size on disk."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from archiver.query.search import Executes

TOP_MODELS = 10


@dataclass
class ArchiveStats:
    providers: list[dict[str, Any]] = field(default_factory=list)
    months: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    size_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def lines(self) -> list[str]:
        """A plain-text report."""
        out = ["Provider     Conversations   Messages"]
        for row in self.providers:
            out.append(f"{row['provider']:<12} {row['conversations']:>13} {row['messages']:>10}")
        if not self.providers:
            out.append("(the archive is empty)")
        out += ["", "Month    Provider     Conversations   Messages"]
        for row in self.months:
            out.append(
                f"{row['month']:<8} {row['provider']:<12} "
                f"{row['conversations']:>13} {row['messages']:>10}"
            )
        out += ["", "Top models (messages)"]
        for row in self.models:
            out.append(f"{row['messages']:>10}  {row['model']}")
        if not self.models:
            out.append("(none recorded)")
        out += ["", f"Database size: {_human(self.size_bytes)} ({self.size_bytes} bytes)"]
        return out


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def _dicts(db: Executes, sql: str) -> list[dict[str, Any]]:
    cursor = db.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def database_size(path: str | os.PathLike[str] | None) -> int:
    """Bytes on disk: the database file and its write-ahead log."""
    if path is None:
        return 0
    total = 0
    for suffix in ("", "-wal"):
        file = Path(f"{path}{suffix}")
        if file.exists():
            total += file.stat().st_size
    return total


def archive_stats(db: Executes, path: str | os.PathLike[str] | None = None) -> ArchiveStats:
    """Counts over the whole archive. Messages are visible messages of every branch; a
    conversation's month is that of its creation (its last update when unknown)."""
    providers = _dicts(
        db,
        "SELECT c.provider, count(DISTINCT c.id) AS conversations, count(m.rowid) AS messages "
        "FROM conversations AS c LEFT JOIN messages AS m ON m.conversation_id = c.id "
        "AND m.is_hidden = 0 AND m.raw_json IS NOT NULL "
        "GROUP BY c.provider ORDER BY c.provider",
    )
    months = _dicts(
        db,
        "SELECT coalesce(substr(coalesce(c.create_time, c.update_time), 1, 7), 'unknown') AS month, "
        "c.provider, count(DISTINCT c.id) AS conversations, count(m.rowid) AS messages "
        "FROM conversations AS c LEFT JOIN messages AS m ON m.conversation_id = c.id "
        "AND m.is_hidden = 0 AND m.raw_json IS NOT NULL "
        "GROUP BY month, c.provider ORDER BY month, c.provider",
    )
    models = _dicts(
        db,
        "SELECT model_slug AS model, count(*) AS messages FROM messages "
        "WHERE model_slug IS NOT NULL GROUP BY model_slug "
        f"ORDER BY messages DESC, model_slug LIMIT {TOP_MODELS}",
    )
    return ArchiveStats(providers, months, models, database_size(path))
