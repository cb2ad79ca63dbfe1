"""Sans-I/O: turn (status, headers, body) into parsed JSON or the right exception.

Error messages name the method and path only: query strings can carry signatures and headers
carry tokens, so neither ever reaches a message."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, Unpack
from urllib.parse import urlsplit

from archiver.errors import (
    AuthError,
    BadRequestError,
    ChallengeError,
    NotFoundError,
    RateLimitExceeded,
    TransientError,
    UpstreamError,
    WrongEndpointError,
)
from archiver.timeutil import parse_retry_after

AUTH_REFUSED = "the access token was refused (expired?)"
CHALLENGE = "blocked by a challenge page"


def where(method: str, url: str) -> str:
    """``GET /backend-api/conversations``: safe to show, with no query string."""
    return f"{method.upper()} {urlsplit(url).path}"


def looks_like_html(headers: Mapping[str, str], body: bytes) -> bool:
    content_type = headers.get("Content-Type", headers.get("content-type", "")).lower()
    if "html" in content_type:
        return True
    head = body[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html"))


def _detail(body: bytes) -> str:
    """A short, safe description of an error body (the ``detail`` field when there is one)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, str):
        return detail[:200]
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        return str(detail[0].get("msg", ""))[:200]
    if isinstance(detail, dict):
        return str(detail.get("message") or detail.get("code") or "")[:200]
    return ""


def detail_code(body: bytes) -> str | None:
    """``detail.code`` of a JSON error body (ChatGPT's "token_expired"), if there is one."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    detail = payload.get("detail") if isinstance(payload, dict) else None
    code = detail.get("code") if isinstance(detail, dict) else None
    return code[:80] if isinstance(code, str) else None


class Origin(TypedDict):
    """The keywords every reading of an answer takes: the request it answers (messages show its
    method and path only) and what a 401 says was refused (default: the access token)."""

    method: str
    url: str
    auth_message: NotRequired[str]


def raise_for_status(
    status: int, headers: Mapping[str, str], body: bytes, **origin: Unpack[Origin]
) -> None:
    """Raise the exception a non-2xx answer means; return for 2xx."""
    if 200 <= status < 300:
        return
    place = where(origin["method"], origin["url"])
    detail = _detail(body)
    suffix = f": {detail}" if detail else ""
    if status == 401:
        refused = origin.get("auth_message", AUTH_REFUSED)
        error = AuthError(f"{refused} ({place} answered 401)", status=status, url=place)
        error.code = detail_code(body)
        raise error
    if status == 403:
        if looks_like_html(headers, body):
            raise ChallengeError(
                f"{CHALLENGE} ({place} answered 403 with HTML)", status=403, url=place
            )
        raise AuthError(f"access forbidden ({place} answered 403{suffix})", status=403, url=place)
    if status == 404:
        missing = NotFoundError(f"{place} not found (404)", status=404, url=place)
        missing.detail = detail or None
        raise missing
    if status == 429:
        retry_after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
        raise RateLimitExceeded(
            f"{place} was rate limited (429){suffix}", retry_after=retry_after, url=place
        )
    if status in (400, 422):
        raise BadRequestError(
            f"{place} refused the request ({status}){suffix}", status=status, url=place
        )
    text = detail or body[:300].decode("utf-8", "replace").strip()
    if status >= 500 and _says_rate_limited(text):
        # Some wrappers report throttling as a 5xx: slow down like for a 429, and show it.
        raise RateLimitExceeded(
            f"{place} was rate limited ({status}): {' '.join(text.split())[:200]}",
            retry_after=parse_retry_after(headers.get("Retry-After") or headers.get("retry-after")),
            status=status,
            url=place,
        )
    if status >= 500 or status == 408:
        raise TransientError(f"{place} failed with {status}{suffix}", status=status, url=place)
    raise UpstreamError(f"{place} answered {status}{suffix}", status=status, url=place)


_RATE_LIMITED = re.compile(r"rate.?limit|too many requests", re.IGNORECASE)
_CHALLENGE_MARKERS = re.compile(
    rb"just a moment|cf-chl|challenge-platform|turnstile|captcha|attention required",
    re.IGNORECASE,
)


def _says_rate_limited(text: str) -> bool:
    return bool(_RATE_LIMITED.search(text))


def looks_like_challenge(body: bytes) -> bool:
    """An anti-bot page, as opposed to any web page (a wrong base URL serves a site's HTML)."""
    return bool(_CHALLENGE_MARKERS.search(body[:20000]))


def web_page_answered(status: int, body: bytes, place: str) -> UpstreamError:
    """What a 2xx web page instead of the API's answer means: an anti-bot page (stop, exit 3),
    or any other site's page, a wrong base URL (stop at the first, exit 2)."""
    if looks_like_challenge(body):
        return ChallengeError(f"{CHALLENGE} ({place} answered HTML)", status=status)
    return WrongEndpointError(
        f"{place} answered a web page, not the API: wrong base URL?", status=status
    )


def decode_json(
    status: int, headers: Mapping[str, str], body: bytes, **origin: Unpack[Origin]
) -> Any:
    """Check the status, then parse the body as JSON. A 2xx HTML page is a challenge; a 2xx body
    that is not JSON (a truncated answer) is transient."""
    raise_for_status(status, headers, body, **origin)
    place = where(origin["method"], origin["url"])
    if looks_like_html(headers, body):
        raise web_page_answered(status, body, place)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise TransientError(
            f"{place} answered malformed JSON ({len(body)} bytes)", status=status
        ) from None
