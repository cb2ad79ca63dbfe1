"""``/_emulator/...``: test hooks that change upstream behind the client's back, and counters.

These routes bypass auth and faults and are not counted in the request log.
"""

from __future__ import annotations

from aiohttp import web

from archiver.fakes.state import STATE, ChatRecord
from archiver.providers.chatgpt.fake.routes import chat_route
from archiver.providers.chatgpt.fake.stream import append_exchange


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats())


async def requests(request: web.Request) -> web.Response:
    state = request.app[STATE]
    with state.lock:
        log = list(state.request_log)
    return web.json_response(log)


@chat_route
async def touch(request: web.Request, rec: ChatRecord) -> web.Response:
    """Append a user+assistant turn to a ChatGPT conversation and bump its update_time."""
    state = request.app[STATE]
    answer = append_exchange(state, rec, f"Touched again ({rec.update_time:.0f})", "gpt-4o")
    return web.json_response(
        {"conversation_id": rec.id, "update_time": rec.update_time, "message_id": answer["id"]}
    )


async def delete(request: web.Request) -> web.Response:
    """Delete a ChatGPT conversation or Bing chat upstream: gone from lists, 404 on fetch."""
    state = request.app[STATE]
    cid = request.match_info["id"]
    if cid in state.projects:  # a Project: gone from the sidebar, 404 on its chats
        state.deleted_projects.add(cid)
        return web.json_response({"deleted": True})
    if cid.startswith(("file-", "file_")):  # a file: 404 File not found from now on
        state.deleted_files.add(cid)
        return web.json_response({"deleted": True})
    rec = state.records.get(cid)
    chat = state.bing.get(cid)
    pilot = state.copilot.get(cid)
    if pilot is not None:
        pilot.deleted = True
    if rec is not None:
        rec.deleted = True
    if chat is not None:
        chat.deleted = True
    if rec is None and chat is None and pilot is None:
        return web.json_response({"deleted": False}, status=404)
    return web.json_response({"deleted": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_emulator/stats", stats)
    app.router.add_get("/_emulator/requests", requests)
    app.router.add_post("/_emulator/touch/{id}", touch)
    app.router.add_post("/_emulator/delete/{id:.+}", delete)
