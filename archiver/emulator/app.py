"""The bundled emulator: every registered provider's fake upstream (``Provider.emulator``) in
one application (``archiver/fakes/``), for ``archiver emulator``, ``make demo``, benchmarks and
end-to-end tests."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from archiver.fakes.app import FakeUpstream, build_app
from archiver.fakes.config import EmulatorConfig
from archiver.fakes.state import EmulatorState
from archiver.providers import registry

__all__ = ["EmulatorConfig", "make_app", "upstreams", "with_provider_defaults"]


def upstreams() -> dict[str, FakeUpstream]:
    """Every registered provider's fake, by name."""
    found: dict[str, Any] = {}
    for provider in registry.with_capability("emulator"):
        found[provider.name] = provider.emulator
    return found


def with_provider_defaults(config: EmulatorConfig) -> EmulatorConfig:
    """``config`` with every provider's own knobs at their defaults where not given."""
    for name, upstream in upstreams().items():
        config.provider_configs.setdefault(name, upstream.default_config())
    return config


def make_app(config: EmulatorConfig, state: EmulatorState | None = None) -> web.Application:
    return build_app(config, upstreams(), state)
