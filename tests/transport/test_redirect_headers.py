"""A redirect to another host carries none of the account's headers (issue #26): a file
download that answers 302 to a storage host used to forward ``Chatgpt-Account-Id`` and
``oai-device-id`` there (aiohttp drops only Authorization and Cookie on its own)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from archiver.config import Secret
from archiver.providers.chatgpt.client import ChatGPTSettings
from archiver.providers.chatgpt.signed import open_chatgpt_http
from archiver.transport.http import HttpClient, RetryPolicy, new_session
from archiver.transport.pace import ClientPace
from archiver.transport.ratelimit import RateLimiter

ACCOUNT_HEADERS = ("Authorization", "Chatgpt-Account-Id", "oai-device-id", "Cookie")


def recorder(seen: list[dict[str, str]], body: bytes = b"bytes of the file"):
    def handler(request: Request) -> Response:
        seen.append(dict(request.headers))
        return Response(body)

    return handler


async def _consume(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([c async for c in chunks])


def test_a_download_redirected_to_another_host_sends_no_account_header(
    httpserver: HTTPServer,
) -> None:
    port = httpserver.port
    own = f"http://127.0.0.1:{port}/backend-api"
    storage = f"http://localhost:{port}/blob/file-x?sig=1"  # another host (a name, not the IP)
    first: list[dict[str, str]] = []
    second: list[dict[str, str]] = []

    def download(request: Request) -> Response:
        first.append(dict(request.headers))
        return Response(status=302, headers={"Location": storage})

    httpserver.expect_request("/backend-api/files/file-x/content").respond_with_handler(download)
    httpserver.expect_request("/blob/file-x").respond_with_handler(recorder(second))
    settings = ChatGPTSettings(
        base_url=own, token=Secret("tok-123"), account_id="acct-9", device_id="dev-7"
    )
    url = f"{own}/files/file-x/content"

    async def go() -> bytes:
        async with open_chatgpt_http(settings, ClientPace(None)) as http:
            return await http.request_stream(
                "GET", url, _consume, headers=settings.headers_for(url)
            )

    assert asyncio.run(go()) == b"bytes of the file"
    assert first and first[0]["Authorization"] == "Bearer tok-123"
    assert first[0]["Chatgpt-Account-Id"] == "acct-9" and first[0]["Oai-Device-Id"] == "dev-7"
    assert len(second) == 1
    leaked = {h for h in ACCOUNT_HEADERS if any(k.lower() == h.lower() for k in second[0])}
    assert leaked == set(), second[0]
    assert second[0]["User-Agent"] == first[0]["User-Agent"]  # a browser keeps these


def _client_call(method: str, url: str, headers: dict[str, str], **options: Any) -> Any:
    async def go() -> Any:
        async with new_session() as session:
            http = HttpClient(session, RateLimiter(None), RetryPolicy(max_attempts=1))
            return await http.request_json(method, url, headers=headers, **options)

    return asyncio.run(go())


def test_any_client_keeps_its_headers_on_its_own_host_only(httpserver: HTTPServer) -> None:
    port = httpserver.port
    same: list[dict[str, str]] = []
    other: list[dict[str, str]] = []
    httpserver.expect_request("/start").respond_with_response(
        Response(status=307, headers={"Location": "/same"})
    )

    def on_same(request: Request) -> Response:
        same.append(dict(request.headers))
        return Response(status=302, headers={"Location": f"http://localhost:{port}/other"})

    def on_other(request: Request) -> Response:
        other.append(dict(request.headers))
        return Response('{"ok": true}')

    httpserver.expect_request("/same").respond_with_handler(on_same)
    httpserver.expect_request("/other").respond_with_handler(on_other)
    headers = {"X-Account-Secret": "s3", "User-Agent": "ua", "Accept": "application/json"}
    assert _client_call("GET", f"http://127.0.0.1:{port}/start", headers) == {"ok": True}
    assert same[0]["X-Account-Secret"] == "s3"  # a redirect on the same host keeps them
    assert "X-Account-Secret" not in other[0] and other[0]["User-Agent"] == "ua"


def test_a_post_redirected_with_303_becomes_a_get(httpserver: HTTPServer) -> None:
    seen: list[str] = []
    httpserver.expect_request("/post", method="POST").respond_with_response(
        Response(status=303, headers={"Location": "/result"})
    )

    def on_result(request: Request) -> Response:
        seen.append(request.method)
        return Response('{"done": 1}')

    httpserver.expect_request("/result").respond_with_handler(on_result)
    url = httpserver.url_for("/post")
    assert _client_call("POST", url, {}, json={"a": 1}) == {"done": 1}
    assert seen == ["GET"]


def test_endless_redirects_stop_with_a_clear_error(httpserver: HTTPServer) -> None:
    import pytest

    from archiver.errors import UpstreamError

    httpserver.expect_request("/loop").respond_with_response(
        Response(status=302, headers={"Location": "/loop"})
    )
    with pytest.raises(UpstreamError, match="redirected too many times"):
        _client_call("GET", httpserver.url_for("/loop"), {})
