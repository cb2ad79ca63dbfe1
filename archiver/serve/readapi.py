"""The read API over the archive (seed 004's shapes): no upstream request, ever.

``GET /conversations`` newest first (``offset``, ``limit``, ``provider``, ``project``, ``q``);
``GET /conversations/{id}/messages`` the current branch, or every node with ``?branches=all``.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web

from archiver.errors import InputError
from archiver.providers.registry import block_reader
from archiver.query.connect import open_readonly
from archiver.query.export import load_conversation
from archiver.query.render import ConversationRows
from archiver.query.search import Executes, literal_query
from archiver.query.thread import current_path, is_visible
from archiver.serve.common import ApiError, context

T = TypeVar("T")
MAX_LIMIT = 100
MAX_OFFSET = 2**63 - 1  # SQLite's largest integer


def _int_param(request: web.Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"'{name}' must be an integer", param=name) from None
    top = MAX_OFFSET if maximum is None else maximum
    if value < 0 or value > top:
        raise ApiError(400, f"'{name}' must be at least 0 and at most {top}", param=name)
    return value


def list_conversations(
    db: Any,
    *,
    offset: int = 0,
    limit: int = 20,
    provider: str | None = None,
    project: str | None = None,
    q: str | None = None,
) -> list[dict[str, Any]]:
    """Conversation rows, newest first (by update time, else create time)."""
    where, params = ["1"], []
    if provider:
        where.append("provider = ?")
        params.append(provider)
    if project:
        where.append("gizmo_id = ?")
        params.append(project)
    q = (q or "").replace("\x00", " ").strip()  # a NUL ends an FTS5 query string early
    if q:
        where.append(
            "id IN (SELECT m.conversation_id FROM messages_fts "
            "JOIN messages m ON m.rowid = messages_fts.rowid WHERE messages_fts MATCH ?)"
        )
        params.append(q)
    sql = (
        "SELECT id, provider, title, create_time, update_time, current_node, gizmo_id, source, "
        "default_model_slug, node_count, deleted_upstream_at FROM conversations "
        f"WHERE {' AND '.join(where)} "
        "ORDER BY coalesce(update_time, create_time) DESC, id LIMIT ? OFFSET ?"
    )
    try:
        cursor = db.execute(sql, [*params, limit, offset])
    except sqlite3.OperationalError:
        if not q:
            raise
        # Not valid FTS syntax (an odd quote, a bare '-'): search the words literally.
        params[-1] = literal_query(q)
        cursor = db.execute(sql, [*params, limit, offset])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def conversation_item(row: dict[str, Any]) -> dict[str, Any]:
    """Seed 004's list item, plus what the archive knows."""
    return {
        "id": row["id"],
        "title": row["title"],
        "create_time": row["create_time"],
        "update_time": row["update_time"],
        "mapping": None,
        "current_node": row["current_node"],
        "provider": row["provider"],
        "project": row["gizmo_id"],
        "source": row["source"],
        "model": row["default_model_slug"],
        "deleted_upstream_at": row["deleted_upstream_at"],
    }


def _raw(row: dict[str, Any]) -> dict[str, Any]:
    try:
        value = json.loads(row.get("raw_json") or "null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def message_item(row: dict[str, Any], conversation_id: str) -> dict[str, Any]:
    """One message in seed 004's shape (``message`` is the text), plus its node id."""
    raw = _raw(row)
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    finish = metadata.get("finish_details")
    role = row.get("role") or "unknown"
    return {
        "id": row["id"],
        "author": {
            "role": "assistant" if role == "bot" else role,
            "name": row.get("author_name"),
            "metadata": {},
        },
        "message": row.get("text") or "",
        "conversation_id": conversation_id,
        "parent_id": row.get("parent_id"),
        "model": row.get("model_slug"),
        "finish_details": finish.get("type") if isinstance(finish, dict) else finish,
        "end_turn": raw.get("end_turn"),
        "recipient": row.get("recipient") or "all",
        "citations": metadata.get("citations") or [],
        "create_time": row.get("create_time"),
        "content_type": row.get("content_type"),
    }


def load_from(db: Executes, conversation_id: str) -> ConversationRows:
    try:
        return load_conversation(db, conversation_id, block_reader)
    except InputError as exc:
        raise ApiError(
            404, str(exc), type="not_found_error", code="conversation_not_found"
        ) from None


def load(request: web.Request) -> ConversationRows:
    return load_from(context(request).db, request.match_info["id"])


async def read_archive(request: web.Request, work: Callable[[Executes], T]) -> T:
    """``work`` over the archive on a worker thread, with a read-only connection of its own:
    reading and rendering a big conversation (50,000 nodes take seconds) must not stop the
    gateway's loop, which serves every other client meanwhile. An archive with no file (in
    memory) is read where it is."""
    db = context(request).db
    row = db.execute("PRAGMA database_list").fetchone()
    path = row[2] if row else ""
    if not path:
        return work(db)

    def read() -> T:
        conn = open_readonly(path)
        try:
            return work(conn)
        finally:
            conn.close()

    return await asyncio.to_thread(read)


async def get_conversations(request: web.Request) -> web.Response:
    rows = list_conversations(
        context(request).db,
        offset=_int_param(request, "offset", 0),
        limit=_int_param(request, "limit", 20, MAX_LIMIT),
        provider=request.query.get("provider") or None,
        project=request.query.get("project") or None,
        q=request.query.get("q") or None,
    )
    return web.json_response([conversation_item(r) for r in rows])


async def get_messages(request: web.Request) -> web.Response:
    branches = request.query.get("branches", "current")
    if branches not in ("current", "all"):
        raise ApiError(400, "'branches' must be 'current' or 'all'", param="branches")
    cid = request.match_info["id"]
    items = await read_archive(request, lambda db: message_items(load_from(db, cid), branches))
    return web.json_response(items)


def message_items(doc: ConversationRows, branches: str) -> list[dict[str, Any]]:
    """The current branch's visible messages, or every node with its place in the tree."""
    cid = str(doc.conversation["id"])
    path = current_path(doc.messages, doc.conversation.get("current_node"))
    if branches == "current":
        return [message_item(m, cid) for m in path if is_visible(m)]
    on_branch = {m["id"] for m in path}
    items = []
    for row in doc.messages:
        item = message_item(row, cid)
        try:
            children = json.loads(row.get("children") or "[]")
        except ValueError:
            children = []
        item.update(
            children=children,
            on_current_branch=row["id"] in on_branch,
            is_hidden=bool(row.get("is_hidden")),
            deleted_upstream_at=row.get("deleted_upstream_at"),
        )
        items.append(item)
    return items


def add_routes(app: web.Application) -> None:
    app.router.add_get("/conversations", get_conversations)
    app.router.add_get("/conversations/{id}/messages", get_messages)
