"""The one seam between the gateway and the upstream senders: which providers the gateway can
send through, and which of them serves each family of routes.

Everything the gateway sends goes through the providers' senders (``archiver/batch/sender.py``'s
interface: ``send(thread, prompt, model, stats, on_text)`` and ``archive_copy``; a stream
passes ``on_text`` to hear the answer as it is written), opened from each provider's
``Sending`` capability; how a model name reaches a provider is its ``Gateway`` declaration.
"""

from __future__ import annotations

from collections.abc import Iterable

from archiver.providers import registry
from archiver.providers.base import Gateway, Provider


def gateway_providers() -> list[Provider]:
    """Providers the gateway can send through, in registry order."""
    return registry.with_capability("gateway")


def gateway_of(name: str) -> Gateway:
    gateway = registry.get(name).gateway
    assert gateway is not None  # only gateway providers are ever configured
    return gateway


def route_families(configured: Iterable[str]) -> dict[str, str]:
    """Route family (seed 000's Bing routes, seed 004's ChatGPT routes) -> the provider that
    serves it: the first configured one of that family in registry order (Bing before its
    successor Copilot), else the family's first provider (which answers "not configured")."""
    names = set(configured)
    families: dict[str, str] = {}
    for provider in gateway_providers():
        family = gateway_of(provider.name).route_family
        if family is None:
            continue
        if family not in families or (families[family] not in names and provider.name in names):
            families[family] = provider.name
    return families


def default_provider(configured: Iterable[str]) -> str | None:
    """Where a model name that names no provider goes: the configured provider that takes bare
    model names, else the first configured one."""
    names = [p.name for p in gateway_providers() if p.name in set(configured)]
    bare = [n for n in names if gateway_of(n).takes_bare_models]
    if bare:
        return bare[0]
    if names:
        return names[0]
    takers = [p.name for p in gateway_providers() if gateway_of(p.name).takes_bare_models]
    return takers[0] if takers else None
