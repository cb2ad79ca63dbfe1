from __future__ import annotations

from pathlib import Path
from typing import Any

from archiver.batch import BatchOptions
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import EXIT_OK, EXIT_PARTIAL
from archiver.providers.bing.client import BingSettings
from archiver.providers.bing.fake.config import BingFakeConfig
from archiver.providers.bing.fake.world import world_of as bing_world
from archiver.store import open_db
from archiver.transport.http import RetryPolicy
from tests.support.batching import (
    THREADS_CSV,
    assert_threads_answered,
    batch_items,
    run_provider_batch,
)
from tests.support.fakes import fake_config
from tests.support.transport import FAST

CSV = THREADS_CSV


def settings(base_url: str) -> BingSettings:
    return BingSettings(
        cookie=Secret(BingFakeConfig().cookie),
        bing_base_url=base_url,
        sydney_base_url=base_url,
    )


def run(db: Any, csv: Path, base_url: str, **overrides: Any):
    values: dict[str, Any] = {"provider": "bing", "max_rpm": None, "concurrency": 2, "policy": FAST}
    values.update(overrides)
    return run_provider_batch(db, csv, BatchOptions(**values), settings(base_url))


def test_threads_over_chathub_are_one_conversation(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text(CSV, encoding="utf-8")
    db = open_db(tmp_path / "a.db")
    with running_emulator(fake_config(bing_chats=0)) as emu:
        summary = run(db, csv, emu.base_url, cleanup=True)
    assert summary.exit_code == EXIT_OK, summary.errors
    rows = batch_items(db)
    assert_threads_answered(rows)
    assert '"numUserMessagesInConversation": 3' in rows["t3"]["throttling_json"]
    # Archived: the thread's messages in order, as one flat conversation.
    cid = rows["t1"]["conversation_id"]
    users = [
        r[0]
        for r in db.execute(
            "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY depth",
            [cid],
        )
    ]
    assert users == ["First turn", "Second turn", "Third turn"]
    assert summary.cleaned == 2


def test_throttled_stops_the_run_and_a_later_run_resumes_the_thread(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text(CSV, encoding="utf-8")
    db = open_db(tmp_path / "a.db")
    with running_emulator(fake_config(bing_chats=0, bing_daily_cap=2)) as emu:
        first = run(db, csv, emu.base_url, concurrency=1)
        assert first.exit_code == EXIT_PARTIAL and first.aborted is not None
        assert "Throttled" in str(first.aborted)
        rows = batch_items(db)
        statuses = [rows[k]["status"] for k in ("t1", "t2", "t3", "s1")]
        assert statuses == ["done", "done", "pending", "pending"]
        bing_world(emu.state).config.daily_cap = 300  # the next day
        second = run(db, csv, emu.base_url)
    assert second.exit_code == EXIT_OK, second.errors
    assert second.done == 2 and second.already_done == 2
    rows = batch_items(db)
    # The thread resumed in its conversation (signatures re-issued), after its last done turn.
    assert rows["t3"]["conversation_id"] == rows["t1"]["conversation_id"]
    assert '"numUserMessagesInConversation": 3' in rows["t3"]["throttling_json"]
    users = [
        r[0]
        for r in db.execute(
            "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY depth",
            [rows["t1"]["conversation_id"]],
        )
    ]
    assert users == ["First turn", "Second turn", "Third turn"]


def test_dropped_sockets_are_retried(tmp_path: Path) -> None:
    csv = tmp_path / "p.csv"
    csv.write_text("prompt\n" + "".join(f"question {i}\n" for i in range(8)), encoding="utf-8")
    db = open_db(tmp_path / "a.db")
    with running_emulator(fake_config(bing_chats=0, drop_rate=0.3, seed=3)) as emu:
        summary = run(
            db,
            csv,
            emu.base_url,
            policy=RetryPolicy(max_attempts=10, backoff_base=0.001, backoff_max=0.01, jitter=0.0),
        )
        dropped = sum(1 for r in emu.request_log if r.get("dropped"))
    assert summary.exit_code == EXIT_OK, summary.errors
    assert dropped > 0
    assert summary.requests > 8
    assert all(r["status"] == "done" for r in batch_items(db).values())
