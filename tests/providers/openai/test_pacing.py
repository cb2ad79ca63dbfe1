"""The key's pacer (pacing.py) on a fake clock: no real sleeps, no timed assertions."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from archiver.providers.openai.pacing import SHARE, ApiPacer
from archiver.providers.openai.parse import RateLimits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)
        await asyncio.sleep(0)


def pacer(clock: Clock, **caps: float | None) -> ApiPacer:
    return ApiPacer(caps.get("max_rpm"), caps.get("max_tpm"), clock=clock, sleep=clock.sleep)


def grants(p: ApiPacer, clock: Clock, n: int, tokens: int = 0) -> list[float]:
    async def go() -> list[float]:
        times = []
        for _ in range(n):
            await p.acquire()
            await p.spend(tokens)
            times.append(clock.now)
        return times

    return asyncio.run(go())


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def test_paced_evenly_from_the_advertised_limit_not_from_remaining() -> None:
    clock = Clock()
    p = pacer(clock)
    # remaining-* shows plenty of room: it must not allow a burst.
    p.observe(RateLimits(limit_requests=600, remaining_requests=599))
    assert set(gaps(grants(p, clock, 5))) == {round(60 / (600 * SHARE), 6)}


def test_max_rpm_caps_what_the_server_allows() -> None:
    clock = Clock()
    p = pacer(clock, max_rpm=120)
    p.observe(RateLimits(limit_requests=600))
    assert set(gaps(grants(p, clock, 4))) == {0.5}
    low = pacer(clock, max_rpm=6000)
    low.observe(RateLimits(limit_requests=600))  # the cap is above: the server's figure holds
    assert set(gaps(grants(low, clock, 3))) == {round(60 / (600 * SHARE), 6)}


def test_tokens_are_paced_by_each_requests_share_of_the_minute() -> None:
    clock = Clock()
    p = pacer(clock, max_tpm=6000)  # 100 tokens a second
    times = grants(p, clock, 4, tokens=50)  # each request: half a second of tokens
    assert gaps(times) == [0.5, 0.5, 0.5]
    learnt = pacer(clock)
    learnt.observe(RateLimits(limit_requests=100_000, limit_tokens=60_000))
    assert learnt.current_tpm == pytest.approx(60_000 * SHARE)


def test_unpaced_until_a_header_then_the_first_requests_count() -> None:
    clock = Clock()
    p = pacer(clock)
    start = clock.now
    assert gaps(grants(p, clock, 3)) == [0.0, 0.0]  # no pace known: bounded by concurrency only
    p.observe(RateLimits(limit_requests=60))
    interval = 60 / (60 * SHARE)
    (fourth,) = grants(p, clock, 1)
    assert fourth == pytest.approx(start + 3 * interval)  # as if the three had been paced


def test_a_server_without_headers_is_never_paced() -> None:
    clock = Clock()
    p = pacer(clock)
    p.observe(RateLimits())
    assert gaps(grants(p, clock, 5, tokens=10_000)) == [0.0] * 4


def test_a_429_pauses_every_request_and_the_pace_restarts_after_it() -> None:
    clock = Clock()
    p = pacer(clock)
    p.observe(RateLimits(limit_requests=6000))
    grants(p, clock, 1)
    p.throttled(2.0)
    assert p.stats.throttled == 1
    paused_from = clock.now
    (after,) = grants(p, clock, 1, tokens=5)
    assert after == pytest.approx(paused_from + 2.0)


def test_tokens_used_beyond_the_estimate_are_made_room_for() -> None:
    clock = Clock()
    p = pacer(clock, max_tpm=600)  # 10 a second
    p.charge(50)
    (first,) = grants(p, clock, 1, tokens=10)
    assert first == pytest.approx(1005.0)
