"""Seed 000's routes over the Bing account: create_conversation, chatgpt, many at once."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from archiver.emulator import RunningEmulator, running_emulator
from archiver.providers.bing.fake.world import world_of as bing_world
from tests.support.fakes import fake_config
from tests.support.gateway import RunningGateway, http, running_gateway


def create(gw: RunningGateway, key: str, user: str = "u1") -> dict[str, Any]:
    reply = http("POST", gw.base_url + "/create_conversation", key=key, json_body={"userId": user})
    assert reply.status == 200, reply.text
    body = reply.json()
    assert isinstance(body, dict)
    return body


def chat(gw: RunningGateway, key: str, conversation: dict[str, Any], prompt: str) -> Any:
    return http(
        "POST", gw.base_url + "/chatgpt", key=key, json_body={"prompt": prompt, **conversation}
    )


def converse(gw: RunningGateway, key: str, name: str, turns: int) -> list[Any]:
    conversation = create(gw, key, name)
    answers = []
    for turn in range(turns):
        reply = chat(gw, key, conversation, f"{name} asks question {turn}")
        assert reply.status == 200, reply.text
        body = reply.json()
        assert body["conversationId"] == conversation["conversationId"]
        assert body["invocationId"] == conversation["invocationId"] + 1
        conversation["invocationId"] = body["invocationId"]
        answers.append(body)
    return answers


def test_create_then_chat(gw: RunningGateway, keys, emu: RunningEmulator, db_path: Path) -> None:
    conversation = create(gw, keys.user, "alice-user")
    assert set(conversation) == {
        "conversationId",
        "clientId",
        "conversationSignature",
        "invocationId",
    }
    assert conversation["invocationId"] == 0 and conversation["clientId"] == "alice-user"
    answers = converse(gw, keys.user, "solo", 2)
    assert "solo asks question 1" in answers[1]["message"]
    archived = answers[0]["archiveConversationId"]
    assert archived == answers[1]["archiveConversationId"]
    with sqlite3.connect(db_path) as conn:
        users = conn.execute(
            "SELECT text FROM messages WHERE conversation_id = ? AND role = 'user' ORDER BY depth",
            [archived],
        ).fetchall()
        source = conn.execute(
            "SELECT provider, source FROM conversations WHERE id = ?", [archived]
        ).fetchone()
    assert users == [("solo asks question 0",), ("solo asks question 1",)]
    assert source == ("bing", "gateway")


def test_upstream_signatures_never_reach_the_client(gw: RunningGateway, keys) -> None:
    conversation = create(gw, keys.user)
    reply = chat(gw, keys.user, conversation, "hello")
    assert reply.status == 200
    held = gw.ctx.seed000_sessions[conversation["conversationId"]]
    upstream = held.thread.session.created
    for secret in (upstream.signature, upstream.encrypted_signature):
        if secret:
            assert secret not in reply.text and secret != conversation["conversationSignature"]


def test_several_conversations_at_once(gw: RunningGateway, keys, db_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(converse, gw, keys.user, f"client{i}", 3) for i in range(6)]
        results = [f.result() for f in futures]
    archived = {r[0]["archiveConversationId"] for r in results}
    assert len(archived) == 6
    for i, answers in enumerate(results):
        assert {a["archiveConversationId"] for a in answers} == {
            answers[0]["archiveConversationId"]
        }
        assert all(f"client{i} asks" in a["message"] for a in answers)
    with sqlite3.connect(db_path) as conn:
        counts = conn.execute(
            "SELECT conversation_id, count(*) FROM messages WHERE role = 'user' "
            "GROUP BY conversation_id"
        ).fetchall()
    assert sorted(n for _, n in counts) == [3] * 6


def test_a_conversation_answers_only_its_own_key_and_signature(gw: RunningGateway, keys) -> None:
    conversation = create(gw, keys.user)
    stolen = chat(gw, keys.admin, conversation, "not mine")
    assert stolen.status == 404
    forged = chat(gw, keys.user, {**conversation, "conversationSignature": "x"}, "forged")
    assert forged.status == 404
    assert chat(gw, keys.user, conversation, "mine").status == 200


def test_a_replayed_invocation_is_refused(gw: RunningGateway, keys) -> None:
    conversation = create(gw, keys.user)
    assert chat(gw, keys.user, conversation, "first").status == 200
    again = chat(gw, keys.user, conversation, "first again")  # still invocationId 0
    assert again.status == 409 and again.json()["code"] == "invocation_mismatch"


def test_a_full_conversation_is_refused_without_resting_the_account(
    db_path: Path,
    keys,
) -> None:
    config = fake_config(chatgpt_conversations=0, bing_chats=0, bing_conversation_cap=2)
    with running_emulator(config) as emu, running_gateway(db_path, emu) as gw:
        conversation = create(gw, keys.user)
        for turn in range(2):
            reply = chat(gw, keys.user, conversation, f"turn {turn}")
            assert reply.status == 200
            conversation["invocationId"] = reply.json()["invocationId"]
        sent = bing_world(emu.state).user_messages  # counted as each prompt arrives
        full = chat(gw, keys.user, conversation, "one too many")
        assert full.status == 409 and full.json()["code"] == "conversation_full"
        assert "POST /create_conversation" in full.json()["detail"]
        assert bing_world(emu.state).user_messages == sent == 2
        # The account itself goes on: a new conversation is answered.
        fresh = create(gw, keys.user)
        assert chat(gw, keys.user, fresh, "a new start").status == 200


def test_copilot_stands_in_where_bing_is_not(db_path: Path, keys, emu: RunningEmulator) -> None:
    providers = ("chatgpt", "copilot")
    with running_gateway(db_path, emu, providers=providers, families={"seed000": "copilot"}) as gw:
        answers = converse(gw, keys.user, "pilot", 2)
        assert "pilot asks question 1" in answers[1]["message"]
        models = http("GET", gw.base_url + "/v1/models", key=keys.user).json()
        ids = [m["id"] for m in models["data"]]
        assert "copilot/smart" in ids and not any(i.startswith("bing/") for i in ids)
        reply = http(
            "POST",
            gw.base_url + "/v1/chat/completions",
            key=keys.user,
            json_body={
                "model": "copilot/smart",
                "messages": [{"role": "user", "content": "Hello Copilot"}],
            },
        )
        assert reply.status == 200, reply.text
        assert "Hello Copilot" in reply.json()["choices"][0]["message"]["content"]
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute(
            "SELECT provider, source, count(*) FROM conversations GROUP BY provider"
        ).fetchall()
    assert rows == [("copilot", "gateway", 2)]


def test_cli_picks_copilot_for_seed_000_only_without_bing() -> None:
    from archiver.serve.senders import route_families

    def bing_family(configured: list[str]) -> str:
        return route_families(configured)["seed000"]

    assert bing_family(["chatgpt", "bing", "copilot"]) == "bing"
    assert bing_family(["chatgpt", "copilot"]) == "copilot"
    assert bing_family(["chatgpt"]) == "bing"  # none: the error names Bing
