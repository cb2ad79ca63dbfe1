"""What a Claude account knows beside its chats, as conversations the archive can search: a
project's knowledge (its instructions and documents) and the account's memory. Pure.

Search runs over messages, so each document (and each memory) is one message of a
conversation of its own, with an id no upstream conversation can have (``claude-project:``,
``claude-memory:``). These conversations are never listed upstream (``list_update_time`` is
NULL), so a ``--full`` backup never takes them for gone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archiver.flatten.records import FlatConversation
from archiver.loosejson import as_dict, as_str
from archiver.providers.claude.flatten import flatten_linear

PROJECT_PREFIX = "claude-project:"
MEMORY_PREFIX = "claude-memory:"
SYSTEM = "system"


def project_knowledge(
    project: Mapping[str, Any], docs: list[dict[str, Any]], *, source: str, account: str = ""
) -> FlatConversation | None:
    """The project's instructions (``prompt_template``) and documents, one message each, in
    the conversation ``claude-project:<uuid>`` (linked to the project); None when it has
    neither."""
    uuid = as_str(project.get("uuid"))
    if not uuid:
        return None
    messages: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    instructions = as_str(project.get("prompt_template"))
    if instructions and instructions.strip():
        messages.append(
            {
                "uuid": f"{uuid}:instructions",
                "prompt_template": instructions,
                "created_at": project.get("updated_at"),
            }
        )
        columns.append(_column("project instructions", "project_instructions", instructions))
    for index, doc in enumerate(docs):
        if not isinstance(doc, dict):
            continue
        name = as_str(doc.get("file_name")) or as_str(doc.get("filename")) or f"document {index}"
        content = as_str(doc.get("content"))
        messages.append(doc if as_str(doc.get("uuid")) else {**doc, "uuid": f"{uuid}:doc:{index}"})
        columns.append(_column(name, "project_document", content))
    if not messages:
        return None
    conversation = {
        "uuid": PROJECT_PREFIX + uuid,
        "name": f"Project knowledge: {as_str(project.get('name')) or uuid}",
        "project_uuid": uuid,
        "created_at": project.get("created_at"),
        "updated_at": project.get("updated_at"),
        "chat_messages": messages,
    }
    return flatten_linear(conversation, source=source, account=account, columns=columns)


def memory_conversation(
    entry: Mapping[str, Any],
    project_names: Mapping[str, str],
    *,
    source: str,
    account: str = "",
) -> FlatConversation | None:
    """One ``memories.json`` entry (``conversations_memory``, ``project_memories``) as the
    conversation ``claude-memory:<account uuid>``; None when it remembers nothing."""
    owner = as_str(entry.get("account_uuid")) or "account"
    messages: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    general = as_str(entry.get("conversations_memory"))
    if general and general.strip():
        messages.append({"uuid": f"{owner}:memory", "conversations_memory": general})
        columns.append(_column("memory", "memory", general))
    for project, text in as_dict(entry.get("project_memories")).items():
        if not isinstance(text, str) or not text.strip():
            continue
        name = project_names.get(project) or project
        messages.append(
            {"uuid": f"{owner}:memory:{project}", "project_uuid": project, "memory": text}
        )
        columns.append(_column(f"project memory: {name}", "project_memory", text))
    if not messages:
        return None
    conversation = {
        "uuid": MEMORY_PREFIX + owner,
        "name": "Claude memory",
        "account_uuid": owner,
        "chat_messages": messages,
    }
    return flatten_linear(conversation, source=source, account=account, columns=columns)


def _column(author: str, kind: str, text: str | None) -> dict[str, Any]:
    return {
        "role": SYSTEM,
        "author_name": author,
        "content_type": kind,
        "text": text,
    }


__all__ = ["MEMORY_PREFIX", "PROJECT_PREFIX", "memory_conversation", "project_knowledge"]
