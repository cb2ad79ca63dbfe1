"""``/_emulator/...``: test hooks that change upstream behind the client's back, and counters.

These routes bypass auth and faults and are not counted in the request log. A provider's fake
may add routes of its own under ``/_emulator/`` (touching one of its chats, say).
"""

from __future__ import annotations

from aiohttp import web

from archiver.fakes.state import STATE


async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats())


async def requests(request: web.Request) -> web.Response:
    state = request.app[STATE]
    with state.lock:
        log = list(state.request_log)
    return web.json_response(log)


async def delete(request: web.Request) -> web.Response:
    """Delete anything upstream (a conversation, a project, a file: whichever provider's world
    knows the id): gone from lists, 404 on fetch."""
    item_id = request.match_info["id"]
    deleted = [world.delete(item_id) for world in request.app[STATE].worlds()]
    if not any(deleted):
        return web.json_response({"deleted": False}, status=404)
    return web.json_response({"deleted": True})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/_emulator/stats", stats)
    app.router.add_get("/_emulator/requests", requests)
    app.router.add_post("/_emulator/delete/{id:.+}", delete)
