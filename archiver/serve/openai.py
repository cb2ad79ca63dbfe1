"""The OpenAI chat-completions convention over the chat accounts (docs/protocol/gateway.md).

- ``POST /v1/chat/completions``, plain or ``stream: true`` (``stream_options.include_usage``
  adds a last chunk with ``usage``). A stream sends the role at once, then the answer's text
  as deltas while the account writes it (the senders' ``on_text`` reports), and SSE comments
  whenever nothing new came for a while (they keep proxies and the client's read timeout from
  giving up, and notice a client that left). The answer the sender returns is the one
  archived and has the last word: a client never gets text twice, and text it got that the
  answer does not start with (a retried turn that answered differently) ends the stream with
  an error event instead of ``[DONE]`` (``increments.py``).
- A request naming ``X-Archiver-Conversation: <id>`` continues that upstream conversation from
  its current node with the last user message; the answer carries the id back (a header, and in
  a stream's last chunk ``archiver.conversation_id``). Otherwise a new conversation starts and
  earlier turns of ``messages`` reach the model as a transcript in the one prompt.
- ``model``: ``<provider>/<variant>`` (a Bing tone, a Copilot mode: each provider's
  ``Gateway`` declaration lists them) goes to that provider's account; any other name goes to
  the default provider (the one that takes bare model names, ChatGPT) as its model slug
  (``auto``: the account's default).
- Usage numbers are estimates (about four characters per token): the web accounts count none.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections import deque
from typing import Any

from aiohttp import web

from archiver.batch.sender import Answer, Thread
from archiver.errors import ArchiverError
from archiver.serve.common import (
    ApiError,
    ServeContext,
    client_left,
    context,
    key_of,
    read_json,
)
from archiver.serve.errors import as_api_error
from archiver.serve.gateway import Exchange
from archiver.serve.increments import SentText
from archiver.serve.senders import gateway_of, gateway_providers

log = logging.getLogger("archiver.serve")

ROUTE = "chat_completions"  # gateway_exchanges.route (schema.sql, migration 8)
CONVERSATION_HEADER = "X-Archiver-Conversation"
KEEPALIVE_SECONDS = 10.0


def resolve_model(ctx: ServeContext, model: str) -> tuple[str | None, str]:
    """(provider, what the sender gets as ``model``)."""
    head, _, variant = model.partition("/")
    named = {p.name: gateway_of(p.name) for p in gateway_providers()}
    gateway = named.get(head)
    if gateway is not None and not gateway.takes_bare_models:
        return head, variant or gateway.default_variant
    if gateway is not None and variant:  # "chatgpt/gpt-4o": the provider named, its slug
        return head, "" if variant == "auto" else variant
    return ctx.options.default_provider, "" if model == "auto" else model


def _content_text(content: Any, where: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts (others, such
    as images, are left out). Anything else is the client's mistake: a 400."""
    if isinstance(content, str) or content is None:
        return content or ""
    if not isinstance(content, list):
        raise ApiError(400, f"{where}.content must be a string or a list of parts", param=where)
    texts = []
    for j, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "text":
            if not isinstance(part.get("text"), str):
                name = f"{where}.content[{j}].text"
                raise ApiError(400, f"{name} must be a string", param=name)
            texts.append(part["text"])
    return "\n".join(texts)


def _messages(body: dict[str, Any]) -> list[tuple[str, str]]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "'messages' must be a non-empty list", param="messages")
    out = []
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise ApiError(400, f"messages[{i}] needs a 'role'", param=f"messages[{i}]")
        out.append((message["role"], _content_text(message.get("content"), f"messages[{i}]")))
    if out[-1][0] != "user" or not out[-1][1].strip():
        raise ApiError(400, "the last message must be a user message with text", param="messages")
    return out


def transcript_prompt(messages: list[tuple[str, str]]) -> str:
    """One prompt for a new conversation: earlier turns as a transcript, then the question."""
    *earlier, (_, last) = messages
    if not earlier:
        return last
    lines = ["Here is our conversation so far:", ""]
    for role, text in earlier:
        lines += [f"{role.capitalize()}: {text}", ""]
    lines += ["Reply to my last message:", "", last]
    return "\n".join(lines)


def _continued_thread(ctx: ServeContext, provider: str, conversation_id: str) -> Thread:
    row = ctx.db.execute(
        "SELECT provider, current_node FROM conversations WHERE id = ?", [conversation_id]
    ).fetchone()
    if row is None:
        raise ApiError(
            404,
            f"{CONVERSATION_HEADER}: no conversation {conversation_id} in the archive",
            type="not_found_error",
            code="conversation_not_found",
            param=CONVERSATION_HEADER,
        )
    if row[0] != provider:
        raise ApiError(
            400,
            f"{CONVERSATION_HEADER}: conversation {conversation_id} is a {row[0]} conversation; "
            f"the model asked for goes to {provider}",
            param="model",
        )
    users = ctx.db.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = ? AND role = 'user' "
        "AND on_current_branch",
        [conversation_id],
    ).fetchone()[0]
    return Thread(conversation_id=conversation_id, parent_message_id=row[1], turns_done=users)


def _tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def _usage(prompt: str, answer: str) -> dict[str, int]:
    p, c = _tokens(prompt), _tokens(answer)
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


async def chat_completions(request: web.Request) -> web.StreamResponse:
    ctx = context(request)
    body = await read_json(request)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise ApiError(400, "'model' must be a non-empty string", param="model")
    messages = _messages(body)
    provider, upstream_model = resolve_model(ctx, model)
    gateway = ctx.gateway(provider)
    named = request.headers.get(CONVERSATION_HEADER)
    if named:
        thread = _continued_thread(ctx, gateway.provider, named)
        prompt = messages[-1][1]
    else:
        thread = Thread()
        prompt = transcript_prompt(messages)
    key = key_of(request)
    exchange = Exchange(
        ROUTE, prompt, upstream_model, key.id if key else None, client_left=client_left(request)
    )
    completion_id = f"chatcmpl-{uuid.uuid4().hex}"
    created = int(time.time())
    if body.get("stream"):
        options = body.get("stream_options")
        include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
        gateway.admit()  # a full queue or a throttled account: a 429 status, not a stream
        return await _stream(
            request, gateway, thread, exchange, completion_id, created, model, include_usage, named
        )
    answer = await gateway.ask(thread, exchange)
    payload = {
        "id": completion_id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": _usage(prompt, answer.text),
        "archiver": {"conversation_id": answer.conversation_id, "message_id": answer.message_id},
    }
    headers = {CONVERSATION_HEADER: answer.conversation_id or ""}
    return web.json_response(payload, headers=headers)


def _chunk(completion_id: str, created: int, model: str, **fields: Any) -> bytes:
    chunk = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        **fields,
    }
    return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()


def _error_frame(error: ApiError, **extra: Any) -> bytes:
    """An OpenAI-style error event: the stream ends on it (no ``[DONE]``)."""
    body = {"message": error.message, "type": error.type, "param": None, "code": error.code}
    return f"data: {json.dumps({'error': body, **extra}, ensure_ascii=False)}\n\n".encode()


def _answer_changed(answer: Answer) -> ApiError:
    return ApiError(
        502,
        "the answer changed after part of it was streamed (the upstream turn was retried and "
        "answered differently): the whole answer is archived in conversation "
        f"{answer.conversation_id}; ask again without streaming, or read it there",
        type="server_error",
        code="answer_changed",
    )


async def _stream(
    request: web.Request,
    gateway: Any,
    thread: Thread,
    exchange: Exchange,
    completion_id: str,
    created: int,
    model: str,
    include_usage: bool,
    named: str | None,
) -> web.StreamResponse:
    headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    if named:
        headers[CONVERSATION_HEADER] = named
    response = web.StreamResponse(headers=headers)
    await response.prepare(request)

    def choice(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    def content(text: str) -> bytes:
        return _chunk(completion_id, created, model, choices=[choice({"content": text}, None)])

    # The sender reports the text so far from its own task; what goes to the client is decided
    # there, at once (increments.py), and only written here, in order.
    sent = SentText()
    deltas: deque[str] = deque()
    arrived = asyncio.Event()

    def on_text(text: str) -> None:
        delta = sent.advance(text)
        if delta:
            deltas.append(delta)
            arrived.set()

    exchange.on_text = on_text
    asking: asyncio.Task[Answer] = asyncio.create_task(gateway.ask(thread, exchange))
    try:
        await response.write(
            _chunk(
                completion_id,
                created,
                model,
                choices=[choice({"role": "assistant", "content": ""}, None)],
            )
        )
        while True:
            while deltas:
                await response.write(content(deltas.popleft()))
            if asking.done():
                break
            arrived.clear()
            waiter = asyncio.ensure_future(arrived.wait())
            try:
                done, _ = await asyncio.wait(
                    {asking, waiter},
                    timeout=KEEPALIVE_SECONDS,
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                waiter.cancel()
            if not done:  # nothing new for a while: also notices a gone client
                await response.write(b": the account is answering\n\n")
        try:
            answer = asking.result()
        except ArchiverError as exc:
            await response.write(_error_frame(as_api_error(exc)))
            await response.write_eof()
            return response
        archiver_ids = {"conversation_id": answer.conversation_id, "message_id": answer.message_id}
        rest = sent.finish(answer.text)
        if rest is None:
            log.warning("a streamed answer changed on a retry: its stream ends with an error")
            await response.write(_error_frame(_answer_changed(answer), archiver=archiver_ids))
            await response.write_eof()
            return response
        if sent.diverged:  # worth knowing how a real upstream behaves: its reports wavered
            log.info("a streamed answer's progress differed from what was sent; the answer matched")
        if rest:
            await response.write(content(rest))
        await response.write(
            _chunk(
                completion_id,
                created,
                model,
                choices=[choice({}, "stop")],
                archiver=archiver_ids,
            )
        )
        if include_usage:
            await response.write(
                _chunk(
                    completion_id,
                    created,
                    model,
                    choices=[],
                    usage=_usage(exchange.prompt, answer.text),
                )
            )
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
    except ConnectionResetError:
        # The client left (a keep-alive comment or the answer could not be written). The
        # gateway's own task finishes the answer and archives it; the row says client_gone.
        if not asking.done():
            asking.cancel()  # only our wait: ask() marks the row
            await asyncio.gather(asking, return_exceptions=True)
        else:
            gateway.client_gone(exchange)
        log.info("client left a stream before its end; the answer is archived anyway")
    except asyncio.CancelledError:
        asking.cancel()
        await asyncio.gather(asking, return_exceptions=True)
        raise
    return response


async def list_models(request: web.Request) -> web.Response:
    ctx = context(request)
    data = []
    if ctx.options.default_provider in ctx.gateways:
        data += [
            {
                "id": m,
                "object": "model",
                "created": 0,
                "owned_by": f"archiver-{ctx.options.default_provider}",
            }
            for m in ctx.options.models
        ]
    for provider in gateway_providers():
        variants = gateway_of(provider.name).variants
        if provider.name in ctx.gateways and variants:
            data += [
                {
                    "id": f"{provider.name}/{v}",
                    "object": "model",
                    "created": 0,
                    "owned_by": f"archiver-{provider.name}",
                }
                for v in variants
            ]
    return web.json_response({"object": "list", "data": data})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_get("/v1/models", list_models)
