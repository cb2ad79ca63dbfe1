"""The one seam between the gateway and the upstream senders: "the sender for provider X".

Everything the gateway sends goes through the batch senders (``archiver/batch/sender.py``'s
interface: ``send(thread, prompt, model, stats, on_text)`` and ``archive_copy``; a stream
passes ``on_text`` to hear the answer as it is written), so a rewrite of a provider's send (the
2026 ChatGPT send, a provider registry) reaches the gateway here and only here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from archiver.errors import ConfigError
from archiver.providers import registry

# Providers the gateway can send through, and whether each keeps a ChatGPT-style tree
# (seed 004 routes, ``parent_id``) or a flat Bing-family conversation (seed 000 routes: Bing,
# or Copilot, Bing's successor, where Bing is not configured).
TREE_PROVIDERS = ("chatgpt",)
BING_FAMILY = ("bing", "copilot")
PROVIDERS = TREE_PROVIDERS + BING_FAMILY


def load_settings(provider: str, secret_file: str | None = None) -> Any:
    """The provider's settings from its environment variables (or a 0600 secret file)."""
    if provider not in PROVIDERS:
        raise ConfigError(f"unknown provider {provider!r} ({', '.join(PROVIDERS)})")
    return registry.get(provider).settings_from_env(secret_file)


def bing_family(configured: Iterable[str]) -> str:
    """The provider behind seed 000's routes: Bing if it is configured, else Copilot."""
    names = set(configured)
    return next((p for p in BING_FAMILY if p in names), BING_FAMILY[0])
