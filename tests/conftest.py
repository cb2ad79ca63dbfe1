from __future__ import annotations

import pytest


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
