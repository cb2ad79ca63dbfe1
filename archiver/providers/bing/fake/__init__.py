"""Bing chat's fake upstream in ``archiver emulator`` (``make demo``, end-to-end tests): the
REST routes (create, saved chats, GetConversation, delete) and the Sydney ChatHub websocket,
on the shared framework in ``archiver/fakes/``. Knobs: ``config.py``; the mutable world:
``world.py``; generated data: ``generate.py``."""

from __future__ import annotations

from aiohttp import web

from archiver.providers.bing.fake.config import BingFakeConfig
from archiver.providers.bing.options import COOKIE_ENV

ITEM_ROUTES = frozenset({"/sydney/GetConversation"})  # one chat's history


def default_config() -> BingFakeConfig:
    return BingFakeConfig()


def add_routes(app: web.Application) -> None:
    from archiver.providers.bing.fake.chathub import add_routes as add_chat_routes

    add_chat_routes(app)


def environment(base_url: str) -> dict[str, str]:
    return {
        COOKIE_ENV: BingFakeConfig().cookie,
        "BING_BASE_URL": base_url,
        "SYDNEY_BASE_URL": base_url,
    }
