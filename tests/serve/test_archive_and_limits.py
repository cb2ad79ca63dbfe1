"""Every exchange archived (searchable at once, naming the key that asked); body cap, CORS,
upstream caps and refused credentials."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import openai

from archiver.config import Secret
from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers.chatgpt.client import ChatGPTSettings
from tests.support.fakes import fake_config
from tests.support.gateway import RunningGateway, emulator_settings, http, running_gateway


def query(db_path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_every_exchange_is_archived_with_the_key_that_asked(
    gw: RunningGateway,
    keys,
    db_path: Path,
) -> None:
    api = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys.user, max_retries=0)
    api.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "quokka via openai"}]
    )
    list(
        api.chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "wombat streamed"}], stream=True
        )
    )
    http(
        "POST",
        gw.base_url + "/conversations/new",
        key=keys.admin,
        json_body={"prompt": "platypus by seed 004"},
    )
    made = http("POST", gw.base_url + "/create_conversation", key=keys.admin, json_body={}).json()
    http(
        "POST",
        gw.base_url + "/chatgpt",
        key=keys.admin,
        json_body={"prompt": "echidna by seed 000", **made},
    )
    rows = query(
        db_path,
        "SELECT e.route, e.provider, k.name, e.status, e.requests, c.source, e.prompt "
        "FROM gateway_exchanges e JOIN api_keys k ON k.id = e.key_id "
        "JOIN conversations c ON c.id = e.conversation_id ORDER BY e.id",
    )
    assert [r[:6] for r in rows] == [
        # ChatGPT: the sentinel's requirements, then the send.
        ("chat_completions", "chatgpt", "alice", "done", 2, "gateway"),
        ("chat_completions", "chatgpt", "alice", "done", 2, "gateway"),
        ("seed004", "chatgpt", "root", "done", 2, "gateway"),
        ("seed000", "bing", "root", "done", 2, "gateway"),  # create + the ChatHub turn
    ]
    # Searchable at once, question and answer, through the read API too.
    for word in ("quokka", "wombat", "platypus", "echidna"):
        hits = query(
            db_path,
            "SELECT m.role FROM messages_fts JOIN messages m ON m.rowid = messages_fts.rowid "
            "WHERE messages_fts MATCH ?",
            [word],
        )
        assert {r[0] for r in hits} == {"assistant", "user"}, word
        found = http("GET", gw.base_url + f"/conversations?q={word}", key=keys.user).json()
        assert len(found) == 1 and found[0]["source"] == "gateway"


def test_a_body_over_the_cap_is_refused(db_path: Path, keys, emu: RunningEmulator) -> None:
    with running_gateway(db_path, emu, max_body=2048) as gw:
        big = {"model": "auto", "messages": [{"role": "user", "content": "x" * 4000}]}
        reply = http("POST", gw.base_url + "/v1/chat/completions", key=keys.user, json_body=big)
        assert reply.status == 413
        assert "2048 bytes" in reply.json()["error"]["message"]
    assert query(db_path, "SELECT count(*) FROM gateway_exchanges") == [(0,)]
    assert not [r for r in emu.request_log if r["method"] == "POST"]


def test_no_cors_unless_asked(db_path: Path, keys, emu: RunningEmulator) -> None:
    origin = {"Origin": "https://app.example"}
    with running_gateway(db_path, emu) as gw:
        reply = http("GET", gw.base_url + "/v1/models", key=keys.user, headers=origin)
        assert "Access-Control-Allow-Origin" not in reply.headers
    with running_gateway(db_path, emu, cors_origin="https://app.example") as gw:
        reply = http("GET", gw.base_url + "/v1/models", key=keys.user, headers=origin)
        assert reply.headers["Access-Control-Allow-Origin"] == "https://app.example"
        preflight = http("OPTIONS", gw.base_url + "/v1/chat/completions", headers=origin)
        assert preflight.status == 204
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
        other = http(
            "GET", gw.base_url + "/v1/models", key=keys.user, headers={"Origin": "https://evil"}
        )
        assert "Access-Control-Allow-Origin" not in other.headers


def creates(emu: RunningEmulator) -> int:
    """Bing conversations asked for upstream (logged before their answer is sent)."""
    return sum(r["path"] == "/turing/conversation/create" for r in emu.request_log)


def test_a_bing_cap_rests_the_account_and_is_remembered(db_path: Path, keys) -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, bing_chats=0, bing_daily_cap=1)
    ) as emu:
        with running_gateway(db_path, emu) as gw:
            api = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys.user, max_retries=0)
            ask = {"model": "bing/Balanced", "messages": [{"role": "user", "content": "hi"}]}
            api.chat.completions.create(**ask)  # type: ignore[call-overload]
            try:
                api.chat.completions.create(**ask)  # type: ignore[call-overload]
            except openai.RateLimitError as exc:
                capped = exc
            else:
                raise AssertionError("the cap was not passed on")
            body = capped.body
            assert isinstance(body, dict) and body["code"] == "upstream_throttled"
            assert "upstream bing account" in body["message"]
            assert int(capped.response.headers["Retry-After"]) > 600
            sent = creates(emu)
        # A restart remembers the cool-down: refused without calling upstream.
        with running_gateway(db_path, emu) as gw:
            api = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys.user, max_retries=0)
            try:
                api.chat.completions.create(**ask)  # type: ignore[call-overload]
            except openai.RateLimitError as exc:
                assert "cool-down" in str(exc)
            else:
                raise AssertionError("the remembered cool-down was ignored")
            assert creates(emu) == sent
            # The other account is not resting.
            assert api.chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "chatgpt still answers"}]
            ).choices


def test_a_refused_upstream_credential_is_a_502_that_says_so(
    db_path: Path,
    keys,
    emu: RunningEmulator,
) -> None:
    settings = emulator_settings(emu, ("bing",))
    settings["chatgpt"] = ChatGPTSettings(base_url=emu.chatgpt_base_url, token=Secret("wrong"))
    with running_gateway(db_path, emu, settings=settings) as gw:
        reply = http(
            "POST",
            gw.base_url + "/v1/chat/completions",
            key=keys.user,
            json_body={"model": "auto", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert reply.status == 502
    error = reply.json()["error"]
    assert error["code"] == "upstream_auth" and "wrong" not in error["message"]
    assert query(db_path, "SELECT status FROM gateway_exchanges") == [("failed",)]


def test_a_gateway_without_that_account_says_so(db_path: Path, keys, emu: RunningEmulator) -> None:
    with running_gateway(db_path, emu, providers=("chatgpt",)) as gw:
        reply = http("POST", gw.base_url + "/create_conversation", key=keys.user, json_body={})
        assert reply.status == 400 and reply.json()["code"] == "provider_not_configured"
        models = http("GET", gw.base_url + "/v1/models", key=keys.user).json()
        assert [m["id"] for m in models["data"]] == ["auto"]
