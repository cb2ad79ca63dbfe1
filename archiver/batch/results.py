"""``archiver results``: a batch run's answers in input order, as CSV or JSON lines.

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
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def result_records(db: sqlite_utils.Database, run_id: int) -> Iterable[dict[str, Any]]:
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
        }


def _write(records: Iterable[dict[str, Any]], fmt: str, stream: IO[str]) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(stream, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for record in records:
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
