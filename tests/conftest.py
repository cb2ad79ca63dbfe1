from __future__ import annotations

from collections.abc import Iterator

import pytest

from archiver.clock import FakeClock, use_clock


@pytest.fixture(autouse=True)
def fake_clock(request: pytest.FixtureRequest) -> Iterator[FakeClock]:
    """Every test runs on virtual time: back-offs, throttle pauses, paces and cool-downs wait
    for nothing (archiver.clock). Threads and subprocesses a test starts keep the real clock.
    ``@pytest.mark.real_clock`` opts out."""
    fake = FakeClock()
    if request.node.get_closest_marker("real_clock"):
        yield fake
        return
    with use_clock(fake):
        yield fake


@pytest.fixture(autouse=True)
def _httpserver_has_no_projects(request: pytest.FixtureRequest) -> None:
    """A ChatGPT backup also asks for the Projects sidebar. Tests that serve a few routes with
    pytest-httpserver (which answers 500 to anything else, retried with backoff) get a 404 for
    it: "this server has no Projects", as a proxy without them would answer."""
    if "httpserver" not in request.fixturenames:
        return
    server = request.getfixturevalue("httpserver")
    server.expect_request("/backend-api/gizmos/snorlax/sidebar").respond_with_json(
        {"detail": "Not Found"}, status=404
    )
