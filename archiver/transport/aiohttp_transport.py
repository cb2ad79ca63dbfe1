"""The default transport: an aiohttp client session that keeps no cookies (credentials are
sent explicitly, per request). The only module that imports aiohttp's client side."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import aiohttp

from archiver.transport import base
from archiver.transport.request import Request

# aiohttp >= 3.10 tells a connect timeout (nothing answered) from a read timeout.
_CONNECT_TIMEOUT: Any = getattr(aiohttp, "ConnectionTimeoutError", ())


@contextmanager
def _mapped() -> Iterator[None]:
    """aiohttp's exceptions as the seam's (class names only: its texts can hold the URL)."""
    try:
        yield
    except aiohttp.WSServerHandshakeError as exc:
        raise base.SocketRefused(exc.status, dict(exc.headers or {})) from None
    except aiohttp.InvalidURL as exc:
        raise base.InvalidURL(type(exc).__name__) from None
    except _CONNECT_TIMEOUT as exc:  # no connection was made at all, as for a refusal
        raise base.ConnectFailed(type(exc).__name__) from None
    except TimeoutError as exc:  # aiohttp's socket timeouts are TimeoutErrors
        raise base.TransportTimeout(type(exc).__name__) from None
    except aiohttp.ClientConnectorError as exc:
        raise base.ConnectFailed(type(exc).__name__) from None
    except (aiohttp.ClientError, ConnectionError) as exc:  # payload, disconnects, resets
        raise base.ConnectionLost(type(exc).__name__) from None


class _Body:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        self._response.release()


class _Socket:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._ws = ws

    async def send_text(self, text: str) -> None:
        with _mapped():
            await self._ws.send_str(text)

    async def receive(self) -> str | bytes | None:
        while True:
            with _mapped():
                message = await self._ws.receive()
            if message.type == aiohttp.WSMsgType.TEXT:
                return str(message.data)
            if message.type == aiohttp.WSMsgType.BINARY:
                return bytes(message.data)
            if message.type == aiohttp.WSMsgType.ERROR:
                raise base.ConnectionLost(type(self._ws.exception()).__name__)
            if message.type in (
                aiohttp.WSMsgType.CLOSE,
                aiohttp.WSMsgType.CLOSING,
                aiohttp.WSMsgType.CLOSED,
            ):
                return None
            # PING/PONG: answered by autoping

    async def aclose(self) -> None:
        await self._ws.close()


class AiohttpTransport:
    def __init__(self, *, timeout_seconds: float = 120.0) -> None:
        self.timeout_seconds = timeout_seconds
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:  # made on first use: it must be made inside the event loop
            timeout = aiohttp.ClientTimeout(total=None, connect=30, sock_read=self.timeout_seconds)
            self._session = aiohttp.ClientSession(
                timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def send(self, request: Request) -> base.Response:
        url, headers, body = request.encode()
        with _mapped():
            response = await self.session.request(
                request.method, url, headers=headers, data=body, allow_redirects=False
            )
        return base.Response(
            response.status,
            base.Headers(response.headers.items()),
            str(response.url),
            _Body(response),
        )

    async def connect_socket(self, url: str, headers: Mapping[str, str] | None = None) -> _Socket:
        with _mapped():
            ws = await self.session.ws_connect(url, headers=dict(headers or {}), autoping=True)
        return _Socket(ws)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
