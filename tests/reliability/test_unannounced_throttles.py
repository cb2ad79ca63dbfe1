"""Issue 27: a throttle with no Retry-After (a bare 429, a 500 "Rate limit exceeded") was
retried for about an hour under the default options, holding the lock and (batch, Bing,
Copilot) recording no cool-down. After a few in a row the run stops (exit 3) and the account
rests at least 15 minutes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from archiver.clock import clock
from archiver.errors import EXIT_PARTIAL, RateLimitExceeded, ThrottledUntil
from archiver.store import open_db
from archiver.store.runs import active_cooldown
from archiver.transport.http import RetryPolicy, call_with_retries
from archiver.transport.ratelimit import GAVE_UP_COOLDOWN, RateLimiter
from tests.jobs.test_cooldown import run_once_throttled
from tests.providers.chatgpt.test_batch import run as run_batch
from tests.providers.chatgpt.test_batch import write_csv
from tests.support.batching import batch_items
from tests.support.fake_answers import FakeAnswers
from tests.transport.test_ratelimit import FakeTime

# Default counts (max_throttles 30, max_unannounced 3); only the back-off is short.
POLICY = RetryPolicy(backoff_base=0.001, backoff_max=0.01, jitter=0.0)


class Upstream:
    """Answers in turn: "bare" (429, no Retry-After), "told" (429, Retry-After 1), "ok"."""

    def __init__(self, *answers: str):
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        answer = self.answers.pop(0) if self.answers else "ok"
        if answer == "bare":
            raise RateLimitExceeded("GET /x was rate limited (429)")
        if answer == "told":
            raise RateLimitExceeded("GET /x was rate limited (429)", retry_after=1.0)
        return answer


def call(upstream: Upstream, limiter: RateLimiter) -> str:
    return asyncio.run(call_with_retries(upstream, limiter=limiter, policy=POLICY))


def seconds_until(until: datetime | None) -> float:
    """(On the clock the stop was measured on: the tests' virtual one.)"""
    assert until is not None
    return (until - clock().wall()).total_seconds()


def limiter() -> RateLimiter:
    fake = FakeTime()
    return RateLimiter(6000, clock=fake.clock, sleep=fake.sleep)


def test_three_throttles_in_a_row_without_retry_after_stop_the_run_for_15_minutes():
    upstream = Upstream(*["bare"] * 10)
    before = clock().wall()
    with pytest.raises(ThrottledUntil) as stopped:
        call(upstream, limiter())
    assert upstream.calls == 3  # not 30, with back-offs of up to a minute each
    rest = timedelta(seconds=GAVE_UP_COOLDOWN)
    assert before + rest <= stopped.value.until <= clock().wall() + rest
    assert rest >= timedelta(minutes=15)
    assert stopped.value.exit_code == EXIT_PARTIAL
    assert "no Retry-After" in str(stopped.value)


def test_each_request_counts_its_own():
    shared = limiter()
    for _ in range(5):
        assert call(Upstream("bare", "bare"), shared) == "ok"


def test_throttles_that_say_when_to_come_back_are_waited_out():
    upstream = Upstream(*["told"] * 10)
    assert call(upstream, limiter()) == "ok" and upstream.calls == 11


def test_a_told_throttle_breaks_the_row():
    assert call(Upstream("bare", "bare", "told", "bare", "bare"), limiter()) == "ok"


@pytest.mark.parametrize("throttle", ["429", "500 Rate limit exceeded"])
def test_a_backup_stops_after_a_few_and_rests_the_account(
    tmp_path, httpserver, throttle, monkeypatch
):
    monkeypatch.setenv("CHATGPT_ACCESS_TOKEN", "t")
    status = int(throttle[:3])
    body = {"detail": "Too many requests"} if status == 429 else {"detail": "Rate limit exceeded"}
    httpserver.expect_request("/backend-api/conversations").respond_with_json(body, status=status)
    job, result = run_once_throttled(tmp_path, httpserver, POLICY)
    assert result.exit_code == EXIT_PARTIAL, result.line
    assert len(httpserver.log) == 3
    assert any("no Retry-After" in error for error in result.errors)
    remaining = seconds_until(active_cooldown(open_db(job.db), "chatgpt", ""))
    assert GAVE_UP_COOLDOWN - 120 < remaining <= GAVE_UP_COOLDOWN


def test_a_batch_stops_after_a_few_leaves_the_rows_pending_and_rests_the_account(
    tmp_path: Path, httpserver
):
    answers = FakeAnswers()
    answers.base_url = answers.install(httpserver)  # type: ignore[attr-defined]
    answers.faults = ["throttled-bare"] * 10
    db = open_db(tmp_path / "a.db")
    csv = write_csv(tmp_path / "p.csv", "id,prompt\nr1,one\nr2,two\n")
    summary = run_batch(db, csv, answers, policy=POLICY, concurrency=1)
    assert summary.exit_code == EXIT_PARTIAL, summary.line()
    assert len(answers.requests) == 3
    assert {row["status"] for row in batch_items(db).values()} == {"pending"}
    remaining = seconds_until(active_cooldown(db, "chatgpt", ""))
    assert GAVE_UP_COOLDOWN - 120 < remaining <= GAVE_UP_COOLDOWN
