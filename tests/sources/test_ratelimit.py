from __future__ import annotations

import asyncio

import pytest

from archiver.transport.ratelimit import RateLimiter


class FakeTime:
    """A clock that only moves when someone sleeps: deterministic, instant tests."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def make(max_rpm, **kwargs):
    fake = FakeTime()
    return fake, RateLimiter(max_rpm, clock=fake.clock, sleep=fake.sleep, **kwargs)


def test_token_bucket_spaces_requests_at_max_rpm():
    fake, limiter = make(60)  # one per second, burst 1

    async def go():
        for _ in range(4):
            await limiter.acquire()

    asyncio.run(go())
    assert fake.now == pytest.approx(1003.0)  # first free, then one per second
    assert limiter.stats.acquired == 4


def test_burst_allows_that_many_at_once_and_no_more():
    fake, limiter = make(60, burst=3)

    async def go():
        for _ in range(4):
            await limiter.acquire()

    asyncio.run(go())
    assert fake.now == pytest.approx(1001.0)


def test_a_throttle_pauses_every_waiting_worker():
    fake, limiter = make(None)  # unlimited rate: only the pause matters
    finished: list[float] = []

    async def worker():
        await limiter.acquire()
        finished.append(fake.now)

    async def go():
        limiter.throttled(30.0)
        await asyncio.gather(worker(), worker(), worker())

    asyncio.run(go())
    assert finished == [1030.0, 1030.0, 1030.0]
    assert limiter.stats.throttled == 1


def test_a_longer_pause_already_set_stands():
    _fake, limiter = make(None)
    limiter.pause(60)
    limiter.pause(5)
    assert limiter.paused_until == 1060.0


def test_adaptive_limiter_slows_down_then_recovers_below_the_refused_rate():
    _fake, limiter = make(1200)
    limiter.throttled(1.0)
    slowed = limiter.current_rpm
    assert slowed == pytest.approx(1200 * RateLimiter.DECREASE)
    for _ in range(1000):
        limiter.succeeded()
    assert limiter.current_rpm == pytest.approx(1200 * RateLimiter.CEILING_MARGIN)
    assert limiter.current_rpm < 1200


def test_non_adaptive_limiter_keeps_its_rate():
    _fake, limiter = make(600, adaptive=False)
    limiter.throttled(1.0)
    assert limiter.current_rpm == 600


def test_bad_rate_is_refused():
    with pytest.raises(ValueError):
        RateLimiter(0)
