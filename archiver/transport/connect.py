"""Opening a transport by name: ``open_transport("aiohttp" | "curl_cffi", timeout_seconds=)``.

Every session a run opens (a backup's, a batch's, the gateway's, the account tools') is opened
here, so a test can put its own transport under all of them at once with ``use_transport``:
production code never sets it. The libraries are imported only when a transport is opened, so
commands that never call out start without them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

from archiver.errors import ConfigError
from archiver.transport.base import Transport

TRANSPORTS = ("aiohttp", "curl_cffi")
DEFAULT_TIMEOUT = 120.0  # seconds a read may stay silent

_given: ContextVar[Transport | None] = ContextVar("archiver_transport", default=None)


@contextmanager
def use_transport(transport: Transport) -> Iterator[Transport]:
    """Within the block (and the tasks and ``asyncio.run`` calls it starts), every
    ``open_transport`` yields ``transport`` instead of opening one; it is not closed by them."""
    token = _given.set(transport)
    try:
        yield transport
    finally:
        _given.reset(token)


def make_transport(name: str = "aiohttp", *, timeout_seconds: float = DEFAULT_TIMEOUT) -> Transport:
    if name == "aiohttp":
        from archiver.transport.aiohttp_transport import AiohttpTransport

        return AiohttpTransport(timeout_seconds=timeout_seconds)
    if name == "curl_cffi":
        from archiver.transport.curl import CurlTransport

        return CurlTransport(timeout_seconds=timeout_seconds)
    raise ConfigError(f"unknown transport {name!r}: choose one of {', '.join(TRANSPORTS)}")


@asynccontextmanager
async def open_transport(
    name: str = "aiohttp", *, timeout_seconds: float = DEFAULT_TIMEOUT
) -> AsyncIterator[Transport]:
    """The named transport, closed at the end of the block (or the test's, left open)."""
    given = _given.get()
    if given is not None:
        yield given
        return
    transport = make_transport(name, timeout_seconds=timeout_seconds)
    try:
        yield transport
    finally:
        await transport.aclose()
