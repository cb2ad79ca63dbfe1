"""An independent fake of claude.ai for the tests: it serves ``account.Account`` (written by
hand from the documented shapes) the way PROTOCOL.md §6 says claude.ai does, and records
every request it was asked. It shares nothing with archiver's own emulator.

Knobs (``FakeOptions``) cover the variants the protocol marks uncertain: the v2 list's key
(``data`` / ``conversations``), a page cap below what is asked, ``has_more`` missing, an
unfiltered list without archived or starred chats, the older bare-array list only, a list
that shifts while it is paged, 401 or 403 for a refused session, the Cloudflare page, usage
limits after N prompts, ``message_limit`` warnings, dropped answer streams and awkward
chunking (a few bytes per write, CRLF line ends, UTF-8 split)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from archiver.emulator.server import loop_in_thread
from tests.providers.claude import account as acc

Json = dict[str, Any]
CHALLENGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>'
    '<body><div id="challenge-running">Checking your browser</div>'
    "<script>window._cf_chl_opt={cType:'managed'};</script></body></html>"
)


@dataclass
class FakeOptions:
    list_key: str = "data"
    page_cap: int = 2  # items per v2 page at most, whatever limit says: paging gets exercised
    say_has_more: bool = True
    all_hides_archived_and_starred: bool = False
    v2: bool = True
    shift_while_paging: bool = False  # the newest chat is touched after the first page
    refuse: int | None = None  # answer every request as a refused session (401 or 403)
    cloudflare: bool = False
    usage_limit_after: int | None = None  # prompts answered before exceeded_limit
    resets_at: int = 1_893_456_000  # 2030-01-01T00:00:00Z
    warn_from: int | None = None  # message_limit says approaching_limit from this prompt on
    drop_streams: int = 0  # cut this many answer streams after their first text, answer kept
    chunk: int = 3  # bytes per write of an answer stream
    honour_turn_uuids: bool = True
    docs_fail: int = 0  # the next N project document requests answer 500
    throttle: int = 0  # answer this many requests 429 rate_limit_error first (Retry-After: 0)
    usage_limit_on_lists: bool = False  # the conversation lists answer exceeded_limit


@dataclass
class Fake:
    base_url: str
    account: acc.Account
    options: FakeOptions
    requests: list[Json] = field(default_factory=list)
    prompts: list[str] = field(default_factory=list)  # every prompt that reached the server
    lock: threading.Lock = field(default_factory=threading.Lock)

    def log(self) -> list[Json]:
        with self.lock:
            return list(self.requests)

    def paths(self, since: int = 0) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.log()[since:]]


def _error(status: int, kind: str, message: str, **details: Any) -> web.Response:
    error: Json = {"type": kind, "message": message}
    if details:
        error["details"] = details
    return web.json_response(
        {"type": "error", "error": error, "request_id": "req_01"}, status=status
    )


def _leaf_branch(detail: Json) -> list[Json]:
    return acc.current_branch(detail)


def _entry(detail: Json) -> Json:
    return {k: v for k, v in detail.items() if k not in ("chat_messages", "platform")}


def make_app(fake: Fake) -> web.Application:
    account, options = fake.account, fake.options

    @web.middleware
    async def gate(request: web.Request, handler: Any) -> web.StreamResponse:
        with fake.lock:
            fake.requests.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.query),
                    "cookie": request.headers.get("Cookie", ""),
                    "user_agent": request.headers.get("User-Agent", ""),
                }
            )
        if options.cloudflare:
            return web.Response(status=403, text=CHALLENGE, content_type="text/html")
        if options.throttle > 0:
            options.throttle -= 1
            response = _error(429, "rate_limit_error", "Rate limited. Please try again later.")
            response.headers["Retry-After"] = "0"
            return response
        if options.refuse or request.cookies.get("sessionKey") != acc.SESSION_KEY:
            status = options.refuse or 403
            kind = "authentication_error" if status == 401 else "permission_error"
            return _error(
                status,
                kind,
                "Invalid authorization",
                error_visibility="user_facing",
                error_code="account_session_invalid",
            )
        return await handler(request)

    def chat_org(request: web.Request) -> web.Response | None:
        org = request.match_info["org"]
        if org == acc.ORG_API:
            return _error(403, "permission_error", "chat is not enabled for this organization")
        if org != acc.ORG:
            return _error(404, "not_found_error", "organization not found")
        return None

    async def organizations(request: web.Request) -> web.Response:
        return web.json_response(account.organizations)

    def listed(request: web.Request) -> list[Json]:
        details = [d for u, d in account.details.items() if u not in account.deleted]
        starred, archived = request.query.get("starred"), request.query.get("archived")
        if starred is None and archived is None and options.all_hides_archived_and_starred:
            details = [d for d in details if not d["is_starred"] and not d["is_archived"]]
        if starred is not None:
            details = [d for d in details if d["is_starred"] == (starred == "true")]
        if archived is not None:
            details = [d for d in details if d["is_archived"] == (archived == "true")]
        return sorted((_entry(d) for d in details), key=lambda e: e["updated_at"], reverse=True)

    async def list_v2(request: web.Request) -> web.Response:
        refused = chat_org(request)
        if refused is not None:
            return refused
        if not options.v2:
            return _error(404, "not_found_error", "not found")
        if options.usage_limit_on_lists:
            exceeded = {"type": "exceeded_limit", "resetsAt": options.resets_at}
            return _error(429, "rate_limit_error", json.dumps(exceeded))
        offset = int(request.query.get("offset", "0"))
        limit = min(int(request.query.get("limit", "30")), options.page_cap)
        items = listed(request)
        page = items[offset : offset + limit]
        unfiltered = "starred" not in request.query and "archived" not in request.query
        if options.shift_while_paging and offset == 0 and page and unfiltered:
            # Someone writes in the oldest chat no filtered list shows: it jumps to the front,
            # every later page shifts by one, and a plain offset walk never sees it.
            options.shift_while_paging = False
            plain = [e for e in items if not e["is_archived"] and not e["is_starred"]]
            account.details[plain[-1]["uuid"]]["updated_at"] = "2026-03-09T00:00:00.000000Z"
        body: Json = {options.list_key: page, "search_incomplete": False}
        if options.say_has_more:
            body["has_more"] = offset + limit < len(items)
        return web.json_response(body)

    async def list_v1(request: web.Request) -> web.Response:
        refused = chat_org(request)
        return refused or web.json_response(listed(request))

    async def detail(request: web.Request) -> web.Response:
        refused = chat_org(request)
        if refused is not None:
            return refused
        uuid = request.match_info["uuid"]
        if uuid not in account.details or uuid in account.deleted:
            return _error(404, "not_found_error", "conversation not found")
        body = dict(account.details[uuid])
        if request.query.get("tree") != "True":  # only the branch the user sees
            body["chat_messages"] = _leaf_branch(body)
        return web.json_response(body)

    async def create(request: web.Request) -> web.Response:
        refused = chat_org(request)
        if refused is not None:
            return refused
        body = await request.json()
        uuid = body["uuid"]
        now = "2026-03-10T00:00:00.000000Z"
        account.details[uuid] = acc.conversation(uuid, body.get("name", ""), now, now, [], None)
        return web.json_response(_entry(account.details[uuid]), status=201)

    async def projects(request: web.Request) -> web.Response:
        refused = chat_org(request)
        return refused or web.json_response(account.projects)

    async def docs(request: web.Request) -> web.Response:
        refused = chat_org(request)
        if refused is not None:
            return refused
        if options.docs_fail > 0:
            options.docs_fail -= 1
            return _error(500, "api_error", "Internal server error")
        return web.json_response(account.docs.get(request.match_info["project"], []))

    async def files(request: web.Request) -> web.Response:
        key = (request.match_info["file"], request.match_info["variant"])
        if request.match_info["org"] != acc.ORG or key not in acc.FILE_BYTES:
            return _error(404, "not_found_error", "file not found")
        return web.Response(body=acc.FILE_BYTES[key], content_type="application/octet-stream")

    async def completion(request: web.Request) -> web.StreamResponse:
        refused = chat_org(request)
        if refused is not None:
            return refused
        uuid = request.match_info["uuid"]
        if uuid not in account.details:
            return _error(404, "not_found_error", "conversation not found")
        if options.usage_limit_after is not None and len(fake.prompts) >= options.usage_limit_after:
            limit = {
                "type": "exceeded_limit",
                "resetsAt": options.resets_at,
                "remaining": None,
                "perModelLimit": False,
            }
            return _error(429, "rate_limit_error", json.dumps(limit))
        body = await request.json()
        prompt = body["prompt"]
        with fake.lock:
            fake.prompts.append(prompt)
        number = len(fake.prompts)
        ids = (body.get("turn_message_uuids") or {}) if options.honour_turn_uuids else {}
        human_uuid = ids.get("human_message_uuid") or f"0199f000-0000-7000-8000-{number:012d}"
        answer_uuid = ids.get("assistant_message_uuid") or f"0199f000-0001-7000-8000-{number:012d}"
        answer = f"Réponse {number} à « {prompt} » ✓"
        at = f"2026-03-10T00:{number:02d}:00.000000Z"
        detail = account.details[uuid]
        detail["chat_messages"] += [
            acc.message(human_uuid, "human", body["parent_message_uuid"], at, [acc.text(prompt)]),
            acc.message(
                answer_uuid,
                "assistant",
                human_uuid,
                at,
                [
                    {"type": "thinking", "thinking": "Considering the question", "summaries": []},
                    acc.text(answer),
                ],
                stop_reason="end_turn",
            ),
        ]
        detail["current_leaf_message_uuid"] = answer_uuid
        detail["updated_at"] = at
        warn = options.warn_from is not None and number >= options.warn_from
        events = [
            (
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "chatcompl_01",
                        "type": "message",
                        "role": "assistant",
                        "model": "",
                        "parent_uuid": human_uuid,
                        "uuid": answer_uuid,
                        "content": [],
                        "stop_reason": None,
                        "trace_id": "t",
                        "request_id": "req_02",
                    },
                },
            ),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "thinking", "thinking": "", "summaries": []},
                },
            ),
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "thinking_delta", "thinking": "Considering the question"},
                },
            ),
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 1,
                    "content_block": {"type": "text", "text": "", "citations": []},
                },
            ),
        ]
        events += [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "text_delta", "text": answer[i : i + 5]},
                },
            )
            for i in range(0, len(answer), 5)
        ]
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 1}),
            ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}}),
            (
                "message_limit",
                {
                    "type": "message_limit",
                    "message_limit": {
                        "type": "approaching_limit" if warn else "within_limit",
                        "windows": {
                            "5h": {
                                "status": "approaching_limit" if warn else "within_limit",
                                "resets_at": options.resets_at,
                                "utilization": 0.93,
                            }
                        },
                    },
                },
            ),
            ("ping", {"type": "ping"}),
            ("message_stop", {"type": "message_stop"}),
        ]
        data = "".join(
            f"event: {name}\r\ndata: {json.dumps(event, ensure_ascii=False)}\r\n\r\n"
            for name, event in events
        ).encode()
        drop = options.drop_streams > 0
        if drop:
            options.drop_streams -= 1
            data = data[: data.index(b"text_delta") + 30]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for start in range(0, len(data), options.chunk):
            await response.write(data[start : start + options.chunk])
            await asyncio.sleep(0)
        if drop:
            assert request.transport is not None
            request.transport.close()  # cut: the client sees a truncated stream
            return response
        await response.write_eof()
        return response

    async def delete(request: web.Request) -> web.Response:
        account.deleted.add(request.match_info["uuid"])
        return web.Response(status=204)

    app = web.Application(middlewares=[gate])
    org = "/api/organizations/{org}"
    app.router.add_get("/api/organizations", organizations)
    app.router.add_get(f"{org}/chat_conversations_v2", list_v2)
    app.router.add_get(f"{org}/chat_conversations", list_v1)
    app.router.add_post(f"{org}/chat_conversations", create)
    app.router.add_get(f"{org}/chat_conversations/{{uuid}}", detail)
    app.router.add_delete(f"{org}/chat_conversations/{{uuid}}", delete)
    app.router.add_post(f"{org}/chat_conversations/{{uuid}}/completion", completion)
    app.router.add_get(f"{org}/projects", projects)
    app.router.add_get(f"{org}/projects/{{project}}/docs", docs)
    app.router.add_get("/api/{org}/files/{file}/{variant}", files)
    return app


@contextmanager
def running_fake(
    options: FakeOptions | None = None, account: acc.Account | None = None
) -> Iterator[Fake]:
    fake = Fake("", account or acc.Account(), options or FakeOptions())

    async def start() -> tuple[web.AppRunner, int]:
        runner = web.AppRunner(make_app(fake), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return runner, runner.addresses[0][1]

    with loop_in_thread(start, "fake-claude") as (loop, (runner, port)):
        fake.base_url = f"http://127.0.0.1:{port}"
        try:
            yield fake
        finally:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
