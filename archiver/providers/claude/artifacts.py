"""Artifacts, every version the conversation gives. Pure.

An artifact is written by tool calls inside assistant messages: the ``artifacts`` tool's
``create`` / ``rewrite`` (the whole ``content``) and ``update`` (``old_str`` replaced by
``new_str`` in the version before it), or the newer file tools (``create_file`` with
``file_text``, ``str_replace`` on a ``path``). Each call is one version. A version's content
depends on the branch it was written on (an edited prompt forks the artifact too), so the
tree is walked from its roots with the state each branch inherited; versions are numbered per
artifact in the order they were written (time, then block order), which keeps earlier
numbers stable as the conversation grows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from archiver.loosejson import as_dict, as_str
from archiver.providers.claude.flatten import blocks_of
from archiver.providers.claude.options import PROVIDER, ROOT_PARENT
from archiver.timeutil import to_datetime, to_iso

ARTIFACT_TOOL = "artifacts"
WHOLE = ("create", "rewrite")
FILE_CREATE = "create_file"
FILE_EDIT = "str_replace"


@dataclass(frozen=True)
class _Write:
    when: float
    order: tuple[int, int]  # message order, block index
    artifact: str
    doc: dict[str, Any]


def _artifact_call(block: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """(artifact id, command, input) for a tool call that writes an artifact."""
    if block.get("type") != "tool_use":
        return None
    name = as_str(block.get("name")) or ""
    data = as_dict(block.get("input"))
    if name == ARTIFACT_TOOL:
        ident = as_str(data.get("id"))
        command = as_str(data.get("command")) or ("create" if "content" in data else "")
        return (ident, command, data) if ident and command else None
    if name in (FILE_CREATE, FILE_EDIT):
        path = as_str(data.get("path"))
        return (path, name, data) if path else None
    return None


def _apply(command: str, data: dict[str, Any], before: str | None) -> tuple[str | None, bool]:
    """The content after one call, and whether the call applied."""
    if command in WHOLE:
        return as_str(data.get("content")), True
    if command == FILE_CREATE:
        return as_str(data.get("file_text")) or as_str(data.get("content")), True
    old, new = as_str(data.get("old_str")), as_str(data.get("new_str"))
    if before is None or old is None or new is None or old not in before:
        return before, False  # kept as written (raw), the content unchanged
    return before.replace(old, new, 1), True


def _walk_order(
    messages: list[dict[str, Any]], *, linear: bool
) -> list[tuple[int, dict[str, Any], int | None]]:
    """(position in the list, message, its parent's position) in an order where every parent
    comes before its children (roots first; a message whose parent is missing is a root).
    ``linear``: the list is one branch, each message the child of the one before it."""
    index = {as_str(m.get("uuid")): n for n, m in enumerate(messages) if as_str(m.get("uuid"))}
    parent_of: dict[int, int | None] = {}
    for n, message in enumerate(messages):
        parent = as_str(message.get("parent_message_uuid"))
        if linear:
            parent_of[n] = n - 1 if n else None
        else:
            parent_of[n] = index.get(parent) if parent and parent != ROOT_PARENT else None
    kids: dict[int | None, list[int]] = {}
    for n in range(len(messages)):
        kids.setdefault(parent_of[n], []).append(n)
    ordered: list[tuple[int, dict[str, Any], int | None]] = []
    stack = list(reversed(kids.get(None, [])))
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        ordered.append((n, messages[n], parent_of[n]))
        stack.extend(reversed(kids.get(n, [])))
    # Messages in a cycle have no root above them: walked last, each as a root.
    ordered += [(n, messages[n], None) for n in range(len(messages)) if n not in seen]
    return ordered


def artifact_versions(
    conversation_id: str, messages: list[dict[str, Any]], *, linear: bool = False
) -> list[dict[str, Any]]:
    """Every artifact version written in ``messages`` (a tree's ``chat_messages``; with
    ``linear`` an export's list, which is one branch), as ``textdocs`` documents."""
    states: dict[int | None, dict[str, dict[str, Any]]] = {None: {}}
    writes: list[_Write] = []
    for n, message, parent in _walk_order(messages, linear=linear):
        state = dict(states.get(parent, {}))
        created = to_datetime(message.get("created_at"))
        for b, block in enumerate(blocks_of(message) or []):
            call = _artifact_call(block)
            if call is None:
                continue
            ident, command, data = call
            before = state.get(ident, {})
            content, applied = _apply(command, data, as_str(before.get("content")))
            doc = {
                "artifact_id": ident,
                "command": command,
                "applied": applied,
                "title": as_str(data.get("title")) or as_str(before.get("title")) or ident,
                "textdoc_type": as_str(data.get("type"))
                or as_str(data.get("language"))
                or as_str(before.get("textdoc_type")),
                "language": as_str(data.get("language")) or as_str(before.get("language")),
                "content": content,
                "updated_at": to_iso(block.get("stop_timestamp"))
                or to_iso(message.get("created_at")),
                "message_uuid": as_str(message.get("uuid")),
                "version_uuid": as_str(data.get("version_uuid")),
                "tool_use_id": as_str(block.get("id")),
            }
            state[ident] = doc
            when = created.timestamp() if created is not None else float("-inf")
            writes.append(_Write(when, (n, b), ident, doc))
        states[n] = state
    writes.sort(key=lambda w: (w.when, w.order))
    numbered: dict[str, int] = {}
    versions = []
    for write in writes:
        numbered[write.artifact] = numbered.get(write.artifact, 0) + 1
        versions.append(
            {
                **write.doc,
                "id": f"{PROVIDER}:{conversation_id}:{write.artifact}",
                "version": numbered[write.artifact],
            }
        )
    return versions


__all__ = ["artifact_versions"]
