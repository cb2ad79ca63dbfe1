"""The provider registry: every upstream is one package with a ``provider`` module whose
``PROVIDER`` says everything the engines, the CLI, the job kinds, ``doctor`` and the emulator
need. Adding a provider is its package plus one line in ``PROVIDER_MODULES``.

The table holds module paths, not modules: nothing here imports a provider until it is asked
for, so ``archiver search`` stays light and no engine depends on a provider at import time
(providers import the engines' types; the engines reach providers only through ``get``).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from archiver.errors import ConfigError
from archiver.options import Option

# name -> the module that defines PROVIDER. The one place a provider is registered.
PROVIDER_MODULES: dict[str, str] = {
    "chatgpt": "archiver.providers.chatgpt.provider",
    "bing": "archiver.providers.bing.provider",
    "copilot": "archiver.providers.copilot.provider",
}


@dataclass(frozen=True)
class Provider:
    """One upstream, as the rest of archiver sees it.

    ``backup_options`` is the one declaration of ``archiver backup NAME``'s options and of the
    ``backup NAME`` job kind's keys. ``run_backup(db, settings, values, progress)`` runs it with
    those values (defaults filled in). Settings come from the environment on the command line
    (``settings_from_env(secret_file)``) and from a job's keys in a job file
    (``settings_for_job(job)`` for ``backup NAME``; ``batch_settings(job)`` for the ``batch``
    kind, whose keys for this provider are ``batch_options``, named so that they cannot clash
    with another provider's).
    """

    name: str
    secret: str  # what the credential is called: "token", "cookie"
    secret_env: str  # the environment variable the command line reads it from
    settings_from_env: Callable[[str | None], Any]
    settings_for_job: Callable[[Any], Any]
    backup_options: Mapping[str, Option]
    backup_help: str
    run_backup: Callable[..., Awaitable[Any]]
    # "module:Class" of the batch sender: Class(session, limiter, policy, settings, options)
    sender: str
    default_batch_rpm: float
    batch_options: Mapping[str, Option]
    batch_settings: Callable[[Any], Any]
    model_help: str  # what --model means for this provider
    # "module:function": doctor(settings, *, token_source, policy, timeout_seconds, now)
    doctor: str
    emulator_routes: str  # "module:function" adding its routes to the emulator app
    extra: Mapping[str, Any] = field(default_factory=dict)
    # "module:function" (db, settings) -> settings: what the provider keeps per account in the
    # database that its senders need (ChatGPT's oai-device-id); None: settings as they are.
    state_for_sending: str | None = None

    @property
    def backup_kind(self) -> str:
        return f"backup {self.name}"

    def open_sender(self, *args: Any) -> Any:
        """The batch sender, imported when first asked for (senders import the engines)."""
        return load_callable(self.sender)(*args)

    def settings_with_state(self, db: Any, settings: Any) -> Any:
        if self.state_for_sending is None:
            return settings
        return load_callable(self.state_for_sending)(db, settings)

    async def run_doctor(self, settings: Any, **kwargs: Any) -> Any:
        return await load_callable(self.doctor)(settings, **kwargs)


def names() -> tuple[str, ...]:
    """Registered provider names, without importing any of them."""
    return tuple(PROVIDER_MODULES)


def get(name: str) -> Provider:
    module = PROVIDER_MODULES.get(name)
    if module is None:
        raise ConfigError(f"unknown provider {name!r} (known: {', '.join(PROVIDER_MODULES)})")
    provider = importlib.import_module(module).PROVIDER
    if not isinstance(provider, Provider):  # pragma: no cover - a registration mistake
        raise TypeError(f"{module}.PROVIDER is not a Provider")
    return provider


def all_providers() -> list[Provider]:
    return [get(name) for name in PROVIDER_MODULES]


def load_callable(spec: str) -> Callable[..., Any]:
    """``"module:attribute"`` -> the attribute (emulator routes and the like, loaded late)."""
    module, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module), attribute)
