"""Bing's world in the emulator: its saved chats (generated ones build their messages on first
use) and the day's prompt count, and what it tells the shared framework (its ``_U`` cookie as
the credential, deletions, counters)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aiohttp import web

from archiver.fakes.state import EmulatorState, seeded_world
from archiver.fakes.world import UpstreamWorld, history, live, mark_deleted
from archiver.loosejson import Json
from archiver.providers.bing.fake import generate
from archiver.providers.bing.fake.config import BingFakeConfig

NAME = "bing"


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


class BingWorld(UpstreamWorld):
    def __init__(self, config: BingFakeConfig, seed: int, lock: threading.Lock) -> None:
        self.config = config
        self.seed = seed
        self.lock = lock  # the emulator's: counters are read from tests' threads
        self.client_id = generate.client_id(seed)
        self.user_messages = 0  # today's, towards the daily cap
        self.chats: dict[str, BingChat] = {}
        for i in range(config.chats):
            b = generate.chat_summary(i, seed=seed)
            chat = BingChat(
                b["conversationId"], b["chatName"], b["tone"], b["createTime"], b["updateTime"], i
            )
            self.chats[chat.id] = chat

    def chat(self, cid: str) -> BingChat | None:
        return live(self.chats, cid)

    def messages(self, chat: BingChat) -> list[Json]:
        fresh = chat.messages is None
        messages = history(chat, generate.chat_messages, self.seed)
        if fresh:  # a generated chat's saved turns count towards its conversation cap
            chat.user_messages = sum(1 for m in messages if m["author"] == "user")
        return messages

    def count_user_message(self) -> None:
        with self.lock:
            self.user_messages += 1

    def credential(self, request: web.Request) -> str | None:
        cookie = request.cookies.get("_U")
        return "U=" + cookie if cookie else None

    def delete(self, item_id: str) -> bool:
        return mark_deleted(self.chats, item_id)

    def stats(self) -> dict[str, int]:
        return {"bing_user_messages": self.user_messages}


def world_of(where: EmulatorState | web.Request) -> BingWorld:
    """Bing's world in the emulator's state (or a request's), made on first use."""
    return seeded_world(where, NAME, BingWorld, BingFakeConfig)
