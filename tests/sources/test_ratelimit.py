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


def test_a_throttle_with_nothing_measured_cuts_multiplicatively():
    _fake, limiter = make(1200)
    limiter.throttled(1.0)
    assert limiter.current_rpm == pytest.approx(1200 * RateLimiter.DECREASE)
    assert limiter.measured is None


def test_a_throttle_drops_to_the_rate_the_server_accepted():
    fake, limiter = make(1200)  # 20/s asked; the server took 8 of every 10 s of requests

    async def go():
        for _ in range(50):  # 20/s for 2.5 s
            await limiter.acquire()

    asyncio.run(go())
    for _ in range(10):
        limiter._refusals.append(fake.now)  # ten of them refused
    limiter.throttled(1.0)
    accepted = (50 - 10 - 1) / 2.5  # (the throttle being reported counts as refused too)
    assert limiter.measured == pytest.approx(accepted, rel=0.05)
    assert limiter.current_rpm == pytest.approx(accepted * 60, rel=0.05)


def test_throttles_during_their_pause_change_nothing_more():
    _fake, limiter = make(1200)
    limiter.throttled(2.0)
    slowed = limiter.current_rpm
    limiter.throttled(2.0)  # requests already in flight when the first came back
    limiter.throttled(2.0)
    assert limiter.current_rpm == slowed
    assert limiter.stats.throttled == 3


def test_probing_upward_never_passes_max_rpm():
    _fake, limiter = make(1200)
    limiter.throttled(1.0)
    for _ in range(20000):
        limiter.succeeded()
    assert limiter.current_rpm == pytest.approx(1200)


class VirtualTime:
    """Many workers on one virtual clock: a sleeper wakes when every task is blocked."""

    def __init__(self):
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future]] = []
        self._n = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        import heapq

        future = asyncio.get_running_loop().create_future()
        self._n += 1
        heapq.heappush(self._timers, (self.now + max(1e-7, seconds), self._n, future))
        await future

    async def drive(self, tasks: list[asyncio.Task]) -> None:
        import heapq

        while not all(t.done() for t in tasks):
            for _ in range(50):
                await asyncio.sleep(0)
            if self._timers:
                when, _, future = heapq.heappop(self._timers)
                self.now = max(self.now, when)
                future.set_result(None)


class ServerBucket:
    """The upstream: 600 requests a minute, a burst of 5, whole-second Retry-After >= 1."""

    def __init__(self, per_minute: int = 600, burst: int = 5):
        self.rate, self.capacity, self.last = per_minute / 60, burst, 0.0
        self.tokens: float = burst

    def take(self, now: float) -> int | None:
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        import math

        return max(1, math.ceil((1 - self.tokens) / self.rate))


@pytest.mark.parametrize("max_rpm", [1200, 6000])
def test_the_limiter_finds_a_lower_allowance_in_a_few_throttles(max_rpm):
    clock = VirtualTime()
    limiter = RateLimiter(max_rpm, clock=clock.clock, sleep=clock.sleep)
    server = ServerBucket()
    left = [400]
    counts = {"accepted": 0, "refused": 0}

    async def worker():
        while left[0] > 0:
            left[0] -= 1
            while True:
                await limiter.acquire()
                await clock.sleep(0.015)
                wait = server.take(clock.now)
                await clock.sleep(0.015)
                if wait is None:
                    counts["accepted"] += 1
                    limiter.succeeded()
                    break
                counts["refused"] += 1
                limiter.throttled(wait)

    async def go():
        tasks = [asyncio.create_task(worker()) for _ in range(4)]
        await clock.drive(tasks)

    asyncio.run(go())
    share = counts["accepted"] / clock.now * 60 / 600
    refused = counts["refused"] / (counts["accepted"] + counts["refused"])
    assert counts["accepted"] == 400
    assert share >= 0.85 and refused <= 0.05, (share, refused)
    if max_rpm == 1200:  # the case: twice the allowance
        assert share >= 0.9 and counts["refused"] <= 5


def test_non_adaptive_limiter_keeps_its_rate():
    _fake, limiter = make(600, adaptive=False)
    limiter.throttled(1.0)
    assert limiter.current_rpm == 600


def test_bad_rate_is_refused():
    with pytest.raises(ValueError):
        RateLimiter(0)


@pytest.mark.parametrize("max_rpm", [float("nan"), float("inf"), -1.0])
def test_a_rate_that_is_not_a_positive_number_is_refused(max_rpm):
    with pytest.raises(ValueError):
        RateLimiter(max_rpm)
