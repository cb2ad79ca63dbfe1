"""Issue 27: a lone UTF-16 surrogate from upstream (``"emoji \\ud83d cut"``: valid JSON, half
an emoji, as truncating servers send it) blocked the account for good. Backup, batch, gateway
and import (the gateway: tests/serve/test_lone_surrogates.py) now store the text with U+FFFD in its place and keep the raw JSON exactly as
received (the surrogate written back as its ``\\u`` escape)."""

from __future__ import annotations

import json

import pytest

from archiver.errors import EXIT_OK
from archiver.flatten.records import content_hash
from archiver.providers.chatgpt.export.run import import_export
from archiver.serve.increments import SentText
from archiver.store import open_db
from tests.providers.chatgpt.test_backup import run
from tests.providers.chatgpt.test_batch import run as run_batch
from tests.providers.chatgpt.test_batch import write_csv
from tests.support.batching import batch_items
from tests.support.export_helpers import conversation, write_zip
from tests.support.fake_answers import HALF_EMOJI, FakeAnswers
from tests.support.fake_chatgpt import FakeChatGPT


def served(upstream, httpserver):
    upstream.base_url = upstream.install(httpserver)
    return upstream


@pytest.fixture
def fake(httpserver):
    return served(FakeChatGPT(), httpserver)


@pytest.fixture
def answers(httpserver):
    return served(FakeAnswers(), httpserver)


CUT = "emoji \ud83d cut"  # what json.loads makes of "emoji \\ud83d cut"
SHOWN = "emoji \ufffd cut"


def cut_conversation(cid: str) -> dict:
    """An export entry (or a conversation as the API answers it) with half an emoji in its
    title and in its question."""
    entry = conversation(cid, question=f"question {CUT}")
    entry["title"] = CUT
    return entry


def stored_user_message(db, cid: str) -> tuple[str, str]:
    return db.execute(
        "SELECT text, raw_json FROM messages WHERE conversation_id = ? AND role = 'user'", [cid]
    ).fetchone()


def assert_kept(db, cid: str) -> None:
    title, raw = db.execute(
        "SELECT title, raw_json FROM conversations WHERE id = ?", [cid]
    ).fetchone()
    assert title == SHOWN
    assert "\\ud83d" in raw and json.loads(raw)["title"] == CUT  # exactly as received
    text, raw_message = stored_user_message(db, cid)
    assert text == f"question {SHOWN}"
    assert json.loads(raw_message)["content"]["parts"] == [f"question {CUT}"]


def test_backup_saves_the_conversation_and_the_ones_after_it(tmp_path, fake):
    db = open_db(tmp_path / "a.db")
    fake.add("aaa", 1_700_000_000)
    fake.add("bbb", 1_700_000_002)
    fake.add("ccc", 1_700_000_001)
    fake.conversations["ccc"] = {**cut_conversation("ccc"), "update_time": 1_700_000_001}
    summary = run(db, fake)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert summary.new == 3
    assert_kept(db, "ccc")
    again = run(db, fake)  # nothing blocks the next run either, and nothing changed
    assert again.exit_code == EXIT_OK and again.unchanged == 3 and again.updated == 0


@pytest.mark.parametrize("jobs", [1, 2])  # 2: read and flattened in a worker process
def test_import_keeps_the_conversation(tmp_path, jobs):
    db = open_db(tmp_path / "a.db")
    path = write_zip(
        tmp_path / "e.zip", [conversation("before"), cut_conversation("cut"), conversation("after")]
    )
    summary = import_export(db, path, jobs=jobs)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert {r[0] for r in db.execute("SELECT id FROM conversations")} == {"before", "cut", "after"}
    assert_kept(db, "cut")


def test_batch_records_the_answer_and_goes_on(tmp_path, answers):
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", f"id,prompt\nr1,cut {HALF_EMOJI}\nr2,whole\n")
    summary = run_batch(db, csv, answers)
    assert summary.exit_code == EXIT_OK, summary.errors
    done = batch_items(db)
    assert {key: row["status"] for key, row in done.items()} == {"r1": "done", "r2": "done"}
    assert done["r1"]["answer"].endswith("\ufffd")
    text, raw = db.execute(
        "SELECT text, raw_json FROM messages WHERE message_id = ?", [done["r1"]["message_id"]]
    ).fetchone()
    assert text.endswith("\ufffd") and "\\ud83d" in raw
    assert json.loads(raw)["content"]["parts"][0].endswith("\ud83d")
    assert run_batch(db, csv, answers).already_done == 2  # sent once, never again
    assert sum(answers.answered.values()) == 2


def test_a_streams_progress_never_sends_a_lone_surrogate():
    sent = SentText()
    assert sent.advance("a \ud83d") == "a "  # the other half may come with the next report
    assert sent.advance("a \U0001f600 b") == "\U0001f600 b"
    assert sent.advance("a \U0001f600 b \udc00 c") == " \ufffd c"
    assert sent.finish("a \U0001f600 b \ufffd c!") == "!"


def test_a_flat_historys_hash_takes_a_lone_surrogate():
    assert content_hash({"text": CUT}) != content_hash({"text": SHOWN})
