"""Smaller list: a snapshot endpoint that gives no answer at all (timeout, refused) does not
make the other three wait it out too before the backup starts."""

from __future__ import annotations

import asyncio
import socket

from archiver.config import Secret
from archiver.providers.chatgpt.client import ChatGPTClient, ChatGPTSettings
from archiver.providers.chatgpt.snapshots import snapshot_account
from archiver.store import open_db
from archiver.transport.http import HttpClient, RetryPolicy, new_session
from archiver.transport.ratelimit import RateLimiter


def test_the_snapshot_stops_after_the_first_endpoint_without_an_answer(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    db = open_db(tmp_path / "a.db")
    settings = ChatGPTSettings(
        base_url=f"http://127.0.0.1:{port}/backend-api", token=Secret("t"), account_id=None
    )

    async def go() -> int:
        async with new_session(timeout_seconds=1) as session:
            http = HttpClient(session, RateLimiter(None), RetryPolicy(max_attempts=1))
            return await snapshot_account(db, ChatGPTClient(http, settings))

    assert asyncio.run(go()) == 0
    rows = db.execute("SELECT endpoint, status FROM account_snapshots").fetchall()
    assert len(rows) == 1
