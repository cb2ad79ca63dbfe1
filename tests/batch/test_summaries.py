"""A collect's counts keep their order (``archiver runs`` lists them as stored)."""

from __future__ import annotations

from archiver.batch.runner import CollectSummary


def test_collect_counts_own_counters_first_request_counters_last():
    summary = CollectSummary("openai", batches=2, waiting=1, done=3, not_run=1, requests=4)
    assert list(summary.counts()) == [
        "batches",
        "waiting",
        "done",
        "failed",
        "not_run",
        "prompt_tokens",
        "completion_tokens",
        "requests",
        "throttled",
    ]
    assert summary.line() == (
        "collect openai: batches 2, still waiting 1, done 3, failed 0, requests 4, "
        "cut short: 1 rows not run"
    )
