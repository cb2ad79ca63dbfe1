"""Faults injected into a backup: each run ends cleanly, keeps what it archived, and a later
run completes the archive."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace

from archiver.backup.engine import BackupOptions
from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import EXIT_PARTIAL
from archiver.providers.chatgpt.backup import backup_chatgpt
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.store import open_db
from archiver.transport.base import Response, TransportTimeout
from archiver.transport.connect import use_transport
from archiver.transport.mock import MockTransport
from archiver.transport.pace import ClientPace
from archiver.transport.request import Request
from tests.support.fakes import fake_config
from tests.support.transport import FAST, werkzeug_handler

TOKEN = ChatGPTFakeConfig().token


def backup(db, base_url, *, policy=FAST, timeout=30.0, concurrency=2):
    settings = ChatGPTSettings(base_url=base_url, token=Secret(TOKEN))
    return asyncio.run(
        backup_chatgpt(
            db,
            settings,
            options=BackupOptions(concurrency=concurrency),
            pace=ClientPace(None, policy=policy, timeout_seconds=timeout),
        )
    )


def test_a_server_that_stops_answering_ends_the_run_cleanly(tmp_path):
    """Every request times out (the aiohttp transport's own timeout is tested in
    tests/transport): the run gives up cleanly, after its retries, in virtual time."""

    def silent(request: Request) -> Response:
        raise TransportTimeout("TimeoutError")

    db = open_db(tmp_path / "a.db")
    with use_transport(MockTransport(silent)):
        summary = backup(db, "https://chatgpt.test/backend-api")
    assert summary.aborted is not None or summary.failed
    assert summary.exit_code != 0
    assert "failed (" in " ".join(summary.errors) or "timed out" in str(summary.aborted)


def test_429_storm_without_retry_after_backs_off_and_completes(tmp_path):
    config = fake_config(
        chatgpt_conversations=15, seed=2, rate_limit=1200, rate_burst=2, retry_after=False
    )
    # Back-offs of 10 ms (FAST) are far too short for the bucket to refill: more than the
    # default three throttles in a row without a Retry-After (which stop a run, issue 27)
    # must be tolerated here to see the run back off and complete.
    tolerant = replace(FAST, max_unannounced=20)
    with running_emulator(config) as emu:
        db = open_db(tmp_path / "a.db")
        summary = backup(db, emu.chatgpt_base_url, policy=tolerant, concurrency=4)
    assert summary.exit_code == 0, summary.errors
    assert summary.throttled > 0
    assert db["conversations"].count == 15


def test_challenge_pages_stop_the_run_and_a_later_run_completes(tmp_path):
    db = open_db(tmp_path / "a.db")
    with running_emulator(
        fake_config(chatgpt_conversations=30, seed=4, challenge_rate=0.25)
    ) as emu:
        first = backup(db, emu.chatgpt_base_url)
    assert first.exit_code == EXIT_PARTIAL
    assert "blocked by a challenge page" in str(first.aborted)
    kept = db["conversations"].count
    with running_emulator(fake_config(chatgpt_conversations=30, seed=4)) as emu:
        second = backup(db, emu.chatgpt_base_url)
    assert second.exit_code == 0
    assert db["conversations"].count == 30 >= kept


def test_5xx_bursts_and_dropped_connections_lose_nothing(tmp_path):
    config = fake_config(
        chatgpt_conversations=30, seed=9, fail_rate=0.3, drop_rate=0.1, latency_ms=2
    )
    with running_emulator(config) as emu:
        db = open_db(tmp_path / "a.db")
        runs = [backup(db, emu.chatgpt_base_url)]
        while runs[-1].failed and len(runs) < 5:
            runs.append(backup(db, emu.chatgpt_base_url))
    assert runs[-1].exit_code == 0
    assert db["conversations"].count == 30
    assert sum(r.requests for r in runs) > 31  # faults were really injected and retried


def test_readers_are_not_blocked_by_a_writer(tmp_path):
    path = tmp_path / "a.db"
    db = open_db(path)
    writer = db.conn
    writer.execute("BEGIN IMMEDIATE")
    writer.execute(
        "INSERT INTO conversations (id, provider, source, first_seen_at, archived_at) "
        "VALUES ('x', 'chatgpt', 'api', 'now', 'now')"
    )
    reader = sqlite3.connect(path, timeout=0.1)
    assert reader.execute("SELECT count(*) FROM conversations").fetchone()[0] == 0
    writer.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM conversations").fetchone()[0] == 1


def test_a_read_timeout_is_retried(tmp_path):
    from tests.support.fake_chatgpt import TOKEN as FAKE_TOKEN
    from tests.support.fake_chatgpt import FakeChatGPT

    fake = FakeChatGPT()
    fake.add("slow", 1_700_000_001)
    fake.add("fine", 1_700_000_000)
    serve, spiked = werkzeug_handler(fake.handle), []

    def spiking(request: Request) -> Response:
        if request.url.endswith("/slow") and not spiked:
            spiked.append(True)
            serve(request)  # it reached the server, whose answer came too late
            raise TransportTimeout("TimeoutError")
        return serve(request)

    settings = ChatGPTSettings(
        base_url="https://chatgpt.test/backend-api", token=Secret(FAKE_TOKEN)
    )
    with use_transport(MockTransport(spiking)):
        summary = asyncio.run(
            backup_chatgpt(
                open_db(tmp_path / "a.db"),
                settings,
                options=BackupOptions(concurrency=1),
                include_archived=False,
                pace=ClientPace(None, policy=FAST),
                snapshot=False,
            )
        )
    assert summary.exit_code == 0, summary.errors
    assert spiked and summary.fetched == 2
    assert len(fake.requests("/conversation/slow")) == 2  # the timed-out try, then the retry
