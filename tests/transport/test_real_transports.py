"""The seam's contract, for each real transport (aiohttp, and curl_cffi when installed), against
a small aiohttp server on 127.0.0.1 in the test's own event loop: what every transport must do
the same way, so that everything above the seam can ignore which one carries the bytes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from archiver.transport.base import (
    ConnectFailed,
    ConnectionLost,
    SocketRefused,
    Transport,
    TransportTimeout,
    connected,
    messages,
)
from archiver.transport.connect import make_transport
from archiver.transport.curl import curl_cffi_available
from archiver.transport.request import FormField, Request
from tests.support.transport import free_port

NAMES = [
    "aiohttp",
    pytest.param(
        "curl_cffi",
        marks=pytest.mark.skipif(not curl_cffi_available(), reason="curl_cffi is not installed"),
    ),
]


async def echo(request: web.Request) -> web.Response:
    """What arrived: method, query, the headers a test set, the body and its content type."""
    body = await request.read()
    return web.json_response(
        {
            "method": request.method,
            "query": dict(request.query),
            "x_test": request.headers.get("X-Test"),
            "content_type": request.headers.get("Content-Type"),
            "body": body.decode("utf-8", "replace"),
        },
        headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("X-Answer", "yes")],
    )


async def form(request: web.Request) -> web.Response:
    posted = await request.post()
    upload = posted["file"]
    assert isinstance(upload, web.FileField)
    return web.json_response(
        {
            "purpose": posted["purpose"],
            "filename": upload.filename,
            "content": upload.file.read().decode(),
        }
    )


async def streamed(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse()
    await response.prepare(request)
    for i in range(3):
        await response.write(f"data: {i}\n\n".encode())
        await asyncio.sleep(0)
    return response


async def cut(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Length": "100"})
    await response.prepare(request)
    await response.write(b"only part of it")
    assert request.transport is not None
    request.transport.close()
    return response


async def stall(request: web.Request) -> web.Response:
    await asyncio.sleep(30)  # longer than the client's read timeout: cancelled at teardown
    return web.Response()


async def redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/echo?moved=1")


async def socket_echo(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Authorization") != "Bearer ok":
        return web.json_response({"detail": "no"}, status=401)
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.data == "bye":
            break
        await ws.send_str(f"echo {message.data}")
        await ws.send_bytes(b"\x00raw")
    await ws.close()
    return ws


@asynccontextmanager
async def served() -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_post("/form", form)
    app.router.add_get("/stream", streamed)
    app.router.add_get("/cut", cut)
    app.router.add_get("/stall", stall)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/socket", socket_echo)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def scenario(
    name: str, test: Callable[[Transport, str], Awaitable[None]], timeout: float = 5.0
) -> None:
    async def go() -> None:
        async with served() as base:
            transport = make_transport(name, timeout_seconds=timeout)
            try:
                await test(transport, base)
            finally:
                await transport.aclose()

    asyncio.run(go())


@pytest.mark.parametrize("name", NAMES)
def test_json_query_headers_and_repeated_response_headers(name: str) -> None:
    async def test(transport: Transport, base: str) -> None:
        request = Request(
            "POST",
            f"{base}/echo?a=1",
            headers={"X-Test": "yes"},
            params={"b": "two words"},
            json={"q": "ü"},
        )
        async with await transport.send(request) as response:
            seen = json.loads(await response.read())
            assert response.status == 200
            assert response.headers["x-answer"] == response.headers["X-ANSWER"] == "yes"
            assert response.headers.getall("set-cookie") == ["a=1", "b=2"]
        assert seen["query"] == {"a": "1", "b": "two words"}
        assert seen["x_test"] == "yes" and seen["content_type"] == "application/json"
        assert json.loads(seen["body"]) == {"q": "ü"}

    scenario(name, test)


@pytest.mark.parametrize("name", NAMES)
def test_raw_bytes_and_a_multipart_upload(name: str) -> None:
    async def test(transport: Transport, base: str) -> None:
        raw = Request("PUT", f"{base}/echo", data=b"a,b\n1,2\n", content_type="text/csv")
        async with await transport.send(raw) as response:
            seen = json.loads(await response.read())
        assert (seen["content_type"], seen["body"]) == ("text/csv", "a,b\n1,2\n")
        upload = Request(
            "POST",
            f"{base}/form",
            form=[
                FormField("purpose", "batch"),
                FormField("file", b'{"custom_id": "r1"}\n', filename="in put.jsonl"),
            ],
        )
        async with await transport.send(upload) as response:
            assert response.status == 200
            posted = json.loads(await response.read())
        assert posted == {
            "purpose": "batch",
            "filename": "in put.jsonl",
            "content": '{"custom_id": "r1"}\n',
        }

    scenario(name, test)


@pytest.mark.parametrize("name", NAMES)
def test_a_redirect_is_answered_not_followed(name: str) -> None:
    """HttpClient follows redirects itself (a hop to another host must not carry the
    credentials): a transport hands the 302 back as it came."""

    async def test(transport: Transport, base: str) -> None:
        async with await transport.send(Request("GET", f"{base}/redirect")) as response:
            assert response.status == 302
            assert response.headers["location"] == "/echo?moved=1"
            assert response.url == f"{base}/redirect"

    scenario(name, test)


@pytest.mark.parametrize("name", NAMES)
def test_a_body_streams_in_chunks_and_a_cut_body_is_connection_lost(name: str) -> None:
    async def test(transport: Transport, base: str) -> None:
        async with await transport.send(Request("GET", f"{base}/stream")) as response:
            body = b"".join([chunk async for chunk in response.iter_chunks()])
        assert body == b"data: 0\n\ndata: 1\n\ndata: 2\n\n"
        with pytest.raises(ConnectionLost):
            async with await transport.send(Request("GET", f"{base}/cut")) as response:
                await response.read()

    scenario(name, test)


@pytest.mark.parametrize("name", NAMES)
def test_silence_beyond_the_read_timeout_is_a_timeout(name: str) -> None:
    async def test(transport: Transport, base: str) -> None:
        with pytest.raises(TransportTimeout):
            async with await transport.send(Request("GET", f"{base}/stall")) as response:
                await response.read()

    scenario(name, test, timeout=0.2)  # the one real wait in this file: 0.2 s


@pytest.mark.parametrize("name", NAMES)
def test_nothing_listening_is_connect_failed(name: str) -> None:
    async def test(transport: Transport, base: str) -> None:
        with pytest.raises(ConnectFailed) as caught:
            await transport.send(Request("GET", f"http://127.0.0.1:{free_port()}/x?sig=secret"))
        assert "secret" not in str(caught.value)

    scenario(name, test)


@pytest.mark.parametrize("name", NAMES)
def test_a_websocket_talks_both_ways_and_a_refused_handshake_says_its_status(name: str) -> None:
    async def test(transport: Transport, base: str) -> None:
        url = base.replace("http://", "ws://") + "/socket"
        async with connected(transport, url, {"Authorization": "Bearer ok"}) as socket:
            await socket.send_text("hi")
            assert await socket.receive() == "echo hi"
            assert await socket.receive() == b"\x00raw"
            await socket.send_text("bye")
            assert [m async for m in messages(socket)] == []
        with pytest.raises(SocketRefused) as refused:
            await transport.connect_socket(url, {"Authorization": "Bearer wrong"})
        assert refused.value.status == 401

    scenario(name, test)


def test_an_unknown_transport_is_a_config_error() -> None:
    from archiver.errors import ConfigError

    with pytest.raises(ConfigError, match="choose one of aiohttp, curl_cffi"):
        make_transport("carrier-pigeon")
