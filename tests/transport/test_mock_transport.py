"""MockTransport under the real HttpClient: what a failure at the seam becomes above it, and
the in-memory websocket; ``use_transport`` puts a transport under everything a run opens."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from archiver.errors import ConfigError, TransientError, UnreachableError, UpstreamError
from archiver.transport.base import (
    ConnectFailed,
    ConnectionLost,
    InvalidURL,
    Response,
    SocketRefused,
    TransportTimeout,
    connected,
    messages,
)
from archiver.transport.connect import open_transport, use_transport
from archiver.transport.http import HttpClient, RetryPolicy
from archiver.transport.mock import MockPeer, MockTransport, respond
from archiver.transport.ratelimit import RateLimiter
from archiver.transport.request import FormField, Request, encode_multipart
from tests.support.transport import FAST, no_http

URL = "https://upstream.test/api/items?sig=secret-signature"


def client(handler: Any, policy: RetryPolicy = FAST) -> HttpClient:
    return HttpClient(MockTransport(handler), RateLimiter(None), policy)


def test_json_goes_out_encoded_once_and_comes_back_with_its_headers() -> None:
    transport = MockTransport(
        lambda request: respond(json={"got": request.json}, headers={"X-Answer": "1"})
    )
    http = HttpClient(transport, RateLimiter(None), FAST)
    payload, headers = asyncio.run(
        http.request_json_with_headers("POST", URL, json={"a": 1}, params={"page": "2"})
    )
    assert payload == {"got": {"a": 1}} and headers["x-answer"] == "1"
    (sent,) = transport.requests
    url, wire_headers, body = sent.encode()
    assert url == URL + "&page=2"
    assert wire_headers["Content-Type"] == "application/json" and body == b'{"a": 1}'


@pytest.mark.parametrize(
    ("failure", "expected", "words"),
    [
        (ConnectFailed("ClientConnectorError"), UnreachableError, "connection to upstream.test"),
        (TransportTimeout("TimeoutError"), TransientError, "upstream.test timed out"),
        (ConnectionLost("ServerDisconnectedError"), TransientError, "connection to"),
        (InvalidURL("InvalidURL"), ConfigError, "not a valid URL"),
    ],
)
def test_a_failed_connection_becomes_the_archiver_error_it_means(
    failure: Exception, expected: type[Exception], words: str
) -> None:
    def handler(request: Request) -> Response:
        raise failure

    with pytest.raises(expected) as caught:
        asyncio.run(client(handler, RetryPolicy(max_attempts=1)).request_json("GET", URL))
    assert words in str(caught.value)
    assert "secret-signature" not in str(caught.value)  # never the query string


def test_redirects_are_followed_by_the_client_up_to_a_limit() -> None:
    hops: list[str] = []

    def loop(request: Request) -> Response:
        hops.append(request.url)
        return respond(302, headers={"Location": f"/hop{len(hops)}"})

    with pytest.raises(UpstreamError, match="redirected too many times"):
        asyncio.run(client(loop).request_json("GET", URL))
    assert hops[1] == "https://upstream.test/hop1" and len(hops) == 11


def test_a_cut_stream_is_retried_as_a_whole() -> None:
    answers = [
        respond(chunks=[b"data: 1\n", ConnectionLost("ClientPayloadError")]),
        respond(chunks=[b"data: 1\n", b"data: 2\n"]),
    ]

    async def consume(chunks: Any) -> bytes:
        return b"".join([chunk async for chunk in chunks])

    http = client(lambda request: answers.pop(0))
    assert asyncio.run(http.request_stream("GET", URL, consume)) == b"data: 1\ndata: 2\n"
    assert http.stats.requests == 2 and http.stats.retries == 1


def test_an_async_handler_and_a_multipart_form() -> None:
    async def handler(request: Request) -> Response:
        await asyncio.sleep(0)
        _, headers, body = request.encode()
        return respond(json={"type": headers["Content-Type"], "size": len(body or b"")})

    fields = [FormField("purpose", "batch"), FormField("file", b"{}\n", filename="a.jsonl")]
    answer = asyncio.run(client(handler).request_json("POST", URL, form=fields))
    assert answer["type"].startswith("multipart/form-data; boundary=")
    body, content_type = encode_multipart(fields, boundary="XyZ")
    assert content_type == "multipart/form-data; boundary=XyZ"
    assert body == (
        b'--XyZ\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.jsonl"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n{}\n\r\n--XyZ--\r\n"
    )


def test_a_request_has_one_body() -> None:
    with pytest.raises(ValueError, match="one body"):
        Request("POST", URL, json={}, data=b"x")


def test_an_in_memory_socket_talks_both_ways_and_can_be_refused_or_cut() -> None:
    async def server(peer: MockPeer) -> None:
        if peer.headers.get("authorization") != "ok":
            raise SocketRefused(403)
        await peer.send("hello")
        question = await peer.receive()
        await peer.send(f"you said {question}")
        if question == "cut":
            peer.cut()
            return
        peer.close()

    async def main() -> None:
        transport = MockTransport(no_http, server)
        async with connected(transport, "wss://x/chat", {"Authorization": "ok"}) as socket:
            assert await socket.receive() == "hello"
            await socket.send_text("hi")
            assert [m async for m in messages(socket)] == ["you said hi"]
        async with connected(transport, "wss://x/chat", {"Authorization": "ok"}) as socket:
            await socket.receive()
            await socket.send_text("cut")
            assert await socket.receive() == "you said cut"
            with pytest.raises(ConnectionLost):
                await socket.receive()
        with pytest.raises(SocketRefused):
            await transport.connect_socket("wss://x/chat", {"Authorization": "no"})
        assert transport.sockets == ["wss://x/chat"] * 3

    asyncio.run(main())


def test_a_socket_handlers_own_error_reaches_the_test() -> None:
    async def broken(peer: MockPeer) -> None:
        await peer.send("first")
        raise AssertionError("the fake server's own bug")

    async def main() -> None:
        async with connected(MockTransport(no_http, broken), "wss://x") as socket:
            assert await socket.receive() == "first"
            with pytest.raises(AssertionError, match="own bug"):
                await socket.receive()

    asyncio.run(main())


def test_use_transport_is_what_every_open_yields_and_wrap_wraps_the_real_one() -> None:
    mock = MockTransport(no_http)
    wrapped: list[object] = []

    def wrap(inner: Any) -> Any:
        wrapped.append(inner)
        return mock

    async def opened(name: str) -> object:
        async with open_transport(name) as transport:
            return transport

    with use_transport(mock):
        assert asyncio.run(opened("aiohttp")) is mock
        assert asyncio.run(opened("curl_cffi")) is mock  # whatever the run asked for
    with use_transport(wrap=wrap):
        assert asyncio.run(opened("aiohttp")) is mock
    assert type(wrapped[0]).__name__ == "AiohttpTransport"
    with pytest.raises(TypeError), use_transport():
        pass
