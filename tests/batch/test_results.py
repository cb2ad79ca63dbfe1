from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from archiver.batch import BatchOptions, write_results
from archiver.batch.results import escape_cell
from archiver.config import Secret
from archiver.errors import ConfigError
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.store import open_db
from tests.support.batching import run_provider_batch
from tests.support.fake_answers import TOKEN, FakeAnswers


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+SUM(A1)", "'+SUM(A1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("fine = ok", "fine = ok"),
        (3, 3),
        (None, None),
    ],
)
def test_escape_cell(value: object, escaped: object) -> None:
    assert escape_cell(value) == escaped


def test_results_in_input_order_with_escaping(tmp_path: Path, httpserver) -> None:  # type: ignore[no-untyped-def]
    fake = FakeAnswers()
    base = fake.install(httpserver)
    prompts = tmp_path / "p.csv"
    prompts.write_text("id,prompt\nz,=HYPERLINK(1)\na,second\nm,@third\n", encoding="utf-8")
    db = open_db(tmp_path / "a.db")
    settings = ChatGPTSettings(base_url=base, token=Secret(TOKEN))
    options = BatchOptions(provider="chatgpt", max_rpm=None, concurrency=3)
    summary = run_provider_batch(db, prompts, options, settings)
    out = tmp_path / "r.csv"
    assert write_results(db, summary.run_id, "csv", out) == 3
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["key"] for r in rows] == ["z", "a", "m"]
    assert rows[0]["prompt"] == "'=HYPERLINK(1)" and rows[2]["prompt"] == "'@third"
    assert all(r["status"] == "done" for r in rows)
    buffer = io.StringIO()
    write_results(db, None, "jsonl", buffer)
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [r["key"] for r in records] == ["z", "a", "m"]
    assert records[0]["prompt"] == "=HYPERLINK(1)"  # JSON is not a spreadsheet: kept as is
    with pytest.raises(ConfigError):
        write_results(db, 99, "csv", buffer)
