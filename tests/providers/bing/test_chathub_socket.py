"""run_turn over an in-memory websocket (MockTransport): a ChatHub that cuts its records at
awkward places (inside a UTF-8 character, around the separator) or hangs up early."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from archiver.providers.bing.chathub import RS, ChatHubBroken, invocation_request, run_turn
from archiver.transport.mock import MockPeer, MockTransport, SocketHandler
from tests.support.transport import no_http

BOT = {"author": "bot", "text": "Grüße 👋 aus Köln", "messageId": "b1"}
ITEM = {"messages": [BOT], "conversationId": "c1", "result": {"value": "Success"}}
URL = "wss://sydney.example/sydney/ChatHub?sec_access_token=x"


def records(invocation: str) -> bytes:
    out = [
        {"type": 6},
        {"type": 1, "target": "update", "arguments": [{"messages": [{**BOT, "text": "Grü"}]}]},
        {"type": 2, "invocationId": invocation, "item": ITEM},
        {"type": 3, "invocationId": invocation},
    ]
    return "".join(json.dumps(r, ensure_ascii=False) + RS for r in out).encode()


def hub(cut_every: int, hang_up: bool, seen: list[Any]) -> SocketHandler:
    async def serve(peer: MockPeer) -> None:
        while (message := await peer.receive()) is not None:
            for raw in message.split(RS):
                if not raw:
                    continue
                record = json.loads(raw)
                seen.append(record)
                if "protocol" in record:
                    await peer.send("{}" + RS)
                elif record.get("type") == 4:
                    body = records(record["invocationId"])
                    if hang_up:
                        await peer.send(body[: len(body) // 2])
                        peer.close()
                        return
                    for i in range(0, len(body), cut_every):
                        await peer.send(body[i : i + cut_every])

    return serve


def turn(cut_every: int = 1000, hang_up: bool = False) -> tuple[Any, list[Any]]:
    seen: list[Any] = []
    transport = MockTransport(no_http, hub(cut_every, hang_up, seen))
    request = invocation_request(
        "hi", conversation_id="c1", client_id="x", signature="s", invocation_id=0
    )
    outcome = asyncio.run(run_turn(transport, URL, request))
    assert transport.sockets == [URL]
    return outcome, seen


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
