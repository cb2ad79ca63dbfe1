"""Flat chronological histories (Bing, Copilot) → rows. Pure.

Each message becomes one node whose parent is the message before it, so the tree queries and
views written for ChatGPT work unchanged. A provider reads its own shapes into a ``LinearChat``
(its message columns, title, times, what is stored); the tree columns, the ids and the
conversation row are built here, the same way for every such provider."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from archiver.flatten.records import (
    FLATTENER_VERSION,
    FlatConversation,
    content_hash,
    dumps,
    head_row,
)
from archiver.flatten.stored import stored_conversation, upstream_messages
from archiver.loosejson import as_dict


@dataclass
class LinearChat:
    """One conversation as a provider's reader makes it."""

    id: str
    provider: str
    rows: list[dict[str, Any]]  # oldest first, each from chain_columns plus its own columns
    title: str | None
    create_time: str | None  # None: the first message's
    update_time: str | None  # None: the last message's
    hashed: Any  # what the content hash covers (what is stored, credentials dropped)
    stored: Any  # the conversation's raw JSON, messages left out (each row keeps its own)
    gizmo_id: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)


def derived_id(message: Any, basis: list[Any]) -> str:
    """A stable id for a message without one, from ``basis`` (the whole message when all of
    ``basis`` is empty): the same message gets the same id next run."""
    return "derived-" + content_hash(basis if any(basis) else [message])[:16]


def unique_ids(bases: Iterable[str]) -> list[str]:
    """The ids as given, a repeated one suffixed ``~n`` (its second occurrence ``~2``): unique,
    and stable across runs."""
    ids: list[str] = []
    used: set[str] = set()
    for base in bases:
        candidate, n = base, 1
        while candidate in used:
            n += 1
            candidate = f"{base}~{n}"
        used.add(candidate)
        ids.append(candidate)
    return ids


def chain_columns(conversation_id: str, ids: list[str], index: int) -> dict[str, Any]:
    """The tree columns of message ``index``: one branch, each message the child of the one
    before it."""
    return {
        "conversation_id": conversation_id,
        "id": ids[index],
        "parent_id": ids[index - 1] if index else None,
        "children": dumps([ids[index + 1]] if index + 1 < len(ids) else []),
        "position": 0,
        "depth": index,
        "on_current_branch": 1,
    }


class LinearFlattener:
    """``flatten(entry, history, *, requested_id, account, source, list_update_time)`` for a
    provider whose ``read(entry, history, requested_id)`` makes a LinearChat."""

    def __init__(self, read: Callable[[dict[str, Any], Any, str | None], LinearChat]):
        self.read = read

    def __call__(
        self,
        entry: dict[str, Any] | None,
        history: Any,
        *,
        requested_id: str | None = None,
        account: str = "",
        source: str = "api",
        list_update_time: str | None = None,
    ) -> FlatConversation:
        """``entry`` is the list entry (may be empty: a retry of an earlier failure),
        ``history`` what the provider's history call answered. The reader raises (a
        ValueError) only when ``history`` is not a conversation at all."""
        chat = self.read(as_dict(entry), history, requested_id)
        rows = chat.rows
        times = [row["create_time"] for row in rows if row["create_time"]]
        conversation = head_row(
            chat,
            account=account,
            source=source,
            times=times,
            update_time=chat.update_time or (max(times) if times else None),
            list_update_time=list_update_time,
            current_node=rows[-1]["id"] if rows else None,
            node_count=len(rows),
            content_hash=content_hash(chat.hashed),
            flattener_version=FLATTENER_VERSION,
        )
        return FlatConversation(conversation, rows, chat.attachments)


@dataclass(frozen=True)
class LinearRebuild:
    """``rebuild(conversation, messages)`` (``archiver reflatten``) for a LinearFlattener whose
    reader stores the list entry under ``entry_key`` and the history answer, its messages left
    out, under ``history_key``."""

    flatten: LinearFlattener
    entry_key: str
    history_key: str

    def __call__(
        self, conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
    ) -> FlatConversation:
        """The rows again from what the archive stored: the conversation's raw JSON and each
        message's, in chain order (messages marked deleted upstream left out: upstream no
        longer had them). Raises ValueError for stored JSON that cannot be read."""
        stored = stored_conversation(conversation)
        in_chain = sorted(messages, key=lambda m: int(m.get("depth") or 0))
        history = stored.get(self.history_key) or {}
        return self.flatten(
            stored.get(self.entry_key) or {},
            {**history, "messages": upstream_messages(in_chain)},
            requested_id=str(conversation["id"]),
            account=conversation.get("account") or "",
            source=conversation.get("source") or "api",
            list_update_time=conversation.get("list_update_time"),
        )


__all__ = [
    "LinearChat",
    "LinearFlattener",
    "LinearRebuild",
    "chain_columns",
    "derived_id",
    "unique_ids",
]
