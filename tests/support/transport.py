"""What tests share about calling out: one quick retry policy, a port nothing listens on, and
handlers for the in-memory MockTransport."""

from __future__ import annotations

import re
import socket
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import formatdate
from urllib.parse import urlsplit

from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse
from werkzeug.test import EnvironBuilder

from archiver.transport.base import (
    ConnectionLost,
    Response,
    Socket,
    Transport,
    TransportTimeout,
)
from archiver.transport.http import RetryPolicy
from archiver.transport.mock import Handler, MockTransport, respond
from archiver.transport.request import Request

# Transient failures retried a few times with no real waiting (the tests' clock is a FakeClock,
# so the back-off is virtual anyway); a test about the budget itself states its own numbers
# with dataclasses.replace(FAST, ...).
FAST = RetryPolicy(max_attempts=8, max_throttles=50, backoff_base=0.01, backoff_max=0.1, jitter=0.0)


def free_port() -> int:
    """A port nothing listens on (bound, then released): a call to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def no_http(request: Request) -> Response:
    """A MockTransport handler for tests that expect no HTTP request at all."""
    raise AssertionError(f"unexpected request: {request.method} {request.url}")


def werkzeug_handler(handle: Callable[[WerkzeugRequest], WerkzeugResponse]) -> Handler:
    """A MockTransport handler from a werkzeug one (``request -> response``: what the tests'
    pytest-httpserver fakes are written as), served in memory."""

    def handler(request: Request) -> Response:
        url, headers, body = request.encode()
        parts = urlsplit(url)
        environ = EnvironBuilder(
            method=request.method,
            base_url=f"{parts.scheme}://{parts.netloc}",
            path=parts.path,
            query_string=parts.query,
            headers=list(headers.items()),
            data=body or b"",
        ).get_environ()
        answer = handle(WerkzeugRequest(environ))
        if "Date" not in answer.headers:  # as a server adds it (doctor's clock check reads it)
            answer.headers["Date"] = formatdate(usegmt=True)
        return respond(answer.status_code, body=answer.get_data(), headers=list(answer.headers))

    return handler


class InMemoryHost:
    """A transport that serves one host (``netloc``, e.g. a pytest-httpserver's) in memory
    through ``handler`` and passes every other request and socket to ``inner``."""

    def __init__(self, inner: Transport, netloc: str, handler: Handler) -> None:
        self.inner = inner
        self.netloc = netloc
        self.memory = MockTransport(handler)

    async def send(self, request: Request) -> Response:
        here = urlsplit(request.url).netloc == self.netloc
        return await (self.memory if here else self.inner).send(request)

    async def connect_socket(self, url: str, headers: Mapping[str, str] | None = None) -> Socket:
        return await self.inner.connect_socket(url, headers)

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Fault:
    """One scripted fault: the ``nth`` request (1-based) whose method is ``method`` (or
    "SOCKET" for a websocket) and whose URL path matches ``path`` (a regex) meets ``action``:

    - ``"status:502"`` (any status): answered by the faulty network, never reaching the server;
    - ``"cut"``: the server handles it, the answer is cut half-way (ConnectionLost);
    - ``"timeout"``: the server handles it, the answer never comes (TransportTimeout);
    - ``"cut:N"`` for a socket: the connection drops after N messages from the server.

    Which request is nth depends on order only among requests to the same route, so a script
    says what happens without depending on how concurrent workers interleave."""

    method: str
    path: str
    action: str
    nth: int = 1
    hit: bool = False


class ScriptedFaults:
    """A transport that passes everything to ``inner`` except what ``script`` says to break
    (``use_transport(wrap=lambda inner: ScriptedFaults(inner, script))``)."""

    def __init__(self, inner: Transport, script: Sequence[Fault]) -> None:
        self.inner = inner
        self.script = list(script)
        self._seen: Counter[tuple[str, str]] = Counter()

    def _fault(self, method: str, url: str) -> Fault | None:
        path = urlsplit(url).path
        matching = {(f.method, f.path) for f in self.script if f.method == method}
        matching = {route for route in matching if re.search(route[1], path)}
        for route in matching:
            self._seen[route] += 1
        for fault in self.script:
            route = (fault.method, fault.path)
            if route in matching and not fault.hit and self._seen[route] == fault.nth:
                fault.hit = True
                return fault
        return None

    async def send(self, request: Request) -> Response:
        fault = self._fault(request.method, request.url)
        if fault is None:
            return await self.inner.send(request)
        if fault.action.startswith("status:"):
            status = int(fault.action.split(":")[1])
            return respond(status, json={"detail": "injected by the test"})
        response = await self.inner.send(request)
        body = await response.read()
        await response.aclose()
        if fault.action == "timeout":
            raise TransportTimeout("TimeoutError")
        assert fault.action == "cut", fault
        return respond(
            response.status,
            chunks=[body[: len(body) // 2], ConnectionLost("ClientPayloadError")],
            headers=response.headers.multi_items(),
        )

    async def connect_socket(self, url: str, headers: Mapping[str, str] | None = None) -> Socket:
        socket = await self.inner.connect_socket(url, headers)
        fault = self._fault("SOCKET", url)
        if fault is None:
            return socket
        return _CutSocket(socket, int(fault.action.split(":")[1]))

    async def aclose(self) -> None:
        await self.inner.aclose()


class _CutSocket:
    def __init__(self, inner: Socket, messages: int) -> None:
        self.inner = inner
        self.left = messages

    async def send_text(self, text: str) -> None:
        await self.inner.send_text(text)

    async def receive(self) -> str | bytes | None:
        if self.left <= 0:
            await self.inner.aclose()
            raise ConnectionLost("ServerDisconnectedError")
        self.left -= 1
        return await self.inner.receive()

    async def aclose(self) -> None:
        await self.inner.aclose()
