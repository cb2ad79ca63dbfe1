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


def test_results_in_input_order_with_escaping(tmp_path: Path, httpserver) -> None:
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


def test_usage_columns_and_cost_from_the_runs_prices(tmp_path: Path) -> None:
    from archiver.batch import store
    from archiver.batch.csvinput import read_batch_csv
    from archiver.batch.store import AnswerFacts

    db = open_db(tmp_path / "a.db")
    prompts = tmp_path / "p.csv"
    prompts.write_text("id,prompt\na,one\nb,two\n", encoding="utf-8")
    batch_input = read_batch_csv(prompts, default_model="m")
    run_id = store.start_run(db, "api", "m", batch_input, {"price_in": 2.0, "price_out": 8.0})
    first, _ = store.claim_items(db, run_id, "api", batch_input.rows, retry_failed=False)
    store.record_done(
        db,
        first.key,
        answer="1",
        conversation_id=None,
        message_id=None,
        attempts=1,
        latency_ms=5,
        facts=AnswerFacts(1000, 500, "m-2025", "stop"),
    )
    out = io.StringIO()
    write_results(db, run_id, "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["prompt_tokens"] == "1000" and rows[0]["completion_tokens"] == "500"
    assert rows[0]["answer_model"] == "m-2025" and rows[0]["finish_reason"] == "stop"
    assert rows[0]["cost"] == "0.00600000"  # 1000 × 2 + 500 × 8, per million
    assert rows[1]["cost"] == "" and rows[1]["prompt_tokens"] == ""  # no answer, no cost
    lines = io.StringIO()
    write_results(db, run_id, "jsonl", lines)
    assert json.loads(lines.getvalue().splitlines()[0])["cost"] == pytest.approx(0.006)
