"""Fault injection: rate limits, challenges, server errors, dropped connections, the request log."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from archiver.clock import FakeClock
from archiver.emulator import running_emulator
from archiver.fakes import faults
from archiver.fakes.faults import TokenBuckets
from tests.support.emulator_client import AUTH, TOKEN, call
from tests.support.fakes import fake_config


def test_token_bucket_refills_and_reports_whole_seconds() -> None:
    bucket = TokenBuckets(per_minute=60, capacity=2)
    assert bucket.take("a", now=0.0) is None
    assert bucket.take("a", now=0.0) is None
    assert bucket.take("a", now=0.0) == 1
    assert bucket.take("b", now=0.0) is None  # per credential
    assert bucket.take("a", now=1.0) is None  # one token refilled after a second
    slow = TokenBuckets(per_minute=6, capacity=1)
    assert slow.take("a", now=0.0) is None
    assert slow.take("a", now=0.5) == 10  # ceil(0.95 / 0.1), rounded up to whole seconds


def test_rate_limit_answers_429_with_retry_after(fake_clock: FakeClock) -> None:
    with running_emulator(fake_config(chatgpt_conversations=3, rate_limit=60, rate_burst=2)) as emu:
        url = f"{emu.chatgpt_base_url}/conversations"
        statuses = [call("GET", url, headers=AUTH) for _ in range(3)]
        assert [r.status for r in statuses] == [200, 200, 429]
        limited = statuses[-1]
        assert limited.json() == {"detail": "Too many requests in 1 minute. Try again later."}
        assert limited.headers["Retry-After"] == "1"
        fake_clock.advance(1.05)  # the emulator's buckets run on the test's clock
        assert call("GET", url, headers=AUTH).status == 200
        # Control routes are never limited.
        stats = call("GET", f"{emu.base_url}/_emulator/stats").json()
        assert stats["rate_limited"] == 1
        assert stats["requests"]["/backend-api/conversations"] == {"200": 3, "429": 1}


def test_no_retry_after_flag() -> None:
    with running_emulator(
        fake_config(chatgpt_conversations=1, rate_limit=1, retry_after=False)
    ) as emu:
        url = f"{emu.chatgpt_base_url}/conversations"
        call("GET", url, headers=AUTH)
        limited = call("GET", url, headers=AUTH)
        assert limited.status == 429 and "Retry-After" not in limited.headers


def test_challenge_page_is_html() -> None:
    with running_emulator(fake_config(chatgpt_conversations=1, challenge_rate=1.0)) as emu:
        reply = call("GET", f"{emu.chatgpt_base_url}/conversations", headers=AUTH)
        assert reply.status == 403
        assert reply.headers["Content-Type"].startswith("text/html")
        assert "Just a moment" in reply.text
        assert call("GET", f"{emu.base_url}/_emulator/stats").status == 200


def test_fail_rate_is_deterministic() -> None:
    def statuses() -> list[int]:
        with running_emulator(fake_config(chatgpt_conversations=1, fail_rate=0.5, seed=3)) as emu:
            return [
                call("GET", f"{emu.chatgpt_base_url}/models", headers=AUTH).status
                for _ in range(12)
            ]

    first = statuses()
    assert first == statuses()
    assert 200 in first and set(first) - {200} <= {500, 502, 503} and set(first) != {200}


def test_dropped_json_and_stream_are_truncated() -> None:
    async def fetch(url: str, **kwargs: Any) -> None:
        async with aiohttp.ClientSession() as session, session.request(url=url, **kwargs) as r:
            await r.read()

    with running_emulator(fake_config(chatgpt_conversations=3, drop_rate=1.0)) as emu:
        with pytest.raises(aiohttp.ClientPayloadError):
            asyncio.run(fetch(f"{emu.chatgpt_base_url}/conversations", method="GET", headers=AUTH))
        body = {
            "action": "next",
            "messages": [{"content": {"content_type": "text", "parts": ["hi"]}}],
        }
        with pytest.raises(aiohttp.ClientPayloadError):
            asyncio.run(
                fetch(
                    f"{emu.chatgpt_base_url}/conversation", method="POST", json=body, headers=AUTH
                )
            )
        assert all(entry.get("dropped") for entry in emu.request_log)


class RecordingAsyncio:
    """Stands in for the fault middleware's asyncio: records the delays it is asked for."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)

    def __getattr__(self, name: str) -> object:
        return getattr(asyncio, name)


def test_latency_and_request_log_without_secrets(monkeypatch) -> None:
    recorder = RecordingAsyncio()
    monkeypatch.setattr(faults, "asyncio", recorder)
    with running_emulator(fake_config(chatgpt_conversations=1, latency_ms=150)) as emu:
        call("GET", f"{emu.chatgpt_base_url}/conversations?limit=5", headers=AUTH)
        assert recorder.sleeps == [0.15]  # the injected latency, once per upstream request
        log = call("GET", f"{emu.base_url}/_emulator/requests").json()
        assert log == emu.request_log
        (entry,) = log
        assert entry["method"] == "GET" and entry["status"] == 200
        assert entry["path"] == "/backend-api/conversations"  # no query string
        assert TOKEN not in str(log)
