"""``/mcp``: the archive's MCP tools over streamable HTTP, behind the gateway's API keys.

The ``mcp`` package's streamable-HTTP server is an ASGI application; the gateway is aiohttp.
Its session manager is run for the life of the aiohttp app on a task of its own (anyio wants
its task group entered and left by one task, and aiohttp may start and clean up an app from
different tasks), and each request to ``/mcp`` is handed to it through ``asgi.call_asgi``. The
key check, the per-key rate and the body cap are the gateway's middlewares, before it.
The tools read the archive through a read-only connection of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from archiver.mcp.server import http_session_manager
from archiver.providers import registry
from archiver.query.connect import open_readonly
from archiver.serve.asgi import call_asgi
from archiver.serve.common import CONTEXT, ServeContext

PATH = "/mcp"
MANAGER = web.AppKey("archiver_mcp_manager", object)


def _reader(ctx: ServeContext) -> tuple[Any, sqlite3.Connection | None]:
    """A read-only connection to the archive file (owned here), or the gateway's own
    connection when the archive has no file (an in-memory database)."""
    row = ctx.db.execute("PRAGMA database_list").fetchone()
    if not row or not row[2]:
        return ctx.db, None
    connection = open_readonly(row[2])
    return connection, connection


async def _run_manager(app: web.Application) -> AsyncIterator[None]:
    ctx = app[CONTEXT]
    database, owned = _reader(ctx)
    host = ctx.options.host if ctx.options.loopback else None
    manager = http_session_manager(lambda: database, registry.names(), loopback_host=host)
    running = asyncio.Event()
    stop = asyncio.Event()

    async def hold() -> None:
        async with manager.run():
            running.set()
            await stop.wait()

    task = asyncio.create_task(hold(), name="archiver-mcp")
    started = asyncio.create_task(running.wait())
    await asyncio.wait({task, started}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        started.cancel()
        task.result()  # the manager failed to start: say why
    app[MANAGER] = manager
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if owned is not None:
            owned.close()


async def handle(request: web.Request) -> web.StreamResponse:
    manager: Any = request.app[MANAGER]
    return await call_asgi(manager.handle_request, request)


def add_routes(app: web.Application) -> None:
    app.cleanup_ctx.append(_run_manager)
    app.router.add_route("*", PATH, handle)
