"""The OpenAI-compatible API's settings and requests (docs/protocol/openai.md).

Every request goes through the shared transport (``HttpClient.exchange``, one
``call_with_retries`` loop: 429s pause every request on the key, 5xx and dropped connections
are retried) under the key's ``ApiPacer``, which also reads the rate-limit headers of every
answer. The key is sent as a bearer token to the configured base URL only: every path is
joined under it, and HttpClient drops the header on a redirect to another host. Messages name
the method and path, never the key (``parse.redact``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from archiver import __version__
from archiver.batch.sender import CallStats
from archiver.config import Secret
from archiver.doctor import safe_url
from archiver.providers.openai.options import BASE_URL_ENV, DEFAULT_BASE_URL, KEY
from archiver.providers.openai.pacing import ApiPacer
from archiver.providers.openai.parse import check_answer, json_body, rate_limits
from archiver.settings import EnvUrl, FromEnvironment, env_sources
from archiver.transport.base import Response, Transport
from archiver.transport.http import HttpClient, RetryPolicy, call_with_retries
from archiver.transport.request import FormField, Request

T = TypeVar("T")


@dataclass(frozen=True)
class OpenAISettings(FromEnvironment):
    key: Secret
    base_url: str = DEFAULT_BASE_URL

    FROM_ENV = env_sources(key=KEY, base_url=EnvUrl(BASE_URL_ENV, DEFAULT_BASE_URL))

    @property
    def account(self) -> str:
        """The server (its base URL, nothing secret): cool-downs and batches are kept per
        server, and a batch is only ever collected from the server that holds it."""
        return safe_url(self.base_url)

    def url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path.lstrip('/')}"

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.key.reveal()}",
            "Accept": "application/json",
            "User-Agent": f"archiver/{__version__}",
        }


class OpenAIClient:
    """Requests to one server with one key: JSON answers, or a file's bytes."""

    def __init__(
        self,
        transport: Transport,
        settings: OpenAISettings,
        pacer: ApiPacer,
        policy: RetryPolicy,
    ):
        self.transport = transport
        self.settings = settings
        self.pacer = pacer
        self.policy = policy
        self.last_headers: dict[str, str] = {}  # of the last answer (the doctor reads them)

    async def json(
        self,
        method: str,
        path: str,
        stats: CallStats,
        *,
        body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        form: Sequence[FormField] | None = None,
        params: Mapping[str, str] | None = None,
        tokens: int = 0,
        policy: RetryPolicy | None = None,
    ) -> Any:
        """The JSON answer of one call (retried as the policy says; ``tokens`` is what it is
        charged against the tokens-per-minute pace, each try)."""
        request = Request(
            method,
            self.settings.url(path),
            headers=self.settings.headers(),
            params=params,
            json=body,
            data=data,
            content_type=content_type,
            form=form,
        )
        read = self._reader(partial(json_body, secret=self.settings.key.reveal()), request)
        return await self._call(request, read, stats, tokens, policy)

    async def content(self, path: str, stats: CallStats) -> bytes:
        """A file's raw bytes (``GET /files/{id}/content``: JSONL, not JSON)."""
        request = Request("GET", self.settings.url(path), headers=self.settings.headers())

        def raw(status: int, headers: Mapping[str, str], body: bytes, **where: Any) -> bytes:
            check_answer(status, headers, body, secret=self.settings.key.reveal(), **where)
            return body

        return await self._call(request, self._reader(raw, request), stats, 0, None)

    def _reader(
        self, check: Callable[..., T], request: Request
    ) -> Callable[[Response], Awaitable[T]]:
        async def read(response: Response) -> T:
            body = await response.read()
            self.last_headers = response.headers.lowered()
            self.pacer.observe(rate_limits(self.last_headers))
            return check(
                response.status,
                response.headers,
                body,
                method=request.method,
                url=response.url or request.url,
            )

        return read

    async def _call(
        self,
        request: Request,
        read: Callable[[Response], Awaitable[T]],
        stats: CallStats,
        tokens: int,
        policy: RetryPolicy | None,
    ) -> T:
        http = HttpClient(self.transport, self.pacer, policy or self.policy)

        async def once() -> T:
            await self.pacer.spend(tokens)
            return await http.exchange(request, read)

        try:
            return await call_with_retries(
                once, limiter=self.pacer, policy=http.policy, stats=http.stats
            )
        finally:
            stats.add(http.stats)


def once_policy(policy: RetryPolicy) -> RetryPolicy:
    """One try at a request that must not be repeated blindly (creating a batch): throttles
    are still waited out, they prove nothing was done."""
    return RetryPolicy(
        max_attempts=1,
        max_throttles=policy.max_throttles,
        backoff_base=policy.backoff_base,
        backoff_max=policy.backoff_max,
        jitter=policy.jitter,
        max_wait=policy.max_wait,
    )
