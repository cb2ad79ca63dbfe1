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
from archiver.serve.gateway import GatewayBusy, RetryLater, ShuttingDown, UpstreamThrottled

_Classes = type[Exception] | tuple[type[Exception], ...]

# The first row whose classes match wins (so the UpstreamError subclasses come before it):
# (classes, status, OpenAI-style type, code, what the message starts with).
_ERRORS: tuple[tuple[_Classes, int, str, str | None, str], ...] = (
    (GatewayBusy, 429, "gateway_queue_full", "gateway_busy", ""),
    (UpstreamThrottled, 429, "upstream_rate_limited", "upstream_throttled", ""),
    (ShuttingDown, 503, "server_error", "shutting_down", ""),
    (NotFoundError, 404, "not_found_error", "upstream_not_found", ""),
    ((AuthError, ChallengeError), 502, "upstream_error", "upstream_auth", "upstream account: "),
    ((InputError, ConfigError), 400, "invalid_request_error", None, ""),
    (UpstreamError, 502, "upstream_error", "upstream_error", "upstream: "),
)


def as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    # Only the gateway's own refusals say when to come back.
    retry_after = exc.retry_after if isinstance(exc, RetryLater) else None
    for classes, status, kind, code, prefix in _ERRORS:
        if isinstance(exc, classes):
            return ApiError(
                status, prefix + str(exc), type=kind, code=code, retry_after=retry_after
            )
    return ApiError(500, str(exc), type="server_error", code="internal_error")
