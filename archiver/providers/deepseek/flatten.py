"""One conversation of DeepSeek's export (an item of its ``conversations.json``) → rows. Pure.

An item is ``{"id", "title", "inserted_at", "updated_at", "mapping"}``; ``mapping`` is a real
tree (node id → ``{"id", "parent", "children", "message"}``, one root ``"root"`` with no
message), and regenerations and edited prompts are siblings. Every node is a row, its message
kept whole in ``raw_json``. The export names no current branch: it ends at the newest leaf
(the leaf whose message was written last; on a tie, the later one in the mapping), which is
the branch the user last added to. Reasoning, search results and files are kept in the raw
JSON and rendered; the searchable text is the prompt or the answer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.nodetree import Node, NodeChat, flatten_nodes
from archiver.flatten.records import FlatConversation, dumps
from archiver.flatten.stored import stored_conversation
from archiver.flatten.tree import children_of, mapping_from_rows
from archiver.loosejson import as_dict, as_str
from archiver.providers.deepseek.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.deepseek.parse import files_of, role_of, searchable_text
from archiver.timeutil import to_epoch, to_iso


class DeepSeekShapeError(ValueError):
    """The item is not a DeepSeek conversation at all (not an object, no id)."""


def _node(key: str, node: Any) -> Node:
    if not isinstance(node, dict):  # not even an object: kept whole
        columns = dict.fromkeys(
            ("message_id", "role", "author_name", "recipient", "channel", "content_type"),
        )
        columns |= {"text": None, "model_slug": None, "status": None, "create_time": None}
        return Node(key, None, None, columns | {"is_hidden": 0, "raw_json": dumps(node)})
    message = node.get("message")
    msg = as_dict(message)
    time = to_epoch(msg.get("inserted_at"))
    return Node(
        key=key,
        parent=as_str(node.get("parent")) or None,
        time=time,
        children=children_of(node) if "children" in node else None,
        columns={
            "message_id": None,
            "role": role_of(msg),
            "author_name": None,
            "recipient": None,
            "channel": None,
            "content_type": "text" if message is not None else None,
            "text": searchable_text(msg),
            "model_slug": as_str(msg.get("model")),
            "status": None,
            "create_time": to_iso(msg.get("inserted_at")),
            "is_hidden": 0,
            "raw_json": None if message is None else dumps(message),
        },
    )


def _attachments(conversation_id: str, key: str, node: Any) -> list[dict[str, Any]]:
    """The files a message names, by name only: the export holds no bytes."""
    return [
        {
            "conversation_id": conversation_id,
            "message_node_id": key,
            "asset_pointer": ident,
            "file_name": name,
            "mime_type": None,
            "size_bytes": size,
        }
        for ident, name, size in files_of(as_dict(as_dict(node).get("message")))
    ]


def flatten_conversation(
    conv: Any, *, source: str = "export", account: str = ""
) -> FlatConversation:
    """Raises DeepSeekShapeError when ``conv`` is not an object with an id."""
    if not isinstance(conv, dict):
        raise DeepSeekShapeError(f"the item is a {type(conv).__name__}, not an object")
    cid = as_str(conv.get("id"))
    if not cid:
        raise DeepSeekShapeError("the conversation has no id")
    raw_mapping = conv.get("mapping")
    mapping: dict[str, Any] = raw_mapping if isinstance(raw_mapping, dict) else {}
    nodes = [_node(key, node) for key, node in mapping.items()]
    stored = {k: v for k, v in conv.items() if k != "mapping"}
    if not isinstance(raw_mapping, dict) and "mapping" in conv:
        stored["mapping"] = raw_mapping  # not a tree: keep it rather than lose it
    chat = NodeChat(
        id=cid,
        provider=PROVIDER,
        nodes=nodes,
        title=as_str(conv.get("title")),
        create_time=to_iso(conv.get("inserted_at")),
        update_time=to_iso(conv.get("updated_at")),
        stored=stored,
        flattener_version=FLATTENER_VERSION,
        attachments=[row for key, node in mapping.items() for row in _attachments(cid, key, node)],
    )
    return flatten_nodes(chat, source=source, account=account)


def rebuild(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    """The rows again from the archived ones (reflatten): the stored conversation fields and
    a mapping rebuilt from the nodes still upstream. Raises ValueError for stored JSON that
    cannot be read."""
    conv = stored_conversation(conversation)
    conv["mapping"] = mapping_from_rows(messages)
    return flatten_conversation(
        conv,
        source=conversation.get("source") or "export",
        account=conversation.get("account") or "",
    )
