"""Every failure the gateway can meet, as the API error a client gets (status, OpenAI-style
type and code, and Retry-After where waiting helps)."""

from __future__ import annotations

from archiver.errors import (
    AuthError,
    ChallengeError,
    ConfigError,
    InputError,
    NotFoundError,
    UpstreamError,
)
from archiver.serve.common import ApiError
from archiver.serve.gateway import GatewayBusy, ShuttingDown, UpstreamThrottled


def as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, GatewayBusy):
        return ApiError(
            429,
            str(exc),
            type="gateway_queue_full",
            code="gateway_busy",
            retry_after=exc.retry_after,
        )
    if isinstance(exc, UpstreamThrottled):
        return ApiError(
            429,
            str(exc),
            type="upstream_rate_limited",
            code="upstream_throttled",
            retry_after=exc.retry_after,
        )
    if isinstance(exc, ShuttingDown):
        return ApiError(503, str(exc), type="server_error", code="shutting_down", retry_after=5)
    if isinstance(exc, NotFoundError):
        return ApiError(404, str(exc), type="not_found_error", code="upstream_not_found")
    if isinstance(exc, AuthError | ChallengeError):
        return ApiError(
            502, f"upstream account: {exc}", type="upstream_error", code="upstream_auth"
        )
    if isinstance(exc, InputError | ConfigError):
        return ApiError(400, str(exc))
    if isinstance(exc, UpstreamError):
        return ApiError(502, f"upstream: {exc}", type="upstream_error", code="upstream_error")
    return ApiError(500, str(exc), type="server_error", code="internal_error")
