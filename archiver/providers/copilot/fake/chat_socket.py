"""Copilot's chat socket (docs/protocol/copilot.md): a prompt's events, the challenge each
socket asks once (none, empty, hashcash or Cloudflare's), error events, keep-alive pings; a
dropped connection (the middleware's flag or a scripted cut) part-way through an answer."""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time

from aiohttp import WSMsgType, web

from archiver.fakes import data
from archiver.fakes.faults import DROP, drop_connection
from archiver.fakes.state import STATE, EmulatorState
from archiver.loosejson import Json
from archiver.providers.copilot.fake import generate as copilot_data
from archiver.providers.copilot.fake.world import CopilotWorld, unauthorized, world_of


def hashcash_ok(prefix: str, token: str, bits: int) -> bool:
    digest = hashlib.sha256((prefix + token).encode()).digest()
    value = int.from_bytes(digest, "big")
    return value >> (256 - bits) == 0 if bits else True


class _Socket:
    """One chat socket's server side."""

    def __init__(self, request: web.Request, ws: web.WebSocketResponse):
        self.request = request
        self.ws = ws
        self.state: EmulatorState = request.app[STATE]
        self.world: CopilotWorld = world_of(self.state)
        self.config = self.world.config
        self.challenge: Json | None = None  # outstanding challenge
        self.challenged = False
        self.pending: Json | None = None  # a send held until its challenge is met
        self.options_seen = False

    async def emit(self, *events: Json) -> None:
        await self.ws.send_str("".join(json.dumps(e, ensure_ascii=False) for e in events))

    async def run(self) -> None:
        await self.emit({"event": "connected", "requestId": copilot_data.nano_id(time.time())})
        if self.config.double_connected:
            await self.emit({"event": "connected"})
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                break
            try:
                event = json.loads(msg.data)
            except ValueError:
                await self.emit({"event": "error", "errorCode": "badRequest"})
                continue
            if not await self.handle(event):
                return

    async def handle(self, event: Json) -> bool:
        kind = event.get("event")
        if kind == "setOptions":
            self.options_seen = True
        elif kind == "pong":
            self.world.count_pong()
        elif kind == "challengeResponse":
            return await self.answer_challenge(event)
        elif kind == "send":
            return await self.send(event)
        return True

    def _new_challenge(self) -> Json | None:
        method = self.config.challenge
        if method == "none" or self.challenged:
            return None
        self.challenged = True
        ident = copilot_data.nano_id("challenge", time.time())
        if method == "empty":
            return {"event": "challenge", "method": "", "parameter": "", "id": ident}
        if method == "hashcash":
            return {
                "event": "challenge",
                "method": "hashcash",
                "parameter": copilot_data.nano_id("prefix", ident),
                "difficulty": self.config.hashcash_bits,
                "id": ident,
            }
        return {
            "event": "challenge",
            "method": "cloudflare",
            "parameter": "0x4AAAAAAA",
            "id": ident,
        }

    async def send(self, event: Json) -> bool:
        if self.challenge is not None:
            return True  # ignored until the challenge is met
        challenge = self._new_challenge()
        if challenge is not None:
            self.challenge = challenge
            if not self.config.challenge_resend:
                await self.emit(
                    {"event": "received", "messageId": copilot_data.nano_id("u", time.time())}
                )
                self.pending = event
            await self.emit(challenge)
            return True
        return await self.answer(event)

    async def answer_challenge(self, event: Json) -> bool:
        challenge = self.challenge
        if challenge is None or event.get("id") != challenge["id"]:
            await self.emit({"event": "error", "errorCode": "challengeMismatch"})
            return True
        token = event.get("token")
        ok = isinstance(token, str) and (
            (challenge["method"] == "" and token == "")
            or (
                challenge["method"] == "hashcash"
                and hashcash_ok(challenge["parameter"], token, challenge["difficulty"])
            )
        )
        if not ok:
            await self.emit({"event": "error", "errorCode": "challengeFailed"})
            return True
        self.challenge = None
        self.world.count_challenge_met()
        if self.pending is not None:
            pending, self.pending = self.pending, None
            return await self.answer(pending, acknowledged=True)
        return True

    async def answer(self, event: Json, *, acknowledged: bool = False) -> bool:
        state, world, config = self.state, self.world, self.config
        if config.error:
            await self.emit({"event": "error", "errorCode": config.error, "message": "Sorry"})
            return True
        chat = world.chat(str(event.get("conversationId", "")))
        if chat is None:
            await self.emit({"event": "error", "errorCode": "conversationNotFound"})
            return True
        content = event.get("content") or []
        prompt = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        messages = world.messages(chat)
        rng = random.Random(f"{world.seed}:copilot-live:{chat.id}:{len(messages)}")
        now = time.time()
        user = copilot_data.user_message(prompt, now, rng)
        answer = copilot_data.answer_message(
            data.answer_text(prompt), now + 0.5, rng, len(messages)
        )
        answer["mode"] = str(event.get("mode") or "chat")
        events: list[Json] = []
        if not acknowledged:
            events.append({"event": "received", "messageId": user["id"]})
        events.append({"event": "startMessage", "messageId": answer["id"]})
        events.append({"event": "ping"})
        for part in answer["content"]:
            if part["type"] == "text":
                for chunk in data.split_chunks(part["text"], rng):
                    events.append(
                        {
                            "event": "appendText",
                            "messageId": answer["id"],
                            "partId": part["partId"],
                            "text": chunk,
                        }
                    )
                events.append(
                    {"event": "partCompleted", "messageId": answer["id"], "partId": part["partId"]}
                )
            elif part["type"] == "citation":
                events.append(
                    {
                        "event": "citation",
                        "messageId": answer["id"],
                        **{k: v for k, v in part.items() if k != "type"},
                    }
                )
            elif part["type"] == "image":
                events.append(
                    {
                        "event": "imageGenerated",
                        "messageId": answer["id"],
                        **{k: v for k, v in part.items() if k != "type"},
                    }
                )
        first = not chat.listed
        if first:
            chat.title = " ".join(prompt.split()[:6]) or "New chat"
            events.append({"event": "titleUpdate", "conversationId": chat.id, "title": chat.title})
        events.append({"event": "suggestedFollowups", "suggestions": ["Tell me more"]})
        events.append({"event": "done", "messageId": answer["id"]})
        # Like the real service, the exchange is kept once the prompt is received: a client
        # whose socket breaks mid-answer finds the answer in the history afterwards.
        messages.extend([user, answer])
        chat.listed = True
        chat.update_time = max(now + 0.5, chat.update_time + 0.001)
        state.count_prompt()
        delay = state.config.stream_delay_ms / 1000
        drop = state.scripted_drop() or bool(self.request.get(DROP))
        for i, out in enumerate(events):
            if drop and i == len(events) // 2:
                drop_connection(self.request)
                return False
            await self.emit(out)
            if delay:
                await asyncio.sleep(delay)
        return True


async def chat_socket(request: web.Request) -> web.StreamResponse:
    token = request.query.get("accessToken")
    if not world_of(request).authorized(request, token):
        return unauthorized()
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    await _Socket(request, ws).run()
    return ws
