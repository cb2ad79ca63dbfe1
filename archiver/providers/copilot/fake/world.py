"""Copilot's world in the emulator: its conversations (generated ones build their messages on
first use) and what it tells the shared framework (deletions, counters)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from aiohttp import web

from archiver.fakes.state import EmulatorState, seeded_world
from archiver.fakes.world import UpstreamWorld, history, live, mark_deleted
from archiver.loosejson import Json
from archiver.providers.copilot.fake import generate
from archiver.providers.copilot.fake.config import CopilotFakeConfig

NAME = "copilot"


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


def unauthorized() -> web.Response:
    return web.json_response({"errorCode": "unauthorized", "message": "Unauthorized"}, status=401)


class CopilotWorld(UpstreamWorld):
    def __init__(self, config: CopilotFakeConfig, seed: int, lock: threading.Lock) -> None:
        self.config = config
        self.seed = seed
        self.lock = lock  # the emulator's: counters are read from tests' threads
        self.pongs = 0
        self.challenges_met = 0
        self.chats: dict[str, CopilotChat] = {}
        for i in range(config.chats):
            c = generate.chat_summary(i, seed=seed)
            self.chats[c["id"]] = CopilotChat(
                c["id"], c["title"], c["type"], c["createTime"], c["updateTime"], i
            )

    def authorized(self, request: web.Request, token: str | None = None) -> bool:
        """The token (the Authorization header's, or ``token`` given in the socket's URL) and,
        when the config asks for one, the identity type."""
        given = token if token is not None else request.headers.get("Authorization", "")
        if given not in (f"Bearer {self.config.token}", self.config.token):
            return False
        wanted = self.config.identity_type
        return wanted is None or request.headers.get("x-useridentitytype") == wanted

    def chat(self, cid: str) -> CopilotChat | None:
        return live(self.chats, cid)

    def messages(self, chat: CopilotChat) -> list[Json]:
        return history(chat, generate.chat_messages, self.seed)

    def count_pong(self) -> None:
        with self.lock:
            self.pongs += 1

    def count_challenge_met(self) -> None:
        with self.lock:
            self.challenges_met += 1

    def delete(self, item_id: str) -> bool:
        return mark_deleted(self.chats, item_id)

    def stats(self) -> dict[str, int]:
        return {"copilot_pongs": self.pongs, "copilot_challenges_met": self.challenges_met}


def world_of(where: EmulatorState | web.Request) -> CopilotWorld:
    """Copilot's world in the emulator's state (or a request's), made on first use."""
    return seeded_world(where, NAME, CopilotWorld, CopilotFakeConfig)
