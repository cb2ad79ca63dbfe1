"""One account, many clients: the bounded queue, upstream throttles, clients that leave, and
shutdown with answers in flight."""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from archiver.emulator import RunningEmulator, running_emulator
from tests.support.fakes import fake_config
from tests.support.gateway import HeldUpstream, Reply, RunningGateway, http, running_gateway

ASK = {"model": "auto", "messages": [{"role": "user", "content": "Queue me"}]}


def completion(gw: RunningGateway, key: str, content: str = "Queue me", **fields: Any) -> Reply:
    body = {"model": "auto", "messages": [{"role": "user", "content": content}], **fields}
    return http("POST", gw.base_url + "/v1/chat/completions", key=key, json_body=body)


def exchanges(db_path: Path) -> list[dict[str, Any]]:
    with sqlite3.connect(db_path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM gateway_exchanges ORDER BY id")]


def test_a_full_queue_is_a_429_that_says_it_is_the_gateways(
    db_path: Path,
    keys,
    emu: RunningEmulator,
) -> None:
    with running_gateway(db_path, emu, concurrency=1, max_queue=1, max_rpm=30.0) as gw:
        held = HeldUpstream(gw)
        gateway = held.gateway
        with ThreadPoolExecutor(max_workers=2) as pool:
            first = pool.submit(completion, gw, keys.user, "first in")
            held.wait_for(lambda: held.waiting == 1)  # in flight, held upstream
            second = pool.submit(completion, gw, keys.user, "second in")
            held.wait_for(lambda: gateway.pending == 2)  # waiting for the one slot
            refused = completion(gw, keys.user, "one too many")
            refused_v1 = refused.json()
            seed = http(
                "POST", gw.base_url + "/conversations/new", key=keys.user, json_body={"prompt": "x"}
            )
            held.release()
            answered = [first.result(), second.result()]
        gw.stop()
        tallies = gw.ctx.tallies
    assert [r.status for r in answered] == [200, 200]
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert int(refused.headers["retry-after-ms"]) >= 1000
    error = refused_v1["error"]
    assert error["type"] == "gateway_queue_full" and error["code"] == "gateway_busy"
    assert "a limit of this gateway, not of the upstream account" in error["message"]
    assert seed.status == 429 and "gateway" in seed.json()["detail"]
    # The refused ones never reached upstream nor the archive; the queue never grew past 2.
    assert gateway.stats.max_pending == 2
    assert [e["prompt"] for e in exchanges(db_path)] == ["first in", "second in"]
    # What `archiver serve` prints as it stops: the account's tally, the refusals by why.
    assert tallies[0] == (
        "gateway chatgpt: admitted 2, answered 2, failed 0, refused 2 (busy 2), client gone 0, "
        f"upstream requests {gateway.stats.upstream_requests}, most at once 2"
    )


def test_an_upstream_throttle_is_a_429_that_says_it_is_the_accounts(
    db_path: Path,
    keys,
) -> None:
    with (
        # A bucket of 2 with one token a minute: the first prompt (sentinel + send) passes,
        # the second is throttled for about a minute.
        running_emulator(fake_config(chatgpt_conversations=0, rate_limit=1, rate_burst=2)) as emu,
        running_gateway(db_path, emu) as gw,
    ):
        assert completion(gw, keys.user, "allowed").status == 200
        throttled = completion(gw, keys.user, "throttled")
        before = len(emu.request_log)
        resting = completion(gw, keys.user, "while it rests")
        after = len(emu.request_log)
    assert throttled.status == 429
    error = throttled.json()["error"]
    assert error["type"] == "upstream_rate_limited" and error["code"] == "upstream_throttled"
    assert "upstream chatgpt account is throttled" in error["message"]
    assert "clears at" in error["message"]
    assert int(throttled.headers["Retry-After"]) > 1
    # While the account rests, the gateway refuses without calling it.
    assert resting.status == 429 and after == before
    rows = exchanges(db_path)
    assert [r["status"] for r in rows] == ["done", "failed"]


def _raw_request(gw: RunningGateway, key: str, body: dict[str, Any]) -> socket.socket:
    """A client on a bare socket, so that the test can hang up on the gateway mid-answer."""
    host, port = gw.base_url.removeprefix("http://").split(":")
    data = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)), timeout=20)
    sock.sendall(
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
        + b"Content-Type: application/json\r\n"
        + f"Authorization: Bearer {key}\r\nContent-Length: {len(data)}\r\n\r\n".encode()
        + data
    )
    return sock


def test_a_client_that_hangs_up_still_gets_its_answer_archived(
    gw: RunningGateway,
    keys,
    db_path: Path,
) -> None:
    held = HeldUpstream(gw)
    sock = _raw_request(gw, keys.user, {**ASK, "messages": [{"role": "user", "content": "plain"}]})
    held.wait_for(lambda: held.waiting == 1)
    sock.close()
    stream = _raw_request(
        gw, keys.user, {**ASK, "stream": True, "messages": [{"role": "user", "content": "sse"}]}
    )
    held.wait_for(lambda: held.waiting == 2)
    assert b"200 OK" in stream.recv(4096)  # the headers and the role chunk went out
    stream.close()
    held.release()
    held.wait_for(lambda: held.gateway.pending == 0)
    held.wait_for(lambda: held.gateway.stats.client_gone == 2)
    rows = exchanges(db_path)
    assert [(r["prompt"], r["status"], r["client_gone"]) for r in rows] == [
        ("plain", "done", 1),
        ("sse", "done", 1),
    ]
    with sqlite3.connect(db_path) as conn:
        for row in rows:
            answer = conn.execute(
                "SELECT text FROM messages WHERE conversation_id = ? AND id = ?",
                [row["conversation_id"], row["message_id"]],
            ).fetchone()
            assert answer == (row["answer"],) and row["prompt"] in row["answer"]


def test_shutdown_finishes_the_answers_in_flight(
    db_path: Path,
    keys,
    emu: RunningEmulator,
) -> None:
    with running_gateway(db_path, emu) as gw:
        held = HeldUpstream(gw)
        with ThreadPoolExecutor(max_workers=1) as pool:
            asked = pool.submit(completion, gw, keys.user, "finish me")
            held.wait_for(lambda: held.waiting == 1)
            stopping = threading.Thread(target=gw.stop)
            stopping.start()
            held.wait_for(lambda: held.gateway.closing)
            held.release()
            stopping.join(timeout=30)
            reply = asked.result()
    assert reply.status == 200 and "finish me" in reply.json()["choices"][0]["message"]["content"]
    assert [(r["prompt"], r["status"]) for r in exchanges(db_path)] == [("finish me", "done")]


def test_shutdown_past_its_grace_records_the_cut_answers(
    db_path: Path,
    keys,
    emu: RunningEmulator,
) -> None:
    with running_gateway(db_path, emu, shutdown_grace=0.2, concurrency=1) as gw:
        held = HeldUpstream(gw)
        with ThreadPoolExecutor(max_workers=2) as pool:
            running = pool.submit(completion, gw, keys.user, "never answered")
            held.wait_for(lambda: held.waiting == 1)
            waiting = pool.submit(completion, gw, keys.user, "never sent")
            held.wait_for(lambda: held.gateway.pending == 2)
            gw.stop()
            replies = [running.result(), waiting.result()]
    assert [r.status for r in replies] == [503, 503]
    assert all(r.json()["error"]["code"] == "shutting_down" for r in replies)
    rows = exchanges(db_path)
    assert [(r["prompt"], r["status"]) for r in rows] == [
        ("never answered", "failed"),
        ("never sent", "failed"),
    ]
    assert all("shutdown" in r["error"] for r in rows)
