"""The provider registry: every upstream is one package whose ``provider`` module defines a
``Provider`` subclass (``archiver/providers/base.py``). Adding a provider is its package plus
one line in ``PROVIDER_MODULES``.

The table holds names, not classes: nothing here imports a provider until it is asked for, so
``archiver search`` stays light. Only the top layer (the CLI, the job kinds, the gateway, the
emulator) asks the registry; the engines get what they need from it as arguments.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any

from archiver.errors import ConfigError
from archiver.providers.base import PLAIN, Provider

# name -> "module:Class" of its Provider subclass. The one place a provider is registered.
PROVIDER_MODULES: dict[str, str] = {
    "chatgpt": "archiver.providers.chatgpt.provider:ChatGPT",
    "bing": "archiver.providers.bing.provider:Bing",
    "copilot": "archiver.providers.copilot.provider:Copilot",
    "claude": "archiver.providers.claude.provider:Claude",
    "gemini": "archiver.providers.gemini.provider:Gemini",
    "grok": "archiver.providers.grok.provider:Grok",
    "lechat": "archiver.providers.lechat.provider:LeChat",
    "deepseek": "archiver.providers.deepseek.provider:DeepSeek",
    "openai": "archiver.providers.openai.provider:OpenAI",
}

CAPABILITIES = ("backup", "import", "send", "gateway", "doctor", "emulator", "reflatten")


def names() -> tuple[str, ...]:
    """Registered provider names, without importing any of them."""
    return tuple(PROVIDER_MODULES)


@functools.cache
def get(name: str) -> Provider:
    spec = PROVIDER_MODULES.get(name)
    if spec is None:
        raise ConfigError(f"unknown provider {name!r} (known: {', '.join(PROVIDER_MODULES)})")
    module, _, attribute = spec.partition(":")
    cls = getattr(importlib.import_module(module), attribute)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):  # pragma: no cover
        raise TypeError(f"{spec} is not a Provider subclass")
    if cls.name != name:  # pragma: no cover - a registration mistake
        raise TypeError(f"{spec} is named {cls.name!r} by its package, registered as {name!r}")
    return cls()


def all_providers() -> list[Provider]:
    return [get(name) for name in PROVIDER_MODULES]


def block_reader(name: str) -> Any:
    """How provider ``name``'s messages read as blocks (its ``Renderer.blocks``); the plain
    text reader for a provider no longer registered (an archive outlives its providers)."""
    if name not in PROVIDER_MODULES:
        return PLAIN.blocks
    return get(name).renderer.blocks


def with_capability(capability: str) -> list[Provider]:
    """The providers that can do ``capability`` (one of CAPABILITIES), in registry order."""
    if capability not in CAPABILITIES:  # pragma: no cover - a caller's mistake
        raise ValueError(f"unknown capability {capability!r}")
    return [p for p in all_providers() if p.capabilities()[capability]]
