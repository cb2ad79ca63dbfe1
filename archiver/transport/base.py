"""The transport seam: what every upstream call goes through, and nothing more.

A ``Transport`` does two things: ``send(Request) -> Response`` (one HTTP exchange: no
redirect followed, no retries; HttpClient follows redirects itself, to keep credentials on
their own host) and ``connect_socket(url, headers) -> Socket`` (a websocket, for the chat
turns of Bing's ChatHub and Copilot). Everything above it (the limiter, the retry policy, error
messages, signing) lives in ``HttpClient`` and the provider clients, and is the same whichever
transport carries the bytes: aiohttp (the default), curl_cffi (a browser's TLS fingerprint) or
``MockTransport`` (in memory, for tests).

Implementations raise only the ``TransportError`` family below for a failure of the connection
(the library's own exception types never leave them), and a ``Response`` for any HTTP status:
judging a 4xx/5xx is the caller's business (``responses.py``). Error texts name no URL: a query
string can carry a credential.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Protocol, Self

from archiver.transport.request import Request


class TransportError(Exception):
    """The connection failed: no HTTP answer (or not all of it) came back. ``reason`` names what
    the library saw (an exception class name), for messages; never a URL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidURL(TransportError):
    """The URL cannot be requested at all (a configuration mistake, not worth retrying)."""


class ConnectFailed(TransportError):
    """Nothing answered: refused, unresolvable, unreachable."""


class TransportTimeout(TransportError):
    """The server went silent longer than the transport's read timeout."""


class ConnectionLost(TransportError):
    """The connection broke after it was made: a cut body, a dropped socket."""


class SocketRefused(TransportError):
    """A websocket handshake answered an HTTP status instead of switching protocols."""

    def __init__(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"handshake answered {status}")
        self.status = status
        self.headers = Headers(headers or {})


class Headers(Mapping[str, str]):
    """Response headers: case-insensitive, repeatable (``getall("Set-Cookie")``); as a Mapping
    a name reads its first value."""

    def __init__(self, pairs: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> None:
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        self._pairs = [(str(k), str(v)) for k, v in items]

    def getall(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self._pairs if key.lower() == lowered]

    def __getitem__(self, name: str) -> str:
        found = self.getall(name)
        if not found:
            raise KeyError(name)
        return found[0]

    def __iter__(self) -> Iterator[str]:
        seen: set[str] = set()
        for key, _ in self._pairs:
            if key.lower() not in seen:
                seen.add(key.lower())
                yield key

    def __len__(self) -> int:
        return len({key.lower() for key, _ in self._pairs})

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def lowered(self) -> dict[str, str]:
        """Lower-cased names, first value each: what callers that keep headers store."""
        return {key.lower(): self[key] for key in self}

    def __repr__(self) -> str:  # names only: values can be cookies
        return f"Headers({sorted(self.lowered())})"


class ByteStream(Protocol):
    """A response body as the transport hands it over: chunks, then ``aclose``."""

    def __aiter__(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


class Response:
    """One HTTP answer: ``status``, ``headers``, the ``url`` it answers, and a body
    read whole (``read``) or in chunks (``iter_chunks``), once. Close it (``async with``) to
    give the connection back, read or not."""

    def __init__(self, status: int, headers: Headers, url: str, stream: ByteStream) -> None:
        self.status = status
        self.headers = headers
        self.url = url
        self._stream = stream
        self._body: bytes | None = None
        self._consumed = False

    async def read(self) -> bytes:
        if self._body is None:
            self._body = b"".join([chunk async for chunk in self.iter_chunks()])
        return self._body

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        if self._body is not None:
            yield self._body
            return
        if self._consumed:
            raise RuntimeError("the response body was already read")
        self._consumed = True
        async for chunk in self._stream:
            if chunk:
                yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class Socket(Protocol):
    """A websocket: text out, text or bytes in; ``receive`` answers None once it is closed.
    A connection that breaks raises ConnectionLost."""

    async def send_text(self, text: str) -> None: ...

    async def receive(self) -> str | bytes | None: ...

    async def aclose(self) -> None: ...


@asynccontextmanager
async def connected(
    transport: Transport, url: str, headers: Mapping[str, str] | None = None
) -> AsyncIterator[Socket]:
    """A websocket for the ``async with`` block, closed after it."""
    socket = await transport.connect_socket(url, headers)
    try:
        yield socket
    finally:
        await socket.aclose()


async def messages(socket: Socket) -> AsyncIterator[str | bytes]:
    """Every message until the socket closes."""
    while True:
        message = await socket.receive()
        if message is None:
            return
        yield message


class Transport(Protocol):
    """See the module docstring. ``aclose`` releases connections; a transport is used from one
    event loop."""

    async def send(self, request: Request) -> Response: ...

    async def connect_socket(
        self, url: str, headers: Mapping[str, str] | None = None
    ) -> Socket: ...

    async def aclose(self) -> None: ...
