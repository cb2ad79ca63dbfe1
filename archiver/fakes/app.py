"""One aiohttp application serving the fake upstreams it is given, plus the control routes,
behind the shared fault middleware (latency, failures, rate limits, challenges, drops)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

from archiver.fakes import control
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.faults import make_middleware
from archiver.fakes.state import STATE, EmulatorState


class FakeUpstream(Protocol):
    """A provider's fake (its ``Emulator`` capability, as this framework sees it)."""

    def default_config(self) -> Any: ...

    def add_routes(self, app: web.Application) -> None: ...


def build_app(
    config: EmulatorConfig,
    upstreams: Mapping[str, FakeUpstream],
    state: EmulatorState | None = None,
) -> web.Application:
    """The app serving ``upstreams`` (provider name -> its fake); each provider's own config
    not given in ``config`` starts from its defaults."""
    for name, upstream in upstreams.items():
        config.provider_configs.setdefault(name, upstream.default_config())
    state = state or EmulatorState(config)
    app = web.Application(
        middlewares=[make_middleware(config, state)], client_max_size=64 * 1024**2
    )
    app[STATE] = state
    for upstream in upstreams.values():
        upstream.add_routes(app)
    control.add_routes(app)
    return app
