"""``POST conversation``: store the new turn, then stream it as classic SSE or as v1 deltas.

The answer is written into the tree before streaming starts, as upstream does: a client whose
stream breaks still finds the message when it re-fetches the conversation.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from archiver.clock import clock
from archiver.fakes import data
from archiver.fakes.faults import DROP, credential, drop_connection
from archiver.fakes.state import STATE, EmulatorState
from archiver.flatten.records import escape_lone_surrogates
from archiver.loosejson import Json
from archiver.providers.chatgpt.fake.world import ChatGPTWorld, ChatRecord, world_of

# In a prompt: the answer ends in half an emoji (docs/protocol/chatgpt.md, "lone surrogates").
HALF_EMOJI = "[half-emoji]"


def find_node(mapping: dict[str, Json], ref: str) -> str | None:
    """Resolve a client's parent reference: a node id, or the id of the message in a node."""
    if ref in mapping:
        return ref
    for node_id, node in mapping.items():
        if (node.get("message") or {}).get("id") == ref:
            return node_id
    return None


def append_node(body: Json, parent: str, message: Json) -> str:
    node_id = message["id"]
    body["mapping"][node_id] = {"id": node_id, "message": message, "parent": parent, "children": []}
    body["mapping"][parent]["children"].append(node_id)
    return node_id


def make_message(role: str, content: Json, now: float, **fields: Any) -> Json:
    message: Json = {
        "id": fields.pop("id", None) or str(uuid.uuid4()),  # live ids need not be reproducible
        "author": {"role": role, "name": None, "metadata": {}},
        "create_time": now,
        "update_time": None,
        "content": content,
        "status": "finished_successfully",
        "end_turn": None,
        "weight": 1.0,
        "metadata": {},
        "recipient": "all",
        "channel": None,
    }
    message.update(fields)
    return message


def new_chat(state: EmulatorState, root_id: str, model: str, now: float) -> tuple[ChatRecord, str]:
    """Create an empty chat (root + hidden system node); return it and the system node id."""
    cid = state.new_id("conversation")
    time_form = state.created % 4  # created chats are listed in every spelling too
    root: Json = {"id": root_id, "message": None, "parent": None, "children": []}
    body: Json = {
        "title": "New chat",
        "create_time": now,
        "update_time": now,
        "mapping": {root_id: root},
        "moderation_results": [],
        "current_node": root_id,
        "plugin_ids": None,
        "conversation_id": cid,
        "conversation_template_id": None,
        "gizmo_id": None,
        "is_archived": False,
        "safe_urls": [],
        "default_model_slug": model,
    }
    hidden = {"is_visually_hidden_from_conversation": True}
    system = make_message("system", {"content_type": "text", "parts": [""]}, now, metadata=hidden)
    system.update(end_turn=True, weight=0.0)
    rec = world_of(state).add_chat(cid, body, now, time_form)
    return rec, append_node(body, root_id, system)


def append_exchange(world: ChatGPTWorld, rec: ChatRecord, prompt: str, model: str) -> Json:
    """Add a user prompt and a finished answer under ``current_node`` (used by /_emulator/touch)."""
    body = world.detail(rec)
    now = world.bump(rec)
    parent = body["current_node"] if body["current_node"] in body["mapping"] else None
    parent = parent or next(iter(body["mapping"]))
    user = make_message("user", {"content_type": "text", "parts": [prompt]}, now)
    user_node = append_node(body, parent, user)
    answer = make_message(
        "assistant", {"content_type": "text", "parts": [data.answer_text(prompt)]}, now
    )
    answer.update(end_turn=True, metadata={"model_slug": model, "finish_details": {"type": "stop"}})
    body["current_node"] = append_node(body, user_node, answer)
    return answer


def _bad(status: int, detail: str) -> web.Response:
    return web.json_response({"detail": detail}, status=status)


@dataclass
class Turn:
    """A prompt taken into the tree, ready to stream."""

    rec: ChatRecord
    echoes: list[Json]
    answer: Json
    chunks: list[str]
    new: bool
    text: str


def _refused_by_caps(request: web.Request, world: ChatGPTWorld, model: str) -> web.Response | None:
    """The account's refusals before any work: one answer at a time, the model's cap."""
    config = world.config
    now = clock().wall().timestamp()  # the tests' virtual time when they run on a FakeClock
    if config.one_at_a_time and world.streaming[credential(request)] > 0:
        world.count("one_at_a_time")
        busy = (
            "Only one message at a time. Please allow any other responses to complete before "
            "sending another message, or wait one minute."
        )
        return _bad(429, busy)
    if config.model_cap:
        until = world.cap_until.get(model)
        if until is not None and until <= now:
            world.cap_until.pop(model)
            world.answers_by_model[model] = 0
            until = None
        if until is None and world.answers_by_model[model] >= config.model_cap:
            until = world.cap_until[model] = now + config.model_cap_clears_in
        if until is not None:
            world.count("model_capped")
            detail = {
                "code": "model_cap_exceeded",
                "message": f"You have sent too many messages to the model {model}. Please try "
                "again later.",
                "clears_in": max(1, int(until - now)),
            }
            return web.json_response({"detail": detail}, status=429)
    return None


async def take_turn(request: web.Request, req: Json) -> Turn | web.Response:
    """Store the prompt and its whole answer in the tree (before streaming, as upstream does)."""
    state = request.app[STATE]
    world = world_of(state)
    action = req.get("action", "next")
    model = req.get("model") or "auto"
    refused = _refused_by_caps(request, world, model)
    if refused is not None:
        return refused
    now = time.time()
    echoes: list[Json] = []
    cid = req.get("conversation_id")
    parent_ref = req.get("parent_message_id") or "client-created-root"
    if cid:
        found = world.record(cid)
        if found is None:
            return _bad(404, f"Can't load conversation {cid}")
        rec = found
        body = world.detail(rec)
        parent = find_node(body["mapping"], parent_ref)
        if parent is None:
            return _bad(400, f"Parent message {parent_ref} not found")
    else:
        rec, parent = new_chat(state, parent_ref, model, now)
        body = world.detail(rec)
        echoes.append(body["mapping"][parent]["message"])

    finish, long_rest = "stop", None
    if action == "continue":
        stopped_id = (body["mapping"][parent].get("message") or {}).get("id", "")
        text = world.continuations.pop(stopped_id, None)
        if text is None:
            return _bad(400, "There is no message to continue")
    else:
        if action == "variant":  # regenerate: a sibling answer to the same user message
            prompt = _prompt_of((body["mapping"][parent].get("message") or {}).get("content"))
        else:
            sent = (req.get("messages") or [{}])[0]
            content = sent.get("content") or {"content_type": "text", "parts": [""]}
            prompt = _prompt_of(content)
            # A client retrying after a broken stream may resend the same id: keep the tree sane.
            user_id = None if sent.get("id") in body["mapping"] else sent.get("id")
            user = make_message(
                "user", content, now, id=user_id, metadata=sent.get("metadata") or {}
            )
            parent = append_node(body, parent, user)
            echoes.append(user)
        text = data.answer_text(prompt, long="[long]" in prompt)
        if HALF_EMOJI in prompt:  # as a server that cuts a string sends it: a lone surrogate
            text += " \ud83d"
        if "[long]" in prompt:  # stop part-way at a word boundary; "continue" sends the rest
            cut = text.index(" ", len(text) * 2 // 5)
            text, long_rest, finish = text[:cut], text[cut:], "max_tokens"

    parent_message_id = (body["mapping"][parent].get("message") or {}).get("id", parent)
    answer = _answer(text, finish, model=model, parent_id=parent_message_id, action=action, now=now)
    body["current_node"] = append_node(body, parent, answer)
    if long_rest is not None:
        world.continuations[answer["id"]] = long_rest
    world.bump(rec)
    state.count_prompt()
    world.answers_by_model[model] += 1
    rng = random.Random(f"stream:{text}")
    chunks = data.split_chunks(text, rng)
    return Turn(rec, echoes, answer, chunks, new=not cid, text=text)


async def read_body(request: web.Request) -> Json | web.Response:
    try:
        req = await request.json()
    except (ValueError, ConnectionResetError):  # malformed, or a client gone mid-body
        return _bad(400, "Invalid JSON body")
    if not isinstance(req, dict):
        return _bad(400, "Invalid JSON body")
    return req


async def post_conversation(request: web.Request) -> web.StreamResponse:
    """The 2023 ``POST conversation``: no sentinel; classic frames, or v1 when asked."""
    if world_of(request).config.send_paths == "f":
        return web.json_response({"detail": "Not Found"}, status=404)
    return await send_turn(request, _frames_2023)


def _frames_2023(req: Json, turn: Turn) -> list[bytes]:
    if "v1" in (req.get("supported_encodings") or []):
        return v1_frames(turn)
    rng = random.Random(f"stream:{turn.text}")
    return classic_frames(turn, moderation=rng.random() < 0.5)


async def send_turn(
    request: web.Request, frames_for: Callable[[Json, Turn], list[bytes]]
) -> web.StreamResponse:
    """What every send route does once past its own gate: read, store the turn, stream it."""
    req = await read_body(request)
    if isinstance(req, web.Response):
        return req
    turn = await take_turn(request, req)
    if isinstance(turn, web.Response):
        return turn
    return await stream_frames(request, frames_for(req, turn))


def _answer(text: str, finish: str, *, model: str, parent_id: str, action: str, now: float) -> Json:
    answer = make_message("assistant", {"content_type": "text", "parts": [text]}, now)
    details: Json = {"type": finish}
    if finish == "stop":
        details["stop_tokens"] = [100260]
    answer["end_turn"] = finish == "stop"
    answer["metadata"] = {
        "model_slug": model,
        "finish_details": details,
        "is_complete": True,
        "parent_id": parent_id,
        "message_type": action,
    }
    return answer


def _prompt_of(content: Json | None) -> str:
    parts = (content or {}).get("parts") or []
    return " ".join(p for p in parts if isinstance(p, str))


def sse(payload: Any, event: str | None = None) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    text = escape_lone_surrogates(text)  # a lone surrogate has no UTF-8 form: its JSON escape
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def classic_frames(turn: Turn, *, moderation: bool) -> list[bytes]:
    """Whole-message frames: ``parts[0]`` grows with every frame, the last one is complete."""
    cid, echoes, answer, chunks = turn.rec.id, turn.echoes, turn.answer, turn.chunks
    frames = [sse({"message": m, "conversation_id": cid, "error": None}) for m in echoes]
    partial = copy.deepcopy(answer)
    partial.update(status="in_progress", end_turn=None)
    partial["metadata"] = {"message_type": "next", "model_slug": answer["metadata"]["model_slug"]}
    text = ""
    for chunk in chunks[:-1]:
        text += chunk
        partial["content"]["parts"] = [text]
        frames.append(sse({"message": partial, "conversation_id": cid, "error": None}))
    frames.append(sse({"message": answer, "conversation_id": cid, "error": None}))
    if moderation:
        verdict = {"flagged": False, "blocked": False, "moderation_id": "modr-" + answer["id"][:20]}
        frames.append(
            sse(
                {
                    "conversation_id": cid,
                    "message_id": answer["id"],
                    "is_completion": True,
                    "moderation_response": verdict,
                }
            )
        )
    frames.append(sse("[DONE]"))
    return frames


def v1_frames(turn: Turn) -> list[bytes]:
    """The delta encoding: ``add`` whole messages, then ``append`` text, then one ``patch``."""
    cid, echoes, answer, chunks = turn.rec.id, turn.echoes, turn.answer, turn.chunks
    frames = [sse('"v1"', "delta_encoding")]
    frames.extend(add_frame(cid, message, c) for c, message in enumerate(echoes))
    frames.append(add_frame(cid, answer_skeleton(answer), len(echoes), error=None))
    frames.append(first_token_marker(cid, answer))
    frames.append(sse({"p": PARTS, "o": "append", "v": chunks[0]}, "delta"))
    frames.extend(sse({"v": chunk}, "delta") for chunk in chunks[1:-1])
    frames.append(sse({"p": "", "o": "patch", "v": closing_patch(answer, chunks)}, "delta"))
    frames.extend(title_frames(turn))
    frames.append(
        sse(
            {
                "type": "server_ste_metadata",
                "metadata": {"turn_exchanges_count": 1},
                "conversation_id": cid,
            }
        )
    )
    frames.append(sse({"type": "message_stream_complete", "conversation_id": cid}))
    frames.append(sse("[DONE]"))
    return frames


# The pieces both v1 flavours (this 2023 route and today's f/conversation) are made of.
PARTS = "/message/content/parts/0"


def add_frame(cid: str, message: Json, channel: int, **extra: Any) -> bytes:
    """A v1 ``add`` of a whole message on channel ``c`` (``extra`` sits beside it, e.g. error)."""
    value = {"message": message, "conversation_id": cid, **extra}
    return sse({"p": "", "o": "add", "v": value, "c": channel}, "delta")


def answer_skeleton(answer: Json) -> Json:
    """The answer as its ``add`` first shows it: in progress, no text yet, only the model."""
    skeleton = copy.deepcopy(answer)
    skeleton.update(
        status="in_progress", end_turn=None, content={"content_type": "text", "parts": [""]}
    )
    skeleton["metadata"] = {"model_slug": answer["metadata"]["model_slug"]}
    return skeleton


def first_token_marker(cid: str, answer: Json) -> bytes:
    marker = {"type": "message_marker", "conversation_id": cid, "message_id": answer["id"]}
    return sse({**marker, "marker": "user_visible_token", "event": "first"})


def closing_patch(answer: Json, chunks: list[str]) -> list[Json]:
    """The operations of the one ``patch`` that ends an answer: last text, then the rest."""
    last = chunks[-1] if len(chunks) > 1 else ""
    return [
        {"p": PARTS, "o": "append", "v": last},
        {"p": "/message/status", "o": "replace", "v": "finished_successfully"},
        {"p": "/message/end_turn", "o": "replace", "v": answer["end_turn"]},
        {"p": "/message/metadata", "o": "append", "v": answer["metadata"]},
    ]


def title_frames(turn: Turn) -> list[bytes]:
    """A new chat gets its title at the end of its first answer; an old one keeps its own."""
    if not turn.new:
        return []
    rec = turn.rec
    rec.title = data.title_for(random.Random(rec.id))
    return [sse({"type": "title_generation", "title": rec.title, "conversation_id": rec.id})]


async def stream_frames(request: web.Request, frames: list[bytes]) -> web.StreamResponse:
    state = request.app[STATE]
    delay = state.config.stream_delay_ms / 1000
    # A scripted cut: the answer is stored, the client never sees it end.
    drop = state.scripted_drop() or bool(request.get(DROP))
    resp = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    who = credential(request)
    streaming = world_of(state).streaming
    streaming[who] += 1
    try:
        await resp.prepare(request)
        for i, frame in enumerate(frames):
            if drop and i == len(frames) // 2:
                drop_connection(request)
                return resp
            await resp.write(frame)
            if delay:
                await asyncio.sleep(delay)
        await resp.write_eof()
    finally:
        streaming[who] -= 1
    return resp
