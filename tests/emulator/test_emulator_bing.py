"""Bing REST routes and the ChatHub websocket."""

from __future__ import annotations

import asyncio
import json
from itertools import pairwise
from typing import Any

import aiohttp

from archiver.emulator import running_emulator
from tests.support.emulator_client import COOKIE, call
from tests.support.fakes import fake_config

RS = "\x1e"


def _create(base: str, **params: str) -> tuple[dict, dict]:
    reply = call("GET", f"{base}/turing/conversation/create", params=params, headers=COOKIE)
    assert reply.status == 200
    return reply.json(), reply.headers


def test_create_header_style_and_reissue(emu) -> None:
    body, headers = _create(emu.base_url)
    assert body["result"]["value"] == "Success" and "conversationSignature" not in body
    assert (
        headers["X-Sydney-Conversationsignature"]
        and headers["X-Sydney-Encryptedconversationsignature"]
    )
    again, again_headers = _create(emu.base_url, conversationId=body["conversationId"])
    assert again["conversationId"] == body["conversationId"]
    assert (
        again_headers["X-Sydney-Conversationsignature"] == headers["X-Sydney-Conversationsignature"]
    )
    bad = call("GET", f"{emu.base_url}/turing/conversation/create", headers={"Cookie": "_U=wrong"})
    assert bad.status == 200 and bad.json()["result"]["value"] == "UnauthorizedRequest"


def test_create_body_style() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, bing_chats=0, bing_signature_style="body")
    ) as emu:
        body, headers = _create(emu.base_url)
        assert body["conversationSignature"] and body["clientId"]
        assert "X-Sydney-Conversationsignature" not in headers


def test_chats_list_and_history_by_query_or_bearer(emu) -> None:
    listing = call("GET", f"{emu.base_url}/turing/conversation/chats", headers=COOKIE).json()
    assert (
        listing["result"]["value"] == "Success" and listing["result"]["message"] == "8 chats found."
    )
    chat = listing["chats"][0]
    assert chat["createTimeUtc"] > 10**12  # milliseconds
    params = {
        "conversationId": chat["conversationId"],
        "source": "cib",
        "participantId": listing["clientId"],
        "traceId": "t",
    }
    url = f"{emu.base_url}/sydney/GetConversation"
    by_query = call(
        "GET", url, params={**params, "conversationSignature": chat["conversationSignature"]}
    ).json()
    by_bearer = call(
        "GET",
        url,
        params=params,
        headers={"Authorization": f"Bearer {chat['conversationSignature']}"},
    )
    assert by_query == by_bearer.json()
    assert by_query["result"]["value"] == "Success"
    authors = {m["author"] for m in by_query["messages"]}
    assert authors == {"user", "bot"}
    assert call("GET", url, params=params).json()["result"]["value"] == "InvalidRequest"
    wrong = call("GET", url, params={**params, "conversationSignature": "nope"}).json()
    assert wrong["result"]["value"] == "UnauthorizedRequest"


def test_seconds_flag_and_delete() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, bing_chats=4, bing_times_in_seconds=True)
    ) as emu:
        chats = call("GET", f"{emu.base_url}/turing/conversation/chats", headers=COOKIE).json()[
            "chats"
        ]
        assert any(c["createTimeUtc"] < 10**11 for c in chats)
        assert any(c["createTimeUtc"] > 10**12 for c in chats)
        victim = chats[0]
        body = {
            "conversationId": victim["conversationId"],
            "conversationSignature": victim["conversationSignature"],
            "participant": {"id": "x"},
            "source": "cib",
            "optionsSets": ["autosave"],
        }
        deleted = call(
            "POST", f"{emu.base_url}/sydney/DeleteSingleConversation", json=body, headers=COOKIE
        )
        assert deleted.json()["result"]["value"] == "Success"
        after = call("GET", f"{emu.base_url}/turing/conversation/chats", headers=COOKIE).json()[
            "chats"
        ]
        assert victim["conversationId"] not in {c["conversationId"] for c in after}


async def _chat(base: str, created: dict, signature: str, prompts: list[str]) -> list[list[Any]]:
    """Send each prompt on its own socket; per turn, return the frames (each a list of records)."""
    turns = []
    url = base.replace("http", "ws") + "/sydney/ChatHub"
    async with aiohttp.ClientSession(headers=COOKIE) as session:
        for n, prompt in enumerate(prompts):
            frames = []
            async with session.ws_connect(url, params={"sec_access_token": signature}) as ws:
                await ws.send_str(json.dumps({"protocol": "json", "version": 1}) + RS)
                assert (await ws.receive_str()) == "{}" + RS
                await ws.send_str(json.dumps({"type": 6}) + RS)
                invocation = {
                    "arguments": [
                        {
                            "source": "cib",
                            "isStartOfSession": n == 0,
                            "message": {"author": "user", "text": prompt, "messageType": "Chat"},
                            "participant": {"id": created["clientId"]},
                            "conversationId": created["conversationId"],
                        }
                    ],
                    "invocationId": str(n),
                    "target": "chat",
                    "type": 4,
                }
                await ws.send_str(json.dumps(invocation) + RS)
                while True:
                    raw = await ws.receive_str()
                    assert raw.endswith(RS)
                    records = [json.loads(r) for r in raw.split(RS) if r]
                    frames.append(records)
                    if any(r.get("type") == 3 for r in records):
                        break
            turns.append(frames)
    return turns


def test_chathub_round_trip_then_throttled_at_the_cap() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, bing_chats=0, bing_conversation_cap=2)
    ) as emu:
        created, headers = _create(emu.base_url)
        signature = headers["X-Sydney-Encryptedconversationsignature"]
        turns = asyncio.run(
            _chat(emu.base_url, created, signature, ["hello there", "more please", "again"])
        )
        first = turns[0]
        assert any(len(frame) > 1 for frame in first)  # several records in one frame
        records = [r for frame in first for r in frame]
        assert records[0] == {"type": 6}
        texts = [
            r["arguments"][0]["messages"][0]["text"]
            for r in records
            if r.get("type") == 1
            and "messages" in r["arguments"][0]
            and "messageType" not in r["arguments"][0]["messages"][0]
        ]
        assert len(texts) > 2 and all(b.startswith(a) for a, b in pairwise(texts))
        final = next(r for r in records if r.get("type") == 2)["item"]
        assert final["result"]["value"] == "Success"
        assert final["messages"][-1]["text"] == texts[-1]
        assert final["throttling"] == {
            "maxNumUserMessagesInConversation": 2,
            "numUserMessagesInConversation": 1,
        }
        assert records[-1] == {"type": 3, "invocationId": "0"}

        throttled = next(r for frame in turns[2] for r in frame if r.get("type") == 2)["item"]
        assert throttled["result"] == {"value": "Throttled", "message": "Request is throttled."}

        # The chat is now saved, listed and readable.
        listing = call("GET", f"{emu.base_url}/turing/conversation/chats", headers=COOKIE).json()
        assert [c["conversationId"] for c in listing["chats"]] == [created["conversationId"]]
        history = call(
            "GET",
            f"{emu.base_url}/sydney/GetConversation",
            params={
                "conversationId": created["conversationId"],
                "conversationSignature": signature,
            },
        ).json()
        assert [m["text"] for m in history["messages"] if m["author"] == "user"] == [
            "hello there",
            "more please",
        ]
        assert emu.state.stats()["prompts"] == 2


def test_chathub_captcha() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=0, bing_chats=0, bing_captcha=True)
    ) as emu:
        created, headers = _create(emu.base_url)
        signature = headers["X-Sydney-Conversationsignature"]
        (frames,) = asyncio.run(_chat(emu.base_url, created, signature, ["hi"]))
        final = next(r for frame in frames for r in frame if r.get("type") == 2)["item"]
        assert final["result"]["value"] == "CaptchaChallenge"
