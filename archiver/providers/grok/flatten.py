"""One conversation of Grok's export (an item of ``prod-grok-backend.json``'s
``conversations``) → rows. Pure.

An item is ``{"conversation": {...}, "responses": [{"response": {...}, "share_link": ...}]}``.
Every response is a node, kept whole (its wrapper, share link included) in ``raw_json``; the
tree is the responses' ``parent_response_id`` links (an edited prompt or a regenerated answer
is a sibling), a response whose parent is not in the export is a root, and the current branch
ends at ``leaf_response_id`` when the conversation names one, else at the newest leaf. Older
exports (2025) name no parent at all: their responses are one thread, in time order. The
searchable text is the message without Grok's ``<grok:render>`` citation tags, with the body of
an ``<xaiArtifact>`` kept; the thinking trace is kept in the raw JSON and rendered, not
searched."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.linear import derived_id, unique_ids
from archiver.flatten.nodetree import Node, NodeChat, chained, flatten_nodes
from archiver.flatten.records import FlatConversation, dumps
from archiver.flatten.stored import stored_conversation, upstream_messages
from archiver.loosejson import as_str
from archiver.providers.grok.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.grok.parse import epoch_of, response_of, role_of, search_text
from archiver.timeutil import to_iso


class GrokShapeError(ValueError):
    """The item is not a Grok conversation at all (no conversation object, no id)."""


def _node(key: str, wrapper: Any) -> Node:
    response = response_of(wrapper)
    time = epoch_of(response.get("create_time"))
    message = as_str(response.get("message"))
    return Node(
        key=key,
        parent=as_str(response.get("parent_response_id")) or None,
        time=time,
        columns={
            "message_id": as_str(response.get("_id")),
            "role": role_of(response),
            "author_name": None,
            "recipient": None,
            "channel": None,
            "content_type": "text",
            "text": search_text(message) if message is not None else None,
            "model_slug": as_str(response.get("model")) or None,
            "status": "partial" if response.get("partial") is True else None,
            "create_time": to_iso(time),
            "is_hidden": 0,
            "raw_json": dumps(wrapper),
        },
    )


def _attachments(conversation_id: str, key: str, wrapper: Any) -> list[dict[str, Any]]:
    """``file_attachments`` are asset ids: their bytes sit in the export under
    ``prod-mc-asset-server/<id>/content`` when it has them."""
    assets = response_of(wrapper).get("file_attachments")
    listed = assets if isinstance(assets, list) else []
    found = dict.fromkeys(a for a in listed if isinstance(a, str) and a)
    return [
        {
            "conversation_id": conversation_id,
            "message_node_id": key,
            "asset_pointer": asset,
            "file_name": None,
            "mime_type": None,
            "size_bytes": None,
        }
        for asset in found
    ]


def _keys(wrappers: list[Any]) -> list[str]:
    """Each response's ``_id``; a missing one derived from the response, a repeat suffixed."""
    return unique_ids(
        as_str(response_of(w).get("_id"))
        or derived_id(w, [response_of(w).get("create_time"), response_of(w).get("message")])
        for w in wrappers
    )


def flatten_item(item: Any, *, source: str = "export", account: str = "") -> FlatConversation:
    """Raises GrokShapeError when ``item`` has no conversation object with an id."""
    if not isinstance(item, dict):
        raise GrokShapeError(f"the item is a {type(item).__name__}, not an object")
    conversation = item.get("conversation")
    if not isinstance(conversation, dict):
        raise GrokShapeError("the item has no conversation object")
    cid = as_str(conversation.get("id"))
    if not cid:
        raise GrokShapeError("the conversation has no id")
    raw = item.get("responses")
    wrappers: list[Any] = raw if isinstance(raw, list) else []
    keys = _keys(wrappers)
    nodes = [_node(key, wrapper) for key, wrapper in zip(keys, wrappers, strict=True)]
    stored = {k: v for k, v in item.items() if k != "responses"}
    if raw is not None and not isinstance(raw, list):
        stored["responses"] = raw  # not a list of responses: keep it rather than lose it
    if not any(node.parent for node in nodes):
        # Exports of 2025 name no parents: the responses are one thread, in time order.
        nodes = chained(nodes)
    chat = NodeChat(
        id=cid,
        provider=PROVIDER,
        nodes=nodes,
        title=as_str(conversation.get("title")),
        create_time=to_iso(conversation.get("create_time")),
        # Grok does not always move modify_time when a response is added: nodetree takes the
        # newest response's time when it is later.
        update_time=to_iso(conversation.get("modify_time")),
        stored=stored,
        flattener_version=FLATTENER_VERSION,
        current=as_str(conversation.get("leaf_response_id")),
        attachments=[
            row
            for key, wrapper in zip(keys, wrappers, strict=True)
            for row in _attachments(cid, key, wrapper)
        ],
    )
    return flatten_nodes(chat, source=source, account=account)


def rebuild(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    """The rows again from the archived ones (reflatten): the stored conversation object and
    every response wrapper still upstream, in archive order. Raises ValueError for stored JSON
    that cannot be read."""
    item = stored_conversation(conversation)
    item["responses"] = upstream_messages(messages)
    return flatten_item(
        item,
        source=conversation.get("source") or "export",
        account=conversation.get("account") or "",
    )
