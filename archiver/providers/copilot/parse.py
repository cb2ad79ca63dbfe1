"""Copilot REST answers → plain values (sans-I/O: no network, no SQLite).
docs/protocol/copilot.md.

Several points of the wire format are uncertain, so every variant the protocol notes list is
accepted: the list and history pages under ``results`` (or ``conversations`` / ``messages`` /
``items``), the cursor as ``next`` (or ``nextCursor`` / ``cursor``, a string or an object with one),
times as ISO strings or epoch numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.backup.client_source import ListEntry
from archiver.errors import UpstreamError
from archiver.timeutil import to_datetime, to_iso

LIST_PATH = "c/api/conversations"
LIST_TYPES = "chat,character,xbox,group"
HISTORY_API_VERSION = "2"

_RESULT_KEYS = ("results", "conversations", "messages", "items", "value")
_CURSOR_KEYS = ("next", "nextCursor", "cursor", "continuationToken")


def history_path(conversation_id: str) -> str:
    return f"{LIST_PATH}/{conversation_id}/history"


def conversation_path(conversation_id: str) -> str:
    return f"{LIST_PATH}/{conversation_id}"


def list_params(cursor: str | None = None) -> dict[str, str]:
    params = {"types": LIST_TYPES}
    if cursor:
        params["cursor"] = cursor
    return params


def history_params(cursor: str | None = None) -> dict[str, str]:
    params = {"api-version": HISTORY_API_VERSION}
    if cursor:
        params["cursor"] = cursor
    return params


@dataclass(frozen=True)
class Page:
    """One page of a cursor-paged answer: its entries and the cursor of the next (None: last)."""

    results: list[Any]
    next_cursor: str | None


def _cursor(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, dict):  # {"cursor": "..."} or {"next": "..."}
        for key in _CURSOR_KEYS:
            found = _cursor(value.get(key))
            if found:
                return found
    return None


def parse_page(payload: Any, what: str) -> Page:
    """``{"results": [...], "next": cursor|null}``; a bare list is one last page."""
    if isinstance(payload, list):
        return Page(payload, None)
    if not isinstance(payload, dict):
        raise UpstreamError(f"{what} answered an unexpected shape")
    results: Any = None
    for key in _RESULT_KEYS:
        if key in payload:
            results = payload[key]
            break
    if results is None:
        results = []
    if not isinstance(results, list):
        raise UpstreamError(f"{what} answered an unexpected shape")
    cursor = None
    for key in _CURSOR_KEYS:
        cursor = _cursor(payload.get(key))
        if cursor:
            break
    return Page(results, cursor)


def parse_chat(raw: Any) -> ListEntry | None:
    if not isinstance(raw, dict):
        return None
    conversation_id = raw.get("id") or raw.get("conversationId")
    if not isinstance(conversation_id, str) or not conversation_id:
        return None
    title = raw.get("title")
    update_time = (
        to_iso(raw.get("updatedAt"))
        or to_iso(raw.get("continuedAt"))
        or to_iso(raw.get("createdAt"))
    )
    return ListEntry(
        conversation_id=conversation_id,
        title=title if isinstance(title, str) else None,
        update_time=update_time,
        raw=raw,
    )


def parse_chat_page(payload: Any) -> tuple[list[ListEntry], str | None, list[Any]]:
    """(chats, next cursor, the entries that are no chat: no usable id)."""
    page = parse_page(payload, f"GET /{LIST_PATH}")
    parsed = [(raw, parse_chat(raw)) for raw in page.results]
    chats = [chat for _, chat in parsed if chat is not None]
    return chats, page.next_cursor, [raw for raw, chat in parsed if chat is None]


def parse_history_page(payload: Any, conversation_id: str) -> Page:
    page = parse_page(payload, f"GET /{history_path('{id}')}")
    return Page([m for m in page.results if isinstance(m, dict)], page.next_cursor)


def _created(message: dict[str, Any]) -> float | None:
    dt = to_datetime(message.get("createdAt"))
    return dt.timestamp() if dt is not None else None


def oldest_first(pages_newest_first: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """History pages arrive newest first (each page and the page sequence): the messages in
    chronological order. The walk is reversed; when every message has a time, a stable sort by
    it then fixes a server that pages the other way. A message repeated across pages (pages
    shift as the chat grows) is kept once."""
    seen: set[str] = set()
    walked: list[dict[str, Any]] = []
    for page in pages_newest_first:
        for message in page:
            ident = message.get("id")
            if isinstance(ident, str) and ident:
                if ident in seen:
                    continue
                seen.add(ident)
            walked.append(message)
    walked.reverse()
    times = [_created(m) for m in walked]
    if walked and all(t is not None for t in times):
        order = sorted(range(len(walked)), key=lambda i: times[i] or 0.0)
        walked = [walked[i] for i in order]
    return walked


def parse_created(payload: Any) -> str:
    """``POST /c/api/conversations`` → the new conversation's id."""
    if isinstance(payload, dict):
        ident = payload.get("id") or payload.get("conversationId")
        if isinstance(ident, str) and ident:
            return ident
    raise UpstreamError(f"POST /{LIST_PATH} answered no conversation id")


__all__ = [
    "HISTORY_API_VERSION",
    "LIST_PATH",
    "LIST_TYPES",
    "Page",
    "conversation_path",
    "history_params",
    "history_path",
    "list_params",
    "oldest_first",
    "parse_chat",
    "parse_chat_page",
    "parse_created",
    "parse_history_page",
    "parse_page",
]
