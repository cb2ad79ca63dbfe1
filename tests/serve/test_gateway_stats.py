"""An account's tally, as `archiver serve` prints it when it stops."""

from __future__ import annotations

from archiver.serve.gateway import GatewayStats


def test_the_tally_names_every_count_and_the_refusals_by_why():
    stats = GatewayStats(admitted=5, answered=3, failed=1, client_gone=1, upstream_requests=9)
    stats.refused["throttled"] += 2
    stats.refused["busy"] += 1
    stats.max_pending = 4
    assert stats.line("bing") == (
        "gateway bing: admitted 5, answered 3, failed 1, refused 3 (busy 1, throttled 2), "
        "client gone 1, upstream requests 9, most at once 4"
    )


def test_a_gateway_that_refused_nothing_says_so_plainly():
    assert GatewayStats().line("chatgpt") == (
        "gateway chatgpt: admitted 0, answered 0, failed 0, refused 0, client gone 0, "
        "upstream requests 0, most at once 0"
    )
