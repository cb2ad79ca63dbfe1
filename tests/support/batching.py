"""Running a batch the way the CLI does, from a provider's name: its options, and its sender
from the registry."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from archiver.batch import BatchOptions, run_batch
from archiver.providers import registry

# Two threads' worth of prompts: T's three turns must land in one conversation, s1 alone.
THREADS_CSV = "id,thread,prompt\nt1,T,First turn\nt2,T,Second turn\nt3,T,Third turn\ns1,,Alone\n"


def batch_options(provider: str, **values: Any) -> BatchOptions:
    return BatchOptions(provider=provider, **values)


def run_provider_batch(
    db: Any,
    csv: str | Path,
    options: BatchOptions,
    settings: Any,
    progress: Any = None,
) -> Any:
    """``run_batch`` through ``options.provider``'s sender."""
    sending = registry.get(options.provider).sending
    assert sending is not None
    return asyncio.run(run_batch(db, csv, options, settings, progress, sending=sending))


def batch_items(db: Any) -> dict[str, dict[str, Any]]:
    """Every row of ``batch_items``, by its CSV id."""
    cursor = db.execute("SELECT * FROM batch_items")
    names = [d[0] for d in cursor.description]
    return {row[names.index("item_key")]: dict(zip(names, row, strict=True)) for row in cursor}


def assert_threads_answered(rows: dict[str, dict[str, Any]]) -> None:
    """THREADS_CSV's rows all answered: T's turns in one conversation, s1 in another."""
    assert all(r["status"] == "done" and r["answer"] for r in rows.values())
    assert (
        rows["t1"]["conversation_id"]
        == rows["t3"]["conversation_id"]
        != rows["s1"]["conversation_id"]
    )
    assert "Second turn" in rows["t2"]["answer"]
