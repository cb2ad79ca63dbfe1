"""Sans-I/O: what a refused ChatGPT send means (docs/protocol/chatgpt.md, "Refusals when sending").

- 403 ``Unusual activity has been detected from your device``: the sentinel's tokens were
  missing, reused or wrong, or Turnstile was insisted on. Not retryable as is.
- 429 ``{"detail": {"code": "model_cap_exceeded", "clears_in": seconds}}``: the model's message
  cap; it clears at a known time (``CapReached``: pause or stop, never slow down).
- ``Only one message at a time``: another answer of this account is still streaming; go serial.

Everything else is the shared transport's reading (``raise_for_status``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from archiver.errors import AuthError, CapReached, ChallengeError, TransientError
from archiver.transport.responses import looks_like_html, raise_for_status, where

UNUSUAL_SIGN = "unusual activity"
ONE_AT_A_TIME_SIGN = "only one message at a time"


class UnusualActivity(ChallengeError):
    """403 "Unusual activity": the sender retries once with fresh tokens, then stops the run."""


class OneMessageAtATime(TransientError):
    """Another answer of this account is still in flight: retried, one send at a time."""


def as_refusal(exc: AuthError) -> AuthError | UnusualActivity:
    """A 403 read by the shared transport (an AuthError) that was in fact Unusual activity."""
    if exc.status == 403 and UNUSUAL_SIGN in str(exc).lower():
        return UnusualActivity(
            f"{exc.url or 'the sentinel'} was refused with 403 Unusual activity",
            status=403,
            url=exc.url,
        )
    return exc


def _detail(body: bytes) -> Any:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload.get("detail") if isinstance(payload, dict) else None


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value))


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{seconds:.0f} s"


def raise_for_send(
    status: int, headers: Mapping[str, str], body: bytes, *, method: str, url: str
) -> None:
    """Raise what a non-2xx answer to a send (or a sentinel call) means; return for 2xx."""
    if 200 <= status < 300:
        return
    place = where(method, url)
    detail = _detail(body)
    text = detail if isinstance(detail, str) else ""
    if isinstance(detail, dict):
        text = str(detail.get("message") or "")
    lowered = text.lower()
    if status == 403 and not looks_like_html(headers, body) and UNUSUAL_SIGN in lowered:
        raise UnusualActivity(
            f"{place} was refused with 403 Unusual activity (the server distrusts this "
            "device's sentinel tokens or proof of work, or insists on a Turnstile check, which "
            "archiver never solves)",
            status=403,
            url=place,
        )
    if ONE_AT_A_TIME_SIGN in lowered:
        raise OneMessageAtATime(
            f"{place} answered {status}: only one message at a time on this account",
            status=status,
            url=place,
        )
    if status == 429 and isinstance(detail, dict) and detail.get("code") == "model_cap_exceeded":
        clears_in = _seconds(detail.get("clears_in"))
        when = f"; it clears in {_duration(clears_in)}" if clears_in is not None else ""
        raise CapReached(
            f"{place} answered 429: the model's message cap is reached (model_cap_exceeded)" + when,
            retry_after=clears_in,
            url=place,
        )
    raise_for_status(status, headers, body, method=method, url=url)
