from __future__ import annotations

from collections.abc import Iterator

import pytest

from archiver.clock import FakeClock, use_clock
from archiver.transport.connect import use_transport
from tests.support.transport import InMemoryHost, werkzeug_handler


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
def _httpserver_in_memory(request: pytest.FixtureRequest) -> Iterator[None]:
    """Tests that serve routes with pytest-httpserver are served in memory: every transport the
    test opens (in its own thread) answers the server's host through its handler, so no
    request to it crosses a socket (other hosts, and subprocesses, are reached as usual).
    ``real_network`` opts out.

    A ChatGPT backup also asks for the Projects sidebar: such a server answers it 404 ("this
    server has no Projects", as a proxy without them would), not the 500 of an unexpected
    route."""
    if "httpserver" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("httpserver")
    server.expect_request("/backend-api/gizmos/snorlax/sidebar").respond_with_json(
        {"detail": "Not Found"}, status=404
    )
    if request.node.get_closest_marker("real_network"):
        yield
        return
    served = werkzeug_handler(server.application)
    netloc = f"{server.host}:{server.port}"
    with use_transport(wrap=lambda inner: InMemoryHost(inner, netloc, served)):
        yield
