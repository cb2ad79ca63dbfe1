"""Opening a transport by name: ``open_transport("aiohttp" | "curl_cffi", timeout_seconds=)``.

Every session a run opens (a backup's, a batch's, the gateway's, the account tools') is opened
here, so a test can put its own transport under all of them at once with ``use_transport``:
production code never sets it. The libraries are imported only when a transport is opened, so
commands that never call out start without them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar

from archiver.errors import ConfigError
from archiver.transport.base import Transport

TRANSPORTS = ("aiohttp", "curl_cffi")
DEFAULT_TIMEOUT = 120.0  # seconds a read may stay silent

Wrap = Callable[[Transport], Transport]
_given: ContextVar[Transport | Wrap | None] = ContextVar("archiver_transport", default=None)


@contextmanager
def use_transport(
    transport: Transport | None = None, *, wrap: Wrap | None = None
) -> Iterator[None]:
    """Within the block (and the tasks and ``asyncio.run`` calls it starts), every
    ``open_transport`` yields ``transport`` instead of opening one (and leaves it open), or,
    with ``wrap``, opens the real one and yields ``wrap(real)`` (a test's scripted faults)."""
    if (transport is None) == (wrap is None):
        raise TypeError("use_transport takes a transport or wrap=, not both")
    token = _given.set(transport if transport is not None else wrap)
    try:
        yield
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
    if given is not None and not callable(given):
        yield given
        return
    transport = make_transport(name, timeout_seconds=timeout_seconds)
    try:
        yield transport if given is None else given(transport)
    finally:
        await transport.aclose()
