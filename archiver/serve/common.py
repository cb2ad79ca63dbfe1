"""What every route module of the gateway shares: the options, the per-app context, errors."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlite_utils
from aiohttp import web

from archiver.serve.keys import ApiKey, KeyRates
from archiver.transport.http import RetryPolicy

T = TypeVar("T")

# Gateway upstream retries: a client is waiting, so a 429 is passed on at once (with when it
# clears) instead of being waited out as a batch would; transient failures are still retried.
GATEWAY_POLICY = RetryPolicy(max_attempts=3, max_throttles=1)


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    # route family ("seed000", "seed004") -> the provider serving those routes
    families: Mapping[str, str] = field(default_factory=dict)
    default_provider: str | None = None  # /v1/chat/completions when the model names none
    max_rpm: float | None = 20.0  # per account, every client together
    burst: int = 1
    concurrency: int = 2  # answers in flight upstream per account
    max_queue: int = 16  # answers waiting per account beyond those in flight
    key_rpm: float | None = 60.0  # per API key
    key_burst: int = 10
    max_body: int = 1024 * 1024
    body_timeout: float = 30.0  # seconds a request body may take to arrive
    cors_origin: str | None = None
    allowed_hosts: tuple[str, ...] = ()  # Host names answered besides the bound address
    models: tuple[str, ...] = ("auto",)  # model names the default provider offers in /v1/models
    timeout_seconds: float = 300.0
    shutdown_grace: float = 300.0
    # The providers' own send options (conversation_path...), handed to every sender opened.
    provider_values: Mapping[str, Any] = field(default_factory=dict)
    policy: RetryPolicy = GATEWAY_POLICY

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)


def is_loopback(host: str) -> bool:
    return host in ("127.0.0.1", "::1", "localhost") or host.startswith("127.")


@dataclass
class ServeContext:
    db: sqlite_utils.Database
    options: ServeOptions
    settings: dict[str, Any]  # provider -> its settings (credentials stay inside)
    rates: KeyRates
    gateways: dict[str, Any] = field(default_factory=dict)  # provider -> AccountGateway
    viewer_sessions: dict[str, int] = field(default_factory=dict)  # cookie token -> key id
    seed000_sessions: dict[str, Any] = field(default_factory=dict)  # seed 000 conversations
    # Handlers waiting for a request body: shutting down cancels them (nothing was asked yet).
    body_reads: set[asyncio.Task[Any]] = field(default_factory=set)
    # Each account's tally, written when the gateway has drained (printed as it stops).
    tallies: list[str] = field(default_factory=list)

    @property
    def require_keys_for_viewer(self) -> bool:
        return not self.options.loopback

    def family(self, family: str) -> str:
        """The provider serving a family of routes (ServeOptions.families)."""
        provider = self.options.families.get(family)
        if provider is None:
            raise ApiError(
                400,
                "no account on this gateway serves these routes",
                code="provider_not_configured",
            )
        return provider

    def gateway(self, provider: str | None) -> Any:
        gateway = self.gateways.get(provider) if provider else None
        if gateway is None:
            configured = ", ".join(sorted(self.gateways)) or "none"
            raise ApiError(
                400,
                f"no {provider} account is configured on this gateway (configured: {configured})",
                code="provider_not_configured",
            )
        return gateway


CONTEXT = web.AppKey("archiver_serve_context", ServeContext)
# request[KEY]: the ApiKey that asked, or None (the loopback viewer). A typed key where aiohttp
# has them (3.13+: plain strings warn there), a string on older releases.
KEY: Any = (
    web.RequestKey("archiver_api_key", object) if hasattr(web, "RequestKey") else "archiver_api_key"
)


class ApiError(Exception):
    """An answer other than 2xx, with an OpenAI-shaped body on /v1 and a plain one elsewhere."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.retry_after = retry_after


def context(request: web.Request) -> ServeContext:
    return request.app[CONTEXT]


def client_left(request: web.Request) -> Callable[[], bool]:
    """Whether the client of ``request`` has hung up (its connection is gone or closing)."""

    def left() -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    return left


def key_of(request: web.Request) -> ApiKey | None:
    key = request.get(KEY)
    return key if isinstance(key, ApiKey) else None


async def read_body(request: web.Request, read: Awaitable[T]) -> T:
    """``read`` (the request's body), within ``body_timeout``: a client that trickles its
    body gets a 408 instead of holding a connection and a handler for as long as it likes;
    a shutdown cancels the wait at once."""
    ctx = context(request)
    task = asyncio.current_task()
    if task is not None:
        ctx.body_reads.add(task)
    try:
        async with asyncio.timeout(ctx.options.body_timeout):
            return await read
    except TimeoutError:
        raise ApiError(
            408,
            f"the request body did not arrive within {ctx.options.body_timeout:g} s",
            code="body_timeout",
        ) from None
    finally:
        if task is not None:
            ctx.body_reads.discard(task)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The body as a JSON object, or a 400: not JSON, nested too deep to parse, or holding a
    lone UTF-16 surrogate (valid JSON, not text that can be stored or sent on)."""
    text = await read_body(request, request.read())
    try:
        body = json.loads(text)
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except RecursionError:
        raise ApiError(
            400, "the request body is not valid JSON (nested too deep)", code="invalid_json"
        ) from None
    except UnicodeEncodeError:
        raise ApiError(
            400,
            "the request body holds a lone UTF-16 surrogate (such as \\ud800): not valid text",
            code="invalid_json",
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the request body is not valid JSON", code="invalid_json") from None
    if not isinstance(body, dict):
        raise ApiError(400, "the request body must be a JSON object", code="invalid_json")
    return body


def text_field(body: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        raise ApiError(400, f"'{name}' must be a non-empty string", param=name)
    return value


def flag_field(body: dict[str, Any], name: str) -> bool:
    """Seed 004 sends booleans as the strings 'true'/'false'; accept both."""
    value = body.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ApiError(400, f"'{name}' must be true or false", param=name)
