"""A tiny sync HTTP client for talking to the emulator in tests."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from archiver.providers.bing.fake.config import BingFakeConfig
from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig

TOKEN = ChatGPTFakeConfig().token
AUTH = {"Authorization": f"Bearer {TOKEN}"}
COOKIE = {"Cookie": f"_U={BingFakeConfig().cookie}"}


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def call(method: str, url: str, **kwargs: Any) -> Reply:
    """One HTTP request with a fresh aiohttp session; the body is read as text."""

    async def go() -> Reply:
        async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as r:
            return Reply(r.status, dict(r.headers), await r.text())

    return asyncio.run(go())


def sse_events(text: str) -> list[tuple[str | None, str]]:
    """Split an event stream into (event, data) pairs."""
    events = []
    for block in text.split("\n\n"):
        event, data = None, []
        for line in block.splitlines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: "):
                data.append(line[len("data: ") :])
        if data:
            events.append((event, "\n".join(data)))
    return events
