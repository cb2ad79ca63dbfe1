"""Microsoft Copilot's fake upstream in ``archiver emulator`` (``make demo``, end-to-end
tests): the conversation list, history, create, delete, rename and pin (``routes.py``) and the
chat socket (``chat_socket.py``), on the shared framework in ``archiver/fakes/``. Knobs:
``config.py``; the mutable world: ``world.py``; generated data: ``generate.py``."""

from __future__ import annotations

from aiohttp import web

from archiver.providers.copilot.fake.config import CopilotFakeConfig
from archiver.providers.copilot.options import BASE_URL_ENV, TOKEN_ENV

# One conversation's history, one image: what a backup with nothing new never asks.
# The image route logs itself as "copilot image" (paths under /_emulator/ skip the logging).
ITEM_ROUTES = frozenset({"/c/api/conversations/{id}/history", "copilot image"})


def default_config() -> CopilotFakeConfig:
    return CopilotFakeConfig()


def add_routes(app: web.Application) -> None:
    from archiver.providers.copilot.fake.routes import add_routes as add_copilot_routes

    add_copilot_routes(app)


def environment(base_url: str) -> dict[str, str]:
    return {TOKEN_ENV: CopilotFakeConfig().token, BASE_URL_ENV: base_url}
