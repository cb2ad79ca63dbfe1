"""One chat of Le Chat's export (a ``chat-<uuid>.json`` file: a bare array of messages) →
rows. Pure.

The records are not in time order in the file: they are ordered by ``createdAt`` (ties: a
prompt before an answer, then file order), each the child of the one before. How Le Chat
writes a regenerated answer or an edited prompt is not known (``version`` is 0 and
``preference`` empty everywhere seen): every record is kept, in that order. Each record is kept
whole in ``raw_json``; the searchable text is its ``content`` (an answer's reasoning is
rendered, not searched). Le Chat names neither the chat nor the model: the title is the start
of the first prompt. Files are ``chat-<chat id>-files/<name>``: the ones a message names are
its attachments; a file of the chat's folder that no message names goes to the first message
whose record mentions its name, else to the chat's last message, so its bytes are kept."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from archiver.flatten.linear import derived_id, unique_ids
from archiver.flatten.nodetree import Node, NodeChat, chained, flatten_nodes
from archiver.flatten.records import FlatConversation, dumps
from archiver.flatten.stored import upstream_messages
from archiver.loosejson import as_dict, as_str
from archiver.providers.lechat.options import FLATTENER_VERSION, PROVIDER
from archiver.providers.lechat.parse import chat_id_of, file_pointer, files_of
from archiver.timeutil import to_epoch, to_iso

TITLE_LENGTH = 80


class LeChatShapeError(ValueError):
    """The file is not a Le Chat chat at all (not an array of messages, no chat id)."""


def title_of(records: list[Any]) -> str | None:
    """The first line of the first prompt, shortened."""
    for record in map(as_dict, records):
        text = as_str(record.get("content")) if record.get("role") == "user" else None
        line = next((line.strip() for line in (text or "").splitlines() if line.strip()), "")
        if line:
            return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
    return None


def _columns(record: Any) -> dict[str, Any]:
    message = as_dict(record)
    return {
        "message_id": as_str(message.get("id")),
        "role": as_str(message.get("role")),
        "author_name": None,
        "recipient": None,
        "channel": None,
        "content_type": "text",
        "text": as_str(message.get("content")),
        "model_slug": None,
        "status": None,
        "create_time": to_iso(message.get("createdAt")),
        "is_hidden": 0,
        "raw_json": dumps(record),
    }


def _attachment(chat_id: str, key: str, pointer: str, name: str) -> dict[str, Any]:
    return {
        "conversation_id": chat_id,
        "message_node_id": key,
        "asset_pointer": pointer,
        "file_name": name,
        "mime_type": None,
        "size_bytes": None,
    }


def flatten_chat(
    records: Any,
    *,
    folder_files: Sequence[str] = (),
    fallback_id: str | None = None,
    source: str = "export",
    account: str = "",
) -> FlatConversation:
    """``folder_files``: the names of the files in the chat's ``chat-<id>-files/`` folder.
    ``fallback_id``: the chat's id when no record gives one. Raises LeChatShapeError."""
    if not isinstance(records, list):
        raise LeChatShapeError(f"the chat is a {type(records).__name__}, not an array")
    if not records:
        raise LeChatShapeError("the chat has no messages")
    chat_id = chat_id_of(records) or fallback_id
    if not chat_id:
        raise LeChatShapeError("no message names its chat (chatId)")
    keys = unique_ids(
        as_str(as_dict(r).get("id"))
        or derived_id(r, [as_dict(r).get("createdAt"), as_dict(r).get("content")])
        for r in records
    )
    by_key = dict(zip(keys, records, strict=True))
    nodes = chained(
        [
            Node(key, None, to_epoch(as_dict(record).get("createdAt")), _columns(record))
            for key, record in by_key.items()
        ]
    )
    ordered = [by_key[node.key] for node in nodes]
    attachments: dict[str, dict[str, Any]] = {}
    for key, record in ((node.key, by_key[node.key]) for node in nodes):
        for _kind, name in files_of(as_dict(record)):
            pointer = file_pointer(chat_id, name)
            attachments.setdefault(pointer, _attachment(chat_id, key, pointer, name))
    for name in folder_files:
        pointer = file_pointer(chat_id, name)
        if pointer not in attachments:
            key = next((n.key for n in nodes if name in n.columns["raw_json"]), nodes[-1].key)
            attachments[pointer] = _attachment(chat_id, key, pointer, name)
    chat = NodeChat(
        id=chat_id,
        provider=PROVIDER,
        nodes=nodes,
        title=title_of(ordered),
        create_time=None,
        update_time=None,
        stored={"chatId": chat_id},
        flattener_version=FLATTENER_VERSION,
        attachments=list(attachments.values()),
    )
    return flatten_nodes(chat, source=source, account=account)


def rebuild(
    conversation: Mapping[str, Any], messages: Sequence[Mapping[str, Any]]
) -> FlatConversation:
    """The rows again from the archived ones (reflatten): every record still upstream.
    Raises ValueError for stored JSON that cannot be read."""
    return flatten_chat(
        upstream_messages(messages),
        fallback_id=str(conversation["id"]),
        source=conversation.get("source") or "export",
        account=conversation.get("account") or "",
    )
