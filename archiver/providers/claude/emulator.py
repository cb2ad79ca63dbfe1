"""claude.ai in ``archiver emulator`` (``make demo``, end-to-end tests): organizations (an
API-console one first, whose chat lists refuse), the paged conversation list (v2 and the
older bare array), trees with branches, projects and their documents, files, creating a
conversation, the completion stream (awkwardly chunked, CRLF line ends), usage limits, the
Cloudflare page and a refused session. Knobs: ``ClaudeEmulatorConfig`` (``archiver emulator
--set claude.<key>=<value>``). The shared fault middleware applies too."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from archiver.fakes.data import stable_uuid
from archiver.fakes.faults import DROP, challenge_page, drop_connection
from archiver.fakes.state import STATE
from archiver.providers.claude import emulator_data as gen
from archiver.providers.claude.emulator_data import Chat, Json, iso
from archiver.providers.claude.options import BASE_URL_ENV, SESSION_ENV

NAME = "claude"
API = "/api/organizations"


@dataclass
class ClaudeEmulatorConfig:
    chats: int = 6  # generated conversations in the chat organization
    projects: int = 2  # every fourth conversation (from the second) is in one of them
    session_key: str = "emulator-claude-session"  # the sessionKey cookie that signs in
    api_org_first: bool = True  # an API-console organization listed first (chat lists 403)
    page_cap: int = 30  # the v2 list answers at most this many per page
    list_key: str = "data"  # the v2 page's key: "data" or "conversations"
    list_v2: bool = True  # False: only the older chat_conversations (a bare array)
    refuse_status: int = 403  # how a refused session answers: 401 or 403
    cloudflare: bool = False  # every /api request answers Cloudflare's "Just a moment..."
    chunk_bytes: int = 7  # bytes per write of the completion stream
    crlf: bool = True  # the stream's line ends are \r\n
    usage_limit_after: int = 0  # prompts answered before exceeded_limit (0: never)
    usage_reset_seconds: float = 3 * 3600.0
    warn_after: int = 0  # from this many prompts on, message_limit warns (0: never)
    drop_sends: int = 0  # cut the next N answer streams after their first text (answer kept)
    gone_files: int = 1  # the first N uploaded files answer 404 (gone upstream)
    seed: int = 0


@dataclass
class ClaudeWorld:
    config: ClaudeEmulatorConfig
    chat_org: str
    api_org: str
    chats: dict[str, Chat] = field(default_factory=dict)
    projects: dict[str, Json] = field(default_factory=dict)
    gone_files: set[str] = field(default_factory=set)
    answered: int = 0  # prompts answered
    drops_left: int = 0
    created: int = 0

    @classmethod
    def make(cls, config: Any) -> ClaudeWorld:
        config = config or ClaudeEmulatorConfig()
        world = cls(
            config,
            chat_org=stable_uuid(config.seed, "claude-org", "chat"),
            api_org=stable_uuid(config.seed, "claude-org", "api"),
            drops_left=config.drop_sends,
        )
        for p in range(config.projects):
            project = gen.project(config.seed, p)
            world.projects[project["uuid"]] = project
        for i in range(config.chats):
            chat = gen.chat_summary(config.seed, i, list(world.projects))
            world.chats[chat.uuid] = chat
        files = [
            f["file_uuid"]
            for chat in world.chats.values()
            for m in world.messages(chat)
            for f in m.get("files_v2") or []
        ]
        world.gone_files = set(files[: config.gone_files])
        return world

    def messages(self, chat: Chat) -> list[Json]:
        if chat.messages is None:
            chat.messages, chat.current_leaf = gen.chat_messages(
                self.config.seed, self.chat_org, chat
            )
        return chat.messages

    def live(self, uuid: str) -> Chat | None:
        chat = self.chats.get(uuid)
        return None if chat is None or chat.deleted else chat

    def detail(self, chat: Chat, *, tree: bool) -> Json:
        messages = self.messages(chat)
        if not tree:  # without tree=True: only the branch the user sees
            by_id = {m["uuid"]: m for m in messages}
            branch, node = [], by_id.get(chat.current_leaf or "")
            while node is not None:
                branch.append(node)
                node = by_id.get(node["parent_message_uuid"])
            messages = list(reversed(branch))
        return {**chat.entry(), "platform": "CLAUDE_AI", "chat_messages": messages}

    def bump(self, chat: Chat) -> None:
        chat.updated = max(time.time(), chat.updated + 0.001)

    def add_turn(self, chat: Chat, parent: str, prompt: str, answer: str, ids: Json) -> Json:
        """Store a prompt and its answer under ``parent``; the new leaf is the answer."""
        messages = self.messages(chat)
        now = time.time()
        human_uuid = ids.get("human_message_uuid") or stable_uuid("human", chat.uuid, len(messages))
        answer_uuid = ids.get("assistant_message_uuid") or stable_uuid(
            "ai", chat.uuid, len(messages)
        )
        base = {
            "text": "",
            "truncated": False,
            "attachments": [],
            "files": [],
            "files_v2": [],
            "sync_sources": [],
            "updated_at": iso(now),
        }
        human = {
            **base,
            "uuid": human_uuid,
            "sender": "human",
            "index": len(messages),
            "created_at": iso(now),
            "parent_message_uuid": parent,
            "content": [{"type": "text", "text": prompt, "citations": []}],
        }
        reply = {
            **base,
            "uuid": answer_uuid,
            "sender": "assistant",
            "index": len(messages) + 1,
            "created_at": iso(now + 0.001),
            "parent_message_uuid": human_uuid,
            "stop_reason": "stop_sequence",
            "content": [
                {"type": "thinking", "thinking": f"Thinking about {prompt[:40]}", "summaries": []},
                {"type": "text", "text": answer, "citations": []},
            ],
        }
        messages += [human, reply]
        chat.current_leaf = answer_uuid
        self.bump(chat)
        return reply


def world_of(request: web.Request) -> ClaudeWorld:
    return request.app[STATE].provider_state(NAME, ClaudeWorld.make)


Handler = Callable[[web.Request, ClaudeWorld], Awaitable[web.StreamResponse]]


def _error(status: int, kind: str, message: str, **details: Any) -> web.Response:
    error: Json = {"type": kind, "message": message}
    if details:
        error["details"] = details
    return web.json_response(
        {"type": "error", "error": error, "request_id": "req_emulated"}, status=status
    )


def guarded(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Cloudflare first, then the session cookie, as claude.ai's edge and API answer."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        world = world_of(request)
        if world.config.cloudflare:
            return challenge_page("claude.ai")
        if request.cookies.get("sessionKey") != world.config.session_key:
            kind = (
                "authentication_error" if world.config.refuse_status == 401 else "permission_error"
            )
            return _error(
                world.config.refuse_status,
                kind,
                "Invalid authorization",
                error_visibility="user_facing",
                error_code="account_session_invalid",
            )
        if "org" in request.match_info and request.path.startswith(API):
            refused = _org(request, world)
            if refused is not None:
                return refused
        return await handler(request, world)

    return wrapped


def _org(request: web.Request, world: ClaudeWorld) -> web.Response | None:
    """None for the chat organization; the API organization's refusal; 404 otherwise."""
    org = request.match_info["org"]
    if org == world.chat_org:
        return None
    if org == world.api_org:
        return _error(403, "permission_error", "This organization cannot use chat")
    return _error(404, "not_found_error", "Organization not found")


async def organizations(request: web.Request, world: ClaudeWorld) -> web.Response:
    chat: Json = {
        "uuid": world.chat_org,
        "name": "Emulated personal",
        "capabilities": ["chat", "claude_pro"],
        "settings": {},
        "active_flags": [],
        "raven_type": None,
        "created_at": iso(gen.EPOCH_START),
        "updated_at": iso(gen.EPOCH_START),
    }
    api = {**chat, "uuid": world.api_org, "name": "Emulated API console", "capabilities": ["api"]}
    return web.json_response([api, chat] if world.config.api_org_first else [chat, api])


def _listed(request: web.Request, world: ClaudeWorld) -> list[Chat]:
    chats = [c for c in world.chats.values() if not c.deleted]
    for key, attr in (("starred", "starred"), ("archived", "archived")):
        wanted = request.query.get(key)
        if wanted in ("true", "false"):
            chats = [c for c in chats if getattr(c, attr) == (wanted == "true")]
    for chat in chats:
        world.messages(chat)  # current_leaf_message_uuid is known once the tree is built
    return sorted(chats, key=lambda c: c.updated, reverse=True)


async def list_v2(request: web.Request, world: ClaudeWorld) -> web.Response:
    if not world.config.list_v2:
        return _error(404, "not_found_error", "Not found")
    chats = _listed(request, world)
    offset = int(request.query.get("offset", "0") or 0)
    limit = min(int(request.query.get("limit", "30") or 30), world.config.page_cap)
    page = chats[offset : offset + limit]
    return web.json_response(
        {
            world.config.list_key: [c.entry(zulu=n % 2 == 0) for n, c in enumerate(page)],
            "has_more": offset + limit < len(chats),
            "search_incomplete": False,
        }
    )


async def list_v1(request: web.Request, world: ClaudeWorld) -> web.Response:
    return web.json_response([c.entry() for c in _listed(request, world)])


async def conversation(request: web.Request, world: ClaudeWorld) -> web.Response:
    chat = world.live(request.match_info["uuid"])
    if chat is None:
        return _error(404, "not_found_error", "Conversation not found")
    return web.json_response(world.detail(chat, tree=request.query.get("tree") == "True"))


async def create(request: web.Request, world: ClaudeWorld) -> web.Response:
    body = await request.json()
    uuid = body.get("uuid") or stable_uuid("created", world.created)
    if uuid in world.chats:
        return _error(409, "invalid_request_error", "Conversation already exists")
    world.created += 1
    now = time.time()
    chat = Chat(
        uuid,
        body.get("name") or "",
        now,
        now,
        None,
        project=body.get("project_uuid"),
        messages=[],
        current_leaf=None,
        model=body.get("model") or gen.MODEL,
    )
    world.chats[uuid] = chat
    return web.json_response(world.detail(chat, tree=True), status=201)


async def delete(request: web.Request, world: ClaudeWorld) -> web.Response:
    chat = world.live(request.match_info["uuid"])
    if chat is None:
        return _error(404, "not_found_error", "Conversation not found")
    chat.deleted = True
    return web.Response(status=204)


def _limit_event(world: ClaudeWorld, reset: float) -> Json:
    warn = world.config.warn_after and world.answered >= world.config.warn_after
    kind = "approaching_limit" if warn else "within_limit"
    used = 0.91 if warn else 0.2
    return {
        "type": "message_limit",
        "message_limit": {
            "type": kind,
            "remaining": None,
            "windows": {
                "5h": {"status": kind, "resets_at": int(reset), "utilization": used},
                "7d": {
                    "status": "within_limit",
                    "resets_at": int(reset + 86_400),
                    "utilization": 0.04,
                },
            },
        },
    }


def _frames(world: ClaudeWorld, human: str, reply: Json, answer: str) -> list[Json]:
    reset = time.time() + world.config.usage_reset_seconds
    pieces = [answer[i : i + 9] for i in range(0, len(answer), 9)] or [""]
    events: list[Json] = [
        {
            "type": "message_start",
            "message": {
                "id": "chatcompl_emulated",
                "type": "message",
                "role": "assistant",
                "model": "",
                "parent_uuid": human,
                "uuid": reply["uuid"],
                "content": [],
                "stop_reason": None,
                "trace_id": "t",
                "request_id": "req_emulated",
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {
                "type": "thinking",
                "thinking": "",
                "summaries": [],
                "start_timestamp": reply["created_at"],
            },
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_delta", "thinking": reply["content"][0]["thinking"]},
        },
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "thinking_summary_delta", "summary": {"summary": "Thinking it over"}},
        },
        {"type": "content_block_stop", "index": 0, "stop_timestamp": reply["created_at"]},
        {
            "type": "content_block_start",
            "index": 1,
            "content_block": {
                "type": "text",
                "text": "",
                "citations": [],
                "start_timestamp": reply["created_at"],
            },
        },
    ]
    events += [
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": p}}
        for p in pieces
    ]
    events += [
        {"type": "content_block_stop", "index": 1, "stop_timestamp": reply["created_at"]},
        {"type": "message_delta", "delta": {"stop_reason": "stop_sequence", "stop_sequence": None}},
        _limit_event(world, reset),
        {"type": "message_stop"},
    ]
    return events


def _encode(events: list[Json], crlf: bool) -> bytes:
    end = "\r\n" if crlf else "\n"
    return "".join(
        f"event: {e['type']}{end}data: {json.dumps(e, ensure_ascii=False)}{end}{end}"
        for e in events
    ).encode()


async def completion(request: web.Request, world: ClaudeWorld) -> web.StreamResponse:
    chat = world.live(request.match_info["uuid"])
    if chat is None:
        return _error(404, "not_found_error", "Conversation not found")
    config = world.config
    if config.usage_limit_after and world.answered >= config.usage_limit_after:
        limit = {
            "type": "exceeded_limit",
            "resetsAt": int(time.time() + config.usage_reset_seconds),
            "remaining": None,
            "perModelLimit": False,
        }
        return _error(429, "rate_limit_error", json.dumps(limit))
    body = await request.json()
    prompt = str(body.get("prompt") or "")
    parent = str(body.get("parent_message_uuid") or gen.ROOT)
    answer = gen.answer_for(prompt)
    reply = world.add_turn(chat, parent, prompt, answer, body.get("turn_message_uuids") or {})
    world.answered += 1
    request.app[STATE].count_prompt()
    data = _encode(_frames(world, reply["parent_message_uuid"], reply, answer), config.crlf)
    drop = request.get(DROP, False) or world.drops_left > 0
    if world.drops_left > 0:
        world.drops_left -= 1
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    await response.prepare(request)
    cut = data.index(b"text_delta") + 40 if drop else len(data)
    step = max(1, config.chunk_bytes)
    for start in range(0, cut, step):
        await response.write(data[start : min(start + step, cut)])
        await asyncio.sleep(0)
    if drop:
        drop_connection(request)  # the answer is stored upstream all the same
        return response
    await response.write_eof()
    return response


async def projects(request: web.Request, world: ClaudeWorld) -> web.Response:
    return web.json_response(list(world.projects.values()))


async def docs(request: web.Request, world: ClaudeWorld) -> web.Response:
    uuid = request.match_info["project"]
    if uuid not in world.projects:
        return _error(404, "not_found_error", "Project not found")
    return web.json_response(gen.project_docs(world.config.seed, uuid))


async def file(request: web.Request, world: ClaudeWorld) -> web.Response:
    if request.match_info["org"] != world.chat_org:
        return _error(404, "not_found_error", "Not found")
    uuid, variant = request.match_info["file"], request.match_info["variant"]
    if uuid in world.gone_files or variant not in ("preview", "thumbnail", "document_pdf"):
        return _error(404, "not_found_error", "File not found")
    return web.Response(
        body=gen.file_bytes(world.config.seed, uuid, variant), content_type="image/png"
    )


async def usage(request: web.Request, world: ClaudeWorld) -> web.Response:
    reset = iso(time.time() + world.config.usage_reset_seconds)
    return web.json_response(
        {
            "five_hour": {"utilization": 20, "resets_at": reset},
            "seven_day": {"utilization": 4, "resets_at": reset},
        }
    )


async def touch(request: web.Request) -> web.Response:
    """A new turn on a conversation's current branch, as if the user had written in it."""
    world = world_of(request)
    chat = world.live(request.match_info["uuid"])
    if chat is None:
        return web.json_response({"touched": False}, status=404)
    world.messages(chat)
    reply = world.add_turn(chat, chat.current_leaf or gen.ROOT, "Touched again", "Touched.", {})
    return web.json_response({"uuid": chat.uuid, "message_uuid": reply["uuid"]})


async def remove(request: web.Request) -> web.Response:
    """Delete a conversation upstream behind the client's back: gone from lists, 404 on fetch."""
    chat = world_of(request).live(request.match_info["uuid"])
    if chat is None:
        return web.json_response({"deleted": False}, status=404)
    chat.deleted = True
    return web.json_response({"deleted": True})


def add_routes(app: web.Application) -> None:
    org = f"{API}/{{org}}"
    chat = f"{org}/chat_conversations/{{uuid}}"
    app.router.add_get("/api/organizations", guarded(organizations))
    app.router.add_get(f"{org}/chat_conversations_v2", guarded(list_v2))
    app.router.add_get(f"{org}/chat_conversations", guarded(list_v1))
    app.router.add_post(f"{org}/chat_conversations", guarded(create))
    app.router.add_get(chat, guarded(conversation))
    app.router.add_delete(chat, guarded(delete))
    app.router.add_post(f"{chat}/completion", guarded(completion))
    app.router.add_get(f"{org}/projects", guarded(projects))
    app.router.add_get(f"{org}/projects/{{project}}/docs", guarded(docs))
    app.router.add_get(f"{org}/usage", guarded(usage))
    app.router.add_get("/api/{org}/files/{file}/{variant}", guarded(file))
    app.router.add_post("/_emulator/claude/touch/{uuid}", touch)
    app.router.add_post("/_emulator/claude/delete/{uuid}", remove)


__all__ = ["ClaudeEmulatorConfig", "ClaudeWorld", "add_routes"]


# One conversation, a project's documents, one file: what a no-change backup never asks.
ITEM_ROUTES = frozenset(
    {
        "/api/organizations/{org}/chat_conversations/{uuid}",
        "/api/organizations/{org}/projects/{project}/docs",
        "/api/{org}/files/{file}/{variant}",
    }
)


def default_config() -> ClaudeEmulatorConfig:
    return ClaudeEmulatorConfig()


def environment(base_url: str) -> dict[str, str]:
    return {SESSION_ENV: ClaudeEmulatorConfig().session_key, BASE_URL_ENV: base_url}
