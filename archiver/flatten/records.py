"""The row shapes every flattener produces (ChatGPT API, export, Bing, batch): one schema."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

# Bump when a flattener change should re-derive rows for conversations whose raw JSON is unchanged.
FLATTENER_VERSION = 2  # 2: asset pointers nested in voice-mode parts (issue 27)

CONVERSATION_COLUMNS = (
    "id",
    "provider",
    "account",
    "title",
    "create_time",
    "update_time",
    "list_update_time",
    "current_node",
    "is_archived",
    "default_model_slug",
    "gizmo_id",
    "node_count",
    "source",
    "content_hash",
    "flattener_version",
    "raw_json",
)

MESSAGE_COLUMNS = (
    "conversation_id",
    "id",
    "message_id",
    "parent_id",
    "children",
    "position",
    "depth",
    "on_current_branch",
    "role",
    "author_name",
    "recipient",
    "channel",
    "content_type",
    "text",
    "model_slug",
    "status",
    "create_time",
    "is_hidden",
    "raw_json",
)


class ChatHead(Protocol):
    """What a flattener that builds the tree itself (``linear``, ``nodetree``) knows of a
    conversation before its messages: its identity, title, times and what is stored."""

    id: str
    provider: str
    title: str | None
    create_time: str | None  # None: the earliest message's
    gizmo_id: str | None
    stored: Any  # the conversation's raw JSON without its messages


def head_row(
    chat: ChatHead, *, account: str, source: str, times: Sequence[str], **columns: Any
) -> dict[str, Any]:
    """The conversation row of ``chat``: what comes from its head the same way for every
    such flattener, then ``columns`` (the times, the tree, the hash), every other column None.
    Raises ValueError for a column the table does not have."""
    unknown = set(columns) - set(CONVERSATION_COLUMNS)
    if unknown:
        raise ValueError(f"no such conversation columns: {sorted(unknown)}")
    row: dict[str, Any] = {
        "id": chat.id,
        "provider": chat.provider,
        "account": account,
        "title": chat.title,
        "create_time": chat.create_time or (min(times) if times else None),
        "gizmo_id": chat.gizmo_id,
        "source": source,
        "raw_json": dumps(chat.stored),
        **columns,
    }
    return {name: row.get(name) for name in CONVERSATION_COLUMNS}


@dataclass
class FlatConversation:
    """One conversation as rows: ``conversation`` has CONVERSATION_COLUMNS, each message
    MESSAGE_COLUMNS. ``attachments`` rows map asset pointers to their message."""

    conversation: dict[str, Any]
    messages: list[dict[str, Any]]
    attachments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.conversation["id"])


def _encoder(*, sort_keys: bool) -> Any:
    """A reusable JSON encoder: compact, non-ASCII kept readable. Building the encoder once
    instead of per call (json.dumps) matters when a large import serialises every node."""
    encoder = json.JSONEncoder(
        ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys, check_circular=False
    )
    make_c_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_c_encoder is None:
        return encoder.encode
    iterencode = make_c_encoder(
        None,
        encoder.default,
        json.encoder.encode_basestring,
        None,
        ":",
        ",",
        sort_keys,
        False,
        True,
    )
    return lambda value: "".join(iterencode(value, 0))


_dumps = _encoder(sort_keys=False)
_dumps_sorted = _encoder(sort_keys=True)


def dumps(value: Any) -> str:
    """Compact JSON that keeps non-ASCII text readable in SQL."""
    return _dumps(value)


def dumps_sorted(value: Any) -> str:
    """Compact JSON with object keys sorted: equal values give equal text."""
    return _dumps_sorted(value)


def content_hash(value: Any) -> str:
    return hashlib.sha256(_dumps_sorted(value).encode("utf-8", "surrogatepass")).hexdigest()


# A UTF-16 surrogate on its own ("\ud83d", half an emoji from a server that cut a string) is
# valid JSON and a valid Python string, but not UTF-8: SQLite, a file or a socket refuse it.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def has_lone_surrogate(text: str) -> bool:
    return _LONE_SURROGATE.search(text) is not None


def replace_lone_surrogates(text: str) -> str:
    """Text to store or show: each lone surrogate becomes U+FFFD, the replacement character."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def escape_lone_surrogates(json_text: str) -> str:
    """JSON text (``dumps``) to store: each lone surrogate written back as the ``\\uXXXX``
    escape it arrived as, so the stored JSON says exactly what upstream said. (A surrogate can
    only be inside a JSON string, where the escape means the same character.)"""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", json_text)


def texts_hash(texts: Iterable[str | None]) -> str:
    """sha256 of a sequence of strings (None allowed), each framed by its length so that no two
    different sequences hash the same input."""
    framed = "".join("-" if t is None else f"{len(t)}:{t}" for t in texts)
    return hashlib.sha256(framed.encode("utf-8", "surrogatepass")).hexdigest()


def tree_hash(stored: Any, rows: Iterable[Mapping[str, Any]]) -> str:
    """The content hash of a conversation kept as a tree: ``stored`` (its fields, key order not
    counted) and, per message row, the strings already encoded for it (id, parent, children,
    raw message), which also fix the tree's shape. Hashing these instead of re-encoding the
    whole conversation halves the cost of flattening."""
    texts: list[str | None] = [dumps_sorted(stored)]
    for row in rows:
        texts += (row["id"], row["parent_id"], row["children"], row.get("raw_json"))
    return texts_hash(texts)
