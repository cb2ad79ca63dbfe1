"""Gemini's live answers, sans-I/O: the app page's session tokens, the chat list (``MaZiqc``),
a chat's turns (``hNvQHb``) and what an RPC's error slot means (docs/protocol/gemini.md).

Google's answers are positional arrays with no documented schema: every read here is guarded
(``at``), and a turn or candidate is kept whole in the archive whatever this module reads of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from archiver.errors import AuthError, NotFoundError, RateLimitExceeded, UpstreamError
from archiver.loosejson import as_str
from archiver.providers.gemini.batchexecute import RpcResult, error_codes, mentions
from archiver.providers.gemini.options import AUTH_REFUSED
from archiver.timeutil import to_iso

_TOKEN = {
    "at": re.compile(r'"SNlM0e"\s*:\s*"(.*?)"'),
    "bl": re.compile(r'"cfb2h"\s*:\s*"(.*?)"'),
    "fsid": re.compile(r'"FdrFJe"\s*:\s*"(.*?)"'),
    "hl": re.compile(r'"TuX5cc"\s*:\s*"(.*?)"'),
}
REFUSED_CODE = 7  # gRPC PERMISSION_DENIED: signed out, or another account's chat
NOT_FOUND_CODE = 11  # BardErrorInfo 11: no such chat (one client's test)
THROTTLED_CODE = 1096  # BardErrorInfo 1096: a sliding-window limit (uncertain)


@dataclass(frozen=True)
class PageTokens:
    """What the app page holds for batchexecute: ``at`` (SNlM0e, sent with every POST),
    ``bl`` (the build label), ``fsid`` (the session id) and ``hl`` (the language)."""

    at: str
    bl: str = ""
    fsid: str = ""
    hl: str = ""


def page_tokens(html: str) -> PageTokens | None:
    """The tokens of the app page; None when it has no ``SNlM0e`` (the cookie was not taken)."""
    found = {name: pattern.search(html) for name, pattern in _TOKEN.items()}
    at = found["at"]
    if at is None or not at[1]:
        return None
    values = {name: (match[1] if match else "") for name, match in found.items()}
    return PageTokens(at=values["at"], bl=values["bl"], fsid=values["fsid"], hl=values["hl"])


def at(value: Any, *path: int) -> Any:
    """``value[path[0]][path[1]]...``, or None where a step is missing or not a list."""
    for index in path:
        if not isinstance(value, list) or not -len(value) <= index < len(value):
            return None
        value = value[index]
    return value


def pair_iso(value: Any) -> str | None:
    """``[seconds, nanos]`` → ISO-8601 UTC with microseconds (exact: no float rounding)."""
    seconds, nanos = at(value, 0), at(value, 1)
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        return to_iso(seconds) if isinstance(seconds, float) else None
    whole = to_iso(seconds)
    if whole is None:
        return None
    micros = nanos // 1000 if isinstance(nanos, int) and 0 <= nanos < 10**9 else 0
    return f"{whole[:-8]}.{micros:06d}Z"


# --- the chat list -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatRow:
    """One row of the chat list: ``[0]`` the ``c_`` id, ``[1]`` the title, ``[2]`` true when
    pinned, ``[5]`` ``[seconds, nanos]`` (read as the last activity), ``[21]`` the ``rc_`` id
    of the latest shown candidate. ``raw`` keeps the row whole."""

    conversation_id: str
    title: str | None
    pinned: bool
    update_time: str | None
    latest: str | None
    raw: dict[str, Any]


def parse_chat_row(row: Any) -> ChatRow | None:
    cid = as_str(at(row, 0))
    if not cid or not cid.startswith("c_"):
        return None
    return ChatRow(
        conversation_id=cid,
        title=as_str(at(row, 1)),
        pinned=at(row, 2) is True,
        update_time=pair_iso(at(row, 5)),
        latest=as_str(at(row, 21)),
        raw={"row": row},
    )


def parse_list_result(result: Any) -> tuple[list[ChatRow], str | None, list[Any]]:
    """``[null, "<next cursor>" | null, [row, ...]]`` (``[]`` for no chats) → (rows, next
    cursor, rows without a usable id)."""
    if result is None or result == []:
        return [], None, []
    if not isinstance(result, list):
        raise UpstreamError("the chat list (MaZiqc) answered an unexpected shape")
    cursor = as_str(at(result, 1)) or None
    rows = at(result, 2)
    chats: list[ChatRow] = []
    unreadable: list[Any] = []
    for row in rows if isinstance(rows, list) else []:
        chat = parse_chat_row(row)
        if chat is None:
            unreadable.append({"row": row})
        else:
            chats.append(chat)
    return chats, cursor, unreadable


def list_payload(page_size: int, cursor: str | None, *, pinned: bool) -> list[Any]:
    """``[<page size>, <cursor or null>, [1 | 0, null, 1]]``: pinned chats, or the others."""
    return [page_size, cursor, [1 if pinned else 0, None, 1]]


# --- a chat's turns ------------------------------------------------------------------------


def read_payload(conversation_id: str, limit: int, cursor: str | None) -> list[Any]:
    return [conversation_id, limit, cursor, 1, [1], [4], None, 1]


def parse_read_result(result: Any) -> tuple[list[list[Any]], str | None]:
    """``[[turn, ...newest first], "<cursor>" | null, ...]`` → (turns, continuation token)."""
    if not isinstance(result, list):
        raise UpstreamError("a chat (hNvQHb) answered an unexpected shape")
    turns = at(result, 0)
    if turns is None:
        turns = []
    if not isinstance(turns, list):
        raise UpstreamError("a chat (hNvQHb) answered turns of an unexpected shape")
    return [t for t in turns if isinstance(t, list)], as_str(at(result, 1)) or None


def turn_id(turn: Any) -> str | None:
    """The turn's response id ``r_…`` (``[0][1]``)."""
    return as_str(at(turn, 0, 1))


def turn_parent(turn: Any) -> tuple[str | None, str | None]:
    """``[1]`` = ``[c_id, r_id, rc_id]``: the turn it continues and the candidate it continued
    from (inferred from the capture)."""
    return as_str(at(turn, 1, 1)), as_str(at(turn, 1, 2))


def turn_prompt(turn: Any) -> str | None:
    return as_str(at(turn, 2, 0, 0))


def turn_candidates(turn: Any) -> list[list[Any]]:
    found = at(turn, 3, 0)
    return [c for c in found if isinstance(c, list)] if isinstance(found, list) else []


def turn_chosen(turn: Any) -> str | None:
    """The ``rc_`` id of the candidate shown to the user (``[3][3]``)."""
    return as_str(at(turn, 3, 3))


def turn_model(turn: Any) -> str | None:
    return as_str(at(turn, 3, 21))


def turn_time(turn: Any) -> str | None:
    """When the prompt was sent (``[4]``)."""
    return pair_iso(at(turn, 4))


def turn_gem(turn: Any) -> tuple[str | None, str | None]:
    """(Gem id ``[7]``, Gem name ``[9][0]``) when the chat uses a Gem."""
    return as_str(at(turn, 7)), as_str(at(turn, 9, 0))


_CARD = "http://googleusercontent.com/card_content/"


def candidate_id(candidate: Any) -> str | None:
    return as_str(at(candidate, 0))


def candidate_text(candidate: Any) -> str:
    """The answer (Markdown): ``[1][0]``, or ``[22][0]`` where ``[1][0]`` is a card
    placeholder."""
    text = as_str(at(candidate, 1, 0)) or ""
    if text.startswith(_CARD):
        text = as_str(at(candidate, 22, 0)) or text
    return text


def candidate_thoughts(candidate: Any) -> str | None:
    return as_str(at(candidate, 37, 0, 0)) or None


def candidate_finished(candidate: Any) -> bool:
    return at(candidate, 8, 0) == 2


def candidate_images(candidate: Any) -> list[str]:
    """Image URLs the candidate shows (web and generated images, under ``[12]``), in order."""
    urls: list[str] = []
    stack: list[Any] = [at(candidate, 12)]
    while stack:
        value = stack.pop(0)
        if isinstance(value, list):
            stack[0:0] = value
        elif isinstance(value, str) and is_image_url(value) and value not in urls:
            urls.append(value)
    return urls


LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def is_image_url(value: str) -> bool:
    """An image's URL: on Google's image hosts (https, ``googleusercontent.com``; not the
    ``http://googleusercontent.com/card_content/`` placeholders), or on a loopback host (the
    emulator's image host, which serves ``make demo`` and the tests offline)."""
    if value.startswith("https://") and "googleusercontent.com/" in value:
        return "/card_content/" not in value
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.hostname in LOOPBACK


# --- what an RPC's error slot means --------------------------------------------------------


def check_result(result: RpcResult | None, rpcid: str) -> Any:
    """The RPC's result, or the error its envelope means: reject code 7 refuses the cookie
    (exit 2), BardErrorInfo 11 is a chat that is gone, 1096 (and an empty answer with no
    error) a throttle; any other code fails this call only."""
    if result is None:
        raise RateLimitExceeded(f"{rpcid} answered no result (throttled?)", status=None)
    if result.result is not None:
        return result.result
    codes = error_codes(result.error)
    if REFUSED_CODE in codes[:1]:
        raise AuthError(f"{AUTH_REFUSED} ({rpcid} answered reject code 7)")
    if THROTTLED_CODE in codes:
        raise RateLimitExceeded(f"{rpcid} was rate limited (BardErrorInfo 1096)", status=None)
    if NOT_FOUND_CODE in codes and mentions(result.error, "BardErrorInfo"):
        raise NotFoundError(f"{rpcid}: no such chat (BardErrorInfo 11)", status=404)
    if result.error is None:
        raise RateLimitExceeded(f"{rpcid} answered an empty result (throttled?)", status=None)
    raise UpstreamError(f"{rpcid} answered error {codes or '(unknown)'}")


__all__ = [
    "ChatRow",
    "PageTokens",
    "at",
    "candidate_finished",
    "candidate_id",
    "candidate_images",
    "candidate_text",
    "candidate_thoughts",
    "check_result",
    "is_image_url",
    "list_payload",
    "page_tokens",
    "pair_iso",
    "parse_chat_row",
    "parse_list_result",
    "parse_read_result",
    "read_payload",
    "turn_candidates",
    "turn_chosen",
    "turn_gem",
    "turn_id",
    "turn_model",
    "turn_parent",
    "turn_prompt",
    "turn_time",
]
