"""Seed 004's REST service over the ChatGPT account: new, ask, delete one, delete all.

Every answer goes through the account's gateway (queue, limiter, retries) and is archived with
``source = 'gateway'`` before the response is written.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from archiver.batch.sender import Answer, Thread
from archiver.serve.common import (
    ApiError,
    client_left,
    context,
    flag_field,
    key_of,
    read_json,
    text_field,
)
from archiver.serve.gateway import Exchange
from archiver.store import transaction

ROUTE = FAMILY = "seed004"  # the routes seed 004 (a ChatGPT REST wrapper) offered


def response_item(answer: Answer) -> dict[str, Any]:
    """Seed 004's ``response``: ``parent_id`` is the id to continue on (the answer's own)."""
    return {
        "author": {"role": "assistant", "name": None, "metadata": {}},
        "message": answer.text,
        "conversation_id": answer.conversation_id,
        "parent_id": answer.message_id,
        "model": answer.model or _answered_model(answer),
        "finish_details": "stop",
        "end_turn": True,
        "recipient": "all",
        "citations": [],
    }


def _answered_model(answer: Answer) -> str | None:
    """The model that answered, as its message says (the request may have named none)."""
    for message in answer.messages:
        if isinstance(message, dict) and message.get("id") == answer.message_id:
            slug = (message.get("metadata") or {}).get("model_slug")
            return slug if isinstance(slug, str) else None
    return None


def _set_title(request: web.Request, conversation_id: str | None, title: str | None) -> None:
    """The archived title (upstream keeps its own until the next backup names it)."""
    if not conversation_id or not title:
        return
    with transaction(context(request).db) as conn:
        conn.execute("UPDATE conversations SET title = ? WHERE id = ?", [title, conversation_id])


async def _ask(request: web.Request, thread: Thread, body: dict[str, Any]) -> Answer:
    prompt = text_field(body, "prompt")
    model = text_field(body, "model", required=False) or ""
    flag_field(body, "autocontinue")  # validated; continuation is the server's --autocontinue
    key = key_of(request)
    exchange = Exchange(
        ROUTE, prompt or "", model, key.id if key else None, client_left=client_left(request)
    )
    ctx = context(request)
    return await ctx.gateway(ctx.family(FAMILY)).ask(thread, exchange)


async def new_conversation(request: web.Request) -> web.Response:
    body = await read_json(request)
    title = text_field(body, "title", required=False)
    answer = await _ask(request, Thread(), body)
    _set_title(request, answer.conversation_id, title)
    return web.json_response({"response": response_item(answer)}, status=201)


def _archived(request: web.Request, conversation_id: str) -> tuple[str, str | None] | None:
    row = (
        context(request)
        .db.execute(
            "SELECT provider, current_node FROM conversations WHERE id = ?", [conversation_id]
        )
        .fetchone()
    )
    return (row[0], row[1]) if row else None


async def ask(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    body = await read_json(request)
    parent = text_field(body, "parent_id", required=False)
    archived = _archived(request, conversation_id)
    if archived is not None and archived[0] != context(request).family(FAMILY):
        raise ApiError(400, f"conversation {conversation_id} is a {archived[0]} conversation")
    if parent is None:
        if archived is None or not archived[1]:
            raise ApiError(
                404,
                f"no conversation {conversation_id} in the archive (give parent_id to continue "
                "one the archive has not seen)",
                type="not_found_error",
                code="conversation_not_found",
            )
        parent = archived[1]  # the current node: where the user left it
    thread = Thread(conversation_id=conversation_id, parent_message_id=parent, turns_done=1)
    answer = await _ask(request, thread, body)
    return web.json_response({"response": response_item(answer)}, status=201)


async def delete_one(request: web.Request) -> web.Response:
    conversation_id = request.match_info["id"]
    archived = _archived(request, conversation_id)
    if archived is None:
        raise ApiError(
            404,
            f"no conversation {conversation_id} in the archive",
            type="not_found_error",
            code="conversation_not_found",
        )
    ctx = context(request)
    if archived[0] != ctx.family(FAMILY):
        raise ApiError(400, f"conversation {conversation_id} is a {archived[0]} conversation")
    await ctx.gateway(ctx.family(FAMILY)).hide(conversation_id)
    return web.Response(status=204)


async def delete_all(request: web.Request) -> web.Response:
    key = key_of(request)
    if key is None or not key.is_admin:
        raise ApiError(
            403,
            "DELETE /conversations/all needs a key with the admin scope (archiver keys add --admin)",
            type="permission_error",
            code="admin_scope_required",
        )
    ctx = context(request)
    provider = ctx.family(FAMILY)
    gateway = ctx.gateway(provider)
    ids = [
        row[0]
        for row in ctx.db.execute(
            # Only this account's: an archive may hold other accounts' conversations too.
            "SELECT id FROM conversations WHERE provider = ? AND account = ? "
            "AND deleted_upstream_at IS NULL ORDER BY id",
            [provider, gateway.sender.account],
        )
    ]
    for conversation_id in ids:  # one at a time: the account's limiter paces them
        await gateway.hide(conversation_id)
    return web.Response(status=204)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/conversations/new", new_conversation)
    app.router.add_delete("/conversations/all", delete_all)
    app.router.add_post("/conversations/{id}/ask", ask)
    app.router.add_delete("/conversations/{id}", delete_one)
