"""``archiver results``: a batch run's answers in input order, as CSV or JSON lines.

Beside each answer: the tokens it was billed for, the model that answered and why it stopped
(what an API reports; empty for chat accounts), and its ``cost`` when the run was given prices
(``--price-in``/``--price-out``, per million tokens).

CSV cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or CR) get
a leading ``'``: answers are model output, and model output can be steered by whoever wrote the
prompt's source text (CSV injection)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import sqlite_utils

from archiver.batch import store
from archiver.batch.store import token_cost
from archiver.errors import ConfigError
from archiver.privatefiles import private_writer

FORMATS = ("csv", "jsonl")
COLUMNS = (
    "row",
    "key",
    "thread",
    "model",
    "status",
    "prompt",
    "answer",
    "error",
    "conversation_id",
    "message_id",
    "attempts",
    "latency_ms",
    "finished_at",
    "prompt_tokens",
    "completion_tokens",
    "answer_model",
    "finish_reason",
    "cost",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def run_prices(db: sqlite_utils.Database, run_id: int) -> tuple[float, float] | None:
    """The prices a run was given (per million tokens, in and out), or None."""
    row = db.execute("SELECT options_json FROM batch_runs WHERE id = ?", [run_id]).fetchone()
    try:
        recorded = json.loads(row[0]) if row and row[0] else {}
    except ValueError:
        return None
    price_in, price_out = recorded.get("price_in"), recorded.get("price_out")
    if price_in is None and price_out is None:
        return None
    return (float(price_in or 0.0), float(price_out or 0.0))


def row_cost(item: dict[str, Any], prices: tuple[float, float] | None) -> float | None:
    """What a row's tokens cost at ``prices``; None without prices or without usage."""
    if prices is None or (item["prompt_tokens"] is None and item["completion_tokens"] is None):
        return None
    cost = token_cost(item["prompt_tokens"] or 0, item["completion_tokens"] or 0, prices)
    return round(cost, 8)


def result_records(db: sqlite_utils.Database, run_id: int) -> Iterable[dict[str, Any]]:
    prices = run_prices(db, run_id)
    for item in store.run_item_rows(db, run_id):
        yield {
            "row": item["row_number"],
            "key": item["item_key"],
            "thread": item["thread"],
            "model": item["model"],
            "status": item["status"],
            "prompt": item["prompt"],
            "answer": item["answer"],
            "error": item["error"],
            "conversation_id": item["conversation_id"],
            "message_id": item["message_id"],
            "attempts": item["attempts"],
            "latency_ms": item["latency_ms"],
            "finished_at": item["finished_at"],
            "prompt_tokens": item["prompt_tokens"],
            "completion_tokens": item["completion_tokens"],
            "answer_model": item["answer_model"],
            "finish_reason": item["finish_reason"],
            "cost": row_cost(item, prices),
        }


def _write(records: Iterable[dict[str, Any]], fmt: str, stream: IO[str]) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for record in records:
            # A cost in plain decimals: a spreadsheet reads "3.3e-06" as text in some locales.
            cost = record["cost"]
            record["cost"] = None if cost is None else f"{cost:.8f}"
            writer.writerow([escape_cell(record[c]) for c in COLUMNS])
            count += 1
    else:
        for record in records:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_results(
    db: sqlite_utils.Database,
    run_id: int | None,
    fmt: str,
    out: str | Path | IO[str] | None = None,
) -> int:
    """Write run ``run_id`` (default: the latest) to ``out`` (a path, a text stream, or stdout
    when None); return the number of rows written."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r} (csv or jsonl)")
    if run_id is None:
        run_id = store.latest_run_id(db)
        if run_id is None:
            raise ConfigError("this database has no batch runs yet")
    elif db.execute("SELECT 1 FROM batch_runs WHERE id = ?", [run_id]).fetchone() is None:
        raise ConfigError(f"no batch run {run_id} in this database")
    records = result_records(db, run_id)
    if out is None:
        return _write(records, fmt, sys.stdout)
    if isinstance(out, str | Path):
        # utf-8-sig for CSV: spreadsheets then read the answers' accents correctly.
        encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
        with private_writer(out, encoding=encoding, newline="") as stream:
            return _write(records, fmt, stream)
    return _write(records, fmt, out)
