"""The one place that talks HTTP: a transport (``base.Transport``: aiohttp, curl_cffi or a
test's MockTransport) under a shared RateLimiter, with one tenacity retry policy for every
upstream. Waits (back-off, throttle pauses) go through the clock in force (``archiver.clock``).

- 429: every worker pauses for ``Retry-After`` (seconds or HTTP-date) or a backoff; throttles
  do not use up ordinary attempts but have their own budget (``max_throttles``).
- 5xx, timeouts, dropped connections, truncated bodies and broken streams: exponential backoff
  with jitter, up to ``max_attempts``.
- 400/401/403/404/422: never retried.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar, Unpack
from urllib.parse import urljoin, urlsplit

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from archiver.clock import clock
from archiver.errors import (
    ArchiverError,
    CapReached,
    ConfigError,
    HostUnreachable,
    RateLimitExceeded,
    ThrottledUntil,
    TransientError,
    UnreachableError,
    UpstreamError,
)
from archiver.transport.base import (
    ConnectFailed,
    InvalidURL,
    Response,
    Transport,
    TransportError,
    TransportTimeout,
)
from archiver.transport.connect import open_transport
from archiver.transport.ratelimit import DEFAULT_MAX_WAIT, GAVE_UP_COOLDOWN, RateLimiter
from archiver.transport.request import Request, RequestOptions
from archiver.transport.responses import (
    AUTH_REFUSED,
    decode_json,
    looks_like_html,
    raise_for_status,
    web_page_answered,
    where,
)

log = logging.getLogger("archiver.http")
MAX_REDIRECTS = 10
_REDIRECTS = (301, 302, 303, 307, 308)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# What a redirect to another origin may still carry: a browser's generic headers, no more.
_CROSS_ORIGIN_HEADERS = frozenset({"user-agent", "accept", "accept-language", "accept-encoding"})
T = TypeVar("T")
Reader = Callable[[Response], Awaitable[T]]
Check = Callable[..., T]  # (status, headers, body, *, method, url) -> T, raising for a refusal


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5  # tries for transient failures (5xx, timeouts, broken streams)
    max_throttles: int = 30  # 429s tolerated for one call before it fails
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    jitter: float = 1.0
    # The longest single wait a throttle may impose; beyond it the run stops (ThrottledUntil)
    # instead of sleeping for hours while holding the database lock.
    max_wait: float = DEFAULT_MAX_WAIT
    # Throttles in a row with no Retry-After (a bare 429, a 500 "Rate limit exceeded") after
    # which the run stops and the account rests GAVE_UP_COOLDOWN: guessing waits for an hour
    # while holding the lock helps nobody.
    max_unannounced: int = 3

    def backoff(self, attempt: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1))
        return delay + random.uniform(0, self.jitter)


@dataclass
class RequestStats:
    requests: int = 0
    retries: int = 0
    throttled: int = 0
    statuses: Counter[int] = field(default_factory=Counter)

    def counts(self) -> dict[str, int]:
        """What a run's summary line reports."""
        return {"requests": self.requests, "throttled": self.throttled}


class _Budget:
    """Tenacity stop condition: ordinary failures and throttles are counted apart."""

    def __init__(self, policy: RetryPolicy):
        self.policy = policy
        self.failures = 0
        self.throttles = 0
        self.unannounced = 0  # throttles in a row that did not say when to come back

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitExceeded):
            self.throttles += 1
            return self.throttles >= self.policy.max_throttles
        self.failures += 1
        self.unannounced = 0
        return self.failures >= self.policy.max_attempts


async def call_with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    limiter: RateLimiter,
    policy: RetryPolicy,
    stats: RequestStats | None = None,
    acquire: bool = True,
) -> T:
    """Run ``call`` under the limiter, retrying transient failures. The call raises the
    archiver exception hierarchy; only TransientError (and its RateLimitExceeded) is retried.
    ``acquire=False``: the call takes its tokens itself, right before the requests they pay
    for (the limiter learns from when requests go out; a token taken long before its request
    would skew that)."""
    budget = _Budget(policy)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RateLimitExceeded):
            return 0.0  # the limiter's shared pause does the waiting, for every worker
        return policy.backoff(budget.failures)

    def before_sleep(state: RetryCallState) -> None:
        if stats is not None:
            stats.retries += 1
        exc = state.outcome.exception() if state.outcome else None
        log.info("retrying after: %s", exc)

    retrying = AsyncRetrying(
        sleep=clock().sleep,
        stop=budget,
        wait=wait,
        retry=retry_if_exception_type(TransientError),
        before_sleep=before_sleep,
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            if acquire:
                await limiter.acquire()
            try:
                result = await call()
            except RateLimitExceeded as exc:
                if stats is not None:
                    stats.throttled += 1
                fallback = policy.backoff(budget.throttles + 1)
                seconds = exc.retry_after if exc.retry_after is not None else fallback
                if seconds > policy.max_wait:
                    raise throttled_until(exc, seconds, policy.max_wait) from None
                if isinstance(exc, CapReached):
                    limiter.pause(seconds)  # a cap, not a pace: wait it out, do not slow down
                else:
                    limiter.throttled(seconds)
                budget.unannounced = 0 if exc.retry_after is not None else budget.unannounced + 1
                if budget.unannounced >= policy.max_unannounced:
                    raise gave_up(exc, budget.unannounced) from None
                raise
            limiter.succeeded()
    return result


def gave_up(exc: RateLimitExceeded, in_a_row: int) -> ThrottledUntil:
    until = clock().wall() + timedelta(seconds=GAVE_UP_COOLDOWN)
    return ThrottledUntil(
        until,
        f"{exc}: throttled {in_a_row} times in a row without being told when to come back "
        f"(no Retry-After); resting the account {GAVE_UP_COOLDOWN / 60:.0f} minutes",
    )


def throttled_until(exc: RateLimitExceeded, seconds: float, max_wait: float) -> ThrottledUntil:
    until = clock().wall() + timedelta(seconds=seconds)
    return ThrottledUntil(
        until,
        f"{exc}: the server asked to wait {seconds:.0f} s, more than --max-wait {max_wait:.0f} s",
        sending_only=isinstance(exc, CapReached),
    )


class HostBreaker:
    """Stops asking a host after ``limit`` connection failures in a row (refused, no route,
    DNS, a connect timeout): a file host behind a firewall or down would otherwise cost every
    one of its files its retries and back-offs. Any answer from the host resets its count."""

    def __init__(self, limit: int = 3) -> None:
        self.limit = limit
        self._failures: Counter[str] = Counter()
        self._down: dict[str, str] = {}  # host -> why it is not asked again

    def down(self, url: str) -> str | None:
        """Why the host of ``url`` is not asked again this run; None while it is."""
        return self._down.get(_host(url))

    def check(self, url: str) -> None:
        reason = self.down(url)
        if reason is not None:
            raise HostUnreachable(reason)

    def failed(self, url: str, exc: UnreachableError) -> None:
        host = _host(url)
        self._failures[host] += 1
        if self._failures[host] >= self.limit and host not in self._down:
            self._down[host] = (
                f"{host} not asked again this run after {self._failures[host]} connection "
                f"failures in a row (last: {exc}); retried next run"
            )
            log.warning("%s", self._down[host])

    def answered(self, url: str) -> None:
        self._failures.pop(_host(url), None)


def _host(url: str) -> str:
    return urlsplit(url).netloc or "the server"


class HttpClient:
    """A shared transport + limiter + retry policy. One per account per run.

    Every request takes one path: a ``Request`` and a reader of its response go to ``send``,
    which retries the exchange (sending and reading) as one, under the limiter. The public
    methods differ only in their reader; a subclass that signs requests overrides ``send``."""

    def __init__(
        self,
        transport: Transport,
        limiter: RateLimiter,
        policy: RetryPolicy | None = None,
        *,
        auth_message: str = AUTH_REFUSED,
    ):
        self.transport = transport
        self.limiter = limiter
        self.policy = policy or RetryPolicy()
        self.stats = RequestStats()
        self.auth_message = auth_message
        self.hosts: HostBreaker | None = None  # set while hosts may be given up on (downloads)

    async def request_json(self, method: str, url: str, **options: Unpack[RequestOptions]) -> Any:
        payload, _ = await self.request_json_with_headers(method, url, **options)
        return payload

    async def request_json_with_headers(
        self, method: str, url: str, **options: Unpack[RequestOptions]
    ) -> tuple[Any, dict[str, str]]:
        """Like ``request_json``, plus the response headers (lower-cased names): some upstreams
        answer part of the result in headers (Bing's conversation signatures)."""
        request = Request(method, url, **options)
        check = partial(decode_json, auth_message=self.auth_message)

        async def read(response: Response) -> tuple[Any, dict[str, str]]:
            payload = await judge(request, response, check)
            return payload, response.headers.lowered()

        return await self.send(request, read)

    async def request_stream(
        self,
        method: str,
        url: str,
        consume: Callable[[AsyncIterator[bytes]], Awaitable[T]],
        **options: Unpack[RequestOptions],
    ) -> T:
        """``consume`` reads the body as chunks and returns the result, raising TransientError
        if the stream ends before it completes: then the whole request is retried."""
        request = Request(method, url, **options)
        check = partial(raise_for_status, auth_message=self.auth_message)
        return await self.send(request, streamed(request, consume, check))

    async def send(self, request: Request, read: Reader[T]) -> T:
        """Send ``request`` and ``read`` its response, under the limiter and the retry policy."""
        if self.hosts is not None:
            self.hosts.check(request.url)  # before taking the limiter's time
        return await call_with_retries(
            lambda: self.exchange(request, read),
            limiter=self.limiter,
            policy=self.policy,
            stats=self.stats,
        )

    async def exchange(self, request: Request, read: Reader[T]) -> T:
        """One attempt at ``request``: no limiter, no retries."""
        hosts = self.hosts
        if hosts is None:
            async with self._send(request) as response:
                return await read(response)
        hosts.check(request.url)
        try:
            async with self._send(request) as response:
                hosts.answered(request.url)
                return await read(response)
        except UnreachableError as exc:
            hosts.failed(request.url, exc)
            raise

    @asynccontextmanager
    async def _send(self, request: Request) -> AsyncIterator[Response]:
        self.stats.requests += 1
        place = where(request.method, request.url)
        # Messages carry only the failure's class name and the path: a URL can hold a
        # credential in its query string (Bing puts conversation signatures there).
        try:
            current = request
            for _ in range(MAX_REDIRECTS + 1):
                response = await self.transport.send(current)
                log.info("%s -> %d", where(current.method, current.url), response.status)
                following = redirected(current, response.status, response.headers)
                if following is None:
                    break
                await response.aclose()
                current = following
            else:
                raise UpstreamError(f"{place}: redirected too many times (check the base URL)")
            async with response:
                self.stats.statuses[response.status] += 1
                yield response
        except TransportError as exc:
            raise connection_error(place, request.url, exc) from None


def connection_error(place: str, url: str, exc: TransportError) -> ArchiverError:
    """What a failed connection means for a run: a wrong URL is a configuration error,
    nothing answering "unreachable"; the rest is worth a retry."""
    if isinstance(exc, InvalidURL):
        return ConfigError(f"{place}: not a valid URL (check the base URL setting)")
    log.info("%s -> %s", place, exc.reason)
    host = urlsplit(url).netloc or "the server"  # the host only: no query string
    if isinstance(exc, TransportTimeout):
        return TransientError(f"{place}: {host} timed out ({exc.reason})")
    error = UnreachableError if isinstance(exc, ConnectFailed) else TransientError
    return error(f"{place}: connection to {host} failed ({exc.reason})")


def _origin(url: str) -> tuple[str, str | None, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme)


def redirected(request: Request, status: int, headers: Mapping[str, str]) -> Request | None:
    """The request a redirect answer asks for next, or None when ``status`` is not one.
    Followed here rather than by the session so that a hop to another origin (a signed
    storage URL, a CDN) carries only a browser's generic headers: every credential and
    account header (Authorization, Cookie, Chatgpt-Account-Id, oai-device-id, ...) stays on
    the host it was meant for. 303, and 301/302 after a POST, become a GET, as browsers do."""
    location = headers.get("Location")
    if status not in _REDIRECTS or not location:
        return None
    here = request.full_url()
    target = urljoin(here, location)
    following = replace(request, url=target, params=None)
    if (status == 303 and request.method != "HEAD") or (
        status in (301, 302) and request.method == "POST"
    ):
        following = replace(
            following, method="GET", json=None, data=None, content_type=None, form=None
        )
    sent = request.headers
    if sent is not None and _origin(target) != _origin(here):
        sent = {k: v for k, v in sent.items() if k.lower() in _CROSS_ORIGIN_HEADERS}
    return following.with_headers(sent) if sent is not None else following


async def judge(request: Request, response: Response, check: Check[T]) -> T:
    """Read the whole body and let ``check`` (decode_json, raise_for_status or a provider's own
    reading) turn the answer into a result or the right exception."""
    body = await response.read()
    return check(response.status, response.headers, body, method=request.method, url=request.url)


async def _head(response: Response, size: int = 20000) -> bytes:
    """The first ``size`` bytes of a body (enough to tell a challenge page from another)."""
    head = b""
    async for chunk in response.iter_chunks():
        head += chunk
        if len(head) >= size:
            break
    return head[:size]


def streamed(
    request: Request, consume: Callable[[AsyncIterator[bytes]], Awaitable[T]], check: Check[None]
) -> Reader[T]:
    """A reader that hands a 2xx body to ``consume`` chunk by chunk; ``check`` judges the rest."""

    async def read(response: Response) -> T:
        if not 200 <= response.status < 300:
            await judge(request, response, check)
        elif looks_like_html(response.headers, b""):  # a web page, not the stream asked for
            raise web_page_answered(
                response.status, await _head(response), where(request.method, request.url)
            )
        return await consume(response.iter_chunks())

    return read


def new_session(*, timeout_seconds: float = 120.0) -> AbstractAsyncContextManager[Transport]:
    """The default transport (aiohttp), as ``async with new_session() as transport``."""
    return open_transport(timeout_seconds=timeout_seconds)
