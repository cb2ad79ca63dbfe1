"""Microsoft Copilot routes (docs/protocol/copilot.md): the conversation list, history, create,
delete, rename/pin, the images answers point at, and the chat socket (``chat_socket.py``).

The middleware's faults apply here too (502s, dropped connections, challenge pages, 429s);
the socket reads the drop flag and cuts the connection mid-answer itself. The list is served
in id order, not time order: the protocol does not promise an order, so clients must sort.
"""

from __future__ import annotations

import hashlib
import json
import random
import time

from aiohttp import web

from archiver.fakes import data
from archiver.fakes.state import STATE
from archiver.loosejson import Json
from archiver.providers.copilot.fake import generate as copilot_data
from archiver.providers.copilot.fake.chat_socket import chat_socket
from archiver.providers.copilot.fake.world import CopilotChat, unauthorized, world_of

LIST = "/c/api/conversations"


def _offset(request: web.Request) -> int:
    cursor = request.query.get("cursor", "")
    return int(cursor[1:]) if cursor[1:].isdigit() else 0


def _page(request: web.Request, items: list[Json], size: int) -> Json:
    """One cursor page; ``next`` is null on the last one (or, as a variant, repeats itself)."""
    start = _offset(request)
    end = start + max(1, size)
    nxt: str | None = f"c{end}" if end < len(items) else None
    if nxt is None and world_of(request).config.repeat_last_cursor and start:
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
    world = world_of(request)
    if not world.authorized(request):
        return unauthorized()
    types = set(request.query.get("types", "chat").split(","))
    chats = [c for c in world.chats.values() if c.listed and not c.deleted and c.type in types]
    chats.sort(key=lambda c: c.id)
    body = _page(request, [list_entry(c) for c in chats], world.config.page_size)
    return web.json_response(body)


def _chat_of(request: web.Request) -> tuple[CopilotChat | None, web.Response]:
    """The conversation the route names, or None and the answer that refuses the request
    (401 without the token, 404 for an unknown id)."""
    if not world_of(request).authorized(request):
        return None, unauthorized()
    chat = world_of(request).chat(request.match_info["id"])
    if chat is None:
        return None, web.json_response({"errorCode": "notFound"}, status=404)
    return chat, web.Response(status=200)


async def history(request: web.Request) -> web.Response:
    world = world_of(request)
    chat, refusal = _chat_of(request)
    if chat is None:
        return refusal
    newest_first = list(reversed(world.messages(chat)))
    page = _page(request, newest_first, world.config.history_page_size)
    # Image URLs point back at the emulator, so that a backup can fetch their bytes offline
    # (or at ``image_host``: another image host, perhaps one that cannot be reached).
    host = world.config.image_host or f"{request.scheme}://{request.host}{IMAGES}"
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
    world = world_of(request)
    if not world.authorized(request):
        return unauthorized()
    cid = copilot_data.nano_id("created", request.app[STATE].new_id("copilot"))
    now = time.time()
    world.chats[cid] = CopilotChat(cid, None, "chat", now, now, None, messages=[], listed=False)
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
    world = world_of(request)
    chat = world.chat(request.match_info["id"])
    if chat is None:
        return web.json_response({"touched": False}, status=404)
    rng = random.Random(f"touch:{chat.id}:{len(world.messages(chat))}")
    now = max(time.time(), chat.update_time + 1)
    prompt = "Touched again"
    world.messages(chat).extend(
        [
            copilot_data.user_message(prompt, now, rng),
            copilot_data.answer_message(data.answer_text(prompt), now + 1, rng, 0, extras=False),
        ]
    )
    chat.update_time = now + 1
    return web.json_response({"touched": True, "updatedAt": copilot_data.iso(chat.update_time)})


IMAGES = "/_emulator/copilot/images"


def add_routes(app: web.Application) -> None:
    """Copilot's world (made now: it answers the shared framework from the first request on)
    and its routes."""
    world_of(app[STATE])
    app.router.add_get(LIST, conversations)
    app.router.add_post(LIST, create)
    app.router.add_get(LIST + "/{id}/history", history)
    app.router.add_delete(LIST + "/{id}", delete)
    app.router.add_patch(LIST + "/{id}", patch)
    app.router.add_get("/c/api/chat", chat_socket)
    app.router.add_get(IMAGES + "/{name}", image)
    app.router.add_post("/_emulator/copilot/touch/{id}", touch)
