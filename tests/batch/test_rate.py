"""Smaller list: no "9691.9/min" after one request."""

from __future__ import annotations

from archiver.batch.runner import BatchSummary, rate_text


def test_one_request_shows_no_rate():
    summary = BatchSummary(1, "chatgpt", rows=1)
    summary.requests, summary.elapsed_seconds = 1, 0.0062
    assert "/min" not in summary.line() and "rate n/a" in summary.line()


def test_a_real_rate_is_shown():
    assert rate_text(20, 60.0) == "20.0/min"
