"""A Claude conversation → rows. Pure.

Two shapes come in:

- the live tree (``chat_conversations/{uuid}?tree=True&rendering_mode=messages``): every
  message names its parent (``parent_message_uuid``; the first names the all-zero sentinel,
  which is no message, so its ``parent_id`` is NULL), ``current_leaf_message_uuid`` ends the
  branch the user last saw. ``chat_messages`` order is no tree order: the tree is rebuilt from
  the parent pointers (``archiver.flatten.tree``), siblings ordered by time;
- the data export's copy, which has no parents: its messages in file order are one branch.

Every message is kept whole in ``raw_json`` (thinking, tool_use and tool_result blocks
included); ``text`` is its ``text`` blocks joined in order, never the flat ``text`` field, which
holds a placeholder where a block did not render (an old message without ``content`` has only
``text``). Pasted attachments, which have no id and may share a blank name, become attachment
rows keyed by their place in the message (``pasted:N``); uploaded files one row per
``file_uuid`` (``files`` and ``files_v2`` may list the same one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from archiver.flatten.linear import chain_columns, derived_id, unique_ids
from archiver.flatten.records import FlatConversation, dumps, tree_hash
from archiver.flatten.tree import tree_shape
from archiver.loosejson import as_dict, as_str
from archiver.providers.claude.options import FLATTENER_VERSION, PROVIDER, ROOT_PARENT
from archiver.timeutil import to_datetime, to_iso

TEXT_JOIN = "\n\n"  # text blocks are paragraphs apart (a tool call came between them)
PASTED = "pasted:"  # pointer prefix of a pasted attachment (its index in the message)
EXPORT_FILE = "export-file:"  # a file the export names without a uuid (its index)
_ROLES = {"human": "user", "user": "user", "assistant": "assistant"}


class ClaudeFlattenError(ValueError):
    """The object cannot be a Claude conversation at all."""


# --- one message ---------------------------------------------------------------------------


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The message's content blocks; None when it has no ``content`` list (an older shape)."""
    content = message.get("content")
    if not isinstance(content, list):
        return None
    return [block for block in content if isinstance(block, dict)]


def message_text(message: dict[str, Any]) -> str | None:
    """The text blocks in order, joined; the flat ``text`` only for a message without
    ``content`` (then it is all there is)."""
    blocks = blocks_of(message)
    if blocks is None:
        return as_str(message.get("text")) or None
    texts = [
        block["text"]
        for block in blocks
        if block.get("type") == "text" and isinstance(block.get("text"), str) and block["text"]
    ]
    return TEXT_JOIN.join(texts) if texts else None


def role_of(message: dict[str, Any]) -> str | None:
    sender = as_str(message.get("sender"))
    if not sender:
        return None
    return _ROLES.get(sender.lower(), sender)


def content_type_of(message: dict[str, Any]) -> str:
    """``text`` when the message says something in words (or is an older flat message); else
    what its first block is (``thinking``, ``tool_use``, ...)."""
    blocks = blocks_of(message)
    kinds = [as_str(block.get("type")) or "" for block in blocks or []]
    if "text" in kinds or not kinds:
        return "text"
    return kinds[0] or "text"


def file_entries(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Uploaded files of ``files`` and ``files_v2``, once per ``file_uuid`` (v2 first: it is
    the newer, fuller form); entries without a uuid (an export's) kept in order."""
    seen: dict[str, dict[str, Any]] = {}
    nameless: list[dict[str, Any]] = []
    for key in ("files_v2", "files"):
        entries = message.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            uuid = as_str(entry.get("file_uuid")) or as_str(entry.get("uuid"))
            if uuid:
                seen.setdefault(uuid, entry)
            elif key == "files":
                nameless.append(entry)
    return list(seen.values()) + nameless


def attachment_rows(conversation_id: str, key: str, message: dict[str, Any]) -> list[Any]:
    rows: list[dict[str, Any]] = []

    def add(pointer: str, name: Any, mime: Any, size: Any) -> None:
        rows.append(
            {
                "conversation_id": conversation_id,
                "message_node_id": key,
                "asset_pointer": pointer,
                "file_name": as_str(name) or None,
                "mime_type": as_str(mime) or None,
                "size_bytes": size
                if isinstance(size, int) and not isinstance(size, bool)
                else None,
            }
        )

    pasted = message.get("attachments")
    for index, item in enumerate(pasted if isinstance(pasted, list) else []):
        item = as_dict(item)
        add(f"{PASTED}{index}", item.get("file_name"), item.get("file_type"), item.get("file_size"))
    nameless = 0
    for entry in file_entries(message):
        uuid = as_str(entry.get("file_uuid")) or as_str(entry.get("uuid"))
        if uuid:
            add(uuid, entry.get("file_name"), entry.get("mime_type"), entry.get("size_bytes"))
        else:
            add(f"{EXPORT_FILE}{nameless}", entry.get("file_name"), None, None)
            nameless += 1
    return rows


def message_columns(message: dict[str, Any]) -> dict[str, Any]:
    """The columns a message fills by itself (the tree columns come from where it sits)."""
    return {
        "message_id": as_str(message.get("uuid")),
        "role": role_of(message),
        "author_name": None,
        "recipient": None,
        "channel": None,
        "content_type": content_type_of(message),
        "text": message_text(message),
        "model_slug": as_str(message.get("model")),
        "status": as_str(message.get("stop_reason")),
        "create_time": to_iso(message.get("created_at")),
        "is_hidden": 0,
        "raw_json": dumps(message),
    }


def _message_ids(messages: list[dict[str, Any]]) -> list[str]:
    """Each message's uuid; a missing one derived from its content, a repeated one suffixed."""
    return unique_ids(
        as_str(m.get("uuid"))
        or derived_id(m, [m.get("sender"), m.get("created_at"), m.get("content"), m.get("text")])
        for m in messages
    )


def _messages_of(conv: dict[str, Any]) -> list[dict[str, Any]]:
    raw = conv.get("chat_messages")
    return [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []


# --- the conversation ----------------------------------------------------------------------


def conversation_id_of(conv: Any, *candidates: Any) -> str:
    if not isinstance(conv, dict):
        raise ClaudeFlattenError(f"conversation is a {type(conv).__name__}, not an object")
    for candidate in (conv.get("uuid"), *candidates):
        if isinstance(candidate, str) and candidate:
            return candidate
    raise ClaudeFlattenError("conversation has no uuid")


def _project_of(conv: dict[str, Any]) -> str | None:
    return as_str(conv.get("project_uuid")) or as_str(as_dict(conv.get("project")).get("uuid"))


def _archived(value: Any) -> int | None:
    return None if value is None else int(bool(value))


def conversation_row(
    cid: str,
    stored: dict[str, Any],
    entry: dict[str, Any],
    messages: list[dict[str, Any]],
    current_node: str | None,
    *,
    source: str,
    account: str,
    list_update_time: str | None,
) -> dict[str, Any]:
    """The conversation's row: ``stored`` (the conversation without its messages) first, the
    list ``entry`` where the detail is silent (is_archived, the project)."""

    def field(key: str) -> Any:
        value = stored.get(key)
        return entry.get(key) if value is None else value

    return {
        "id": cid,
        "provider": PROVIDER,
        "account": account,
        "title": as_str(field("name")) or None,
        "create_time": to_iso(field("created_at")),
        "update_time": to_iso(field("updated_at")),
        "list_update_time": list_update_time,
        "current_node": current_node,
        "is_archived": _archived(field("is_archived")),
        "default_model_slug": as_str(field("model")) or None,
        "gizmo_id": _project_of(stored) or _project_of(entry),
        "node_count": len(messages),
        "source": source,
        "content_hash": tree_hash(stored, messages),
        "flattener_version": FLATTENER_VERSION,
        "raw_json": dumps(stored),
    }


def _epoch(message: dict[str, Any]) -> float:
    when = to_datetime(message.get("created_at"))
    return when.timestamp() if when is not None else float("-inf")


def _parent_of(message: dict[str, Any]) -> str | None:
    """The parent upstream names; None for the root sentinel (or none at all)."""
    parent = as_str(message.get("parent_message_uuid"))
    return None if not parent or parent == ROOT_PARENT else parent


def _index(message: dict[str, Any]) -> int:
    index = message.get("index")
    return index if isinstance(index, int) and not isinstance(index, bool) else 0


def flatten_tree(
    conv: Any,
    *,
    list_entry: dict[str, Any] | None = None,
    requested_id: str | None = None,
    source: str = "api",
    account: str = "",
    list_update_time: str | None = None,
) -> FlatConversation:
    """The live tree: one row per message on every branch. Never raises for a broken tree
    (a parent that is not there makes a root; a cycle is cut); raises ClaudeFlattenError only
    when ``conv`` is not a conversation at all."""
    entry = list_entry or {}
    cid = conversation_id_of(conv, requested_id, entry.get("uuid"))
    messages = _messages_of(conv)
    ids = _message_ids(messages)
    by_id = dict(zip(ids, messages, strict=True))
    declared = {key: _parent_of(m) for key, m in by_id.items()}
    order = {key: n for n, key in enumerate(ids)}
    children: dict[str, list[str]] = {key: [] for key in ids}
    for key in ids:  # siblings by time, then upstream's index, then as listed
        parent = declared[key]
        if parent in children:
            children[parent].append(key)
    for kids in children.values():
        kids.sort(key=lambda k: (_epoch(by_id[k]), _index(by_id[k]), order[k]))
    mapping = {
        key: {
            "parent": declared[key],
            "children": children[key],
            "message": {"create_time": _epoch(by_id[key])},
        }
        for key in ids
    }
    shape = tree_shape(mapping, conv.get("current_leaf_message_uuid"))
    rows = []
    attachments = []
    for key in ids:
        message = by_id[key]
        rows.append(
            {
                "conversation_id": cid,
                "id": key,
                # Upstream's word, even when it names a missing message; NULL for the root.
                "parent_id": declared[key],
                "children": dumps(children[key]),
                "position": shape.position[key],
                "depth": shape.depth[key],
                "on_current_branch": int(key in shape.current_branch),
                **message_columns(message),
            }
        )
        attachments += attachment_rows(cid, key, message)
    stored = {k: v for k, v in conv.items() if k != "chat_messages"}
    if "chat_messages" in conv and not isinstance(conv["chat_messages"], list):
        stored["chat_messages"] = conv["chat_messages"]  # not a list: keep it rather than lose it
    conversation = conversation_row(
        cid,
        stored,
        entry,
        rows,
        shape.current_node,
        source=source,
        account=account,
        list_update_time=list_update_time,
    )
    return FlatConversation(conversation, rows, attachments)


def flatten_linear(
    conv: Any,
    *,
    source: str = "export",
    account: str = "",
    columns: Iterable[dict[str, Any]] | None = None,
) -> FlatConversation:
    """The export's copy: no parents, so its messages in file order are one branch, every
    message on it. ``columns`` (one dict per message) override what a message fills by itself
    (the searchable documents and memories the import adds)."""
    cid = conversation_id_of(conv)
    messages = _messages_of(conv)
    ids = _message_ids(messages)
    overrides = list(columns) if columns is not None else [{} for _ in messages]
    rows = []
    attachments = []
    for index, message in enumerate(messages):
        rows.append(
            {
                **chain_columns(cid, ids, index),
                **message_columns(message),
                **overrides[index],
            }
        )
        attachments += attachment_rows(cid, ids[index], message)
    stored = {k: v for k, v in conv.items() if k != "chat_messages"}
    conversation = conversation_row(
        cid,
        stored,
        {},
        rows,
        ids[-1] if ids else None,
        source=source,
        account=account,
        list_update_time=None,
    )
    times = [row["create_time"] for row in rows if row["create_time"]]
    conversation["create_time"] = conversation["create_time"] or (min(times) if times else None)
    conversation["update_time"] = conversation["update_time"] or (max(times) if times else None)
    return FlatConversation(conversation, rows, attachments)


__all__ = [
    "EXPORT_FILE",
    "PASTED",
    "TEXT_JOIN",
    "ClaudeFlattenError",
    "attachment_rows",
    "blocks_of",
    "file_entries",
    "flatten_linear",
    "flatten_tree",
    "message_text",
    "role_of",
]
