"""A transport that impersonates a browser's TLS and HTTP/2 fingerprint (curl_cffi).

Some networks fingerprint TLS, and a plain client is challenged whatever its headers say.
``pip install 'archiver[impersonate]'`` adds curl_cffi. It implements the same seam as the
aiohttp transport, so the limiter, the retry policy and the error mapping above it stay the same.
Our own headers win over curl's browser defaults (User-Agent, languages): the fingerprint is the
TLS part. No cookie jar is kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from archiver.errors import ConfigError
from archiver.transport import base
from archiver.transport.request import Request

IMPERSONATE = "chrome"  # curl_cffi's alias for its newest Chrome fingerprint
_REFUSED_UPGRADE = re.compile(r"upgrade: (\d{3})", re.IGNORECASE)


def curl_cffi_available() -> bool:
    try:
        import curl_cffi.requests  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def _mapped() -> Iterator[None]:
    """curl_cffi's exceptions as the seam's, by class name (never its text: it holds the URL)."""
    from curl_cffi.requests import exceptions

    try:
        yield
    except (exceptions.InvalidURL, exceptions.MissingSchema, exceptions.InvalidSchema) as exc:
        raise base.InvalidURL(type(exc).__name__) from None
    except exceptions.Timeout as exc:
        raise base.TransportTimeout(type(exc).__name__) from None
    except (exceptions.DNSError, exceptions.ConnectionError) as exc:
        raise base.ConnectFailed(type(exc).__name__) from None
    except exceptions.RequestException as exc:
        raise base.ConnectionLost(type(exc).__name__) from None


class _Body:
    def __init__(self, response: Any) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped():
            async for chunk in self._response.aiter_content():
                yield bytes(chunk)

    async def aclose(self) -> None:
        await self._response.aclose()


class _Socket:
    def __init__(self, ws: Any) -> None:
        self._ws = ws

    async def send_text(self, text: str) -> None:
        try:
            await self._ws.send_str(text)
        except Exception as exc:  # curl_cffi's WebSocketError family
            raise base.ConnectionLost(type(exc).__name__) from None

    async def receive(self) -> str | bytes | None:
        from curl_cffi.const import CurlWsFlag

        try:
            data, flags = await self._ws.recv()
        except Exception as exc:
            if getattr(self._ws, "closed", False):
                return None
            raise base.ConnectionLost(type(exc).__name__) from None
        if flags & CurlWsFlag.CLOSE:
            return None
        return data if flags & CurlWsFlag.BINARY else data.decode("utf-8", "replace")

    async def aclose(self) -> None:
        await self._ws.close()


class CurlTransport:
    def __init__(self, *, timeout_seconds: float = 120.0, impersonate: str = IMPERSONATE) -> None:
        try:
            from curl_cffi.requests import AsyncSession
        except ImportError:
            raise ConfigError(
                "the curl_cffi transport needs curl_cffi: pip install 'archiver[impersonate]'"
            ) from None
        # Every request streams, and curl_cffi then reads its timeout as libcurl's "under
        # 1 byte/s for N whole seconds" (a (connect, read) pair would add the two up): one
        # number, in whole seconds, is the read timeout (and the connect timeout).
        self._session: Any = AsyncSession(timeout=max(1, math.ceil(timeout_seconds)))
        self._impersonate = impersonate

    async def send(self, request: Request) -> base.Response:
        url, headers, body = request.encode()
        with _mapped():
            response = await self._session.request(
                request.method,
                url,
                headers=headers,
                data=body,
                impersonate=self._impersonate,
                stream=True,
                allow_redirects=False,  # HttpClient follows them (credentials stay home)
                discard_cookies=True,
                default_headers=False,
            )
        return base.Response(
            response.status_code,
            base.Headers(response.headers.multi_items()),
            str(response.url),
            _Body(response),
        )

    async def connect_socket(self, url: str, headers: Mapping[str, str] | None = None) -> _Socket:
        try:
            ws = await self._session.ws_connect(
                url, headers=dict(headers or {}), impersonate=self._impersonate
            )
        except Exception as exc:
            # libcurl says a refused upgrade only in its text ("Refused WebSocket upgrade:
            # 401"); the status is all that is taken from it.
            refused = _REFUSED_UPGRADE.search(str(exc))
            if refused:
                raise base.SocketRefused(int(refused[1])) from None
            raise base.ConnectFailed(type(exc).__name__) from None
        return _Socket(ws)

    async def aclose(self) -> None:
        await self._session.close()
