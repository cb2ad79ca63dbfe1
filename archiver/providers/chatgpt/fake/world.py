"""ChatGPT's world in the emulator: its chats, Projects, sign-in sessions, the sentinel's
tokens and the account's caps, and what it tells the shared framework (its credential check,
the Cloudflare page for scripts, deletions, counters).

Generated chats start as cheap records; a tree is built on first fetch and then mutated in place
(prompts, touch, rename).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from archiver.fakes.faults import challenge_page
from archiver.fakes.state import EmulatorState, seeded_world
from archiver.fakes.world import UpstreamWorld, mark_deleted
from archiver.loosejson import Json
from archiver.providers.chatgpt.fake import generate
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig

NAME = "chatgpt"


@dataclass
class ChatRecord(generate.ListedChat):
    index: int | None  # None for chats created through the API
    hidden: bool = False  # PATCH is_visible=false
    deleted: bool = False  # /_emulator/delete
    gizmo_id: str | None = None  # the project holding it: then not in the main list


def unauthorized() -> web.Response:
    detail = {
        "message": "Your authentication token has expired. Please try signing in again.",
        "type": "invalid_request_error",
        "param": None,
        "code": "token_expired",
    }
    return web.json_response({"detail": detail}, status=401)


def on_api(request: web.Request) -> bool:
    return request.path.startswith(("/backend-api/", "/public-api/"))


def on_host(request: web.Request) -> bool:
    return on_api(request) or request.path.startswith("/api/auth/")


def script_agent(request: web.Request) -> bool:
    """What Cloudflare takes for a script: no browser User-Agent (aiohttp's default, curl's)."""
    return "Mozilla/" not in request.headers.get("User-Agent", "")


class ChatGPTWorld(UpstreamWorld):
    def __init__(self, config: ChatGPTFakeConfig, seed: int, lock: threading.Lock) -> None:
        self.config = config
        self.seed = seed
        self.lock = lock  # the emulator's: counters are read from tests' threads
        self.records: dict[str, ChatRecord] = {}
        self._details: dict[str, Json] = {}
        self.continuations: dict[str, str] = {}  # assistant message id -> text still to come
        for i in range(config.conversations):
            s = generate.summary(i, seed=seed)
            self.records[s.id] = ChatRecord(
                s.id, s.title, s.create_time, s.update_time, s.is_archived, s.shared, s.time_form, i
            )
        self.projects: dict[str, Json] = {}  # id -> gizmo object, in sidebar order
        self.deleted_projects: set[str] = set()
        self.session_cookies = {config.session_cookie}
        self.issued_tokens: dict[str, float] = {}  # access token -> exp (epoch seconds)
        self.session_count = 0
        self.token_uses: dict[str, int] = {}  # with config.token_uses: requests per token
        self.deleted_files: set[str] = set()
        # The sentinel (sentinel.py): issued requirements tokens and their challenges.
        self.sentinel_tokens: dict[str, Any] = {}
        self.prepared: dict[str, Any] = {}  # prepare_token -> (token, challenge)
        self.unusual_left = config.unusual_activity
        self.refusal_reasons: list[str] = []
        self.answers_by_model: Counter[str] = Counter()
        self.cap_until: dict[str, float] = {}  # model -> when its cap clears (time.time())
        self.streaming: Counter[str] = Counter()  # answers in flight per credential
        self.counters: Counter[str] = Counter()  # see stats()
        index = config.conversations
        for p in range(config.projects):
            gizmo = generate.project(p, seed=seed)
            self.projects[gizmo["id"]] = gizmo
            for _ in range(config.project_conversations):
                s = generate.summary(index, seed=seed)
                rec = ChatRecord(
                    s.id, s.title, s.create_time, s.update_time, False, False, s.time_form, index
                )
                rec.gizmo_id = gizmo["id"]
                self.records[s.id] = rec
                index += 1

    # -- chats ------------------------------------------------------------------------------

    def record(self, cid: str) -> ChatRecord | None:
        """The chat if upstream would still serve it (not hidden, not deleted)."""
        rec = self.records.get(cid)
        return None if rec is None or rec.hidden or rec.deleted else rec

    def detail(self, rec: ChatRecord) -> Json:
        body = self._details.get(rec.id)
        if body is None:
            assert rec.index is not None  # created chats are stored at creation
            body = generate.conversation(
                rec.index, seed=self.seed, mean_nodes=self.config.mean_nodes
            )
            self._details[rec.id] = body
        body.update(title=rec.title, update_time=rec.update_time, is_archived=rec.is_archived)
        if rec.gizmo_id:
            body.update(gizmo_id=rec.gizmo_id, gizmo_type="snorlax")
        return body

    def built(self) -> int:
        """How many chats' trees have been built so far."""
        return len(self._details)

    def listing(self, *, archived: bool, order: str) -> list[ChatRecord]:
        items = [
            r
            for r in self.records.values()
            if not r.hidden and not r.deleted and r.is_archived == archived and not r.gizmo_id
        ]
        key = "create_time" if order == "created" else "update_time"
        items.sort(key=lambda r: getattr(r, key), reverse=True)
        return items

    def project_chats(self, gizmo_id: str) -> list[ChatRecord]:
        items = [
            r
            for r in self.records.values()
            if r.gizmo_id == gizmo_id and not r.hidden and not r.deleted
        ]
        items.sort(key=lambda r: r.update_time, reverse=True)
        return items

    def live_projects(self) -> list[Json]:
        return [g for pid, g in self.projects.items() if pid not in self.deleted_projects]

    def add_chat(self, cid: str, body: Json, now: float, time_form: int) -> ChatRecord:
        rec = ChatRecord(cid, body["title"], now, now, False, False, time_form, None)
        self.records[cid] = rec
        self._details[cid] = body
        return rec

    def bump(self, rec: ChatRecord) -> float:
        """Mark ``rec`` changed now; strictly later than before so clients always notice."""
        new = max(time.time(), rec.update_time + 0.001)
        if rec.time_form == 3:  # this chat's list spelling has whole seconds: keep them distinct
            new = float(max(int(new), int(rec.update_time) + 1))
        rec.update_time = new
        return new

    def count(self, counter: str) -> None:
        with self.lock:
            self.counters[counter] += 1

    # -- credentials ------------------------------------------------------------------------

    def token_state(self, authorization: str | None) -> str:
        """'ok', 'expired' or 'bad' for an Authorization header."""
        if authorization == f"Bearer {self.config.token}":
            return "ok"
        if authorization and authorization.startswith("Bearer "):
            token = authorization[len("Bearer ") :]
            exp = self.issued_tokens.get(token)
            if exp is not None:
                if exp <= time.time():
                    return "expired"
                uses = self.config.token_uses
                if uses:
                    with self.lock:
                        used = self.token_uses.get(token, 0)
                        if used >= uses:
                            return "expired"
                        self.token_uses[token] = used + 1
                return "ok"
        return "bad"

    def authorized(self, request: web.Request) -> bool:
        """The static token, or an unexpired access token /api/auth/session issued."""
        if self.token_state(request.headers.get("Authorization")) != "ok":
            return False
        account = self.config.account_id
        return account is None or request.headers.get("Chatgpt-Account-Id") == account

    # -- the shared framework's questions ---------------------------------------------------

    def screen(self, request: web.Request) -> web.StreamResponse | None:
        if self.config.challenge_script_agents and on_host(request) and script_agent(request):
            return challenge_page("chatgpt.com")
        return None

    def admit(self, request: web.Request) -> web.StreamResponse | None:
        # estuary/content checks its own bearer: it answers 403, not 401, without one.
        own_check = request.path.startswith("/backend-api/estuary/")
        if on_api(request) and not own_check and not self.authorized(request):
            return unauthorized()
        return None

    def delete(self, item_id: str) -> bool:
        if item_id in self.projects:  # a Project: gone from the sidebar, 404 on its chats
            self.deleted_projects.add(item_id)
            return True
        if item_id.startswith(("file-", "file_")):  # a file: 404 File not found from now on
            self.deleted_files.add(item_id)
            return True
        return mark_deleted(self.records, item_id)

    def stats(self) -> dict[str, int]:
        names = ("sentinel_issued", "sentinel_refused", "model_capped", "one_at_a_time")
        return {name: self.counters[name] for name in names}


def world_of(where: EmulatorState | web.Request) -> ChatGPTWorld:
    """ChatGPT's world in the emulator's state (or a request's), made on first use."""
    return seeded_world(where, NAME, ChatGPTWorld, ChatGPTFakeConfig)
