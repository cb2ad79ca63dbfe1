"""ChatGPT's fake upstream in ``archiver emulator`` (``make demo``, end-to-end tests): the
``backend-api`` REST routes, a 2026 account's sign-in, Projects, files and canvas, sending
(the 2023 route and ``f/conversation`` behind the sentinel), on the shared framework in
``archiver/fakes/``. Knobs: ``config.py``; the mutable world: ``world.py``; generated data:
``generate.py`` and ``turns.py``."""

from __future__ import annotations

from aiohttp import web

from archiver.providers.chatgpt.fake.config import ChatGPTFakeConfig
from archiver.providers.chatgpt.options import BASE_URL_ENV, TOKEN_ENV

# One conversation, its canvas documents, one file: what a backup with nothing new never asks.
ITEM_ROUTES = frozenset(
    {
        "/backend-api/conversation/{id}",
        "/backend-api/conversation/{id}/textdocs",
        "/backend-api/files/download/{file_id}",
        "/backend-api/files/{file_id}/download",
        "/backend-api/estuary/content",
    }
)


def default_config() -> ChatGPTFakeConfig:
    return ChatGPTFakeConfig()


def add_routes(app: web.Application) -> None:
    from archiver.providers.chatgpt.fake.routes_2026 import add_all_routes

    add_all_routes(app)


def environment(base_url: str) -> dict[str, str]:
    return {TOKEN_ENV: ChatGPTFakeConfig().token, BASE_URL_ENV: f"{base_url}/backend-api"}
