"""Run an ASGI application inside an aiohttp handler: one HTTP request in, its answer out.

Just the HTTP part of ASGI 3 that a request/response app needs: the scope from the aiohttp
request, ``receive`` feeding the body in chunks (then ``http.disconnect`` once the handler is
done), ``send`` turning ``http.response.start`` and ``http.response.body`` into one
``StreamResponse``, streamed as the app writes it. No lifespan (the caller runs whatever the
app needs around the aiohttp app's own lifetime), no websockets.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from aiohttp import web

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
AsgiApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

_CHUNK = 64 * 1024


def asgi_scope(request: web.Request) -> dict[str, Any]:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    sock = request.transport.get_extra_info("sockname") if request.transport else None
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": f"{request.version.major}.{request.version.minor}",
        "method": request.method,
        "scheme": request.scheme,
        "path": request.path,
        "raw_path": request.raw_path.split("?", 1)[0].encode("latin-1"),
        "query_string": request.query_string.encode("latin-1"),
        "root_path": "",
        # ASGI wants header names lower-cased; aiohttp keeps them as the client sent them.
        "headers": [(name.lower(), value) for name, value in request.raw_headers],
        "client": tuple(peer[:2]) if isinstance(peer, tuple) else None,
        "server": tuple(sock[:2]) if isinstance(sock, tuple) else None,
        "state": {},
    }


async def call_asgi(app: AsgiApp, request: web.Request) -> web.StreamResponse:
    """Answer ``request`` with ``app``."""
    done = asyncio.Event()
    body_sent = False
    response: web.StreamResponse | None = None

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            chunk = await request.content.read(_CHUNK)
            body_sent = request.content.at_eof()
            return {"type": "http.request", "body": chunk, "more_body": not body_sent}
        # Nothing more will come: an app that waits for the client to leave (a stream
        # watching for disconnects) is told so once this request is over.
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal response
        if message["type"] == "http.response.start":
            response = web.StreamResponse(status=message["status"])
            for name, value in message.get("headers", []):
                response.headers.add(name.decode("latin-1"), value.decode("latin-1"))
            # The app's own length, if any, stays; aiohttp must not add chunking on top of it.
            await response.prepare(request)
        elif message["type"] == "http.response.body":
            if response is None:
                raise RuntimeError("ASGI app sent a body before starting the response")
            body = message.get("body", b"")
            if body:
                await response.write(body)
            if not message.get("more_body", False):
                await response.write_eof()

    try:
        await app(asgi_scope(request), receive, send)
    finally:
        done.set()
    if response is None:
        raise web.HTTPInternalServerError(reason="the ASGI app sent no response")
    return response
