"""Helpers for the ChatGPT account tests (tests/providers/chatgpt): a fake JWT access token
(so leaks are easy to search for), a no-retry policy, a closed port, archived conversations to work on."""

from __future__ import annotations

import base64
import json
import time

import sqlite_utils

from archiver.providers.chatgpt.flatten import flatten_conversation
from archiver.store.save import save_conversation
from archiver.transport.http import RetryPolicy
from tests.support.helpers import load_fixture

NO_RETRY = RetryPolicy(max_attempts=1, max_throttles=1, backoff_base=0, jitter=0)


def fake_jwt(exp: float, signature: str = "SIGNATURE-sEcReT-4242") -> str:
    def part(obj: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'exp': int(exp), 'sub': 'user-1'})}.{signature}"


TOKEN = fake_jwt(time.time() + 30 * 86400)


def archive_conversation(
    db: sqlite_utils.Database, conversation_id: str, title: str | None, source: str = "api"
) -> None:
    """The branches fixture under another id and title (its current node's message id is
    m-a2-differs, its node id n-a2)."""
    raw = load_fixture("chatgpt/branches.json")
    raw["conversation_id"] = conversation_id
    raw["title"] = title
    flat = flatten_conversation(raw, requested_id=conversation_id, source=source)
    save_conversation(db, flat)


def dump(db: sqlite_utils.Database) -> str:
    return "\n".join(db.conn.iterdump())


def assert_no_secret(text: str) -> None:
    assert TOKEN not in text
    assert "sEcReT" not in text
