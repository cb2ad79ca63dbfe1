"""run_turn over a real websocket: an in-process aiohttp ChatHub that cuts its records at
awkward places (inside a UTF-8 character, around the separator) or hangs up early."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from archiver.providers.bing.chathub import RS, ChatHubBroken, invocation_request, run_turn

BOT = {"author": "bot", "text": "Grüße 👋 aus Köln", "messageId": "b1"}
ITEM = {"messages": [BOT], "conversationId": "c1", "result": {"value": "Success"}}


def records(invocation: str) -> bytes:
    out = [
        {"type": 6},
        {"type": 1, "target": "update", "arguments": [{"messages": [{**BOT, "text": "Grü"}]}]},
        {"type": 2, "invocationId": invocation, "item": ITEM},
        {"type": 3, "invocationId": invocation},
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + RS for r in out).encode()


async def serve(cut_every: int, hang_up: bool, seen: list[Any]) -> tuple[web.AppRunner, str]:
    async def hub(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            for raw in msg.data.split(RS):
                if not raw:
                    continue
                record = json.loads(raw)
                seen.append(record)
                if "protocol" in record:
                    await ws.send_str("{}" + RS)
                elif record.get("type") == 4:
                    body = records(record["invocationId"])
                    if hang_up:
                        await ws.send_bytes(body[: len(body) // 2])
                        await ws.close()
                        return ws
                    for i in range(0, len(body), cut_every):
                        await ws.send_bytes(body[i : i + cut_every])
        return ws

    app = web.Application()
    app.router.add_get("/sydney/ChatHub", hub)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"ws://127.0.0.1:{port}/sydney/ChatHub"


def turn(cut_every: int = 1000, hang_up: bool = False) -> tuple[Any, list[Any]]:
    seen: list[Any] = []

    async def go() -> Any:
        runner, url = await serve(cut_every, hang_up, seen)
        try:
            async with aiohttp.ClientSession() as session:
                request = invocation_request(
                    "hi", conversation_id="c1", client_id="x", signature="s", invocation_id=0
                )
                return await run_turn(session, url, request)
        finally:
            await runner.cleanup()

    return asyncio.run(go()), seen


@pytest.mark.parametrize("cut_every", [1, 2, 3, 7, 1000])
def test_records_cut_anywhere_across_frames(cut_every: int) -> None:
    outcome, seen = turn(cut_every)
    assert outcome.text == BOT["text"] and outcome.message_id == "b1"
    assert outcome.conversation_id == "c1"
    kinds = [r.get("type") for r in seen]
    assert kinds[:3] == [None, 6, 4]  # handshake, keep-alive, invocation
    assert kinds.count(6) >= 2  # the server's keep-alive was answered


def test_socket_closed_early_is_broken() -> None:
    with pytest.raises(ChatHubBroken):
        turn(hang_up=True)
