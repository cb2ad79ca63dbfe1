"""Seed 004's REST routes over the ChatGPT account, with plain HTTP."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from archiver.emulator import RunningEmulator
from archiver.providers.chatgpt.fake.world import world_of as chatgpt_world
from tests.support.gateway import Reply, RunningGateway, http


def call(gw: RunningGateway, method: str, path: str, key: str, body: Any = None) -> Reply:
    return http(method, gw.base_url + path, key=key, json_body=body)


def deleted_at(db_path: Path, conversation_id: str) -> object:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(
            "SELECT deleted_upstream_at FROM conversations WHERE id = ?", [conversation_id]
        ).fetchone()[0]


def new(gw: RunningGateway, key: str, prompt: str, **fields: Any) -> dict[str, Any]:
    reply = call(gw, "POST", "/conversations/new", key, {"prompt": prompt, **fields})
    assert reply.status == 201, reply.text
    response = reply.json()["response"]
    assert isinstance(response, dict)
    return response


def test_new_then_ask_on_the_current_node(gw: RunningGateway, keys, emu: RunningEmulator) -> None:
    first = new(gw, keys.user, "Plan a trip to Lisbon", title="Lisbon", autocontinue="false")
    assert first["author"]["role"] == "assistant"
    assert isinstance(first["model"], str) and first["model"]  # the model that answered
    assert "Lisbon" in first["message"]
    cid = first["conversation_id"]
    reply = call(gw, "POST", f"/conversations/{cid}/ask", keys.user, {"prompt": "And Porto?"})
    assert reply.status == 201, reply.text
    second = reply.json()["response"]
    assert second["conversation_id"] == cid and "Porto" in second["message"]
    # No parent_id given: the question went under the first answer (the current node).
    upstream = chatgpt_world(emu.state).detail(chatgpt_world(emu.state).records[cid])["mapping"]
    asked = [
        n
        for n in upstream.values()
        if (n.get("message") or {}).get("author", {}).get("role") == "user"
    ]
    assert [n["parent"] for n in asked][-1] == first["parent_id"]
    # The read API sees both turns, current branch, in seed 004's message shape.
    listed = call(gw, "GET", "/conversations", keys.user).json()
    assert [c["id"] for c in listed] == [cid] and listed[0]["title"] == "Lisbon"
    messages = call(gw, "GET", f"/conversations/{cid}/messages", keys.user).json()
    texts = [(m["author"]["role"], m["message"]) for m in messages if m["message"]]
    assert texts[0] == ("user", "Plan a trip to Lisbon")
    assert texts[2] == ("user", "And Porto?")
    assert [role for role, _ in texts] == ["user", "assistant", "user", "assistant"]


def test_ask_with_parent_id_makes_a_branch(gw: RunningGateway, keys) -> None:
    first = new(gw, keys.user, "Pick a colour")
    cid = first["conversation_id"]
    call(gw, "POST", f"/conversations/{cid}/ask", keys.user, {"prompt": "Another colour"})
    again = call(
        gw,
        "POST",
        f"/conversations/{cid}/ask",
        keys.user,
        {"prompt": "A different colour", "parent_id": first["parent_id"]},
    )
    assert again.status == 201
    every = call(gw, "GET", f"/conversations/{cid}/messages?branches=all", keys.user).json()
    under_first = [m for m in every if m["parent_id"] == first["parent_id"]]
    assert sorted(m["message"] for m in under_first) == ["A different colour", "Another colour"]
    current = {m["message"]: m["on_current_branch"] for m in under_first}
    assert current == {"A different colour": True, "Another colour": False}


def test_ask_on_an_unknown_conversation_is_404(gw: RunningGateway, keys) -> None:
    reply = call(gw, "POST", "/conversations/nope/ask", keys.user, {"prompt": "hi"})
    assert reply.status == 404 and reply.json()["code"] == "conversation_not_found"
    reply = call(gw, "POST", "/conversations/new", keys.user, {"prompt": ""})
    assert reply.status == 400 and "prompt" in reply.json()["detail"]


def test_delete_one_hides_upstream_and_marks_the_archive(
    gw: RunningGateway,
    keys,
    emu: RunningEmulator,
    db_path: Path,
) -> None:
    cid = new(gw, keys.user, "Something to forget")["conversation_id"]
    reply = call(gw, "DELETE", f"/conversations/{cid}", keys.user)
    assert reply.status == 204 and reply.body == b""
    assert chatgpt_world(emu.state).records[cid].hidden
    assert deleted_at(db_path, cid) is not None
    # Never deleted here: the archive still has it, marked.
    listed = call(gw, "GET", "/conversations", keys.user).json()
    assert listed[0]["id"] == cid and listed[0]["deleted_upstream_at"]
    # Already gone upstream counts as done.
    assert call(gw, "DELETE", f"/conversations/{cid}", keys.user).status == 204
    assert call(gw, "DELETE", "/conversations/unknown", keys.user).status == 404


def test_delete_all_needs_the_admin_scope(
    gw: RunningGateway,
    keys,
    emu: RunningEmulator,
    db_path: Path,
) -> None:
    ids = [new(gw, keys.user, f"Conversation {i}")["conversation_id"] for i in range(3)]
    with sqlite3.connect(db_path) as conn:  # another account's conversation, from a backup
        conn.execute(
            "INSERT INTO conversations (id, provider, account, source, first_seen_at, "
            "archived_at) VALUES ('theirs', 'chatgpt', 'other-workspace', 'api', 'x', 'x')"
        )
    refused = call(gw, "DELETE", "/conversations/all", keys.user)
    assert refused.status == 403 and refused.json()["code"] == "admin_scope_required"
    assert not any(chatgpt_world(emu.state).records[c].hidden for c in ids)
    assert call(gw, "DELETE", "/conversations/all", keys.admin).status == 204
    assert all(chatgpt_world(emu.state).records[c].hidden for c in ids)
    assert all(deleted_at(db_path, c) for c in ids)
    assert deleted_at(db_path, "theirs") is None  # not this account's: left alone
