"""Fault injection and the request log, as one aiohttp middleware over the upstream routes.

Order mirrors a real deployment: latency, then the CDN's challenge page (a random one, or a
provider world's ``screen``), then the rate limiter, then auth (each provider world's
``admit``: ``archiver/fakes/world.py``), then random server errors; a dropped connection
happens while the answer is written.
Every coin flip is ``stable_fraction(seed, kind, n)`` for the n-th upstream request, so a run with
the same seed and the same request order sees the same faults.
"""

from __future__ import annotations

import asyncio
import itertools
import math
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from archiver.clock import clock
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.data import stable_fraction
from archiver.fakes.state import STATE, EmulatorState

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CONTROL_PREFIX = "/_emulator/"

# Per-request flags. aiohttp >= 3.13 wants typed keys; older versions only have strings.
_RequestKey: Any = getattr(web, "RequestKey", None)
DROP: Any = _RequestKey("drop", bool) if _RequestKey else "drop"  # cut this response part-way
DROPPED: Any = _RequestKey("dropped", bool) if _RequestKey else "dropped"  # ... and it was cut
# Cloudflare's "Just a moment..." page; ZONE is the site it stands in front of.
CHALLENGE_HTML = """<!DOCTYPE html>
<html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8">
<meta name="robots" content="noindex,nofollow"></head>
<body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">ZONE</h1>
<h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div id="challenge-error-title">Enable JavaScript and cookies to continue</div></noscript>
</div></div><script>window._cf_chl_opt={cvId:'3',cType:'managed'};</script></body></html>
"""


class TokenBuckets:
    """Per credential: ``capacity`` tokens, refilled at ``per_minute / 60`` tokens per second."""

    def __init__(self, per_minute: int, capacity: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(capacity)
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float | None = None) -> int | None:
        """Spend a token; if none is left return whole seconds until one is (at least 1)."""
        now = clock().now() if now is None else now
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))


def credential(request: web.Request) -> str:
    """What the rate limiter counts by: the Authorization header, else what a provider's world
    recognises as its own credential. Kept in memory only, never logged."""
    auth = request.headers.get("Authorization")
    if auth:
        return auth
    for world in request.app[STATE].worlds():
        found = world.credential(request)
        if found:
            return found
    return "anonymous"


def route_name(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(unmatched)"


def challenge_page(zone: str) -> web.Response:
    """Cloudflare's challenge, as the CDN in front of ``zone`` answers it."""
    return web.Response(
        status=403,
        text=CHALLENGE_HTML.replace("ZONE", zone),
        content_type="text/html",
        headers={"cf-mitigated": "challenge"},
    )


def server_error(roll: float) -> web.Response:
    status = (500, 502, 503)[min(2, int(roll * 3))]
    if status == 502:  # the proxy in front answers, in HTML
        return web.Response(
            status=502, text="<html><body>502 Bad Gateway</body></html>", content_type="text/html"
        )
    return web.json_response(
        {"detail": "Something went wrong, please try again later."}, status=status
    )


def drop_connection(request: web.Request) -> None:
    """Cut the TCP connection now; the client sees a truncated body."""
    request[DROPPED] = True
    if request.transport is not None:
        request.transport.close()


async def _drop_after_half(request: web.Request, response: web.Response) -> web.StreamResponse:
    body = response.body if isinstance(response.body, bytes) else b""
    stream = web.StreamResponse(status=response.status, headers=response.headers)
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: len(body) // 2])
    drop_connection(request)
    return stream


def make_middleware(
    config: EmulatorConfig, state: EmulatorState
) -> Callable[..., Awaitable[web.StreamResponse]]:
    buckets = TokenBuckets(config.rate_limit, config.bucket_capacity) if config.rate_limit else None
    counter = itertools.count()

    def roll(kind: str, n: int) -> float:
        return stable_fraction(config.seed, kind, n)

    async def apply(request: web.Request, handler: Handler, n: int) -> web.StreamResponse:
        if config.latency_ms:
            await asyncio.sleep(config.latency_ms / 1000)
        if roll("challenge", n) < config.challenge_rate:
            return challenge_page(request.url.host or "localhost")
        for world in state.worlds():
            screened = world.screen(request)
            if screened is not None:
                return screened
        if buckets is not None:
            wait = buckets.take(credential(request))
            if wait is not None:
                headers = {"Retry-After": str(wait)} if config.retry_after else {}
                detail = {"detail": "Too many requests in 1 minute. Try again later."}
                return web.json_response(detail, status=429, headers=headers)
        for world in state.worlds():
            refused = world.admit(request)
            if refused is not None:
                return refused
        if roll("fail", n) < config.fail_rate:
            return server_error(roll("fail-status", n))
        # Streaming handlers read this flag and cut the connection part-way themselves.
        request[DROP] = roll("drop", n) < config.drop_rate
        response = await handler(request)
        if request[DROP] and isinstance(response, web.Response) and not response.prepared:
            return await _drop_after_half(request, response)
        return response

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await handler(request)
        n = next(counter)
        try:
            response = await apply(request, handler, n)
        except web.HTTPException as exc:
            state.log(request.method, request.path, route_name(request), exc.status)
            raise
        except Exception:
            state.log(request.method, request.path, route_name(request), 500)
            raise
        extra = {"dropped": True} if request.get(DROPPED) else {}
        state.log(request.method, request.path, route_name(request), response.status, **extra)
        return response

    return middleware
