"""Smaller list: a failed connection names the host (never the query string)."""

from __future__ import annotations

import asyncio

import pytest

from archiver.errors import TransientError
from archiver.transport.http import HttpClient, RetryPolicy, new_session
from archiver.transport.ratelimit import RateLimiter
from tests.support.transport import free_port


def test_connection_failed_names_the_host():
    port = free_port()

    async def go():
        async with new_session() as session:
            http = HttpClient(session, RateLimiter(None), RetryPolicy(max_attempts=1))
            await http.request_json("GET", f"http://127.0.0.1:{port}/x?sig=secret")

    with pytest.raises(TransientError) as caught:
        asyncio.run(go())
    text = str(caught.value)
    assert f"connection to 127.0.0.1:{port} failed" in text and "secret" not in text
