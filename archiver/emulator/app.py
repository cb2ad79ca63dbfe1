"""Assemble the emulator: one aiohttp application serving both upstreams plus control routes."""

from __future__ import annotations

from aiohttp import web

from archiver.emulator import control
from archiver.emulator.config import EmulatorConfig
from archiver.emulator.faults import make_middleware
from archiver.emulator.state import STATE, EmulatorState
from archiver.providers import registry

__all__ = ["EmulatorConfig", "make_app"]


def make_app(config: EmulatorConfig, state: EmulatorState | None = None) -> web.Application:
    state = state or EmulatorState(config)
    app = web.Application(
        middlewares=[make_middleware(config, state)], client_max_size=64 * 1024**2
    )
    app[STATE] = state
    for provider in registry.all_providers():
        if provider.emulator is not None:
            provider.emulator.add_routes(app)
    control.add_routes(app)
    return app
