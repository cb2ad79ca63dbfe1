"""``backup_bing`` through the shared engine: incremental runs, quota stops, secrets kept out."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archiver.backup.engine import BackupOptions, BackupSummary
from archiver.backup.options import BackupRun
from archiver.config import Secret
from archiver.errors import EXIT_OK, EXIT_PARTIAL
from archiver.providers.bing.backup import backup_bing
from archiver.providers.bing.client import BingSettings
from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store import open_db
from archiver.store.save import save_conversation
from archiver.transport.pace import ClientPace
from tests.support.helpers import load_fixture
from tests.support.transport import FAST

COOKIE = "cookie-value-that-must-stay-secret"
CHAT1, CHAT2 = "51D|BingProd|CHAT0001", "51D|BingProd|CHAT0002"


class FakeBing:
    """A pytest-httpserver Bing: the chat list plus GetConversation per chat, counting calls."""

    def __init__(self, server: HTTPServer):
        self.server = server
        self.chats = load_fixture("bing/chats.json")
        self.histories: dict[str, Any] = {
            CHAT1: load_fixture("bing/conversation_chat1.json"),
            CHAT2: load_fixture("bing/conversation_chat2.json"),
        }
        self.list_calls = 0
        self.fetched: list[str] = []
        server.expect_request("/turing/conversation/chats").respond_with_handler(self._list)
        server.expect_request("/sydney/GetConversation").respond_with_handler(self._get)

    def _list(self, request: Request) -> Response:
        assert request.headers["Cookie"] == f"_U={COOKIE}"
        self.list_calls += 1
        return Response(json.dumps(self.chats), content_type="application/json")

    def _get(self, request: Request) -> Response:
        cid = request.args["conversationId"]
        self.fetched.append(cid)
        answer = self.histories[cid]
        return Response(json.dumps(answer), content_type="application/json")

    def settings(self) -> BingSettings:
        base = self.server.url_for("").rstrip("/")
        return BingSettings(Secret(COOKIE), bing_base_url=base, sydney_base_url=base)


@pytest.fixture
def bing(httpserver: HTTPServer) -> FakeBing:
    return FakeBing(httpserver)


def run(db: Any, bing: FakeBing, **options: Any) -> BackupSummary:
    return asyncio.run(
        backup_bing(
            db,
            bing.settings(),
            BackupRun(ClientPace(None, policy=FAST), BackupOptions(**options)),
        )
    )


def test_first_run_archives_every_chat(tmp_path: Path, bing: FakeBing) -> None:
    db = open_db(tmp_path / "a.db")
    summary = run(db, bing)
    assert summary.exit_code == EXIT_OK
    assert (summary.listed, summary.fetched, summary.new) == (2, 2, 2)
    assert sorted(bing.fetched) == [CHAT1, CHAT2]
    rows = db.execute(
        "SELECT id, provider, title, node_count FROM conversations ORDER BY id"
    ).fetchall()
    assert rows == [(CHAT1, "bing", "Rust lifetimes", 7), (CHAT2, "bing", "Weekend trip", 3)]
    state = db.execute("SELECT provider, feed, high_water FROM sync_state").fetchall()
    assert state == [("bing", "chats", "2023-05-18T09:03:20.000000Z")]


def test_no_change_second_run_lists_once_and_fetches_nothing(
    tmp_path: Path, bing: FakeBing
) -> None:
    db = open_db(tmp_path / "a.db")
    run(db, bing)
    bing.list_calls, bing.fetched = 0, []
    summary = run(db, bing)
    assert bing.list_calls == 1
    assert bing.fetched == []
    assert summary.requests == 1
    assert (summary.fetched, summary.unchanged) == (0, 2)


def test_a_changed_chat_is_refetched_alone(tmp_path: Path, bing: FakeBing) -> None:
    db = open_db(tmp_path / "a.db")
    run(db, bing)
    bing.fetched = []
    bing.chats["chats"][1]["updateTimeUtc"] = 1684400900  # seconds, newer than before
    history = bing.histories[CHAT2]
    history["messages"].append(
        {"text": "And a day trip?", "author": "user", "messageId": "m-new", "timestamp": 1684400890}
    )
    summary = run(db, bing)
    assert bing.fetched == [CHAT2]
    assert (summary.fetched, summary.updated, summary.unchanged) == (1, 1, 1)
    last = db.execute(
        "SELECT current_node, node_count FROM conversations WHERE id = ?", [CHAT2]
    ).fetchone()
    assert last == ("m-new", 4)


def test_throttled_stops_and_keeps_what_was_archived(
    tmp_path: Path, httpserver: HTTPServer, bing: FakeBing
) -> None:
    bing.histories[CHAT2] = {"result": {"value": "Throttled", "message": "Request is throttled."}}
    db = open_db(tmp_path / "a.db")
    summary = run(db, bing, concurrency=1)
    assert summary.exit_code == EXIT_PARTIAL
    assert "throttled" in summary.errors[0].lower()
    assert [r[0] for r in db.execute("SELECT id FROM conversations")] == [CHAT1]
    assert db.execute("SELECT count(*) FROM sync_state").fetchone()[0] == 0  # mark not advanced
    # The next run (quota back) picks up exactly what is missing.
    bing.histories[CHAT2] = load_fixture("bing/conversation_chat2.json")
    bing.fetched = []
    assert run(db, bing).exit_code == EXIT_OK
    assert bing.fetched == [CHAT2]


def test_secrets_never_reach_the_database(tmp_path: Path, bing: FakeBing) -> None:
    bing.histories[CHAT1]["conversationSignature"] = "sig-in-answer"
    db = open_db(tmp_path / "a.db")
    run(db, bing)
    db.conn.close()
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("a.db*"))
    for secret in (COOKIE, "sig-chat-1", "sig-chat-2", "sig-in-answer"):
        assert secret.encode() not in stored


def test_one_query_spans_both_providers(tmp_path: Path, bing: FakeBing) -> None:
    db = open_db(tmp_path / "a.db")
    save_conversation(db, flatten_conversation(load_fixture("chatgpt/branches.json")))
    run(db, bing)
    counts = dict(
        db.execute(
            "SELECT c.provider, count(*) FROM messages m JOIN conversations c "
            "ON c.id = m.conversation_id WHERE m.role = 'user' AND m.is_hidden = 0 "
            "GROUP BY c.provider"
        ).fetchall()
    )
    assert counts["bing"] == 3 and counts["chatgpt"] > 0
    hits = db.execute(
        "SELECT DISTINCT c.provider FROM messages_fts f JOIN messages m ON m.rowid = f.rowid "
        "JOIN conversations c ON c.id = m.conversation_id WHERE messages_fts MATCH 'lifetime'"
    ).fetchall()
    assert hits == [("bing",)]


def test_full_run_marks_chats_gone_upstream(tmp_path: Path, bing: FakeBing) -> None:
    db = open_db(tmp_path / "a.db")
    run(db, bing)
    bing.chats = copy.deepcopy(bing.chats)
    del bing.chats["chats"][1]
    summary = run(db, bing, full=True)
    assert summary.marked_deleted == 1
    gone = db.execute("SELECT id FROM conversations WHERE deleted_upstream_at IS NOT NULL")
    assert [r[0] for r in gone] == [CHAT2]
