"""An API exchange as archived rows (pure): a flat history, oldest first, over
``flatten/linear.py``.

The API keeps no conversation, so the archive keeps what was sent and what came back: the
thread's system instruction (a hidden row), each prompt, and each answer with the whole
``chat.completion`` object as received (its usage, the model that answered, the finish
reason). Ids are stable within the conversation (``turn2-user``, ``turn2-assistant``), so a
thread grows one turn at a time without repeating a message."""

from __future__ import annotations

from typing import Any

from archiver.flatten.linear import LinearChat, LinearFlattener, chain_columns, unique_ids
from archiver.flatten.records import FlatConversation, dumps
from archiver.loosejson import as_dict, as_str
from archiver.providers.openai.options import PROVIDER
from archiver.timeutil import to_iso

FLATTENER_VERSION = 1


def message_text(message: dict[str, Any]) -> str | None:
    content = message.get("content")
    return content if isinstance(content, str) else None


def _model(message: dict[str, Any]) -> str | None:
    return as_str(as_dict(message.get("completion")).get("model"))


def _created(message: dict[str, Any]) -> Any:
    return message.get("created") or as_dict(message.get("completion")).get("created")


def read_exchange(header: dict[str, Any], history: Any, requested_id: str | None) -> LinearChat:
    """``header``: ``{"id", "title", "model", "base_url"}``; ``history``: ``{"messages": [...]}``
    in the shapes ``chat.answer_for`` makes."""
    messages = [m for m in as_dict(history).get("messages") or [] if isinstance(m, dict)]
    cid = as_str(header.get("id")) or requested_id
    if not cid:
        raise ValueError("an API exchange without a conversation id")
    ids = unique_ids(as_str(m.get("id")) or f"message{i}" for i, m in enumerate(messages))
    rows = []
    for index, message in enumerate(messages):
        role = as_str(message.get("role"))
        completion = as_dict(message.get("completion"))
        choice = as_dict((completion.get("choices") or [{}])[0]) if completion else {}
        rows.append(
            {
                **chain_columns(cid, ids, index),
                "message_id": as_str(completion.get("id")) or ids[index],
                "role": role,
                "author_name": None,
                "recipient": None,
                "channel": None,
                "content_type": "json" if message.get("json") else "text",
                "text": message_text(message),
                "model_slug": _model(message),
                "status": as_str(choice.get("finish_reason")),
                "create_time": to_iso(_created(message)),
                "is_hidden": int(role == "system"),
                "raw_json": dumps(message),
            }
        )
    stored = {k: v for k, v in header.items() if k != "messages"}
    return LinearChat(
        id=cid,
        provider=PROVIDER,
        rows=rows,
        title=as_str(header.get("title")),
        create_time=None,
        update_time=None,
        hashed={"conversation": stored, "messages": messages},
        stored=stored,
    )


_flatten = LinearFlattener(read_exchange)


def flatten_exchange(
    header: dict[str, Any], messages: list[dict[str, Any]], *, account: str, source: str
) -> FlatConversation:
    flat = _flatten(header, {"messages": messages}, account=account, source=source)
    flat.conversation["flattener_version"] = FLATTENER_VERSION
    flat.conversation["default_model_slug"] = as_str(header.get("model"))
    return flat
