"""The emulator's mutable world: which chats exist, their trees, counters and the request log.

Generated chats start as cheap records; a tree is built on first fetch and then mutated in place
(prompts, touch, rename). All request handling happens on the server's one event-loop thread; the
lock only guards what tests read from another thread (the log and counters).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from aiohttp import web

from archiver.fakes import data
from archiver.fakes.config import EmulatorConfig
from archiver.providers.bing.fake import generate as bing_data
from archiver.providers.chatgpt.fake import generate as chatgpt_data
from archiver.providers.copilot.fake import generate as copilot_data

Json = dict[str, Any]


@dataclass
class ChatRecord(chatgpt_data.ListedChat):
    index: int | None  # None for chats created through the API
    hidden: bool = False  # PATCH is_visible=false
    deleted: bool = False  # /_emulator/delete
    gizmo_id: str | None = None  # the project holding it: then not in the main list


@dataclass
class BingChat:
    id: str
    name: str | None
    tone: str
    create_time: float
    update_time: float
    index: int | None
    messages: list[Json] | None = None  # built on first use for generated chats
    saved: bool = True  # listed in turing/conversation/chats (false until the first prompt)
    deleted: bool = False
    user_messages: int = 0


@dataclass
class CopilotChat:
    id: str
    title: str | None
    type: str
    create_time: float
    update_time: float
    index: int | None
    messages: list[Json] | None = None  # built on first use for generated chats
    listed: bool = True  # false for a created conversation until its first prompt
    deleted: bool = False
    is_pinned: bool = False
    project_id: str | None = None


class _GeneratedChat(Protocol):
    """What Bing and Copilot chats share: a generated one builds its messages on first use."""

    index: int | None
    messages: list[Json] | None
    deleted: bool


C = TypeVar("C", bound=_GeneratedChat)
T = TypeVar("T")


def _live(chats: dict[str, C], cid: str) -> C | None:
    chat = chats.get(cid)
    return None if chat is None or chat.deleted else chat


def _history(chat: _GeneratedChat, generate: Callable[..., list[Json]], seed: int) -> list[Json]:
    if chat.messages is None:
        assert chat.index is not None  # created chats start with a list of their own
        chat.messages = generate(chat.index, seed=seed)
    return chat.messages


@dataclass
class Counters:
    by_route: Counter[tuple[str, int]] = field(default_factory=Counter)
    rate_limited: int = 0
    prompts: int = 0
    bing_user_messages: int = 0  # towards the daily cap
    copilot_pongs: int = 0
    copilot_challenges_met: int = 0
    sentinel_issued: int = 0  # requirements tokens handed out
    sentinel_refused: int = 0  # sends (or finalizes) answered 403 Unusual activity
    model_capped: int = 0  # sends answered 429 model_cap_exceeded
    one_at_a_time: int = 0  # sends refused with "Only one message at a time"


class EmulatorState:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.Lock()
        self.request_log: list[Json] = []
        self.counters = Counters()
        self.records: dict[str, ChatRecord] = {}
        self._details: dict[str, Json] = {}
        self.continuations: dict[str, str] = {}  # assistant message id -> text still to come
        self._created = 0
        for i in range(config.conversations):
            s = chatgpt_data.summary(i, seed=config.seed)
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
        # The sentinel (emulator/sentinel.py): issued requirements tokens and their challenges.
        self.sentinel_tokens: dict[str, Any] = {}
        self.prepared: dict[str, Any] = {}  # prepare_token -> (token, challenge)
        self.unusual_left = config.unusual_activity
        self.refusal_reasons: list[str] = []
        self.drops_left = config.drop_sends  # see scripted_drop
        self.answers_by_model: Counter[str] = Counter()
        self.cap_until: dict[str, float] = {}  # model -> when its cap clears (time.time())
        self.streaming: Counter[str] = Counter()  # answers in flight per credential
        index = config.conversations
        for p in range(config.projects):
            gizmo = chatgpt_data.project(p, seed=config.seed)
            self.projects[gizmo["id"]] = gizmo
            for _ in range(config.project_conversations):
                s = chatgpt_data.summary(index, seed=config.seed)
                rec = ChatRecord(
                    s.id, s.title, s.create_time, s.update_time, False, False, s.time_form, index
                )
                rec.gizmo_id = gizmo["id"]
                self.records[s.id] = rec
                index += 1
        self.bing_client_id = bing_data.client_id(config.seed)
        self.bing: dict[str, BingChat] = {}
        for i in range(config.bing_chats):
            b = bing_data.chat_summary(i, seed=config.seed)
            chat = BingChat(
                b["conversationId"], b["chatName"], b["tone"], b["createTime"], b["updateTime"], i
            )
            self.bing[chat.id] = chat
        # The worlds of providers whose emulator lives in their own package: name -> whatever
        # that emulator keeps (``provider_state``).
        self._provider_states: dict[str, Any] = {}
        self.copilot: dict[str, CopilotChat] = {}
        for i in range(config.copilot_chats):
            c = copilot_data.chat_summary(i, seed=config.seed)
            self.copilot[c["id"]] = CopilotChat(
                c["id"], c["title"], c["type"], c["createTime"], c["updateTime"], i
            )

    def provider_state(self, name: str, make: Callable[[Any], T]) -> T:
        """Provider ``name``'s own state, made by ``make(its config)`` on first use."""
        if name not in self._provider_states:
            self._provider_states[name] = make(self.config.provider(name))
        state: T = self._provider_states[name]
        return state

    def scripted_drop(self) -> bool:
        """Whether the answer stream starting now is one of the next ``drop_sends`` cut
        part-way (any provider's: ChatGPT's SSE, Bing's ChatHub, Copilot's socket)."""
        if self.drops_left > 0:
            self.drops_left -= 1
            return True
        return False

    # -- ChatGPT ----------------------------------------------------------------------------

    def record(self, cid: str) -> ChatRecord | None:
        """The chat if upstream would still serve it (not hidden, not deleted)."""
        rec = self.records.get(cid)
        return None if rec is None or rec.hidden or rec.deleted else rec

    def detail(self, rec: ChatRecord) -> Json:
        body = self._details.get(rec.id)
        if body is None:
            assert rec.index is not None  # created chats are stored at creation
            body = chatgpt_data.conversation(
                rec.index, seed=self.config.seed, mean_nodes=self.config.mean_nodes
            )
            self._details[rec.id] = body
        body.update(title=rec.title, update_time=rec.update_time, is_archived=rec.is_archived)
        if rec.gizmo_id:
            body.update(gizmo_id=rec.gizmo_id, gizmo_type="snorlax")
        return body

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

    def new_id(self, kind: str) -> str:
        """A fresh id for something a client created; its own namespace, so it can never
        collide with the generated data's ids (which are numbered from 0 too)."""
        self._created += 1
        return data.stable_uuid(self.config.seed, "created", kind, self._created)

    def add_chat(self, cid: str, body: Json, now: float) -> ChatRecord:
        rec = ChatRecord(cid, body["title"], now, now, False, False, self._created % 4, None)
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

    # -- Bing -------------------------------------------------------------------------------

    def bing_chat(self, cid: str) -> BingChat | None:
        return _live(self.bing, cid)

    def bing_messages(self, chat: BingChat) -> list[Json]:
        fresh = chat.messages is None
        messages = _history(chat, bing_data.chat_messages, self.config.seed)
        if fresh:  # a generated chat's saved turns count towards its conversation cap
            chat.user_messages = sum(1 for m in messages if m["author"] == "user")
        return messages

    # -- Copilot ----------------------------------------------------------------------------

    def copilot_chat(self, cid: str) -> CopilotChat | None:
        return _live(self.copilot, cid)

    def copilot_messages(self, chat: CopilotChat) -> list[Json]:
        return _history(chat, copilot_data.chat_messages, self.config.seed)

    # -- bookkeeping ------------------------------------------------------------------------

    def log(self, method: str, path: str, route: str, status: int, **extra: Any) -> None:
        entry = {"method": method, "path": path, "route": route, "status": status}
        entry.update(time=time.time(), **extra)
        with self.lock:
            self.request_log.append(entry)
            self.counters.by_route[(route, status)] += 1
            if status == 429:
                self.counters.rate_limited += 1

    def count_prompt(self) -> None:
        with self.lock:
            self.counters.prompts += 1

    def stats(self) -> Json:
        with self.lock:
            routes: dict[str, dict[str, int]] = {}
            for (route, status), n in sorted(self.counters.by_route.items()):
                routes.setdefault(route, {})[str(status)] = n
            return {
                "requests": routes,
                "total_requests": len(self.request_log),
                "rate_limited": self.counters.rate_limited,
                "prompts": self.counters.prompts,
                "bing_user_messages": self.counters.bing_user_messages,
                "copilot_pongs": self.counters.copilot_pongs,
                "copilot_challenges_met": self.counters.copilot_challenges_met,
                "sentinel_issued": self.counters.sentinel_issued,
                "sentinel_refused": self.counters.sentinel_refused,
                "model_capped": self.counters.model_capped,
                "one_at_a_time": self.counters.one_at_a_time,
            }


STATE = web.AppKey("state", EmulatorState)


def token_state(state: EmulatorState, authorization: str | None) -> str:
    """'ok', 'expired' or 'bad' for an Authorization header."""
    if authorization == f"Bearer {state.config.token}":
        return "ok"
    if authorization and authorization.startswith("Bearer "):
        token = authorization[len("Bearer ") :]
        exp = state.issued_tokens.get(token)
        if exp is not None:
            if exp <= time.time():
                return "expired"
            uses = state.config.token_uses
            if uses:
                with state.lock:
                    used = state.token_uses.get(token, 0)
                    if used >= uses:
                        return "expired"
                    state.token_uses[token] = used + 1
            return "ok"
    return "bad"
