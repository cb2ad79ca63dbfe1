"""The emulator's config for tests, from flat keywords: a shared knob by its name (``seed=``,
``latency_ms=``), a provider's own by ``<provider>_<knob>`` (``chatgpt_conversations=``,
``bing_chats=``, ``copilot_token=``), as ``archiver emulator`` names its flags."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from archiver.emulator.app import upstreams, with_provider_defaults
from archiver.fakes.config import EmulatorConfig

SHARED = frozenset(f.name for f in fields(EmulatorConfig))


def fake_config(**knobs: Any) -> EmulatorConfig:
    """An ``EmulatorConfig`` with every provider's defaults but the knobs given."""
    config = with_provider_defaults(
        EmulatorConfig(**{key: value for key, value in knobs.items() if key in SHARED})
    )
    names = sorted(upstreams(), key=len, reverse=True)  # the longest name that prefixes a key
    for key, value in knobs.items():
        if key in SHARED:
            continue
        name = next((n for n in names if key.startswith(f"{n}_")), None)
        if name is None:
            raise TypeError(f"no emulator knob {key!r}")
        config.provider_configs[name] = replace(
            config.provider(name), **{key[len(name) + 1 :]: value}
        )
    return config
