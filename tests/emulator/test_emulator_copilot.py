"""The emulator's Copilot routes behave as §5 describes (what the client tests rely on)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from archiver.config import Secret
from archiver.emulator import running_emulator
from archiver.errors import AuthError
from archiver.providers.copilot.chat import CopilotTurn, run_turn
from archiver.providers.copilot.client import CopilotSettings
from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.providers.copilot.fake.world import world_of as copilot_world
from archiver.transport.connect import open_transport
from tests.support.fakes import fake_config

TOKEN = CopilotFakeConfig().token
AUTH = {"Authorization": f"Bearer {TOKEN}"}


async def call(method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as r:
        body = await r.read()
        return r.status, json.loads(body) if body else None


def test_rest_routes() -> None:
    with running_emulator(
        fake_config(
            chatgpt_conversations=0, bing_chats=0, copilot_chats=3, copilot_history_page_size=2
        )
    ) as emu:
        base = emu.base_url + "/c/api/conversations"
        status, page = asyncio.run(
            call("GET", base, headers=AUTH, params={"types": "chat,character,xbox,group"})
        )
        assert status == 200 and len(page["results"]) == 3 and page["next"] is None
        assert asyncio.run(call("GET", base))[0] == 401
        world = copilot_world(emu.state)
        cid = sorted(world.chats)[0]
        messages = world.messages(world.chats[cid])
        status, first = asyncio.run(
            call("GET", f"{base}/{cid}/history", headers=AUTH, params={"api-version": "2"})
        )
        assert [m["id"] for m in first["results"]] == [m["id"] for m in messages[::-1][:2]]
        status, created = asyncio.run(call("POST", base, headers=AUTH, json={}))
        assert status == 200 and created["id"] in world.chats
        status, patched = asyncio.run(
            call("PATCH", f"{base}/{cid}", headers=AUTH, json={"title": "New", "isPinned": True})
        )
        assert (patched["title"], patched["isPinned"]) == ("New", True)
        assert asyncio.run(call("DELETE", f"{base}/{cid}", headers=AUTH)) == (204, None)
        assert asyncio.run(call("GET", f"{base}/{cid}/history", headers=AUTH))[0] == 404


def test_socket_refuses_a_wrong_token() -> None:
    with running_emulator(fake_config(chatgpt_conversations=0, bing_chats=0)) as emu:
        settings = CopilotSettings(Secret("wrong-secret"), base_url=emu.base_url)

        async def go() -> None:
            async with open_transport() as transport:
                await run_turn(transport, settings.chat_socket_url(), CopilotTurn("c", "p"))

        with pytest.raises(AuthError) as info:
            asyncio.run(go())
    assert "about a day" in str(info.value)
    assert "wrong-secret" not in str(info.value) and "accessToken" not in str(info.value)
