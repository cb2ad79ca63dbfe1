"""The access token's refresh (providers/chatgpt/session.py) on a fake clock."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from typing import Any

import pytest

from archiver.config import Secret
from archiver.providers.chatgpt.session import SessionAuth


def jwt(exp: float) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part({'exp': exp})}.signature"


class Issuer:
    """``/api/auth/session`` on a fake clock: every token lives ``lifetime`` seconds."""

    def __init__(self, lifetime: float, skew: float = 0.0):
        self.now = 1_800_000_000.0
        self.lifetime = lifetime
        self.skew = skew  # the server's clock minus ours
        self.issued = 0

    def clock(self) -> float:
        return self.now

    async def fetch(self, _url: str, _headers: Any) -> tuple[Any, list[str]]:
        self.issued += 1
        return {"accessToken": jwt(self.now + self.skew + self.lifetime)}, []


def requests_over(auth: SessionAuth, issuer: Issuer, count: int, every: float) -> list[float]:
    """``count`` requests ``every`` seconds apart, each signing in first if it needs to; the
    expiry of the token each one was sent with."""
    sent_with: list[float] = []

    async def go() -> None:
        for _ in range(count):
            await auth.ensure(issuer.fetch, "https://chatgpt.example/api/auth/session", {})
            assert auth.expires_at is not None
            sent_with.append(auth.expires_at)
            issuer.now += every

    asyncio.run(go())
    return sent_with


def test_a_token_living_8_seconds_is_replaced_once_per_life_not_before_every_request():
    """Issue 27: with 8-second tokens, 816 of 1,633 requests were api/auth/session (the
    "a few minutes before exp" margin is longer than the token's life)."""
    issuer = Issuer(lifetime=8.0)
    auth = SessionAuth(Secret("cookie"), clock=issuer.clock)
    expiries = requests_over(auth, issuer, 1633, every=0.05)  # 81.65 s of requests
    assert issuer.issued == auth.refreshes
    duration = 1633 * 0.05
    # One refresh each time a token has a fifth of its life left: 81.65 / 6.4 of them.
    assert issuer.issued <= math.ceil(duration / (0.8 * 8.0)) + 1
    assert issuer.issued >= duration / 8.0  # ... and never a request with an expired token
    sent_at = [1_800_000_000.0 + i * 0.05 for i in range(1633)]
    assert all(at < expiry for at, expiry in zip(sent_at, expiries, strict=True))


def test_a_days_long_token_is_refreshed_a_few_minutes_before_it_expires():
    issuer = Issuer(lifetime=10 * 86400.0)
    auth = SessionAuth(Secret("cookie"), clock=issuer.clock)
    requests_over(auth, issuer, 10, every=1.0)
    assert issuer.issued == 1
    issuer.now += 10 * 86400 - 10 - 301  # 301 s before exp: not yet
    requests_over(auth, issuer, 1, every=1.0)
    assert issuer.issued == 1
    requests_over(auth, issuer, 1, every=1.0)  # 300 s before: now
    assert issuer.issued == 2


@pytest.mark.parametrize("skew", [-60.0, -8.0])
def test_a_token_expired_by_our_clock_when_it_comes_is_not_fetched_again_and_again(skew):
    """(The server's clock behind ours: only a 401 can say the token no longer works.)"""
    issuer = Issuer(lifetime=8.0, skew=skew)
    auth = SessionAuth(Secret("cookie"), clock=issuer.clock)
    requests_over(auth, issuer, 100, every=0.05)
    assert issuer.issued == 1
