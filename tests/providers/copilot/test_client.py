"""Copilot REST: settings, request shapes and sans-I/O parsing of every §5 variant."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer

from archiver.backup.client_source import newest_first
from archiver.config import Secret
from archiver.errors import AuthError, ChallengeError, ConfigError, UpstreamError
from archiver.providers.copilot import parse
from archiver.providers.copilot.client import (
    AUTH_REFUSED,
    CopilotClient,
    CopilotSettings,
    new_copilot_http,
)
from archiver.transport.http import new_session
from archiver.transport.ratelimit import RateLimiter
from tests.support.helpers import load_fixture
from tests.support.transport import FAST

TOKEN = "copilot-token-that-must-stay-secret"


def test_settings_from_env_and_headers() -> None:
    env = {"COPILOT_ACCESS_TOKEN": TOKEN, "COPILOT_IDENTITY_TYPE": "google"}
    settings = CopilotSettings.from_env(environ=env)
    assert settings.base_url == "https://copilot.microsoft.com"
    headers = settings.headers()
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert headers["x-useridentitytype"] == "google"
    assert headers["Origin"] == "https://copilot.microsoft.com"
    assert "Mozilla/5.0" in headers["User-Agent"]
    assert TOKEN not in repr(settings)
    plain = CopilotSettings.from_env(environ={"COPILOT_ACCESS_TOKEN": TOKEN})
    assert "x-useridentitytype" not in plain.headers()


def test_settings_errors_never_show_the_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="COPILOT_ACCESS_TOKEN"):
        CopilotSettings.from_env(environ={})
    with pytest.raises(ConfigError, match="COPILOT_BASE_URL"):
        CopilotSettings.from_env(
            environ={"COPILOT_ACCESS_TOKEN": TOKEN, "COPILOT_BASE_URL": "ftp://x"}
        )
    file = tmp_path / "token"
    file.write_text(TOKEN + "\n")
    os.chmod(file, 0o644)
    with pytest.raises(ConfigError, match="chmod 600") as info:
        CopilotSettings.from_env(str(file), environ={})
    assert TOKEN not in str(info.value)
    os.chmod(file, 0o600)
    assert CopilotSettings.from_env(str(file), environ={}).token.reveal() == TOKEN


def test_socket_url_carries_the_token_in_its_query_only() -> None:
    settings = CopilotSettings(Secret("a/b+c="), base_url="http://127.0.0.1:9")
    url = settings.chat_socket_url("session-1")
    parts = urlsplit(url)
    assert (parts.scheme, parts.path) == ("ws", "/c/api/chat")
    query = parse_qs(parts.query)
    assert query == {
        "api-version": ["2"],
        "clientSessionId": ["session-1"],
        "accessToken": ["a/b+c="],
    }
    secure = CopilotSettings(Secret("t")).chat_socket_url()
    assert secure.startswith("wss://copilot.microsoft.com/c/api/chat?")


def test_list_page_variants() -> None:
    chats, cursor, _ = parse.parse_chat_page(load_fixture("copilot/list_page1.json"))
    assert cursor == "cursor-2"
    assert [c.conversation_id for c in chats] == [
        "convAAAAAAAAAAAAAAAAA1",
        "convAAAAAAAAAAAAAAAAA2",
    ]
    assert chats[0].update_time == "2026-11-30T10:00:00.000000Z"
    assert chats[1].update_time == "2025-12-01T10:00:00.000000Z"  # epoch milliseconds
    chats, cursor, unreadable = parse.parse_chat_page(
        load_fixture("copilot/list_page2_variant.json")
    )
    assert unreadable == [{"title": "no id: skipped"}]  # kept for the backup to count
    assert cursor == "cursor-3"  # nextCursor, as an object
    assert [(c.conversation_id, c.title) for c in chats] == [("convAAAAAAAAAAAAAAAAA3", None)]
    assert chats[0].update_time == "2026-12-01T08:00:00.000000Z"  # continuedAt
    assert parse.parse_chat_page([{"id": "x"}]) == ([parse.parse_chat({"id": "x"})], None, [])
    assert parse.parse_chat_page({"results": [], "next": None}) == ([], None, [])
    with pytest.raises(UpstreamError):
        parse.parse_chat_page({"results": "nope"})
    with pytest.raises(UpstreamError):
        parse.parse_chat_page("nope")


def test_newest_first_sorts_and_dedupes() -> None:
    a = parse.parse_chat({"id": "a", "updatedAt": "2026-01-01T00:00:00Z"})
    b = parse.parse_chat({"id": "b", "updatedAt": "2026-03-01T00:00:00Z"})
    again = parse.parse_chat({"id": "a", "updatedAt": "2026-05-01T00:00:00Z"})
    none = parse.parse_chat({"id": "c"})
    assert a and b and again and none
    ordered = newest_first([a, b, again, none])
    assert [c.conversation_id for c in ordered] == ["b", "a", "c"]
    assert ordered[1] == a


def test_history_is_stored_oldest_first() -> None:
    page1 = parse.parse_history_page(load_fixture("copilot/history_page1.json"), "c")
    page2 = parse.parse_history_page(load_fixture("copilot/history_page2.json"), "c")
    assert (page1.next_cursor, page2.next_cursor) == ("h2", None)
    messages = parse.oldest_first([page1.results, page2.results])
    assert [m["id"] for m in messages] == ["m1", "m2b", "m2", "m3", "m4"]
    # A message repeated across shifting pages is kept once; no times: the walk reversed.
    plain = parse.oldest_first([[{"id": "y"}, {"id": "x"}], [{"id": "x"}, {"id": "w"}]])
    assert [m["id"] for m in plain] == ["w", "x", "y"]


def test_created_variants() -> None:
    assert parse.parse_created({"id": "new1"}) == "new1"
    assert parse.parse_created({"conversationId": "new2"}) == "new2"
    with pytest.raises(UpstreamError):
        parse.parse_created({})


def _client(server: HTTPServer, session, identity: str | None = "google") -> CopilotClient:
    settings = CopilotSettings(
        Secret(TOKEN), identity_type=identity, base_url=server.url_for("").rstrip("/")
    )
    return CopilotClient(new_copilot_http(session, RateLimiter(None), FAST), settings)


def test_list_all_follows_cursors_and_stops_on_a_repeated_one(httpserver: HTTPServer) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "x-useridentitytype": "google"}
    base = {"types": "chat,character,xbox,group"}
    httpserver.expect_ordered_request(
        "/c/api/conversations", query_string=base, headers=headers
    ).respond_with_json(
        {"results": [{"id": "a", "updatedAt": "2026-01-01T00:00:00Z"}], "next": "k1"}
    )
    httpserver.expect_ordered_request(
        "/c/api/conversations", query_string={**base, "cursor": "k1"}
    ).respond_with_json(
        {"results": [{"id": "b", "updatedAt": "2026-02-01T00:00:00Z"}], "next": "k2"}
    )
    httpserver.expect_ordered_request(
        "/c/api/conversations", query_string={**base, "cursor": "k2"}
    ).respond_with_json({"results": [], "next": "k1"})  # a cursor already used: stop

    async def go() -> list[str]:
        async with new_session() as session:
            return [c.conversation_id for c in await _client(httpserver, session).list_all()]

    assert asyncio.run(go()) == ["b", "a"]
    assert len(httpserver.log) == 3


def test_history_pages_and_delete(httpserver: HTTPServer) -> None:
    path = "/c/api/conversations/c1/history"
    httpserver.expect_ordered_request(path, query_string={"api-version": "2"}).respond_with_json(
        load_fixture("copilot/history_page1.json")
    )
    httpserver.expect_ordered_request(
        path, query_string={"api-version": "2", "cursor": "h2"}
    ).respond_with_json(load_fixture("copilot/history_page2.json"))
    httpserver.expect_request("/c/api/conversations/c1", method="DELETE").respond_with_data(
        "", status=204
    )

    async def go() -> dict:
        async with new_session() as session:
            client = _client(httpserver, session)
            history = await client.history("c1")
            await client.delete_conversation("c1")
            return history

    history = asyncio.run(go())
    assert history["pages"] == 2
    assert [m["id"] for m in history["messages"]] == ["m1", "m2b", "m2", "m3", "m4"]


def test_401_and_cloudflare_pages(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/c/api/conversations", method="GET").respond_with_json(
        {"error": "unauthorized"}, status=401
    )
    httpserver.expect_request("/c/api/conversations", method="POST").respond_with_data(
        "<!DOCTYPE html><html><title>Just a moment...</title></html>",
        status=403,
        content_type="text/html",
    )

    async def go(what: str) -> None:
        async with new_session() as session:
            client = _client(httpserver, session)
            if what == "list":
                await client.list_all()
            else:
                await client.create_conversation()

    with pytest.raises(AuthError) as auth:
        asyncio.run(go("list"))
    assert AUTH_REFUSED in str(auth.value) and "about a day" in str(auth.value)
    assert auth.value.exit_code == 2 and TOKEN not in str(auth.value)
    with pytest.raises(ChallengeError) as challenge:
        asyncio.run(go("create"))
    assert challenge.value.exit_code == 3 and "Cloudflare" in str(challenge.value)
