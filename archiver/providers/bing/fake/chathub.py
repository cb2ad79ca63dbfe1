"""The Sydney ChatHub websocket: SignalR-style JSON records, each ending in ``\\x1e``.

Records are grouped several to a frame (deterministically per turn), because real clients broke
on exactly that: a frame is not a record.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import time
import uuid

from aiohttp import WSMsgType, web

from archiver.fakes import data
from archiver.fakes.faults import DROP, drop_connection
from archiver.fakes.state import STATE, EmulatorState
from archiver.loosejson import Json
from archiver.providers.bing.fake import generate as bing_data
from archiver.providers.bing.fake import routes as bing
from archiver.providers.bing.fake.routes import conversation_item, cookie_ok, signature_ok
from archiver.providers.bing.fake.world import BingChat, world_of

RS = "\x1e"


async def chathub(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    buffer = ""
    async for msg in ws:
        if msg.type != WSMsgType.TEXT:
            break
        buffer += msg.data
        *records, buffer = buffer.split(RS)
        for raw in records:
            if not raw.strip():
                continue
            record = json.loads(raw)
            if "protocol" in record:  # handshake
                await ws.send_str("{}" + RS)
            elif record.get("type") == 4:
                frames = invocation_frames(request, record)
                if not await _send(request, ws, frames):
                    return ws
            # type 6 from the client is a keep-alive: nothing to answer
    return ws


async def _send(request: web.Request, ws: web.WebSocketResponse, frames: list[list[Json]]) -> bool:
    state = request.app[STATE]
    delay = state.config.stream_delay_ms / 1000
    # One frame is a refusal; an answer (several) may be a scripted cut (drop_sends).
    drop = bool(request.get(DROP)) or (len(frames) > 1 and state.scripted_drop())
    for i, frame in enumerate(frames):
        if drop and i == len(frames) // 2:
            drop_connection(request)
            return False
        await ws.send_str("".join(json.dumps(r, ensure_ascii=False) + RS for r in frame))
        if delay:
            await asyncio.sleep(delay)
    return True


def invocation_frames(request: web.Request, record: Json) -> list[list[Json]]:
    """Answer one type-4 invocation: the list of frames, each a list of records."""
    world = world_of(request)
    config = world.config
    inv = str(record.get("invocationId", "0"))
    arg = (record.get("arguments") or [{}])[0]
    cid = arg.get("conversationId", "")
    given = arg.get("conversationSignature") or request.query.get("sec_access_token")
    chat = world.chat(cid)
    if not cookie_ok(request):
        return _failure(
            inv, "UnauthorizedRequest", "Sorry, you need to login first to access this service."
        )
    if chat is None or not signature_ok(world, cid, given):
        return _failure(inv, "InvalidRequest", "Invalid conversation or signature.")
    if chat.messages is None:
        world.messages(chat)
    throttling = {
        "maxNumUserMessagesInConversation": config.conversation_cap,
        "numUserMessagesInConversation": chat.user_messages,
    }
    if config.captcha:
        return _failure(inv, "CaptchaChallenge", "User needs to solve CAPTCHA to continue.")
    over_daily = world.user_messages >= config.daily_cap
    if chat.user_messages >= config.conversation_cap or over_daily:
        return _failure(inv, "Throttled", "Request is throttled.", throttling)
    text = ((arg.get("message") or {}).get("text")) or ""
    return _answer(request.app[STATE], chat, inv, text, throttling)


def _failure(
    inv: str, value: str, message: str, throttling: Json | None = None
) -> list[list[Json]]:
    item: Json = {"result": {"value": value, "message": message}}
    if throttling:
        item["throttling"] = throttling
    return [[{"type": 2, "invocationId": inv, "item": item}, {"type": 3, "invocationId": inv}]]


def _answer(
    state: EmulatorState, chat: BingChat, inv: str, text: str, throttling: Json
) -> list[list[Json]]:
    world = world_of(state)
    rng = random.Random(f"{world.seed}:hub:{chat.id}:{chat.user_messages}")
    now = time.time()
    request_id = str(uuid.uuid4())
    user = bing_data.user_message(text, now, world.client_id, rng, request_id)
    side = bing_data.side_messages(text, now, rng, request_id) if rng.random() < 0.7 else []
    reply = data.answer_text(text)
    answer = bing_data.answer_message(reply, now, rng, request_id)
    throttling = {**throttling, "numUserMessagesInConversation": chat.user_messages + 1}

    def update(message: Json) -> Json:
        return {
            "type": 1,
            "target": "update",
            "arguments": [{"messages": [message], "requestId": request_id}],
        }

    records: list[Json] = [{"type": 6}]
    records.append(
        {
            "type": 1,
            "target": "update",
            "arguments": [{"requestId": request_id, "throttling": throttling}],
        }
    )
    records.extend(update(m) for m in side)
    so_far = ""
    for chunk in data.split_chunks(reply, rng):
        so_far += chunk  # updates carry the whole answer so far, not a delta
        partial = copy.deepcopy(answer)
        partial.update(text=so_far, suggestedResponses=[], sourceAttributions=[])
        partial["adaptiveCards"][0]["body"][0]["text"] = so_far
        records.append(update(partial))
    messages = [user, *side, answer]
    item = conversation_item(world, chat, messages=messages, firstNewMessageIndex=1)
    item.update(requestId=request_id, throttling=throttling)
    item["result"]["message"] = reply

    chat.messages = [*(chat.messages or []), *messages]
    chat.user_messages += 1
    chat.update_time = now
    if not chat.saved:  # a fresh chat is saved (and named) by its first prompt
        chat.saved, chat.create_time = True, now
        chat.name = " ".join(text.split()[:6]) or "New chat"
    world.count_user_message()
    state.count_prompt()

    frames: list[list[Json]] = []
    i = 0
    while i < len(records):
        n = rng.randint(1, 3)
        frames.append(records[i : i + n])
        i += n
    frames.append(
        [{"type": 2, "invocationId": inv, "item": item}, {"type": 3, "invocationId": inv}]
    )
    return frames


def add_routes(app: web.Application) -> None:
    """Bing's world (made now: it answers the fault middleware from the first request on), its
    REST routes and the ChatHub websocket."""
    world_of(app[STATE])
    bing.add_routes(app)
    app.router.add_get("/sydney/ChatHub", chathub)
