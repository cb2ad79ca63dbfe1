"""claude.ai's answers → plain values (sans-I/O: no network, no SQLite). docs/protocol/claude.md.

Several points of the wire are uncertain (PROTOCOL.md §6), so every variant listed there is
accepted: the v2 list under ``data`` or ``conversations`` (or a bare array, the v1 list),
``has_more`` missing, times ending ``Z`` or ``+00:00``, a usage limit as a JSON string inside
``error.message`` (``exceeded_limit`` with ``resetsAt``) or as ``resets_at`` on the error."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Unpack

from archiver.backup.client_source import ListEntry
from archiver.errors import (
    AuthError,
    ChallengeError,
    RateLimitExceeded,
    ThrottledUntil,
    TransientError,
    UpstreamError,
)
from archiver.loosejson import as_dict, as_str
from archiver.timeutil import parse_retry_after, to_datetime, to_iso
from archiver.transport.responses import (
    Origin,
    decode_json,
    looks_like_challenge,
    looks_like_html,
    raise_for_status,
    where,
)

AUTH_REFUSED = "the claude.ai session key was refused: copy a fresh one"
CLOUDFLARE_ADVICE = (
    "claude.ai answered a Cloudflare check instead of data: open claude.ai in the browser the "
    "session key came from, let the check pass, then copy a fresh session key (or the whole "
    "Cookie header, with its cf_clearance) and that browser's User-Agent (CLAUDE_USER_AGENT); "
    "what was archived is kept"
)
CHAT_CAPABILITY = "chat"
# Error codes and types that say the session itself is refused (not one organization).
_SESSION_CODES = ("account_session_invalid", "session_invalid", "invalid_session")
_SESSION_TYPES = ("authentication_error",)
# How long a usage limit without a reset time is assumed to last (its shortest window).
DEFAULT_LIMIT_WINDOW = timedelta(hours=5)


# --- errors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorBody:
    """Claude's error envelope ``{"type":"error","error":{"type","message","details"}}``."""

    kind: str | None
    message: str | None
    code: str | None
    limit: dict[str, Any] | None  # the usage-limit object, when this is one


def _loads(body: bytes | str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


def read_error(body: bytes | str | Mapping[str, Any]) -> ErrorBody | None:
    """The error in ``body``, or None when it is not Claude's envelope."""
    payload = body if isinstance(body, Mapping) else _loads(body)
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if not isinstance(error, Mapping):
        return None
    message = as_str(error.get("message"))
    details = as_dict(error.get("details"))
    limit: dict[str, Any] | None = None
    inner = _loads(message) if message and message.lstrip().startswith("{") else None
    if isinstance(inner, dict) and (inner.get("type") == "exceeded_limit" or _reset_of(inner)):
        limit = inner
    elif error.get("type") == "exceeded_limit" or _reset_of(error):
        limit = dict(error)  # the older form: the error itself says when it resets
    return ErrorBody(
        kind=as_str(error.get("type")),
        message=message,
        code=as_str(details.get("error_code")) or as_str(error.get("code")),
        limit=limit,
    )


def _reset_of(limit: Mapping[str, Any]) -> datetime | None:
    """When a usage limit lifts: ``resetsAt`` / ``resets_at`` (epoch seconds or ISO), else the
    latest reset among its exceeded ``windows``."""
    for key in ("resetsAt", "resets_at", "resetAt"):
        when = to_datetime(limit.get(key))
        if when is not None:
            return when
    windows = as_dict(limit.get("windows"))
    times = [
        to_datetime(as_dict(w).get("resets_at"))
        for w in windows.values()
        if as_dict(w).get("status") not in (None, "within_limit")
    ]
    found = [t for t in times if t is not None]
    return max(found) if found else None


def usage_limit_stop(limit: Mapping[str, Any], now: datetime | None = None) -> ThrottledUntil:
    """The stop a reached usage limit means: a cap on sending, lifting at ``resetsAt``."""
    now = now or datetime.now(tz=UTC)
    until = _reset_of(limit)
    if until is None:
        until = now + DEFAULT_LIMIT_WINDOW
        reason = "claude.ai usage limit reached (no reset time given: assuming 5 hours)"
    else:
        when = until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        reason = f"claude.ai usage limit reached (it resets at {when})"
    return ThrottledUntil(until, reason, sending_only=True)


def is_session_refusal(exc: AuthError) -> bool:
    """A 401, or a 403 whose body says the session is invalid: the sign-in itself is refused
    (as opposed to one organization refusing its chat list)."""
    return exc.status == 401 or exc.code in _SESSION_CODES or exc.code in _SESSION_TYPES


def raise_for_claude(
    status: int, headers: Mapping[str, str], body: bytes, **origin: Unpack[Origin]
) -> None:
    """Raise what a non-2xx claude.ai answer means; return for 2xx. Messages name the method
    and path only (never a cookie)."""
    if 200 <= status < 300:
        return
    place = where(origin["method"], origin["url"])
    if looks_like_html(headers, body) and (status == 403 or looks_like_challenge(body)):
        raise ChallengeError(f"{CLOUDFLARE_ADVICE} ({place} answered {status})", status=status)
    error = read_error(body)
    if error is not None and error.limit is not None:
        raise usage_limit_stop(error.limit)
    if status in (401, 403):
        refused = AuthError(f"{AUTH_REFUSED} ({place} answered {status})", status=status, url=place)
        refused.code = (error.code or error.kind) if error is not None else None
        refused.detail = error.message[:200] if error is not None and error.message else None
        raise refused
    said = f": {error.message[:200]}" if error is not None and error.message else ""
    if status == 429 or (error is not None and error.kind == "rate_limit_error"):
        retry_after = parse_retry_after(headers.get("Retry-After") or headers.get("retry-after"))
        raise RateLimitExceeded(
            f"{place} was rate limited ({status}){said}", retry_after=retry_after, url=place
        )
    if status == 529 or (error is not None and error.kind == "overloaded_error"):
        raise TransientError(f"{place} answered {status}: overloaded{said}", status=status)
    origin.setdefault("auth_message", AUTH_REFUSED)
    raise_for_status(status, headers, body, **origin)


def decode_claude(
    status: int, headers: Mapping[str, str], body: bytes, **origin: Unpack[Origin]
) -> Any:
    """Check the status the claude.ai way, then parse the JSON body (an HTML page with a 2xx
    is a challenge or a wrong base URL, as for every upstream)."""
    raise_for_claude(status, headers, body, **origin)
    try:
        return decode_json(status, headers, body, **origin)
    except ChallengeError:
        place = where(origin["method"], origin["url"])
        raise ChallengeError(f"{CLOUDFLARE_ADVICE} ({place})", status=status) from None


# --- organizations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Organization:
    uuid: str
    name: str | None
    capabilities: tuple[str, ...]
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_chat(self) -> bool:
        return CHAT_CAPABILITY in self.capabilities


def parse_organizations(payload: Any) -> list[Organization]:
    """``GET /api/organizations``: an array (a wrapped ``data`` list is accepted too)."""
    if isinstance(payload, dict):
        payload = payload.get("data") or payload.get("organizations")
    if not isinstance(payload, list):
        raise UpstreamError("GET /api/organizations answered an unexpected shape")
    found = []
    for raw in payload:
        raw = as_dict(raw)
        uuid = as_str(raw.get("uuid")) or as_str(raw.get("id"))
        if not uuid or not _safe_segment(uuid):
            continue
        capabilities = raw.get("capabilities")
        found.append(
            Organization(
                uuid=uuid,
                name=as_str(raw.get("name")),
                capabilities=tuple(c for c in capabilities if isinstance(c, str))
                if isinstance(capabilities, list)
                else (),
                raw=raw,
            )
        )
    return found


def chat_organizations(orgs: Iterable[Organization]) -> list[Organization]:
    """Where chats live: organizations with the chat capability. An API-console organization
    (``["api"]``) is listed too, even first; its chat lists refuse."""
    return [org for org in orgs if org.has_chat]


def _safe_segment(value: str) -> bool:
    """An id that can go into a URL path as it is."""
    return bool(value) and not any(c in value for c in "/\\?#% ") and value not in (".", "..")


# --- conversation lists ------------------------------------------------------------------


@dataclass(frozen=True)
class ListPage:
    chats: list[ListEntry]
    unreadable: list[Any]  # entries without a usable uuid
    has_more: bool | None  # None: the answer did not say (a bare array says: no)
    size: int  # entries on the page, readable or not (the next offset moves by this)


def parse_listed(raw: Any) -> ListEntry | None:
    raw = as_dict(raw)
    uuid = as_str(raw.get("uuid"))
    if not uuid or not _safe_segment(uuid):
        return None
    return ListEntry(
        conversation_id=uuid,
        update_time=to_iso(raw.get("updated_at")) or to_iso(raw.get("created_at")),
        title=as_str(raw.get("name")),
        raw=raw,
    )


def parse_list_page(payload: Any) -> ListPage:
    """``{"data": [...], "has_more": bool}`` (v2; ``conversations`` in one version) or a bare
    array (v1, the whole list at once)."""
    has_more: bool | None
    items: Any
    if isinstance(payload, list):
        items, has_more = payload, False
    elif isinstance(payload, dict):
        items = payload.get("data")
        if items is None:
            items = payload.get("conversations")
        more = payload.get("has_more")
        has_more = more if isinstance(more, bool) else None
    else:
        items = None
    if not isinstance(items, list):
        raise UpstreamError("a claude.ai conversation list answered an unexpected shape")
    parsed = [(raw, parse_listed(raw)) for raw in items]
    return ListPage(
        chats=[chat for _, chat in parsed if chat is not None],
        unreadable=[raw for raw, chat in parsed if chat is None],
        has_more=has_more,
        size=len(items),
    )


# --- projects ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    uuid: str
    name: str | None
    description: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def parse_project(raw: Any) -> Project | None:
    raw = as_dict(raw)
    uuid = as_str(raw.get("uuid")) or as_str(raw.get("id"))
    if not uuid or not _safe_segment(uuid):
        return None
    return Project(
        uuid=uuid,
        name=as_str(raw.get("name")),
        description=as_str(raw.get("description")),
        updated_at=to_iso(raw.get("updated_at")),
        raw=raw,
    )


def _array(payload: Any, *keys: str) -> list[Any] | None:
    if isinstance(payload, dict):
        for key in keys:
            if isinstance(payload.get(key), list):
                return list(payload[key])
        return None
    return payload if isinstance(payload, list) else None


def parse_projects(payload: Any) -> list[Project]:
    """``GET .../projects``: an array (or ``{"data": [...]}``)."""
    items = _array(payload, "data", "projects")
    if items is None:
        raise UpstreamError("the claude.ai project list answered an unexpected shape")
    unique: dict[str, Project] = {}
    for raw in items:
        project = parse_project(raw)
        if project is not None:
            unique.setdefault(project.uuid, project)
    return list(unique.values())


def parse_docs(payload: Any) -> list[dict[str, Any]]:
    """``GET .../projects/{uuid}/docs``: ``[{uuid, file_name, content, created_at}]``."""
    items = _array(payload, "data", "docs")
    if items is None:
        raise UpstreamError("a claude.ai project's documents answered an unexpected shape")
    return [doc for doc in items if isinstance(doc, dict)]


# --- creating a conversation -------------------------------------------------------------


def created_uuid(payload: Any, asked: str) -> str:
    """``POST .../chat_conversations`` answers the conversation (201); its uuid is the one we
    generated, unless the server chose another."""
    return as_str(as_dict(payload).get("uuid")) or asked


__all__ = [
    "AUTH_REFUSED",
    "CLOUDFLARE_ADVICE",
    "ErrorBody",
    "ListPage",
    "Organization",
    "Project",
    "chat_organizations",
    "created_uuid",
    "decode_claude",
    "is_session_refusal",
    "parse_docs",
    "parse_list_page",
    "parse_listed",
    "parse_organizations",
    "parse_project",
    "parse_projects",
    "raise_for_claude",
    "read_error",
    "usage_limit_stop",
]
