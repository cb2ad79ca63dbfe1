"""An in-memory transport for tests: a handler answers each request, no socket is opened.

    def handler(request: Request) -> Response:        # or async def
        if request.url.endswith("/conversations"):
            return respond(json={"items": []})
        return respond(404, json={"detail": "Not Found"})

    transport = MockTransport(handler)

A handler fails a connection by raising a ``TransportError`` (``ConnectFailed``,
``TransportTimeout``), or cuts a body part-way with ``respond(chunks=[b"...", ConnectionLost("cut")])``.
``socket_handler(peer)`` serves websockets: it talks to the client through ``peer`` and refuses
the handshake by raising ``SocketRefused(status)`` before its first word. Every request and
socket URL is kept in ``requests`` / ``sockets``, in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

from archiver.transport.base import ConnectionLost, Headers, Response, TransportError
from archiver.transport.request import Request

Chunk = bytes | TransportError  # an error in a body's chunks cuts it there
Handler = Callable[[Request], Response | Awaitable[Response]]
SocketHandler = Callable[["MockPeer"], Awaitable[None]]


class _Chunks:
    def __init__(self, chunks: Iterable[Chunk] | AsyncIterable[Chunk]) -> None:
        self._chunks = chunks
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if isinstance(self._chunks, AsyncIterable):
            async for chunk in self._chunks:
                yield _checked(chunk)
        else:
            for chunk in self._chunks:
                yield _checked(chunk)

    async def aclose(self) -> None:
        self.closed = True


def _checked(chunk: Chunk) -> bytes:
    if isinstance(chunk, TransportError):
        raise chunk
    return chunk


def respond(
    status: int = 200,
    *,
    json: Any = None,
    body: bytes | str = b"",
    chunks: Iterable[Chunk] | AsyncIterable[Chunk] | None = None,
    headers: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    url: str = "",
) -> Response:
    """A Response from a handler: ``json`` (with its Content-Type), ``body``, or ``chunks`` (a
    streamed body; an async iterable may pause between chunks)."""
    pairs = Headers(headers)
    if json is not None:
        body = jsonlib.dumps(json)
        if "Content-Type" not in pairs:
            pairs = Headers([*pairs.multi_items(), ("Content-Type", "application/json")])
    raw = body.encode("utf-8") if isinstance(body, str) else body
    stream = _Chunks(chunks if chunks is not None else [raw])
    return Response(status, pairs, url, stream)


class MockPeer:
    """The server's end of an in-memory websocket."""

    def __init__(self, url: str, headers: Mapping[str, str]) -> None:
        self.url = url
        self.headers = Headers(headers)
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._to_client: asyncio.Queue[str | bytes | BaseException | None] = asyncio.Queue()
        self._to_server: asyncio.Queue[str | None] = asyncio.Queue()

    def _open(self) -> None:
        if not self.opened.done():
            self.opened.set_result(None)

    async def send(self, message: str | bytes) -> None:
        self._open()
        await self._to_client.put(message)

    async def receive(self) -> str | None:
        """The client's next message; None once the client closed the socket."""
        self._open()
        return await self._to_server.get()

    def close(self) -> None:
        self._open()
        self._to_client.put_nowait(None)

    def cut(self) -> None:
        """Drop the connection: the client's next receive raises ConnectionLost."""
        self._open()
        self._to_client.put_nowait(ConnectionLost("cut by the test's server"))


class MockSocket:
    """The client's end: what ``MockTransport.connect_socket`` returns."""

    def __init__(self, peer: MockPeer, task: asyncio.Task[None]) -> None:
        self._peer = peer
        self._task = task
        self._closed = False
        self._surfaced = False  # the handler's own error was raised to the client already

    async def send_text(self, text: str) -> None:
        if self._closed:
            raise ConnectionLost("socket closed")
        await self._peer._to_server.put(text)

    async def receive(self) -> str | bytes | None:
        if self._closed:
            return None
        getter = asyncio.ensure_future(self._peer._to_client.get())
        await asyncio.wait([getter, self._task], return_when=asyncio.FIRST_COMPLETED)
        if not getter.done():  # the handler ended: what it left queued, then its end
            getter.cancel()
            if not self._peer._to_client.empty():
                return self._unpack(self._peer._to_client.get_nowait())
            self._closed = True
            self._surfaced = True
            self._task.result()  # a handler's own error (a failing assertion) surfaces here
            return None
        return self._unpack(getter.result())

    def _unpack(self, message: str | bytes | BaseException | None) -> str | bytes | None:
        if isinstance(message, BaseException):
            self._closed = True
            raise message
        if message is None:
            self._closed = True
        return message

    async def aclose(self) -> None:
        self._closed = True
        self._peer._to_server.put_nowait(None)
        if self._task.done():
            if not self._surfaced and not self._task.cancelled():
                self._task.result()  # an error the client never read is not lost either
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


class MockTransport:
    def __init__(self, handler: Handler, socket_handler: SocketHandler | None = None) -> None:
        self.handler = handler
        self.socket_handler = socket_handler
        self.requests: list[Request] = []
        self.sockets: list[str] = []

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        answer = self.handler(request)
        response = await answer if isinstance(answer, Awaitable) else answer
        if not response.url:
            response.url = request.full_url()
        return response

    async def connect_socket(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> MockSocket:
        if self.socket_handler is None:
            raise AssertionError(f"MockTransport has no socket_handler for {url}")
        self.sockets.append(url)
        peer = MockPeer(url, headers or {})
        task = asyncio.ensure_future(self.socket_handler(peer))
        await asyncio.wait([peer.opened, task], return_when=asyncio.FIRST_COMPLETED)
        if not peer.opened.done():  # ended before a word: refused (it raised) or just closed
            task.result()
            peer.close()
        return MockSocket(peer, task)

    async def aclose(self) -> None:
        pass
