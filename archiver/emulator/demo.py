"""``make demo``, generated from the registry: every provider that declares a part in it
(``Provider.demo``: its package's ``demo.py``) gets its emulator knobs set and its steps run,
in registry order, through a ``DemoSteps`` (``archiver/providers/modules.py:DemoRun``). How a
command runs is the caller's: a subprocess in ``scripts/demo.py``, in-process in the tests."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.providers import registry
from archiver.providers.base import Provider

# Runs ``archiver ARGS`` with ``env`` over the process's environment; gives its exit code.
Invoke = Callable[[Sequence[str], Mapping[str, str]], int]
OK_EXITS = (0, 3)  # 3: partial (something skipped), which the demo shows and goes on from


def heading(text: str) -> None:
    print(f"\n== {text}", flush=True)


def command(invoke: Invoke, args: Sequence[str | Path], env: Mapping[str, str]) -> None:
    """Run ``archiver ARGS`` through ``invoke`` and print it, its exit code and its time; a
    failure ends the demo with its exit code."""
    words = [str(arg) for arg in args]
    print("$ archiver " + " ".join(words), flush=True)
    started = time.monotonic()
    code = invoke(words, env)
    print(f"  (exit {code}, {time.monotonic() - started:.1f}s)", flush=True)
    if code not in OK_EXITS:
        raise SystemExit(code)


def in_the_demo() -> list[Provider]:
    """The providers with a part in the demo, in registry order."""
    return [provider for provider in registry.all_providers() if provider.demo is not None]


def knob_settings() -> list[str]:
    """Every provider's demo knobs as ``archiver emulator`` takes them: ``NAME.KEY=VALUE``."""
    settings = []
    for provider in in_the_demo():
        assert provider.demo is not None
        for key, value in provider.demo.emulator_knobs().items():
            text = str(value).lower() if isinstance(value, bool) else str(value)
            settings.append(f"{provider.name}.{key}={text}")
    return settings


def provider_queries() -> Iterator[tuple[str, str]]:
    """Each provider's queries worth showing, in registry order."""
    for provider in in_the_demo():
        assert provider.demo is not None
        yield from provider.demo.queries()


@dataclass
class DemoSteps:
    """One provider's ``DemoRun``: its commands run by ``invoke``, with its emulator
    environment unless a step gives another."""

    provider: Provider
    db: Path
    workdir: Path
    base_url: str
    seed: int
    invoke: Invoke
    environment: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        emulator = self.provider.emulator
        self.environment = emulator.environment(self.base_url) if emulator else {}

    def heading(self, text: str) -> None:
        heading(text)

    def archiver(self, *args: str | Path, env: Mapping[str, str] | None = None) -> None:
        command(self.invoke, args, self.environment if env is None else env)

    def backup(self, *flags: str, env: Mapping[str, str] | None = None) -> None:
        # Unpaced: the emulator is local and answers as fast as it can.
        self.archiver("backup", self.provider.name, self.db, "--max-rpm", "6000", *flags, env=env)

    def backup_twice(self, title: str, *flags: str) -> None:
        self.heading(title)
        self.backup(*flags)
        self.heading(
            f"Back up {self.provider.title} again: nothing changed, so only the list requests"
        )
        self.backup(*flags)

    def batch(self, csv: Path, *flags: str, env: Mapping[str, str] | None = None) -> None:
        self.archiver("batch", self.db, csv, "--provider", self.provider.name, *flags, env=env)

    def import_export(self, path: Path) -> None:
        self.archiver("import", self.db, path)

    def input_file(self, name: str, text: str) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        path = self.workdir / name
        path.write_text(text, encoding="utf-8")
        return path

    def emulator_stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.base_url}/_emulator/stats") as response:
            stats: dict[str, Any] = json.load(response)
        return stats


def run_every_provider(
    *, db: Path, workdir: Path, base_url: str, seed: int, invoke: Invoke
) -> None:
    """Every provider's demo steps, in registry order, against the emulator at ``base_url``."""
    for provider in in_the_demo():
        assert provider.demo is not None
        provider.demo.steps(DemoSteps(provider, db, workdir, base_url, seed, invoke))
