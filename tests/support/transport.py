"""What tests share about calling out: one quick retry policy, a port nothing listens on, and
handlers for the in-memory MockTransport."""

from __future__ import annotations

import socket

from archiver.transport.base import Response
from archiver.transport.http import RetryPolicy
from archiver.transport.request import Request

# Transient failures retried a few times with no real waiting (the tests' clock is a FakeClock,
# so the back-off is virtual anyway); a test about the budget itself states its own numbers
# with dataclasses.replace(FAST, ...).
FAST = RetryPolicy(max_attempts=5, max_throttles=50, backoff_base=0.01, backoff_max=0.1, jitter=0.0)


def free_port() -> int:
    """A port nothing listens on (bound, then released): a call to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def no_http(request: Request) -> Response:
    """A MockTransport handler for tests that expect no HTTP request at all."""
    raise AssertionError(f"unexpected request: {request.method} {request.url}")
