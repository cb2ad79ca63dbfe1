"""Seed 000's routes over the Bing-family account: ``POST /create_conversation`` and
``POST /chatgpt``, many independent conversations at once on one account.

The seed handed Bing's own conversation signature to its clients; those signatures are the
account's credentials, so here the client gets a gateway handle instead: ``conversationId`` and
``conversationSignature`` name a conversation held in this process's memory, whose upstream
signatures never leave it. The upstream conversation is created by its first prompt (the
answer names it in ``archiveConversationId``, the id it has in the archive). The seed's user
whitelist is the API key: a conversation answers only to the key that created it.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from archiver.batch.sender import Thread
from archiver.serve.common import (
    ApiError,
    client_left,
    context,
    key_of,
    read_json,
    text_field,
)
from archiver.serve.gateway import Exchange

ROUTE = FAMILY = "seed000"  # the routes seed 000 (a Bing REST wrapper) offered
MAX_SESSIONS = 10_000  # conversations held in memory; the oldest are forgotten first


@dataclass
class HeldConversation:
    handle: str
    signature: str
    client_id: str
    key_id: int | None
    thread: Thread = field(default_factory=Thread)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    throttling: dict[str, Any] | None = None  # what the last answer said of the caps

    def full(self) -> int | None:
        """The upstream's cap on user messages in this conversation, once the last answer
        says it is reached (the upstream would answer ``Throttled``, the same word as for the
        account's daily cap, and the gateway would rest the whole account for one
        conversation)."""
        t = self.throttling or {}
        done, most = (
            t.get("numUserMessagesInConversation"),
            t.get("maxNumUserMessagesInConversation"),
        )
        if isinstance(done, int) and isinstance(most, int) and most > 0 and done >= most:
            return most
        return None


def _sessions(request: web.Request) -> OrderedDict[str, HeldConversation]:
    ctx = context(request)
    if not isinstance(ctx.seed000_sessions, OrderedDict):
        ctx.seed000_sessions = OrderedDict(ctx.seed000_sessions)
    return ctx.seed000_sessions


async def create_conversation(request: web.Request) -> web.Response:
    ctx = context(request)
    body = await read_json(request)
    user = body.get("userId")
    if user is not None and not isinstance(user, str):
        raise ApiError(400, "'userId' must be a string", param="userId")
    ctx.gateway(ctx.family(FAMILY))  # refuse now if no such account is configured
    key = key_of(request)
    conversation = HeldConversation(
        handle=f"gw-{uuid.uuid4()}",
        signature=secrets.token_urlsafe(24),
        client_id=user or (key.name if key else "viewer"),
        key_id=key.id if key else None,
    )
    sessions = _sessions(request)
    sessions[conversation.handle] = conversation
    while len(sessions) > MAX_SESSIONS:
        sessions.popitem(last=False)
    return web.json_response(
        {
            "conversationId": conversation.handle,
            "clientId": conversation.client_id,
            "conversationSignature": conversation.signature,
            "invocationId": 0,
        }
    )


def _find(request: web.Request, body: dict[str, Any]) -> HeldConversation:
    handle = text_field(body, "conversationId")
    signature = body.get("conversationSignature")
    conversation = _sessions(request).get(handle or "")
    key = key_of(request)
    if (
        conversation is None
        or not isinstance(signature, str)
        or not hmac.compare_digest(signature.encode(), conversation.signature.encode())
        or conversation.key_id != (key.id if key else None)
    ):
        raise ApiError(
            404,
            "no such conversation on this gateway (create one with POST /create_conversation)",
            type="not_found_error",
            code="conversation_not_found",
        )
    return conversation


async def chat(request: web.Request) -> web.Response:
    ctx = context(request)
    body = await read_json(request)
    prompt = text_field(body, "prompt")
    conversation = _find(request, body)
    invocation = body.get("invocationId", conversation.thread.turns_done)
    if isinstance(invocation, str) and invocation.isdigit():
        invocation = int(invocation)
    async with conversation.lock:  # one turn at a time per conversation; others run alongside
        if invocation != conversation.thread.turns_done:
            raise ApiError(
                409,
                f"invocationId {invocation!r} is not this conversation's next turn "
                f"({conversation.thread.turns_done})",
                param="invocationId",
                code="invocation_mismatch",
            )
        cap = conversation.full()
        if cap is not None:
            raise ApiError(
                409,
                f"this conversation has reached its provider's cap of {cap} messages: start a new one "
                "with POST /create_conversation",
                code="conversation_full",
            )
        key = key_of(request)
        exchange = Exchange(
            ROUTE, prompt or "", "", key.id if key else None, client_left=client_left(request)
        )
        gateway = ctx.gateway(ctx.family(FAMILY))
        answer = await gateway.ask(conversation.thread, exchange)
        conversation.throttling = answer.throttling
    return web.json_response(
        {
            "message": answer.text,
            "conversationId": conversation.handle,
            "invocationId": conversation.thread.turns_done,
            "archiveConversationId": answer.conversation_id,
        }
    )


def add_routes(app: web.Application) -> None:
    app.router.add_post("/create_conversation", create_conversation)
    app.router.add_post("/chatgpt", chat)
