"""FakeClock: virtual time that several tasks can sleep on, and what waits on it."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta

import pytest

from archiver.clock import SYSTEM, FakeClock, clock, use_clock
from archiver.errors import TransientError
from archiver.transport.http import RetryPolicy, call_with_retries
from archiver.transport.ratelimit import RateLimiter


def test_concurrent_sleepers_wake_in_deadline_order_at_their_deadline() -> None:
    fake = FakeClock(start=0.0)
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, seconds: float) -> None:
        await fake.sleep(seconds)
        woke.append((name, fake.now()))

    async def main() -> None:
        # Started out of order; "b" and "b2" share a deadline and wake in the order they slept.
        await asyncio.gather(
            sleeper("c", 30), sleeper("a", 1), sleeper("b", 5), sleeper("b2", 5), sleeper("z", 0)
        )

    asyncio.run(main())
    assert woke == [("z", 0.0), ("a", 1.0), ("b", 5.0), ("b2", 5.0), ("c", 30.0)]
    assert fake.now() == 30.0


def test_time_moves_only_when_every_task_is_waiting() -> None:
    """A task that keeps working (yielding to the loop, never sleeping) holds virtual time
    still: a sleeper does not wake early because another task is busy."""
    fake = FakeClock(start=0.0)
    seen: list[float] = []

    async def busy() -> None:
        for _ in range(200):
            seen.append(fake.now())
            await asyncio.sleep(0)

    async def main() -> None:
        await asyncio.gather(fake.sleep(10), busy())

    asyncio.run(main())
    assert set(seen) == {0.0} and fake.now() == 10.0


def test_a_cancelled_sleeper_does_not_move_time() -> None:
    fake = FakeClock(start=0.0)

    async def main() -> None:
        long = asyncio.ensure_future(fake.sleep(1000))
        await asyncio.sleep(0)
        long.cancel()
        await fake.sleep(2)

    asyncio.run(main())
    assert fake.now() == 2.0


def test_advance_by_hand_and_the_wall_clock_follow_each_other() -> None:
    fake = FakeClock(start=5.0)
    start = fake.wall()
    fake.advance(90)
    assert fake.now() == 95.0 and fake.wall() - start == timedelta(seconds=90)


@pytest.mark.real_clock
def test_use_clock_is_what_clock_answers_inside_and_out() -> None:
    fake = FakeClock()
    with use_clock(fake):
        assert clock() is fake
        assert asyncio.run(_current()) is fake  # tasks see it too
    assert clock() is SYSTEM


async def _current() -> object:
    return clock()


def test_the_rate_limiter_paces_and_pauses_on_the_clock(fake_clock: FakeClock) -> None:
    limiter = RateLimiter(60.0, adaptive=False)  # one a second, made under the test's clock

    async def main() -> list[float]:
        times = []
        for _ in range(3):
            await limiter.acquire()
            times.append(fake_clock.now())
        limiter.pause(30.0)
        await limiter.acquire()
        times.append(fake_clock.now())
        return times

    start = fake_clock.now()
    times = [t - start for t in asyncio.run(main())]
    assert times[:3] == pytest.approx([0.0, 1.0, 2.0])
    assert 32.0 <= times[3] <= 33.0  # after the 30 s pause (and its token), on virtual time


def test_retry_back_off_sleeps_on_the_clock(fake_clock: FakeClock) -> None:
    tries: list[float] = []

    async def flaky() -> str:
        tries.append(fake_clock.now())
        if len(tries) < 4:
            raise TransientError("502")
        return "ok"

    policy = RetryPolicy(max_attempts=5, backoff_base=10.0, backoff_max=100.0, jitter=0.0)
    result = asyncio.run(call_with_retries(flaky, limiter=RateLimiter(None), policy=policy))
    assert result == "ok"
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    # Every back-off went through the clock (virtual seconds, none waited for real).
    assert all(gap >= 10.0 for gap in gaps) and fake_clock.slept == pytest.approx(gaps)
