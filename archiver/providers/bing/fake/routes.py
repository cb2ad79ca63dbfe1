"""Bing REST routes: create (both signature styles), saved-chat list, GetConversation, delete.

Bing reports most failures inside an HTTP 200 body as ``result.value``; the emulator does too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from archiver.fakes.state import STATE
from archiver.loosejson import Json
from archiver.providers.bing.fake import generate as bing_data
from archiver.providers.bing.fake.world import BingChat, BingWorld, world_of


def result(value: str, message: str | None = None) -> Json:
    return {
        "result": {"value": value, "message": message, "serviceVersion": bing_data.SERVICE_VERSION}
    }


def cookie_ok(request: web.Request) -> bool:
    return request.cookies.get("_U") == world_of(request).config.cookie


def _unauthorized() -> web.Response:
    return web.json_response(
        result("UnauthorizedRequest", "Sorry, you need to login first to access this service.")
    )


def signature_ok(world: BingWorld, cid: str, given: str | None) -> bool:
    seed = world.seed
    return given in (bing_data.signature(seed, cid), bing_data.encrypted_signature(seed, cid))


def presented_signature(request: web.Request, body: Json | None = None) -> str | None:
    """The signature from the query, the JSON body, or (newer clients) ``Authorization: Bearer``."""
    given = request.query.get("conversationSignature") or (body or {}).get("conversationSignature")
    auth = request.headers.get("Authorization", "")
    if not given and auth.startswith("Bearer "):
        given = auth[len("Bearer ") :]
    return given or None


async def create(request: web.Request) -> web.Response:
    world = world_of(request)
    if not cookie_ok(request):
        return _unauthorized()
    cid = request.query.get("conversationId")
    if cid:  # re-issue signatures for an existing chat
        if world.chat(cid) is None:
            return web.json_response(result("NotFound", f"Conversation {cid} not found."))
    else:
        cid = bing_data.conversation_id(world.seed, "live", request.app[STATE].new_id("bing"))
        chat = BingChat(cid, None, "Balanced", 0.0, 0.0, None, messages=[], saved=False)
        world.chats[cid] = chat
    body: Json = {"conversationId": cid, "clientId": world.client_id}
    body.update(result("Success"))
    del body["result"]["serviceVersion"]
    seed = world.seed
    if world.config.signature_style == "body":
        body["conversationSignature"] = bing_data.signature(seed, cid)
        return web.json_response(body)
    headers = {
        "X-Sydney-Conversationsignature": bing_data.signature(seed, cid),
        "X-Sydney-Encryptedconversationsignature": bing_data.encrypted_signature(seed, cid),
    }
    return web.json_response(body, headers=headers)


def _epoch(ts: float, seconds: bool) -> int:
    return int(ts) if seconds else int(ts * 1000)


async def chats(request: web.Request) -> web.Response:
    world = world_of(request)
    if not cookie_ok(request):
        return _unauthorized()
    saved = [c for c in world.chats.values() if c.saved and not c.deleted]
    saved.sort(key=lambda c: c.update_time, reverse=True)
    items: list[Json] = []
    for n, chat in enumerate(saved):
        seconds = world.config.times_in_seconds and n % 2 == 1
        items.append(
            {
                "conversationId": chat.id,
                "chatName": chat.name,
                "conversationSignature": bing_data.signature(world.seed, chat.id),
                "tone": chat.tone,
                "createTimeUtc": _epoch(chat.create_time, seconds),
                "updateTimeUtc": _epoch(chat.update_time, seconds),
                "plugins": [],
            }
        )
    body = {"chats": items, **result("Success", f"{len(items)} chats found.")}
    return web.json_response({**body, "clientId": world.client_id})


async def get_conversation(request: web.Request) -> web.Response:
    world = world_of(request)
    cid = request.query.get("conversationId", "")
    given = presented_signature(request)
    if given is None:
        return web.json_response(result("InvalidRequest", "conversationSignature is required."))
    if not signature_ok(world, cid, given):
        return web.json_response(result("UnauthorizedRequest", "Invalid conversation signature."))
    chat = world.chat(cid)
    if chat is None:
        return web.json_response(result("NotFound", f"Conversation {cid} not found."))
    return web.json_response(conversation_item(world, chat))


def conversation_item(world: BingWorld, chat: BingChat, **extra: Any) -> Json:
    item: Json = {
        "conversationId": chat.id,
        "source": "cib",
        "participantId": world.client_id,
        "messages": world.messages(chat),
        "firstNewMessageIndex": None,
        "defaultChatName": chat.name,
        "conversationExpiryTime": bing_data.created_at(chat.update_time + 6 * 3600),
        "telemetry": {"startTime": bing_data.created_at(chat.create_time)},
    }
    item.update(extra)
    return {**item, **result("Success")}


async def delete_single(request: web.Request) -> web.Response:
    world = world_of(request)
    try:
        body = await request.json()
    except ValueError:
        body = {}
    cid = body.get("conversationId", "")
    if not signature_ok(world, cid, presented_signature(request, body)):
        return web.json_response(result("UnauthorizedRequest", "Invalid conversation signature."))
    chat = world.chat(cid)
    if chat is None:
        return web.json_response(result("NotFound", f"Conversation {cid} not found."))
    chat.deleted = True
    return web.json_response(result("Success", f"Conversation {cid} and its chat data deleted."))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/turing/conversation/create", create)
    app.router.add_get("/turing/conversation/chats", chats)
    app.router.add_get("/sydney/GetConversation", get_conversation)
    app.router.add_post("/sydney/DeleteSingleConversation", delete_single)
