"""An optional transport that impersonates a browser's TLS and HTTP/2 fingerprint (curl_cffi).

Some networks fingerprint TLS, and a plain client is challenged whatever its headers say.
``pip install 'archiver[impersonate]'`` adds curl_cffi; this adapter gives its AsyncSession the
shape ``HttpClient`` uses from aiohttp (``request()`` as an async context manager yielding a
response with ``status``, ``headers``, ``read()`` and ``content.iter_any()``), so the limiter,
the retry policy and the error mapping stay the same for both transports.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Unpack

from archiver.errors import ConfigError, TransientError
from archiver.transport.request import RequestOptions
from archiver.transport.responses import where

IMPERSONATE = "chrome"  # curl_cffi's alias for its newest Chrome fingerprint


def curl_cffi_available() -> bool:
    try:
        import curl_cffi.requests  # noqa: F401
    except ImportError:
        return False
    return True


class _Headers:
    """Case-insensitive reads like aiohttp's CIMultiDict (get, items, getall)."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = pairs

    def get(self, name: str, default: Any = None) -> Any:
        lowered = name.lower()
        for key, value in self._pairs:
            if key.lower() == lowered:
                return value
        return default

    def getall(self, name: str, default: Any = None) -> list[str]:
        lowered = name.lower()
        found = [value for key, value in self._pairs if key.lower() == lowered]
        return found if found else ([] if default is None else default)

    def items(self) -> list[tuple[str, str]]:
        return list(self._pairs)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


class _Content:
    def __init__(self, response: Any) -> None:
        self._response = response

    async def iter_any(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_content():
            yield chunk


class _Response:
    def __init__(self, response: Any) -> None:
        self._response = response
        self.status: int = response.status_code
        self.headers = _Headers(list(response.headers.multi_items()))
        self.content = _Content(response)

    async def read(self) -> bytes:
        return bytes(await self._response.acontent())


class CurlSession:
    """curl_cffi's AsyncSession behind aiohttp's session interface (no cookie jar kept)."""

    def __init__(self, *, timeout_seconds: float = 120.0, impersonate: str = IMPERSONATE) -> None:
        try:
            from curl_cffi.requests import AsyncSession
        except ImportError:
            raise ConfigError(
                "the curl_cffi transport needs curl_cffi: pip install 'archiver[impersonate]'"
            ) from None
        self._session: Any = AsyncSession(timeout=(30, timeout_seconds))
        self._impersonate = impersonate

    async def __aenter__(self) -> CurlSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._session.close()

    @asynccontextmanager
    async def request(
        self,
        method: str,
        url: str,
        *,
        allow_redirects: bool = True,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[_Response]:
        from curl_cffi.requests.exceptions import RequestException

        params = options.get("params")
        try:
            response = await self._session.request(
                method,
                url,
                headers=dict(options.get("headers") or {}),
                params=dict(params) if params else None,
                json=options.get("json"),
                data=options.get("data"),
                impersonate=self._impersonate,
                stream=True,
                allow_redirects=allow_redirects,
                max_redirects=10,
                discard_cookies=True,
                # Our own headers win (User-Agent, languages): the fingerprint is the TLS part.
                default_headers=False,
            )
        except RequestException as exc:
            raise _connection_failed(method, url, exc) from None
        try:
            yield _Response(response)
        except RequestException as exc:
            raise _connection_failed(method, url, exc) from None
        finally:
            await response.aclose()


def _connection_failed(method: str, url: str, exc: Exception) -> TransientError:
    return TransientError(f"{where(method, url)}: connection failed ({type(exc).__name__})")


def open_session(transport: str, *, timeout_seconds: float = 120.0) -> Any:
    """An aiohttp ClientSession (default) or a CurlSession; both are async context managers."""
    if transport == "curl_cffi":
        return CurlSession(timeout_seconds=timeout_seconds)
    from archiver.transport.http import new_session

    return new_session(timeout_seconds=timeout_seconds)
