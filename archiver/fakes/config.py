"""The emulator's shared knobs: the seed, where it listens, and the faults injected in front of
every fake upstream. A provider's own knobs are its fake's config (``Emulator.default_config()``,
a dataclass), kept here by provider name in ``provider_configs``."""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass
class EmulatorConfig:
    # Everything generated is a pure function of the seed (and each provider's own knobs).
    seed: int = 0

    # Faults (upstream routes only; never /_emulator/).
    latency_ms: int = 0
    fail_rate: float = 0.0
    rate_limit: int = 0  # requests per minute per credential; 0 = unlimited
    rate_burst: int | None = None  # bucket capacity; default max(1, rate_limit // 60)
    retry_after: bool = True  # send Retry-After with 429
    challenge_rate: float = 0.0
    drop_rate: float = 0.0
    stream_delay_ms: int = 0  # pause between streamed frames
    drop_sends: int = 0  # cut the next N answer streams (any provider's) part-way, answer stored

    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port

    # Each provider's own knobs: name -> its fake's config (its ``default_config()`` when not
    # given).
    provider_configs: dict[str, Any] = field(default_factory=dict)

    def provider(self, name: str) -> Any:
        """Provider ``name``'s own emulator config (the app fills in each provider's defaults
        where none was given: ``archiver/fakes/app.py``)."""
        return self.provider_configs.get(name)

    def set_provider_value(self, name: str, key: str, text: str) -> None:
        """``--set NAME.KEY=VALUE``: one knob of a provider's own config, parsed by the type of
        its default (a whole number, a number, true/false, or text)."""
        config = self.provider(name)
        known = {f.name: f for f in fields(config)} if config is not None else {}
        if key not in known:
            raise ValueError(f"{name} has no emulator setting {key!r}")
        current = getattr(config, key)
        value: Any = text
        if isinstance(current, bool):
            if text.lower() not in ("true", "false"):
                raise ValueError(f"{name}.{key} must be true or false")
            value = text.lower() == "true"
        elif isinstance(current, int):
            value = int(text)
        elif isinstance(current, float):
            value = float(text)
        self.provider_configs[name] = replace(config, **{key: value})

    @property
    def bucket_capacity(self) -> int:
        return self.rate_burst if self.rate_burst is not None else max(1, self.rate_limit // 60)
