"""Hostile requests to the gateway (issue #26): malformed input is a 400, never a 500; no key
or search term reaches the access log; a body that trickles in is cut off, and shutting down
does not wait for it."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from archiver.serve.keys import add_key
from archiver.store import open_db
from tests.support.gateway import RunningGateway, http, running_gateway
from tests.support.sample_archive import archive_path

__all__ = ["archive_path"]


@pytest.mark.parametrize(
    "body",
    [
        {"model": "auto", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
        {
            "model": "auto",
            "messages": [{"role": "user", "content": [{"type": "text", "text": None}]}],
        },
        {"model": "auto", "messages": [{"role": "user", "content": [{"type": "text"}]}]},
        {"model": "auto", "messages": [{"role": "user", "content": 5}]},
    ],
)
def test_content_parts_that_are_not_text_are_a_400(gw, keys, body) -> None:
    reply = http("POST", gw.base_url + "/v1/chat/completions", key=keys.user, json_body=body)
    assert reply.status == 400, reply.text
    assert reply.json()["error"]["type"] == "invalid_request_error"


def post_raw(gw: RunningGateway, key: str, path: str, raw: bytes):
    """A body sent as these very bytes (json.dumps could not write them)."""
    headers = {"Content-Type": "application/json"}
    return http("POST", gw.base_url + path, key=key, data=raw, headers=headers)


def test_a_lone_surrogate_in_a_prompt_is_a_400(gw, keys) -> None:
    # Valid JSON, not valid Unicode: what a client that cut an emoji in half sends.
    raw = b'{"model": "auto", "messages": [{"role": "user", "content": "half \\ud800 emoji"}]}'
    reply = post_raw(gw, keys.user, "/v1/chat/completions", raw)
    assert reply.status == 400, reply.text
    assert "surrogate" in reply.json()["error"]["message"]
    seed = post_raw(gw, keys.user, "/conversations/new", b'{"prompt": "\\udfff"}')
    assert seed.status == 400, seed.text


def test_a_body_nested_100k_levels_deep_is_a_400(gw, keys) -> None:
    depth = 100_000
    raw = b'{"model": "auto", "messages": ' + b"[" * depth + b"]" * depth + b"}"
    reply = post_raw(gw, keys.user, "/v1/chat/completions", raw)
    assert reply.status == 400, reply.text
    assert reply.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize(
    "query",
    [
        "offset=9223372036854775808",
        "offset=99999999999999999999999999",
        "limit=9223372036854775808",
        "q=%00abc",
        "q=abc%00",
        "q=%22%00",
    ],
)
def test_odd_query_parameters_are_answered_not_a_500(archive_path: Path, query: str) -> None:
    db = open_db(archive_path)
    key = add_key(db, "reader")
    db.close()
    with running_gateway(archive_path, None) as gw:
        api = http("GET", gw.base_url + "/conversations?" + query, key=key)
        assert api.status in (200, 400), (query, api.text)
        page = http("GET", gw.base_url + "/?" + query)
        assert page.status in (200, 400), (query, page.text)
        assert page.headers["Content-Type"].startswith("text/html")


# --- the access log ------------------------------------------------------------------------


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_the_access_log_keeps_no_query_string(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "reader")
    db.close()
    logger = logging.getLogger("test.access")
    lines = Lines()
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        with running_gateway(archive_path, None, access_log=logger) as gw:
            http("GET", gw.base_url + f"/v1/models?api_key={key}")
            http("GET", gw.base_url + "/conversations?q=my+secret+diagnosis", key=key)
            http("GET", gw.base_url + "/?q=my+private+words")
            http("GET", gw.base_url + "/c/%1b%5d0%3btitle%07")
    finally:
        logger.removeHandler(lines)
    assert len(lines.lines) == 4, lines.lines
    text = "\n".join(lines.lines)
    assert key not in text and "api_key" not in text
    assert "secret" not in text and "private" not in text
    assert "\x1b" not in text and "\x07" not in text  # the path as sent, still encoded
    assert "/v1/models?" in text and " 401 " in text  # what was asked, and its answer


# --- slow bodies ---------------------------------------------------------------------------


def _trickle(gw: RunningGateway, path: str = "/login") -> socket.socket:
    """A client that announces 100 bytes of body, sends 5, then idles."""
    host, port = gw.base_url.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nkey=a"
    )
    return sock


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_a_body_that_trickles_in_is_cut_off(archive_path: Path) -> None:
    with running_gateway(archive_path, None, body_timeout=0.2) as gw:
        sock = _trickle(gw)
        answer = _read_all(sock)  # the gateway answers, then closes
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        # The gateway still serves everyone else.
        assert http("GET", gw.base_url + "/").status == 200


def test_shutdown_does_not_wait_for_trickling_bodies(archive_path: Path) -> None:
    # A minute of body timeout and of shutdown grace: stopping must not take either.
    with running_gateway(
        archive_path, None, body_timeout=60.0, shutdown_grace=60.0, shutdown_timeout=65.0
    ) as gw:
        socks = [_trickle(gw) for _ in range(20)]
        assert http("GET", gw.base_url + "/").status == 200  # they are all being read now
        gw.stop(timeout=10)  # raises TimeoutError if the shutdown waits on them
        for sock in socks:
            sock.settimeout(10)
            assert not _read_all(sock).startswith(b"HTTP/1.1 200")
            sock.close()


def test_json_bodies_are_timed_too(archive_path: Path) -> None:
    db = open_db(archive_path)
    key = add_key(db, "writer")
    db.close()
    with running_gateway(archive_path, None, body_timeout=0.2) as gw:
        host, port = gw.base_url.removeprefix("http://").split(":")
        sock = socket.create_connection((host, int(port)), timeout=30)
        sock.sendall(
            f"POST /conversations/new HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
            + f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n".encode()
            + b"Content-Length: 100\r\n\r\n{"
        )
        answer = _read_all(sock)
        sock.close()
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "body_timeout"


# --- a big conversation does not stop the gateway ----------------------------------------------


def test_a_conversation_being_rendered_does_not_stop_the_gateway(
    archive_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from archiver.serve import viewer

    rendering = threading.Event()
    others_served = threading.Event()
    real = viewer.conversation_page

    def slow_page(doc, node):
        # Stands for the seconds a 50,000-node conversation takes: it holds until another
        # client was served meanwhile (or gives up, and the test fails below).
        rendering.set()
        others_served.wait(timeout=15)
        return real(doc, node)

    monkeypatch.setattr(viewer, "conversation_page", slow_page)
    with running_gateway(archive_path, None) as gw:
        from concurrent.futures import ThreadPoolExecutor

        from tests.support.sample_archive import BRANCHED_ID

        with ThreadPoolExecutor(max_workers=1) as pool:
            page = pool.submit(http, "GET", gw.base_url + f"/c/{BRANCHED_ID}")
            assert rendering.wait(timeout=15)
            other = http("GET", gw.base_url + "/static/viewer.css", timeout=5)
            assert other.status == 200  # served while the page was being made
            others_served.set()
            assert page.result(timeout=30).status == 200
