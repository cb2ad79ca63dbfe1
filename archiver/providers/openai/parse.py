"""Sans-I/O reading of the OpenAI-compatible API (docs/protocol/openai.md): answers, error
bodies, rate-limit headers, batch objects and the lines of batch result files. Bytes and dicts
in, values or the right exception out; never a socket, never SQLite.

Error messages are the API's own words with anything shaped like a key cut out: a 401 echoes
a masked key ("sk-ab****wxyz"), and a message is printed, logged and stored."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, Unpack

from archiver.batch.remote import FINISHED, REFUSED, WAITING, RemoteStatus
from archiver.errors import (
    AuthError,
    BadRequestError,
    ChallengeError,
    NotFoundError,
    QuotaExhausted,
    RateLimitExceeded,
    TransientError,
    UpstreamError,
    WrongEndpointError,
)
from archiver.loosejson import as_dict
from archiver.timeutil import parse_retry_after
from archiver.transport.responses import looks_like_challenge, looks_like_html, where

KEY_REFUSED = "the API key was refused"
_KEY_SHAPES = re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_*.\-]{3,}|\b[A-Fa-f0-9]{32}\b")
_TRY_AGAIN = re.compile(r"try again in\s+([0-9.]+)\s*(ms|s|m)\b", re.IGNORECASE)
_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(h|ms|us|µs|ns|m|s)")


def redact(text: str, secret: str | None = None) -> str:
    """``text`` without the key, its masked echo, or anything shaped like a key."""
    if secret:
        text = text.replace(secret, "[key]")
    return _KEY_SHAPES.sub("[key]", text)


# --- errors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiError:
    """``{"error": {"message", "type", "param", "code"}}`` (OpenRouter: a numeric code)."""

    message: str
    type: str | None = None
    code: str | None = None
    param: str | None = None

    def describe(self, status: int) -> str:
        label = self.code or self.type
        return f"{status} {label}: {self.message}" if label else f"{status}: {self.message}"


def api_error(body: Any, secret: str | None = None) -> ApiError | None:
    """The API's error object in a body (bytes or parsed), or None when it has none."""
    payload = body
    if isinstance(body, bytes | str):
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, str):  # some compatible servers: {"error": "text"}
        return ApiError(redact(error, secret)[:500])
    if not isinstance(error, dict):
        return None
    message = error.get("message")
    code = error.get("code")
    return ApiError(
        message=redact(str(message) if message is not None else "", secret)[:1000],
        type=_text(error.get("type")),
        code=str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
        param=_text(error.get("param")),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def retry_after_seconds(headers: Mapping[str, str], message: str = "") -> float | None:
    """How long a 429 asks to wait: ``retry-after-ms`` (preferred), ``retry-after`` (seconds
    or an HTTP date), the message's "try again in 20s", or the reset of whichever limit is
    used up; None when nothing says."""
    low = {k.lower(): v for k, v in headers.items()}
    try:
        ms = float(low.get("retry-after-ms", ""))
        if ms >= 0 and math.isfinite(ms):
            return ms / 1000.0
    except ValueError:
        pass
    seconds = parse_retry_after(low.get("retry-after"))
    if seconds is not None:
        return seconds
    found = _TRY_AGAIN.search(message)
    if found:
        value = float(found[1])
        return value / 1000.0 if found[2] == "ms" else value * (60.0 if found[2] == "m" else 1.0)
    limits = rate_limits(headers)
    resets = [
        reset
        for remaining, reset in (
            (limits.remaining_requests, limits.reset_requests),
            (limits.remaining_tokens, limits.reset_tokens),
        )
        if remaining == 0 and reset is not None
    ]
    return max(resets) if resets else None


class Origin(TypedDict):
    """What an answer answers: the request's method and URL (messages show the path only),
    and the key, to cut out of any message that repeats it."""

    method: str
    url: str
    secret: NotRequired[str | None]


def check_answer(
    status: int, headers: Mapping[str, str], body: bytes, **origin: Unpack[Origin]
) -> None:
    """Raise what a non-2xx answer means (docs/protocol/openai.md, "Errors"); return for 2xx."""
    if 200 <= status < 300:
        return
    place = where(origin["method"], origin["url"])
    error = api_error(body, origin.get("secret"))
    detail = f" {error.describe(status)}" if error else ""
    should_retry = {k.lower(): v for k, v in headers.items()}.get("x-should-retry", "").lower()
    if status == 401:
        # The message echoes a masked key: never shown, only the code.
        code = f", {error.code}" if error and error.code else ""
        raise AuthError(f"{KEY_REFUSED} ({place} answered 401{code})", status=401, url=place)
    if status == 403:
        if looks_like_html(headers, body):
            if looks_like_challenge(body):
                raise ChallengeError(f"blocked by a challenge page ({place} answered 403)")
            raise WrongEndpointError(f"{place} answered 403 with a web page: wrong base URL?")
        raise AuthError(f"the key may not do this ({place}:{detail or ' 403'})", status=403)
    if status == 429:
        if error and "insufficient_quota" in (error.code, error.type):
            raise QuotaExhausted(
                f"billing, not a rate limit ({place}:{detail}): waiting will not clear it; "
                "check the plan and billing details, then run the same command again",
                status=429,
                url=place,
            )
        raise RateLimitExceeded(
            f"{place} was rate limited (429){':' + detail if detail else ''}",
            retry_after=retry_after_seconds(headers, error.message if error else ""),
            url=place,
        )
    if (
        should_retry == "true"
        or status in (408, 409)
        or (status >= 500 and should_retry != "false")
    ):
        raise TransientError(f"{place} failed:{detail or f' {status}'}", status=status, url=place)
    if error is None and (status in (404, 405, 501) or looks_like_html(headers, body)):
        # Not the API's error shape: another server, or no such endpoint on this one.
        raise WrongEndpointError(
            f"{place} answered {status} without an API error: wrong base URL (it should end "
            "in /v1), or this server does not offer it",
            status=status,
            url=place,
        )
    if status == 404:
        raise NotFoundError(f"{place}:{detail}", status=404, url=place)
    if status in (400, 413, 422):
        raise BadRequestError(f"refused ({detail.strip()})", status=status, url=place)
    raise UpstreamError(f"{place} answered{detail or f' {status}'}", status=status, url=place)


def json_body(
    status: int, headers: Mapping[str, str], body: bytes, **origin: Unpack[Origin]
) -> Any:
    """A 2xx answer's JSON; a web page means a wrong base URL, broken JSON a cut answer."""
    check_answer(status, headers, body, **origin)
    place = where(origin["method"], origin["url"])
    if looks_like_html(headers, body):
        if looks_like_challenge(body):
            raise ChallengeError(f"blocked by a challenge page ({place} answered HTML)")
        raise WrongEndpointError(f"{place} answered a web page, not the API: wrong base URL?")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise TransientError(f"{place} answered malformed JSON ({len(body)} bytes)") from None


# --- rate limits ---------------------------------------------------------------------------


def parse_duration(text: str | None) -> float | None:
    """A Go-style duration (``12ms``, ``1s``, ``17.5s``, ``6m0s``, ``1h2m3s``) in seconds; a
    bare number is seconds. None when unreadable."""
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
        return value if math.isfinite(value) and value >= 0 else None
    except ValueError:
        pass
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    total, position = 0.0, 0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            return None
        total += float(match[1]) * scale[match[2]]
        position = match.end()
    return total if position == len(text) and position else None


@dataclass(frozen=True)
class RateLimits:
    """``x-ratelimit-*``: the per-minute allowance of requests and tokens, what is left and
    when it is whole again. None where a header is absent or meaningless (Azure's ``-1``)."""

    limit_requests: int | None = None
    limit_tokens: int | None = None
    remaining_requests: int | None = None
    remaining_tokens: int | None = None
    reset_requests: float | None = None
    reset_tokens: float | None = None


def _count(headers: Mapping[str, str], name: str) -> int | None:
    try:
        value = int(float(headers.get(name, "")))
    except ValueError:
        return None
    return value if value >= 0 else None


def rate_limits(headers: Mapping[str, str]) -> RateLimits:
    low = {k.lower(): v for k, v in headers.items()}
    limit_requests = _count(low, "x-ratelimit-limit-requests")
    limit_tokens = _count(low, "x-ratelimit-limit-tokens")
    return RateLimits(
        limit_requests=limit_requests or None,
        limit_tokens=limit_tokens or None,
        remaining_requests=_count(low, "x-ratelimit-remaining-requests"),
        remaining_tokens=_count(low, "x-ratelimit-remaining-tokens"),
        reset_requests=parse_duration(low.get("x-ratelimit-reset-requests")),
        reset_tokens=parse_duration(low.get("x-ratelimit-reset-tokens")),
    )


# --- answers -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """The parts of a ``chat.completion`` that a row records."""

    id: str | None
    model: str | None
    content: str | None  # None: a refusal or a tool call, not text
    refusal: str | None
    reasoning: str | None  # some compatible servers return the model's reasoning beside it
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    created: float | None
    raw: Mapping[str, Any] = field(default_factory=dict)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_completion(payload: Any) -> Completion:
    """A ``chat.completion`` object → Completion. ValueError when it is not one."""
    if not isinstance(payload, dict):
        raise ValueError(f"the answer is a {type(payload).__name__}, not a chat completion")
    choices = payload.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("the answer has no choices")
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise ValueError("the answer's choice has no message")
    usage = as_dict(payload.get("usage"))
    content = message.get("content")
    if isinstance(content, list):  # content parts: the text ones, joined
        content = "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "output_text")
        )
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    created = payload.get("created")
    return Completion(
        id=_text(payload.get("id")),
        model=_text(payload.get("model")),
        content=content if isinstance(content, str) else None,
        refusal=_text(message.get("refusal")),
        reasoning=reasoning if isinstance(reasoning, str) else None,
        finish_reason=_text(choice.get("finish_reason")),
        prompt_tokens=_int(usage.get("prompt_tokens")),
        completion_tokens=_int(usage.get("completion_tokens")),
        created=float(created) if isinstance(created, int | float) else None,
        raw=payload,
    )


# --- batches -------------------------------------------------------------------------------

_WAITING = ("validating", "in_progress", "finalizing", "cancelling")
_FINISHED = ("completed", "expired", "cancelled")
NOT_RUN_CODES = ("batch_expired", "batch_cancelled")  # error lines of requests never run


def batch_status(payload: Any) -> RemoteStatus:
    """A Batch object → RemoteStatus. ValueError when it is not one."""
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise ValueError("the answer is not a batch object")
    status = str(payload.get("status") or "")
    if status in _FINISHED:
        state = FINISHED
    elif status == "failed":
        state = REFUSED
    elif status in _WAITING:
        state = WAITING
    else:
        raise ValueError(f"batch {payload['id']} has an unknown status {status!r}")
    counts = as_dict(payload.get("request_counts"))
    errors = payload.get("errors")
    data = errors.get("data") if isinstance(errors, dict) else None
    reasons = tuple(
        (f"line {e['line']}: " if isinstance(e.get("line"), int) else "")
        + redact(str(e.get("message") or e.get("code") or "refused"))
        for e in (data if isinstance(data, list) else [])
        if isinstance(e, dict)
    )
    return RemoteStatus(
        batch_id=payload["id"],
        status=status,
        state=state,
        total=_int(counts.get("total")) or 0,
        completed=_int(counts.get("completed")) or 0,
        failed=_int(counts.get("failed")) or 0,
        errors=reasons,
        raw=payload,
    )


def file_id(value: Any) -> str | None:
    """``output_file_id`` / ``error_file_id``: null, or (seen) an empty string, means none."""
    return value if isinstance(value, str) and value else None


def result_lines(data: bytes) -> Iterator[dict[str, Any]]:
    """The JSON objects of a result file, blank and unreadable lines skipped (a line that is
    not JSON names no row: its row stays without a result, so it is never run twice)."""
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
            yield line


@dataclass(frozen=True)
class LineOutcome:
    """One result line: a completion (status 200), or the error the row fails with, or
    ``not_run`` (the batch ended before it ran)."""

    custom_id: str
    completion: Any = None
    error: str | None = None
    not_run: bool = False


def line_outcome(line: Mapping[str, Any]) -> LineOutcome:
    custom_id = str(line["custom_id"])
    response = line.get("response")
    if isinstance(response, dict):
        status = response.get("status_code")
        body = response.get("body")
        if status == 200:
            return LineOutcome(custom_id, completion=body)
        error = api_error(body)
        label = error.describe(status if isinstance(status, int) else 0) if error else None
        return LineOutcome(custom_id, error=label or f"status {status}")
    failure = line.get("error")
    if isinstance(failure, dict):
        code = _text(failure.get("code"))
        if code in NOT_RUN_CODES:
            return LineOutcome(custom_id, not_run=True)
        message = redact(str(failure.get("message") or ""))
        return LineOutcome(custom_id, error=f"{code}: {message}" if code else message or "failed")
    return LineOutcome(custom_id, error="the result line has neither a response nor an error")
