"""Microsoft Copilot routes (docs/protocol/copilot.md): the conversation list, history, create,
delete, rename/pin, and the chat websocket with its challenges and error events.

The middleware's faults apply here too (502s, dropped connections, challenge pages, 429s);
the socket reads the drop flag and cuts the connection mid-answer itself. The list is served
in id order, not time order: the protocol does not promise an order, so clients must sort.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from typing import Any

from aiohttp import WSMsgType, web

from archiver.fakes import data
from archiver.fakes.faults import DROP, drop_connection
from archiver.fakes.state import STATE, CopilotChat, EmulatorState
from archiver.providers.copilot.fake import generate as copilot_data

Json = dict[str, Any]
LIST = "/c/api/conversations"


def _authorized(request: web.Request, token: str | None = None) -> bool:
    config = request.app[STATE].config
    given = token if token is not None else request.headers.get("Authorization", "")
    if given not in (f"Bearer {config.copilot_token}", config.copilot_token):
        return False
    wanted = config.copilot_identity_type
    return wanted is None or request.headers.get("x-useridentitytype") == wanted


def _unauthorized() -> web.Response:
    return web.json_response({"errorCode": "unauthorized", "message": "Unauthorized"}, status=401)


def _offset(request: web.Request) -> int:
    cursor = request.query.get("cursor", "")
    return int(cursor[1:]) if cursor[1:].isdigit() else 0


def _page(request: web.Request, items: list[Json], size: int) -> Json:
    """One cursor page; ``next`` is null on the last one (or, as a variant, repeats itself)."""
    start = _offset(request)
    end = start + max(1, size)
    nxt: str | None = f"c{end}" if end < len(items) else None
    if nxt is None and request.app[STATE].config.copilot_repeat_last_cursor and start:
        nxt = request.query.get("cursor")
    return {"results": items[start:end], "next": nxt}


def list_entry(chat: CopilotChat) -> Json:
    return {
        "id": chat.id,
        "title": chat.title,
        "type": chat.type,
        "isPinned": chat.is_pinned,
        "updatedAt": copilot_data.iso(chat.update_time),
        "continuedAt": copilot_data.iso(chat.update_time),
        "projectId": chat.project_id,
        "scope": "personal",
    }


async def conversations(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if not _authorized(request):
        return _unauthorized()
    types = set(request.query.get("types", "chat").split(","))
    chats = [c for c in state.copilot.values() if c.listed and not c.deleted and c.type in types]
    chats.sort(key=lambda c: c.id)
    body = _page(request, [list_entry(c) for c in chats], state.config.copilot_page_size)
    return web.json_response(body)


def _chat_of(request: web.Request) -> tuple[CopilotChat | None, web.Response]:
    """The conversation the route names, or None and the answer that refuses the request
    (401 without the token, 404 for an unknown id)."""
    if not _authorized(request):
        return None, _unauthorized()
    chat = request.app[STATE].copilot_chat(request.match_info["id"])
    if chat is None:
        return None, web.json_response({"errorCode": "notFound"}, status=404)
    return chat, web.Response(status=200)


async def history(request: web.Request) -> web.Response:
    state = request.app[STATE]
    chat, refusal = _chat_of(request)
    if chat is None:
        return refusal
    newest_first = list(reversed(state.copilot_messages(chat)))
    page = _page(request, newest_first, state.config.copilot_history_page_size)
    # Image URLs point back at the emulator, so that a backup can fetch their bytes offline
    # (or at ``copilot_image_host``: another image host, perhaps one that cannot be reached).
    host = state.config.copilot_image_host or f"{request.scheme}://{request.host}{IMAGES}"
    body = json.dumps(page).replace(copilot_data.IMAGE_HOST, host.rstrip("/"))
    return web.Response(text=body, content_type="application/json")


async def image(request: web.Request) -> web.Response:
    """A small deterministic PNG-like body per name (not a real image: bytes to store)."""
    name = request.match_info["name"]
    state = request.app[STATE]
    status = 200
    if "Authorization" in request.headers or "Cookie" in request.headers:
        status = 400  # an image host is not the account: a client must never send a credential
    elif name.startswith("gone"):
        status = 404
    state.log(request.method, request.path, "copilot image", status)
    if status != 200:
        return web.json_response(
            {"errorCode": "refused" if status == 400 else "notFound"}, status=status
        )
    digest = hashlib.sha256(name.encode()).digest()
    return web.Response(body=b"\x89PNG\r\n\x1a\n" + digest * 8, content_type="image/png")


async def create(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if not _authorized(request):
        return _unauthorized()
    cid = copilot_data.nano_id("created", state.new_id("copilot"))
    now = time.time()
    state.copilot[cid] = CopilotChat(cid, None, "chat", now, now, None, messages=[], listed=False)
    return web.json_response({"id": cid})


async def delete(request: web.Request) -> web.StreamResponse:
    chat, refusal = _chat_of(request)
    if chat is None:
        return refusal
    chat.deleted = True
    return web.Response(status=204)


async def patch(request: web.Request) -> web.Response:
    chat, refusal = _chat_of(request)
    if chat is None:
        return refusal
    try:
        body = await request.json()
    except ValueError:
        body = {}
    if isinstance(body.get("title"), str):
        chat.title = body["title"]
    if isinstance(body.get("isPinned"), bool):
        chat.is_pinned = body["isPinned"]
    if "projectId" in body:
        chat.project_id = body["projectId"]
    chat.update_time = max(time.time(), chat.update_time + 0.001)
    return web.json_response(list_entry(chat))


async def touch(request: web.Request) -> web.Response:
    """Test hook: add a turn to a conversation behind the client's back."""
    state = request.app[STATE]
    chat = state.copilot_chat(request.match_info["id"])
    if chat is None:
        return web.json_response({"touched": False}, status=404)
    rng = random.Random(f"touch:{chat.id}:{len(state.copilot_messages(chat))}")
    now = max(time.time(), chat.update_time + 1)
    prompt = "Touched again"
    state.copilot_messages(chat).extend(
        [
            copilot_data.user_message(prompt, now, rng),
            copilot_data.answer_message(data.answer_text(prompt), now + 1, rng, 0, extras=False),
        ]
    )
    chat.update_time = now + 1
    return web.json_response({"touched": True, "updatedAt": copilot_data.iso(chat.update_time)})


# --- the chat socket ------------------------------------------------------------------------


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
        self.config = self.state.config
        self.challenge: Json | None = None  # outstanding challenge
        self.challenged = False
        self.pending: Json | None = None  # a send held until its challenge is met
        self.options_seen = False

    async def emit(self, *events: Json) -> None:
        await self.ws.send_str("".join(json.dumps(e, ensure_ascii=False) for e in events))

    async def run(self) -> None:
        await self.emit({"event": "connected", "requestId": copilot_data.nano_id(time.time())})
        if self.config.copilot_double_connected:
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
            with self.state.lock:
                self.state.counters.copilot_pongs += 1
        elif kind == "challengeResponse":
            return await self.answer_challenge(event)
        elif kind == "send":
            return await self.send(event)
        return True

    def _new_challenge(self) -> Json | None:
        method = self.config.copilot_challenge
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
                "difficulty": self.config.copilot_hashcash_bits,
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
            if not self.config.copilot_challenge_resend:
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
        with self.state.lock:
            self.state.counters.copilot_challenges_met += 1
        if self.pending is not None:
            pending, self.pending = self.pending, None
            return await self.answer(pending, acknowledged=True)
        return True

    async def answer(self, event: Json, *, acknowledged: bool = False) -> bool:
        state, config = self.state, self.config
        if config.copilot_error:
            await self.emit(
                {"event": "error", "errorCode": config.copilot_error, "message": "Sorry"}
            )
            return True
        chat = state.copilot_chat(str(event.get("conversationId", "")))
        if chat is None:
            await self.emit({"event": "error", "errorCode": "conversationNotFound"})
            return True
        content = event.get("content") or []
        prompt = " ".join(p.get("text", "") for p in content if isinstance(p, dict))
        messages = state.copilot_messages(chat)
        rng = random.Random(f"{config.seed}:copilot-live:{chat.id}:{len(messages)}")
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
        delay = config.stream_delay_ms / 1000
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
    if not _authorized(request, token if token is not None else None):
        return _unauthorized()
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    await _Socket(request, ws).run()
    return ws


IMAGES = "/_emulator/copilot/images"


def add_routes(app: web.Application) -> None:
    app.router.add_get(LIST, conversations)
    app.router.add_post(LIST, create)
    app.router.add_get(LIST + "/{id}/history", history)
    app.router.add_delete(LIST + "/{id}", delete)
    app.router.add_patch(LIST + "/{id}", patch)
    app.router.add_get("/c/api/chat", chat_socket)
    app.router.add_get(IMAGES + "/{name}", image)
    app.router.add_post("/_emulator/copilot/touch/{id}", touch)
