"""The ChatGPT backup end to end against the bundled emulator: every conversation and every
node arrives, nothing changes on a second run, faults are survived."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from archiver.backup.engine import BackupOptions
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.fake.generate import conversation
from archiver.store import open_db
from archiver.transport.pace import ClientPace
from tests.support.fakes import fake_config
from tests.support.transport import FAST

COUNT = 45


def backup(db, emu, snapshot=True, **options):
    settings = ChatGPTSettings(
        base_url=emu.chatgpt_base_url, token=Secret(ChatGPTFakeConfig().token)
    )
    return asyncio.run(
        backup_chatgpt(
            db,
            settings,
            options=BackupOptions(concurrency=3, **options),
            pace=ClientPace(None, policy=FAST),
            snapshot=snapshot,
        )
    )


def control(emu, path):
    request = urllib.request.Request(f"{emu.base_url}/_emulator/{path}", method="POST")
    with urllib.request.urlopen(request) as response:
        return json.load(response)


def test_every_conversation_and_every_node_is_archived(tmp_path):
    with running_emulator(fake_config(chatgpt_conversations=COUNT, seed=7)) as emu:
        db = open_db(tmp_path / "a.db")
        summary = backup(db, emu)
        assert summary.exit_code == 0, summary.errors
    expected_nodes = sum(len(conversation(i, seed=7)["mapping"]) for i in range(COUNT))
    assert db["conversations"].count == COUNT
    assert db["messages"].count == expected_nodes
    kinds = {r[0] for r in db.execute("SELECT DISTINCT content_type FROM messages")}
    assert {"text", "code", "multimodal_text", "thoughts", "execution_output"} <= kinds
    assert db.execute("SELECT count(*) FROM conversations WHERE is_archived = 1").fetchone()[0] > 0
    roots = db.execute("SELECT count(*) FROM messages WHERE id = 'client-created-root'")
    assert roots.fetchone()[0] > 1  # the same root id in several conversations coexists
    # Every conversation has exactly one current branch ending at its current node.
    bad = db.execute(
        "SELECT c.id FROM conversations c LEFT JOIN messages m "
        "ON m.conversation_id = c.id AND m.id = c.current_node AND m.on_current_branch = 1 "
        "WHERE m.id IS NULL"
    ).fetchall()
    assert bad == []


def test_second_run_fetches_nothing_and_a_touched_conversation_alone(tmp_path):
    with running_emulator(fake_config(chatgpt_conversations=COUNT, seed=3)) as emu:
        db = open_db(tmp_path / "a.db")
        backup(db, emu)
        second = backup(db, emu, snapshot=False)
        # default list + archived list + the projects sidebar (this account has none)
        assert (second.fetched, second.requests) == (0, 3)
        with_snapshot = backup(db, emu)
        assert (with_snapshot.fetched, with_snapshot.requests) == (0, 7)  # + 4 account endpoints
        target = db.execute(
            "SELECT id FROM conversations WHERE is_archived = 0 ORDER BY update_time LIMIT 1"
        ).fetchone()[0]
        nodes_before = db.execute(
            "SELECT count(*) FROM messages WHERE conversation_id = ?", [target]
        ).fetchone()[0]
        control(emu, f"touch/{target}")
        third = backup(db, emu)
    assert third.fetched == 1 and third.updated == 1
    nodes_after = db.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = ?", [target]
    ).fetchone()[0]
    assert nodes_after > nodes_before


def test_faults_are_survived_and_nothing_is_lost(tmp_path):
    config = fake_config(chatgpt_conversations=COUNT, seed=11, fail_rate=0.15, drop_rate=0.1)
    with running_emulator(config) as emu:
        db = open_db(tmp_path / "a.db")
        summary = backup(db, emu)
        assert summary.requests > COUNT + 1  # retries happened
        if summary.failed:  # a conversation unlucky every time is retried by the next run
            summary = backup(db, emu)
    assert summary.exit_code == 0, summary.errors
    assert db["conversations"].count == COUNT
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_rate_limited_upstream_is_paced_by_retry_after(tmp_path):
    config = fake_config(chatgpt_conversations=12, seed=5, rate_limit=600, rate_burst=3)
    with running_emulator(config) as emu:
        db = open_db(tmp_path / "a.db")
        summary = backup(db, emu)
    assert summary.exit_code == 0, summary.errors
    assert summary.throttled > 0
    assert db["conversations"].count == 12
