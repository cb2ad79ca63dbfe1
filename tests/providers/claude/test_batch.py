"""``archiver batch --provider claude`` against the independent fake: threads continue with
``parent_message_uuid``, answers are exact and archived, a dropped stream is found again
before anything is resent, a usage limit stops the run with when to come back."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from archiver.batch import BatchOptions
from archiver.config import Secret
from archiver.cooldown import CooldownSkip
from archiver.errors import EXIT_OK, EXIT_PARTIAL, ThrottledUntil
from archiver.providers.claude.client import ClaudeSettings, cookie_header
from archiver.store import open_db
from archiver.store.runs import sending_cooldown
from tests.providers.claude import account as acc
from tests.providers.claude.fake_claude import Fake, FakeOptions, running_fake
from tests.support.batching import batch_items, run_provider_batch
from tests.support.transport import FAST

SIX = (
    "id,thread,prompt\n"
    "a1,A,Première question ?\n"
    "b1,B,What is a tile?\n"
    "a2,A,And the second one\n"
    "b2,B,Which grout?\n"
    "a3,A,Third in thread A\n"
    "b3,B,Third in thread B\n"
)


def run(db: Any, csv: Path, fake: Fake, **overrides: Any) -> Any:
    values: dict[str, Any] = {
        "provider": "claude",
        "max_rpm": None,
        "concurrency": 2,
        "policy": FAST,
    }
    values.update(overrides)
    settings = ClaudeSettings(Secret(cookie_header(acc.SESSION_KEY)), base_url=fake.base_url)
    return run_provider_batch(db, csv, BatchOptions(**values), settings)


def expected_answer(fake: Fake, prompt: str) -> str:
    """What the fake answered ``prompt`` (numbered in the order prompts reached it)."""
    return f"Réponse {fake.prompts.index(prompt) + 1} à « {prompt} » ✓"


def csv_file(tmp_path: Path, text: str = SIX) -> Path:
    path = tmp_path / "prompts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def check_threads(db: Any, fake: Fake) -> None:
    rows = batch_items(db)
    prompts = {key: row["prompt"] for key, row in rows.items()}
    # Every prompt reached claude.ai exactly once, and each answer is exactly the fake's.
    assert sorted(fake.prompts) == sorted(prompts.values())
    for row in rows.values():
        assert row["status"] == "done", row
        assert row["answer"] == expected_answer(fake, row["prompt"])
    for thread in ("a", "b"):
        cid = rows[f"{thread}1"]["conversation_id"]
        assert rows[f"{thread}2"]["conversation_id"] == rows[f"{thread}3"]["conversation_id"] == cid
        # Upstream, each turn's prompt hangs under the previous answer (the first under the
        # root sentinel), and the item's message_id is the answer's uuid.
        upstream = {m["uuid"]: m for m in fake.account.details[cid]["chat_messages"]}
        parent = acc.ROOT
        for n in (1, 2, 3):
            answer = upstream[rows[f"{thread}{n}"]["message_id"]]
            asked = upstream[answer["parent_message_uuid"]]
            assert asked["parent_message_uuid"] == parent
            parent = answer["uuid"]
        # Archived as a conversation with provider claude: the thread in order.
        archived = db.execute(
            "SELECT role, text FROM current_branch WHERE conversation_id = ? ORDER BY depth", [cid]
        ).fetchall()
        assert [tuple(r) for r in archived] == [
            pair
            for n in (1, 2, 3)
            for pair in (
                ("user", rows[f"{thread}{n}"]["prompt"]),
                ("assistant", rows[f"{thread}{n}"]["answer"]),
            )
        ]
        provider = db.execute("SELECT provider, source FROM conversations WHERE id = ?", [cid])
        assert tuple(provider.fetchone()) == ("claude", "batch")


def test_six_prompts_in_two_threads(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with running_fake() as fake:
        summary = run(db, csv_file(tmp_path), fake)
        again = run(db, csv_file(tmp_path), fake)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert (summary.done, summary.failed, summary.not_sent) == (6, 0, 0)
    check_threads(db, fake)
    assert (again.done, again.already_done) == (0, 6)  # a re-run sends nothing
    assert len(fake.prompts) == 6


def test_a_dropped_stream_is_found_again_not_resent(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with running_fake(FakeOptions(drop_streams=2, chunk=2)) as fake:
        summary = run(db, csv_file(tmp_path), fake, concurrency=1)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert len(fake.prompts) == 6  # the two cut answers were adopted, not asked again
    check_threads(db, fake)
    # The cut streams are a1's and a2's (one at a time, file order): a look after each cut,
    # and one before the turn that follows an adopted answer (a2's, a3's).
    looked = [p for p in fake.paths() if p.startswith("GET") and "/chat_conversations/" in p]
    assert len(looked) == 4


def test_a_dropped_stream_without_turn_uuids_is_found_by_its_prompt(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    options = FakeOptions(drop_streams=1, honour_turn_uuids=False)
    with running_fake(options) as fake:
        summary = run(db, csv_file(tmp_path), fake, concurrency=1)
    assert summary.exit_code == EXIT_OK, summary.errors
    assert len(fake.prompts) == 6
    check_threads(db, fake)


def test_a_usage_limit_stops_keeps_what_is_done_and_says_when(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = open_db(tmp_path / "a.db")
    with (
        caplog.at_level(logging.WARNING),
        running_fake(FakeOptions(usage_limit_after=3, warn_from=2)) as fake,
    ):
        summary = run(db, csv_file(tmp_path), fake, concurrency=1)
        rows = batch_items(db)
        assert summary.exit_code == EXIT_PARTIAL
        assert isinstance(summary.aborted, ThrottledUntil)
        assert summary.done == 3 and summary.not_sent == 3
        assert sorted(r["status"] for r in rows.values()) == ["done"] * 3 + ["pending"] * 3
        for row in rows.values():
            if row["status"] == "done":
                assert row["answer"] == expected_answer(fake, row["prompt"])
        message = " ".join(summary.errors)
        assert "usage limit" in message and "2030-01-01T00:00:00" in message
        assert "come back after 2030-01-01 00:00:00 UTC" in message
        stored = sending_cooldown(db, "claude", "")
        assert stored is not None and stored[0].isoformat().startswith("2030-01-01T00:00:00")
        assert "claude.ai warns of its usage limit" in caplog.text  # message_limit warnings
        # The next run does not call claude.ai while the account rests.
        before = len(fake.log())
        skipped = run(db, csv_file(tmp_path), fake, concurrency=1)
        assert isinstance(skipped, CooldownSkip) and len(fake.log()) == before
    assert len(fake.prompts) == 3


def test_a_resumed_thread_adopts_a_prompt_that_reached_claude_unrecorded(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with running_fake() as fake:
        assert run(db, csv_file(tmp_path), fake).exit_code == EXIT_OK
        # As if the run had been killed after a2 went out, before its answer was recorded.
        db.execute(
            "UPDATE batch_items SET status = 'running', answer = NULL, message_id = NULL "
            "WHERE item_key IN ('a2', 'a3')"
        )
        db.conn.commit()
        again = run(db, csv_file(tmp_path), fake)
    assert again.exit_code == EXIT_OK, again.errors
    assert again.done == 2
    assert len(fake.prompts) == 6  # nothing was asked twice
    check_threads(db, fake)
